"""``projections check``: two schemas compared table by table (row count and checksum)."""

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


def compare_schemas(conn: postgres.Conn, left: str, right: str) -> list[Comparison]:
    """Every fact table and state view of the read models, in both schemas."""
    return [
        Comparison(
            relation,
            postgres.summarize(conn, left, relation),
            postgres.summarize(conn, right, relation),
        )
        for relation in postgres.compared_relations()
    ]
