// Runs arlocal's own command line with changes the local stack needs:
// - its HTTP server binds one address: arlocal calls listen(port) with no host, which
//   binds every interface, and the local stack must stay on loopback;
// - GET /mine requests run one at a time, each until its handler is done (not merely
//   until its client gave up: a miner's timeout must not start a second mine beside the
//   first): two concurrent mines both unbundle the same pending bundle and the second
//   fails on a UNIQUE constraint (answered as a 404);
// - a mine mines only the transactions pending when it started, and of the ANS-104
//   bundles only those with all of their chunks, which it unbundles: arlocal unbundles
//   only while mining, only what is pending when the mine starts, from whatever chunks are
//   there then, and its final UPDATE mined every row pending when it ended. A bundle
//   posted or seeded while a mine ran (mines take seconds under load) was mined with none
//   of its items indexed, and one with only some of its chunks was read from a truncated
//   buffer. A real gateway indexes items whenever the data arrives;
// - POST /tx of a bundle without data no longer starts arlocal's background loop that
//   re-reads the chunks table without pause until the bundle's chunks add up: it spun
//   forever (a core of CPU) for a bundle never seeded, or whose chunks interleaved with
//   another bundle's (its offset arithmetic then never matches), and it only re-posted
//   the items through POST /tx, which refuses any item whose owner has no arlocal wallet.
//   The mine path above indexes them;
// - the chunks table gets indexes on data_root and offset, and POST /chunk finds the
//   highest offset with MAX() instead of loading every chunk: each chunk posted cost a
//   read of the whole chain, which grows with every test the stack serves;
// - a seeded bundle is unbundled from a file on disk, never from a copy of it in memory
//   (arlocal-disk-bundles.js): the node process stays the same size whatever it stores.
// Usage: node arlocal-loopback.js <host> <port> [arlocal flags]
'use strict';
const { AsyncLocalStorage } = require('async_hooks');
const http = require('http');
const net = require('net');

const host = process.argv.splice(2, 1)[0];

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnHost(...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, host);
  }
  return listen.apply(this, args);
};

const txPosts = new AsyncLocalStorage(); // set while a POST /tx request is handled

let previousMine = Promise.resolve();
function withLocalRules(handler) {
  return function handle(req, res) {
    if (req.method === 'POST' && req.url.startsWith('/tx')) {
      return txPosts.run(true, () => handler.call(this, req, res));
    }
    if (!req.url.startsWith('/mine')) return handler.call(this, req, res);
    const turn = previousMine.then(() => {
      const handled = handler.call(this, req, res); // koa's promise: settles once handled
      return handled && typeof handled.then === 'function'
        ? handled
        : new Promise((done) => res.on('close', done));
    });
    previousMine = turn.catch(() => undefined);
    return undefined;
  };
}

const createServer = http.createServer;
http.createServer = function createSerializedServer(...args) {
  const index = args.findIndex((arg) => typeof arg === 'function');
  if (index >= 0) args[index] = withLocalRules(args[index]);
  return createServer.apply(this, args);
};

const path = require('path');
const { TransactionDB, formatTransaction } = require('arlocal/bin/db/transaction');
const { ChunkDB } = require('arlocal/bin/db/chunks');
const { storedBytes, unbundleFromDisk } = require('./arlocal-disk-bundles');

function isBundle(tx) {
  let tags = [];
  try {
    tags = typeof tx.tags === 'string' ? JSON.parse(tx.tags) : tx.tags;
  } catch {
    return false;
  }
  const decoded = tags.map((t) => [Buffer.from(t.name, 'base64url').toString(), Buffer.from(t.value, 'base64url').toString()]);
  return decoded.some(([n, v]) => n === 'Bundle-Format' && v === 'binary') &&
    decoded.some(([n, v]) => n === 'Bundle-Version' && v === '2.0.0');
}

// A bundle posted without data, all of whose bytes are in the chunks table (one chunk per
// position in its tree), counted by sqlite: the chunks' text never enters this process.
async function seededBundle(connection, tx) {
  if (tx.data || !(Number(tx.data_size) > 0) || !isBundle(tx)) return false;
  await chunkIndexes(connection);
  return (await storedBytes(connection, tx.data_root)) >= Number(tx.data_size);
}

async function waitsForChunks(connection, tx) {
  return !tx.data && Number(tx.data_size) > 0 && isBundle(tx) && !(await seededBundle(connection, tx));
}

// GET /mine reads the pending transactions first (only this route does): it gets none of
// the bundles that still wait for chunks, and it mines exactly what it got (with the items
// it unbundled from them), never a transaction that arrived while it ran: arlocal's own
// final UPDATE took every pending row. The seeded bundles are unbundled here, from disk
// (arlocal-disk-bundles.js), and handed to arlocal's mine as having data, which it skips;
// one whose items do not verify stays pending, as with arlocal, and is not read again.
const unverifiedBundles = new Set();
const getUnminedTxsRaw = TransactionDB.prototype.getUnminedTxsRaw;
TransactionDB.prototype.getUnminedTxsRaw = async function pendingButWaiting() {
  const pending = await getUnminedTxsRaw.call(this);
  const dbPath = path.dirname(this.connection.client.connectionSettings.filename);
  const ready = [];
  for (const tx of pending) {
    if (unverifiedBundles.has(tx.id) || (await waitsForChunks(this.connection, tx))) continue;
    if (await seededBundle(this.connection, tx)) {
      if (!(await unbundleFromDisk(this.connection, formatTransaction, tx, dbPath))) {
        unverifiedBundles.add(tx.id);
        continue;
      }
      tx.data = 'unbundled from disk';
    }
    ready.push(tx);
  }
  this.readyThisMine = ready.map((tx) => tx.id);
  return ready;
};

async function markMined(connection, column, values, block) {
  for (let start = 0; start < values.length; start += 500) {
    const some = values.slice(start, start + 500);
    await connection('transactions').whereIn(column, some).andWhere({ block: '' }).update({ block });
  }
}

const mineTxs = TransactionDB.prototype.mineTxs;
TransactionDB.prototype.mineTxs = async function mineWhatWasReady(block, unverifiedBundleTxs) {
  const ready = this.readyThisMine;
  this.readyThisMine = undefined;
  if (!ready) {
    // Another route (mineWithFails): hold what waits for chunks, as above.
    const held = [];
    for (const tx of await this.connection('transactions').where({ block: '' })) {
      if (unverifiedBundles.has(tx.id) || (await waitsForChunks(this.connection, tx))) held.push(tx.id);
    }
    return mineTxs.call(this, block, [...unverifiedBundleTxs, ...held]);
  }
  const unverified = new Set(unverifiedBundleTxs);
  const mined = ready.filter((id) => !unverified.has(id));
  await markMined(this.connection, 'id', mined, block);
  await markMined(this.connection, 'bundledIn', mined, block); // the items it unbundled
  return mined.length;
};

// arlocal's chunks table has no index but its primary key, and every POST /chunk asks
// for the highest offset by loading the whole table, chunk text included, sorted, into
// memory: each chunk cost a read of every chunk ever stored (the stack keeps one chain
// for every test), so seeding slowed down as the chain grew. Indexes on data_root and
// offset, and the highest offset by MAX(offset), make both lookups independent of it.
const indexed = new WeakMap(); // connection → promise of its indexes
function chunkIndexes(connection) {
  if (!indexed.has(connection)) {
    const creating = (async () => {
      await connection.raw('CREATE INDEX IF NOT EXISTS chunks_data_root ON chunks (data_root)');
      await connection.raw('CREATE INDEX IF NOT EXISTS chunks_offset ON chunks (offset)');
    })();
    indexed.set(connection, creating);
    creating.catch(() => indexed.delete(connection)); // no table yet: try again next time
  }
  return indexed.get(connection).catch(() => undefined);
}

for (const name of ['create', 'getByRootAndSize', 'getByOffset', 'getLowerOffset']) {
  const original = ChunkDB.prototype[name];
  ChunkDB.prototype[name] = async function withIndexes(...args) {
    await chunkIndexes(this.connection);
    return original.apply(this, args);
  };
}

ChunkDB.prototype.getLastChunkOffset = async function highestOffset() {
  await chunkIndexes(this.connection);
  const row = await this.connection('chunks').max({ offset: 'offset' }).first();
  return (row && row.offset) || 0;
};

const getRoot = ChunkDB.prototype.getRoot;
ChunkDB.prototype.getRoot = async function getRootOutsideTxPosts(dataRoot) {
  if (txPosts.getStore()) return new Promise(() => undefined); // parks POST /tx's chunk loop
  await chunkIndexes(this.connection);
  return getRoot.call(this, dataRoot);
};

require('arlocal/bin/index.js');
