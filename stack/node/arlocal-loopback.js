// Runs arlocal's own command line with two changes the local stack needs:
// - its HTTP server binds one address: arlocal calls listen(port) with no host, which
//   binds every interface, and the local stack must stay on loopback;
// - GET /mine requests run one at a time: two concurrent mines both unbundle the same
//   pending bundle and the second fails on a UNIQUE constraint (answered as a 404),
//   which happens as soon as the stack's miner and a client ask at the same moment.
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

require('arlocal/bin/index.js');
