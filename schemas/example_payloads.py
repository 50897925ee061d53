"""The example payload kept for every released schema version.

``schemas/examples/<Name>.v<N>.json`` holds one record in the Avro JSON encoding of that
version (unions as ``{"type": value}``, bytes as code points 0-255), so any Avro tool
can read it. Examples of released versions are never deleted: tests prove the current
reader still decodes each of them.
"""

import io
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

from fastavro import json_reader

from bundlestream.schemas.versions import SchemaVersion


def example_record(version: SchemaVersion) -> dict[str, Any]:
    """The example of one schema version, read with that version's schema."""
    text = resources.files("bundlestream.schemas").joinpath("examples", f"{version.file_stem}.json")
    # fastavro's JSON reader takes one record per line; the files are pretty-printed.
    one_line = json.dumps(json.loads(text.read_text("utf-8")))
    records: Iterator[Any] = iter(json_reader(io.StringIO(one_line), version.parsed))
    record: dict[str, Any] = next(records)
    return record
