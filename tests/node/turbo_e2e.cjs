// Drives the real @ardrive/turbo-sdk against a bundlestream upload API, then checks every
// receipt with arweave-js. Usage (NODE_PATH=stack/node/node_modules):
//   node turbo_e2e.cjs URL [bigMiB]
// Prints one JSON line per upload: {case, receipt, arweaveJsValid}; exits 1 on failure.
"use strict";
const { Readable } = require("stream");
const crypto = require("crypto");
const Arweave = require("arweave");
const deepHash = require("arweave/node/lib/deepHash").default;
const { b64UrlToBuffer } = require("arweave/node/lib/utils");
const { ArweaveSigner, createData } = require("arbundles");
const { TurboFactory } = require("@ardrive/turbo-sdk");

const { MiB, payloadStream } = require("./payload_stream.cjs");

async function arweaveJsVerifies(receipt) {
  const enc = (s) => new TextEncoder().encode(String(s));
  const hash = await deepHash([
    enc("Bundlr"), enc(receipt.version), enc(receipt.id),
    enc(receipt.deadlineHeight), enc(receipt.timestamp),
  ]);
  return Arweave.crypto.verify(receipt.public, hash, b64UrlToBuffer(receipt.signature));
}

async function report(name, receipt) {
  const arweaveJsValid = await arweaveJsVerifies(receipt);
  console.log(JSON.stringify({ case: name, receipt, arweaveJsValid }));
  if (!arweaveJsValid) throw new Error(`${name}: receipt does not verify with arweave-js`);
}

async function main() {
  const url = process.argv[2];
  const bigMiB = Number(process.argv[3] || 100);
  const arweave = Arweave.init({});
  const jwk = await arweave.wallets.generate();
  const config = { uploadServiceConfig: { url }, paymentServiceConfig: { url } };

  // 1. A data item signed elsewhere (arbundles), uploaded as is.
  const signer = new ArweaveSigner(jwk);
  const item = createData(crypto.randomBytes(1024), signer, {
    tags: [{ name: "Content-Type", value: "application/octet-stream" }],
  });
  await item.sign(signer);
  const raw = item.getRaw();
  const anonymous = TurboFactory.unauthenticated(config);
  await report("pre-signed", await anonymous.uploadSignedDataItem({
    dataItemStreamFactory: () => Readable.from(raw),
    dataItemSizeFactory: () => raw.length,
  }));

  // 2. A 1 MiB file the SDK signs itself (one POST /tx).
  const turbo = TurboFactory.authenticated({ privateKey: jwk, ...config });
  await report("signed-1MiB", await turbo.uploadFile({
    fileStreamFactory: () => payloadStream(MiB, 3),
    fileSizeFactory: () => MiB,
    dataItemOpts: { tags: [{ name: "Content-Type", value: "application/octet-stream" }] },
  }));

  // 3. A large file through the chunked protocol (more than two 5 MiB chunks).
  const size = bigMiB * MiB;
  await report(`chunked-${bigMiB}MiB`, await turbo.uploadFile({
    fileStreamFactory: () => payloadStream(size, 5),
    fileSizeFactory: () => size,
    dataItemOpts: { tags: [{ name: "Content-Type", value: "application/octet-stream" }] },
    chunkingMode: "force",
  }));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
