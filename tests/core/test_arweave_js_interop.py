"""arweave-js 1.15.7 (stack/node/node_modules) checks our receipts and transactions, and we
check a transaction arweave-js signs. Fails, never skips, when the node packages are missing.
"""

import hashlib
import json
import random
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.arweave_tx import (
    BUNDLE_TAGS,
    Tag,
    Transaction,
    sign_transaction,
    transaction_from_json,
    transaction_to_json,
    verify_transaction,
)
from bundlestream.core.encoding import b64url_encode
from bundlestream.core.jwk import ArweaveKey, arweave_key_from_jwk, jwk_from_private_key
from bundlestream.core.merkle import MAX_CHUNK_SIZE, chunk_upload, merkle_tree, uploaded_chunk_spans
from bundlestream.core.receipts import sign_receipt
from tests.conftest import FIXTURES

pytestmark = pytest.mark.node

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "stack" / "node" / "node_modules"
SCRIPT = REPO / "tests" / "node" / "arweave_interop.cjs"


def ask_arweave_js(request: Mapping[str, object]) -> dict[str, object]:
    if not (NODE_MODULES / "arweave" / "package.json").exists():
        pytest.fail(f"arweave is not installed under {NODE_MODULES}: run npm ci in stack/node")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH")
    completed = subprocess.run(
        [node, str(SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env={"NODE_PATH": str(NODE_MODULES), "PATH": str(Path(node).parent)},
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    answer: dict[str, object] = json.loads(completed.stdout)
    return answer


@cache
def wallet() -> ArweaveKey:
    return arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 4096)))


def a_receipt(key: ArweaveKey, timestamp: int) -> dict[str, object]:
    return sign_receipt(
        key,
        id="QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o",
        deadline_height=1_310_200,
        timestamp=timestamp,
        winc="0",
        data_caches=["arweave.net"],
        fast_finality_indexes=["arweave.net"],
        owner="J40R1BgFSI1_7p25QW49T7P46BePJJnlDrsFGY1YWbM",
    )


def test_arweave_js_verifies_our_receipts() -> None:
    good = a_receipt(wallet(), 1_700_590_909_589)
    forged = {**good, "timestamp": 1_700_590_909_590}
    assert ask_arweave_js({"receipts": [good, forged]})["receipts"] == [True, False]


def test_arweave_js_verifies_our_transactions() -> None:
    data = bytes(range(256)) * 2000
    tree = merkle_tree(data)
    unsigned = Transaction(
        owner=b"",
        last_tx=hashlib.sha384(b"anchor").digest(),
        reward=2_379_774_852,
        data_size=tree.data_size,
        data_root=tree.data_root,
        tags=(*BUNDLE_TAGS, Tag.text("App-Name", "bundlestream")),
    )
    signed = sign_transaction(unsigned, wallet())
    tampered = replace(signed, reward=signed.reward + 1)
    stub = json.loads((FIXTURES / "bundleTxStub").read_text())
    request = {"transactions": [transaction_to_json(tx) for tx in (signed, tampered)] + [stub]}
    assert ask_arweave_js(request)["transactions"] == [True, False, True]


def test_arweave_js_validates_our_chunk_proofs() -> None:
    data = random.Random(3).randbytes(5 * MAX_CHUNK_SIZE + 1000)  # last two chunks halved
    tree = merkle_tree(data)
    spans = uploaded_chunk_spans(len(data))
    bodies = [chunk_upload(tree, i, data[s.start : s.end]).to_json() for i, s in enumerate(spans)]
    wrong_chunk = {**bodies[1], "chunk": bodies[2]["chunk"]}
    wrong_offset = {**bodies[1], "offset": bodies[3]["offset"]}
    answer = ask_arweave_js({"chunks": [*bodies, wrong_chunk, wrong_offset]})
    assert answer["chunks"] == [True] * len(spans) + [False, False]


def test_we_verify_a_transaction_arweave_js_signed() -> None:
    data = bytes(range(256)) * 1500
    sign = {
        "jwk": wallet().jwk,
        "data": b64url_encode(data),
        "last_tx": b64url_encode(hashlib.sha384(b"anchor").digest()),
        "reward": "1000",
        "tags": [["Bundle-Format", "binary"], ["Bundle-Version", "2.0.0"]],
    }
    signed = ask_arweave_js({"sign": sign})["signed"]
    assert isinstance(signed, dict)
    tx = transaction_from_json(signed)
    assert verify_transaction(tx)
    assert tx.id == signed["id"]
    assert tx.data_root == merkle_tree(data).data_root
    assert tx.tags == BUNDLE_TAGS
