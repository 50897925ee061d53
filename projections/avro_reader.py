"""Avro binary bodies → plain records, by a reader compiled for each (writer, reader) pair.

The projector's hot path. fastavro's generic reader dispatches on the schema for every
field and builds a datetime for every timestamp: measured at about 0.4 µs a field,
which made decoding most of the rebuild's CPU (docs/benchmarks.md). Here each
pair of schemas is turned, once, into the source of one Python function that reads
its fields in order with the common cases (one-byte lengths and ints) inline, and that
function is compiled with ``exec`` (as ``dataclasses`` and ``namedtuple`` build
theirs). It returns what fastavro returns, except that ``timestamp-millis`` stays an
int (milliseconds since the epoch, which the COPY encoder writes as they are) and
``bytes`` are ``bytes``. A test checks the two readers agree on every example.

Resolution (Avro 1.11 specification, "Schema Resolution"), as far as our evolution rule
goes (``schemas.versions.evolution_problems``): record fields are matched by name, a
writer field the reader lacks is read and dropped, a reader field the writer lacks gets
the reader's default. Anything else (a field whose type changed) is refused here.

Binary encoding (same specification, "Binary Encoding"): int and long are zig-zag
varints; string and bytes a long length then the bytes; a union a long branch index then
the value; an array blocks of (long count, items) ended by a zero count, a negative
count being followed by the block's size in bytes; boolean one byte; null nothing.
"""

from collections.abc import Callable
from typing import Any

# (message, position of the body) → (record, position after it).
Read = Callable[[bytes, int], tuple[dict[str, Any], int]]


class UnsupportedSchema(ValueError):
    """A schema construct, or a writer/reader difference, this reader does not handle."""


def read_long(body: bytes, pos: int) -> tuple[int, int]:
    """A zig-zag varint of any length (int and long share the encoding)."""
    value, shift = 0, 0
    while True:
        byte = body[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (value >> 1) ^ -(value & 1), pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def read_size(body: bytes, pos: int) -> tuple[int, int]:
    """A length or count: (position after the counted bytes, position after the length)."""
    size, pos = read_long(body, pos)
    if size < 0:
        raise ValueError(f"negative length {size}")
    return pos + size, pos


def compile_reader(writer: Any, reader: Any) -> Read:
    """The reader of bodies written with ``writer`` into ``reader``'s shape.

    Both are record schemas, as ``fastavro.parse_schema`` returns them or as declared.
    """
    source = _Source()
    source.line(0, "def read(body, pos):")
    _value(source, 1, "record", _Pair(writer, reader, {}, {}))
    source.line(1, "return record, pos")
    return source.compile()


class _Source:
    """The function being written: its lines, fresh variable names and constants."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {"read_long": read_long, "read_size": read_size}
        self._names = 0

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def fresh(self, stem: str) -> str:
        self._names += 1
        return f"{stem}{self._names}"

    def constant(self, value: Any) -> str:
        name = self.fresh("const")
        self.constants[name] = value
        return name

    def compile(self) -> Read:
        namespace = dict(self.constants)
        exec("\n".join(self.lines), namespace)  # our own generated source, nothing read in
        read: Read = namespace["read"]
        return read


class _Pair:
    """A writer schema and the reader schema it is read into, with the named types seen."""

    def __init__(self, writer: Any, reader: Any, writer_names: Any, reader_names: Any) -> None:
        self.writer_names: dict[str, Any] = writer_names
        self.reader_names: dict[str, Any] = reader_names
        self.writer = _named(writer, writer_names)
        self.reader = _named(reader, reader_names)

    def nested(self, writer: Any, reader: Any) -> "_Pair":
        return _Pair(writer, reader, self.writer_names, self.reader_names)

    @property
    def kind(self) -> str:
        writer_kind, reader_kind = _kind(self.writer), _kind(self.reader)
        if writer_kind != reader_kind:
            raise UnsupportedSchema(f"a {writer_kind} read as {reader_kind}")
        return writer_kind


_PRIMITIVE_KINDS = {"null", "boolean", "int", "long", "string", "bytes"}


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    return schema if isinstance(schema, str) else str(schema["type"])


def _named(schema: Any, names: dict[str, Any]) -> Any:
    """A named type's definition: a record is declared once, then referred to by name."""
    if isinstance(schema, str) and schema not in _PRIMITIVE_KINDS:
        if schema not in names:
            raise UnsupportedSchema(f"unknown named type {schema}")
        return names[schema]
    if isinstance(schema, dict) and schema.get("type") == "record":
        name = str(schema["name"])
        namespace = schema.get("namespace")
        names[name] = schema
        names[name.rsplit(".", 1)[-1]] = schema
        if namespace and "." not in name:
            names[f"{namespace}.{name}"] = schema
    return schema


def _value(source: _Source, depth: int, target: str | None, pair: _Pair) -> None:
    """Lines that read one value into ``target`` (None: skip it) and advance ``pos``."""
    kind = pair.kind
    if kind in ("int", "long"):
        _long(source, depth, target or "_")
        if target is not None and _logical(pair.writer) == "timestamp-millis":
            _in_datetime_range(source, depth, target)
    elif kind in ("string", "bytes"):
        _sized(source, depth, target, kind == "string")
    elif kind == "boolean":
        _boolean(source, depth, target or "_")
    elif kind == "null":
        source.line(depth, f"{target or '_'} = None")
    elif kind == "union":
        _union(source, depth, target, pair)
    elif kind == "array":
        _array(source, depth, target, pair)
    elif kind == "record":
        _record(source, depth, target, pair)
    else:
        raise UnsupportedSchema(f"{kind} values are not read here")


def _long(source: _Source, depth: int, target: str) -> None:
    # Inline, longer varints too: most longs here (sizes, offsets, timestamps) take
    # several bytes, and a call per value was a third of the decoding time.
    source.line(depth, "b = body[pos]")
    source.line(depth, "pos += 1")
    source.line(depth, "if b < 128:")
    source.line(depth + 1, f"{target} = (b >> 1) ^ -(b & 1)")
    source.line(depth, "else:")
    source.line(depth + 1, "v = b & 127")
    source.line(depth + 1, "shift = 7")
    source.line(depth + 1, "while True:")
    source.line(depth + 2, "b = body[pos]")
    source.line(depth + 2, "pos += 1")
    source.line(depth + 2, "v |= (b & 127) << shift")
    source.line(depth + 2, "if b < 128:")
    source.line(depth + 3, "break")
    source.line(depth + 2, "shift += 7")
    source.line(depth + 1, "if shift > 63:")
    source.line(depth + 2, "raise ValueError('varint longer than 10 bytes')")
    source.line(depth + 1, f"{target} = (v >> 1) ^ -(v & 1)")


def _logical(schema: Any) -> str | None:
    return schema.get("logicalType") if isinstance(schema, dict) else None


# Years 1 to 9999, the timestamps fastavro (and Python's datetime) can represent: one
# outside is an unreadable event, as it was with fastavro, not a row Postgres refuses.
_FIRST_MS, _LAST_MS = -62_135_596_800_000, 253_402_300_799_999


def _in_datetime_range(source: _Source, depth: int, target: str) -> None:
    source.line(depth, f"if not {_FIRST_MS} <= {target} <= {_LAST_MS}:")
    source.line(depth + 1, f"raise ValueError(f'timestamp {{{target}}} ms out of range')")


def _sized(source: _Source, depth: int, target: str | None, text: bool) -> None:
    # A position past the body only shows at the end: the caller checks where it stops.
    source.line(depth, "b = body[pos]")
    source.line(depth, "if b < 128 and not b & 1:")
    source.line(depth + 1, "pos += 1")
    source.line(depth + 1, "end = pos + (b >> 1)")
    source.line(depth, "else:")
    source.line(depth + 1, "end, pos = read_size(body, pos)")
    if target is not None:
        source.line(depth, f"{target} = body[pos:end]{'.decode()' if text else ''}")
    source.line(depth, "pos = end")


def _boolean(source: _Source, depth: int, target: str) -> None:
    source.line(depth, "b = body[pos]")
    source.line(depth, "pos += 1")
    source.line(depth, "if b > 1:")
    source.line(depth + 1, "raise ValueError(f'boolean byte {b}')")
    source.line(depth, f"{target} = b == 1")


def _union(source: _Source, depth: int, target: str | None, pair: _Pair) -> None:
    writer, reader = pair.writer, pair.reader
    if _kind(reader) != "union" or [_kind(w) for w in writer] != [_kind(r) for r in reader]:
        raise UnsupportedSchema("a union read as a different union or as a plain type")
    source.line(depth, "b = body[pos]")
    source.line(depth, "pos += 1")
    for index, (branch, reader_branch) in enumerate(zip(writer, reader, strict=True)):
        # A one-byte zig-zag index: branch i is written as 2 * i.
        source.line(depth, f"{'if' if index == 0 else 'elif'} b == {2 * index}:")
        _value(source, depth + 1, target, pair.nested(branch, reader_branch))
    source.line(depth, "else:")
    source.line(depth + 1, "raise ValueError(f'union branch byte {b}')")


def _array(source: _Source, depth: int, target: str | None, pair: _Pair) -> None:
    items = pair.nested(pair.writer["items"], pair.reader["items"])
    if items.kind == "null":
        raise UnsupportedSchema("arrays of null: a count alone could make any length")
    values, count, item = source.fresh("values"), source.fresh("count"), source.fresh("item")
    source.line(depth, f"{values} = []")
    _long(source, depth, count)
    source.line(depth, f"while {count}:")
    source.line(depth + 1, f"if {count} < 0:  # a block that also gives its size in bytes")
    source.line(depth + 2, f"{count} = -{count}")
    source.line(depth + 2, "_, pos = read_long(body, pos)")
    source.line(depth + 1, f"if {count} > len(body) - pos:")
    source.line(depth + 2, "raise ValueError('array block longer than the body')")
    source.line(depth + 1, f"for _ in range({count}):")
    _value(source, depth + 2, item, items)
    source.line(depth + 2, f"{values}.append({item})")
    _long(source, depth + 1, count)
    if target is not None:
        source.line(depth, f"{target} = {values}")


def _record(source: _Source, depth: int, target: str | None, pair: _Pair) -> None:
    """Writer fields in writer order; the record holds the reader's fields, in its order."""
    reader_fields = {field["name"]: field for field in pair.reader["fields"]}
    values: dict[str, str] = {}
    for field in pair.writer["fields"]:
        wanted = reader_fields.get(field["name"])
        slot = None if wanted is None or target is None else source.fresh("field")
        reader_type = field["type"] if wanted is None else wanted["type"]
        _value(source, depth, slot, pair.nested(field["type"], reader_type))
        if slot is not None:
            values[field["name"]] = slot
    if target is None:
        return
    entries = [
        f"{name!r}: {values[name] if name in values else _default(source, field)}"
        for name, field in reader_fields.items()
    ]
    source.line(depth, f"{target} = {{{', '.join(entries)}}}")


def _default(source: _Source, field: dict[str, Any]) -> str:
    """The expression of a reader field's default (a fresh copy of a list or map)."""
    if "default" not in field:
        raise UnsupportedSchema(f"reader field {field['name']} has no default")
    value = field["default"]
    if field["type"] == "bytes" and isinstance(value, str):
        value = value.encode("latin-1")  # a JSON default of bytes: code points 0-255
    if isinstance(value, list | dict):
        return f"{type(value).__name__}({source.constant(value)})"
    return source.constant(value)
