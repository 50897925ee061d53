// The local EVM node of the stack (`hardhat node`, started by bundlestream/stack/evm.py).
// Its chain id comes from BUNDLESTREAM_X402_CHAIN_ID (84532, Base Sepolia's, by default:
// x402 clients sign only for the chain ids of the networks they know). Blocks are mined
// per transaction and, as on a real chain, every 2 s besides: a read (an x402 verify
// simulates its transfer) runs at the latest block's time, and an idle node's latest
// block would be as old as its last transaction. The accounts are hardhat's public
// development mnemonic.
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.BUNDLESTREAM_X402_CHAIN_ID || 84532),
      mining: { auto: true, interval: 2000 },
    },
  },
};
