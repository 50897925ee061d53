"""Ending a worker on an error, without committing what it holds."""

import logging
import os

import faust

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


class Worker(faust.Worker):
    """Faust's worker, which never stops in order: an error inside Faust or a stop signal
    ends the process as ``crash_worker`` does, without a commit.

    Faust's orderly stop cancels the agents; a cancelled agent's stream acknowledges the
    message in its hands, unfinished, and the stop commits it. A chaos run's log shows the
    consumer's livelock detector failing an assertion during a broker's failover and the
    worker stopping so. Ending at once instead is what kill -9 does, which every stage
    tolerates: the group reads again from the last periodic commit.
    """

    def _crash(self, reason: BaseException) -> None:  # the root of a crashed service
        crash_worker("faust", reason)

    def _on_sigterm(self) -> None:
        _end_on_signal("SIGTERM")

    def _on_sigint(self) -> None:
        _end_on_signal("SIGINT")


def _end_on_signal(name: str) -> None:
    log.warning("%s: ending the worker without a commit", name)
    logging.shutdown()
    os._exit(0)
