"""Fetch stage: the only module that touches the network or a source's file.

Reads a source's `url` (http, https, file) or `path` into a `Fetched` value:
the raw bytes plus the response headers, never decoded text. HTTP goes
through one shared httpx client with:

- a per-source time-out that covers the whole body, not just each read;
- a size limit enforced while the body streams in (and on Content-Length);
- conditional GET from the validators the store kept (ETag, Last-Modified);
- per-host politeness: at most `per_host` requests at once to one host and
  `host_delay` seconds between the starts of two of them;
- Retry-After kept on 429/503 failures, permanent redirects reported.

Every failure becomes a `FetchError` that names the source.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from feeds import __version__
from feeds.errors import FetchError
from feeds.model import Fetched, Source
from feeds.timing import retry_after

MAX_REDIRECTS = 5
_PERMANENT = (301, 308)


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

    @contextmanager
    def enter(self, host: str, stopped: threading.Event) -> Iterator[None]:
        with self._lock:
            slot = self._slots.setdefault(host, threading.Semaphore(self._per_host))
        while not slot.acquire(timeout=0.2):
            if stopped.is_set():
                raise _Stopped
        try:
            with self._lock:
                start = max(time.monotonic(), self._next_start.get(host, 0.0))
                self._next_start[host] = start + self._delay
            wait = start - time.monotonic()
            if wait > 0 and stopped.wait(wait):
                raise _Stopped
            yield
        finally:
            slot.release()


class _Stopped(Exception):
    """The fetcher was stopped while a request waited or streamed."""


class Fetcher:
    """A shared HTTP client. Thread-safe; close it when the run ends."""

    def __init__(self, base_url: str, *, per_host: int = 2, host_delay: float = 0.0) -> None:
        self._client = httpx.Client(
            headers={"User-Agent": user_agent(base_url), "Accept-Encoding": "gzip, deflate"},
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            trust_env=False,
        )
        self._gate = _HostGate(per_host, host_delay)
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Abort requests that wait or stream; later fetches fail at once."""
        self._stopped.set()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, source: Source, validators: Validators | None = None) -> Fetched:
        """Read one source, keeping to the per-host limits. Raises FetchError."""
        with self.turn(source):
            return self.fetch_ungated(source, validators)

    @contextmanager
    def turn(self, source: Source) -> Iterator[None]:
        """Wait for this source's host to have a free slot (and for the
        delay since its last request), and hold the slot meanwhile. Lets a
        caller run the fetch elsewhere (a worker process) while this process
        keeps the politeness. Raises FetchError when the fetcher stops."""
        if not source.url or source.url.startswith("file:"):
            yield
            return
        try:
            with self._gate.enter(urlsplit(source.url).netloc.lower(), self._stopped):
                yield
        except _Stopped:
            raise FetchError(source.name, "stopped: the service is shutting down") from None

    def fetch_ungated(self, source: Source, validators: Validators | None = None) -> Fetched:
        """Read one source now, with no per-host wait: for a caller holding
        its `turn`. Raises FetchError."""
        if source.path is not None:
            return _read_file(source, source.path)
        parts = urlsplit(source.url)
        if parts.scheme == "file":
            return _read_file(source, Path(url2pathname(unquote(parts.path))))
        try:
            return self._get(source, validators or Validators())
        except _Stopped:
            raise FetchError(source.name, "stopped: the service is shutting down") from None

    def _get(self, source: Source, validators: Validators) -> Fetched:
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        deadline = time.monotonic() + source.timeout
        try:
            with self._client.stream(
                "GET", source.url, headers=headers, timeout=source.timeout
            ) as response:
                moved_to = _permanent_target(response)
                if response.status_code == 304:
                    return Fetched(
                        source=source.name,
                        url=str(response.url),
                        headers=_headers(response),
                        status=304,
                        not_modified=True,
                        moved_to=moved_to,
                    )
                if response.status_code >= 400:
                    raise _status_error(source, response)
                body = self._read_body(source, response, deadline)
                return Fetched(
                    source=source.name,
                    url=str(response.url),
                    body=body,
                    headers=_headers(response),
                    status=response.status_code,
                    moved_to=moved_to,
                )
        except httpx.TimeoutException:
            raise FetchError(
                source.name, f"no answer within {source.timeout:g} s", url=source.url
            ) from None
        except httpx.TooManyRedirects:
            raise FetchError(
                source.name, f"more than {MAX_REDIRECTS} redirects", url=source.url
            ) from None
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            raise FetchError(source.name, detail, url=source.url) from exc

    def _read_body(self, source: Source, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > source.max_bytes:
            raise FetchError(
                source.name,
                f"body of {int(declared)} bytes is over the limit of {source.max_bytes}",
                url=source.url,
                status=response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > source.max_bytes:
                raise FetchError(
                    source.name,
                    f"body is over the limit of {source.max_bytes} bytes",
                    url=source.url,
                    status=response.status_code,
                )
            if time.monotonic() > deadline:
                raise FetchError(
                    source.name, f"body not complete after {source.timeout:g} s", url=source.url
                )
            if self._stopped.is_set():
                raise _Stopped
            chunks.append(chunk)
        return b"".join(chunks)


def _status_error(source: Source, response: httpx.Response) -> FetchError:
    status = response.status_code
    reason = response.reason_phrase or ""
    wait = None
    if status in (429, 503):
        wait = retry_after(response.headers.get("retry-after", ""), datetime.now(UTC))
    detail = f"HTTP {status} {reason}".strip()
    if wait is not None:
        detail += f" (retry after {wait:g} s)"
    if status == 410:
        detail += ": the source is gone; it is paused until its url changes"
    return FetchError(source.name, detail, url=source.url, status=status, retry_after=wait)


def _permanent_target(response: httpx.Response) -> str:
    """The final URL when a 301/308 was on the way, so the operator can
    update the config."""
    if any(hop.status_code in _PERMANENT for hop in response.history):
        return str(response.url)
    return ""


def _headers(response: httpx.Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def _read_file(source: Source, path: Path) -> Fetched:
    try:
        size = path.stat().st_size
        if size > source.max_bytes:
            raise FetchError(
                source.name,
                f"file of {size} bytes is over the limit of {source.max_bytes}",
                url=str(path),
            )
        body = path.read_bytes()
    except FileNotFoundError:
        raise FetchError(source.name, "no such file", url=str(path)) from None
    except OSError as exc:
        raise FetchError(source.name, exc.strerror or str(exc), url=str(path)) from exc
    return Fetched(source=source.name, url=path.as_uri(), body=body)
