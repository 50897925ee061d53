// Unbundles an ANS-104 bundle posted as chunks from disk, never from memory.
//
// arlocal's mine read every chunk of a bundle into one string array, joined them into a
// Buffer of the whole bundle, parsed that with arbundles' Bundle and wrote each item's
// data from a base64 string of it: a bundle cost about four times its size in the node
// process, and V8 kept the heap it grew to, so RSS climbed with the largest bundle seen
// (and items past V8's string limit, ~512 MiB, were never indexed at all).
// Here the chunks go, one row at a time, into a file of the bundle's bytes under the
// database directory; arbundles' processStream reads that file to verify every item and
// find its data's offset; each item's data file (arlocal's base64url text, which GET
// /tx/{id}/data and GET /{id} read) is written from a window of the file; the bundle's
// file is then removed. Memory per bundle: a chunk and a window of 768 KiB.
'use strict';
const fs = require('fs');
const path = require('path');
const { processStream } = require('arbundles/stream');

const WINDOW = 3 * 256 * 1024; // a multiple of 3: base64url pieces join without padding

function b64url(text) {
  return Buffer.from(text, 'utf8').toString('base64url');
}

// The chunks of a data root, one per position in its tree (a chunk posted twice has the
// same proof, data_path, and arrives twice), in offset order, without their text.
function chunkPositions(connection, dataRoot) {
  return connection('chunks')
    .where({ data_root: dataRoot })
    .groupBy('data_path')
    .select(connection.raw('MIN(offset) AS offset'))
    .orderBy('offset');
}

// Bytes of the distinct chunks of a data root, counted by sqlite (base64url without padding).
async function storedBytes(connection, dataRoot) {
  const row = await connection
    .from(
      connection('chunks')
        .where({ data_root: dataRoot })
        .groupBy('data_path')
        .select(connection.raw('MAX(LENGTH(chunk)) AS len'))
        .as('positions'),
    )
    .select(connection.raw('COALESCE(SUM((len * 3) / 4), 0) AS bytes'))
    .first();
  return Number(row.bytes);
}

async function writeBundleFile(connection, dataRoot, file) {
  const out = fs.openSync(file, 'w');
  try {
    for (const { offset } of await chunkPositions(connection, dataRoot)) {
      const row = await connection('chunks').where({ data_root: dataRoot, offset }).select('chunk').first();
      fs.writeSync(out, Buffer.from(row.chunk, 'base64url'));
    }
  } finally {
    fs.closeSync(out);
  }
}

// Writes bytes [start, start + size) of the open file ``fd`` as base64url text to ``target``.
function writeBase64Window(fd, start, size, target) {
  const out = fs.openSync(target, 'w');
  try {
    const piece = Buffer.allocUnsafe(WINDOW);
    for (let done = 0; done < size; ) {
      const want = Math.min(WINDOW, size - done);
      const got = fs.readSync(fd, piece, 0, want, start + done);
      if (got !== want) throw new Error(`bundle file ended at ${start + done + got}`);
      fs.writeSync(out, piece.subarray(0, got).toString('base64url'));
      done += got;
    }
  } finally {
    fs.closeSync(out);
  }
}

async function insertItem(connection, formatTransaction, bundle, item) {
  const tags = item.tags.map((tag) => ({ name: b64url(tag.name), value: b64url(tag.value) }));
  const row = formatTransaction({
    id: item.id,
    bundledIn: bundle.id,
    signature: item.signature,
    owner: item.owner,
    target: item.target,
    tags,
    data_size: item.dataSize,
  });
  row.created_at = bundle.created_at;
  row.height = bundle.height;
  await connection.insert(row).into('transactions');
  let index = 0;
  for (const tag of item.tags) {
    await connection.insert({ index, tx_id: item.id, name: tag.name, value: tag.value }).into('tags');
    index++;
  }
}

// Unbundles ``bundle`` (a transactions row whose chunks are all stored); true when every
// item verified, false (nothing indexed) otherwise.
async function unbundleFromDisk(connection, formatTransaction, bundle, dbPath) {
  const dir = path.join(dbPath, 'unbundling');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, bundle.id);
  try {
    await writeBundleFile(connection, bundle.data_root, file);
    let items;
    try {
      items = await processStream(fs.createReadStream(file, { highWaterMark: WINDOW }));
    } catch (error) {
      console.error({ unverifiedBundle: bundle.id, error: String(error) });
      return false;
    }
    const known = new Set();
    for (let start = 0; start < items.length; start += 500) {
      const ids = items.slice(start, start + 500).map((item) => item.id);
      for (const row of await connection('transactions').whereIn('id', ids).select('id')) known.add(row.id);
    }
    const fd = fs.openSync(file, 'r');
    try {
      for (const item of items) {
        if (known.has(item.id)) continue;
        writeBase64Window(fd, item.dataOffset, item.dataSize, path.join(dbPath, `data-${item.id}`));
        await insertItem(connection, formatTransaction, bundle, item);
      }
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

module.exports = { storedBytes, unbundleFromDisk };
