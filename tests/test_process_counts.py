"""The process counts ``make up`` starts follow the core count unless they are set."""

from bundlestream.settings import Settings


def unset() -> Settings:
    return Settings().updated(api__workers=None, stack__workers=None, kafka__topic_partitions=8)


def test_api_processes_are_one_per_two_cores_and_at_least_one() -> None:
    counts = [unset().api_processes(cores) for cores in (None, 1, 2, 3, 4, 16)]
    assert counts == [1, 1, 1, 1, 2, 8]


def test_stream_workers_are_one_per_two_cores_and_at_most_one_per_partition() -> None:
    counts = [unset().stream_workers(cores) for cores in (None, 1, 2, 4, 16, 64)]
    assert counts == [1, 1, 1, 2, 8, 8]


def test_a_count_that_is_set_is_kept_whatever_the_cores() -> None:
    settings = unset().updated(api__workers=3, stack__workers=5)
    assert (settings.api_processes(64), settings.stream_workers(1)) == (3, 5)
