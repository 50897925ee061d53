"""The distribution installs one import name; the folders are its subpackages."""

import importlib.metadata

import bundlestream.api
import bundlestream.core


def test_the_distribution_installs_one_import_name() -> None:
    distribution = importlib.metadata.distribution("bundlestream")
    assert (distribution.read_text("top_level.txt") or "").split() == ["bundlestream"]


def test_the_folders_are_subpackages_of_bundlestream() -> None:
    assert bundlestream.api.__name__ == "bundlestream.api"
    assert bundlestream.core.__file__ is not None
    assert bundlestream.core.__file__.endswith("core/__init__.py")
