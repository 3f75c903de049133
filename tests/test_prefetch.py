"""``prefetch`` runs a producer one item ahead in a thread (ingest's read, normalise and write
stages): items arrive in order, a producer's error is raised in the consumer, and a consumer
that stops early makes the producer stop without making more."""

from __future__ import annotations

import threading
import time

import pytest

from loganalyzer.prefetch import prefetch


def test_items_arrive_in_order_and_all_of_them() -> None:
    assert list(prefetch(iter(range(1000)))) == list(range(1000))


def test_an_error_of_the_producer_is_raised_in_the_consumer_after_the_items_before_it() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("record 3 is broken")

    seen = []
    with pytest.raises(ValueError, match="record 3 is broken"):
        for item in prefetch(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_consumer_that_stops_early_makes_the_producer_stop() -> None:
    made = []

    def items():
        for n in range(100):
            made.append(n)
            yield n

    for item in prefetch(items()):
        time.sleep(0.05)  # a slow consumer: the producer waits to hand over item + 2
        if item == 3:
            break
    # item 4 waits in the queue and item 5 is being handed over when the consumer stops; a
    # batch of ingest takes seconds to make, so making item 6 too would delay a Ctrl-C
    assert made == [0, 1, 2, 3, 4, 5]
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]
