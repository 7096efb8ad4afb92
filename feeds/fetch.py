"""Fetch stage: the only module that touches the network or a source's file.

Reads a source's `url` (http, https, file) or `path` into a `Fetched` value:
the raw bytes plus the response headers, never decoded text. HTTP goes
through one shared urllib3 pool (thread-safe, about twice as quick per
request as httpx, which matters when a thousand sources answer 304) with:

- a per-source time-out that covers the whole body, not just each read;
- a size limit enforced while the body streams in (and on Content-Length);
- conditional GET from the validators the store kept (ETag, Last-Modified);
- per-host politeness: at most `per_host` requests at once to one host and
  `host_delay` seconds between the starts of two of them;
- Retry-After kept on 429/503 failures, permanent redirects reported.

Every failure becomes a `FetchError` that names the source.
"""

from __future__ import annotations

import http.client
import logging
import math
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from stat import S_ISREG
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    LocationValueError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import (
    TimeoutError as Urllib3Timeout,
)
from urllib3.util.connection import allowed_gai_family
from urllib3.util.retry import Retry

from feeds import __version__
from feeds.errors import FetchError
from feeds.guard import AllowRule, parse_allow_rule, refusal
from feeds.model import Fetched, Source
from feeds.timing import MAX_RETRY_AFTER, retry_after

MAX_REDIRECTS = 5
_PERMANENT = (301, 308)
#: Digits of the longest Content-Length read as a number: more is past any
#: limit (and past what a 64-bit size holds).
_MOST_DIGITS = 18


class _QuietHeaderDefects(logging.Filter):
    """urllib3 logs a header line it cannot parse (a server's fault: a line
    without a colon, a bare CR) with its own traceback; the one line says
    it all, and a traceback on stderr reads as a crash of feeds."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


logging.getLogger("urllib3.connection").addFilter(_QuietHeaderDefects())


class _Answer(http.client.HTTPResponse):
    """http.client's response, skipping every interim (1xx) answer before
    the final one, as RFC 9110 15.2 asks: http.client skips only 100
    Continue, and took a 103 Early Hints for the whole answer (an empty
    body). 101 Switching Protocols, never asked for, stays final."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 <= status < 200 or status == 101:
                return version, status, reason
            http.client.parse_headers(self.fp)  # the interim answer's, dropped


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered from the last successful fetch."""

    etag: str = ""
    last_modified: str = ""


def user_agent(base_url: str) -> str:
    """Names the project and the site, so publishers know who polls them."""
    return f"feeds/{__version__} (+{base_url})"


class _HostGate:
    """At most `per_host` requests at once to one host, and `delay` seconds
    between the starts of two requests to it."""

    def __init__(self, per_host: int, delay: float) -> None:
        self._per_host = max(1, per_host)
        self._delay = max(0.0, delay)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        #: Requests holding, waiting for or claiming each host's slots.
        self._queued: dict[str, int] = {}
        #: Per thread: the hosts it has claimed a turn at and not yet entered.
        self._claims = threading.local()

    @contextmanager
    def claim(self, host: str) -> Iterator[bool]:
        """False if every slot of `host` is taken, waited for or claimed;
        else True, and this thread's next request to `host` inside counts
        as already queued. Lets a caller go elsewhere rather than wait."""
        with self._lock:
            if self._queued.get(host, 0) >= self._per_host:
                free = False
            else:
                free = True
                self._queued[host] = self._queued.get(host, 0) + 1
                claims = self._thread_claims()
                claims[host] = claims.get(host, 0) + 1
        try:
            yield free
        finally:
            if free:
                claims = self._thread_claims()
                if claims.get(host):  # claimed and never used: given back
                    claims[host] -= 1
                    self._leave(host)

    def _thread_claims(self) -> dict[str, int]:
        """This thread's claimed turns per host, not yet entered."""
        claims: dict[str, int] = self._claims.__dict__.setdefault("hosts", {})
        return claims

    @contextmanager
    def enter(
        self, host: str, stopped: threading.Event, until: float | None = None
    ) -> Iterator[None]:
        """Hold one of `host`'s slots inside. Raises _Stopped when `stopped`
        is set, _OutOfTime when no turn comes before `until` (monotonic)."""
        with self._lock:
            slot = self._slots.setdefault(host, threading.Semaphore(self._per_host))
            claims = self._thread_claims()
            if claims.get(host):
                claims[host] -= 1  # counted when claimed
            else:
                self._queued[host] = self._queued.get(host, 0) + 1
        try:
            while not slot.acquire(timeout=0.2):
                if stopped.is_set():
                    raise _Stopped
                if until is not None and time.monotonic() >= until:
                    raise _OutOfTime
        except BaseException:
            self._leave(host)
            raise
        try:
            with self._lock:
                start = max(time.monotonic(), self._next_start.get(host, 0.0))
                if until is not None and start >= until:
                    raise _OutOfTime
                self._next_start[host] = start + self._delay
            wait = start - time.monotonic()
            if wait > 0 and stopped.wait(wait):
                raise _Stopped
            # The delay counts from when the request really goes: a thread
            # woken late, or held up between its turn and its request
            # leaving (a loaded machine, a slow connect), moves the next
            # start on, here and once the request is sent.
            self._began(host)
            _sending.began = partial(self._began, host)
            try:
                yield
            finally:
                _sending.began = None
        finally:
            slot.release()
            self._leave(host)

    def _began(self, host: str) -> None:
        """A request to `host` goes now: the next starts `delay` on."""
        with self._lock:
            later = time.monotonic() + self._delay
            self._next_start[host] = max(self._next_start.get(host, 0.0), later)

    def _leave(self, host: str) -> None:
        with self._lock:
            self._queued[host] -= 1
            if not self._queued[host]:
                del self._queued[host]


class _Deadlines:
    """Enforces a whole-request deadline, which socket time-outs cannot: a
    server trickling its headers or body a byte at a time never lets one
    read time out. At the deadline the request's socket is shut down, so
    the blocked read returns at once. One watcher thread per Fetcher."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        #: id(socket) -> (deadline, socket, the thread whose request it is).
        self._watched: dict[int, tuple[float, socket.socket, int]] = {}
        #: The watcher; one that finds it is not this any more ends.
        self._thread: threading.Thread | None = None
        self._aborted = False
        #: When the watcher wakes next (inf: only when told). A request
        #: with a later deadline leaves it asleep: most deadlines are later
        #: than every earlier request's, and waking it for each of a
        #: thousand requests cost them all the switches to and from it.
        self._wakes_at = math.inf

    @contextmanager
    def limit(self, deadline: float) -> Iterator[None]:
        """Sockets registered by this thread until the block ends are shut
        down at `deadline`."""
        _current.deadline = deadline
        _current.sockets = []
        try:
            yield
        finally:
            with self._cond:
                # Only this thread's entries: a kept-alive connection it
                # gave back may already be another thread's request.
                me = threading.get_ident()
                for sock in _current.sockets:
                    entry = self._watched.get(id(sock))
                    if entry is not None and entry[2] == me:
                        del self._watched[id(sock)]
            _current.deadline = None
            _current.sockets = []

    def watch(self, sock: socket.socket) -> None:
        deadline = getattr(_current, "deadline", None)
        if deadline is None:
            return
        _current.sockets.append(sock)
        with self._cond:
            if self._aborted:
                deadline = 0.0  # shut down by the watcher at once
            self._watched[id(sock)] = (deadline, sock, threading.get_ident())
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="feeds-deadlines", daemon=True
                )
                self._thread.start()
            if deadline < self._wakes_at:
                self._wakes_at = deadline
                self._cond.notify()

    def abort(self) -> None:
        """Shut down every request's socket now, and any opened later: the
        reads blocked on them return at once."""
        with self._cond:
            self._aborted = True
            for _, sock, _ in self._watched.values():
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._watched.clear()

    def close(self) -> None:
        """Stop the watcher thread (a later request starts another)."""
        with self._cond:
            # A request meanwhile starts a new watcher at once: the old one
            # ends on seeing it is not the watcher any more.
            thread, self._thread = self._thread, None
            self._wakes_at = math.inf
            self._cond.notify_all()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        with self._cond:
            while self._thread is threading.current_thread():
                now = time.monotonic()
                due = [key for key, (when, _, _) in self._watched.items() if when <= now]
                for key in due:
                    _, sock, _ = self._watched.pop(key)
                    with suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                upcoming = min((when for when, _, _ in self._watched.values()), default=None)
                self._wakes_at = math.inf if upcoming is None else upcoming
                self._cond.wait(None if upcoming is None else max(0.0, upcoming - now))


#: Per-thread: the deadline of the request this thread is making, and the
#: sockets it used (set by _Deadlines.limit, read by the connections).
_current = threading.local()
#: Per-thread: what to call once a request has been sent (`began`: set by
#: _HostGate.enter, called by the connections).
_sending = threading.local()


class _Stopped(Exception):
    """The fetcher was stopped while a request waited or streamed."""


class _OutOfTime(Exception):
    """A request's deadline passed while it waited for its host's turn."""


class Fetcher:
    """A shared HTTP client. Thread-safe; close it when the run ends."""

    def __init__(
        self,
        base_url: str,
        *,
        per_host: int = 2,
        host_delay: float = 0.0,
        connections: int = 16,
        allow_private: tuple[str, ...] = (),
    ) -> None:
        # Per-request headers replace a pool's own, so they are added to
        # every request instead.
        self._headers = {"User-Agent": user_agent(base_url), "Accept-Encoding": "gzip, deflate"}
        self._pool = urllib3.PoolManager(num_pools=256, maxsize=max(connections, per_host))
        # Every connection, the first and each redirect's, checks the
        # address it reached (feeds.guard).
        rules = tuple(parse_allow_rule(text) for text in allow_private)
        self._deadlines = _Deadlines()
        self._pool.pool_classes_by_scheme = _guarded_pools(rules, self._deadlines)
        self._gate = _HostGate(per_host, host_delay)
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Abort every request, even one blocked on a silent server; later
        fetches fail at once."""
        self._stopped.set()
        self._deadlines.abort()

    def close(self) -> None:
        self._pool.clear()
        self._deadlines.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self, source: Source, validators: Validators | None = None, *, until: float | None = None
    ) -> Fetched:
        """Read one source, keeping to the per-host limits. With `until` (a
        time.monotonic() deadline), given up when its host's turn has not
        come by then, and cut off then at the latest. Raises FetchError."""
        local = source.local_file
        if local is not None:
            return _read_file(source, local)
        with self._turn(source, until):
            try:
                return self._get(source, validators or Validators(), until)
            except _Stopped:
                raise FetchError(source.name, "stopped: the service is shutting down") from None

    @contextmanager
    def _turn(self, source: Source, until: float | None = None) -> Iterator[None]:
        """Wait for this source's host to have a free slot (and for the
        delay since its last request), and hold the slot meanwhile. Raises
        FetchError when the fetcher stops, or no turn comes before `until`."""
        host = self.host_of(source)
        if not host:
            yield
            return
        try:
            with self._gate.enter(host, self._stopped, until):
                yield
        except _Stopped:
            raise FetchError(source.name, "stopped: the service is shutting down") from None
        except _OutOfTime:
            raise FetchError(
                source.name, "out of time: its host was busy until the deadline", url=source.url
            ) from None

    @staticmethod
    def host_of(source: Source) -> str:
        """The host whose turns `source` takes ('' for none: a local file)."""
        if not source.url or source.url.startswith("file:"):
            return ""
        return urlsplit(source.url).netloc.lower()

    @contextmanager
    def claim(self, source: Source) -> Iterator[bool]:
        """Whether `source`'s host has a turn free now (True), kept for this
        thread's next fetch of it inside; False means a fetch would wait."""
        host = self.host_of(source)
        if not host:
            yield True
            return
        with self._gate.claim(host) as free:
            yield free

    def _get(self, source: Source, validators: Validators, until: float | None) -> Fetched:
        headers = dict(self._headers)
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        deadline = time.monotonic() + source.timeout
        if until is not None:
            deadline = min(deadline, until)
        with self._deadlines.limit(deadline):
            return self._request(source, headers, deadline)

    def _request(self, source: Source, headers: dict[str, str], deadline: float) -> Fetched:
        # Before the headers are in: no answer; after: the body was late.
        silent = FetchError(source.name, f"no answer within {source.timeout:g} s", url=source.url)
        late = FetchError(
            source.name, f"body not complete after {source.timeout:g} s", url=source.url
        )
        try:
            response = self._pool.request(
                "GET",
                source.url,
                headers=headers,
                timeout=urllib3.Timeout(connect=source.timeout, read=source.timeout),
                retries=Retry(
                    total=MAX_REDIRECTS,
                    connect=0,
                    read=0,
                    status=0,
                    other=0,
                    redirect=MAX_REDIRECTS,
                    raise_on_redirect=True,
                    raise_on_status=False,
                ),
                preload_content=False,
                decode_content=True,
            )
        except MaxRetryError as exc:
            if self._stopped.is_set():
                raise _Stopped from None
            if time.monotonic() >= deadline:
                raise silent from None
            if isinstance(exc.reason, RefusedAddress):
                raise FetchError(source.name, exc.reason.reason, url=source.url) from None
            # NewConnectionError is a ConnectTimeoutError in urllib3's tree:
            # a refused connection is not a slow one.
            if isinstance(exc.reason, Urllib3Timeout) and not isinstance(
                exc.reason, NewConnectionError
            ):
                raise FetchError(
                    source.name, f"no answer within {source.timeout:g} s", url=source.url
                ) from None
            if exc.reason is None or "redirect" in str(exc.reason).lower():
                raise FetchError(
                    source.name, f"more than {MAX_REDIRECTS} redirects", url=source.url
                ) from None
            raise FetchError(source.name, _reason(exc.reason), url=source.url) from exc
        except Urllib3Timeout:
            raise FetchError(
                source.name, f"no answer within {source.timeout:g} s", url=source.url
            ) from None
        except LocationValueError as exc:
            # urllib3 follows only http and https: a redirect to file:,
            # ftp: or anything else ends here.
            raise FetchError(
                source.name, f"refused a redirect to a non-HTTP address ({exc})", url=source.url
            ) from None
        except ValueError as exc:
            # A redirect to an address no URL parser reads ("http://[::1",
            # "http://[127.0.0.1]/"): the source's answer, not a bug here.
            raise FetchError(
                source.name, f"redirected to an address that cannot be read ({exc})", url=source.url
            ) from None
        except (HTTPError, OSError) as exc:
            if self._stopped.is_set():
                raise _Stopped from None
            if time.monotonic() >= deadline:
                raise silent from None
            raise FetchError(source.name, _reason(exc), url=source.url) from exc
        whole = False  # the answer read to its end: its connection can serve another
        try:
            final_url = _final_url(source.url, response)
            moved_to = _permanent_target(response, final_url)
            if response.status == 304 and not (
                "If-None-Match" in headers or "If-Modified-Since" in headers
            ):
                # Nothing was asked to compare with (a first fetch, or a
                # changed config): a cache in front of the site answering
                # so would leave the source "not modified" for ever, with
                # nothing ever read.
                raise FetchError(
                    source.name,
                    "HTTP 304 Not Modified to a request without validators: nothing to read",
                    url=source.url,
                    status=304,
                )
            if response.status == 304:
                whole = True  # a 304 has no body
                return Fetched(
                    source=source.name,
                    url=final_url,
                    headers=_headers(response),
                    status=304,
                    not_modified=True,
                    moved_to=moved_to,
                )
            if response.status >= 400:
                raise _status_error(source, response)
            body = self._read_body(source, response, deadline)
            whole = True
            return Fetched(
                source=source.name,
                url=final_url,
                body=body,
                headers=_headers(response),
                status=response.status,
                moved_to=moved_to,
            )
        except Urllib3Timeout:
            raise FetchError(
                source.name, f"body not complete after {source.timeout:g} s", url=source.url
            ) from None
        except (ProtocolError, HTTPError, OSError) as exc:
            if self._stopped.is_set():
                raise _Stopped from None
            if time.monotonic() >= deadline:
                raise late from None
            raise FetchError(source.name, _reason(exc), url=source.url) from exc
        finally:
            if not whole:
                # An answer left unread (an error page, a body over the
                # limit or cut at the deadline) must not go back to the
                # pool: the next request on that connection would read the
                # rest of it as its own answer.
                response.close()
            response.release_conn()

    def _read_body(
        self, source: Source, response: urllib3.BaseHTTPResponse, deadline: float
    ) -> bytes:
        declared = response.headers.get("content-length", "").strip()
        # ASCII digits only ("²" is a digit to str.isdigit, and int() refuses
        # it), and not read as a number at all when longer than any limit.
        digits = (declared.lstrip("0") or "0") if declared.isascii() and declared.isdigit() else ""
        if digits and (len(digits) > _MOST_DIGITS or int(digits) > source.max_bytes):
            shown = digits if len(digits) <= _MOST_DIGITS else f"{digits[:20]}..."
            raise FetchError(
                source.name,
                f"body of {shown} bytes is over the limit of {source.max_bytes}",
                url=source.url,
                status=response.status,
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            # read1: whatever has arrived, so a body trickled a byte at a
            # time still meets the deadline check below.
            chunk = response.read1(64 * 1024, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > source.max_bytes:
                raise FetchError(
                    source.name,
                    f"body is over the limit of {source.max_bytes} bytes",
                    url=source.url,
                    status=response.status,
                )
            if time.monotonic() > deadline:
                raise FetchError(
                    source.name, f"body not complete after {source.timeout:g} s", url=source.url
                )
            if self._stopped.is_set():
                raise _Stopped
            chunks.append(chunk)
        # A body without a length ends when the connection closes, and so
        # does one whose socket was shut down at the deadline or at a stop:
        # those are not whole.
        if self._stopped.is_set():
            raise _Stopped
        if time.monotonic() > deadline:
            raise FetchError(
                source.name, f"body not complete after {source.timeout:g} s", url=source.url
            )
        if not response.tell() and _close_delimited(response):
            # Nothing came, and nothing said nothing would: the connection
            # closed before the body, maybe within the headers (http.client
            # takes an end there for the end of the headers).
            raise FetchError(
                source.name,
                "no body: the connection closed before any came, and the answer gave no length",
                url=source.url,
                status=response.status,
            )
        if size and _compression_unfinished(response):
            raise FetchError(
                source.name,
                "body cut short: its compressed stream stops before its end",
                url=source.url,
                status=response.status,
            )
        return b"".join(chunks)


def _close_delimited(response: urllib3.BaseHTTPResponse) -> bool:
    """Whether the answer's body ends only where its connection closes: no
    Content-Length, not chunked, and a status that has a body."""
    headers = response.headers
    return (
        response.status not in (204, 205)
        and "content-length" not in headers
        and "chunked" not in headers.get("transfer-encoding", "").lower()
    )


def _compression_unfinished(response: urllib3.BaseHTTPResponse) -> bool:
    """Whether a gzip or deflate body ended before its compressed stream
    did. A body without a length ends when the connection closes, so a
    server or proxy dying half-way looks like a whole answer; the missing
    end of the stream is the one sign of it. Read from urllib3's decoder
    (not public: a later urllib3 without these attributes answers False,
    and tests/test_hostile.py's cut-gzip case fails)."""
    decoder = getattr(response, "_decoder", None)
    stream = getattr(decoder, "_obj", None)
    # Only the first gzip member: after it, urllib3 starts a new one for
    # whatever follows, and forgives trailing junk, as gzip does.
    first_member = getattr(decoder, "_state", 0) == 0
    return getattr(stream, "eof", True) is False and first_member


def _connect_watched(
    connection: HTTPConnection,
    deadlines: _Deadlines,
    refused: Callable[[str], str] = lambda address: "",
) -> socket.socket:
    """What urllib3's `_new_conn` does, but each socket is watched from
    before its connect: a stop, or the request's deadline, then cuts off a
    host that never completes the handshake (one dropping packets), where
    a connect blocks until its own time-out. Errors are urllib3's."""
    host, port = connection._dns_host.strip("[]"), connection.port or 0
    try:
        host.encode("idna")
    except UnicodeError:
        raise LocationParseError(f"'{host}', label empty or too long") from None
    try:
        addresses = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(connection.host, connection, exc) from exc
    failure: Exception = OSError("getaddrinfo returns an empty list")
    for family, kind, protocol, _name, address in addresses:
        # Checked before the connect, not only after: a handshake's outcome
        # (open port or not) would otherwise reach /healthz as the error,
        # a port scan of the private network for whoever names the host.
        reason = refused(str(address[0]))
        if reason:
            failure = RefusedAddress(connection, reason)
            continue
        try:
            sock = socket.socket(family, kind, protocol)
        except OSError as exc:  # this address family, or no descriptor left
            failure = exc
            continue
        try:
            for option in connection.socket_options or ():
                sock.setsockopt(*option)
            # The pool has resolved a default time-out to a number or None.
            sock.settimeout(connection.timeout)
            if connection.source_address:
                sock.bind(connection.source_address)
            deadlines.watch(sock)
            sock.connect(address)
        except OSError as exc:  # the next address, as urllib3 does
            sock.close()
            failure = exc
            continue
        sys.audit("http.client.connect", connection, connection.host, connection.port)
        return sock
    if isinstance(failure, RefusedAddress):
        raise failure
    if isinstance(failure, TimeoutError):
        raise ConnectTimeoutError(
            connection,
            f"Connection to {connection.host} timed out. (connect timeout={connection.timeout})",
        ) from failure
    raise NewConnectionError(connection, f"Failed to establish a new connection: {failure}")


class RefusedAddress(NewConnectionError):
    """A connection reached an address feeds.guard refuses."""

    def __init__(self, connection: HTTPConnection, reason: str) -> None:
        super().__init__(connection, reason)
        self.reason = reason


def _guarded_pools(
    rules: tuple[AllowRule, ...] | None, deadlines: _Deadlines
) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose sockets keep to `deadlines` and, unless
    `rules` is None (an address the operator chose, like the WebSub hub),
    to the private-address guard."""

    def guarded(base: type[HTTPConnection]) -> type[HTTPConnection]:
        class Guarded(base):  # type: ignore[valid-type,misc]
            response_class = _Answer

            def getresponse(self) -> Any:
                began = getattr(_sending, "began", None)
                if began is not None:
                    began()  # sent: its host's delay counts from now
                if self.sock is not None:
                    deadlines.watch(self.sock)
                return super().getresponse()

            def _new_conn(self) -> socket.socket:
                if rules is None:
                    return _connect_watched(self, deadlines)
                # A literal address (in any spelling) is checked before any
                # connect, so not even a handshake reaches a refused one.
                for literal in _numeric_addresses(self.host, self.port or 0):
                    reason = refusal(literal, self.host, self.port or 0, rules)
                    if reason:
                        raise RefusedAddress(self, reason)
                sock = _connect_watched(
                    self,
                    deadlines,
                    lambda address: refusal(address, self.host, self.port or 0, rules),
                )
                try:
                    peer = str(sock.getpeername()[0])
                except OSError:
                    peer = ""
                reason = refusal(peer, self.host, self.port or 0, rules)
                if reason:
                    sock.close()
                    raise RefusedAddress(self, reason)
                return sock

        return Guarded

    class Plain(HTTPConnectionPool):
        ConnectionCls = guarded(HTTPConnection)

    class Secure(HTTPSConnectionPool):
        ConnectionCls = guarded(HTTPSConnection)  # type: ignore[assignment]

    return {"http": Plain, "https": Secure}


def _status_error(source: Source, response: urllib3.BaseHTTPResponse) -> FetchError:
    status = response.status
    reason = response.reason or ""
    wait = None
    if status in (429, 503):
        wait = retry_after(response.headers.get("retry-after", ""), datetime.now(UTC))
    detail = f"HTTP {status} {reason}".strip()
    if wait is not None and wait > MAX_RETRY_AFTER:
        # A number of thousands of digits is infinite as a float.
        asked = f"{wait:.0f} s" if math.isfinite(wait) else "more than a day"
        detail += f" (retry after {asked}; asked again in a day at most)"
    elif wait is not None:
        detail += f" (retry after {wait:.0f} s)"
    if status == 410:
        detail += ": the source is gone; it is paused until its url changes"
    return FetchError(source.name, detail, url=source.url, status=status, retry_after=wait)


def _numeric_addresses(host: str, port: int) -> list[str]:
    """The addresses a host names without any DNS look-up ([] for names)."""
    try:
        found = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except (OSError, UnicodeError):
        return []
    return [str(entry[4][0]) for entry in found]


def _final_url(requested: str, response: urllib3.BaseHTTPResponse) -> str:
    """The absolute address the body came from (urllib3's own `url` is only
    the path): the requested one, moved by each redirect on the way."""
    final = requested
    history = response.retries.history if response.retries else ()
    for hop in history:
        if hop.redirect_location:
            final = urljoin(final, hop.redirect_location)
    return final


def _permanent_target(response: urllib3.BaseHTTPResponse, final_url: str) -> str:
    """The final URL when a 301/308 was on the way, so the operator can
    update the config."""
    history = response.retries.history if response.retries else ()
    if any(hop.status in _PERMANENT for hop in history):
        return final_url
    return ""


def _headers(response: urllib3.BaseHTTPResponse) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def _reason(exc: BaseException | None) -> str:
    """What went wrong, without urllib3's object reprs."""
    if exc is not None and exc.args and isinstance(exc.args[0], str):
        text = exc.args[0]  # ProtocolError carries (message, cause)
        cause = exc.args[1] if len(exc.args) > 1 else None
        if (
            isinstance(cause, BaseException)
            and str(cause)
            and not any(told in text for told in (str(cause), repr(cause)))
        ):
            # "Connection aborted." alone does not say what happened: the
            # cause does ("Remote end closed connection without response").
            text = f"{text.rstrip('.')}: {cause}"
    else:
        text = str(exc) if exc is not None else "connection failed"
    # "Guarded(host='x', port=443): Failed to resolve..." or "<... object at
    # 0x...>: Failed to establish...": keep what happened.
    text = re.sub(r"^(?:\w+\(host=[^)]*\)|<[^>]*object at 0x[0-9a-f]+>): ", "", text)
    return text or type(exc).__name__


def _read_file(source: Source, path: Path) -> Fetched:
    try:
        status = path.stat()
        if not S_ISREG(status.st_mode):
            # A device (/dev/zero), a pipe or a folder: reading one could
            # never end, or block for ever.
            raise FetchError(source.name, "not a regular file", url=str(path))
        size = status.st_size
        if size <= source.max_bytes:
            with path.open("rb") as file:
                # No more than the limit, whatever the size said: the file
                # may be growing while it is read.
                # In pieces: one read(max_bytes + 1) allocates all of it
                # up front, and a limit of 100 GB raised MemoryError.
                pieces: list[bytes] = []
                left = source.max_bytes + 1
                while left > 0:
                    piece = file.read(min(left, 1 << 20))
                    if not piece:
                        break
                    pieces.append(piece)
                    left -= len(piece)
                body = b"".join(pieces)
            size = len(body)
        if size > source.max_bytes:
            raise FetchError(
                source.name,
                f"file of {size} bytes is over the limit of {source.max_bytes}",
                url=str(path),
            )
    except FileNotFoundError:
        raise FetchError(source.name, "no such file", url=str(path)) from None
    except OSError as exc:
        raise FetchError(source.name, exc.strerror or str(exc), url=str(path)) from exc
    return Fetched(source=source.name, url=path.as_uri(), body=body)


#: How long a WebSub ping may take while the service stops.
STOPPING_HUB_TIMEOUT = 1.0


def notify_hub(
    hub: str,
    topics: list[str],
    base_url: str,
    *,
    timeout: float = 5.0,
    attempts: int = 3,
    stopping: threading.Event | None = None,
) -> list[str]:
    """WebSub publish pings (W3C WebSub 7.1): one POST per changed feed URL,
    each tried `attempts` times with a pause that doubles. Once `stopping`
    is set (the service is shutting down), a ping gets one try of at most
    STOPPING_HUB_TIMEOUT seconds. The hub is the operator's own choice, so
    it is reached without the private-address guard, and no redirect is
    followed. Returns what failed, for the log."""
    stopping = stopping or threading.Event()
    pool = urllib3.PoolManager(headers={"User-Agent": user_agent(base_url)})
    # Socket time-outs bound each read, not the answer: a hub trickling its
    # headers a byte at a time would hold the ping (and the cycle, or the
    # service's publisher) for ever. Each try gets a whole-request deadline.
    deadlines = _Deadlines()
    pool.pool_classes_by_scheme = _guarded_pools(None, deadlines)
    failures = []
    try:
        for topic in topics:
            problem = ""
            for attempt in range(attempts):
                hurried = stopping.is_set()
                if hurried and attempt > 0:
                    break
                wait = min(timeout, STOPPING_HUB_TIMEOUT) if hurried else timeout
                deadline = time.monotonic() + wait
                try:
                    with deadlines.limit(deadline):
                        answer = pool.request(
                            "POST",
                            hub,
                            fields={"hub.mode": "publish", "hub.url": topic},
                            encode_multipart=False,
                            timeout=urllib3.Timeout(connect=wait, read=wait),
                            retries=False,
                            redirect=False,
                        )
                    if time.monotonic() >= deadline:
                        # Cut off at the deadline: what came is no answer.
                        problem = f"no whole answer within {wait:g} s"
                    elif 200 <= answer.status < 300:
                        problem = ""
                        break
                    else:
                        problem = f"HTTP {answer.status}"
                except HTTPError as exc:
                    problem = _reason(exc)
                if attempt + 1 < attempts:
                    stopping.wait(0.5 * 2**attempt)  # cut short by a stop
            if problem:
                failures.append(f"WebSub hub {hub}: ping for {topic} failed: {problem}")
                # A hub that failed one topic every time is down: do not make
                # the cycle wait on it once per remaining topic.
                rest = topics[topics.index(topic) + 1 :]
                failures += [f"WebSub hub {hub}: ping for {t} not sent (hub down)" for t in rest]
                break
    finally:
        pool.clear()
        deadlines.close()
    return failures
