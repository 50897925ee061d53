"""Rows of a fact table → the bytes of a ``COPY ... FROM STDIN`` in text format.

psycopg's ``Copy.write_row`` was measured at about 8 µs a row (a dumper lookup and
call per value; docs/benchmarks.md); the rebuild writes two million rows. Here each
table gets, once, a function that formats a whole batch with one f-string per row, its
expression per column chosen by the column's type (``tables.Table.types``), compiled
with ``exec`` like ``avro_reader``. Text format (PostgreSQL documentation, "COPY",
"Text Format"): columns separated by tabs, rows ended by newlines, ``\\N`` for NULL, and
backslash, tab, newline and carriage return written as backslash escapes. Values:

- text and numeric: the string (numeric columns hold Avro decimal strings such as winc);
- int4 and int8: the decimal integer; bool: ``t`` or ``f``;
- timestamptz: epoch milliseconds (as ``avro_reader`` reads ``timestamp-millis``), as
  ``YYYY-MM-DD HH:MM:SS.mmm+00``;
- _text (text[]): an array literal with every element quoted.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bundlestream.projections.tables import Table

Encode = Callable[[list[tuple[Any, ...]]], bytes]

_EPOCH = datetime(1970, 1, 1)
# Formatted seconds kept: a batch spans few seconds, a live projector months of them.
_SECONDS_KEPT = 100_000


class _Seconds(dict[int, str]):
    """Epoch second → ``YYYY-MM-DD HH:MM:SS`` (UTC), formatted on first use."""

    def __missing__(self, second: int) -> str:
        if len(self) >= _SECONDS_KEPT:
            self.clear()
        text = self[second] = (_EPOCH + timedelta(seconds=second)).isoformat(sep=" ")
        return text


def escape(value: str) -> str:
    """A string as a COPY text field (the characters that are not written as they are)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def text_array(values: list[str | None]) -> str:
    """A text[] literal, every element double-quoted, escaped for COPY."""
    elements = (
        "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    )
    return escape("{" + ",".join(elements) + "}")


# Per type, the expression of a column's value ``{v}`` in a row's f-string. Names are
# the constants handed to the compiled function (no backslash may appear in an
# f-string expression before Python 3.12).
_EXPRESSIONS = {
    "text": "NULL if {v} is None else {v} if {v}.isprintable() and BACKSLASH not in {v}"
    " else escape({v})",
    "int4": "NULL if {v} is None else {v}",
    "bool": "NULL if {v} is None else 't' if {v} else 'f'",
    "timestamptz": "NULL if {v} is None else SECONDS[{v} // 1000] + MILLIS[{v} % 1000]",
    "_text": "NULL if {v} is None else EMPTY_ARRAY if not {v} else text_array({v})",
}
_EXPRESSIONS["numeric"] = _EXPRESSIONS["text"]
_EXPRESSIONS["int8"] = _EXPRESSIONS["int4"]

_CONSTANTS = {
    "NULL": "\\N",
    "BACKSLASH": "\\",
    "EMPTY_ARRAY": "{}",
    "SECONDS": _Seconds(),
    "MILLIS": [f".{ms:03d}+00" for ms in range(1000)],
    "escape": escape,
    "text_array": text_array,
}


def encoder_of(table: Table) -> Encode:
    """The COPY text encoder of ``table``'s rows (compiled on first use, then kept)."""
    encode = _ENCODERS.get(table.name)
    if encode is None:
        encode = _ENCODERS[table.name] = _compile(table)
    return encode


_ENCODERS: dict[str, Encode] = {}


def _compile(table: Table) -> Encode:
    if len(table.types) != len(table.columns):
        raise ValueError(f"{table.name}: a type for every column is needed")
    names = [f"c{i}" for i in range(len(table.columns))]
    fields = "\\t".join(
        "{" + _EXPRESSIONS[kind].format(v=name) + "}"
        for name, kind in zip(names, table.types, strict=True)
    )
    source = "\n".join(
        [
            "def encode(rows):",
            "    lines = []",
            "    append = lines.append",
            f"    for {', '.join(names)}, in rows:",
            f'        append(f"{fields}\\n")',
            "    return ''.join(lines).encode()",
        ]
    )
    namespace: dict[str, Any] = dict(_CONSTANTS)
    exec(source, namespace)  # our own generated source, nothing read in
    encode: Encode = namespace["encode"]
    return encode
