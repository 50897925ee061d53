"""Unsigned uploads in the core: tags from the request, and the header length that lets
the whole item be priced before its payload arrives."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from bundlestream.core.unsigned_items import TagsRefused, requested_tags, signed_header_length

OWNER = bytes(range(256)) * 2  # a 4096-bit modulus' length


def test_json_tags_then_tag_headers_then_the_content_type() -> None:
    tags = requested_tags(
        '[{"name": "App-Name", "value": "a"}]',
        [("x-tag-kind", "k"), ("content-type", "text/plain"), ("x-tag-", "empty name")],
        "text/plain",
    )
    assert tags == [Tag(b"App-Name", b"a"), Tag(b"kind", b"k"), Tag(b"Content-Type", b"text/plain")]


def test_a_given_content_type_tag_is_kept() -> None:
    tags = requested_tags('[{"name": "Content-Type", "value": "image/png"}]', [], "text/plain")
    assert tags == [Tag(b"Content-Type", b"image/png")]


@pytest.mark.parametrize("text", ["[{", '{"name": "a"}', '[{"name": "a"}]', "[1]"])
def test_tags_that_are_not_a_list_of_name_value_are_refused(text: str) -> None:
    with pytest.raises(TagsRefused):
        requested_tags(text, [], None)


def test_too_many_tags_are_refused_before_the_body() -> None:
    tags = [Tag(b"n", b"v")] * 129
    with pytest.raises(TagsRefused):
        signed_header_length(OWNER, tags)


def test_the_header_length_is_the_signed_items() -> None:
    tags = [Tag(b"App-Name", b"x"), Tag(b"Content-Type", b"text/plain")]
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    ed25519_item = sign_data_item(signer, b"payload", tags=tags)
    # Type 1 header = the Ed25519 one with 512-byte signature and owner instead of 64 + 32.
    expected = len(ed25519_item) - len(b"payload") + (512 - 64) + (512 - 32)
    assert signed_header_length(OWNER, tags) == expected
