"""Format-2 transactions: the bundleTxStub fixture, signing round trips, tampering."""

import hashlib
import json
from dataclasses import replace
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.arweave_tx import (
    BUNDLE_TAGS,
    Tag,
    Transaction,
    TransactionFormatError,
    sign_transaction,
    transaction_from_json,
    transaction_to_json,
    verify_transaction,
    verify_transaction_json,
)
from bundlestream.core.encoding import b64url_encode
from bundlestream.core.jwk import ArweaveKey, arweave_key_from_jwk, jwk_from_private_key
from bundlestream.core.merkle import merkle_tree
from tests.conftest import FIXTURES


def stub_json() -> dict[str, object]:
    loaded: dict[str, object] = json.loads((FIXTURES / "bundleTxStub").read_text())
    return loaded


@cache
def wallet() -> ArweaveKey:
    return arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 4096)))


def test_bundle_tx_stub_id_and_signature() -> None:
    tx = transaction_from_json(stub_json())
    assert tx.id == "uMguurlEh9a7MKYiauKGlbxG6OjP2xaGmWa1-vrHVh8" == stub_json()["id"]
    assert verify_transaction(tx)
    assert tx.data_size == 1211
    assert tx.tags[:2] == BUNDLE_TAGS
    assert tx.tags[2] == Tag.text("App-Name", "ArDrive Upload Service Test")


def test_bundle_tx_stub_json_round_trips_exactly() -> None:
    assert transaction_to_json(transaction_from_json(stub_json())) == stub_json()


def test_bundle_tx_stub_commits_to_the_stub_bundle() -> None:
    bundle = (FIXTURES / "bundleHeaderStub").read_bytes()
    bundle += (FIXTURES / "stub1115ByteDataItem").read_bytes()
    tx = transaction_from_json(stub_json())
    assert tx.data_root == merkle_tree(bundle).data_root


@pytest.mark.parametrize(
    "change",
    [
        {"reward": 2379774853},
        {"quantity": 1},
        {"data_size": 1212},
        {"data_root": bytes(32)},
        {"last_tx": bytes(48)},
        {"target": bytes(32)},
        {"tags": ()},
        {"tags": (Tag.text("Bundle-Format", "binary"),)},
    ],
)
def test_any_changed_field_breaks_the_stub_signature(change: dict[str, object]) -> None:
    tx = transaction_from_json(stub_json())
    assert not verify_transaction(replace(tx, **change))  # type: ignore[arg-type]


def a_bundle_transaction() -> Transaction:
    tree = merkle_tree(b"bundle bytes" * 1000)
    unsigned = Transaction(
        owner=b"",
        last_tx=bytes(range(48)),
        reward=123_456,
        data_size=tree.data_size,
        data_root=tree.data_root,
        tags=(*BUNDLE_TAGS, Tag.text("App-Name", "bundlestream")),
    )
    return sign_transaction(unsigned, wallet())


def test_sign_round_trip() -> None:
    tx = a_bundle_transaction()
    assert tx.owner == wallet().owner_bytes and len(tx.signature) == 512
    assert verify_transaction(tx)
    posted = transaction_to_json(tx)
    assert posted["data"] == "" and posted["owner"] == wallet().owner
    assert posted["id"] == b64url_encode(hashlib.sha256(tx.signature).digest())
    assert transaction_from_json(posted) == tx


def test_signed_by_someone_else_fails() -> None:
    tx = a_bundle_transaction()
    other = arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 2048)))
    assert not verify_transaction(replace(tx, owner=other.owner_bytes))


@pytest.mark.parametrize(
    "change",
    [
        {"format": 1},
        {"reward": "007"},
        {"reward": 7},
        {"quantity": "-1"},
        {"owner": "not base64!"},
        {"tags": [{"name": "QQ"}]},
        {"tags": "QQ"},
    ],
)
def test_malformed_json_is_rejected(change: dict[str, object]) -> None:
    with pytest.raises(TransactionFormatError):
        transaction_from_json({**stub_json(), **change})


def test_json_verification_checks_the_id_too() -> None:
    assert verify_transaction_json(stub_json())
    assert not verify_transaction_json({**stub_json(), "id": "A" * 43})
    assert not verify_transaction_json({**stub_json(), "reward": "1"})
    assert not verify_transaction_json({**stub_json(), "format": 1})
