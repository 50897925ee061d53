"""``projections rebuild``: replay the log from offset 0 into a fresh schema, then swap.

The live schema keeps serving (and its projector keeps writing) while the fresh one
fills up. Once the fresh schema has reached where the log ended when the rebuild began,
one transaction renames live → retired and fresh → live. The live projector then finds
tracking rows that are not the ones it wrote and seeks to them (``postgres.write_batch``),
so it continues in the new schema from exactly where the rebuild stopped.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from bundlestream.settings import Settings
from projections import postgres
from projections.migrator import migrate
from projections.projector import Projector


@dataclass(frozen=True)
class Progress:
    """One progress reading of a replay."""

    events: int
    elapsed_s: float
    lag: int

    @property
    def rate(self) -> float:
        """Events projected per second so far."""
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        return self.lag / self.rate if self.rate > 0 else None


@dataclass(frozen=True)
class RebuildResult:
    fresh: str
    retired: str | None
    progress: Progress


def remaining(targets: postgres.Offsets, positions: postgres.Offsets) -> int:
    """Messages between each partition's position and its target, summed."""
    return sum(max(0, end - positions.get(tp, 0)) for tp, end in targets.items())


def replay_into(
    settings: Settings,
    schema: str,
    group_id: str,
    report: Callable[[Progress], None],
    bulk: bool = False,
) -> Progress:
    """Project every event up to the current end of the log into ``schema`` (migrated).

    ``bulk`` (only into a new, empty schema): COPY without keys, deduplicate and build
    the keys and indexes once at the end.
    """
    with postgres.connect(settings.postgres_dsn) as conn:
        migrate(conn, schema)
        restore = postgres.begin_bulk_load(conn, schema) if bulk else []
    projector = Projector(settings, schema, group_id, bulk)
    try:
        targets = projector.end_offsets()
        projector.start()
        started, events = time.monotonic(), 0
        positions: postgres.Offsets = {}
        while (lag := remaining(targets, positions)) > 0:
            batch = projector.project_batch()
            if batch is not None:
                events += batch.events
                positions = batch.positions
                report(Progress(events, time.monotonic() - started, remaining(targets, positions)))
    finally:
        projector.close()
    if bulk:
        with postgres.connect(settings.postgres_dsn) as conn:
            postgres.finish_bulk_load(conn, schema, restore)
    return Progress(events, time.monotonic() - started, lag)


def rebuild(
    settings: Settings, report: Callable[[Progress], None], swap: bool = True
) -> RebuildResult:
    """Replay into ``<live>_rebuild_<stamp>``; with ``swap``, make it the live schema."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    live = settings.projections_schema
    fresh, retired = f"{live}_rebuild_{stamp}", f"{live}_retired_{stamp}"
    with postgres.connect(settings.postgres_dsn) as conn:
        postgres.drop_schema(conn, fresh)
    group = f"{settings.projector_group_id}-rebuild-{stamp}"
    done = replay_into(settings, fresh, group, report, bulk=True)
    if not swap:
        return RebuildResult(fresh, None, done)
    with postgres.connect(settings.postgres_dsn) as conn:
        postgres.swap_in(conn, live, fresh, retired)
    return RebuildResult(live, retired, done)
