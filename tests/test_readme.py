"""The README opens with the two set-up commands and lists every setting with its default,
under the heading of its group; every variable it lists sets its field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal, get_args, get_origin

import pytest
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from bundlestream.settings import Settings, variables

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `(?P<env>BUNDLESTREAM_[A-Z0-9_]+)` \| `(?P<default>[^`]*)` \| .+ \|$")
HEADING = re.compile(r"^#### .*\(`settings\.(?P<group>\w+)`\)")


def default_text(value: object) -> str:
    """How the README shows a default: as one would write it in the environment."""
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, Path):
        return str(value).replace(str(Path.home()), "~", 1)
    return '""' if value == "" else str(value)


def documented() -> dict[str, tuple[str, str]]:
    """Each documented variable: the group whose heading it is under, and its default."""
    text = README.read_text()
    table = text.split("<!-- settings:begin -->")[1].split("<!-- settings:end -->")[0]
    rows, group = {}, ""
    for line in table.splitlines():
        if heading := HEADING.match(line):
            group = heading["group"]
        elif row := ROW.match(line):
            rows[row["env"]] = (group, row["default"])
    return rows


def field_of(env: str) -> FieldInfo:
    group, name = variables()[env]
    model = Settings.model_fields[group].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model.model_fields[name]


def code() -> dict[str, tuple[str, str]]:
    return {
        env: (group, default_text(field_of(env).get_default(call_default_factory=True)))
        for env, (group, _) in variables().items()
    }


def other_text(field: FieldInfo) -> str:
    """An environment value for ``field`` that is not its default."""
    default, annotation = field.get_default(call_default_factory=True), field.annotation
    if get_origin(annotation) is Literal:
        return str(next(choice for choice in get_args(annotation) if choice != default))
    if isinstance(default, bool):
        return str(not default)
    if isinstance(default, int | float):
        return str(default + 1)
    if isinstance(default, SecretStr):
        return default.get_secret_value() + "-other"
    if isinstance(default, str):
        return default + "-other"
    if isinstance(default, list):
        return json.dumps(["other.example"])
    if annotation == int | None:
        return "2"
    if annotation == dict[str, str]:
        return json.dumps({"ario": "other-address"})
    if isinstance(default, dict):
        return json.dumps({"arweave": {"usd": 1.5}})
    return "/elsewhere/other"  # a path, or an optional path or secret


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.read_text().split("```")[1]
    assert first_block.split() == ["sh", "make", "run", "make", "test"]


def test_every_setting_is_documented_under_its_group_with_its_default() -> None:
    rows, actual = documented(), code()
    missing = [
        f"{group}: | `{env}` | `{default}` | ... |"
        for env, (group, default) in actual.items()
        if rows.get(env) != (group, default)
    ]
    assert not missing, "README settings table needs these rows:\n" + "\n".join(missing)
    assert set(rows) <= set(actual), f"no such settings: {set(rows) - set(actual)}"


@pytest.mark.parametrize("env", sorted(documented()))
def test_every_documented_variable_sets_its_field(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = other_text(field_of(env))
    assert text != Settings().environment()[env]
    monkeypatch.setenv(env, text)
    assert Settings().environment()[env] == text


def test_no_secret_is_shown_by_repr_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "BUNDLESTREAM_POSTGRES_DSN": "postgresql://bs:pg-secret@db/bs",
        "BUNDLESTREAM_REDIS_URL": "redis://:redis-secret@cache:6379/0",
        "BUNDLESTREAM_S3_SECRET_KEY": "s3-secret",
        "BUNDLESTREAM_COINGECKO_API_KEY": "cg-secret",
    }
    for env, value in secrets.items():
        monkeypatch.setenv(env, value)
    settings = Settings()
    shown = repr(settings) + str(settings) + str(settings.model_dump()) + settings.model_dump_json()
    assert [s for s in secrets.values() if s in shown] == []
    assert {env: settings.environment()[env] for env in secrets} == secrets
