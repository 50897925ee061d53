// Shares credits with the real @ardrive/turbo-sdk: shareCredits, an upload paid through
// x-paid-by by the approval, revokeCredits, then the same upload refused.
// Usage (NODE_PATH=stack/node/node_modules):
//   node turbo_credit_sharing.cjs API_URL GATEWAY_URL WINC SIZE
// Prints one JSON line per step: {step, ...}; after "wallets" it waits for one line on
// stdin (the payer is funded); exits 1 on failure.
"use strict";
const fs = require("fs");
const Arweave = require("arweave");
const readline = require("readline");
const { TurboFactory } = require("@ardrive/turbo-sdk");

const { payloadStream } = require("./payload_stream.cjs");

function say(step, fields) {
  fs.writeSync(1, JSON.stringify({ step, ...fields }) + "\n");
}

function nextLine() {
  const lines = readline.createInterface({ input: process.stdin });
  return new Promise((resolve) =>
    lines.once("line", (line) => {
      lines.close();
      process.stdin.destroy();
      resolve(line);
    }),
  );
}

async function main() {
  const [url, gatewayUrl, winc, size] = process.argv.slice(2);
  const gateway = new URL(gatewayUrl);
  const arweave = Arweave.init({
    host: gateway.hostname,
    port: Number(gateway.port),
    protocol: gateway.protocol.replace(":", ""),
  });
  const turbo = async () => {
    const jwk = await arweave.wallets.generate();
    const address = await arweave.wallets.jwkToAddress(jwk);
    const config = { privateKey: jwk, gatewayUrl };
    const client = TurboFactory.authenticated({
      ...config,
      uploadServiceConfig: { url },
      paymentServiceConfig: { url },
    });
    return { address, client };
  };
  const payer = await turbo();
  const spender = await turbo();
  say("wallets", { payer: payer.address, spender: spender.address });
  await nextLine();

  const approval = await payer.client.shareCredits({
    approvedAddress: spender.address,
    approvedWincAmount: winc,
  });
  say("shared", { approval });

  const upload = (seed) =>
    spender.client.uploadFile({
      fileStreamFactory: () => payloadStream(Number(size), seed),
      fileSizeFactory: () => Number(size),
      dataItemOpts: { paidBy: payer.address },
    });
  const receipt = await upload(3);
  say("paid-upload", { id: receipt.id, winc: receipt.winc });

  const revoked = await payer.client.revokeCredits({ revokedAddress: spender.address });
  say("revoked", { approvals: revoked });

  try {
    const late = await upload(5);
    say("after-revoke", { refused: false, id: late.id });
  } catch (error) {
    say("after-revoke", { refused: true, status: error.status, message: error.message });
  }
}

// stdin, once read, would keep the process alive.
main().then(() => process.exit(0)).catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
