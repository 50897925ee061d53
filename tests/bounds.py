"""Bounds on waiting for the stack, shared by the tests and their helpers.

Each is far above what the call takes on a loaded machine in normal operation (two cores
shared by several test runs; an arlocal holding several GiB mines and answers slowly), so
only a service that is broken or gone reaches one. They are bounds, never timing
assertions: no test checks how fast anything was.
"""

# One request to the Arweave gateway (arlocal): /info, /mine, a transaction, a chunk.
GATEWAY_REQUEST_S = 300.0
# One request to a server the test started itself (the upload API, a fake gateway).
HTTP_REQUEST_S = 120.0
# One admin, metadata, offset or poll call to the Kafka broker.
BROKER_REQUEST_S = 120.0
# A condition the test waits on (a status settles, a server starts, a record arrives).
CONDITION_S = 300.0
