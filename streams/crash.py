"""Ending a worker on an error, without committing what it holds."""

import logging
import os

log = logging.getLogger(__name__)

# Exit status of a worker that stopped itself rather than skip a message it could not
# handle: its offset is not committed, so the message is handled again after a restart.
CRASH_EXIT_STATUS = 70


def crash_worker(stage: str, exc: BaseException) -> None:
    """Stop the process now, without committing the message in hand.

    Faust acknowledges a message whose agent raised, which would skip it silently; an
    error that is not an event of its own ends the worker instead, and the message is
    processed again by whichever worker takes the partition over.
    """
    log.critical("%s: stopping the worker: %r", stage, exc, exc_info=exc)
    logging.shutdown()
    os._exit(CRASH_EXIT_STATUS)
