"""Whatever bytes arrive, the parser answers with one of our own errors or a data item."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundlestream.core.ans104 import Ans104Error, DataItemParser
from bundlestream.core.ans104.bundle_reader import read_bundle
from bundlestream.core.ans104.bundle_writer import bundle_bytes
from tests.conftest import FIXTURES

SEEDS = [
    "stubSolanaDataItem",
    "stubEthereumDataItem",
    "stub1115ByteDataItem",
    "zeroBytePayloadDataItem",
    "bdiDataItem",
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_in_chunks(data: bytes, chunk: int) -> None:
    """Parse; an item must account for every byte, an error must name its rule."""
    parser = DataItemParser(max_item_size=64 * 1024)
    try:
        for start in range(0, len(data), chunk):
            parser.feed(data[start : start + chunk])
        item = parser.finish()
    except Ans104Error as error:
        assert error.rule and str(error).startswith(error.rule)
        return
    assert item.size == len(data) == item.header.payload_start + item.payload_size


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray((FIXTURES / draw(st.sampled_from(SEEDS))).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "byte"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "byte" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif action == "truncate":
            del data[at:]
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=3000), chunk=st.integers(1, 4096))
def test_random_bytes_raise_only_our_errors(data: bytes, chunk: int) -> None:
    parse_in_chunks(data, chunk)


@FUZZ
@given(
    header=st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x06\x00"]),
    rest=st.binary(max_size=3000),
    chunk=st.integers(1, 512),
)
def test_random_bytes_after_a_valid_type_raise_only_our_errors(
    header: bytes, rest: bytes, chunk: int
) -> None:
    parse_in_chunks(header + rest, chunk)


@FUZZ
@given(data=mutated(), chunk=st.integers(1, 2048))
def test_mutated_real_items_raise_only_our_errors(data: bytes, chunk: int) -> None:
    parse_in_chunks(data, chunk)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mutated_bundles_raise_only_our_errors(data: st.DataObject) -> None:
    bundle = bytearray(bundle_bytes([(FIXTURES / "bdiDataItemWithTwoNestedItems").read_bytes()]))
    for _ in range(data.draw(st.integers(1, 3))):
        bundle[data.draw(st.integers(0, len(bundle) - 1))] = data.draw(st.integers(0, 255))
    chunk = data.draw(st.integers(1, 4096))
    pieces = [bytes(bundle[i : i + chunk]) for i in range(0, len(bundle), chunk)]
    try:
        items = list(read_bundle(pieces))
    except Ans104Error as error:
        assert error.rule.startswith("bundle-")
        return
    for item in items:
        assert item.valid == (item.error is None)
        assert item.placement.offset + item.entry.size <= len(bundle)
