"""``bundlestream item inspect`` and ``bundle inspect`` on the conformance vectors."""

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.cli import main
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.bundle_writer import bundle_bytes
from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from tests.conftest import FIXTURES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(list(argv))
    return status, json.loads(capsys.readouterr().out)


def test_item_inspect_prints_the_fields(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run(capsys, "item", "inspect", str(FIXTURES / "stubEthereumDataItem"))
    assert status == 0
    assert report == {
        "id": "7j-sF0lsslGVZ8lhEGXe5CtueB4iRYM3_oZ9m4GY_40",
        "signatureType": 3,
        "owner": "xsi06LVwuRe2SaNFo0Yc1UtF3GSyi-GtzUtTkjLXrEw",
        "nativeAddress": "0xA2355A969Ce55C70C76E4c76E6D6a5E63A4d63C3",
        "target": "1234567890123456789012345678901234567890abc",
        "anchor": "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY",
        "tags": [{"name": "Content-Type", "value": "text/plain", "encoding": "utf-8"}],
        "payloadStart": 240,
        "payloadSize": 5,
        "valid": True,
    }


def test_item_inspect_reports_a_bad_signature(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run(capsys, "item", "inspect", str(FIXTURES / "stubInvalidDataItem"))
    assert status == 1
    assert report["id"] == "7k5uy7r1kNW6Yts4syoliHhiTGdCFMC_XI56bn2MzPE"
    assert (report["valid"], report["rule"]) == (False, "signature")
    assert "does not verify" in report["error"]


def test_item_inspect_reports_a_parse_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run(capsys, "item", "inspect", str(FIXTURES / "bundleTxStub"))
    assert status == 1
    assert report["rule"] == "signature-type" and "id" not in report


def test_non_utf8_tags_are_base64url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    item = sign_data_item(
        Ed25519Signer(Ed25519PrivateKey.generate()), b"", tags=[Tag(b"\xff", b"v")]
    )
    (tmp_path / "item").write_bytes(item)
    _, report = run(capsys, "item", "inspect", str(tmp_path / "item"))
    assert report["tags"] == [{"name": "_w", "value": "dg", "encoding": "base64url"}]


def test_bundle_inspect_lists_nested_items_with_offsets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    bundle.write_bytes(bundle_bytes([(FIXTURES / "bdiDataItemWithTwoNestedItems").read_bytes()]))
    status, report = run(capsys, "bundle", "inspect", str(bundle))
    assert status == 0 and report["valid"]
    rows = [
        (
            item["id"][:6],
            item["offset"],
            item["size"],
            item["payloadStart"],
            item["parentId"] and item["parentId"][:6],
            item["offsetInParentPayload"],
        )
        for item in report["items"]
    ]
    assert rows == [
        ("3yKDnH", 96, 13696, 1126, None, None),
        ("FMI1l5", 1382, 6205, 1085, "3yKDnH", 160),
        ("WF2h3S", 7587, 6205, 1085, "3yKDnH", 6365),
    ]


def test_bundle_inspect_of_a_truncated_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run(capsys, "bundle", "inspect", str(FIXTURES / "bundleHeaderStub"))
    assert status == 1
    assert (report["valid"], report["rule"]) == (False, "bundle-truncated")


def test_item_inspect_of_a_bundled_data_item_lists_its_nested_items(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, report = run(capsys, "item", "inspect", str(FIXTURES / "bdiDataItem"))
    assert status == 0
    assert report["id"] == "EWMpMP0DvN6sgn5ZtJ3emd47eMF8fsfpXGS5him5vJQ"
    [nested] = report["nestedItems"]
    assert nested["id"] == "e11DV0VmlAZtRFphzlphDBcP6XP4oHVyHuZFeQP9KF0"
    assert (nested["offset"], nested["offsetInParentPayload"], nested["size"]) == (1222, 96, 6205)
    assert nested["parentId"] == report["id"] and nested["valid"]
