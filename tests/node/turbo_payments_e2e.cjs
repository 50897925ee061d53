// Pays for an upload with the real @ardrive/turbo-sdk: quotes, an unfunded refusal, a
// top-up, then a chunked upload charged from the credited balance. With TOKEN arweave
// (the default) an AR top-up through arlocal at GATEWAY_URL; with TOKEN ethereum an ETH
// top-up on the EVM JSON-RPC node at GATEWAY_URL (the SDK's `gatewayUrl` is the RPC URL
// its EthereumToken sends the transfer to and polls).
// Usage (NODE_PATH=stack/node/node_modules):
//   node turbo_payments_e2e.cjs API_URL GATEWAY_URL [TOKEN]
// Prints one JSON line per step: {step, ...}; exits 1 on failure.
"use strict";
const crypto = require("node:crypto");
const Arweave = require("arweave");
const { TurboFactory, ARToTokenAmount, ETHToTokenAmount } = require("@ardrive/turbo-sdk");

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

async function arweaveWallet(gatewayUrl) {
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
  return { privateKey: jwk, tokenAmount: ARToTokenAmount(2) };
}

async function rpc(url, method, params) {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  const headers = { "content-type": "application/json" };
  const answer = await (await fetch(url, { method: "POST", headers, body })).json();
  if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

// A fresh key; funded (for the transfer and its gas) once its address is known.
function ethereumWallet() {
  const privateKey = "0x" + crypto.randomBytes(32).toString("hex");
  return { privateKey, tokenAmount: ETHToTokenAmount(0.05) };
}

// 1 ETH from the development node's unlocked account 0.
async function fundOnNode(rpcUrl, address) {
  const [funder] = await rpc(rpcUrl, "eth_accounts", []);
  const value = "0x" + (10n ** 18n).toString(16);
  await rpc(rpcUrl, "eth_sendTransaction", [{ from: funder, to: address, value }]);
}

async function main() {
  const [url, gatewayUrl, token = "arweave"] = process.argv.slice(2);
  const wallet = token === "arweave" ? await arweaveWallet(gatewayUrl) : ethereumWallet();
  const turbo = TurboFactory.authenticated({
    privateKey: wallet.privateKey,
    token,
    gatewayUrl,
    uploadServiceConfig: { url },
    paymentServiceConfig: { url },
  });
  const address = await turbo.signer.getNativeAddress();
  if (token !== "arweave") await fundOnNode(gatewayUrl, address);
  say("wallet", { address, token });

  const [cost] = await turbo.getUploadCosts({ bytes: [SIZE] });
  say("costs", { winc: cost.winc, adjustments: cost.adjustments });
  say("balance-unfunded", { winc: (await turbo.getBalance()).winc });

  try {
    const receipt = await upload(turbo, 3);
    say("unfunded-upload", { refused: false, receipt });
  } catch (error) {
    say("unfunded-upload", { refused: true, status: error.status, message: error.message });
  }

  const topUp = await turbo.topUpWithTokens({ tokenAmount: wallet.tokenAmount });
  say("top-up", { id: topUp.id, status: topUp.status, winc: topUp.winc, owner: topUp.owner });

  // The top-ups stage credits the transfer once the chain has its confirmations.
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
