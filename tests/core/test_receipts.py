"""Turbo receipts (version 0.2.0): an upstream vector, round trips and tamper detection."""

from functools import cache

from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.encoding import b64url_decode, b64url_encode
from bundlestream.core.jwk import ArweaveKey, arweave_key_from_jwk, jwk_from_private_key
from bundlestream.core.receipts import RECEIPT_VERSION, sign_receipt, verify_receipt

# A receipt signed by Turbo's own test (turbo-upload-service src/utils/signReceipt.test.ts):
# public data only, it shows our message construction is Turbo's.
TURBO_RECEIPT: dict[str, object] = {
    "id": "QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o",
    "deadlineHeight": 1310000,
    "timestamp": 1700590909589,
    "version": "0.1.0",
    "dataCaches": ["arweave.net"],
    "fastFinalityIndexes": ["arweave.net"],
    "winc": "0",
    "signature": (
        "Lcfe5H7ACKjduuVc3OrZ0gFeILGKuSjnZ6wXq0p5mCcoma2xoqeCUASg1JqAgDA-5o3adzqzXV1uiE6uIEKVXbuL"
        "CN6zFLS6qLvtzC8wNquBV1OqVylWhkavXQ-JZY8zJQQoemA_UKLe_HQpyyHc16GkD-uUZaXj3MpF4oSBiWcmOPHV"
        "c0WVN3PTFRmWOZGmtwNiGEyPpelhrVW8q5n8r5ve6Ao2snJOIVG4QpDVzBDoU1TBnolEGNyq60XQhQsW8Ck8g7Kc"
        "YwJj3jFKIujzZeC-ba8oVPac1_HI0roaMxJPGr3fKqoh1w5XHrTwkFoWX0JQWaB5LfhEl1PfyC-UEkix0Pir2z8D"
        "9D0FtVD60JUQAVx2sGBIy5KgfGBWPtZY5qyhh7BsQn-dtP9zL07f2f68oDa9vlf0IZokmr7Ad_psmLY5-LZ1QWXp"
        "qU5H8eB9cpSRAEyOv8OeFohHYPntpdmcveeAr8l2sQwvI3fn3FZ9cFNz8b7oxCU1mBSUeqJW3d6qWi8bqPyf_xSf"
        "KcIOGX7RFXn563567RjJD_pWRA63vUDw2fMt05QywNZG12igLZ_lrX-rFygYQkN68_zQgIyLS9eaXI6ZYa_RKAp4"
        "sUgpjlc8WAr2H3dxUMeeeVitfusQjhOmNwyh8GqjfCsRUJIrWiNenCuep5PIDGIgGxw"
    ),
    "public": (
        "qREovbmD6oxgHYNCzOeTei07lSz0-YLcjnvgSDzqptsCiqNOtB3RKUToSX5hkPD45fJDY4057XkkcsQRuGsU8y9r"
        "gm37i-Kiyd5Z_iy6pJXrwi9XnAgGL118lIV790GZ7xe5o3DvPV3Px74C0ABsfL9lW86D4t_qClJ6wSQksKNd7rnU"
        "ImIvHW0vxLswST7dfUngevzKt4kv48VTub4951XdUHjb45Uurf7xFYSCizAGtGqr5GYDFrVk-mNrzFH5bXt06PJf"
        "xe9E5ujIE5Uq1Az6vqEOO0E1mWmXqdTPluAxcjmgktkoNLHZnnU-BsYuFaTWW5NU3aS-RgJKXYs9O6Dc1-2SITl-"
        "H_wtdGNSj31fj72UkaAbkpA1mionK-8bOIkSpYgKCyTC42oHh1Fw4SLXPyLxBj1w6F32LSLjpse5dmKymj4fJPez"
        "CMdi709uIiVT7XOm4LZBCzFOxS6-UNxgE57dBFpcWkcqNO3p00biYqH5d5bzvK3bwd-4j0KyKlqPYTProSnd3P6R"
        "OZuuJaLoLD_Or5-L_dUjawHz-DFlzmckYaf8l3XdzPM4JSsE8CEDZl0NCN0AidXt_wjbr6k9JsO7cnLB226AjxhcyuxZ"
        "OlhgkIn7EbxpVXx-O2mXkcXF8PixCP0k5brtriLeF1MAdspgd_S-LKQeGVr7-mk"
    ),
}


def with_a_changed_byte(value: object) -> str:
    """``value`` (base64url) with its first byte changed to a different byte, whatever it was.

    Replacing a character with a fixed one is no change when the value already had it
    (one random signature in 64 starts with "A").
    """
    raw = bytearray(b64url_decode(str(value)))
    raw[0] ^= 0x01
    return b64url_encode(bytes(raw))


@cache
def service_key() -> ArweaveKey:
    return arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 2048)))


def a_receipt() -> dict[str, object]:
    return sign_receipt(
        service_key(),
        id="QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o",
        deadline_height=1_310_200,
        timestamp=1_700_590_909_589,
        winc="1234",
        data_caches=["arweave.net"],
        fast_finality_indexes=["arweave.net"],
        owner="J40R1BgFSI1_7p25QW49T7P46BePJJnlDrsFGY1YWbM",
    )


def test_turbo_signed_receipt_verifies() -> None:
    assert verify_receipt(TURBO_RECEIPT)


def test_turbo_receipt_with_a_changed_signed_field_fails() -> None:
    for name, value in [
        ("timestamp", 1700590909590),
        ("deadlineHeight", 1310001),
        ("version", "0.2.0"),
        ("id", with_a_changed_byte(TURBO_RECEIPT["id"])),
    ]:
        assert not verify_receipt({**TURBO_RECEIPT, name: value}), name


def test_signed_receipt_has_the_turbo_shape() -> None:
    receipt = a_receipt()
    assert set(receipt) == {
        "id",
        "timestamp",
        "winc",
        "version",
        "deadlineHeight",
        "dataCaches",
        "fastFinalityIndexes",
        "public",
        "signature",
        "owner",
    }
    assert receipt["version"] == RECEIPT_VERSION == "0.2.0"
    assert receipt["public"] == service_key().owner


def test_round_trip_and_determinism() -> None:
    # Salt length 0 makes the signature a function of the key and the message.
    assert verify_receipt(a_receipt())
    assert a_receipt()["signature"] == a_receipt()["signature"]


def test_tampered_receipts_fail() -> None:
    receipt = a_receipt()
    other_key = arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, 2048)))
    tampered: list[dict[str, object]] = [
        {**receipt, "deadlineHeight": 1_310_201},
        {**receipt, "timestamp": 1_700_590_909_588},
        {**receipt, "id": with_a_changed_byte(receipt["id"])},
        {**receipt, "public": other_key.owner},
        {**receipt, "signature": with_a_changed_byte(receipt["signature"])},
    ]
    for bad in tampered:
        assert bad != receipt
        assert not verify_receipt(bad), bad


def test_malformed_receipts_are_invalid_not_errors() -> None:
    receipt = a_receipt()
    malformed: list[dict[str, object]] = [
        {k: v for k, v in receipt.items() if k != "signature"},
        {**receipt, "deadlineHeight": "1310200"},
        {**receipt, "timestamp": True},
        {**receipt, "signature": "not base64url!"},
        {**receipt, "public": ""},
        {**receipt, "signature": ""},
    ]
    for bad in malformed:
        assert not verify_receipt(bad), bad
