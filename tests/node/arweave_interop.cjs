// Asks arweave-js (1.15.7) about receipts and transactions built by bundlestream, and signs
// a transaction with a given JWK so that bundlestream can verify arweave-js's work.
// Reads one JSON object on stdin: {receipts: [...], transactions: [...], sign: {...}|null}
// Writes one JSON object: {receipts: [bool], transactions: [bool], signed: txJSON|null}
"use strict";
const Arweave = require("arweave");
const deepHash = require("arweave/node/lib/deepHash").default;

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
  const signed = request.sign ? await signTransaction(request.sign) : null;
  console.log(JSON.stringify({ receipts, transactions, signed }));
}

main().catch((error) => { console.error(error); process.exit(1); });
