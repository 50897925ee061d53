// Makes data items of every ANS-104 signature type with arbundles (the reference
// implementation) and writes them plus a manifest of what arbundles says about each,
// and one bundle of all of them (arbundles.bundle, its ids in bundle.json).
// Usage: node arbundles_make_items.cjs OUT_DIR   (NODE_PATH must reach arbundles)
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const bs58 = require("bs58");
const ab = require("arbundles");

const b64url = (buf) => Buffer.from(buf).toString("base64url");

function ed25519Keypair() {
  const { privateKey } = crypto.generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  return { privateKey, seed: Buffer.from(jwk.d, "base64url"), pub: Buffer.from(jwk.x, "base64url") };
}

const ed25519Sign = (privateKey, message) => crypto.sign(null, Buffer.from(message), privateKey);

function aptosProvider(keypair) {
  // What an Aptos wallet's signMessage returns: a signature over its full message text.
  return {
    signMessage: async ({ message, nonce }) => ({
      signature: ed25519Sign(keypair.privateKey, `APTOS\nmessage: ${message}\nnonce: ${nonce}`).toString("hex"),
    }),
  };
}

function multiAptosSigner(keypairs, threshold, signing) {
  const owner = Buffer.alloc(32 * 32 + 1);
  keypairs.forEach((kp, i) => kp.pub.copy(owner, i * 32));
  owner[32 * 32] = threshold;
  const collect = async (message) => ({
    signatures: signing.map((i) => ed25519Sign(keypairs[i].privateKey, message)),
    bitmap: signing,
  });
  return new ab.MultiSignatureAptosSigner(owner, collect);
}

function signers() {
  const jwk = crypto.generateKeyPairSync("rsa", { modulusLength: 4096, publicExponent: 65537 })
    .privateKey.export({ format: "jwk" });
  const ed = ed25519Keypair();
  const solanaKey = bs58.encode(Buffer.concat([ed.seed, ed.pub]));
  const ethKey = crypto.randomBytes(32).toString("hex");
  const aptos = [ed25519Keypair(), ed25519Keypair(), ed25519Keypair()];
  return {
    1: new ab.ArweaveSigner(jwk),
    2: new ab.SolanaSigner(solanaKey),
    3: new ab.EthereumSigner(ethKey),
    4: new ab.HexSolanaSigner(solanaKey),
    5: new ab.InjectedAptosSigner(aptosProvider(ed), ed.pub),
    6: multiAptosSigner(aptos, 2, [0, 2]),
    7: new ab.TypedEthereumSigner(ethKey),
  };
}

const VARIANTS = {
  bare: () => ({}),
  full: () => ({
    target: b64url(crypto.randomBytes(32)),
    anchor: crypto.randomBytes(16).toString("hex"),
    tags: [
      { name: "Content-Type", value: "text/plain" },
      { name: "App-Name", value: "bundlestream-interop ✓" },
      { name: "", value: "" },
    ],
  }),
};

async function main() {
  const outDir = process.argv[2];
  fs.mkdirSync(outDir, { recursive: true });
  const manifest = [];
  const items = [];
  const allSigners = signers();
  for (const [type, signer] of Object.entries(allSigners)) {
    for (const [variant, options] of Object.entries(VARIANTS)) {
      const opts = options();
      const payload = crypto.randomBytes(variant === "bare" ? 0 : 1000);
      const item = ab.createData(payload, signer, opts);
      await item.sign(signer);
      items.push(item);
      const file = `type${type}-${variant}.bin`;
      fs.writeFileSync(path.join(outDir, file), item.getRaw());
      manifest.push({
        file,
        signatureType: item.signatureType,
        id: item.id,
        owner: b64url(item.rawOwner),
        target: item.rawTarget.length ? b64url(item.rawTarget) : null,
        anchor: item.rawAnchor.length ? b64url(item.rawAnchor) : null,
        tags: item.tags,
        payloadSize: payload.length,
        arbundlesValid: await ab.DataItem.verify(item.getRaw()),
      });
    }
  }
  fs.writeFileSync(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2));
  // Every item above in one bundle, as arbundles writes bundles.
  const bundle = await ab.bundleAndSignData(items, allSigners[1]);
  fs.writeFileSync(path.join(outDir, "arbundles.bundle"), bundle.getRaw());
  fs.writeFileSync(path.join(outDir, "bundle.json"), JSON.stringify({ ids: bundle.getIds() }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
