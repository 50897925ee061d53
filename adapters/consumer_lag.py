"""Consumer lag of a group on a topic: the log's end minus the group's committed offsets.

Read with a consumer that never joins the group (``committed`` only asks the group
coordinator), so measuring lag never rebalances the stage it measures.
"""

from confluent_kafka import Consumer, TopicPartition

from bundlestream.adapters.event_log import UnknownTopic, partitions_of
from bundlestream.adapters.kafka_config import KafkaConnection, consumer_config

_TIMEOUT_S = 10.0


def group_lag(kafka: KafkaConnection, group_id: str, topics: list[str]) -> dict[str, int]:
    """Per topic: messages the group has not committed yet (a partition it never
    committed counts from the partition's start)."""
    consumer = Consumer(consumer_config(kafka, group_id))
    try:
        return {topic: _topic_lag(consumer, topic) for topic in topics}
    finally:
        consumer.close()


def _topic_lag(consumer: Consumer, topic: str) -> int:
    try:
        partitions = [TopicPartition(topic, p) for p in partitions_of(consumer, topic)]
    except UnknownTopic:
        return 0  # not created yet: nothing to consume
    lag = 0
    for committed in consumer.committed(partitions, timeout=_TIMEOUT_S):
        low, high = consumer.get_watermark_offsets(committed, timeout=_TIMEOUT_S)
        lag += high - (committed.offset if committed.offset >= 0 else low)
    return lag
