// Runs arlocal's own command line with its HTTP server bound to one address.
// arlocal calls listen(port) with no host, which binds every interface; the local
// stack must stay on loopback. Usage: node arlocal-loopback.js <host> <port> [arlocal flags]
'use strict';
const net = require('net');

const host = process.argv.splice(2, 1)[0];
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnHost(...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, host);
  }
  return listen.apply(this, args);
};
require('arlocal/bin/index.js');
