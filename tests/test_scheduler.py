"""The service's publisher (stored changes go out together, and at stop),
and its jobs' resilience."""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.date import DateTrigger

from feeds import scheduler
from feeds.config import load_config
from feeds.model import Config, Item, SourceResult
from feeds.pipeline import reading_key
from feeds.scheduler import PUBLISH_DELAY, _Publisher, end_scheduler
from feeds.store import Attempt, Store

from .conftest import BASE_CONFIG, ROOT, Server, write_config

STOP = 10.0


class Recorder:
    """A publish that takes `seconds` and fails its first `failures` times."""

    def __init__(self, seconds: float = 0.0, failures: int = 0) -> None:
        self.calls: list[float] = []
        self.seconds = seconds
        self.failures = failures
        self.called = threading.Event()

    def __call__(self) -> bool:
        self.calls.append(time.monotonic())
        time.sleep(self.seconds)
        self.called.set()
        return len(self.calls) > self.failures


@contextmanager
def _scheduling(service: scheduler.Service, *released: threading.Event) -> Iterator[None]:
    """The service's scheduler running; after, `released` set (runs held on
    them end), the service stopped, and its threads and sockets closed."""
    service._scheduler.start()
    try:
        yield
    finally:
        for event in released:
            event.set()
        service._stop.set()
        service._fetcher.stop()
        service._scheduler.shutdown(wait=True)
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_changes_stored_close_together_share_one_publish() -> None:
    publish = Recorder()
    publisher = _Publisher(publish)
    publisher.start()
    first = time.monotonic()
    for _ in range(40):  # forty sources storing within ~0.1 s
        publisher.poke()
        time.sleep(0.002)
    assert publish.called.wait(10)
    time.sleep(2 * PUBLISH_DELAY)
    assert len(publish.calls) == 1
    # Published after the burst had time to end, not at the first poke.
    assert publish.calls[0] - first >= PUBLISH_DELAY
    publisher.stop(STOP)
    assert len(publish.calls) == 2  # stop publishes what may be pending


def test_nothing_stored_nothing_published_until_stop() -> None:
    publish = Recorder()
    publisher = _Publisher(publish)
    publisher.start()
    time.sleep(2 * PUBLISH_DELAY)
    assert publish.calls == []
    publisher.stop(STOP)
    assert len(publish.calls) == 1


def test_stop_ends_the_wait_and_publishes_at_once() -> None:
    publish = Recorder()
    publisher = _Publisher(publish)
    publisher.start()
    publisher.poke()
    began = time.monotonic()
    publisher.stop(STOP)
    assert len(publish.calls) == 1
    assert publish.calls[0] - began < PUBLISH_DELAY


def poke_for(publisher: _Publisher, seconds: float) -> float:
    """Changes stored every 20 ms for this long; returns when the last was."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        publisher.poke()
        time.sleep(0.02)
    return time.monotonic()


def test_while_changes_keep_coming_publishes_are_spaced_by_twice_their_length() -> None:
    publish = Recorder(seconds=0.3)
    publisher = _Publisher(publish)
    publisher.start()
    poke_for(publisher, 2.6)
    publisher.stop(STOP)
    starts = publish.calls[:-1]  # the last one is stop's
    assert len(starts) >= 2
    # Each publish took 0.3 s; the next began 2 x 0.3 s after it ended.
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.3 + 0.6, gaps


def test_when_changes_stop_the_last_ones_go_out_without_the_whole_pause() -> None:
    publish = Recorder(seconds=1.2)  # a pause of 2.4 s after each publish
    publisher = _Publisher(publish)
    publisher.start()
    last_change = poke_for(publisher, 1.7)
    time.sleep(3.0)
    publisher.stop(STOP)
    after = [call for call in publish.calls[:-1] if call >= last_change]
    assert after, publish.calls
    # Out about PUBLISH_DELAY after the last change, not 2.4 s after the
    # publish before.
    assert after[0] - last_change < 2 * PUBLISH_DELAY + 0.8


def test_a_failed_publish_is_tried_again_without_a_new_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "PUBLISH_RETRY", 0.5)
    publish = Recorder(failures=1)  # a full disk, say, freed meanwhile
    publisher = _Publisher(publish)
    publisher.start()
    publisher.poke()
    time.sleep(PUBLISH_DELAY + 1.5)
    assert len(publish.calls) == 2
    assert publish.calls[1] - publish.calls[0] >= 0.5
    time.sleep(1.0)
    assert len(publish.calls) == 2  # it worked: no more tries
    assert publisher.stop(STOP)


def test_stop_does_not_wait_for_ever_on_the_last_publish() -> None:
    publish = Recorder(seconds=3.0)  # a hub that never answers, say
    publisher = _Publisher(publish)
    publisher.start()
    began = time.monotonic()
    assert not publisher.stop(0.5)
    assert time.monotonic() - began < 2.0


def test_a_source_whose_workers_cannot_start_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "feed.rss").write_text("<rss/>", encoding="utf-8")
    config_path = write_config(tmp_path, "  - name: s\n    type: feed\n    path: feed.rss\n")
    service = scheduler.Service(config_path, load_config(config_path))

    def no_more_files() -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(scheduler, "wants_workers", lambda sources: True)
    monkeypatch.setattr(scheduler, "parsing_pool", no_more_files)
    service._scheduler.start(paused=True)
    try:
        with caplog.at_level(logging.ERROR, logger="feeds"):
            service._run_job("s")
        assert "Too many open files" in caplog.text
        assert list(service.jobs()) == ["s"]  # its next turn is booked
    finally:
        service._scheduler.shutdown(wait=False)
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_new_base_url_is_applied_to_a_service_with_no_sources(tmp_path: Path) -> None:
    """The retired HTTP client's close waits for the longest source time-out:
    with no source at all there is none (this once ended the service)."""
    config_path = write_config(tmp_path, "")
    service = scheduler.Service(config_path, load_config(config_path))
    try:
        text = config_path.read_text(encoding="utf-8")
        config_path.write_text(text.replace("feeds.example.org", "feeds.example.net"))
        assert service.reload()
        assert service.config.site.base_url == "https://feeds.example.net/"
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


@pytest.mark.parametrize(
    ("old", "new", "failures"),
    [
        # A shorter interval set while the service was stopped.
        (
            "url: http://127.0.0.1:9/a.rss\n    interval: 1h\n",
            "url: http://127.0.0.1:9/a.rss\n    interval: 10s\n",
            0,
        ),
        # A failing source's url fixed while the service was stopped.
        (
            "url: http://127.0.0.1:9/broken.rss\n    interval: 10m\n",
            "url: http://127.0.0.1:9/a.rss\n    interval: 10m\n",
            5,
        ),
    ],
    ids=["shorter-interval", "url-fixed-while-backing-off"],
)
def test_a_source_changed_while_the_service_was_stopped_follows_its_new_settings(
    tmp_path: Path, old: str, new: str, failures: int
) -> None:
    """The store's next due time was decided under the old settings: a
    restart with a changed source must not wait for it (a running service
    refetches a source whose url or item settings changed at once)."""
    before = load_config(write_config(tmp_path, f"  - name: a\n    type: feed\n    {old}"))
    now = datetime.now(UTC)
    with Store(before.storage_url) as store:
        _read_a_minute_ago(store, before, now, next_due=now + timedelta(hours=1))
        for n in range(failures):
            store.record_attempt(
                "a",
                Attempt(
                    now=now - timedelta(seconds=30 - n),
                    error="HTTP 500",
                    status=500,
                    health="failing",
                    next_due=now + timedelta(hours=6),
                ),
            )
    config_path = write_config(tmp_path, f"  - name: a\n    type: feed\n    {new}")
    assert _first_due(config_path, now) - now < timedelta(seconds=30)


def test_a_restart_keeps_the_back_off_of_a_source_only_the_vocabulary_changed_for(
    tmp_path: Path,
) -> None:
    """A rubric added (a live reload does not refetch for that) leaves a
    failing source's own settings as they were: its back-off, or the
    Retry-After its server sent, holds across this and every restart."""
    source = "  - name: a\n    type: feed\n    url: http://127.0.0.1:9/a.rss\n    interval: 10m\n"
    before = load_config(write_config(tmp_path, source))
    now = datetime.now(UTC)
    with Store(before.storage_url) as store:
        _read_a_minute_ago(store, before, now, next_due=now + timedelta(minutes=9))
        store.record_attempt(
            "a",
            Attempt(
                now=now - timedelta(seconds=30),
                error="HTTP 503",
                status=503,
                health="failing",
                next_due=now + timedelta(hours=1),  # its Retry-After
            ),
        )
    base = write_config(tmp_path, source).read_text(encoding="utf-8")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(
        base.replace("rubrics:\n", "rubrics:\n  - slug: film\n    title: Кино\n", 1),
        encoding="utf-8",
    )
    config = load_config(config_path)
    assert reading_key(config, config.sources[0]) != reading_key(before, before.sources[0])
    assert _first_due(config_path, now) >= now + timedelta(minutes=59)


def _read_a_minute_ago(store: Store, config: Config, now: datetime, next_due: datetime) -> None:
    """Source `a` of `config` read well a minute before `now`, as the store
    of a service stopped since remembers it."""
    store.record_attempt(
        "a",
        Attempt(
            now=now - timedelta(seconds=60),
            status=200,
            items=3,
            next_due=next_due,
            read_as=reading_key(config, config.sources[0]),
        ),
    )


def _first_due(config_path: Path, now: datetime) -> datetime:
    """When a service started now with `config_path` first runs its one
    source, as the store it finds says."""
    config = load_config(config_path)
    service = scheduler.Service(config_path, config)
    scheduled: dict[str, datetime] = {}
    service._schedule = lambda name, due: scheduled.__setitem__(name, due)  # type: ignore[method-assign]
    try:
        with Store(config.storage_url) as store:
            service._schedule_first(config.sources[0], store, now)
        return scheduled[config.sources[0].name]
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_run_longer_than_its_interval_keeps_its_source_scheduled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that outlasts its interval books its next turn in the past. The
    scheduler fires that at once, while the run is still finishing (its last
    steps wait for a lock, or the interpreter gives the time to another
    thread); a run of a source never overlaps the one still going, so that
    turn was skipped, and with it every later one: the source was never
    fetched again."""
    (tmp_path / "feed.rss").write_text("<rss/>", encoding="utf-8")
    base = BASE_CONFIG + "schedule:\n  jitter: 0\n"
    config_path = write_config(
        tmp_path, "  - name: s\n    type: feed\n    path: feed.rss\n    interval: 1s\n", base
    )
    service = scheduler.Service(config_path, load_config(config_path))
    runs: list[float] = []

    def slow_run(config, source, *, now, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(time.monotonic())
        time.sleep(0.05)
        return SourceResult(source=source.name, next_due=now)  # already past

    finishing = service._next_waiting

    def slow_to_finish(host: str) -> str | None:
        time.sleep(0.3)
        return finishing(host)

    monkeypatch.setattr(scheduler, "run_source", slow_run)
    monkeypatch.setattr(service, "_next_waiting", slow_to_finish)
    with _scheduling(service):
        service._schedule("s", datetime.now(UTC))
        deadline = time.monotonic() + 5
        while len(runs) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(runs) >= 4, f"the source ran {len(runs)} time(s), then never again"


def test_a_reload_leaves_the_store_safe_for_another_process_that_opens_it(
    tmp_path: Path,
) -> None:
    """A reload checks config.yaml, storage.url included. Reading the store's
    first bytes to see it is an SQLite database, and closing that file,
    dropped every SQLite lock the service held on the store (POSIX locks
    belong to the process and go with any close of the file). The next
    `feeds status` then took itself for the store's last user: on leaving it
    folded the write-ahead log into the database and deleted it, and its
    shared-memory index, under the service, whose connections failed from
    then on ("disk I/O error", "database disk image is malformed")."""
    config_path = write_config(tmp_path, "  - name: s\n    type: feed\n    path: feed.rss\n")
    service = scheduler.Service(config_path, load_config(config_path))
    now = datetime.now(UTC)
    try:
        with Store(service.config.storage_url) as running:  # as a job thread holds it
            running.record_attempt("s", Attempt(now=now, status=200, items=1))
            assert service.reload()
            status = subprocess.run(
                [sys.executable, "-m", "feeds", "status", "-c", str(config_path)],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                timeout=30,
            )
            assert status.returncode == 0, status.stderr
            assert (tmp_path / "feeds.db-wal").exists()
            assert (tmp_path / "feeds.db-shm").exists()
            running.record_attempt("s", Attempt(now=now, status=200, items=2))
            with Store(service.config.storage_url) as another:
                assert another.source_state("s").last_items == 2
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_runs_waiting_for_their_commit_leave_the_fetch_slots_to_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fetch.concurrency` bounds the runs fetching and parsing at once, not
    the runs alive: one whose items wait for their commit (the store holds
    it open a little for the next run's) lets another source fetch."""
    (tmp_path / "feed.rss").write_text("<rss/>", encoding="utf-8")
    base = BASE_CONFIG.replace("  host_delay: 0\n", "  host_delay: 0\n  concurrency: 2\n")
    names = [f"s{n}" for n in range(6)]
    config_path = write_config(
        tmp_path,
        "".join(f"  - name: {name}\n    type: feed\n    path: feed.rss\n" for name in names),
        base + "schedule:\n  jitter: 0\n",
    )
    service = scheduler.Service(config_path, load_config(config_path))
    lock = threading.Lock()
    fetching = alive = most_fetching = most_alive = 0
    done: list[str] = []

    def run(config, source, *, now, fetched, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal fetching, alive, most_fetching, most_alive
        with lock:
            fetching += 1
            alive += 1
            most_fetching = max(most_fetching, fetching)
            most_alive = max(most_alive, alive)
        time.sleep(0.2)  # fetching and parsing
        with lock:
            fetching -= 1
        fetched()
        time.sleep(0.6)  # waiting for the commit
        with lock:
            alive -= 1
            done.append(source.name)
        return SourceResult(source=source.name, next_due=now + timedelta(minutes=10))

    monkeypatch.setattr(scheduler, "run_source", run)
    with _scheduling(service):
        for name in names:
            service._schedule(name, datetime.now(UTC))
        deadline = time.monotonic() + 10
        while len(done) < len(names) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(done) == names
        assert most_fetching == 2
        assert most_alive >= 4


def test_a_turn_asked_for_while_a_run_waits_for_a_free_thread_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With every job thread busy, a source's run waits in the pool. A turn
    asked for it meanwhile (its host's queue waking it, a reload) was
    skipped as if the two runs overlapped: the scheduler logged a warning
    and the source waited for the turn its run then booked."""
    (tmp_path / "feed.rss").write_text("<rss/>", encoding="utf-8")
    base = BASE_CONFIG.replace("  host_delay: 0\n", "  host_delay: 0\n  concurrency: 1\n")
    config_path = write_config(
        tmp_path,
        "  - name: a\n    type: feed\n    path: feed.rss\n"
        "  - name: s\n    type: feed\n    path: feed.rss\n",
        base + "schedule:\n  jitter: 0\n",
    )
    service = scheduler.Service(config_path, load_config(config_path))
    a_running, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def run(config, source, *, now, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(source.name)
        if source.name == "a":
            a_running.set()
            release.wait(5)
        return SourceResult(source=source.name, next_due=now + timedelta(minutes=10))

    monkeypatch.setattr(scheduler, "run_source", run)
    with _scheduling(service, release):
        with caplog.at_level(logging.WARNING):
            service._schedule("a", datetime.now(UTC))
            assert a_running.wait(5)
            service._schedule("s", datetime.now(UTC))
            deadline = time.monotonic() + 5
            while service._scheduler.get_job("s") is not None and time.monotonic() < deadline:
                time.sleep(0.02)  # until handed to the pool, where it waits
            service._schedule("s", datetime.now(UTC))  # as its host's queue wakes it
            time.sleep(0.3)
            release.set()
            deadline = time.monotonic() + 5
            while runs.count("s") < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert runs.count("s") == 2
        assert "skipped" not in caplog.text


def _one_turn_per_host(tmp_path: Path, server: Server, *, slow_delay: float) -> scheduler.Service:
    """A service (not started) of two sources on one host with one turn:
    `a` answers after `slow_delay` seconds, `b` at once."""
    slow = server.add("/slow.rss", "<rss/>", delay=slow_delay)
    quick = server.add("/quick.rss", "<rss/>")
    base = BASE_CONFIG.replace("  host_delay: 0\n", "  host_delay: 0\n  per_host: 1\n")
    config_path = write_config(
        tmp_path,
        f"  - name: a\n    type: feed\n    url: {slow}\n"
        f"  - name: b\n    type: feed\n    url: {quick}\n",
        base + "schedule:\n  jitter: 0\n",
    )
    return scheduler.Service(config_path, load_config(config_path))


def _b_behind_a(service: scheduler.Service, server: Server) -> None:
    """Run `a`, and once its fetch has reached the server, `b`, which finds
    the host busy."""
    service._schedule("a", datetime.now(UTC))
    deadline = time.monotonic() + 5
    while not server.hits("/slow.rss") and time.monotonic() < deadline:
        time.sleep(0.01)
    service._schedule("b", datetime.now(UTC))


def test_a_source_that_finds_its_host_busy_keeps_its_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: Server
) -> None:
    """A source whose host is busy books a turn a few seconds on and ends at
    once, on a job thread just started, before the scheduler has finished
    handing its run over. The turn it booked was added, then removed with
    the turn that had fired (the scheduler removes that one by the source's
    name, afterwards): the source had no turn left, and waited for the
    host's other run to wake it, however long that took."""
    monkeypatch.setattr(scheduler, "HOST_BUSY_RETRY", 0.2)
    service = _one_turn_per_host(tmp_path, server, slow_delay=2.0)
    busy: list[str] = []
    waiting = service._wait_for_host

    def counted(host: str, name: str) -> None:
        busy.append(name)
        waiting(host, name)

    monkeypatch.setattr(service, "_wait_for_host", counted)
    with _scheduling(service):
        _b_behind_a(service, server)
        time.sleep(1.0)  # a's fetch still going
        assert server.hits("/quick.rss") == []
        assert busy.count("b") >= 3, f"b looked for a free turn {busy.count('b')} time(s)"
        assert "b" in service.jobs()


def test_a_source_waiting_for_a_busy_host_starts_when_the_fetch_ahead_of_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: Server
) -> None:
    """With one turn per host, a source that found the host busy runs as
    soon as the run ahead of it has fetched, not once that run's items are
    committed (the store holds a commit a little for other runs'): else
    such sources would go one per commit."""
    monkeypatch.setattr(scheduler, "HOST_BUSY_RETRY", 30.0)
    service = _one_turn_per_host(tmp_path, server, slow_delay=0.5)
    times: dict[str, tuple[float, float]] = {}

    def run(config, source, *, now, fetcher, fetched, **kwargs):  # type: ignore[no-untyped-def]
        fetcher.fetch(source)
        started = time.monotonic()
        fetched()
        time.sleep(0.6)  # its items waiting for their commit
        times[source.name] = (started, time.monotonic())
        return SourceResult(source=source.name, next_due=now + timedelta(minutes=10))

    monkeypatch.setattr(scheduler, "run_source", run)
    with _scheduling(service):
        _b_behind_a(service, server)
        deadline = time.monotonic() + 5
        while len(times) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert set(times) == {"a", "b"}
        b_fetched, _b_ended = times["b"]
        _a_fetched, a_ended = times["a"]
        assert b_fetched < a_ended


def test_a_reload_leaves_the_files_a_publish_in_progress_is_writing(tmp_path: Path) -> None:
    """A reload that re-renders the feeds swept the output folder's
    temporary files before it waited for the publish under way, whose
    files then vanished under it ("No such file or directory"): that
    publish failed, and the feeds stayed stale until it was tried again a
    minute later."""
    (tmp_path / "feed.rss").write_text("<rss/>", encoding="utf-8")
    config_path = write_config(tmp_path, "  - name: s\n    type: feed\n    path: feed.rss\n")
    service = scheduler.Service(config_path, load_config(config_path))
    output = service.config.output_dir
    output.mkdir(parents=True, exist_ok=True)
    writing = output / ".feeds-being-written.tmp"  # as publish_file names them
    writing.write_bytes(b"<feed>half")
    reloading = None
    try:
        with service._publish_lock:  # a publish under way
            config_path.write_text(
                config_path.read_text(encoding="utf-8").replace(
                    "rubrics:\n", "rubrics:\n  - slug: added\n    title: Added\n", 1
                ),
                encoding="utf-8",
            )
            reloading = threading.Thread(target=service.reload)
            reloading.start()
            reloading.join(1.0)
            assert writing.exists(), "swept under the publish in progress"
        reloading.join(30)
        assert not reloading.is_alive()
        assert (output / "added.atom").exists()  # the reload re-rendered once it could
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_reload_whose_feeds_cannot_be_written_does_not_say_they_were(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A reload to an output folder that cannot be made logged the error,
    then "config applied ...; feeds re-rendered": the operator read that
    the feeds were written when none was."""
    config_path = write_config(tmp_path, "")
    service = scheduler.Service(config_path, load_config(config_path))
    (tmp_path / "blocker").write_text("a file, not a folder", encoding="utf-8")
    try:
        text = config_path.read_text(encoding="utf-8")
        config_path.write_text(text.replace("dir: output", "dir: blocker/output"))
        with caplog.at_level(logging.INFO, logger="feeds"):
            assert service.reload()
        messages = [record.getMessage() for record in caplog.records]
        assert any("feeds not re-rendered" in message for message in messages), messages
        applied = [message for message in messages if message.startswith("config applied")]
        assert applied == [
            "config applied: 0 sources added, 0 removed, 0 changed; output now in "
            f"{tmp_path / 'blocker' / 'output'} ({tmp_path / 'output'} keeps what it holds)"
        ]
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_reload_says_which_rubrics_it_added_removed_or_changed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """It said "config applied: 0 sources added, 0 removed, 0 changed" of a
    rubric renamed, one retitled and one taken out."""
    config_path = write_config(tmp_path, "")
    service = scheduler.Service(config_path, load_config(config_path))
    try:
        text = config_path.read_text(encoding="utf-8")
        edited = (
            text.replace("slug: art\n", "slug: visual-art\n")
            .replace("title: Общество", "title: Общество и люди")
            .replace("  - slug: news\n    title: Новости\n    aliases: [news]\n", "")
        )
        assert edited.count("visual-art") == 1 and "slug: news" not in edited
        config_path.write_text(edited, encoding="utf-8")
        with caplog.at_level(logging.INFO, logger="feeds"):
            assert service.reload()
        (applied,) = [r.getMessage() for r in caplog.records if "config applied" in r.getMessage()]
        assert applied.startswith(
            "config applied: 0 sources added, 0 removed, 0 changed; rubrics added: visual-art; "
            "rubrics removed: art, news; rubrics changed: society"
        ), applied
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_reload_says_when_it_changed_the_fetch_settings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A host allowed, or the pause between requests changed: the log said
    "0 sources added, 0 removed, 0 changed" and nothing else."""
    config_path = write_config(tmp_path, "")
    service = scheduler.Service(config_path, load_config(config_path))
    try:
        text = config_path.read_text(encoding="utf-8")
        config_path.write_text(text.replace("host_delay: 0", "host_delay: 2"), encoding="utf-8")
        with caplog.at_level(logging.INFO, logger="feeds"):
            assert service.reload()
        (applied,) = [r.getMessage() for r in caplog.records if "config applied" in r.getMessage()]
        assert (
            applied
            == "config applied: 0 sources added, 0 removed, 0 changed; fetch settings changed"
        )
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_reload_that_turns_the_archive_on_archives_what_the_feeds_no_longer_hold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """archive_page_size turned back on: nothing was archived until a feed
    next changed (days, for a quiet rubric), and the stories past the
    current documents were out of every reader's reach until then."""
    base = BASE_CONFIG.replace("max_items: 50", "max_items: 3\n  archive_page_size: 0")
    config_path = write_config(tmp_path, "", base=base)
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    with Store(load_config(config_path).storage_url) as store, store.transaction():
        store.upsert(
            [
                Item(
                    source="alpha",
                    id=f"https://x.example/{n}",
                    title=f"Story {n}",
                    link=f"https://x.example/{n}",
                    published=now - timedelta(hours=n),
                )
                for n in range(1, 8)
            ],
            now=now,
        )
    service = scheduler.Service(config_path, load_config(config_path))
    try:
        config_path.write_text(
            config_path.read_text(encoding="utf-8").replace(
                "archive_page_size: 0", "archive_page_size: 2"
            ),
            encoding="utf-8",
        )
        with caplog.at_level(logging.INFO, logger="feeds"):
            assert service.reload()
        (applied,) = [r.getMessage() for r in caplog.records if "config applied" in r.getMessage()]
        assert applied.endswith("output limits changed; feeds re-rendered"), applied
        output = tmp_path / "output"
        current = {e.id for e in feedparser.parse((output / "all.atom").read_bytes()).entries}
        archived = {
            entry.id
            for page in (output / "archive" / "all").glob("*.atom")
            for entry in feedparser.parse(page.read_bytes()).entries
        }
        assert len(current) == 3
        assert current | archived == {f"https://x.example/{n}" for n in range(1, 8)}
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_reload_never_moves_output_dir_over_the_store_the_service_keeps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """storage.url changes only at a restart. One edit that moved the store
    out of a folder and made that folder output.dir passed the check (the
    new store is outside it), and the service went on with its old store
    inside the published folder: anyone could download the database."""
    config_path = write_config(tmp_path, "")
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(
        text.replace("output:\n", "storage:\n  url: sqlite:///data/feeds.db\noutput:\n", 1)
    )
    (tmp_path / "data").mkdir()
    service = scheduler.Service(config_path, load_config(config_path))
    try:
        running = service.config
        config_path.write_text(
            text.replace("output:\n", "storage:\n  url: sqlite:///feeds2.db\noutput:\n", 1).replace(
                "dir: output", "dir: data"
            )
        )
        with caplog.at_level(logging.INFO, logger="feeds"):
            assert not service.reload()
        assert service.config is running
        assert not (tmp_path / "data" / "index.html").exists()
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1
        assert "config not applied, the running one stays" in errors[0]
        assert "output.dir" in errors[0] and "data/feeds.db" in errors[0]
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_reload_logs_the_problem_of_every_broken_source_and_keeps_the_running_config(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_path = write_config(tmp_path, "  - name: a\n    type: feed\n    path: a.xml\n")
    text = config_path.read_text(encoding="utf-8")
    service = scheduler.Service(config_path, load_config(config_path))
    try:
        running = service.config
        config_path.write_text(
            text
            + "  - name: b\n    type: feed\n    path: b.xml\n    intervl: 5m\n"
            + "  - name: c\n    type: feed\n    path: c.xml\n"
            + "  - name: d\n    type: feed\n    path: d.xml\n    rubrics: [arts]\n",
            encoding="utf-8",
        )
        with caplog.at_level(logging.INFO, logger="feeds"):
            assert not service.reload()
        assert service.config is running
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 2, errors
        assert errors[0].startswith("config not applied, the running one stays: ")
        assert "sources[1].intervl (source 'b'): unknown key" in errors[0]
        assert errors[1].startswith("config not applied: also ")
        assert "sources[3].rubrics[0] (source 'd'): no rubric with slug 'arts'" in errors[1]
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_reload_whose_feeds_could_not_be_written_has_them_written_once_they_can_be(
    tmp_path: Path,
) -> None:
    """A reload's re-render that failed (its new output folder could not be
    made, a full disk) was not tried again: the publisher, which retries
    only feeds that runs changed, then failed every minute on a folder
    never made, or wrote a new rubric's feed never, and left a removed
    one's files served."""
    config_path = write_config(tmp_path, "")
    service = scheduler.Service(config_path, load_config(config_path))
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    try:
        text = config_path.read_text(encoding="utf-8")
        config_path.write_text(text.replace("dir: output", "dir: blocker/output"))
        assert service.reload()
        assert service._publisher._wanted.is_set()  # a publish is asked for
        blocker.unlink()  # the operator makes room
        assert service._publish_pending()
        assert (tmp_path / "blocker" / "output" / "index.html").exists()
        assert (tmp_path / "blocker" / "output" / "literature.atom").exists()
    finally:
        service._fetcher.close()
        service._wake_up.close()
        service._waker.close()


def test_a_run_waiting_for_a_fetch_slot_across_a_reload_follows_the_new_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that waits for a fetch slot (every slot busy) while a reload
    removes its source must not fetch and store it with the config and
    HTTP client the reload retired."""
    (tmp_path / "feed.rss").write_text("<rss/>", encoding="utf-8")
    base = BASE_CONFIG.replace("  host_delay: 0\n", "  host_delay: 0\n  concurrency: 1\n")
    both = (
        "  - name: a\n    type: feed\n    path: feed.rss\n"
        "  - name: s\n    type: feed\n    path: feed.rss\n"
    )
    config_path = write_config(tmp_path, both, base + "schedule:\n  jitter: 0\n")
    service = scheduler.Service(config_path, load_config(config_path))
    a_running, release = threading.Event(), threading.Event()
    runs: list[tuple[str, bool, bool]] = []

    def run(config, source, *, now, fetcher, fetched, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(
            (
                source.name,
                any(s.name == "s" for s in config.sources)
                == any(s.name == "s" for s in service.config.sources),
                fetcher is service._fetcher,
            )
        )
        if source.name == "a":
            a_running.set()
            release.wait(5)
        return SourceResult(source=source.name, next_due=now + timedelta(minutes=10))

    monkeypatch.setattr(scheduler, "run_source", run)
    with _scheduling(service, release):
        service._schedule("a", datetime.now(UTC))
        assert a_running.wait(5)
        service._schedule("s", datetime.now(UTC))
        time.sleep(0.5)  # s is in _run_source, waiting for the only slot
        # A reload that removes s (and changes the fetch settings, so the
        # HTTP client is replaced).
        text = config_path.read_text(encoding="utf-8")
        text = text.replace("  - name: s\n    type: feed\n    path: feed.rss\n", "")
        text = text.replace("  concurrency: 1\n", "  concurrency: 1\n  per_host: 3\n")
        config_path.write_text(text, encoding="utf-8")
        assert service.reload()
        assert all(s.name != "s" for s in service.config.sources)
        release.set()
        time.sleep(1.0)
        assert [name for name, _, _ in runs] == ["a"], runs


def test_stopping_while_the_scheduler_hands_out_a_turn_leaves_no_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stop that came while the scheduler was handing out a turn that
    fired: its thread died with a JobLookupError traceback in the service's
    log (seen once in a few hundred stops of a busy service). Here the
    scheduler is held inside that hand-out until the stop has begun."""
    handing_out, go_on = threading.Event(), threading.Event()

    class HeldWhileHandingOut(MemoryJobStore):  # type: ignore[misc]
        def get_due_jobs(self, now: datetime) -> list[object]:
            due: list[object] = super().get_due_jobs(now)
            if due:
                handing_out.set()
                go_on.wait(10)
            return due

    died: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_type))
    jobs = BackgroundScheduler(jobstores={"default": HeldWhileHandingOut()}, timezone=UTC)
    jobs.start()
    jobs.add_job(lambda: None, trigger=DateTrigger(run_date=datetime.now(UTC)), id="a")
    assert handing_out.wait(10)
    ending = threading.Thread(target=end_scheduler, args=(jobs,))
    ending.start()
    deadline = time.monotonic() + 10
    while jobs.state == STATE_RUNNING and time.monotonic() < deadline:
        time.sleep(0.01)
    go_on.set()
    ending.join(10)
    assert not ending.is_alive() and not jobs.running
    assert died == []
