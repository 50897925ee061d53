// Runs arlocal's own command line with two changes the local stack needs:
// - its HTTP server binds one address: arlocal calls listen(port) with no host, which
//   binds every interface, and the local stack must stay on loopback;
// - GET /mine requests run one at a time: two concurrent mines both unbundle the same
//   pending bundle and the second fails on a UNIQUE constraint (answered as a 404),
//   which happens as soon as the stack's miner and a client ask at the same moment;
// - an ANS-104 bundle transaction none of whose chunks has arrived yet stays pending:
//   arlocal unbundles only while mining, so a miner tick between POST /tx and the first
//   POST /chunk would mine the bundle without ever indexing its items (a real gateway
//   indexes them whenever the data arrives).
// Usage: node arlocal-loopback.js <host> <port> [arlocal flags]
'use strict';
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

let previousMine = Promise.resolve();
function oneMineAtATime(handler) {
  return function handle(req, res) {
    if (!req.url.startsWith('/mine')) return handler.call(this, req, res);
    const turn = previousMine.then(
      () =>
        new Promise((done) => {
          res.on('close', done); // after the response is sent, or the client went away
          handler.call(this, req, res);
        }),
    );
    previousMine = turn.catch(() => undefined);
    return undefined;
  };
}

const createServer = http.createServer;
http.createServer = function createSerializedServer(...args) {
  const index = args.findIndex((arg) => typeof arg === 'function');
  if (index >= 0) args[index] = oneMineAtATime(args[index]);
  return createServer.apply(this, args);
};

const { TransactionDB } = require('arlocal/bin/db/transaction');

function isBundle(tx) {
  let tags = [];
  try {
    tags = JSON.parse(tx.tags);
  } catch {
    return false;
  }
  const decoded = tags.map((t) => [Buffer.from(t.name, 'base64url').toString(), Buffer.from(t.value, 'base64url').toString()]);
  return decoded.some(([n, v]) => n === 'Bundle-Format' && v === 'binary') &&
    decoded.some(([n, v]) => n === 'Bundle-Version' && v === '2.0.0');
}

const mineTxs = TransactionDB.prototype.mineTxs;
TransactionDB.prototype.mineTxs = async function mineBundlesWithData(block, unverifiedBundleTxs) {
  const pending = await this.connection('transactions').where({ block: '' });
  const waiting = [];
  for (const tx of pending) {
    if (tx.data || !(Number(tx.data_size) > 0) || !isBundle(tx)) continue;
    const chunk = await this.connection('chunks').where({ data_root: tx.data_root }).first();
    if (!chunk) waiting.push(tx.id);
  }
  return mineTxs.call(this, block, [...unverifiedBundleTxs, ...waiting]);
};

require('arlocal/bin/index.js');
