"""Arweave wallet keys: RSA JWKs, signing and verification as arweave-js does them.

An Arweave wallet is an RSA key stored as a JWK (RFC 7517/7518: kty, n, e, d, p, q, dp,
dq, qi, each an unpadded base64url big-endian integer). Its *owner* is the modulus ``n``;
its *address* is base64url(SHA-256(n bytes)). Signatures are RSA-PSS with SHA-256 and
MGF1-SHA-256; arweave-js (node driver) signs with the maximum salt length and verifiers
accept any salt length, so we sign with the maximum and verify with auto-detection.

Key generation draws randomness and is therefore an edge concern: the edge generates an
``rsa.RSAPrivateKey`` and serialises it with :func:`jwk_from_private_key`.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bundlestream.core.encoding import EncodingError, b64url_decode, b64url_encode

# Arweave fixes the public exponent: owners carry only the modulus.
PUBLIC_EXPONENT = 65537

JWK_FIELDS = ("kty", "n", "e", "d", "p", "q", "dp", "dq", "qi")


class InvalidKeyError(ValueError):
    """A JWK is not a usable Arweave RSA private key."""


def _int_from_b64url(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


def _b64url_from_int(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def owner_address(owner_n: bytes) -> str:
    """The Arweave address of an owner: base64url(SHA-256(modulus bytes))."""
    return b64url_encode(hashlib.sha256(owner_n).digest())


def _private_key_from_jwk(jwk: Mapping[str, str]) -> rsa.RSAPrivateKey:
    try:
        numbers = rsa.RSAPrivateNumbers(
            p=_int_from_b64url(jwk["p"]),
            q=_int_from_b64url(jwk["q"]),
            d=_int_from_b64url(jwk["d"]),
            dmp1=_int_from_b64url(jwk["dp"]),
            dmq1=_int_from_b64url(jwk["dq"]),
            iqmp=_int_from_b64url(jwk["qi"]),
            public_numbers=rsa.RSAPublicNumbers(
                _int_from_b64url(jwk["e"]), _int_from_b64url(jwk["n"])
            ),
        )
        return numbers.private_key()
    except (KeyError, EncodingError, ValueError) as exc:
        raise InvalidKeyError(f"not an RSA private JWK: {exc}") from exc


def _pss_for_signing(salt_length: int | None) -> padding.PSS:
    salt = padding.PSS.MAX_LENGTH if salt_length is None else salt_length
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)


def _pss_for_verifying() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


@dataclass(frozen=True)
class ArweaveKey:
    """An Arweave wallet: the JWK as wallets store it, loaded once for signing."""

    jwk: dict[str, str]
    _private_key: rsa.RSAPrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_private_key", _private_key_from_jwk(self.jwk))

    @property
    def owner(self) -> str:
        """The owner as Arweave transmits it: the JWK modulus ``n``, base64url."""
        return self.jwk["n"]

    @property
    def owner_bytes(self) -> bytes:
        """The modulus as big-endian bytes (512 bytes for a 4096-bit wallet)."""
        return b64url_decode(self.jwk["n"])

    @property
    def address(self) -> str:
        """The wallet address: base64url(SHA-256(n bytes))."""
        return owner_address(self.owner_bytes)

    @property
    def key_size(self) -> int:
        """The modulus length in bits."""
        return self._private_key.key_size

    def sign(self, message: bytes, *, salt_length: int | None = None) -> bytes:
        """RSA-PSS SHA-256 signature of ``message``, as arweave-js ``crypto.sign``.

        The salt is as long as the key allows unless ``salt_length`` is given (Turbo
        receipts are signed with ``salt_length=0``, which makes them deterministic).
        """
        pss = _pss_for_signing(salt_length)
        return self._private_key.sign(message, pss, hashes.SHA256())


def arweave_key_from_jwk(jwk: Mapping[str, str]) -> ArweaveKey:
    """Load a wallet JWK; raise :class:`InvalidKeyError` if it is not an RSA private key."""
    if jwk.get("kty") != "RSA":
        raise InvalidKeyError(f"kty must be RSA, got {jwk.get('kty')!r}")
    return ArweaveKey({name: str(jwk[name]) for name in JWK_FIELDS if name in jwk})


def jwk_from_private_key(key: rsa.RSAPrivateKey) -> dict[str, str]:
    """Serialise an RSA private key as an Arweave wallet JWK."""
    private = key.private_numbers()
    return {
        "kty": "RSA",
        "n": _b64url_from_int(private.public_numbers.n),
        "e": _b64url_from_int(private.public_numbers.e),
        "d": _b64url_from_int(private.d),
        "p": _b64url_from_int(private.p),
        "q": _b64url_from_int(private.q),
        "dp": _b64url_from_int(private.dmp1),
        "dq": _b64url_from_int(private.dmq1),
        "qi": _b64url_from_int(private.iqmp),
    }


def verify_arweave_signature(owner_n: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is an RSA-PSS SHA-256 signature of ``message`` by ``owner_n``.

    Any salt length is accepted, as Arweave nodes and arweave-js do.
    """
    try:
        public_key = rsa.RSAPublicNumbers(
            PUBLIC_EXPONENT, int.from_bytes(owner_n, "big")
        ).public_key()
        public_key.verify(signature, message, _pss_for_verifying(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True
