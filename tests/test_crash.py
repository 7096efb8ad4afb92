"""Crash and concurrency: `feeds build` and `feeds run` killed with SIGKILL at
random moments, two processes on one store, and an output folder that cannot
be written (immutable, a file in the way, a full disk).

Everything runs for real: `python -m feeds` subprocesses, the loopback test
server of conftest, SQLite files in tmp_path. After every kill the output
folder holds only whole, parseable files (temporaries are hidden), the store
passes `PRAGMA integrity_check`, nothing it had committed is lost, and a final
complete build leaves no duplicate story.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import httpx
import pytest

from feeds import pipeline
from feeds.config import load_config
from feeds.model import SourceResult

from .conftest import (
    BASE_CONFIG,
    FEEDS_WITH_SHORT_INTERVALS,
    ROOT,
    Route,
    Server,
    Unwritable,
    run_cli,
    write_config,
)

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
SEED = 20240301

SLUGS = ("all", "literature", "art", "society", "classical-music", "news")
PUBLISHED = {f"{slug}.{ext}" for slug in SLUGS for ext in ("atom", "rss", "json")} | {
    "feeds.opml",
    "index.html",
    "feeds.xsl",
    *(f"{slug}.opml" for slug in SLUGS if slug != "all"),
}
TEMP = re.compile(r"\.feeds-.*\.tmp")
ARCHIVE_DIR = re.compile(r"archive(/[a-z0-9-]+)?")
ARCHIVE_PAGE = re.compile(r"archive/[a-z0-9-]+/[1-9][0-9]*\.(atom|rss)")
# Categories that map onto the rubrics of BASE_CONFIG.
CATEGORIES = ("art", "books", "news", "Общество", "classical music")
EPOCH = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)

SERVICE = """\
schedule:
  jitter: 0
server:
  host: 127.0.0.1
  port: 0
"""


# -- feeds the test server serves ---------------------------------------------


def story_link(source: int, number: int) -> str:
    return f"https://stories.example/s{source}/{number}"


def shared_link(number: int) -> str:
    return f"https://stories.example/shared/{number}"


def rss(source: int, count: int, shared: int = 0, pad: int = 0, only: tuple[int, ...] = ()) -> str:
    """Source `source`'s feed: its stories 0..count-1 (or just `only`), plus
    `shared` stories every source carries under its own guid (the same
    link: one story). Dates and text depend only on the story, so a story
    served again is never an update."""
    numbers = only or tuple(range(count))
    items = []
    for number in numbers:
        link = story_link(source, number)
        when = format_datetime(EPOCH + timedelta(minutes=7 * number + source))
        category = CATEGORIES[(source + number) % len(CATEGORIES)]
        items.append(
            f"<item><title>Story {source}-{number}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid><pubDate>{when}</pubDate>'
            f"<category>{category}</category>"
            f"<description>Text of story {source}-{number}. {'x' * pad}</description></item>"
        )
    for number in range(shared):
        when = format_datetime(EPOCH + timedelta(minutes=5 * number, seconds=30))
        items.append(
            f"<item><title>Shared story {number}</title><link>{shared_link(number)}</link>"
            f'<guid isPermaLink="false">s{source}-shared-{number}</guid>'
            f"<pubDate>{when}</pubDate><category>news</category>"
            f"<description>Told by many sources.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Source {source}</title><link>https://stories.example/</link>"
        f"<description>Feed of source {source}</description>{''.join(items)}</channel></rss>"
    )


def sources_block(server: Server, count: int, interval: str = "") -> str:
    every = f"    interval: {interval}\n" if interval else ""
    return "".join(
        f"  - name: s{i}\n    type: feed\n    url: {server.url}/s{i}.rss\n{every}"
        for i in range(count)
    )


# -- checks -----------------------------------------------------------------


def check_output(output: Path) -> dict[str, bytes]:
    """Every file in `output` is whole: the feeds parse (feedparser without
    bozo, JSON, XML), every feed's entry ids are unique, and the only other
    files are hidden `.feeds-*.tmp` temporaries and `archive/.store`. Archive
    pages count too.
    Returns name -> bytes."""
    files: dict[str, bytes] = {}
    if not output.is_dir():
        return files
    for path in sorted(output.rglob("*")):
        name = str(path.relative_to(output))
        if path.is_dir():
            assert ARCHIVE_DIR.fullmatch(name), f"unexpected folder in output/: {name}"
            continue
        if name == "archive/.store":  # which store the pages come from: whole
            assert re.fullmatch(r"[0-9a-f]{32}\n", path.read_text(encoding="utf-8")), name
            continue
        if path.name.startswith("."):
            assert TEMP.fullmatch(path.name), f"unexpected hidden file in output/: {name}"
            continue
        assert ".tmp" not in name, f"a temporary is served as {name}"
        assert name in PUBLISHED or ARCHIVE_PAGE.fullmatch(name), f"unexpected file: {name}"
        data = path.read_bytes()
        files[name] = data
        if name.endswith((".atom", ".rss")):
            parsed = feedparser.parse(data)
            assert parsed.bozo == 0, f"{name} does not parse: {parsed.get('bozo_exception')}"
            ids = [entry.get("id") for entry in parsed.entries]
        elif name.endswith(".json"):
            ids = [item["id"] for item in json.loads(data)["items"]]
        elif name.endswith((".opml", ".xsl")):
            ET.fromstring(data)
            ids = []
        else:
            assert data.rstrip().endswith(b"</html>"), f"{name} is cut short"
            ids = []
        assert len(ids) == len(set(ids)), f"{name} repeats an entry id"
    return files


def check_history(files: dict[str, bytes], stored: set[str]) -> None:
    """The combined feed's archive pages and current document hold every
    stored item, no page repeating another's."""
    paged: list[str] = []
    for name, data in files.items():
        if name.startswith("archive/all/") and name.endswith(".atom"):
            paged += [entry.id for entry in feedparser.parse(data).entries]
    assert len(paged) == len(set(paged)), "an item is on two archive pages"
    current = {entry.id for entry in feedparser.parse(files["all.atom"]).entries}
    missing = stored - set(paged) - current
    assert not missing, f"{len(missing)} items out of every document, e.g. {sorted(missing)[:3]}"


@contextlib.contextmanager
def database(db: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(db, timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def check_store(db: Path) -> set[str]:
    """The store opens and passes integrity_check; the ids it holds."""
    if not db.exists():
        return set()
    with database(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "items" not in tables:
            return set()
        return {row[0] for row in connection.execute("SELECT id FROM items")}


def check_no_duplicates(db: Path, served: set[str]) -> None:
    """One row per story served (distinct links), none twice."""
    with database(db) as connection:
        rows = connection.execute("SELECT id, link, canonical_link FROM items").fetchall()
    assert len(rows) == len({row[0] for row in rows})
    assert len({row[2] for row in rows}) == len(rows), "two rows for one story"
    assert {row[1] for row in rows} == served
    assert len(rows) == len(served)


def newest_ids(db: Path, limit: int = 50) -> list[str]:
    with database(db) as connection:
        rows = connection.execute(
            "SELECT id FROM items ORDER BY published DESC, id DESC LIMIT ?", (limit,)
        ).fetchall()
    return [row[0] for row in rows]


def json_ids(path: Path) -> list[str]:
    return [item["id"] for item in json.loads(path.read_bytes())["items"]]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# -- processes --------------------------------------------------------------


class Process:
    """`python -m feeds ARGS` started in its own session (so that whatever
    it forked can be reaped too), stdout and stderr in files."""

    def __init__(self, folder: Path, tag: str, *args: str) -> None:
        self.out = folder / f"{tag}.out"
        self.err = folder / f"{tag}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.popen = subprocess.Popen(
                [*FEEDS_WITH_SHORT_INTERVALS, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=folder,
                env=ENV,
                start_new_session=True,
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def sigkill(self) -> int:
        """SIGKILL the process itself (only it: a crash), and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.popen.pid, signal.SIGKILL)
        return self.popen.wait(timeout=10)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def reap(self) -> None:
        """Kill the process and anything it started (same session), reap it."""
        if self.popen.poll() is None:
            self.popen.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def serving_url(self, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"serving (http://127\.0\.0\.1:\d+/)", self.stdout())
            if match:
                return match.group(1)
            if not self.alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no serving line\nstdout: {self.stdout()}\nstderr: {self.stderr()}")


@pytest.fixture
def processes() -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(folder: Path, tag: str, *args: str) -> Process:
        started.append(Process(folder, tag, *args))
        return started[-1]

    yield start
    for process in started:
        process.reap()


def wait_until(check: Callable[[], bool], timeout: float, explain: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met in {timeout} s\n{explain()}")


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return ""


# -- 1. feeds build killed at random moments --------------------------------

BUILD_SOURCES = 40
BUILD_KILLS = 20


@pytest.mark.slow
def test_build_killed_at_random_moments_loses_and_duplicates_nothing(
    server: Server, tmp_path: Path, processes: Callable[..., Process]
) -> None:
    rng = random.Random(SEED)
    config = write_config(tmp_path, sources_block(server, BUILD_SOURCES))
    output, db = tmp_path / "output", tmp_path / "feeds.db"
    served: set[str] = set()

    def serve(round_: int) -> None:
        """Each round every source has one more story, and every third round
        one more story all sources share: a build always has work to do."""
        for source in range(BUILD_SOURCES):
            count, shared = 20 + round_, round_ // 3
            delay = 0.05 if source % 3 == 0 else 0.0
            server.add(f"/s{source}.rss", rss(source, count, shared), delay=delay)
            served.update(story_link(source, n) for n in range(count))
            served.update(shared_link(n) for n in range(shared))

    # One complete build, timed: the kills land between 0 and this.
    serve(0)
    first = processes(tmp_path, "build-0", "build", "-c", str(config))
    assert first.wait(timeout=60) == 0, first.stderr()
    duration = time.monotonic() - first.started
    check_output(output)
    committed = check_store(db)
    assert committed

    outcomes: list[int] = []
    for round_ in range(1, BUILD_KILLS + 1):
        serve(round_)
        build = processes(tmp_path, f"build-{round_}", "build", "-c", str(config))
        try:
            time.sleep(rng.uniform(0, duration))
            outcomes.append(build.sigkill())
        finally:
            build.reap()
        check_output(output)
        now = check_store(db)
        lost = committed - now
        assert not lost, (
            f"round {round_}: {len(lost)} committed items lost, e.g. {sorted(lost)[:3]}"
        )
        committed = now

    killed = outcomes.count(-signal.SIGKILL)
    assert set(outcomes) <= {0, -signal.SIGKILL}, outcomes
    assert killed >= BUILD_KILLS // 2, f"only {killed} builds were killed mid-run: {outcomes}"

    # A final complete build catches up on everything; nothing twice.
    serve(BUILD_KILLS + 1)
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    files = check_output(output)
    assert set(files) >= PUBLISHED
    assert committed <= check_store(db)
    check_history(files, check_store(db))
    check_no_duplicates(db, served)
    assert json_ids(output / "all.json") == newest_ids(db)


def test_an_interrupted_build_keeps_the_sources_it_stored_and_the_next_publishes_them(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full run commits every so many items: stopped before publishing,
    it keeps the sources it had committed (the next build asks them with
    their validators and gets 304), and the next build publishes their
    items although nothing at all is new by then."""
    monkeypatch.setattr(pipeline, "COMMIT_EVERY_ITEMS", 20)
    for source in range(5):
        server.add(f"/s{source}.rss", rss(source, 20), ETag=f'"s{source}"')
    server.add("/s5.rss", "gone", status=404)
    config = load_config(write_config(tmp_path, sources_block(server, 6)))
    output, db = tmp_path / "output", tmp_path / "feeds.db"
    now = datetime(2024, 3, 2, tzinfo=UTC)
    seen: list[str] = []

    def stop_at_the_last(result: SourceResult) -> None:
        seen.append(result.source)
        if len(seen) == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipeline.run_once(config, now=now, on_result=stop_at_the_last)
    kept = check_store(db)
    assert kept == {story_link(s, n) for s in range(5) for n in range(20)}
    assert not check_output(output), "nothing was published yet"

    report = pipeline.run_once(config, now=now)
    assert [r.not_modified for r in report.results] == [True] * 5 + [False]
    assert report.results[5].error
    files = check_output(output)
    assert set(files) >= PUBLISHED
    check_history(files, kept)


# -- 2. feeds run killed at random moments ----------------------------------

SERVICE_SOURCES = 8
SERVICE_KILLS = 8
VERSIONS = 120


@pytest.mark.slow
def test_service_killed_at_random_moments_loses_and_duplicates_nothing(
    server: Server, tmp_path: Path, processes: Callable[..., Process]
) -> None:
    rng = random.Random(SEED + 1)
    # Every fetch of a source brings one more story (and now and then one
    # more shared story), so every run of every source has work to do.
    for source in range(SERVICE_SOURCES):
        server.sequence(
            f"/s{source}.rss",
            *(Route(body=rss(source, 5 + v, v // 4).encode()) for v in range(VERSIONS)),
        )
    config = write_config(
        tmp_path, sources_block(server, SERVICE_SOURCES, "0.3s"), BASE_CONFIG + SERVICE
    )
    output, db = tmp_path / "output", tmp_path / "feeds.db"

    committed: set[str] = set()
    for round_ in range(SERVICE_KILLS):
        service = processes(tmp_path, f"run-{round_}", "run", "-c", str(config))
        try:
            time.sleep(rng.uniform(0.2, 2.5))
            assert service.alive(), f"round {round_}: the service died\n{service.stderr()}"
            assert service.sigkill() == -signal.SIGKILL
        finally:
            service.reap()
        check_output(output)
        now = check_store(db)
        lost = committed - now
        assert not lost, (
            f"round {round_}: {len(lost)} committed items lost, e.g. {sorted(lost)[:3]}"
        )
        committed = now
    assert committed, "the service never stored anything"
    assert len(server.requests) > SERVICE_SOURCES * SERVICE_KILLS

    last = VERSIONS - 1
    for source in range(SERVICE_SOURCES):
        server.add(f"/s{source}.rss", rss(source, 5 + last, last // 4))
    served = {story_link(s, n) for s in range(SERVICE_SOURCES) for n in range(5 + last)}
    served |= {shared_link(n) for n in range(last // 4)}
    done = run_cli("build", "-c", str(config), short_intervals=True)
    assert done.returncode == 0, done.stderr
    files = check_output(output)
    assert set(files) >= PUBLISHED
    assert committed <= check_store(db)
    check_history(files, check_store(db))
    check_no_duplicates(db, served)
    assert json_ids(output / "all.json") == newest_ids(db)


# -- 3. two processes on one store ------------------------------------------


@pytest.mark.slow
def test_two_builds_at_once_take_turns(
    server: Server, tmp_path: Path, processes: Callable[..., Process]
) -> None:
    for source in range(2):
        server.add(f"/s{source}.rss", rss(source, 10, 3), delay=1.0)
    for source in range(2, 4):
        server.add(f"/s{source}.rss", rss(source, 10, 3))
    config = write_config(tmp_path, sources_block(server, 4))
    db = tmp_path / "feeds.db"

    began = time.monotonic()
    first = processes(tmp_path, "first", "build", "-c", str(config))
    # The second starts once the first holds the store and is fetching, so
    # they overlap however slowly a loaded machine starts processes.
    lock = tmp_path / "feeds.db.lock"
    deadline = time.monotonic() + 30
    while not (
        lock.exists()
        and f"build pid {first.pid}" in lock.read_text(encoding="utf-8")
        and server.requests
    ):
        assert time.monotonic() < deadline, "the first build never took the store"
        time.sleep(0.02)
    second = processes(tmp_path, "second", "build", "-c", str(config))
    codes = (first.wait(timeout=60), second.wait(timeout=60))
    elapsed = time.monotonic() - began
    stderrs = first.stderr() + "\n----\n" + second.stderr()
    assert codes == (0, 0), stderrs

    waited = [p for p in (first, second) if "waiting for" in p.stderr()]
    assert len(waited) == 1, stderrs
    other = first if waited[0] is second else second
    assert re.search(rf"waiting for build pid {other.pid} to finish", waited[0].stderr()), stderrs
    # One after the other: each build's slow fetches take a second, and the
    # server never saw more than one build's requests (per_host 2) at once.
    assert elapsed >= 2.0
    assert server.most_in_flight <= 2
    assert all(len(server.hits(f"/s{source}.rss")) == 2 for source in range(4))

    check_output(tmp_path / "output")
    check_store(db)
    served = {story_link(s, n) for s in range(4) for n in range(10)}
    check_no_duplicates(db, served | {shared_link(n) for n in range(3)})


@pytest.mark.slow
def test_build_refuses_a_store_a_service_holds(
    server: Server, tmp_path: Path, processes: Callable[..., Process]
) -> None:
    server.add("/s0.rss", rss(0, 5))
    config = write_config(tmp_path, sources_block(server, 1, "1h"), BASE_CONFIG + SERVICE)
    output = tmp_path / "output"
    service = processes(tmp_path, "run", "run", "-c", str(config))
    url = service.serving_url()
    # index.html is written last: when it shows the story, the service's
    # publish is over and it has nothing more to do for an hour.
    wait_until(lambda: "Story 0-4" in read(output / "index.html"), 15, service.stderr)
    before = check_output(output)
    hits = len(server.requests)

    began = time.monotonic()
    build = run_cli("build", "-c", str(config))
    elapsed = time.monotonic() - began

    assert build.returncode == 1, build.stderr
    assert elapsed < 10, f"the build took {elapsed:.1f} s to give up"
    assert "Traceback" not in build.stderr
    lines = error_lines(build.stderr)
    assert len(lines) == 1, build.stderr
    assert "feeds run" in lines[0]
    assert f"run pid {service.pid}" in lines[0]
    assert "waiting for" not in build.stderr
    # It fetched nothing and wrote nothing; the service goes on.
    assert len(server.requests) == hits
    assert check_output(output) == before
    assert service.alive(), service.stderr()
    with httpx.Client(timeout=5) as client:
        assert client.get(url + "healthz").status_code == 200
        assert client.get(url + "all.atom").status_code == 200
    assert service.alive()


# -- 4. an output folder that cannot be written -----------------------------


def _first_build(server: Server, tmp_path: Path, output_dir: str = "") -> tuple[Path, Path]:
    """A good build of one source with one story; returns (config, output)."""
    server.add("/s0.rss", rss(0, 0, only=(0,)))
    base = BASE_CONFIG
    if output_dir:
        base = base.replace("  dir: output\n", f"  dir: {output_dir}\n")
    config = write_config(tmp_path, sources_block(server, 1), base)
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    output = Path(output_dir) if output_dir else tmp_path / "output"
    assert "Story 0-0" in read(output / "all.atom")
    return config, output


def _assert_publish_failure(done: subprocess.CompletedProcess[str], output: Path) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = error_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert str(output) in lines[0], lines[0]


def test_build_into_an_unwritable_folder_fails_cleanly_and_keeps_the_files(
    server: Server, tmp_path: Path, unwritable: Callable[[Path], Unwritable]
) -> None:
    config, output = _first_build(server, tmp_path)
    before = {path.name: path.read_bytes() for path in output.iterdir()}
    stamps = {path.name: path.stat().st_mtime_ns for path in output.iterdir()}
    server.add("/s0.rss", rss(0, 0, only=(0, 1)))
    blocked = unwritable(output)
    blocked.apply()

    done = run_cli("build", "-c", str(config))
    blocked.restore()

    _assert_publish_failure(done, output)
    assert {path.name: path.read_bytes() for path in output.iterdir()} == before
    assert {path.name: path.stat().st_mtime_ns for path in output.iterdir()} == stamps
    check_output(output)


def test_build_with_a_file_where_the_output_folder_should_be(
    server: Server, tmp_path: Path
) -> None:
    server.add("/s0.rss", rss(0, 3))
    config = write_config(tmp_path, sources_block(server, 1))
    output = tmp_path / "output"
    output.write_bytes(b"precious, not a folder\n")

    done = run_cli("build", "-c", str(config))

    # Refused as a config error, naming output.dir, before anything runs
    # (`feeds check` says the same).
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "output.dir:" in done.stderr and "is a file, not a folder" in done.stderr
    assert output.read_bytes() == b"precious, not a folder\n"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, mounted for the test (root only)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, check=False)


def test_build_onto_a_full_disk_fails_cleanly_and_keeps_the_files(
    server: Server, tmp_path: Path, tiny_disk: Path
) -> None:
    config, output = _first_build(server, tmp_path, str(tiny_disk / "output"))
    before = {path.name: path.read_bytes() for path in output.iterdir()}
    # Thirty stories of 20 KB: all.atom alone outgrows the disk.
    server.add("/s0.rss", rss(0, 30, pad=20_000))

    done = run_cli("build", "-c", str(config))

    _assert_publish_failure(done, output)
    assert "No space left on device" in error_lines(done.stderr)[0]
    after = {path.name: path.read_bytes() for path in output.iterdir()}
    assert after == before, "a file changed or a temporary was left on the full disk"


def test_build_after_a_failed_publish_publishes_what_the_store_holds(
    server: Server, tmp_path: Path, unwritable: Callable[[Path], Unwritable]
) -> None:
    """The failed build committed story 0-1 to the store; once the folder
    is writable again, the next build (same sources, no new data) must
    publish it rather than trust the files are up to date."""
    config, output = _first_build(server, tmp_path)
    server.add("/s0.rss", rss(0, 0, only=(0, 1)))
    blocked = unwritable(output)
    blocked.apply()
    failed = run_cli("build", "-c", str(config))
    blocked.restore()
    assert failed.returncode == 1, failed.stderr

    done = run_cli("build", "-c", str(config))

    assert done.returncode == 0, done.stderr
    check_output(output)
    assert "Story 0-1" in read(output / "all.atom"), done.stdout
    assert json_ids(output / "all.json") == newest_ids(tmp_path / "feeds.db")


def _service_with_blocked_output(
    server: Server,
    tmp_path: Path,
    processes: Callable[..., Process],
    unwritable: Callable[[Path], Unwritable],
) -> tuple[Process, str, Path, Unwritable]:
    """A service publishing story 0-0 (art); then output/ made unwritable
    and story 0-1 (books -> literature) served: the service stores it and
    fails to publish it."""
    server.add("/s0.rss", rss(0, 0, only=(0,)))
    config = write_config(tmp_path, sources_block(server, 1, "0.3s"), BASE_CONFIG + SERVICE)
    output = tmp_path / "output"
    service = processes(tmp_path, "run", "run", "-c", str(config))
    url = service.serving_url()
    wait_until(lambda: "Story 0-0" in read(output / "art.atom"), 15, service.stderr)

    blocked = unwritable(output)
    blocked.apply()
    server.add("/s0.rss", rss(0, 0, only=(0, 1)))

    def failed() -> bool:
        return any(
            "ERROR" in line and str(output) in line for line in service.stderr().splitlines()
        )

    wait_until(failed, 15, service.stderr)
    return service, url, output, blocked


@pytest.mark.slow
def test_service_survives_an_unwritable_output_folder(
    server: Server,
    tmp_path: Path,
    processes: Callable[..., Process],
    unwritable: Callable[[Path], Unwritable],
) -> None:
    service, url, output, blocked = _service_with_blocked_output(
        server, tmp_path, processes, unwritable
    )
    assert "Traceback" not in service.stderr()
    time.sleep(1.0)  # a few more runs of the source while blocked
    assert service.alive(), service.stderr()
    with httpx.Client(timeout=5) as client:
        assert client.get(url + "healthz").status_code == 200

    blocked.restore()
    # The next change (story 0-2, news) is published.
    server.add("/s0.rss", rss(0, 0, only=(0, 1, 2)))
    wait_until(lambda: "Story 0-2" in read(output / "all.atom"), 15, service.stderr)
    assert service.alive()
    check_output(output)
    with httpx.Client(timeout=5) as client:
        assert client.get(url + "healthz").status_code == 200
        assert "Story 0-2" in client.get(url + "all.atom").text


@pytest.mark.slow
def test_service_publishes_a_change_that_failed_to_publish_once_it_can(
    server: Server,
    tmp_path: Path,
    processes: Callable[..., Process],
    unwritable: Callable[[Path], Unwritable],
) -> None:
    """Story 0-1 (literature) was stored while output/ was unwritable; after
    the folder is back and the next change (story 0-2, news) is published,
    literature's feeds must hold story 0-1 too, as the store does."""
    service, _url, output, blocked = _service_with_blocked_output(
        server, tmp_path, processes, unwritable
    )
    blocked.restore()
    server.add("/s0.rss", rss(0, 0, only=(0, 1, 2)))
    wait_until(lambda: "Story 0-2" in read(output / "all.atom"), 15, service.stderr)
    time.sleep(0.5)
    check_output(output)
    assert "Story 0-1" in read(output / "all.atom")
    assert "Story 0-1" in read(output / "literature.atom"), (
        "literature.atom still lacks story 0-1, which the store holds"
    )


def test_build_with_its_store_on_a_full_disk_fails_naming_the_lock_file(
    server: Server, tmp_path: Path, tiny_disk: Path
) -> None:
    """The store's folder has no space left, not even for the lock file's
    one line naming its holder: the build says so, with the path, and
    stops before touching the store."""
    config, _output = _first_build(server, tmp_path)
    store = tmp_path / "feeds.db"
    moved = tiny_disk / "feeds.db"
    shutil.copyfile(store, moved)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("site:\n", f"storage:\n  url: sqlite:///{moved}\nsite:\n", 1),
        encoding="utf-8",
    )
    filler = tiny_disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as stream:
        while True:
            stream.write(b"\0" * 65536)
            stream.flush()
    before = moved.read_bytes()

    done = run_cli("build", "-c", str(config))

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = error_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert str(moved) + ".lock" in lines[0], lines[0]
    assert "No space left on device" in lines[0], lines[0]
    assert moved.read_bytes() == before
