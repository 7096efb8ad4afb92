"""Serving: the optional last step after publish. HTTP for the files in
output/, plus /healthz and /metrics for whoever watches the service.

I/O: reads regular files directly inside output/ (never outside it, never
hidden temporaries), opens the store for each /healthz and /metrics request
(a fresh `Store` per request, closed after, so no connection is shared
between threads), and listens on a TCP socket through uvicorn. The only
module that imports starlette, uvicorn and prometheus_client.

Feed files get a strong ETag (a digest of their bytes, remembered per inode,
mtime, size and ctime so an unchanged file is not hashed again), Last-Modified,
Cache-Control and conditional 304s. Gzip is done here rather than by a
middleware, so that HEAD and 304 answers carry the same headers as GET and
the gzipped bytes, a different representation, get their own ETag.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import unquote

import h11
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from feeds.errors import ServeError, StoreError
from feeds.model import ARCHIVE_DIR, mail_date
from feeds.publish import MAX_LEAD
from feeds.render import FORMATS
from feeds.store import SourceState, Store, no_store_yet

logger = logging.getLogger(__name__)

#: Bodies smaller than this go out as they are: gzip would save too little.
GZIP_MIN_SIZE = 500
#: How long a stopping server lets requests in flight finish.
_GRACE_SECONDS = 3
#: A bound on remembered file versions; output/ holds a few dozen files.
_CACHE_LIMIT = 1024
#: Connections served at once; more are closed as they come. Each holds a
#: file descriptor, and the service's store and fetches need theirs.
MAX_CONNECTIONS = 512
#: How long one reading of the store serves /metrics, and /healthz.
METRICS_SECONDS = 10.0
HEALTH_SECONDS = 1.0
#: How long /healthz and /metrics wait for a store another process holds
#: (a long write) before answering 503.
STORE_WAIT = 2.0
#: A file whose inode changed less than this before it was read is hashed
#: again at the next request rather than trusted by its stat (see _FileCache).
_RACY_NS = 2_000_000_000
#: How long a client may take over a request's headers (or, kept alive,
#: to start the next one): a client that sends them a byte at a time, or
#: never finishes, would keep its connection for ever.
HEADER_SECONDS = 10.0
#: How long a client must have taken none of its answer before, at the
#: connection cap, its slot may go to a new client.
STALL_SECONDS = 5.0
#: At the cap with every connection busy, the oldest one open at least
#: this long gives its slot to a new client: 520 clients that asked for
#: feed after feed on one connection each and read a little every few
#: seconds (never stalled that long) turned everyone else away.
HOLD_SECONDS = 2.0

_CONTENT_TYPES: dict[str, str] = {
    **{f".{suffix}": mime for suffix, (_label, mime) in FORMATS.items()},
    ".opml": "text/x-opml",
    ".html": "text/html",
    ".xsl": "application/xslt+xml",
    ".css": "text/css",
}
_NO_CACHE = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """What the app needs of the config; read again on every request, so a
    running service picks up an edited config.yaml."""

    output_dir: Path
    #: ``sqlite:////abs/path/feeds.db``
    storage_url: str
    #: Seconds for ``Cache-Control: public, max-age=N`` on files.
    max_age: int
    #: Configured source names: /healthz and /metrics report these only.
    sources: tuple[str, ...]
    #: /healthz fails when no source succeeded within this many seconds.
    stale_after: float


def create_app(settings: Callable[[], ServeSettings]) -> Starlette:
    """The ASGI app serving output/, /healthz and /metrics."""
    files = _FileCache()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StoreCollector(settings))

    def serve_file(request: Request) -> Response:
        current = settings()
        path = _find_file(current.output_dir, request.path_params["name"] or "index.html")
        if path is None:
            return _not_found()
        try:
            return _file_response(request, path, files, _cache_control(path, current))
        except OSError:
            # Renamed away or unreadable between the lookup and the read.
            return _not_found()

    states_read: _SharedReading[list[SourceState]] = _SharedReading(HEALTH_SECONDS)

    def healthz(request: Request) -> Response:
        current = settings()
        try:
            read = states_read.get(current.storage_url, lambda: _source_states(current.storage_url))
            known = {state.name: state for state in read}
        except StoreError as exc:
            logger.warning("/healthz: %s", exc)
            failed = {"status": "unhealthy", "error": "store unavailable"}
            return _dynamic(request, _json(failed), "application/json", 503)
        now = datetime.now(UTC)
        states = [known.get(name) for name in current.sources]
        fresh = any(
            state is not None
            and state.last_success is not None
            and (now - state.last_success).total_seconds() <= current.stale_after
            for state in states
        )
        body = {
            "status": "ok" if fresh else "unhealthy",
            "sources": [
                _source_health(name, state)
                for name, state in zip(current.sources, states, strict=True)
            ],
        }
        return _dynamic(request, _json(body), "application/json", 200 if fresh else 503)

    def metrics(request: Request) -> Response:
        try:
            text = generate_latest(registry)
        except StoreError as exc:
            logger.warning("/metrics: %s", exc)
            return _dynamic(request, b"store unavailable\n", "text/plain; charset=utf-8", 503)
        return _dynamic(request, text, CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            # Starlette adds HEAD wherever GET is allowed; the rest get 405.
            Route("/{name:path}", serve_file, methods=["GET"]),
        ],
        middleware=[Middleware(_RequestLine)],
    )


#: The scheme and authority of an absolute-form request target.
_ABSOLUTE_FORM = re.compile(rb"https?://[^/]*", re.IGNORECASE)
#: The methods of RFC 9110 9.3 and PATCH (RFC 5789): one of these that a
#: resource does not allow gets 405 from the routes, any other 501.
_KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)


class _RequestLine:
    """What the request line needs before routing. A target that is an
    absolute URL (``GET http://host/all.atom``) is answered as for its
    path: RFC 9112 3.2.2 says a server MUST accept that form, which clients
    send through some proxies, and uvicorn hands it on as the path, which
    matched no file. A method nobody defined (``FOO``, or ``get``: methods
    are case-sensitive) is 501, as RFC 9110 9.1 asks; 405 would claim the
    method is known and only not allowed here (15.5.6)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in _KNOWN_METHODS:
            response = PlainTextResponse("Not Implemented", status_code=501)
            await response(scope, receive, send)
            return
        if scope["type"] == "http" and not scope["path"].startswith("/"):
            # The raw target, not the decoded path: "%2f" in the authority
            # must not end it.
            absolute = _ABSOLUTE_FORM.match(scope["raw_path"])
            if absolute is not None:
                raw_path = scope["raw_path"][absolute.end() :] or b"/"
                path = unquote(raw_path.decode("ascii"))
                scope = {**scope, "path": path, "raw_path": raw_path}
        await self._app(scope, receive, send)


# -- files ---------------------------------------------------------------


def _find_file(root: Path, name: str) -> Path | None:
    """The regular file `name` directly inside `root`, or an archive page
    (``archive/<slug>/<file>``), or None for anything that could lead
    elsewhere. `name` is already percent-decoded, so ``%2e`` and ``%2f``
    arrive here as ``.`` and ``/``."""
    parts = name.split("/")
    if len(parts) not in (1, 3) or (len(parts) == 3 and parts[0] != ARCHIVE_DIR):
        return None
    for part in parts:
        if (
            not part
            or part.startswith(".")
            or any(char == "\\" or ord(char) < 0x20 or char == "\x7f" for char in part)
        ):
            return None
    try:
        base = root.resolve(strict=True)
        path = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    # A symlink may point anywhere; only its final target counts, and it
    # must be in the folder the name says.
    folder = base.joinpath(*parts[:-1])
    if path.parent != folder or path.name.startswith(".") or not path.is_file():
        return None
    return path


@dataclass(frozen=True, slots=True)
class _Version:
    """One version of one output file. `key` (inode, mtime, size, ctime)
    tells a later stat that the file is unchanged, provided the version
    was read well after its inode last changed (`_FileCache`)."""

    key: tuple[int, int, int, int]
    digest: str
    size: int
    mtime: float
    #: The gzip representation, or None when the file is too small or
    #: does not shrink.
    gzipped: bytes | None

    def etag(self, gzipped: bool, content_type: str) -> str:
        # RFC 9110 8.8.3: a strong tag names one representation, so the
        # gzipped bytes need a tag of their own, and so does a feed sent to
        # a browser as application/xml (a shared cache keeps both).
        variant = "-xml" if content_type.startswith("application/xml") else ""
        return f'"{self.digest}{variant}{"-gz" if gzipped else ""}"'


def _key(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_ino, status.st_mtime_ns, status.st_size, status.st_ctime_ns)


class _FileCache:
    """Digests and gzipped bytes of the files served, per path. Shared by
    the worker threads, hence the lock.

    Inode, mtime and size alone do not tell versions apart: publish stamps
    every rewrite within a second with the same whole-second mtime (at most
    MAX_LEAD ahead), the inode of a replaced version is soon given to a new
    file, and feeds often keep their size; such a version was served, gzip
    and ETag, as the one before it until the file changed again. A version
    is remembered only when its inode had not changed for _RACY_NS before
    it was read (as git treats a "racily clean" index entry): any later
    file at that path, new inode or the same one rewritten, changes after
    the read, so its ctime differs from the remembered one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[Path, _Version] = {}

    def find(self, path: Path) -> _Version | None:
        """The remembered version of `path` if the file is still that one."""
        key = _key(path.stat())
        with self._lock:
            version = self._versions.get(path)
        return version if version is not None and version.key == key else None

    def load(self, path: Path) -> tuple[_Version, bytes]:
        """Read `path`; hash and compress it only if it changed."""
        started = time.time_ns()
        with path.open("rb") as file:
            key = _key(os.fstat(file.fileno()))
            data = file.read()
        with self._lock:
            version = self._versions.get(path)
        if version is not None and version.key == key:
            return version, data
        settled = key[3] < started - _RACY_NS
        gzipped: bytes | None = None
        if len(data) >= GZIP_MIN_SIZE:
            # mtime=0 keeps the bytes, and so the ETag, the same across restarts.
            gzipped = gzip.compress(data, compresslevel=6, mtime=0)
            if len(gzipped) >= len(data):
                gzipped = None
        version = _Version(
            key=key,
            digest=hashlib.sha256(data).hexdigest()[:32],
            size=len(data),
            mtime=key[1] / 1e9,
            gzipped=gzipped,
        )
        with self._lock:
            if not settled:
                self._versions.pop(path, None)
                return version, data
            if len(self._versions) >= _CACHE_LIMIT:
                self._versions.clear()
            self._versions[path] = version
        return version, data


#: Archive pages never change once written (RFC 5005): caches keep them.
_ARCHIVE_CACHE = "public, max-age=31536000, immutable"


def _cache_control(path: Path, settings: ServeSettings) -> str:
    if path.parent.parent == settings.output_dir / ARCHIVE_DIR:
        return _ARCHIVE_CACHE
    return f"public, max-age={settings.max_age}"


def _file_response(request: Request, path: Path, files: _FileCache, cache_control: str) -> Response:
    body: bytes | None = None
    version = files.find(path)
    if version is None:
        version, body = files.load(path)
    gzip_ok = _accepts_gzip(request.headers.get("accept-encoding", ""))
    use_gzip = gzip_ok and version.gzipped is not None
    content_type = _content_type(path, request.headers.get("accept", ""))
    headers = {
        "ETag": version.etag(use_gzip, content_type),
        "Last-Modified": _last_modified(version.mtime),
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding, Accept",
    }
    if _precondition_failed(request.headers, headers["ETag"], version.mtime):
        return Response(status_code=412, headers=headers)
    if _not_modified(request.headers, headers["ETag"], version.mtime):
        return Response(status_code=304, headers=headers)
    if request.method == "GET" and not use_gzip and body is None:
        # The file may have been replaced since the stat: serve what was
        # read, with the headers of what was read.
        version, body = files.load(path)
        use_gzip = gzip_ok and version.gzipped is not None
        headers["ETag"] = version.etag(use_gzip, content_type)
        headers["Last-Modified"] = _last_modified(version.mtime)
    if use_gzip:
        assert version.gzipped is not None
        content, length = version.gzipped, len(version.gzipped)
        headers["Content-Encoding"] = "gzip"
    else:
        content, length = body or b"", version.size
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(length)
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(content=b"" if request.method == "HEAD" else content, headers=headers)


def _last_modified(mtime: float) -> str:
    """Last-Modified for a file of this mtime, never later than the Date of
    the answer (RFC 9110 8.8.2.1). Publishing stamps a version written
    within a second of the one before up to MAX_LEAD ahead of the clock, so
    that it reads as newer; until the clock (and uvicorn's Date, renewed
    once a second) has passed that, the answer gives an earlier time, and a
    client that sends it back gets the file again, never a 304 for a newer
    version stamped with the same second."""
    return formatdate(min(mtime, time.time() - _DATE_LAG), usegmt=True)


#: How far behind the clock the Date uvicorn writes may be, in seconds.
_DATE_LAG = 2.0


def _content_type(path: Path, accept: str = "") -> str:
    mime = _CONTENT_TYPES.get(path.suffix.lower())
    if path.suffix.lower() in (".atom", ".rss") and accept.lstrip().startswith("text/html"):
        # A browser opening the feed: browsers apply the feed's stylesheet
        # (feeds.xsl) to application/xml but show atom+xml and rss+xml as
        # raw text. Feed readers do not ask for text/html first and keep
        # getting the feed's own type.
        mime = "application/xml"
    return f"{mime}; charset=utf-8" if mime else "application/octet-stream"


def _precondition_failed(headers: Headers, etag: str, mtime: float) -> bool:
    """RFC 9110 13.1.1-13.1.4: If-Match (strong comparison) fails unless a
    tag is this one's; If-Unmodified-Since counts only without it."""
    if_match = _joined(headers, "if-match")
    if if_match is not None:
        if any(part.strip() == "*" for part in if_match.split(",")):
            return False
        strong = not etag.startswith("W/")
        return not (strong and etag in _ENTITY_TAG.findall(if_match))
    since = _http_date(headers, "if-unmodified-since")
    return since is not None and int(mtime) > since


def _not_modified(headers: Headers, etag: str, mtime: float) -> bool:
    """RFC 9110 13.1: If-None-Match (weak comparison) wins; If-Modified-Since
    counts only without it."""
    if_none_match = _joined(headers, "if-none-match")
    if if_none_match is not None:
        if any(part.strip() == "*" for part in if_none_match.split(",")):
            return True
        opaque = etag.removeprefix("W/")
        return any(tag.removeprefix("W/") == opaque for tag in _ENTITY_TAG.findall(if_none_match))
    since = _http_date(headers, "if-modified-since")
    if since is None:
        return False
    if since > time.time() + MAX_LEAD:
        # Later than any Last-Modified a file is given now (publishing puts
        # it at most MAX_LEAD ahead of the clock): the date of a version
        # stamped further ahead, before a clock was set back. A later
        # version may carry an earlier date, so only that very one is
        # unchanged.
        return int(mtime) == since
    # HTTP dates have whole seconds; Last-Modified was truncated the same way.
    return int(mtime) <= since


def _joined(headers: Headers, name: str) -> str | None:
    """A list header sent on several lines, as one (RFC 9110 5.3)."""
    lines = headers.getlist(name)
    return ", ".join(lines) if lines else None


def _http_date(headers: Headers, name: str) -> float | None:
    """A date header as a timestamp; None when absent, unparsable or given
    more than once, which RFC 9110 13.1.3 says to ignore."""
    lines = headers.getlist(name)
    if len(lines) != 1:
        return None
    moment = mail_date(lines[0])
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _accepts_gzip(header: str) -> bool:
    """Whether Accept-Encoding allows gzip, honouring ``q=0`` refusals."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.lower()] = weight
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def _dynamic(request: Request, body: bytes, media_type: str, status: int = 200) -> Response:
    """An uncached answer, gzipped when it is worth it and the client agrees."""
    headers = dict(_NO_CACHE)
    if len(body) >= GZIP_MIN_SIZE and _accepts_gzip(request.headers.get("accept-encoding", "")):
        body = gzip.compress(body, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, status_code=status, headers=headers, media_type=media_type)


# -- health and metrics ----------------------------------------------------


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _source_states(url: str) -> list[SourceState]:
    if no_store_yet(url):
        return []
    with Store(url, wait=STORE_WAIT, read_only=True) as store:
        return store.source_states()


_T = TypeVar("_T")


class _SharedReading(Generic[_T]):
    """One reading of the store at a time, kept for `seconds`, its failure
    too: requests that come together share it. /healthz and /metrics share
    their worker threads with the feeds, and each waited for a store held
    elsewhere (a long write) on its own: 60 /healthz requests at once kept
    /all.atom waiting 29 s, and themselves up to 60 s."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        #: When, for what, and what was read (or what it raised).
        self._read: tuple[float, object, _T | StoreError] | None = None

    def get(self, key: object, read: Callable[[], _T]) -> _T:
        """What `read` gives for `key`, read anew at most every `seconds`.
        Raises StoreError."""
        with self._lock:
            if self._read is not None:
                read_at, read_for, found = self._read
                if read_for == key and time.monotonic() - read_at < self._seconds:
                    if isinstance(found, StoreError):
                        raise found
                    return found
            try:
                result: _T | StoreError = read()
            except StoreError as exc:
                result = exc
            self._read = (time.monotonic(), key, result)
            if isinstance(result, StoreError):
                raise result
            return result


# /healthz shares the port partners read feeds from: an error's source
# address loses its password and query (tokens), a local path its folders.
_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s]*@", re.IGNORECASE)
# The query runs to the end of the address: in an error, to "): " or ")"
# (or to the end: better hide too much than a token).
_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#)'\"]*)\?.*?(?=\): |\)$|$)", re.IGNORECASE)
#: A local path in parentheses, as the fetcher writes one (spaces and all).
_PATH_IN_PARENTHESES = re.compile(r"\((/[^()]*/)([^/()]+)\)")
_LOCAL_PATH = re.compile(r"(?<![\w/:.~-])(?:/[^\s/()'\"]+)+/(?=[^\s/()'\"]+)")
_FILE_URL = re.compile(r"\bfile:///(?:[^\s/()'\"]+/)+(?=[^\s/()'\"]+)", re.IGNORECASE)


def _public(error: str) -> str:
    """An error as /healthz may show it to anyone."""
    error = _CREDENTIALS.sub(r"\1", error)
    error = _QUERY.sub(r"\1?…", error)
    error = _FILE_URL.sub("file://…/", error)
    error = _PATH_IN_PARENTHESES.sub(r"(…/\2)", error)
    return _LOCAL_PATH.sub("…/", error)


def _source_health(name: str, state: SourceState | None) -> dict[str, object]:
    """One source in /healthz; nulls for a source the store has not seen."""
    if state is None:
        return {
            "name": name,
            "health": None,
            "last_success": None,
            "last_attempt": None,
            "last_error": None,
            "failures": None,
            "next_due": None,
            "items": None,
            "moved_to": None,
        }
    return {
        "name": name,
        "health": state.health or "ok",
        "last_success": _iso(state.last_success),
        "last_attempt": _iso(state.last_attempt),
        "last_error": _public(state.last_error) or None,
        "failures": state.failures,
        # A source paused by 410 Gone is not fetched until its url changes.
        "next_due": None if state.health == "gone" else _iso(state.next_due),
        "items": state.last_items,
        # Where a permanent redirect now sends it: its url wants updating.
        "moved_to": _public(state.moved_to) or None,
    }


#: name, help, the SourceState field it sums.
_COUNTERS: tuple[tuple[str, str, Callable[[SourceState], float]], ...] = (
    ("feeds_source_fetches", "Fetch attempts of the source.", lambda s: s.fetches),
    ("feeds_source_failures", "Failed fetch attempts.", lambda s: s.failures_total),
    ("feeds_source_not_modified", "Fetches answered 304.", lambda s: s.not_modified),
    ("feeds_source_fetched_bytes", "Bytes fetched from the source.", lambda s: s.bytes),
    ("feeds_source_fetch_seconds", "Seconds spent fetching.", lambda s: s.seconds),
)


class _StoreCollector(Collector):
    """Reads the store at scrape time, so the numbers are those of whichever
    process wrote them and survive restarts. Raises StoreError."""

    def __init__(self, settings: Callable[[], ServeSettings]) -> None:
        self._settings = settings
        # Counting a large store takes a while: scrapes coming together
        # share one reading, and a reading serves for METRICS_SECONDS, so
        # a flood of /metrics requests cannot hold every worker thread.
        self._reading: _SharedReading[list[Metric]] = _SharedReading(METRICS_SECONDS)

    def collect(self) -> Iterable[Metric]:
        current = self._settings()
        wanted = (current.storage_url, current.sources)
        return self._reading.get(wanted, lambda: self._families(current))

    def _families(self, current: ServeSettings) -> list[Metric]:
        if no_store_yet(current.storage_url):
            known, rubrics, total = {}, {}, 0
        else:
            with Store(current.storage_url, wait=STORE_WAIT, read_only=True) as store:
                known = {state.name: state for state in store.source_states()}
                rubrics = store.rubric_counts()
                total = store.count()
        states = [known.get(name) or SourceState(name=name) for name in current.sources]
        return [*_source_families(states), *_item_families(rubrics, total)]


def _source_families(states: list[SourceState]) -> list[Metric]:
    families: list[Metric] = []
    for name, documentation, field in _COUNTERS:
        counter = CounterMetricFamily(name, documentation, labels=["source"])
        for state in states:
            counter.add_metric([state.name], float(field(state)))
        families.append(counter)
    consecutive = GaugeMetricFamily(
        "feeds_source_consecutive_failures",
        "Failures since the last success.",
        labels=["source"],
    )
    last_success = GaugeMetricFamily(
        "feeds_source_last_success_timestamp_seconds",
        "Unix time of the last successful fetch.",
        labels=["source"],
    )
    healthy = GaugeMetricFamily(
        "feeds_source_healthy", "1 when the source is healthy, else 0.", labels=["source"]
    )
    empty = GaugeMetricFamily(
        "feeds_source_empty",
        "1 when the source used to list items and lists none now (it is not healthy).",
        labels=["source"],
    )
    for state in states:
        consecutive.add_metric([state.name], state.failures)
        if state.last_success is not None:
            last_success.add_metric([state.name], state.last_success.timestamp())
        healthy.add_metric([state.name], 0 if state.health else 1)
        empty.add_metric([state.name], 1 if state.health == "empty" else 0)
    return [*families, consecutive, last_success, healthy, empty]


def _item_families(rubrics: Mapping[str, int], total: int) -> list[Metric]:
    per_rubric = GaugeMetricFamily("feeds_rubric_items", "Items in the rubric.", labels=["rubric"])
    for rubric, count in sorted(rubrics.items()):
        per_rubric.add_metric([rubric], count)
    return [per_rubric, GaugeMetricFamily("feeds_items", "Items in the store.", value=total)]


# -- running ---------------------------------------------------------------


class _GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 connection, with the limits it lacks: a cap on
    connections open at once and a time-out on a request's headers (it
    times out only the wait between requests, not a request that never
    ends). Without them anyone can hold every file descriptor with slow
    connections: the feeds stop being served, and the service's store and
    fetches fail for want of one.

    At the cap a new connection takes the place of the one that has held
    its slot longest without using it (its client stopped reading its
    answer, or has not finished a request): 512 clients that asked for
    feeds and never read them kept every slot for as long as they stayed
    connected, and everyone else was turned away. And a client that sends
    its request and shuts its side (`nc -N`) still gets the answer."""

    _headers_due: asyncio.TimerHandle | None = None
    #: Since when (loop time) the client has not taken the answer being
    #: written (the transport's buffer is full), or None.
    _stalled_since: float | None = None
    #: Since when it has been waiting for a request's headers, or None.
    _waiting_since: float | None = None
    #: The client shut its side after sending a request.
    _client_done = False
    #: When (loop time) the connection was made.
    _opened = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = self.loop.time()
        if len(self.connections) > MAX_CONNECTIONS and not self._make_room():
            transport.abort()
            return
        self._wait_for_headers()

    def _make_room(self) -> bool:
        """Close the connection that has held its slot longest unused: one
        waiting for a request (idle, or slow to send it), or one whose
        client has taken none of its answer for STALL_SECONDS (a client
        reading a big file steadily stalls for moments, and is not one);
        else, every other one being served, the one open longest, once
        open HOLD_SECONDS. False when none is."""
        now = self.loop.time()
        idle: list[tuple[float, _GuardedH11]] = []
        for other in self.connections:
            if not isinstance(other, _GuardedH11) or other is self:
                continue
            if other._stalled_since is not None:
                if now - other._stalled_since >= STALL_SECONDS:
                    idle.append((other._stalled_since, other))
            elif other._waiting_since is not None:
                idle.append((other._waiting_since, other))
        if not idle:
            # All busy: the one open longest (a client reading answer after
            # answer slowly holds its slot for as long as it likes).
            idle = [
                (other._opened, other)
                for other in self.connections
                if isinstance(other, _GuardedH11)
                and other is not self
                and now - other._opened >= HOLD_SECONDS
            ]
        if not idle:
            return False
        _since, oldest = min(idle, key=lambda pair: pair[0])
        oldest._stalled_since = oldest._waiting_since = None
        oldest.transport.abort()
        return True

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._headers_in()  # a request is being answered

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """The client will send nothing more. With an answer still to come
        (a request sent, then `shutdown(SHUT_WR)`, as `nc -N` and some
        HTTP/1.0 scripts do), the connection stays open to send it, and
        closes after: asyncio closes it at once otherwise, and the answer
        was lost."""
        if (
            self.cycle is not None
            and not self.cycle.response_complete
            and self.conn.their_state in (h11.DONE, h11.MUST_CLOSE)  # the whole request is in
        ):
            self._client_done = True
            return True
        return None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a pipelined request is being answered already
        if self._client_done:
            self.transport.close()  # after what is still buffered is sent
            return
        self._wait_for_headers()  # the next request's

    def pause_writing(self) -> None:
        super().pause_writing()
        self._stalled_since = self.loop.time()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._stalled_since = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_in()
        self._stalled_since = None
        super().connection_lost(exc)

    def _wait_for_headers(self) -> None:
        self._headers_in()
        self._headers_due = self.loop.call_later(HEADER_SECONDS, self._headers_late)
        self._waiting_since = self.loop.time()

    def _headers_in(self) -> None:
        self._waiting_since = None
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_late(self) -> None:
        self._headers_due = None
        if (self.cycle is None or self.cycle.response_complete) and not (
            self.transport.is_closing()
        ):
            self.transport.close()


def _config(app: ASGIApp, host: str, port: int, grace: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_GuardedH11,
        # Logging stays the CLI's business: uvicorn's loggers just propagate.
        log_config=None,
        lifespan="off",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=grace,
    )


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket. Raises ServeError (address in use, no such host)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ServeError(f"{host}:{port}", exc.strerror or str(exc)) from exc


class _Server(uvicorn.Server):
    """uvicorn's server, telling a waiting thread when startup is over, and
    `on_started` (called in the server's thread) once it serves."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()
        if self._on_started is not None and self.started and not self.should_exit:
            self._on_started()


class ServerThread:
    """uvicorn in a daemon thread, for the scheduler's service mode and tests."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self._host = host
        self._requested_port = port
        self._server = _Server(_config(app, host, port, _GRACE_SECONDS))
        self._socket: socket.socket | None = None
        self._port = 0
        self._thread: threading.Thread | None = None

    def bind(self) -> None:
        """Take the address now (`start` serves on it). Raises ServeError
        when it cannot be bound."""
        if self._socket is None:
            self._socket = _bind(self._host, self._requested_port)

    def start(self) -> None:
        """Bind (unless `bind` did) and start serving; returns once uvicorn
        accepts connections. Raises ServeError when the address cannot be
        bound, RuntimeError when uvicorn does not start."""
        if self._thread is not None:
            raise RuntimeError("the server thread was already started")
        self.bind()
        assert self._socket is not None
        self._port = int(self._socket.getsockname()[1])
        self._thread = threading.Thread(target=self._run, name="feeds-http", daemon=True)
        self._thread.start()
        self._server.ready.wait(timeout=30)
        if not self._server.started:
            self.stop()
            self._socket.close()
            raise RuntimeError(f"HTTP server on {self._host}:{self._port} did not start")
        logger.info("serving on http://%s:%d", self._host, self.port)

    def _run(self) -> None:
        assert self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._server.ready.set()

    @property
    def port(self) -> int:
        """The bound port, the real one when 0 was asked for."""
        if self._socket is None:
            raise RuntimeError("the server thread has not been started")
        return self._port

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it: idle connections are closed at
        once, requests in flight get a few seconds."""
        if self._thread is None:
            if self._socket is not None:
                self._socket.close()  # bound, never served
            return
        self._server.should_exit = True
        self._thread.join(timeout=_GRACE_SECONDS + 1)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=1)
            if self._thread.is_alive():
                logger.warning("HTTP server thread did not stop in time")


def serve_forever(
    app: ASGIApp, host: str, port: int, on_bound: Callable[[int], None] | None = None
) -> None:
    """Serve until SIGINT or SIGTERM (uvicorn's handling: a graceful
    shutdown, after which uvicorn re-raises the signal, so SIGINT surfaces
    as KeyboardInterrupt). Raises ServeError when the address cannot be
    bound; `on_bound` gets the port once it is."""
    sock = _bind(host, port)
    bound = sock.getsockname()[1]

    def started() -> None:
        # Said once uvicorn handles SIGINT and SIGTERM: whoever acts on it
        # (a test, a script stopping the server again) may signal at once.
        # Said as soon as the address was bound, a SIGTERM could come
        # before uvicorn caught it, and end its start half-way.
        logger.info("serving on http://%s:%d", host, bound)
        if on_bound is not None:
            on_bound(bound)

    try:
        _Server(_config(app, host, port, _GRACE_SECONDS), started).run(sockets=[sock])
    finally:
        sock.close()
