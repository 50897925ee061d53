// A deterministic payload generated on the fly, never held in memory whole: the same
// bytes for the same (size, seed), for the end-to-end scripts.
"use strict";
const { Readable } = require("stream");

const MiB = 1024 * 1024;

function payloadStream(size, seed) {
  let sent = 0;
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < block.length; i++) block[i] = (i * seed) & 0xff;
  return new Readable({
    read() {
      if (sent >= size) return this.push(null);
      const n = Math.min(block.length, size - sent);
      sent += n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

module.exports = { MiB, payloadStream };
