-- Indexes for the operator console's questions on received items (EXPLAIN ANALYZE on a
-- projected story, docs/benchmarks.md): an owner's newest items (the lookup of an
-- address: the owner index found them, then sorted them all by time; with the time in
-- the index the newest 50 are its first 50 entries backwards) and the uploads of the
-- last hour (the overview's throughput chart: a sequential scan of every received item
-- without it). A rebuild drops and builds them like every other index, once, after its
-- bulk load.
DROP INDEX received_items_owner;
CREATE INDEX received_items_owner ON received_items (owner_address, received_at);
CREATE INDEX received_items_received_at ON received_items (received_at);
