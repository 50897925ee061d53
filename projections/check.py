"""``projections check``: two schemas compared table by table (row count and checksum)."""

from collections.abc import Callable
from dataclasses import dataclass

from bundlestream.projections import postgres


@dataclass(frozen=True)
class Comparison:
    relation: str
    left: postgres.TableSummary
    right: postgres.TableSummary

    @property
    def equal(self) -> bool:
        return self.left == self.right


def _unreported(done: int, total: int) -> None:
    return None


def compare_schemas(
    conn: postgres.Conn,
    left: str,
    right: str,
    report: Callable[[int, int], None] = _unreported,
) -> list[Comparison]:
    """Every fact table and state view of the read models, in both schemas; ``report``
    hears (relations compared, relations) after each one."""
    relations = postgres.compared_relations()
    found = []
    for relation in relations:
        found.append(
            Comparison(
                relation,
                postgres.summarize(conn, left, relation),
                postgres.summarize(conn, right, relation),
            )
        )
        report(len(found), len(relations))
    return found
