"""Every ``bundlestream`` command is called as ``run(args, settings)``: a handler with
another signature fails only when someone runs it (``make up`` starting the console)."""

import argparse
import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

from bundlestream.cli import build_parser
from bundlestream.settings import Settings
from tests.api.api_process import eventually, settings_environment
from tests.ports import child_ports


def handlers(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, object]]:
    """(command line, handler) for every parser that sets one, nested ones included."""
    run = parser.get_default("run")
    if run is not None:
        yield path, run
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from handlers(child, f"{path} {name}".strip())


def test_every_command_handler_takes_the_arguments_and_the_settings() -> None:
    found = dict(handlers(build_parser()))
    assert "console" in found and "api" in found and "worker" in found
    for command, run in found.items():
        assert callable(run), command
        parameters = list(inspect.signature(run).parameters)
        assert len(parameters) == 2, f"bundlestream {command}: run{tuple(parameters)}"


async def test_the_console_command_serves_its_login_page(
    settings: Settings, tmp_path: Path
) -> None:
    """``bundlestream console`` as ``make up`` starts it: the supervisor and its server."""
    port = child_ports(1)[0]
    settings = settings.updated(console__port=port)
    log = tmp_path / "console.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bundlestream.cli", "console"],
            env=settings_environment(settings),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )

    def login_answers() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await eventually(login_answers, "the console's login page answers 200")
    finally:
        process.terminate()
        process.wait(timeout=30)
