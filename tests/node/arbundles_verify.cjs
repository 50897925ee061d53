// Asks arbundles whether data items and bundles built elsewhere are valid.
// Usage: node arbundles_verify.cjs item:PATH... bundle:PATH...   (one JSON line each)
"use strict";
const fs = require("fs");
const ab = require("arbundles");

async function verifyItem(path) {
  const raw = fs.readFileSync(path);
  const item = new ab.DataItem(raw);
  return { path, id: item.id, signatureType: item.signatureType, valid: await ab.DataItem.verify(raw) };
}

async function verifyBundle(path) {
  const bundle = new ab.Bundle(fs.readFileSync(path));
  const items = [];
  for (let i = 0; i < bundle.length; i++) {
    const item = bundle.get(i);
    items.push({ id: item.id, valid: await item.isValid() });
  }
  return { path, ids: bundle.getIds(), items, valid: await bundle.verify() };
}

async function main() {
  for (const argument of process.argv.slice(2)) {
    const [kind, path] = [argument.slice(0, argument.indexOf(":")), argument.slice(argument.indexOf(":") + 1)];
    const result = kind === "bundle" ? await verifyBundle(path) : await verifyItem(path);
    console.log(JSON.stringify(result));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
