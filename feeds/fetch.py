"""Fetch stage: the only module that touches the network or a source's file.

Reads a source's `url` (http, https, file) or `path` into a `Fetched` value:
the raw bytes plus the response headers, never decoded text. HTTP goes
through one shared httpx client with a per-source time-out, a size limit
enforced while the body streams in, and conditional GET from the validators
(ETag, Last-Modified) the store kept from the previous fetch.
Every failure becomes a `FetchError` that names the source.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx

from feeds import __version__
from feeds.errors import FetchError
from feeds.model import Fetched, Source

MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered from the last successful fetch."""

    etag: str = ""
    last_modified: str = ""


def user_agent(base_url: str) -> str:
    """Names the project and the site, so publishers know who polls them."""
    return f"feeds/{__version__} (+{base_url})"


class Fetcher:
    """A shared HTTP client. Thread-safe; close it when the run ends."""

    def __init__(self, base_url: str) -> None:
        self._client = httpx.Client(
            headers={"User-Agent": user_agent(base_url), "Accept-Encoding": "gzip, deflate"},
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, source: Source, validators: Validators | None = None) -> Fetched:
        """Read one source. Raises FetchError."""
        if source.path is not None:
            return _read_file(source, source.path)
        parts = urlsplit(source.url)
        if parts.scheme == "file":
            return _read_file(source, Path(url2pathname(unquote(parts.path))))
        return self._get(source, validators or Validators())

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
                final_url = str(response.url)
                if response.status_code == 304:
                    return Fetched(
                        source=source.name,
                        url=final_url,
                        headers=_headers(response),
                        status=304,
                        not_modified=True,
                    )
                if response.status_code >= 400:
                    reason = response.reason_phrase or ""
                    raise FetchError(
                        source.name,
                        f"HTTP {response.status_code} {reason}".strip(),
                        url=source.url,
                        status=response.status_code,
                    )
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
                            source.name,
                            f"body not complete after {source.timeout:g} s",
                            url=source.url,
                        )
                    chunks.append(chunk)
                return Fetched(
                    source=source.name,
                    url=final_url,
                    body=b"".join(chunks),
                    headers=_headers(response),
                    status=response.status_code,
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
