// Compile one Solidity source with the npm solc compiler (its bundled soljson, no
// download) and print {abi, bytecode} of the named contract as JSON on stdout.
// Usage: node compile-contract.js FILE.sol CONTRACT
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const [file, contract] = process.argv.slice(2);
const source = path.basename(file);
const input = {
  language: "Solidity",
  sources: { [source]: { content: fs.readFileSync(file, "utf8") } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  process.stderr.write(errors.map((e) => e.formattedMessage).join("\n"));
  process.exit(1);
}
const compiled = output.contracts[source][contract];
process.stdout.write(
  JSON.stringify({ abi: compiled.abi, bytecode: "0x" + compiled.evm.bytecode.object })
);
