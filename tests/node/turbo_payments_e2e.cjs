// Pays for an upload with the real @ardrive/turbo-sdk: quotes, an unfunded refusal, an AR
// top-up through arlocal, then a chunked upload charged from the credited balance.
// Usage (NODE_PATH=stack/node/node_modules): node turbo_payments_e2e.cjs API_URL GATEWAY_URL
// Prints one JSON line per step: {step, ...}; exits 1 on failure.
"use strict";
const Arweave = require("arweave");
const { TurboFactory, ARToTokenAmount } = require("@ardrive/turbo-sdk");

const { MiB, payloadStream } = require("./payload_stream.cjs");
const SIZE = 12 * MiB;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function say(step, fields) {
  console.log(JSON.stringify({ step, ...fields }));
}

function upload(turbo, seed) {
  return turbo.uploadFile({
    fileStreamFactory: () => payloadStream(SIZE, seed),
    fileSizeFactory: () => SIZE,
    dataItemOpts: { tags: [{ name: "Content-Type", value: "application/octet-stream" }] },
    chunkingMode: "force",
  });
}

async function main() {
  const [url, gatewayUrl] = process.argv.slice(2);
  const gateway = new URL(gatewayUrl);
  const arweave = Arweave.init({
    host: gateway.hostname,
    port: Number(gateway.port),
    protocol: gateway.protocol.replace(":", ""),
  });
  const jwk = await arweave.wallets.generate();
  const address = await arweave.wallets.jwkToAddress(jwk);
  const minted = await fetch(`${gatewayUrl}/mint/${address}/${10 ** 15}`);
  if (!minted.ok) throw new Error(`mint: ${minted.status}`);
  const turbo = TurboFactory.authenticated({
    privateKey: jwk,
    gatewayUrl,
    uploadServiceConfig: { url },
    paymentServiceConfig: { url },
  });

  const [cost] = await turbo.getUploadCosts({ bytes: [SIZE] });
  say("costs", { winc: cost.winc, adjustments: cost.adjustments });
  say("balance-unfunded", { winc: (await turbo.getBalance()).winc });

  try {
    const receipt = await upload(turbo, 3);
    say("unfunded-upload", { refused: false, receipt });
  } catch (error) {
    say("unfunded-upload", { refused: true, status: error.status, message: error.message });
  }

  const topUp = await turbo.topUpWithTokens({ tokenAmount: ARToTokenAmount(2) });
  say("top-up", { id: topUp.id, status: topUp.status, winc: topUp.winc, owner: topUp.owner });

  // The top-ups stage credits the transfer once arlocal has mined its confirmations.
  let funded = "0";
  for (let i = 0; i < 600 && funded === "0"; i++) {
    funded = (await turbo.getBalance()).winc;
    if (funded === "0") await sleep(500);
  }
  say("balance-funded", { winc: funded });

  const receipt = await upload(turbo, 5);
  say("paid-upload", { id: receipt.id, winc: receipt.winc });
  // The spendable view charged at once; the balance route reads the projection.
  let after = funded;
  for (let i = 0; i < 600 && after === funded; i++) {
    after = (await turbo.getBalance()).winc;
    if (after === funded) await sleep(500);
  }
  say("balance-after", { winc: after });

  const headers = await turbo.signer.generateSignedRequestHeaders();
  const signed = await fetch(`${url}/v1/balance`, { headers });
  say("signed-balance", { status: signed.status, winc: (await signed.json()).winc, address });
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
