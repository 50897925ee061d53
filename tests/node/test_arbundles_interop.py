"""Interop with arbundles 0.11.2, the reference ANS-104 implementation, driven through node.

arbundles makes items of all seven signature types, which our parser must verify; our
signers and bundle writer make items and bundles, which arbundles must verify. The node
packages are the stack's (stack/node/node_modules); without them this test fails.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import coincurve
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.core.ans104 import Tag, parse_data_item
from bundlestream.core.ans104.bundle_reader import read_bundle
from bundlestream.core.ans104.bundle_writer import bundle_bytes
from bundlestream.core.ans104.signing import (
    ArweaveSigner,
    DataItemSigner,
    Ed25519Signer,
    EthereumSigner,
    MultiAptosSigner,
    TypedEthereumSigner,
    sign_data_item,
)
from bundlestream.core.encoding import b64url_encode
from bundlestream.core.jwk import arweave_key_from_jwk, jwk_from_private_key

pytestmark = pytest.mark.node

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE.parents[1] / "stack" / "node" / "node_modules"
ARBUNDLES_VERSION = "0.11.2"
NESTED_TAGS = [Tag(b"Bundle-Format", b"binary"), Tag(b"Bundle-Version", b"2.0.0")]


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    package = NODE_MODULES / "arbundles" / "package.json"
    if shutil.which("node") is None:
        pytest.fail("node is not installed: the arbundles interop test needs it")
    if not package.is_file():
        pytest.fail(f"arbundles missing: expected {package} (install the stack's node packages)")
    version = json.loads(package.read_text())["version"]
    assert version == ARBUNDLES_VERSION, f"stack has arbundles {version}"
    return {**os.environ, "NODE_PATH": str(NODE_MODULES)}


def run_node(env: dict[str, str], script: str, *args: str) -> str:
    done = subprocess.run(
        ["node", str(HERE / script), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def arbundles_verdicts(env: dict[str, str], *targets: str) -> list[dict[str, Any]]:
    output = run_node(env, "arbundles_verify.cjs", *targets)
    return [json.loads(line) for line in output.splitlines()]


@pytest.fixture(scope="module")
def signers() -> dict[int, DataItemSigner]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ed, eth = Ed25519PrivateKey.generate(), coincurve.PrivateKey()
    aptos = [Ed25519PrivateKey.generate() for _ in range(4)]
    return {
        1: ArweaveSigner(arweave_key_from_jwk(jwk_from_private_key(rsa_key))),
        2: Ed25519Signer(ed),
        3: EthereumSigner(eth),
        4: Ed25519Signer(ed, signature_type=4),
        5: Ed25519Signer(ed, signature_type=5),
        6: MultiAptosSigner(aptos, threshold=2, signing=[1, 3]),
        7: TypedEthereumSigner(eth),
    }


def optional_b64url(value: bytes | None) -> str | None:
    return None if value is None else b64url_encode(value)


def test_items_and_bundles_of_every_type_made_by_arbundles_verify_here(
    node_env: dict[str, str], tmp_path: Path
) -> None:
    run_node(node_env, "arbundles_make_items.cjs", str(tmp_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted({entry["signatureType"] for entry in manifest}) == [1, 2, 3, 4, 5, 6, 7]
    assert len(manifest) == 14
    for entry in manifest:
        assert entry["arbundlesValid"], entry["file"]
        item = parse_data_item((tmp_path / entry["file"]).read_bytes())
        header = item.header
        assert (header.id, header.signature_type) == (entry["id"], entry["signatureType"])
        assert b64url_encode(header.owner) == entry["owner"]
        assert optional_b64url(header.target) == entry["target"]
        assert optional_b64url(header.anchor) == entry["anchor"]
        tags = [{"name": t.name.decode(), "value": t.value.decode()} for t in header.tags]
        assert tags == entry["tags"]
        assert item.payload_size == entry["payloadSize"]
    bundle_ids = json.loads((tmp_path / "bundle.json").read_text())["ids"]
    read = list(read_bundle([(tmp_path / "arbundles.bundle").read_bytes()]))
    assert [item.entry.id for item in read] == bundle_ids == [e["id"] for e in manifest]
    assert all(item.valid for item in read)


def test_items_of_every_type_made_here_verify_in_arbundles(
    node_env: dict[str, str], signers: dict[int, DataItemSigner], tmp_path: Path
) -> None:
    targets, expected = [], []
    for signature_type, signer in signers.items():
        for variant, options in {
            "bare": {},
            "full": {
                "tags": [Tag(b"Content-Type", b"text/plain"), Tag("ünï".encode(), b"")],
                "target": bytes(range(32)),
                "anchor": b"0123456789abcdef0123456789abcdef",
            },
        }.items():
            data = sign_data_item(signer, b"payload" * 50, **options)  # type: ignore[arg-type]
            path = tmp_path / f"type{signature_type}-{variant}.bin"
            path.write_bytes(data)
            targets.append(f"item:{path}")
            expected.append((parse_data_item(data).id, signature_type, True))
    tampered = bytearray(sign_data_item(signers[3], b"payload"))
    tampered[-1] ^= 1
    (tmp_path / "tampered.bin").write_bytes(tampered)
    targets.append(f"item:{tmp_path / 'tampered.bin'}")
    expected.append((parse_data_item(bytes(tampered), verify=False).id, 3, False))
    verdicts = arbundles_verdicts(node_env, *targets)
    assert [(v["id"], v["signatureType"], v["valid"]) for v in verdicts] == expected


def test_bundles_written_here_verify_in_arbundles(
    node_env: dict[str, str], signers: dict[int, DataItemSigner], tmp_path: Path
) -> None:
    items = [sign_data_item(signer, b"in a bundle") for signer in signers.values()]
    nested = sign_data_item(signers[1], bundle_bytes(items[:3]), tags=NESTED_TAGS)
    outer = [*items, nested]
    (tmp_path / "outer.bundle").write_bytes(bundle_bytes(outer))
    (tmp_path / "nested.bundle").write_bytes(bundle_bytes(items[:3]))
    verdicts = arbundles_verdicts(
        node_env, f"bundle:{tmp_path / 'outer.bundle'}", f"bundle:{tmp_path / 'nested.bundle'}"
    )
    assert verdicts[0]["valid"] and verdicts[1]["valid"]
    assert verdicts[0]["ids"] == [parse_data_item(item).id for item in outer]
    assert all(item["valid"] for item in verdicts[0]["items"])
    assert verdicts[1]["ids"] == [parse_data_item(item).id for item in items[:3]]
