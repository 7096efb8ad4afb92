"""Shared fixtures: a real HTTP server on 127.0.0.1, a loopback-only network
guard, config writing and running the CLI as a subprocess."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI runs the same hypothesis examples every time, so a submission's result
# does not depend on luck; local runs keep exploring (and remember what they
# found in .hypothesis/).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
#: A whole colta.ru front page as a text dump: the layout `type: text` reads.
SEED = DATA / "seed" / "colta-page.txt"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach past 127.0.0.1: any other connect fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise AssertionError(f"test tried to reach {host}: only loopback is allowed")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@dataclass
class Route:
    """One canned answer of the test server."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: Answered only once this is set (for at most 20 s): a request the
    #: test holds in flight while it does something else.
    hold: threading.Event | None = None


@dataclass
class Server:
    """A threaded HTTP server on 127.0.0.1 that answers from `routes` and
    records every request's path and headers."""

    url: str
    routes: dict[str, list[Route]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    times: list[tuple[str, float]] = field(default_factory=list)
    #: Requests come and not answered yet (their answer not started).
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, path: str, body: bytes | str, status: int = 200, delay: float = 0.0, **headers: str
    ) -> str:
        """Answer `path` with this from now on. Header names use _ for -."""
        self.routes[path] = [self.route(body, status, delay, **headers)]
        return self.url + path

    def sequence(self, path: str, *routes: Route) -> str:
        """Answer `path` with each route in turn; the last one then repeats."""
        self.routes[path] = list(routes)
        return self.url + path

    @staticmethod
    def route(
        body: bytes | str,
        status: int = 200,
        delay: float = 0.0,
        hold: threading.Event | None = None,
        **headers: str,
    ) -> Route:
        if isinstance(body, str):
            body = body.encode("utf-8")
        named = {k.replace("_", "-"): v for k, v in headers.items()}
        return Route(body=body, status=status, headers=named, delay=delay, hold=hold)

    @property
    def address(self) -> tuple[str]:
        """This server as the one `fetch.allow_private` entry it needs."""
        return (self.url.removeprefix("http://"),)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.requests if seen == path]


@pytest.fixture
def impatient_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections that give up at once on a locked database, instead of
    SQLite's polling for up to 30 s: what gets past is what never waited
    on SQLite's lock."""
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real_connect(*args, **{**kwargs, "timeout": 0})

    monkeypatch.setattr(sqlite3, "connect", connect)


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as state:
        yield state


@pytest.fixture
def other_server() -> Iterator[Server]:
    """A second host, for what is kept per host."""
    with serving() as state:
        yield state


#: Linux's socket option for receive times in nanoseconds (SO_TIMESTAMPNS).
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def _arrival(connection: socket.socket) -> float:
    """When the first bytes waiting on `connection` (a request) came in, on
    the monotonic clock, as the kernel stamped them; left to be read. On a
    loaded machine a handler thread may read a request tens of
    milliseconds after the client sent it, and two requests a delay apart
    looked closer than that. Now, where the kernel gives no stamp."""
    try:
        _data, ancillary, _flags, _address = connection.recvmsg(
            1, socket.CMSG_SPACE(16), socket.MSG_PEEK
        )
    except OSError:
        return time.monotonic()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return time.monotonic() - (time.time() - (seconds + nanoseconds / 1e9))
    return time.monotonic()


@contextmanager
def serving() -> Iterator[Server]:
    """A `Server` on a port of its own, until the block ends."""
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            super().setup()
            self.arrived = _arrival(self.connection)

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            path = self.path.split("?", 1)[0]
            with state.lock:
                state.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
                state.times.append((path, self.arrived))
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
                routes = state.routes.get(path)
                route = (routes.pop(0) if len(routes) > 1 else routes[0]) if routes else None
            try:
                if route is not None and route.delay:
                    time.sleep(route.delay)
                if route is not None and route.hold is not None:
                    route.hold.wait(20)
            finally:
                # Out of flight before the answer goes out: a client that has
                # it whole may send its next request before this thread runs
                # again (on a loaded machine it counted one too many).
                with state.lock:
                    state.in_flight -= 1
            if route is None:
                self.send_error(404)
            else:
                self._answer(route)

        def _answer(self, route: Route) -> None:
            etag = route.headers.get("ETag")
            modified = route.headers.get("Last-Modified")
            if (etag and self.headers.get("If-None-Match") == etag) or (
                not etag and modified and self.headers.get("If-Modified-Since") == modified
            ):
                self.send_response(304)
                for name in ("ETag", "Last-Modified"):
                    if name in route.headers:
                        self.send_header(name, route.headers[name])
                self.end_headers()
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client hung up before the whole body (a size limit, a
                # time-out, a fetch given up): what those tests make happen,
                # not a traceback for the test's output.
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    # Each request's time as the kernel took its bytes in (its connections
    # inherit this), not as a handler thread got round to reading it.
    httpd.socket.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    # A connection the client dropped before it was taken must not leave
    # the serving thread blocked in accept(), where shutdown() below would
    # wait for it for ever.
    httpd.socket.setblocking(False)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def no_handshake() -> Iterator[str]:
    """The base URL of a host that never completes a TCP handshake, like one
    dropping packets: a listener whose accept queue is full, and which never
    accepts (Linux then drops every further SYN)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    queued: list[socket.socket] = []
    try:
        for _ in range(32):
            probe = socket.socket()
            probe.settimeout(0.3)
            try:
                probe.connect(address)
            except TimeoutError:
                probe.close()
                break
            queued.append(probe)  # takes a place in the queue
        else:
            pytest.fail("the listen queue never filled: connects would complete")
        yield f"http://127.0.0.1:{address[1]}"
    finally:
        for sock in queued:
            sock.close()
        listener.close()


#: `python -m feeds` for the service tests, with config.yaml's shortest
#: interval lowered from 1 s (feeds.config.MIN_INTERVAL) to 0.1 s, in that
#: process only: they run sources every few tenths of a second, to see many
#: runs (and kills, and reloads) within seconds.
FEEDS_WITH_SHORT_INTERVALS = (
    sys.executable,
    "-c",
    "import sys, feeds.config; feeds.config.MIN_INTERVAL = 0.1; "
    "from feeds.cli import main; sys.exit(main())",
)


def run_cli(
    *args: str, cwd: Path | None = None, short_intervals: bool = False
) -> subprocess.CompletedProcess[str]:
    """`python -m feeds ARGS` in a subprocess, as an operator runs it (or,
    with `short_intervals`, as FEEDS_WITH_SHORT_INTERVALS does)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = FEEDS_WITH_SHORT_INTERVALS if short_intervals else (sys.executable, "-m", "feeds")
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


BASE_CONFIG = """\
site:
  title: Test Site
  base_url: https://feeds.example.org/
  language: ru
  timezone: Europe/Moscow
output:
  dir: output
  max_items: 50
fetch:
  host_delay: 0
rubrics:
  - slug: literature
    title: Литература
    aliases: [literature, books]
  - slug: art
    title: Искусство
    aliases: [art]
  - slug: society
    title: Общество
  - slug: classical-music
    title: Академическая музыка
    aliases: [classical music]
  - slug: news
    title: Новости
    aliases: [news]
series:
  - Colta Specials
  - Молодая Россия
"""


def group_ends(group: int, seconds: float = 10.0) -> bool:
    """Whether every process of this process group is gone within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def allowing(base: str, sources: str) -> str:
    """`base` with `fetch.allow_private` listing exactly the loopback test
    servers the `sources` block points at (fetches refuse loopback by
    default)."""
    servers = sorted(set(re.findall(r"http://(127\.0\.0\.1:\d+)", sources)))
    if not servers:
        return base
    rule = "  allow_private: [" + ", ".join(f'"{s}"' for s in servers) + "]\n"
    if "\nfetch:\n" in base:
        return base.replace("\nfetch:\n", "\nfetch:\n" + rule, 1)
    return base + "fetch:\n" + rule


def write_config(folder: Path, sources: str, base: str = BASE_CONFIG) -> Path:
    """A config.yaml in `folder`: the base vocabulary plus the given
    `sources:` block (YAML text), allowing the loopback servers it uses."""
    path = folder / "config.yaml"
    path.write_text(allowing(base, sources) + "sources:\n" + sources, encoding="utf-8")
    return path


#: What each store migration added, undone (newest first): a store as an
#: older release left it, for the upgrade tests.
_UNDO_MIGRATION = {
    11: "DROP TABLE page_failures;",
    10: "DROP TABLE forgotten; ALTER TABLE archive_pages DROP COLUMN changed;",
    9: "",  # HTML scrubbed of unwritable characters: nothing to undo
    8: "ALTER TABLE sources DROP COLUMN retry_until; ALTER TABLE sources DROP COLUMN retry_url;",
    7: "DROP INDEX items_unlinked;",
    6: "ALTER TABLE sources DROP COLUMN read_as;",
    5: "DROP TABLE feed_members; DROP TABLE archive_pages;",
}


def downgrade_store(path: Path, version: int) -> None:
    """Make the SQLite store at `path` what release `version` of the schema
    left (back to version 4)."""
    with sqlite3.connect(path) as db:
        current = db.execute("PRAGMA user_version").fetchone()[0]
        for number in range(current, version, -1):
            db.executescript(_UNDO_MIGRATION[number])
        db.execute(f"PRAGMA user_version = {version}")
    db.close()


@contextmanager
def store_held_whole(path: Path) -> Iterator[None]:
    """Another process holds the SQLite store at `path` whole (exclusive
    locking mode, in a transaction) until the block ends."""
    hold = (
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA locking_mode = EXCLUSIVE')\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield
    finally:
        holder.kill()
        holder.communicate()


def tags_left_open(paragraph: str = "<p>a paragraph of text</p>") -> str:
    """500 bold tags, each of its own class, left open in a block that then
    ends, and 1,000 paragraphs after: an HTML parser copies all 500 into
    each (half a million elements; 19,000 paragraphs, a 480 KB page, took
    6.7 s and 3.5 GB)."""
    return "<div>" + "".join(f'<b class="c{n}">' for n in range(500)) + "</div>" + paragraph * 1000


def descendants(pid: int) -> dict[int, int]:
    """Every process below `pid`, with its parent."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, int] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = parent
                frontier.append(child)
    return found


class Unwritable:
    """Makes a folder unwritable in a way root respects: the immutable
    attribute (`chattr +i`) where the file system has it, else the folder is
    moved aside and a regular file put in its place. `restore()` undoes it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.aside = directory.with_name(directory.name + ".aside")
        self.how = ""

    def apply(self) -> str:
        if shutil.which("chattr"):
            done = subprocess.run(
                ["chattr", "+i", str(self.directory)], capture_output=True, check=False
            )
            if done.returncode == 0:
                probe = self.directory / "probe"
                try:
                    probe.write_bytes(b"")
                except OSError:
                    self.how = "immutable"
                    return self.how
                probe.unlink()
                self._chattr_off()
        self.directory.rename(self.aside)
        self.directory.write_bytes(b"a file where output/ should be\n")
        self.how = "file"
        return self.how

    def restore(self) -> None:
        if self.how == "immutable":
            self._chattr_off()
        elif self.how == "file":
            self.directory.unlink()
            self.aside.rename(self.directory)
        self.how = ""

    def _chattr_off(self) -> None:
        subprocess.run(["chattr", "-i", str(self.directory)], capture_output=True, check=False)


@pytest.fixture
def unwritable() -> Iterator[Callable[[Path], Unwritable]]:
    made: list[Unwritable] = []

    def make(directory: Path) -> Unwritable:
        made.append(Unwritable(directory))
        return made[-1]

    yield make
    for one in made:
        one.restore()
