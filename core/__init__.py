"""The pure core: ANS-104, deep hash, Arweave transactions, bundles, receipts.

Nothing here performs I/O, reads the clock or the environment, or draws randomness:
callers pass those in.
"""
