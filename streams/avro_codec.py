"""The Faust codec ``avro``: Faust's view of the event codec in ``schemas.codec``.

Faust agents then receive typed events (``schemas.events``) and may send them back out
as values; the bytes are exactly what confluent-kafka producers write.
"""

from typing import Any

from faust.serializers import codecs

from bundlestream.schemas.codec import decode, encode

CODEC_NAME = "avro"


class AvroEventCodec(codecs.Codec):
    """Avro single-object encoding of bundlestream events.

    A value that is not a known event raises ``schemas.codec.DecodeError``; Faust then
    logs it and skips the message (it cannot be retried into meaning anything).
    """

    def _dumps(self, obj: Any) -> bytes:
        return encode(obj)

    def _loads(self, s: bytes) -> Any:
        return decode(s)


def register_avro_codec() -> None:
    """Make ``value_serializer="avro"`` available to Faust (idempotent)."""
    codecs.register(CODEC_NAME, AvroEventCodec())
