"""The service's publisher: stored changes go out together, and at stop."""

from __future__ import annotations

import threading
import time

from feeds.scheduler import PUBLISH_DELAY, _Publisher


class Recorder:
    def __init__(self, seconds: float = 0.0) -> None:
        self.calls: list[float] = []
        self.seconds = seconds
        self.called = threading.Event()

    def __call__(self) -> None:
        self.calls.append(time.monotonic())
        time.sleep(self.seconds)
        self.called.set()


def test_changes_stored_close_together_share_one_publish() -> None:
    publish = Recorder()
    publisher = _Publisher(publish)
    publisher.start()
    first = time.monotonic()
    for _ in range(40):  # forty sources storing within 0.2 s
        publisher.poke()
        time.sleep(0.005)
    assert publish.called.wait(10)
    time.sleep(2 * PUBLISH_DELAY)
    assert len(publish.calls) == 1
    # Published after the burst had time to end, not at the first poke.
    assert publish.calls[0] - first >= PUBLISH_DELAY
    publisher.stop()
    assert len(publish.calls) == 2  # stop publishes what may be pending


def test_nothing_stored_nothing_published_until_stop() -> None:
    publish = Recorder()
    publisher = _Publisher(publish)
    publisher.start()
    time.sleep(2 * PUBLISH_DELAY)
    assert publish.calls == []
    publisher.stop()
    assert len(publish.calls) == 1


def test_stop_ends_the_wait_and_publishes_at_once() -> None:
    publish = Recorder()
    publisher = _Publisher(publish)
    publisher.start()
    publisher.poke()
    began = time.monotonic()
    publisher.stop()
    assert len(publish.calls) == 1
    assert publish.calls[0] - began < PUBLISH_DELAY


def test_while_publishing_takes_long_later_changes_wait_for_a_pause() -> None:
    publish = Recorder(seconds=0.3)
    publisher = _Publisher(publish)
    publisher.start()
    publisher.poke()
    assert publish.called.wait(10)
    publish.called.clear()
    publisher.poke()  # stored during that publish
    assert publish.called.wait(10)
    publisher.stop()
    # After a publish of 0.3 s, the next one came at least 2 x 0.3 s later.
    assert publish.calls[1] - publish.calls[0] >= 0.3 + 0.6
