// Asks arweave-js (1.15.7) about receipts and transactions built by bundlestream, and signs
// a transaction with a given JWK so that bundlestream can verify arweave-js's work.
// It also checks POST /chunk bodies: the data_path must prove the chunk under data_root.
// Reads one JSON object on stdin: {receipts: [...], transactions: [...], chunks: [...],
// sign: {...}|null}. Writes {receipts: [bool], transactions: [bool], chunks: [bool],
// signed: txJSON|null}.
"use strict";
const Arweave = require("arweave");
const deepHash = require("arweave/node/lib/deepHash").default;
const merkle = require("arweave/node/lib/merkle");

const arweave = Arweave.init({});
const text = (s) => Arweave.utils.stringToBuffer(s);

async function verifyReceipt(r) {
  const message = await deepHash([
    text("Bundlr"), text(r.version), text(r.id), text(String(r.deadlineHeight)), text(String(r.timestamp)),
  ]);
  return Arweave.crypto.verify(r.public, message, Arweave.utils.b64UrlToBuffer(r.signature));
}

async function verifyTransaction(json) {
  return arweave.transactions.verify(arweave.transactions.fromRaw(json));
}

async function verifyChunk(body) {
  const b = Arweave.utils.b64UrlToBuffer;
  const [chunk, path, size] = [b(body.chunk), b(body.data_path), Number(body.data_size)];
  const proven = await merkle.validatePath(b(body.data_root), Number(body.offset), 0, size, path);
  if (!proven || proven.chunkSize !== chunk.byteLength) return false;
  const leafHash = path.slice(path.length - 64, path.length - 32);
  return Buffer.from(await Arweave.crypto.hash(chunk)).equals(Buffer.from(leafHash));
}

async function signTransaction({ jwk, data, last_tx, reward, tags }) {
  const tx = await arweave.createTransaction(
    { data: Arweave.utils.b64UrlToBuffer(data), last_tx, reward }, jwk);
  for (const [name, value] of tags) tx.addTag(name, value);
  await arweave.transactions.sign(tx, jwk);
  const json = tx.toJSON();
  json.data = "";
  delete json.data_tree;
  return json;
}

async function main() {
  const request = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const receipts = [];
  for (const r of request.receipts || []) receipts.push(await verifyReceipt(r));
  const transactions = [];
  for (const t of request.transactions || []) transactions.push(await verifyTransaction(t));
  const chunks = [];
  for (const c of request.chunks || []) chunks.push(await verifyChunk(c));
  const signed = request.sign ? await signTransaction(request.sign) : null;
  console.log(JSON.stringify({ receipts, transactions, chunks, signed }));
}

main().catch((error) => { console.error(error); process.exit(1); });
