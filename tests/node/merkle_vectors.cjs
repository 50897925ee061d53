// Prints arweave-js merkle vectors (data_root, chunks, proofs) for tests/core/vectors/.
// Usage: NODE_PATH=$PWD/stack/node/node_modules node tests/node/merkle_vectors.cjs > tests/core/vectors/arweave_js_merkle.jsonl
const m = require('arweave/node/lib/merkle');
(async () => {
  const K = 1024;
  const sizes = [1, 1211, 256*K-1, 256*K, 256*K+1, 256*K+32*K-1, 256*K+32*K, 512*K, 512*K+5, 3*256*K + 100, 5*256*K+20*K, 9*256*K];
  for (const n of sizes) {
    const data = new Uint8Array(n).map((_, i) => (i * 7 + 3) % 256);
    const r = await m.generateTransactionChunks(data);
    console.log(JSON.stringify({n, root: Buffer.from(r.data_root).toString('base64url'),
      chunks: r.chunks.map(c => [c.minByteRange, c.maxByteRange]),
      proofs: r.proofs.map(p => [p.offset, Buffer.from(p.proof).toString('base64url')])}));
  }
})();
