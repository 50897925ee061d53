"""Every released schema version, loaded from ``schemas/avro/<Name>.v<N>.avsc``.

Evolution rule: a new version of an event only adds fields with defaults, so the newest
version can read every older one (Avro schema resolution). Anything else is a new event
name. Released files never change and are never deleted: events written with them stay
in the log forever.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

_FILE_NAME = re.compile(r"^(?P<name>[A-Za-z]+)\.v(?P<version>[1-9][0-9]*)\.avsc$")


@dataclass(frozen=True)
class SchemaVersion:
    """One released version of one event's Avro schema.

    ``fingerprint`` is the 8-byte CRC-64-AVRO fingerprint of the schema's Parsing
    Canonical Form, little-endian, exactly as Avro single-object encoding writes it.
    """

    name: str
    version: int
    parsed: Any  # fastavro's parsed schema: opaque, handed back to fastavro
    fingerprint: bytes

    @property
    def file_stem(self) -> str:
        """``<Name>.v<N>``: the schema file and its example share this stem."""
        return f"{self.name}.v{self.version}"


def _load(name: str, version: int, text: str) -> SchemaVersion:
    declared = json.loads(text)
    if declared.get("name") != name:
        raise ValueError(f"{name}.v{version}.avsc declares record {declared.get('name')!r}")
    # A fresh named-type table per file: nested records (PlannedItem) are declared in
    # several files and in several versions of one file.
    parsed = parse_schema(declared, named_schemas={})
    canonical = to_parsing_canonical_form(parsed)
    # fastavro prints the CRC-64-AVRO value as little-endian hex, the byte order the
    # single-object encoding header uses.
    return SchemaVersion(
        name, version, parsed, bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    )


@cache
def all_versions() -> tuple[SchemaVersion, ...]:
    """Every schema version shipped with the package, ordered by name then version."""
    found = []
    for entry in resources.files("bundlestream.schemas").joinpath("avro").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        found.append(_load(match["name"], int(match["version"]), entry.read_text("utf-8")))
    return tuple(sorted(found, key=lambda v: (v.name, v.version)))


@cache
def by_fingerprint() -> dict[bytes, SchemaVersion]:
    """Fingerprint → schema version; refuses two versions with one fingerprint."""
    table: dict[bytes, SchemaVersion] = {}
    for version in all_versions():
        clash = table.setdefault(version.fingerprint, version)
        if clash is not version:
            raise ValueError(f"{clash.file_stem} and {version.file_stem} share a fingerprint")
    return table


@cache
def latest() -> dict[str, SchemaVersion]:
    """Event name → its newest version: the writer of new events and reader of old ones."""
    return {version.name: version for version in all_versions()}


def evolution_problems(older: dict[str, Any], newer: dict[str, Any]) -> list[str]:
    """Why ``newer`` is not a legal next version of ``older`` (empty when it is).

    Legal means: same record name, every old field kept with the same type, and every
    added field has a default, so the newer schema reads everything the older wrote.
    """
    problems = [] if older["name"] == newer["name"] else ["record renamed: a new event name"]
    old_fields = {f["name"]: f for f in older["fields"]}
    new_fields = {f["name"]: f for f in newer["fields"]}
    for name, field in old_fields.items():
        if name not in new_fields:
            problems.append(f"field {name} removed")
        elif new_fields[name]["type"] != field["type"]:
            problems.append(f"field {name} changed type")
    problems += [
        f"field {name} added without a default"
        for name, field in new_fields.items()
        if name not in old_fields and "default" not in field
    ]
    return problems


def declared_schema(version: SchemaVersion) -> dict[str, Any]:
    """The schema file of a version as written (docs and defaults included)."""
    path = resources.files("bundlestream.schemas").joinpath("avro", f"{version.file_stem}.avsc")
    declared: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return declared
