"""`feeds run` as a subprocess: schedules, health, metrics, live reload, signals."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from feeds.store import RunLock
from feeds.workers import WORKER_NICENESS

from .conftest import (
    BASE_CONFIG,
    FEEDS_WITH_SHORT_INTERVALS,
    ROOT,
    Server,
    allowing,
    descendants,
    group_ends,
    run_cli,
    write_config,
)

pytestmark = pytest.mark.slow


def rss(*titles: str) -> str:
    items = "".join(
        f"<item><title>{t}</title><link>https://x.example/{abs(hash(t))}</link>"
        f"<category>art</category></item>"
        for t in titles
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://x.example/</link><description>d</description>{items}</channel></rss>"
    )


SERVICE = """\
schedule:
  jitter: 0
server:
  host: 127.0.0.1
  port: 0
"""


class Running:
    """A `feeds run` process and what it printed."""

    def __init__(self, config: Path, *, own_group: bool = False) -> None:
        self.config = config
        self.log = config.parent / "service.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [*FEEDS_WITH_SHORT_INTERVALS, "run", "-c", str(config)],
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            cwd=config.parent,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            # As a terminal starts it: Ctrl-C signals the whole group.
            start_new_session=own_group,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
        assert match, f"no serving line: {line!r}\n{self.stderr()}"
        self.url = match.group(1)

    def edit_config(self, old: str, new: str) -> None:
        """config.yaml with `old` made `new`, saved as editors save: written
        beside it, then renamed over it."""
        edited = self.config.with_name("edited.yaml")
        text = self.config.read_text(encoding="utf-8")
        edited.write_text(text.replace(old, new), encoding="utf-8")
        os.replace(edited, self.config)

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for(self, check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        raise AssertionError(f"condition not met in {timeout} s\n{self.stderr()}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # What it was doing is in its log (a rare stop over 10 s after
            # its workers were killed again and again was seen without it).
            raise AssertionError(
                f"not stopped 10 s after SIGTERM\n{self.stderr()[-6000:]}"
            ) from None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._log_file.close()


@pytest.fixture
def start(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    running: list[Running] = []

    def launch(sources: str) -> Running:
        config = tmp_path / "config.yaml"
        base = allowing(BASE_CONFIG + SERVICE, sources)
        config.write_text(base + "sources:\n" + sources, encoding="utf-8")
        running.append(Running(config))
        return running[-1]

    yield launch
    for service in running:
        service.close()


def test_sources_run_on_their_own_intervals_with_health_and_metrics(server: Server, start) -> None:
    fast = server.add("/fast.rss", rss("Fast one"))
    slow = server.add("/slow.rss", rss("Slow one"))
    service = start(
        f"  - name: fast\n    type: feed\n    url: {fast}\n    interval: 0.5s\n"
        f"  - name: slow\n    type: feed\n    url: {slow}\n    interval: 2s\n"
    )
    started = time.monotonic()
    service.wait_for(lambda: len(server.hits("/fast.rss")) >= 7)
    elapsed = time.monotonic() - started
    fast_hits, slow_hits = len(server.hits("/fast.rss")), len(server.hits("/slow.rss"))
    # The slow source ran about once per two seconds, the fast one about
    # four times as often; both ran at start-up.
    assert 1 <= slow_hits <= elapsed / 2 + 2
    assert fast_hits > slow_hits

    feed = feedparser.parse(httpx.get(service.url + "all.atom").content)
    assert {e.title for e in feed.entries} == {"Fast one", "Slow one"}

    health = httpx.get(service.url + "healthz")
    assert health.status_code == 200
    assert {s["name"] for s in health.json()["sources"]} == {"fast", "slow"}

    metrics = httpx.get(service.url + "metrics").text
    samples = {
        (sample.name, sample.labels.get("source")): sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
    }
    assert samples[("feeds_source_fetches_total", "fast")] >= 5
    assert samples[("feeds_source_fetches_total", "slow")] >= 1
    assert ("feeds_rubric_items", None) in samples or any(
        name == "feeds_rubric_items" for name, _ in samples
    )

    assert service.stop() == 0


def test_broken_config_keeps_the_old_one_and_a_fix_is_applied(server: Server, start) -> None:
    first = server.add("/a.rss", rss("From A"))
    second = server.add("/b.rss", rss("From B"))
    service = start(f"  - name: a\n    type: feed\n    url: {first}\n    interval: 1h\n")
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))

    good = service.config.read_text(encoding="utf-8")
    service.config.write_text(good + "  - name: b\n    typo: feed\n", encoding="utf-8")
    service.wait_for(lambda: "config not applied" in service.stderr())
    assert re.search(
        r"config\.yaml:\d+: sources\[1\]\.typo \(source 'b'\): unknown key", service.stderr()
    )
    assert httpx.get(service.url + "all.atom").status_code == 200
    assert service.process.poll() is None

    # A FIFO in its place: the reload blocked reading it, deaf to SIGTERM
    # (/dev/zero filled the memory instead).
    fifo = service.config.with_name("fifo")
    os.mkfifo(fifo)
    os.replace(fifo, service.config)
    service.wait_for(lambda: "not a regular file" in service.stderr())
    assert httpx.get(service.url + "all.atom").status_code == 200

    fixed = service.config.with_name("fixed.yaml")
    fixed.write_text(
        good + f"  - name: b\n    type: feed\n    url: {second}\n    interval: 1h\n",
        encoding="utf-8",
    )
    os.replace(fixed, service.config)
    service.wait_for(lambda: "From B" in _read(output / "all.atom"))
    assert "From A" in _read(output / "all.atom")
    assert service.stop() == 0


def test_files_deleted_from_output_while_running_are_written_again(server: Server, start) -> None:
    """A feed file deleted by hand (or the whole output/) came back only
    with a change to that feed, or a restart."""
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    output = service.config.parent / "output"
    # The publish with the story ended: all.atom has it before the files
    # written after it (index.html among them) are in place.
    service.wait_for(lambda: "published:" in service.stderr().partition(" 1 new,")[2])
    assert "From A" in _read(output / "all.atom")
    (output / "all.rss").unlink()
    (output / "index.html").unlink()
    # Both, each in its time: a look at output/ between the two deletions
    # (one every OUTPUT_CHECK_SECONDS) writes the first again before the
    # second is gone, and the next look writes the second.
    service.wait_for(
        lambda: (output / "all.rss").is_file() and (output / "index.html").is_file(), timeout=15
    )
    assert "missing files of the feeds" in service.stderr()
    assert len(server.hits("/a.rss")) == 1  # written from the store, nothing fetched
    assert service.stop() == 0


def test_a_store_deleted_while_running_stops_the_service_saying_so(server: Server, start) -> None:
    """The runs went on storing into the deleted file, the publisher made
    a new empty one and published nothing, and nothing was logged."""
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    for path in service.config.parent.glob("feeds.db*"):
        path.unlink()
    service.wait_for(lambda: service.process.poll() is not None, timeout=15)
    assert service.process.returncode == 1
    assert "was deleted or replaced while the service ran" in service.stderr()
    assert "Traceback" not in service.stderr()
    assert not (service.config.parent / "feeds.db").exists()  # no new, empty store


def test_a_store_emptied_while_running_stops_the_service_and_a_restart_starts_afresh(
    server: Server, start
) -> None:
    """`: > feeds.db` keeps the file (same inode): the service waited 30 s
    for SQLite's lock on every request and publish, failing them with "disk
    I/O error" until someone restarted it."""
    feed = server.add("/a.rss", rss("From A"))
    source = f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n"
    service = start(source)
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    (service.config.parent / "feeds.db").write_bytes(b"")
    service.wait_for(lambda: service.process.poll() is not None, timeout=15)
    assert service.process.returncode == 1
    assert "was emptied or overwritten while the service ran" in service.stderr()
    assert "Traceback" not in service.stderr()
    again = start(source)  # what a service manager does: a new store, fetched afresh
    again.wait_for(lambda: len(server.hits("/a.rss")) == 2)
    again.wait_for(lambda: "From A" in _read(output / "all.atom"))
    assert again.stop() == 0
    assert "Traceback" not in again.stderr()


def test_a_port_in_use_ends_the_start_at_once_and_frees_the_store(
    server: Server, tmp_path: Path
) -> None:
    """The address was taken only after the runs were booked: the service
    said "Address already in use" and went on fetching until its runs'
    time-out (30 s here), logging tracebacks and holding the store, so that
    a service manager's restart was refused as "in use"."""
    silent = socket.create_server(("127.0.0.1", 0))  # takes connections, never answers
    hanging = f"http://127.0.0.1:{silent.getsockname()[1]}/hang.rss"
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    config = tmp_path / "config.yaml"
    sources = "".join(
        f"  - name: hang-{n}\n    type: feed\n    url: {hanging}?{n}\n    timeout: 30\n"
        for n in range(8)
    )
    config.write_text(
        allowing(BASE_CONFIG + SERVICE.replace("port: 0", f"port: {port}"), sources)
        + "sources:\n"
        + sources,
        encoding="utf-8",
    )
    try:
        began = time.monotonic()
        done = run_cli("run", "-c", str(config), short_intervals=True)
        took = time.monotonic() - began
    finally:
        taken.close()
        silent.close()
    assert done.returncode == 1
    assert f"127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert took < 20, f"the failed start took {took:.1f} s"
    build = run_cli("build", "-c", str(config))  # the store is free again
    assert "in use" not in build.stderr


def test_a_service_starts_and_stores_while_its_output_cannot_be_written(
    server: Server, start
) -> None:
    """A file that could not be written at start (a full disk, a read-only
    mount; here a folder in its way) kept the service from starting at
    all: nothing was fetched or stored until someone fixed output/."""
    feed = server.add("/a.rss", rss("From A"))
    source = f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 0.5s\n"
    first = start(source)
    output = first.config.parent / "output"
    first.wait_for(lambda: "From A" in _read(output / "all.atom"))
    assert first.stop() == 0
    (output / "all.json").unlink()
    (output / "all.json" / "in-the-way").mkdir(parents=True)
    server.add("/a.rss", rss("From A", "Fresh"))
    second = start(source)
    second.wait_for(lambda: "1 new" in second.stderr())
    assert "publishing at start failed" in second.stderr()
    shutil.rmtree(output / "all.json")
    second.wait_for(lambda: "Fresh" in _read(output / "all.json"), timeout=15)
    assert "Fresh" in _read(output / "all.atom")
    assert second.stop() == 0


def test_a_store_written_with_a_clock_ahead_does_not_keep_sources_waiting(
    server: Server, tmp_path: Path
) -> None:
    """After a `feeds build --now` with a later date (or a clock that ran
    ahead and was set back), the service fetched nothing until that date,
    and said nothing."""
    feed = server.add("/a.rss", rss("From A"))
    config = write_config(
        tmp_path, f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n"
    )
    ahead = run_cli("build", "-c", str(config), "--now", "2031-01-01T00:00:00Z")
    assert ahead.returncode == 0, ahead.stderr
    assert len(server.hits("/a.rss")) == 1
    config.write_text(config.read_text(encoding="utf-8") + SERVICE, encoding="utf-8")
    service = Running(config)
    try:
        service.wait_for(lambda: len(server.hits("/a.rss")) == 2)
        assert "later than now" in service.stderr()
        assert service.stop() == 0
    finally:
        service.close()


def test_a_new_output_dir_is_served_only_once_the_feeds_are_in_it(server: Server, start) -> None:
    """The server switched to a new output.dir the moment the config was
    read, before the feeds were published there: every request answered 404
    meanwhile (seconds, for a large archive), and for as long as publishing
    there failed."""
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    folder = service.config.parent
    service.wait_for(lambda: httpx.get(service.url + "all.atom").status_code == 200)
    (folder / "moved" / "all.atom" / "in-the-way").mkdir(parents=True)
    service.edit_config("dir: output", "dir: moved")
    service.wait_for(lambda: "feeds not re-rendered after the config change" in service.stderr())
    for name in ("all.atom", "index.html"):
        answer = httpx.get(service.url + name)
        assert answer.status_code == 200, name
    assert "From A" in httpx.get(service.url + "all.atom").text
    # The publisher tries once more at once, and fails with the folder
    # still in the way; then it waits for something new to publish, or for
    # PUBLISH_RETRY (60 s). Taken away only now: taken away as soon as the
    # first try failed, it was gone before the second on most runs, but
    # not on a loaded machine, where the test's 15 s then ran out.
    service.wait_for(lambda: "feeds not published (tried again in 60 s)" in service.stderr())
    assert not (folder / "moved" / "all.atom").is_file()
    shutil.rmtree(folder / "moved" / "all.atom")
    server.add("/a.rss", rss("From A", "From B"))
    service.edit_config("interval: 1h", "interval: 1s")  # fetched again soon, with a new story
    service.wait_for(lambda: (folder / "moved" / "all.atom").is_file(), timeout=15)
    shutil.rmtree(folder / "output")  # the old folder is no longer what is served
    service.wait_for(lambda: httpx.get(service.url + "all.atom").status_code == 200)
    assert "From B" in httpx.get(service.url + "all.atom").text
    assert service.stop() == 0


def test_dead_sites_do_not_keep_other_sites_waiting(server: Server, start) -> None:
    """Four sites that take connections and never answer, two sources
    each, held all eight fetch slots (the defaults) for their whole 30 s
    time-out, again and again: a healthy source asked for every half
    second was fetched once in 30 s."""
    silent = [socket.create_server(("127.0.0.1", 0), backlog=16) for _ in range(4)]
    try:
        dead = "".join(
            f"  - name: dead-{n}-{m}\n    type: feed\n"
            f"    url: http://127.0.0.1:{site.getsockname()[1]}/{m}.rss\n    timeout: 30\n"
            for n, site in enumerate(silent)
            for m in range(2)
        )
        feed = server.add("/a.rss", rss("From A"))
        service = start(
            dead + f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 0.5s\n"
        )
        service.wait_for(lambda: len(server.hits("/a.rss")) >= 3, timeout=20)
        assert service.stop() == 0
    finally:
        for site in silent:
            site.close()


def test_a_config_link_moved_to_another_folder_is_said_in_the_log(
    server: Server, tmp_path: Path
) -> None:
    """config.yaml a link into a release folder, swapped to the next
    release's: its relative output.dir moved there without a word, and
    its store at the next start."""
    feed = server.add("/a.rss", rss("From A"))
    text = allowing(BASE_CONFIG + SERVICE, feed) + (
        f"sources:\n  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n"
    )
    for release in ("v1", "v2"):
        (tmp_path / release).mkdir()
        (tmp_path / release / "config.yaml").write_text(text, encoding="utf-8")
    link = tmp_path / "config.yaml"
    link.symlink_to(tmp_path / "v1" / "config.yaml")
    service = Running(link)
    try:
        service.wait_for(lambda: (tmp_path / "v1" / "output" / "all.atom").is_file())
        swapped = tmp_path / "swapped"
        swapped.symlink_to(tmp_path / "v2" / "config.yaml")
        os.replace(swapped, link)
        service.process.send_signal(signal.SIGHUP)
        service.wait_for(lambda: "now resolves to" in service.stderr())
        assert str(tmp_path / "v2" / "config.yaml") in service.stderr()
        assert service.stop() == 0
    finally:
        service.close()


def test_a_build_on_another_store_cannot_write_the_services_output(server: Server, start) -> None:
    """storage.url edited while the service ran (it takes effect at its
    restart), then `feeds build` on the edited config: the build wrote the
    service's output/ from the other store, rewriting every archive page
    with that store's numbering, and the service wrote them back."""
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    edited = service.config.read_text(encoding="utf-8") + 'storage:\n  url: "sqlite:///other.db"\n'
    other = service.config.with_name("other.yaml")
    other.write_text(edited, encoding="utf-8")
    build = run_cli("build", "-c", str(other))
    assert build.returncode == 1
    assert f"output {output}: in use by run pid {service.process.pid}" in build.stderr
    assert "publishes to this folder itself" in build.stderr
    assert service.stop() == 0
    again = run_cli("build", "-c", str(other))  # once the service is gone
    assert again.returncode == 0, again.stderr


def test_forget_waits_for_no_service_and_changes_nothing_under_one(server: Server, start) -> None:
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    story = feedparser.parse((output / "all.atom").read_bytes()).entries[0].id

    refused = run_cli("forget", "-c", str(service.config), story)

    assert refused.returncode == 1
    assert "in use by run pid" in refused.stderr and "stop it first" in refused.stderr
    assert "From A" in _read(output / "all.atom")
    assert service.stop() == 0
    done = run_cli("forget", "-c", str(service.config), story)
    assert done.returncode == 0, done.stderr
    assert "From A" not in _read(output / "all.atom")


def test_a_reload_moving_output_into_a_folder_another_run_holds_is_not_applied(
    server: Server, start
) -> None:
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    folder = service.config.parent
    service.wait_for(lambda: "From A" in _read(folder / "output" / "all.atom"))
    held = RunLock.for_output(folder / "theirs", "run")
    held.acquire()
    try:
        service.edit_config("dir: output", "dir: theirs")
        service.wait_for(lambda: "config not applied" in service.stderr())
        assert f"output {folder / 'theirs'}: in use by run pid {os.getpid()}" in service.stderr()
        assert not (folder / "theirs" / "all.atom").exists()
        assert service.stop() == 0
    finally:
        held.release()


def test_sigterm_mid_fetch_exits_0_and_leaves_every_file_whole(server: Server, start) -> None:
    quick = server.add("/quick.rss", rss("Quick"))
    slow = server.add("/slow.rss", rss("Never stored"), delay=5)
    service = start(
        f"  - name: quick\n    type: feed\n    url: {quick}\n    interval: 1h\n"
        f"  - name: slow\n    type: feed\n    url: {slow}\n    interval: 1h\n"
    )
    output = service.config.parent / "output"
    service.wait_for(lambda: "Quick" in _read(output / "all.atom"))
    service.wait_for(lambda: len(server.hits("/slow.rss")) == 1)
    began = time.monotonic()
    assert service.stop() == 0
    assert time.monotonic() - began < 4
    # The fetch waiting on the silent server was called off, not left
    # behind for the process's exit to end.
    assert "abandoned" not in service.stderr()
    for path in output.iterdir():
        if path.suffix in (".atom", ".rss"):
            assert feedparser.parse(path.read_bytes()).bozo == 0, path.name
    assert "Never stored" not in _read(output / "all.atom")
    assert not [p for p in output.iterdir() if p.name.startswith(".")]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def test_a_reload_that_allows_a_private_address_lets_its_source_through(
    server: Server, tmp_path: Path
) -> None:
    feed = server.add("/a.rss", rss("From A"))
    config = tmp_path / "config.yaml"
    sources = f"sources:\n  - name: a\n    type: feed\n    url: {feed}\n    interval: 1s\n"
    config.write_text(BASE_CONFIG + SERVICE + sources, encoding="utf-8")  # loopback refused
    service = Running(config)
    try:
        service.wait_for(lambda: "allow_private" in service.stderr())
        config.write_text(allowing(BASE_CONFIG + SERVICE, sources) + sources, encoding="utf-8")
        service.wait_for(lambda: "From A" in _read(tmp_path / "output" / "all.atom"))
        assert service.stop() == 0
    finally:
        service.close()


def test_settings_that_need_a_restart_are_kept_and_said_so(server: Server, start) -> None:
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    service.wait_for(lambda: "published:" in service.stderr())
    text = service.config.read_text(encoding="utf-8")
    moved = text.replace("output:\n", "storage:\n  url: elsewhere.db\noutput:\n", 1)
    service.config.write_text(moved.replace("port: 0", "port: 1"), encoding="utf-8")
    service.wait_for(lambda: "config applied" in service.stderr())
    log = service.stderr()
    assert "storage.url changed; it takes effect when the service restarts" in log
    assert "server changed; it takes effect when the service restarts" in log
    assert httpx.get(service.url + "all.atom").status_code == 200  # still served there
    assert not (service.config.parent / "elsewhere.db").exists()  # still the same store
    assert service.stop() == 0


def test_a_config_read_while_it_is_being_written_is_not_applied_half_way(
    server: Server, start
) -> None:
    a, b = server.add("/a.rss", rss("From A")), server.add("/b.rss", rss("From B"))
    service = start(
        f"  - name: a\n    type: feed\n    url: {a}\n    interval: 1h\n"
        f"  - name: b\n    type: feed\n    url: {b}\n    interval: 1h\n"
    )
    service.wait_for(lambda: "published:" in service.stderr())
    whole = service.config.read_text(encoding="utf-8")
    # An editor writing in place: first a part that is valid YAML and a
    # valid config (source b missing), then the rest.
    service.config.write_text(whole[: whole.index("  - name: b")], encoding="utf-8")
    time.sleep(0.6)
    service.config.write_text(whole + "\n", encoding="utf-8")
    service.wait_for(lambda: "config applied" in service.stderr())
    assert "1 removed" not in service.stderr()
    assert "config applied: 0 sources added, 0 removed, 0 changed" in service.stderr()
    assert service.stop() == 0


def test_sighup_reloads_the_config(server: Server, start) -> None:
    first = server.add("/a.rss", rss("From A"))
    server.add("/by.rss", rss("From B"))
    service = start(
        f"  - name: a\n    type: feed\n    url: {first}\n    interval: 1h\n"
        f"  - name: b\n    type: feed\n    url: {server.url}/bx.rss\n    interval: 1h\n"
    )
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    # Same length, same modification time: only the signal can tell the
    # service that the file changed.
    before = service.config.stat()
    edited = service.config.read_text(encoding="utf-8").replace("/bx.rss", "/by.rss")
    assert len(edited) == len(service.config.read_text(encoding="utf-8"))
    service.config.write_text(edited, encoding="utf-8")
    os.utime(service.config, ns=(before.st_atime_ns, before.st_mtime_ns))
    service.process.send_signal(signal.SIGHUP)
    service.wait_for(lambda: "From B" in _read(output / "all.atom"))
    assert "config applied" in service.stderr()
    assert service.stop() == 0


def _parsing_workers(pid: int) -> list[int]:
    """The parsing workers of the service `pid`: its grandchildren (a fork
    server, its child, starts them)."""
    return [child for child, parent in descendants(pid).items() if parent != pid]


MANY = 60  # at least workers.PROCESS_THRESHOLD: bodies go to worker processes


def many_sources(server: Server) -> str:
    """MANY hourly sources of one story each ("Story N"), as config lines."""
    sources = ""
    for number in range(MANY):
        url = server.add(f"/f{number}.rss", rss(f"Story {number}"))
        sources += f"  - name: s{number}\n    type: feed\n    url: {url}\n    interval: 1h\n"
    return sources


def many_in_own_group(server: Server, tmp_path: Path) -> Running:
    """The service on MANY sources (so with worker processes), started as a
    terminal or a service manager starts it: in a process group of its own."""
    sources = many_sources(server)
    config = tmp_path / "config.yaml"
    config.write_text(
        allowing(BASE_CONFIG + SERVICE, sources) + "sources:\n" + sources, encoding="utf-8"
    )
    return Running(config, own_group=True)


def _build_held_open(server: Server, tmp_path: Path) -> subprocess.Popen[bytes]:
    """`feeds build` on enough sources for worker processes, in its own
    process group, kept running by one source that answers after 30 s."""
    sources = many_sources(server)
    slow = server.add("/slow.rss", rss("Slow story"), delay=30)
    sources += f"  - name: slow\n    type: feed\n    url: {slow}\n"
    config = write_config(tmp_path, sources)
    return subprocess.Popen(
        [sys.executable, "-m", "feeds", "build", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_build_killed_outright_leaves_no_worker_behind(server: Server, tmp_path: Path) -> None:
    """A build on many sources parses in worker processes: killed by a cron
    time-out or the OOM killer, it took them with it only when they were
    between bodies; waiting on their queue, they lived on for ever."""
    build = _build_held_open(server, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while len(descendants(build.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(descendants(build.pid)) >= 2, "no worker processes started"
        build.kill()
        build.wait()
        assert group_ends(build.pid, seconds=5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)


def test_a_build_where_every_source_answers_not_modified_starts_no_other_process(
    server: Server, tmp_path: Path
) -> None:
    """Nothing to parse, so no worker and no fork server; nor the helper
    process multiprocessing starts for the locks of a pool's queues: each
    is one more interpreter's start, in a cycle meant to take well under a
    second for a thousand sources."""
    sources = ""
    for number in range(MANY):
        url = server.add(f"/f{number}.rss", rss(f"Story {number}"), ETag=f'"v{number}"')
        sources += f"  - name: s{number}\n    type: feed\n    url: {url}\n"
    # Answers the second build's request after a while: time to look.
    held = server.sequence(
        "/held.rss",
        server.route(rss("Held story"), ETag='"held"'),
        server.route(rss("Held story"), delay=1.5, ETag='"held"'),
    )
    config = write_config(tmp_path, sources + f"  - name: held\n    type: feed\n    url: {held}\n")
    assert run_cli("build", "-c", str(config)).returncode == 0
    build = subprocess.Popen(
        [sys.executable, "-m", "feeds", "build", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        while not server.hits("/held.rss")[1:] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.hits("/held.rss")[1:], "the second build never asked for the held source"
        assert descendants(build.pid) == {}
    finally:
        _, stderr = build.communicate(timeout=30)
    assert build.returncode == 0, stderr
    assert len(server.hits("/f0.rss")) == 2


def test_a_build_with_worker_processes_fetches_as_many_sources_at_once_as_configured(
    server: Server, tmp_path: Path
) -> None:
    """Workers parse, but the fetches stay in the build's threads: a worker
    fetching its own bodies made a first cycle fetch one source per core at
    a time whatever `fetch.concurrency` said, so on a real network (each
    answer a fraction of a second away) it took several times as long, and
    a slow server held a whole core's share of the fetching."""
    at_once = (os.cpu_count() or 1) + 3
    sources = ""
    for number in range(MANY):
        url = server.add(f"/f{number}.rss", rss(f"Story {number}"), delay=0.2)
        sources += f"  - name: s{number}\n    type: feed\n    url: {url}\n"
    base = BASE_CONFIG.replace(
        "fetch:\n", f"fetch:\n  concurrency: {at_once}\n  per_host: {at_once}\n"
    )
    config = write_config(tmp_path, sources, base)
    built = run_cli("build", "-c", str(config))
    assert built.returncode == 0, built.stderr
    assert f"{MANY} of {MANY} sources ok" in built.stdout + built.stderr
    assert server.most_in_flight == at_once


def _niceness(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[16])


def test_a_builds_workers_leave_the_cpu_to_the_process_that_stores(
    server: Server, tmp_path: Path
) -> None:
    """One process stores every worker's items: workers parsing ahead at
    the same priority kept it waiting for a core, and the whole build with
    it. They run at a lower priority (`nice`), as `ps` shows."""
    if os.nice(0) + WORKER_NICENESS > 19:
        pytest.skip("running at a priority too low to go lower")
    build = _build_held_open(server, tmp_path)
    try:
        wanted = _niceness(build.pid) + WORKER_NICENESS
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                workers = [pid for pid in descendants(build.pid) if _niceness(pid) == wanted]
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "no worker process at a lower priority"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()


# SIGINT: Ctrl-C in a terminal; SIGTERM: a service manager stopping the
# whole control group (systemd's default).
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_the_whole_group_stops_the_service_and_its_workers_quietly(
    server: Server, tmp_path: Path, signum: int
) -> None:
    service = many_in_own_group(server, tmp_path)
    try:
        # Stopped while the workers parse the first burst of bodies.
        service.wait_for(lambda: "': HTTP 200" in service.stderr(), timeout=30)
        os.killpg(service.process.pid, signum)
        assert service.process.wait(timeout=20) == 0
        assert "Traceback" not in service.stderr(), service.stderr()
        assert "worker process died" not in service.stderr()
        assert group_ends(service.process.pid)  # none of its processes is left
    finally:
        service.close()


def test_sigterm_to_the_whole_group_spares_a_fork_server_a_reload_started(
    server: Server, tmp_path: Path
) -> None:
    one = f"  - name: one\n    type: feed\n    url: {server.add('/one.rss', rss('One'))}\n"
    # A body that takes its worker a while: a parse is in flight at the signal.
    big = server.add("/big.rss", rss(*(f"Big {number}" for number in range(5000))))
    many = f"  - name: big\n    type: feed\n    url: {big}\n" + many_sources(server)
    config = tmp_path / "config.yaml"
    base = allowing(BASE_CONFIG + SERVICE, one + many) + "sources:\n"
    config.write_text(base + one, encoding="utf-8")
    service = Running(config, own_group=True)
    try:
        service.wait_for(lambda: "published:" in service.stderr())
        # Too few sources for workers at the start: the reload to MANY
        # starts their fork server, from a thread of the service.
        config.write_text(base + one + many, encoding="utf-8")
        service.wait_for(lambda: server.hits("/big.rss"), timeout=30)
        time.sleep(0.1)
        os.killpg(service.process.pid, signal.SIGTERM)
        assert service.process.wait(timeout=20) == 0
        assert "bodies are parsed in" in service.stderr()
        assert "Traceback" not in service.stderr(), service.stderr()
        assert "worker process died" not in service.stderr()
        assert group_ends(service.process.pid)
    finally:
        service.close()


def test_a_stop_after_a_reload_that_changed_the_fetcher_is_prompt(server: Server, start) -> None:
    feed = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n")
    service.wait_for(lambda: "published:" in service.stderr())
    # A new fetch.host_delay: the old client is retired, to be closed once
    # runs still using it are done (after their time-out, 30 s).
    text = service.config.read_text(encoding="utf-8")
    service.config.write_text(text.replace("host_delay: 0", "host_delay: 1"), encoding="utf-8")
    service.wait_for(lambda: "config applied" in service.stderr())
    began = time.monotonic()
    assert service.stop() == 0
    assert time.monotonic() - began < 5


def test_a_service_killed_outright_leaves_no_process_behind(server: Server, tmp_path: Path) -> None:
    service = many_in_own_group(server, tmp_path)
    try:
        service.wait_for(lambda: "': HTTP 200" in service.stderr(), timeout=30)
        assert descendants(service.process.pid)  # its fork server and workers
        service.process.kill()  # SIGKILL, as the OOM killer sends it
        service.process.wait()
        assert group_ends(service.process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGKILL)
        service.close()


def test_a_burst_of_sources_is_parsed_by_workers_and_shares_a_few_publishes(
    server: Server, start
) -> None:
    sources = many_sources(server)
    service = start(sources)
    output = service.config.parent / "output"
    service.wait_for(lambda: service.stderr().count("': HTTP 200") == MANY, timeout=30)
    service.wait_for(lambda: "published:" in service.stderr())
    assert f"{MANY} sources: bodies are parsed in" in service.stderr()
    assert service.stop() == 0

    stored = sqlite3.connect(service.config.parent / "feeds.db")
    titles = {row[0] for row in stored.execute("SELECT title FROM items")}
    stored.close()
    assert titles == {f"Story {number}" for number in range(MANY)}
    # The newest 50 in the combined feed, every one of them a story served.
    entries = feedparser.parse((output / "all.atom").read_bytes()).entries
    assert len(entries) == 50 and {e.title for e in entries} <= titles
    # Sixty sources stored at once: their feeds went out in a few publishes
    # (the last one at stop), not one per source.
    publishes = service.stderr().count("published:")
    assert 1 <= publishes <= MANY // 6, service.stderr()


def test_a_parsing_worker_that_dies_is_replaced(server: Server, start) -> None:
    sources = many_sources(server)
    # The live source alone is in its rubric: its feed shows it whatever
    # the sixty others bring.
    live = server.add("/live.rss", rss("Live, first").replace("art", "news"))
    sources += f"  - name: live\n    type: feed\n    url: {live}\n    interval: 0.3s\n"
    service = start(sources)
    output = service.config.parent / "output"
    service.wait_for(lambda: "Live, first" in _read(output / "news.atom"), timeout=30)
    # Kill them, as the kernel's OOM killer would.
    workers = _parsing_workers(service.process.pid)
    assert workers
    for worker in workers:
        # One may have ended since it was listed (a helper that finished):
        # the message asserted below shows a worker was killed all the same.
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
    server.add("/live.rss", rss("Live, second").replace("art", "news"))
    service.wait_for(lambda: "Live, second" in _read(output / "news.atom"), timeout=30)
    assert "a parsing worker process died; starting new ones" in service.stderr()
    assert service.stop() == 0


def test_one_parsing_worker_killed_alone_leaves_no_process_and_no_hung_stop(
    server: Server, start
) -> None:
    # The OOM killer takes one worker of two: the pool ends the other with
    # SIGTERM and waits for it. The workers ignored SIGTERM (a service
    # manager's, sent to the whole group), so the other stayed, waiting
    # for ever on the queue's lock, and the service never ended after
    # "service stopped": its exit waits for the pool.
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the service's pool has a single worker")
    service = start(many_sources(server))
    service.wait_for(lambda: service.stderr().count("': HTTP 200") == MANY, timeout=30)
    service.wait_for(lambda: "published:" in service.stderr())

    first, *others = _parsing_workers(service.process.pid)
    assert others, "two workers were expected (one per core, at least two)"
    os.kill(first, signal.SIGKILL)
    service.wait_for(lambda: not _parsing_workers(service.process.pid), timeout=10)
    assert service.stop() == 0
    assert "service stopped" in service.stderr()


def test_a_source_whose_parsing_worker_keeps_dying_is_recorded_failing(
    server: Server, start
) -> None:
    sources = many_sources(server)
    # Long enough to parse (20,000 items) that its worker can be killed
    # under it, asked every half second, answered after the others are done.
    items = "".join(
        f"<item><title>Heavy {n}</title><link>https://heavy.example/{n}</link>"
        f"<description>{'<p>Some <b>text</b> of the story.</p>' * 8}</description></item>"
        for n in range(20_000)
    )
    heavy = server.add("/heavy.rss", rss().replace("</channel>", items + "</channel>"), delay=1)
    sources += f"  - name: heavy\n    type: feed\n    url: {heavy}\n    interval: 0.5s\n"
    service = start(sources)
    # The MANY others read (heavy's own lines not counted: on a loaded
    # machine its first came with the last of theirs, and a count of all
    # of them went past MANY without ever being MANY).
    service.wait_for(
        lambda: len(re.findall(r"source 's\d+': HTTP 200", service.stderr())) == MANY, timeout=30
    )
    # From now on the workers are killed, again and again, as a body that
    # crashes the parser would kill them: once is bad luck, which any
    # source in flight may share; three times in a row is the source.
    deadline = time.monotonic() + 40
    while "times in a row" not in service.stderr():
        assert time.monotonic() < deadline, service.stderr()
        for worker in _parsing_workers(service.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
        time.sleep(0.05)
    assert service.stop() == 0
    assert service.stderr().count("source 'heavy': a parsing worker process died") == 3
    with sqlite3.connect(service.config.parent / "feeds.db") as db:
        failures, error, health = db.execute(
            "SELECT failures, last_error, health FROM sources WHERE name = 'heavy'"
        ).fetchone()
        others = db.execute("SELECT count(*) FROM sources WHERE failures > 0").fetchone()[0]
    assert failures == 1 and "died, 3 times in a row" in error
    assert health == "failing"
    assert others == 1  # heavy alone


def test_a_burst_of_signals_still_stops_the_service(server: Server, start) -> None:
    # Ctrl-C pressed again and again, or a supervisor that repeats SIGTERM:
    # a signal arriving while the previous one is handled must not hang it.
    url = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {url}\n    interval: 1h\n")
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    for number in range(300):
        try:
            os.kill(service.process.pid, signal.SIGINT if number % 2 else signal.SIGTERM)
        except ProcessLookupError:
            break
    assert service.process.wait(timeout=15) == 0


def test_signals_still_coming_while_the_service_exits_do_not_change_its_exit_code(
    server: Server, start
) -> None:
    # Ctrl-C pressed a few times a second: one arriving during the
    # interpreter's teardown, after "service stopped", killed the process.
    url = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {url}\n    interval: 1h\n")
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    deadline = time.monotonic() + 15
    while service.process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(service.process.pid, signal.SIGINT)
        time.sleep(0.02)
    assert service.process.wait(timeout=15) == 0


ARTICLE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Long read</title>'
    "</head><body><article><h1>Long read</h1>"
    + "".join(
        f"<p>Paragraph {n} of a long article about the city museum's new exhibition, "
        "its artists, curators and visitors, well worth reading in full.</p>"
        for n in range(8)
    )
    + "</article></body></html>"
)


def test_a_slow_article_page_does_not_hold_up_other_sources(server: Server, start) -> None:
    article = server.add("/article", ARTICLE, delay=4, Content_Type="text/html; charset=utf-8")
    own_link = f"https://x.example/{abs(hash('Whole article'))}"
    whole = server.add("/whole.rss", rss("Whole article").replace(own_link, article))
    other = server.add("/other.rss", rss("Other story"), delay=0.5)
    service = start(
        f"  - name: whole\n    type: feed\n    url: {whole}\n    interval: 1h\n"
        "    full_content: true\n"
        f"  - name: other\n    type: feed\n    url: {other}\n    interval: 1h\n"
    )
    output = service.config.parent / "output"
    # The article is on its way for four seconds; the other source, stored
    # meanwhile, is published without waiting for it.
    service.wait_for(lambda: "Other story" in _read(output / "all.atom"))
    assert len(server.hits("/article")) == 1
    assert "Whole article" not in _read(output / "all.atom")
    service.wait_for(lambda: "Paragraph 7" in _read(output / "all.atom"))
    assert service.stop() == 0


def test_an_article_page_that_failed_is_fetched_on_the_next_run(server: Server, start) -> None:
    """A page that answered 502 waited, behind a feed answering 304, for
    the feed's next change. The next run asks for the whole feed and gets
    the page; the runs after it ask conditionally again."""
    article = server.sequence(
        "/article",
        server.route("Bad gateway", status=502),
        server.route(ARTICLE, Content_Type="text/html; charset=utf-8"),
    )
    own_link = f"https://x.example/{abs(hash('Whole article'))}"
    whole = server.add("/whole.rss", rss("Whole article").replace(own_link, article), ETag='"v1"')
    service = start(
        f"  - name: whole\n    type: feed\n    url: {whole}\n    interval: 1s\n"
        "    full_content: true\n"
    )
    output = service.config.parent / "output"
    service.wait_for(lambda: "tried again next run (1 of 3 tries)" in service.stderr())
    service.wait_for(lambda: "Paragraph 7" in _read(output / "all.atom"))
    service.wait_for(lambda: len(server.hits("/whole.rss")) >= 3)
    assert service.stop() == 0
    assert len(server.hits("/article")) == 2
    asked = ["if-none-match" in hit for hit in server.hits("/whole.rss")]
    assert asked[:3] == [False, False, True] and all(asked[2:])


def test_feeds_retry_beside_a_run_in_flight_still_has_the_next_run_read_the_feed_whole(
    server: Server, start
) -> None:
    """`feeds retry` run while the service waits for the source's feed:
    that run's 304 (and the ETag it carries) must not undo the retry, or
    the given-up page would wait behind 304s for the feed to change."""
    failing = server.route("Bad gateway", status=502)
    article = server.sequence(
        "/article",
        failing,
        failing,
        failing,
        server.route(ARTICLE, Content_Type="text/html; charset=utf-8"),
    )
    own_link = f"https://x.example/{abs(hash('Whole article'))}"
    feed = rss("Whole article").replace(own_link, article)
    whole = server.add("/whole.rss", feed, ETag='"v1"')
    service = start(
        f"  - name: whole\n    type: feed\n    url: {whole}\n    interval: 1s\n"
        "    full_content: true\n"
    )
    service.wait_for(lambda: "given up after 3 tries" in service.stderr())
    held = threading.Event()
    with server.lock:
        asked = len(server.hits("/whole.rss"))
        server.routes["/whole.rss"] = [
            server.route(feed, hold=held, ETag='"v1"'),
            server.route(feed, ETag='"v1"'),
        ]
    service.wait_for(lambda: len(server.hits("/whole.rss")) > asked)
    try:
        retried = run_cli("retry", "-c", str(service.config), "whole")
    finally:
        held.set()
    assert retried.returncode == 0, retried.stderr
    assert article in retried.stdout
    output = service.config.parent / "output"
    service.wait_for(lambda: "Paragraph 7" in _read(output / "all.atom"))
    assert service.stop() == 0
    assert len(server.hits("/article")) == 4
    # The held run asked conditionally (and got a 304); the one after it
    # asked for the whole feed.
    after = ["if-none-match" in hit for hit in server.hits("/whole.rss")[asked:]]
    assert after[:2] == [True, False]


def test_a_source_stopped_while_its_articles_load_stores_nothing(server: Server, start) -> None:
    items = ""
    for n in range(6):
        link = server.add(f"/article{n}", ARTICLE, delay=1, Content_Type="text/html; charset=utf-8")
        items += f"<item><title>Story {n}</title><link>{link}</link></item>"
    whole = server.add("/whole.rss", rss().replace("</channel>", items + "</channel>"))
    service = start(
        f"  - name: whole\n    type: feed\n    url: {whole}\n    interval: 1h\n"
        "    full_content: true\n"
    )
    # Two articles on their way (two requests per host at a time), four
    # waiting for their turn when the service is told to stop: those are
    # called off, and the stories are not stored without their text. The
    # next start reads the source and its articles again.
    service.wait_for(lambda: any(server.hits(f"/article{n}") for n in range(6)))
    assert service.stop() == 0
    with sqlite3.connect(service.config.parent / "feeds.db") as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (0,)


def test_sources_waiting_for_a_dead_host_do_not_hold_up_other_hosts(
    server: Server, no_handshake: str, tmp_path: Path
) -> None:
    """Eight sources on a host that never answers, with room for three
    fetches at once: the two the host may take wait for their time-out,
    and the others must not sit in the remaining fetch slots waiting for
    its turn, while a source on a healthy host goes unfetched."""
    healthy = server.add("/healthy.rss", rss("Healthy story"))
    dead = "".join(
        f"  - name: dead{n}\n    type: feed\n    url: {no_handshake}/{n}.rss\n    interval: 1h\n"
        for n in range(8)
    )
    sources = dead + f"  - name: healthy\n    type: feed\n    url: {healthy}\n    interval: 0.5s\n"
    base = BASE_CONFIG.replace("fetch:\n", "fetch:\n  concurrency: 3\n  timeout: 4\n", 1)
    config = tmp_path / "config.yaml"
    config.write_text(allowing(base + SERVICE, sources) + "sources:\n" + sources, encoding="utf-8")
    service = Running(config)
    try:
        # Every dead source takes its turn at the host, two at a time: 16 s
        # of time-outs. The healthy one runs every half second meanwhile.
        service.wait_for(lambda: len(server.hits("/healthy.rss")) >= 6, timeout=8)
        assert service.stop() == 0
    finally:
        service.close()


def test_a_source_moved_to_another_host_while_it_waits_is_not_woken_by_the_old_one(
    server: Server, tmp_path: Path
) -> None:
    """A source waiting for a busy host's turn whose url a reload moves to
    another host runs there at once; the end of the old host's run must not
    wake it again, an hour before its interval."""
    slow = server.add("/slow.rss", rss("Slow one"), delay=5)
    waiting = server.add("/w.rss", rss("Waiting one"))
    port = waiting.split(":")[2].split("/")[0]
    moved = waiting.replace("127.0.0.1", "localhost")
    config = tmp_path / "config.yaml"

    def write(sources: str) -> None:
        base = allowing(BASE_CONFIG + SERVICE, sources).replace(
            "allow_private: [", f'per_host: 1\n  allow_private: ["localhost:{port}", ', 1
        )
        config.write_text(base + "sources:\n" + sources, encoding="utf-8")

    first = f"  - name: slow\n    type: feed\n    url: {slow}\n    interval: 1h\n"
    write(first)
    service = Running(config)
    try:
        service.wait_for(lambda: len(server.hits("/slow.rss")) >= 1)
        # Added while slow holds the host's one turn: it waits for it.
        write(first + f"  - name: w\n    type: feed\n    url: {waiting}\n    interval: 1h\n")
        service.process.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert server.hits("/w.rss") == []
        write(first + f"  - name: w\n    type: feed\n    url: {moved}\n    interval: 1h\n")
        service.process.send_signal(signal.SIGHUP)
        service.wait_for(lambda: len(server.hits("/w.rss")) >= 1)
        service.wait_for(lambda: "source 'slow': HTTP 200" in service.stderr())
        time.sleep(1.5)
        assert len(server.hits("/w.rss")) == 1
        assert service.stop() == 0
    finally:
        service.close()


def test_a_reload_that_changes_only_a_time_out_keeps_retry_after_and_a_410_pause(
    server: Server, start
) -> None:
    """A reload that changes a source's time-out (or interval) but neither
    its url nor what it makes of items leaves its next turn to what the
    store decided: a server that asked for an hour's rest with Retry-After
    is not asked again at once, nor is one that answered 410 Gone."""
    busy = server.add("/busy.rss", "", status=503, Retry_After="3600")
    gone = server.add("/gone.rss", "", status=410)
    broken = server.add("/broken.rss", "", status=503, Retry_After="3600")
    fixed = server.add("/fixed.rss", rss("Fixed"))
    sources = (
        f"  - name: busy\n    type: feed\n    url: {busy}\n    interval: 1h\n"
        f"  - name: gone\n    type: feed\n    url: {gone}\n    interval: 1h\n"
        f"  - name: broken\n    type: feed\n    url: {broken}\n    interval: 1h\n"
    )
    service = start(sources)
    service.wait_for(lambda: service.stderr().count("retry after 3600 s") == 2)
    service.wait_for(lambda: "410 Gone" in service.stderr())
    text = service.config.read_text(encoding="utf-8")
    edited = text.replace("interval: 1h", "interval: 1h\n    timeout: 20").replace(broken, fixed)
    service.config.write_text(edited, encoding="utf-8")
    service.process.send_signal(signal.SIGHUP)
    applied = "config applied: 0 sources added, 0 removed, 3 changed"
    service.wait_for(lambda: applied in service.stderr())
    # A url fixed is read at once, back-off or not.
    service.wait_for(lambda: "Fixed" in _read(service.config.parent / "output" / "all.atom"))
    time.sleep(1)
    assert len(server.hits("/busy.rss")) == 1
    assert len(server.hits("/gone.rss")) == 1
    assert service.stderr().count("retry after 3600 s") == 2
    with sqlite3.connect(service.config.parent / "feeds.db") as db:
        failures = dict(db.execute("SELECT name, failures FROM sources"))
    assert failures == {"busy": 1, "gone": 1, "broken": 0}
    assert service.stop() == 0


def test_a_reload_that_raises_a_failing_sources_limit_reads_it_at_once_but_keeps_retry_after(
    server: Server, start
) -> None:
    """A source failing "over the limit" waited out its back-off (up to
    six hours) after the operator raised its max_bytes; one whose server
    asked for an hour's rest was asked again at once when its item
    settings were edited."""
    big = server.add("/big.rss", rss("Big one", "Big two", "Big three"))
    busy = server.add("/busy.rss", "", status=503, Retry_After="3600")
    service = start(
        f"  - name: big\n    type: feed\n    url: {big}\n    interval: 1h\n    max_bytes: 200\n"
        f"  - name: busy\n    type: feed\n    url: {busy}\n    interval: 1h\n"
    )
    service.wait_for(lambda: "over the limit" in service.stderr())
    service.wait_for(lambda: "retry after 3600 s" in service.stderr())
    text = service.config.read_text(encoding="utf-8")
    edited = text.replace("max_bytes: 200", "max_bytes: 100000").replace(
        f"url: {busy}\n    interval: 1h\n", f"url: {busy}\n    interval: 1h\n    rubrics: [art]\n"
    )
    service.config.write_text(edited, encoding="utf-8")
    service.process.send_signal(signal.SIGHUP)
    service.wait_for(lambda: "2 changed" in service.stderr())
    service.wait_for(lambda: "Big three" in _read(service.config.parent / "output" / "all.atom"))
    time.sleep(1)
    assert len(server.hits("/big.rss")) == 2
    assert len(server.hits("/busy.rss")) == 1
    assert service.stop() == 0


def test_a_reload_while_the_store_cannot_be_read_keeps_the_service_and_its_sources(
    server: Server, start
) -> None:
    """The reload opens the store to schedule the sources it changed: a
    store error there ended the service, its sources unscheduled."""
    first = server.add("/a.rss", rss("From A"))
    service = start(f"  - name: a\n    type: feed\n    url: {first}\n    interval: 1h\n")
    output = service.config.parent / "output"
    service.wait_for(lambda: "From A" in _read(output / "all.atom"))
    # Its write-ahead log deleted under it: SQLite reports a disk I/O error
    # to every connection opened from then on.
    (service.config.parent / "feeds.db-wal").unlink()
    second = server.add("/b.rss", rss("From B"))
    with service.config.open("a", encoding="utf-8") as config:
        config.write(f"  - name: b\n    type: feed\n    url: {second}\n    interval: 1h\n")
    service.process.send_signal(signal.SIGHUP)
    service.wait_for(lambda: "store could not be read to schedule it" in service.stderr())
    service.wait_for(lambda: len(server.hits("/b.rss")) == 1)
    assert service.process.poll() is None
    assert service.stop() == 0


def test_a_crash_in_native_code_leaves_its_stack_in_the_log(server: Server, start) -> None:
    """A fatal signal (a parser or the database driver crashing) ended the
    service without a word in its log."""
    service = start(f"  - name: a\n    type: feed\n    url: {server.add('/a.rss', rss('A'))}\n")
    service.wait_for(lambda: "service started" in service.stderr())
    service.process.send_signal(signal.SIGSEGV)
    assert service.process.wait(timeout=10) != 0
    log = service.stderr()
    assert "Fatal Python error: Segmentation fault" in log
    # A stack, the threads' newest first. Not always down to the main
    # thread's: the handler walks the other threads' frames while they
    # run, and one caught mid-call ("File ???, line 0") ends the dump
    # there (1 run in 6 here: the web server's thread, then a fetching
    # thread's first frame, then nothing).
    assert re.search(r'^(?:Current thread|Thread) 0x[0-9a-f]+ .*\n  File "', log, re.MULTILINE), log
