"""The README opens with the two set-up commands and lists every setting with its default."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bundlestream.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `BUNDLESTREAM_(?P<name>[A-Z0-9_]+)` \| `(?P<default>[^`]*)` \| .+ \|$")


def default_text(value: object) -> str:
    """How the README shows a default: as one would write it in the environment."""
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, Path):
        return str(value).replace(str(Path.home()), "~", 1)
    return '""' if value == "" else str(value)


def documented_defaults() -> dict[str, str]:
    text = README.read_text()
    table = text.split("<!-- settings:begin -->")[1].split("<!-- settings:end -->")[0]
    rows = (ROW.match(line) for line in table.splitlines() if line.startswith("| `"))
    return {m["name"].lower(): m["default"] for m in rows if m is not None}


def code_defaults() -> dict[str, str]:
    return {
        name: default_text(field.get_default(call_default_factory=True))
        for name, field in Settings.model_fields.items()
    }


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.read_text().split("```")[1]
    assert first_block.split() == ["sh", "make", "run", "make", "test"]


def test_every_setting_is_documented_with_its_default() -> None:
    documented, actual = documented_defaults(), code_defaults()
    missing = [
        f"| `BUNDLESTREAM_{name.upper()}` | `{default}` | ... |"
        for name, default in actual.items()
        if documented.get(name) != default
    ]
    assert not missing, "README settings table needs these rows:\n" + "\n".join(missing)
    assert set(documented) <= set(actual), f"no such settings: {set(documented) - set(actual)}"
