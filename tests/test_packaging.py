"""The distribution installs one import name; the folders are its subpackages."""

import importlib.metadata
import pkgutil
import re
import tomllib
from pathlib import Path

import bundlestream
import bundlestream.api
import bundlestream.core

ROOT = Path(__file__).resolve().parents[1]


def test_the_distribution_installs_one_import_name() -> None:
    distribution = importlib.metadata.distribution("bundlestream")
    assert (distribution.read_text("top_level.txt") or "").split() == ["bundlestream"]


def test_the_folders_are_subpackages_of_bundlestream() -> None:
    assert bundlestream.api.__name__ == "bundlestream.api"
    assert bundlestream.core.__file__ is not None
    assert bundlestream.core.__file__.endswith("core/__init__.py")


def test_every_module_of_the_package_has_a_layer() -> None:
    """A module outside the layers contract would escape import-linter unnoticed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {name.strip() for layer in layers for name in re.split(r"[|:]", layer)}
    modules = {f"bundlestream.{info.name}" for info in pkgutil.iter_modules(bundlestream.__path__)}
    assert modules <= named, f"not in a layer: {sorted(modules - named)}"
