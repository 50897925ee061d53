"""``projections rebuild``: replay the log from offset 0 into a fresh schema, then swap.

The live schema keeps serving (and its projector keeps writing) while the fresh one
fills up. Once the fresh schema has reached where the log ended when the rebuild began,
one transaction renames live → retired and fresh → live. The live projector then finds
tracking rows that are not the ones it wrote and seeks to them (``postgres.write_batch``),
so it continues in the new schema from exactly where the rebuild stopped.
"""

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass

from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projection import tables_by_topic
from bundlestream.projections.projector import Projector, garbage_collected_per_batch
from bundlestream.settings import Settings

_PROGRESS_EVERY_S = 0.5


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
    report: Callable[[Progress], None],
    bulk: bool = False,
    processes: int = 1,
) -> Progress:
    """Project every event up to the current end of the log into ``schema`` (migrated).

    ``bulk`` (only into a new, empty schema): COPY without keys, deduplicate and build
    the keys and indexes once: those of a table written by one topic only as soon as that
    topic is replayed (while other topics load), the others at the end. ``processes`` > 1
    replays topics in parallel processes, one topic per process at a time: every fact
    table is written from one topic only, so each table still has a single writer, whose
    COPY order is log order.
    """
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, schema)
        restore = postgres.begin_bulk_load(conn, schema) if bulk else []
    targets = _log_ends(settings)
    started = time.monotonic()
    jobs = [
        _Job(settings, schema, topic, bulk, _keys_of(settings, topic, restore))
        for topic in _largest_first(targets)
    ]
    # One connection for the progress readings (a new one per reading cost Postgres a
    # backend start twice a second).
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        tick = _every(_PROGRESS_EVERY_S, lambda: report(_progress(conn, schema, targets, started)))
        if processes <= 1:
            for job in jobs:
                _replay_topic(job, tick)
        else:
            _in_processes(jobs, processes, tick)
        if bulk:
            built = {ddl for job in jobs for ddl in job.keys}
            postgres.finish_bulk_load(conn, schema, [d for d in restore if d not in built])
        done = _progress(conn, schema, targets, started)
    return Progress(done.events, time.monotonic() - started, done.lag)


@dataclass(frozen=True)
class _Job:
    """Replay one topic; then build ``keys`` (the keys and indexes of its own tables)."""

    settings: Settings
    schema: str
    topic: str
    bulk: bool
    keys: tuple[str, ...]


def _keys_of(settings: Settings, topic: str, restore: list[str]) -> tuple[str, ...]:
    """The DDL in ``restore`` of the tables that ``topic``, and no other topic, writes."""
    writers: dict[str, list[str]] = {}
    for relative, tables in tables_by_topic().items():
        for table in tables:
            writers.setdefault(table, []).append(settings.kafka.topic_prefix + relative)
    return tuple(ddl for ddl in restore if writers.get(postgres.table_of(ddl)) == [topic])


def _every(seconds: float, action: Callable[[], None]) -> Callable[[], None]:
    """``action``, but at most once per ``seconds`` however often it is called."""
    last = [0.0]

    def throttled() -> None:
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            action()

    return throttled


def _log_ends(settings: Settings) -> postgres.Offsets:
    probe = Projector(settings, "", f"{settings.postgres.projector_group_id}-replay")
    try:
        return probe.end_offsets()
    finally:
        probe.close()


def _largest_first(targets: postgres.Offsets) -> list[str]:
    sizes: dict[str, int] = {}
    for (topic, _), end in targets.items():
        sizes[topic] = sizes.get(topic, 0) + end
    return sorted(sizes, key=lambda topic: -sizes[topic])


def _progress(
    conn: postgres.Conn, schema: str, targets: postgres.Offsets, started: float
) -> Progress:
    """Progress as Postgres has it: messages projected (events and dead letters), lag."""
    tracked = postgres.tracked_offsets(conn, schema)
    lag = remaining(targets, tracked)
    return Progress(sum(targets.values()) - lag, time.monotonic() - started, lag)


def _replay_topic(job: _Job, on_batch: Callable[[], None]) -> None:
    """Project one topic up to where it ends now, then build its tables' keys."""
    settings = job.settings
    projector = Projector(
        settings, job.schema, f"{settings.postgres.projector_group_id}-replay", job.bulk
    )
    try:
        targets = projector.end_offsets([job.topic])
        projector.assign([job.topic])
        positions: postgres.Offsets = {}
        with garbage_collected_per_batch() as collect_garbage:
            while (left := remaining(targets, positions)) > 0:
                batch = projector.project_batch(left)
                if batch is not None:
                    collect_garbage()
                    positions = batch.positions
                    on_batch()
    finally:
        projector.close()
    if job.keys:
        with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
            postgres.finish_bulk_load(conn, job.schema, list(job.keys))


def _replay_job(job: _Job) -> None:
    _replay_topic(job, lambda: None)


def _in_processes(jobs: list[_Job], processes: int, tick: Callable[[], None]) -> None:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        result = pool.map_async(_replay_job, jobs, chunksize=1)
        while not result.ready():
            result.wait(_PROGRESS_EVERY_S)
            tick()
        result.get()  # a child's exception, raised here


def rebuild(
    settings: Settings, report: Callable[[Progress], None], swap: bool = True, processes: int = 1
) -> RebuildResult:
    """Replay into ``<live>_rebuild_<stamp>``; with ``swap``, make it the live schema."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    live = settings.postgres.projections_schema
    fresh, retired = f"{live}_rebuild_{stamp}", f"{live}_retired_{stamp}"
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        postgres.drop_schema(conn, fresh)
    done = replay_into(settings, fresh, report, bulk=True, processes=processes)
    if not swap:
        return RebuildResult(fresh, None, done)
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        postgres.swap_in(conn, live, fresh, retired)
    return RebuildResult(live, retired, done)
