"""The receipt key file: generated once, 0600, shared by every process that starts."""

import json
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bundlestream.adapters.receipt_key import (
    ReceiptKeyError,
    load_or_create_receipt_key,
    load_receipt_key,
)
from bundlestream.core.jwk import verify_arweave_signature


def test_generated_once_then_loaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "receipt-key.json"
    first = load_or_create_receipt_key(path, 2048)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.key_size == 2048
    assert load_or_create_receipt_key(path, 4096) == first
    assert json.loads(path.read_text())["n"] == first.owner
    signature = first.sign(b"receipt")
    assert verify_arweave_signature(first.owner_bytes, b"receipt", signature)
    assert [p.name for p in path.parent.iterdir()] == ["receipt-key.json"]


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "receipt-key.json"
    with ThreadPoolExecutor(4) as pool:
        keys = list(pool.map(lambda _: load_or_create_receipt_key(path, 2048), range(4)))
    assert all(key == keys[0] for key in keys)


def test_an_existing_key_is_used_as_is(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    key = load_or_create_receipt_key(path, 2048)
    assert load_receipt_key(path).address == key.address


def test_unusable_files_and_sizes_are_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("[1, 2]")
    with pytest.raises(ReceiptKeyError):
        load_or_create_receipt_key(garbage, 2048)
    garbage.write_text('{"kty": "RSA", "n": "AQAB"}')
    with pytest.raises(ReceiptKeyError):
        load_receipt_key(garbage)
    with pytest.raises(ReceiptKeyError):
        load_receipt_key(tmp_path / "missing.json")
    with pytest.raises(ValueError):
        load_or_create_receipt_key(tmp_path / "small.json", 1024)
