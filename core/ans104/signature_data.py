"""The message a data item's signature signs: a deep hash over its fields.

ANS-104 "Signing": the signature is over
``deepHash(["dataitem", "1", ascii(signatureType), owner, target, anchor, rawTags, data])``
where an absent target or anchor is the empty blob. The payload comes last, so the
first seven element hashes are known once the header is parsed, and the payload's blob
hash is the only thing left to stream.
"""

from bundlestream.core.deephash import blob_digest, deep_hash_list_of_digests


def header_digests(
    signature_type: int,
    owner: bytes,
    target: bytes | None,
    anchor: bytes | None,
    raw_tags: bytes,
) -> list[bytes]:
    """Deep hashes of the seven list elements that precede the payload."""
    fields = [
        b"dataitem",
        b"1",
        str(signature_type).encode("ascii"),
        owner,
        target or b"",
        anchor or b"",
        raw_tags,
    ]
    return [blob_digest(field) for field in fields]


def signature_data(prefix_digests: list[bytes], payload_digest: bytes) -> bytes:
    """The 48-byte deep hash that is signed, from the header digests and the payload's."""
    return deep_hash_list_of_digests([*prefix_digests, payload_digest])
