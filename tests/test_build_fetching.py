"""How `feeds build` spreads its fetches over its threads: per-host turns
kept, a slow source not holding up the others, a bounded number of
outcomes held whatever the number of sources, and a clean end on Ctrl-C,
on a failure and on an error."""

from __future__ import annotations

import itertools
import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds import pipeline
from feeds.config import load_config
from feeds.fetch import Fetcher
from feeds.store import SourceState

from .conftest import BASE_CONFIG, Server, write_config

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _config(tmp_path: Path, server: Server, count: int, fetch: str, other: Server | None = None):
    sources = ""
    for number in range(count):
        host = other if (other is not None and number == 0) else server
        sources += f"  - name: s{number}\n    type: feed\n    url: {host.url}/f{number}.rss\n"
    base = BASE_CONFIG.replace("fetch:\n  host_delay: 0\n", "fetch:\n" + fetch)
    return load_config(write_config(tmp_path, sources, base))


def _collect(config, monkeypatch, job):
    """_collect_all with collect_source replaced by `job(source)`."""

    def fake(source, *args, **kwargs):
        return job(source)

    monkeypatch.setattr(pipeline, "collect_source", fake)
    fetcher = Fetcher(config.site.base_url, per_host=config.per_host, host_delay=config.host_delay)
    states = {s.name: SourceState(name=s.name) for s in config.sources}
    return fetcher, pipeline._collect_all(config, fetcher, states, NOW, None)


def test_outcomes_held_stay_within_the_window(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bounded number of outcomes held, whatever the number of sources:
    a slow first source does not get every source behind it fetched and
    held until it is done."""
    config = _config(tmp_path, server, 300, "  host_delay: 0\n  concurrency: 2\n  per_host: 2\n")
    window = max(4 * 2, 32)
    lock = threading.Lock()
    finished = 0

    def job(source):
        nonlocal finished
        if source.name == "s0":
            time.sleep(1.0)
        with lock:
            finished += 1
        return pipeline._Collected(source=source)

    fetcher, collecting = _collect(config, monkeypatch, job)
    most_held = 0
    with fetcher:
        for taken, _collected in enumerate(collecting):
            with lock:
                most_held = max(most_held, finished - taken)
    # The fetch threads may each have one more under way.
    assert most_held <= window + 2, f"{most_held} outcomes held at once (window {window})"


def _real(tmp_path: Path, server: Server, count: int, fetch: str, slow: float):
    sources = ""
    for number in range(count):
        url = server.add(f"/f{number}.rss", _rss(number), delay=slow if number == 0 else 0.0)
        sources += f"  - name: s{number}\n    type: feed\n    url: {url}\n"
    base = BASE_CONFIG.replace("fetch:\n  host_delay: 0\n", "fetch:\n" + fetch)
    config = load_config(write_config(tmp_path, sources, base))
    fetcher = Fetcher(
        config.site.base_url,
        per_host=config.per_host,
        host_delay=config.host_delay,
        allow_private=config.allow_private,
    )
    states = {s.name: SourceState(name=s.name) for s in config.sources}
    return fetcher, pipeline._collect_all(config, fetcher, states, NOW, None)


def _rss(number: int) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<link>https://x.example/</link><description>d</description>"
        f"<item><title>Story {number}</title><link>https://x.example/{number}</link></item>"
        "</channel></rss>"
    )


def _source_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("feeds-source")]


@pytest.mark.parametrize("count", [1, 40])
def test_ctrl_c_while_waiting_for_a_slow_head_ends_promptly(
    tmp_path: Path, server: Server, count: int
) -> None:
    def interrupt() -> None:
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    fetcher, collecting = _real(
        tmp_path, server, count, "  host_delay: 0.2\n  concurrency: 2\n  per_host: 1\n", slow=5
    )
    timer = threading.Timer(0.5, interrupt)
    started = time.monotonic()
    # As in `feeds build`: Python's own handler, whatever an earlier test
    # in this process installed (the service's, say).
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        with fetcher:
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                for _ in collecting:
                    pass
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)
    assert time.monotonic() - started < 2
    assert not _source_threads()
    asked = len(server.requests)
    time.sleep(0.5)
    assert len(server.requests) == asked


def test_closing_early_stops_fetching(tmp_path: Path, server: Server) -> None:
    fetcher, collecting = _real(
        tmp_path, server, 40, "  host_delay: 0.1\n  concurrency: 4\n  per_host: 1\n", slow=0
    )
    with fetcher:
        next(collecting)
        started = time.monotonic()
        collecting.close()
        assert time.monotonic() - started < 1
    assert not _source_threads()
    asked = len(server.requests)
    time.sleep(0.5)
    assert len(server.requests) == asked < 40


class _DecisionClock:
    """`time` for the pipeline module, which remembers the clock reading
    each thread took last: the one a dispatching thread took its job by,
    when the job starts on it."""

    def __init__(self) -> None:
        self.last: dict[int, float] = {}

    def monotonic(self) -> float:
        now = time.monotonic()
        self.last[threading.get_ident()] = now
        return now

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


def test_by_host_keeps_per_host_and_delay(monkeypatch) -> None:
    """_ByHost alone (no fetcher gate): at most per_host at once per host,
    starts `delay` apart, local jobs ('') free; everything runs. The starts
    are the dispatcher's own readings of the clock, as it took each job:
    a job's thread noting the time itself may be held up a few
    milliseconds on a busy machine, and its gap to the next look short."""
    clock = _DecisionClock()
    monkeypatch.setattr(pipeline, "time", clock)
    rng = random.Random(7)
    lock = threading.Lock()
    running: dict[str, int] = {}
    most: dict[str, int] = {}
    starts: dict[str, list[float]] = {}

    def job(host: str, seconds: float):
        def run():
            taken_at = clock.last[threading.get_ident()]
            with lock:
                running[host] = running.get(host, 0) + 1
                most[host] = max(most.get(host, 0), running[host])
                starts.setdefault(host, []).append(taken_at)
            time.sleep(seconds)
            with lock:
                running[host] -= 1
            return host

        return run

    dispatch = pipeline._ByHost(5, 2, 0.05, room=1000)
    try:
        futures = [
            dispatch.submit(host, job(host, rng.uniform(0, 0.08)))
            for host in (rng.choice(["a", "b", "c", ""]) for _ in range(120))
        ]
        for future in futures:
            future.result(timeout=10)
    finally:
        dispatch.close()
    for host in ("a", "b", "c"):
        assert most[host] <= 2
        gaps = [b - a for a, b in itertools.pairwise(sorted(starts[host]))]
        assert min(gaps) >= 0.05 - 1e-9
    assert not _source_threads()


def test_retry_after_sources_and_local_files_go_through(tmp_path: Path, server: Server) -> None:
    """Pre-completed (Retry-After) futures, local files (host '') and a slow
    web head, with more of them than the window."""
    local = tmp_path / "local.rss"
    local.write_text(_rss(999), encoding="utf-8")
    sources = (
        f"  - name: s0\n    type: feed\n    url: {server.add('/slow.rss', _rss(0), delay=1)}\n"
    )
    for number in range(1, 121):
        if number % 3 == 0:
            sources += f"  - name: s{number}\n    type: feed\n    path: {local}\n"
        else:
            url = server.add(f"/f{number}.rss", _rss(number))
            sources += f"  - name: s{number}\n    type: feed\n    url: {url}\n"
    base = BASE_CONFIG.replace(
        "fetch:\n  host_delay: 0\n", "fetch:\n  host_delay: 0\n  concurrency: 3\n  per_host: 3\n"
    )
    config = load_config(write_config(tmp_path, sources, base))
    states = {s.name: SourceState(name=s.name) for s in config.sources}
    for number in range(1, 121, 2):
        source = config.sources[number]
        states[source.name] = SourceState(
            name=source.name, retry_until=NOW + timedelta(hours=1), retry_url=source.location
        )
    fetcher = Fetcher(
        config.site.base_url, per_host=3, host_delay=0, allow_private=config.allow_private
    )
    with fetcher:
        got = [c.source.name for c in pipeline._collect_all(config, fetcher, states, NOW, None)]
    assert sorted(got) == sorted(s.name for s in config.sources)
    assert not _source_threads()


def test_a_head_queued_for_its_host_with_every_source_submitted(
    tmp_path: Path, server: Server, other_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """s0 (slow) and s1 share a host taking one at a time; 200 sources of
    another host behind them. Every source is fetched while s0 is slow, no
    more than the window is held, and nothing waits for ever."""
    sources = ""
    for number in range(202):
        host = other_server if number < 2 else server
        sources += f"  - name: s{number}\n    type: feed\n    url: {host.url}/f{number}.rss\n"
    base = BASE_CONFIG.replace(
        "fetch:\n  host_delay: 0\n", "fetch:\n  host_delay: 0\n  concurrency: 3\n  per_host: 1\n"
    )
    config = load_config(write_config(tmp_path, sources, base))
    lock = threading.Lock()
    finished: list[str] = []

    def job(source):
        time.sleep(1.0 if source.name == "s0" else 0.001)
        with lock:
            finished.append(source.name)
        return pipeline._Collected(source=source)

    fetcher, collecting = _collect(config, monkeypatch, job)
    started = time.monotonic()
    most_held = 0
    got = []
    with fetcher:
        for collected in collecting:
            got.append(collected.source.name)
            with lock:
                most_held = max(most_held, len(finished) - len(got) + 1)
    assert time.monotonic() - started < 2.5
    assert sorted(got) == sorted(s.name for s in config.sources)
    assert got.index("s0") < got.index("s1")
    assert most_held <= 32 + 3


def test_sources_done_behind_a_slow_head_are_handed_on_meanwhile(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the window full and a thread idle, the outcomes done behind a
    slow first source go first: the fetching goes on meanwhile. The slow
    source ends once 200 others are handed on (or after 30 s: a collection
    that waits for it gets stuck at the window's 32); it used to take a
    second, in which a loaded machine sometimes did fewer than 200."""
    config = _config(tmp_path, server, 300, "  host_delay: 0\n  concurrency: 4\n  per_host: 4\n")
    got: list[str] = []

    def job(source):
        if source.name == "s0":
            deadline = time.monotonic() + 30
            while len(got) < 200 and time.monotonic() < deadline:
                time.sleep(0.01)
        else:
            time.sleep(0.002)
        return pipeline._Collected(source=source)

    fetcher, collecting = _collect(config, monkeypatch, job)
    with fetcher:
        for collected in collecting:
            got.append(collected.source.name)
    assert got.index("s0") >= 200, f"{got.index('s0')} handed on before the slow head"


def test_a_job_raising_ends_the_collection_and_its_threads(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, server, 60, "  host_delay: 0\n  concurrency: 4\n  per_host: 4\n")

    def job(source):
        if source.name == "s5":
            raise RuntimeError("boom")
        time.sleep(0.01)
        return pipeline._Collected(source=source)

    fetcher, collecting = _collect(config, monkeypatch, job)
    with fetcher, pytest.raises(RuntimeError, match="boom"):
        for _ in collecting:
            pass
    assert not _source_threads()


def test_one_source(tmp_path: Path, server: Server) -> None:
    fetcher, collecting = _real(tmp_path, server, 1, "  host_delay: 1\n", slow=0.3)
    with fetcher:
        got = list(collecting)
    assert [c.source.name for c in got] == ["s0"] and got[0].items
    assert not _source_threads()


def test_an_interrupt_while_submitting_stops_the_threads(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or any error) while _collect_all is still submitting its
    sources: the jobs already submitted must not go on being fetched, and
    the dispatcher's threads must end, as for an interrupt a moment later."""
    config = _config(tmp_path, server, 60, "  host_delay: 0\n  concurrency: 4\n  per_host: 4\n")
    made: list[pipeline._ByHost] = []

    class Recorded(pipeline._ByHost):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(pipeline, "_ByHost", Recorded)
    real_context = pipeline._context
    calls = 0

    def context(*args):
        nonlocal calls
        calls += 1
        if calls == 30:
            raise KeyboardInterrupt
        return real_context(*args)

    monkeypatch.setattr(pipeline, "_context", context)
    ran: list[str] = []

    def job(source):
        ran.append(source.name)
        time.sleep(0.05)
        return pipeline._Collected(source=source)

    fetcher, collecting = _collect(config, monkeypatch, job)
    try:
        with fetcher, pytest.raises(KeyboardInterrupt):
            next(collecting)
        at_interrupt = len(ran)
        time.sleep(0.3)
        after = len(ran) - at_interrupt
        left = _source_threads()
        stopped = fetcher._stopped.is_set()
    finally:
        for dispatch in made:  # the leak must not spoil the tests after this one
            dispatch.close()
    assert after == 0, f"{after} sources fetched after the interrupt"
    assert not left, f"{len(left)} fetch threads still running after the interrupt"
    assert stopped, "the fetcher was not stopped: fetches in flight run to their time-outs"


class _Tracked:
    """Counts the outcomes still alive (in memory, anywhere)."""

    lock = threading.Lock()
    alive = 0

    def __init__(self) -> None:
        with _Tracked.lock:
            _Tracked.alive += 1

    def __del__(self) -> None:
        with _Tracked.lock:
            _Tracked.alive -= 1


def test_outcomes_alive_stay_within_the_window_while_a_batch_is_stored(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory bound in memory, not only in the count: outcomes handed on
    and stored must be freed, not kept alive by the batch of done outcomes
    being yielded behind a slow head while the threads fetch their
    replacements."""
    config = _config(tmp_path, server, 300, "  host_delay: 0\n  concurrency: 4\n  per_host: 4\n")
    window = max(4 * 4, 32)
    _Tracked.alive = 0

    def job(source):
        time.sleep(1.0 if source.name == "s0" else 0.002)
        return pipeline._Collected(source=source, items=(_Tracked(),))  # type: ignore[arg-type]

    fetcher, collecting = _collect(config, monkeypatch, job)
    most = 0
    with fetcher:
        for collected in collecting:
            del collected
            time.sleep(0.003)  # storing it
            most = max(most, _Tracked.alive)
    # The window, one per thread under way, the one being stored.
    assert most <= window + 4 + 1, f"{most} outcomes alive at once (window {window})"
