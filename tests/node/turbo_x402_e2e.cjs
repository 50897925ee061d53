// Pays for uploads with x402 through the real @ardrive/turbo-sdk (token "base-usdc"): an
// unfunded balance upload, a signed 1 KiB item paid with X402Funding in one request and
// through the chunked protocol, an unsigned payload through uploadRawX402Data, and an
// 11 MiB chunked upload paid with X402Funding (at create).
// Usage (NODE_PATH=stack/node/node_modules):
//   node turbo_x402_e2e.cjs API_URL EVM_RPC_URL PRIVATE_KEY
// Prints one JSON line per step: {step, ok, status?, receipt?, error?}; exits 1 only when
// the script itself breaks (each step's outcome is for the test to judge).
"use strict";
const { TurboFactory, X402Funding } = require("@ardrive/turbo-sdk");

const { MiB, payloadStream } = require("./payload_stream.cjs");
// A spend cap well above any quote here (USDC base units; the SDK's default is 0.1 USDC; arlocal prices high).
const MAX_MUSDC = 10 ** 10;

function say(step, fields) {
  console.log(JSON.stringify({ step, ...fields }));
}

async function attempt(step, run) {
  try {
    const receipt = await run();
    say(step, { ok: true, receipt });
  } catch (error) {
    say(step, { ok: false, status: error.status ?? null, error: String(error.message) });
  }
}

function file(size, seed, extra = {}) {
  return {
    fileStreamFactory: () => payloadStream(size, seed),
    fileSizeFactory: () => size,
    dataItemOpts: { tags: [{ name: "Content-Type", value: "application/octet-stream" }] },
    ...extra,
  };
}

async function main() {
  const [url, rpcUrl, privateKey] = process.argv.slice(2);
  const turbo = TurboFactory.authenticated({
    privateKey,
    token: "base-usdc",
    gatewayUrl: rpcUrl, // the token tools' RPC (top-ups); x402 signs without one
    uploadServiceConfig: { url, retryConfig: { retries: 1 } },
    paymentServiceConfig: { url },
  });
  say("address", { address: await turbo.signer.getNativeAddress() });
  const x402 = () => new X402Funding({ maxMUSDCAmount: MAX_MUSDC });
  await attempt("unfunded", () => turbo.uploadFile(file(600 * 1024, 3)));
  await attempt("x402-signed", () =>
    turbo.uploadFile(file(1024, 5, { fundingMode: x402(), chunkingMode: "disabled" })),
  );
  await attempt("x402-unsigned", () =>
    turbo.uploadRawX402Data({
      data: Buffer.alloc(3 * MiB, 7),
      tags: [{ name: "App-Name", value: "turbo-x402" }],
      maxMUSDCAmount: MAX_MUSDC,
    }),
  );
  await attempt("x402-signed-chunked", () =>
    turbo.uploadFile(file(1024, 6, { fundingMode: x402(), chunkingMode: "force" })),
  );
  await attempt("x402-chunked", () =>
    turbo.uploadFile(file(11 * MiB, 9, { fundingMode: x402(), chunkingMode: "force" })),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
