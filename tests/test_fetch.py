"""Polite, bounded HTTP: validators, 304, Retry-After, back-off, redirects,
410, size limits and per-host limits, against a real server on 127.0.0.1."""

from __future__ import annotations

import itertools
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds import pipeline
from feeds.config import load_config
from feeds.errors import FetchError, PublishError, StoreError
from feeds.fetch import Fetcher, Validators, _HostGate
from feeds.model import Config, Source
from feeds.pipeline import publish_pending, run_source
from feeds.store import Store

from .conftest import Server, write_config

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://x.example/</link><description>d</description>
<item><title>One</title><link>https://x.example/1</link><category>art</category></item>
</channel></rss>"""


def config_for(tmp_path: Path, url: str, **source: str) -> Config:
    extra = "".join(f"    {key}: {value}\n" for key, value in source.items())
    path = write_config(tmp_path, f"  - name: s\n    type: feed\n    url: {url}\n{extra}")
    return load_config(path)


class Runner:
    """Runs one source through the service's per-source path."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = Store(config.storage_url)
        self.fetcher = Fetcher(
            config.site.base_url, per_host=2, host_delay=0, allow_private=config.allow_private
        )
        config.output_dir.mkdir(parents=True, exist_ok=True)

    def run(self, now: datetime = NOW) -> pipeline.SourceResult:
        result = run_source(
            self.config, self.config.sources[0], store=self.store, fetcher=self.fetcher, now=now
        )
        publish_pending(self.config, self.store)
        return result

    def close(self) -> None:
        self.store.close()
        self.fetcher.close()


@pytest.fixture
def runner_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    made: list[Runner] = []

    def make(url: str, **source: str) -> Runner:
        made.append(Runner(config_for(tmp_path, url, **source)))
        return made[-1]

    yield make
    for runner in made:
        runner.close()


def test_validators_are_sent_and_a_304_skips_parsing_and_rendering(
    server: Server, runner_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.add("/feed.rss", RSS, ETag='"abc"', Last_Modified="Wed, 25 Nov 2026 10:00:00 GMT")
    runner = runner_for(url)
    first = runner.run()
    assert (first.new, first.not_modified) == (1, False)
    assert "if-none-match" not in server.hits("/feed.rss")[0]

    parsed: list[str] = []
    rendered: list[object] = []
    real_parser = pipeline.parser_for
    monkeypatch.setattr(
        pipeline, "parser_for", lambda kind: parsed.append(kind) or real_parser(kind)
    )
    monkeypatch.setattr(pipeline, "publish_feeds", lambda *a, **k: rendered.append(a))
    second = runner.run(NOW + timedelta(minutes=30))
    sent = server.hits("/feed.rss")[1]
    assert sent["if-none-match"] == '"abc"'
    assert sent["if-modified-since"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert second.not_modified and second.ok
    assert parsed == [] and rendered == []
    assert runner.store.source_state("s").not_modified == 1


def test_last_modified_alone_gives_a_304(server: Server, runner_for) -> None:
    url = server.add("/feed.rss", RSS, Last_Modified="Wed, 25 Nov 2026 10:00:00 GMT")
    runner = runner_for(url)
    runner.run()
    assert runner.run(NOW + timedelta(hours=1)).not_modified


def test_a_304_with_new_validators_replaces_the_stored_ones(server: Server, runner_for) -> None:
    """RFC 9111 4.3.4: a 304's validators update the stored answer's. A
    server whose tag changed says so in its 304 and, from then on, matches
    only the new tag: sending the old one cost a whole body every time."""
    modified = "Thu, 26 Nov 2026 08:00:00 GMT"
    url = server.sequence(
        "/feed.rss",
        server.route(RSS, ETag='"v1"', Last_Modified="Wed, 25 Nov 2026 10:00:00 GMT"),
        server.route("", status=304, ETag='"v2"', Last_Modified=modified),
        server.route(RSS, ETag='"v2"'),
    )
    runner = runner_for(url)
    runner.run()
    assert runner.run(NOW + timedelta(hours=1)).not_modified
    third = runner.run(NOW + timedelta(hours=2))
    sent = server.hits("/feed.rss")[2]
    assert sent["if-none-match"] == '"v2"'
    assert sent["if-modified-since"] == modified
    assert third.not_modified


def test_a_304_without_validators_keeps_the_stored_ones(server: Server, runner_for) -> None:
    url = server.sequence(
        "/feed.rss",
        server.route(RSS, ETag='"v1"'),
        server.route("", status=304),
        server.route(RSS, ETag='"v1"'),
    )
    runner = runner_for(url)
    runner.run()
    assert runner.run(NOW + timedelta(hours=1)).not_modified
    assert runner.run(NOW + timedelta(hours=2)).not_modified
    assert server.hits("/feed.rss")[2]["if-none-match"] == '"v1"'


def test_a_304_to_a_request_without_validators_fails_the_source(server: Server, runner_for) -> None:
    """A server answering 304 to an unconditional request (a broken cache in
    front of it) gave nothing to read: counted as "not modified", the source
    was listed ok for ever with no item ever read."""
    url = server.add("/feed.rss", "", status=304)
    runner = runner_for(url)
    result = runner.run()
    assert not result.ok
    assert "'s'" in result.error and "304" in result.error and "without validators" in result.error
    assert runner.store.source_state("s").failures == 1


def test_only_changed_feeds_are_rendered(server: Server, runner_for) -> None:
    url = server.add("/feed.rss", RSS)
    runner = runner_for(url)
    runner.run()
    output = runner.config.output_dir
    art_before = (output / "art.atom").stat().st_mtime_ns
    news_missing = not (output / "news.atom").exists()
    changed = RSS.replace("<title>One</title>", "<title>One, corrected</title>")
    server.add("/feed.rss", changed)
    result = runner.run(NOW + timedelta(hours=1))
    assert result.updated == 1
    assert (output / "art.atom").stat().st_mtime_ns != art_before
    assert news_missing and not (output / "news.atom").exists()
    assert "One, corrected" in (output / "all.atom").read_text(encoding="utf-8")


def failed_publish_then_recovered(
    server: Server,
    runner: Runner,
    monkeypatch: pytest.MonkeyPatch,
    failing: Callable[..., None],
    error: type[Exception],
    after_failure: Callable[[], None] = lambda: None,
) -> None:
    """A stored change whose publish fails with `failing` (then
    `after_failure` runs), and the next publish, with the real one."""
    runner.run()
    output = runner.config.output_dir
    server.add("/feed.rss", RSS.replace("<title>One</title>", "<title>One, corrected</title>"))
    real_publish = pipeline.publish_feeds
    monkeypatch.setattr(pipeline, "publish_feeds", failing)
    with pytest.raises(error):
        runner.run(NOW + timedelta(hours=1))
    after_failure()
    assert "One, corrected" not in (output / "all.atom").read_text(encoding="utf-8")
    monkeypatch.setattr(pipeline, "publish_feeds", real_publish)
    assert publish_pending(runner.config, runner.store) is not None
    assert "One, corrected" in (output / "all.atom").read_text(encoding="utf-8")


def test_a_failed_publish_leaves_the_changes_for_the_next_one(
    server: Server, runner_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = runner_for(server.add("/feed.rss", RSS))

    def full_disk(*args: object, **kwargs: object) -> None:
        raise PublishError(str(runner.config.output_dir / "all.atom"), "No space left on device")

    failed_publish_then_recovered(server, runner, monkeypatch, full_disk, PublishError)
    assert publish_pending(runner.config, runner.store) is None  # nothing left


def test_publishing_every_feed_clears_what_was_pending(server: Server, runner_for) -> None:
    """The service renders every feed when files went missing or a reload
    asks: that publish covers the pending ones too, and said so to none,
    so they stayed pending (for ever, once no source changed again)."""
    runner = runner_for(server.add("/feed.rss", RSS))
    runner.run()
    server.add("/feed.rss", RSS.replace("<title>One</title>", "<title>One, corrected</title>"))
    source = runner.config.sources[0]
    later = NOW + timedelta(hours=1)
    run_source(runner.config, source, store=runner.store, fetcher=runner.fetcher, now=later)
    assert "One, corrected" not in (runner.config.output_dir / "all.atom").read_text("utf-8")
    (runner.config.output_dir / "all.rss").unlink()
    assert publish_pending(runner.config, runner.store, everything=True) is not None
    assert "One, corrected" in (runner.config.output_dir / "all.atom").read_text("utf-8")
    assert (runner.config.output_dir / "all.rss").is_file()
    assert publish_pending(runner.config, runner.store) is None  # nothing left


def test_a_publish_that_fails_while_the_store_is_locked_keeps_the_change(
    server: Server, impatient_sqlite: None, runner_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process (a backup, an operator's sqlite3 shell) holds the
    # store's write lock when a publish fails: nothing may depend on writing
    # the pending feeds back then.
    runner = runner_for(server.add("/feed.rss", RSS))
    database = runner.config.storage_url.removeprefix("sqlite:///")
    other = sqlite3.connect(database, isolation_level=None)

    def locked_out(*args: object, **kwargs: object) -> None:
        other.execute("BEGIN IMMEDIATE")
        raise StoreError(runner.config.storage_url, "database is locked")

    def release() -> None:
        other.execute("ROLLBACK")
        other.close()

    failed_publish_then_recovered(server, runner, monkeypatch, locked_out, StoreError, release)


def test_a_change_stored_while_its_feed_is_published_is_published_next(
    server: Server, runner_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.add("/feed.rss", RSS)
    runner = runner_for(url)
    runner.run()
    output = runner.config.output_dir
    server.add("/feed.rss", RSS.replace("<title>One</title>", "<title>Two</title>"))
    run_source(
        runner.config, runner.config.sources[0], store=runner.store, fetcher=runner.fetcher, now=NOW
    )
    real_publish = pipeline.publish_feeds

    def then_another_change(*args: Any, **kwargs: Any) -> Any:
        published = real_publish(*args, **kwargs)
        # Stored after 'art' was rendered, while 'art' is already pending.
        server.add("/feed.rss", RSS.replace("<title>One</title>", "<title>Three</title>"))
        run_source(
            runner.config,
            runner.config.sources[0],
            store=runner.store,
            fetcher=runner.fetcher,
            now=NOW + timedelta(hours=1),
        )
        return published

    monkeypatch.setattr(pipeline, "publish_feeds", then_another_change)
    assert publish_pending(runner.config, runner.store) is not None
    assert "Two" in (output / "art.atom").read_text(encoding="utf-8")
    monkeypatch.setattr(pipeline, "publish_feeds", real_publish)
    assert publish_pending(runner.config, runner.store) is not None
    assert "Three" in (output / "art.atom").read_text(encoding="utf-8")
    assert publish_pending(runner.config, runner.store) is None


def test_retry_after_is_honoured(server: Server, runner_for) -> None:
    url = server.add("/feed.rss", "busy", status=503, Retry_After="7200")
    runner = runner_for(url, interval="10m")
    result = runner.run()
    assert not result.ok and "HTTP 503" in result.error
    assert result.next_due is not None
    assert result.next_due >= NOW + timedelta(seconds=7200)
    server.add("/feed.rss", "slow down", status=429, Retry_After="60")
    again = runner.run(NOW + timedelta(hours=2))
    assert again.next_due is not None
    assert again.next_due >= NOW + timedelta(hours=2, seconds=60)


def test_back_off_grows_and_resets_on_success(server: Server, runner_for) -> None:
    url = server.sequence(
        "/feed.rss",
        Server.route("oops", status=500),
        Server.route("oops", status=500),
        Server.route("oops", status=500),
        Server.route(RSS),
    )
    runner = runner_for(url, interval="10m")
    now = NOW
    delays = []
    for _ in range(3):
        result = runner.run(now)
        assert result.next_due is not None
        delays.append((result.next_due - now).total_seconds())
        now = result.next_due
    assert runner.store.source_state("s").failures == 3
    # 10, 20, 40 minutes, each within +-10 %.
    for delay, expected in zip(delays, (600, 1200, 2400), strict=True):
        assert expected * 0.9 <= delay <= expected * 1.1
    ok = runner.run(now)
    assert ok.ok and ok.next_due == now + timedelta(minutes=10)
    assert runner.store.source_state("s").failures == 0


def test_permanent_redirect_is_reported(server: Server, runner_for) -> None:
    target = server.add("/new.rss", RSS)
    url = server.add("/old.rss", "", status=301, Location=target)
    result = runner_for(url).run()
    assert result.ok and result.new == 1
    assert result.moved_to == target


def test_gone_pauses_the_source_until_its_url_changes(server: Server, runner_for) -> None:
    url = server.add("/feed.rss", "", status=410)
    runner = runner_for(url)
    first = runner.run()
    assert first.health == "gone" and "410" in first.error
    second = runner.run(NOW + timedelta(days=1))
    assert "paused" in second.error
    assert len(server.hits("/feed.rss")) == 1
    moved = server.add("/elsewhere.rss", RSS)
    runner.config = replace(runner.config, sources=(replace(runner.config.sources[0], url=moved),))
    assert runner.run(NOW + timedelta(days=2)).new == 1


def test_body_over_the_limit_is_refused(server: Server) -> None:
    url = server.add("/big.rss", b"x" * 5000)
    source = Source(name="big", type="feed", url=url, max_bytes=4096)
    with (
        Fetcher("https://feeds.example.org/", allow_private=server.address) as fetcher,
        pytest.raises(FetchError, match="over the limit of 4096"),
    ):
        fetcher.fetch(source)


def test_user_agent_names_the_project_and_the_site(server: Server) -> None:
    url = server.add("/feed.rss", RSS)
    with Fetcher("https://feeds.example.org/", allow_private=server.address) as fetcher:
        fetcher.fetch(Source(name="s", type="feed", url=url))
    agent = server.hits("/feed.rss")[0]["user-agent"]
    assert agent.startswith("feeds/") and "https://feeds.example.org/" in agent


def test_per_host_limit_and_delay(server: Server) -> None:
    for n in range(6):
        server.add(f"/{n}.rss", RSS, delay=0.5)
    sources = [Source(name=f"s{n}", type="feed", url=f"{server.url}/{n}.rss") for n in range(6)]
    with Fetcher(
        "https://feeds.example.org/", per_host=2, host_delay=0.2, allow_private=server.address
    ) as fetcher:
        threads = [threading.Thread(target=fetcher.fetch, args=(s,)) for s in sources]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert server.most_in_flight == 2
    starts = sorted(moment for _, moment in server.times)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    # The server notes when each request came in; the fetcher takes a turn,
    # then connects and sends, and on a loaded machine its thread may be
    # held up in between, so a gap may read a little short of the delay.
    # Without the delay, two requests come at once.
    assert min(gaps) >= 0.15


def test_a_turn_begun_late_keeps_the_host_delay_from_when_it_began() -> None:
    """A thread that woke late from its wait for its host's turn (a loaded
    machine) began its request late, and the next request, waiting only
    for the planned moment, went less than `host_delay` after it."""

    class WokenLateOnce(threading.Event):
        def __init__(self) -> None:
            super().__init__()
            self.late = True

        def wait(self, timeout: float | None = None) -> bool:
            woken = super().wait(timeout)
            if self.late:
                self.late = False
                time.sleep(0.15)
            return woken

    gate = _HostGate(per_host=1, delay=0.2)
    stopped = WokenLateOnce()
    began = []
    for _ in range(3):
        with gate.enter("news.example", stopped):
            began.append(time.monotonic())
    assert not stopped.late  # the second turn's wait was the late one
    assert min(later - earlier for earlier, later in itertools.pairwise(began)) >= 0.2


def test_a_request_held_up_before_it_is_sent_keeps_the_host_delay_from_when_it_went(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's delay was counted from when a request took its turn: one
    held up before its bytes left (a slow connect, a thread waiting for a
    core on a loaded machine) reached the host late, and the next one,
    on time, came less than `host_delay` after it."""
    from feeds import fetch

    connect = fetch._connect_watched
    slow_once = [True]

    def slow_connect(*args: Any, **kwargs: Any) -> socket.socket:
        if slow_once[0]:
            slow_once[0] = False
            time.sleep(0.15)
        return connect(*args, **kwargs)

    monkeypatch.setattr(fetch, "_connect_watched", slow_connect)
    for n in range(2):
        server.add(f"/{n}.rss", RSS)
    with Fetcher(
        "https://feeds.example.org/", per_host=1, host_delay=0.2, allow_private=server.address
    ) as fetcher:
        for n in range(2):
            fetcher.fetch(Source(name=f"s{n}", type="feed", url=f"{server.url}/{n}.rss"))
    (first, _), (second, _) = ((when, path) for path, when in server.times)
    assert second - first >= 0.2


def test_a_fetch_with_a_deadline_gives_up_waiting_for_its_hosts_turn(server: Server) -> None:
    """Another source holds the host's only turn, with a time-out of its
    own: a fetch that must end by a deadline (a full_content source's
    article page) stops waiting for it then, rather than after it."""
    held = server.add("/held.rss", RSS, delay=3)
    waiting = server.add("/waiting.rss", RSS)
    with Fetcher(
        "https://feeds.example.org/", per_host=1, host_delay=0, allow_private=server.address
    ) as fetcher:
        holder = threading.Thread(
            target=fetcher.fetch, args=(Source(name="held", type="feed", url=held),)
        )
        holder.start()
        time.sleep(0.2)  # the holder has the turn
        began = time.monotonic()
        with pytest.raises(FetchError, match="out of time"):
            fetcher.fetch(
                Source(name="page", type="feed", url=waiting), until=time.monotonic() + 0.5
            )
        assert time.monotonic() - began < 1.5
        holder.join()
    assert not server.hits("/waiting.rss")


def test_stopping_aborts_a_waiting_fetch(server: Server) -> None:
    url = server.add("/slow.rss", RSS, delay=0.5)
    fetcher = Fetcher(
        "https://feeds.example.org/", per_host=1, host_delay=30, allow_private=server.address
    )
    source = Source(name="s", type="feed", url=url)
    fetcher.fetch(source)
    errors: list[Exception] = []

    def second() -> None:
        try:
            fetcher.fetch(source)
        except FetchError as exc:
            errors.append(exc)

    waiter = threading.Thread(target=second)
    waiter.start()
    fetcher.stop()
    waiter.join(timeout=5)
    fetcher.close()
    assert not waiter.is_alive()
    assert errors and "shutting down" in str(errors[0])


def test_stopping_aborts_a_fetch_still_connecting(no_handshake: str) -> None:
    fetcher = Fetcher("https://feeds.example.org/", allow_private=(no_handshake[7:],))
    source = Source(name="s", type="feed", url=no_handshake + "/feed.rss", timeout=20)
    errors: list[Exception] = []

    def fetch() -> None:
        try:
            fetcher.fetch(source)
        except FetchError as exc:
            errors.append(exc)

    fetching = threading.Thread(target=fetch)
    fetching.start()
    time.sleep(0.5)  # connecting by now, and for up to 20 s
    stopped = time.monotonic()
    fetcher.stop()
    fetching.join(timeout=10)
    fetcher.close()
    assert not fetching.is_alive()
    assert time.monotonic() - stopped < 2
    assert errors and "shutting down" in str(errors[0])


def test_a_handshake_that_never_completes_is_no_answer_within_the_time_out(
    no_handshake: str,
) -> None:
    with Fetcher("https://feeds.example.org/", allow_private=(no_handshake[7:],)) as fetcher:
        source = Source(name="s", type="feed", url=no_handshake + "/feed.rss", timeout=1)
        began = time.monotonic()
        with pytest.raises(FetchError, match="no answer within 1 s"):
            fetcher.fetch(source)
        assert time.monotonic() - began < 3


def test_a_source_that_stops_yielding_items_is_flagged(
    server: Server, runner_for, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.add("/feed.rss", RSS)
    runner = runner_for(url)
    assert runner.run().health == ""
    empty = RSS.split("<item>")[0] + "</channel></rss>"
    server.add("/feed.rss", empty)
    result = runner.run(NOW + timedelta(hours=1))
    assert result.ok and result.health == "empty"
    assert runner.store.source_state("s").health == "empty"
    assert "no items this time (1 last time)" in caplog.text
    # Still empty at the next fetch, and the next: still flagged.
    for hours in (2, 3):
        assert runner.run(NOW + timedelta(hours=hours)).health == "empty"
        assert runner.store.source_state("s").health == "empty"
    server.add("/feed.rss", RSS)
    assert runner.run(NOW + timedelta(hours=4)).health == ""


def test_relative_links_resolve_against_the_address_fetched(server: Server, runner_for) -> None:
    relative = RSS.replace("<link>https://x.example/1</link>", "<link>/stories/1</link>")
    target = server.add("/new/feed.rss", relative)
    url = server.add("/old/feed.rss", "", status=302, Location="/new/feed.rss")
    runner = runner_for(url)
    assert runner.run().new == 1
    (stored,) = runner.store.latest()
    assert stored.link == target.replace("/new/feed.rss", "/stories/1")


def _read_or_wait(sock: socket.socket, seconds: float) -> bytes:
    """What a read on a socket the server never answers gives: b"" once the
    watcher has shut it down, b"still waiting" if `seconds` pass first."""
    sock.settimeout(seconds)
    try:
        return sock.recv(10)
    except TimeoutError:
        return b"still waiting"


def _run_together(*targets: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_connection_reused_by_another_request_stays_watched() -> None:
    # Request A gives its kept-alive connection back to the pool before its
    # own bookkeeping ends; request B takes it at once. Ending A must not
    # end the watch over B's request: stopping still cuts B's read short.
    from feeds.fetch import _Deadlines

    deadlines = _Deadlines()
    connection, server_side = socket.socketpair()
    a_watching, b_watching, a_done = threading.Event(), threading.Event(), threading.Event()
    got: list[bytes] = []

    def request_a() -> None:
        with deadlines.limit(time.monotonic() + 100):
            deadlines.watch(connection)
            a_watching.set()
            b_watching.wait(5)
        a_done.set()

    def request_b() -> None:
        a_watching.wait(5)
        with deadlines.limit(time.monotonic() + 100):
            deadlines.watch(connection)
            b_watching.set()
            a_done.wait(5)
            deadlines.abort()  # what Fetcher.stop() does
            got.append(_read_or_wait(connection, 3))

    began = time.monotonic()
    _run_together(request_a, request_b)
    assert got == [b""]  # the read ended: its socket was shut down
    assert time.monotonic() - began < 2
    connection.close()
    server_side.close()
    deadlines.close()


def test_a_short_time_out_is_kept_behind_a_long_one() -> None:
    # The watcher sleeps until the earliest deadline it knows of, and is
    # woken only for an earlier one: a source with a 1 s time-out fetched
    # while one with a 100 s time-out waits must still be cut at 1 s.
    from feeds.fetch import _Deadlines

    deadlines = _Deadlines()
    pairs = [socket.socketpair() for _ in range(2)]
    long_watching, short_done = threading.Event(), threading.Event()
    got: list[bytes] = []

    def long_request() -> None:
        with deadlines.limit(time.monotonic() + 100):
            deadlines.watch(pairs[0][0])
            long_watching.set()
            short_done.wait(10)

    def short_request() -> None:
        long_watching.wait(5)
        with deadlines.limit(time.monotonic() + 0.5):
            deadlines.watch(pairs[1][0])
            got.append(_read_or_wait(pairs[1][0], 5))
        short_done.set()

    began = time.monotonic()
    _run_together(long_request, short_request)
    assert got == [b""]  # cut at its own deadline, not the long one's
    assert time.monotonic() - began < 3
    for pair in pairs:
        for end in pair:
            end.close()
    deadlines.close()


def test_a_refused_name_is_not_even_connected_to() -> None:
    # localhost resolves to loopback: the connect used to go through and be
    # refused after, so an open port ("localhost is at 127.0.0.1 ...
    # refused") and a closed one ("Connection refused") gave different
    # errors in the public /healthz: a port scan for whoever runs a source.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    source = Source(name="probe", type="feed", url=f"http://localhost:{port}/", timeout=5)
    try:
        with Fetcher("http://feeds.example/") as fetcher, pytest.raises(FetchError) as raised:
            fetcher.fetch(source)
        assert "refused" in str(raised.value) and "loopback" in str(raised.value)
        with pytest.raises(TimeoutError):
            listener.accept()[0].close()
    finally:
        listener.close()


def test_a_host_allowed_on_another_port_is_refused_saying_so(server: Server) -> None:
    # "list it in fetch.allow_private to allow it" of a host that is
    # listed there, with another port: the operator looked for the mistake
    # elsewhere.
    url = server.add("/feed.rss", RSS)
    host, port = server.address[0].rsplit(":", 1)
    listed = f"{host}:{int(port) + 1}"
    with (
        Fetcher("https://feeds.example.org/", allow_private=(listed,)) as fetcher,
        pytest.raises(FetchError) as raised,
    ):
        fetcher.fetch(Source(name="s", type="feed", url=url))
    assert f"fetch.allow_private allows it on another port only: {listed}" in str(raised.value)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_local_source_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    # A pipe blocks its reader for ever and /dev/zero never ends: read
    # whole, either would stop the build or fill its memory.
    target = {"fifo": tmp_path / "pipe", "device": Path("/dev/zero"), "folder": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    source = Source(name="local", type="feed", path=target)
    with (
        Fetcher("https://feeds.example.org/") as fetcher,
        pytest.raises(FetchError, match="not a regular file"),
    ):
        fetcher.fetch(source)


def test_a_local_file_is_read_under_the_largest_limit_a_config_may_give(tmp_path: Path) -> None:
    # fetch.max_bytes may be up to 10**12: read(max_bytes + 1) allocated
    # that much up front, and the build died of a MemoryError traceback.
    feed = tmp_path / "feed.rss"
    feed.write_text(RSS, encoding="utf-8")
    with Fetcher("https://feeds.example.org/") as fetcher:
        fetched = fetcher.fetch(Source(name="local", type="feed", path=feed, max_bytes=10**12))
        assert fetched.body == RSS.encode()
        with pytest.raises(FetchError, match="over the limit of 10"):
            fetcher.fetch(Source(name="local", type="feed", path=feed, max_bytes=10))


def test_a_file_url_names_the_file_its_escapes_spell(tmp_path: Path) -> None:
    """`%25` is a percent sign: `a%2541.xml` names the file `a%41.xml`,
    not `aA.xml` (which a second decoding made of it)."""
    wanted = tmp_path / "a%41.xml"
    wanted.write_bytes(b"<rss/>")
    (tmp_path / "aA.xml").write_bytes(b"<wrong/>")
    url = tmp_path.as_uri() + "/a%2541.xml"
    with Fetcher("https://feeds.example.org/") as fetcher:
        fetched = fetcher.fetch(Source(name="local", type="feed", url=url))
    assert fetched.body == b"<rss/>"


def _keep_alive_server(listener: socket.socket) -> None:
    """Answers /error with a 404 whose page comes a moment after its headers
    (as a server writing headers and body apart does), anything else with
    RSS; every connection is kept alive for further requests."""

    def serve(sock: socket.socket) -> None:
        with sock:
            stream = sock.makefile("rb")
            while True:
                request = stream.readline()
                if not request:
                    return
                while stream.readline() not in (b"\r\n", b""):
                    pass
                if b" /error " in request:
                    page = b"<html>not here</html>"
                    sock.sendall(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n" % len(page)
                    )
                    time.sleep(0.2)
                    sock.sendall(page)
                else:
                    body = RSS.encode()
                    sock.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                    )

    while True:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(sock,), daemon=True).start()


def test_an_error_page_left_unread_does_not_spoil_the_next_request_to_its_host(
    tmp_path: Path,
) -> None:
    """A failing source's error page is not read. Its kept-alive connection
    went back to the pool with the page still to come, and the next source
    on that host read the page as its own answer's status line: it failed
    with "Connection aborted", and a site with one broken feed made its
    healthy ones fail now and then."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    threading.Thread(target=_keep_alive_server, args=(listener,), daemon=True).start()
    config = config_for(tmp_path, base + "/feed.rss")
    fetcher = Fetcher(
        config.site.base_url, per_host=1, host_delay=0, allow_private=config.allow_private
    )
    healthy = config.sources[0]
    broken = replace(healthy, name="broken", url=base + "/error")
    try:
        for _ in range(3):
            with pytest.raises(FetchError, match="HTTP 404"):
                fetcher.fetch(broken, Validators())
            assert fetcher.fetch(healthy, Validators()).status == 200
    finally:
        fetcher.close()
        listener.close()


class _CommitFails:
    """A writer whose commit fails (a full disk): the run's writes are made
    in a real transaction, then rolled back."""

    def write(self, work: Callable[[Store], Any]) -> Any:
        with Store(self.url) as store:
            try:
                with store.transaction():
                    work(store)
                    raise RuntimeError("the disk filled up at commit")
            except RuntimeError:
                raise StoreError(self.url, "commit failed: database or disk is full") from None

    def __init__(self, url: str) -> None:
        self.url = url


def test_a_run_whose_commit_fails_is_not_logged_as_stored(
    server: Server, runner_for, caplog: pytest.LogCaptureFixture
) -> None:
    """The service stores runs in a shared commit: its log must not say a
    source's items were stored when that commit then failed."""
    runner = runner_for(server.add("/feed.rss", RSS, content_type="application/rss+xml"))
    caplog.set_level("INFO", logger="feeds")

    with pytest.raises(StoreError, match="disk is full"):
        run_source(
            runner.config,
            runner.config.sources[0],
            store=runner.store,
            fetcher=runner.fetcher,
            now=NOW,
            writer=_CommitFails(runner.config.storage_url),  # type: ignore[arg-type]
        )

    assert "1 new" not in caplog.text
    assert runner.store.count() == 0
    assert runner.run().new == 1  # stored, and logged, at the next run
    assert "1 items, 1 new" in caplog.text


def test_a_request_starting_while_the_watcher_is_closed_keeps_its_deadline() -> None:
    """close() lets the old watcher go and a later request starts another.
    A request that starts while close() waits for the old one to end must
    still have its deadline enforced, and so must every later one."""
    from feeds.fetch import _Deadlines

    deadlines = _Deadlines()
    keep, _peer = socket.socketpair()
    with deadlines.limit(time.monotonic() + 60):
        deadlines.watch(keep)  # the watcher runs
    old = deadlines._thread
    assert old is not None
    during, during_peer = socket.socketpair()
    started = threading.Event()

    def request_meanwhile() -> None:
        with deadlines.limit(time.monotonic() + 0.3):
            deadlines.watch(during)
            started.set()
            time.sleep(0.5)

    class Joined:
        """The old watcher, and a request that comes in while close() joins it."""

        def join(self) -> None:
            old.join()
            thread = threading.Thread(target=request_meanwhile, daemon=True)
            thread.start()
            assert started.wait(3)
            new = deadlines._thread
            if new is not None:
                new.join(1)  # the new watcher has had its chance to run

    deadlines._thread = Joined()  # type: ignore[assignment]
    deadlines.close()

    later, later_peer = socket.socketpair()
    began = time.monotonic()
    with deadlines.limit(time.monotonic() + 0.3):
        deadlines.watch(later)
        data = _read_or_wait(later, 3)  # the watcher shuts it down at 0.3 s
    took = time.monotonic() - began
    for sock in (keep, _peer, during, during_peer, later, later_peer):
        sock.close()
    assert data == b"", "the deadline was never enforced (socket read timed out)"
    assert took < 2
