"""serve: a real uvicorn on 127.0.0.1 (port 0) answering from a temporary
output/ and a real SQLite store.

One server runs for the whole module; each test points it at its own output
folder and store by swapping the settings it reads per request, which also
exercises live reconfiguration.
"""

from __future__ import annotations

import gzip
import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from feeds.model import Item
from feeds.publish import publish_file
from feeds.serve import (
    HEALTH_SECONDS,
    METRICS_SECONDS,
    ServerThread,
    ServeSettings,
    create_app,
)
from feeds.store import Attempt, Store

from .conftest import store_held_whole

ATOM = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
    + b"".join(
        f"  <entry><id>urn:x:{n}</id><title>Статья {n}</title></entry>\n".encode()
        for n in range(60)
    )
    + b"</feed>\n"
)
FILES: dict[str, bytes] = {
    "index.html": b"<!doctype html><title>feeds</title>",
    "all.atom": ATOM,
    "all.rss": b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
    "all.json": b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
    "feeds.opml": b'<?xml version="1.0"?><opml version="2.0"/>',
    "feed.xsl": b'<?xml version="1.0"?><xsl:stylesheet version="1.0"/>',
    "style.css": b"body { margin: 0 }",
    "blob.dat": b"\x00\x01\x02",
    ".feeds-abc.tmp": b"half-written",
}
SECRET = b"password: hunter2"


@dataclass
class Holder:
    settings: ServeSettings | None = None

    def current(self) -> ServeSettings:
        assert self.settings is not None
        return self.settings


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Holder, int]]:
    holder = Holder()
    server = ServerThread(create_app(holder.current), "127.0.0.1", 0)
    server.start()
    try:
        yield holder, server.port
    finally:
        server.stop()


@dataclass
class Site:
    holder: Holder
    port: int
    root: Path
    output: Path
    client: httpx.Client

    @property
    def storage_url(self) -> str:
        return self.holder.current().storage_url

    def set(self, **changes: object) -> None:
        self.holder.settings = replace(self.holder.current(), **changes)  # type: ignore[arg-type]

    def raw(self, method: str, target: str) -> tuple[int, bytes]:
        """A request whose target goes out exactly as written."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request(method, target)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@pytest.fixture
def site(live: tuple[Holder, int], tmp_path: Path) -> Iterator[Site]:
    holder, port = live
    output = tmp_path / "output"
    output.mkdir()
    for name, body in FILES.items():
        (output / name).write_bytes(body)
    (tmp_path / "config.yaml").write_bytes(SECRET)
    (tmp_path / "secret.atom").write_bytes(SECRET)
    (output / "leak.atom").symlink_to(tmp_path / "secret.atom")
    (output / "latest.atom").symlink_to("all.atom")
    (output / "sub").mkdir()
    holder.settings = ServeSettings(
        output_dir=output,
        storage_url=f"sqlite:///{tmp_path / 'feeds.db'}",
        max_age=300,
        sources=("alpha", "beta"),
        stale_after=3600.0,
    )
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        yield Site(holder=holder, port=port, root=tmp_path, output=output, client=client)
    holder.settings = None


PLAIN = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


# -- conditional requests --------------------------------------------------


def settled(path: Path) -> None:
    """Date a file an hour back. Written a moment ago, its Last-Modified
    trails the clock by two seconds (see `_last_modified`): two answers on
    either side of a second differ in it, as in Date (a loaded machine
    took that long between two requests)."""
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))


def test_200_then_304_for_the_same_etag(site: Site) -> None:
    settled(site.output / "all.atom")
    first = site.client.get("/all.atom", headers=PLAIN)
    assert first.status_code == 200
    assert first.content == ATOM
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["vary"] == "Accept-Encoding, Accept"
    assert first.headers["last-modified"].endswith(" GMT")

    again = site.client.get("/all.atom", headers={**PLAIN, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["last-modified"] == first.headers["last-modified"]
    assert again.headers["cache-control"] == "public, max-age=300"
    assert "content-length" not in again.headers or again.headers["content-length"] == "0"


@pytest.mark.parametrize(
    ("template", "status"),
    [
        ("{etag}", 304),
        ("W/{etag}", 304),
        ('"other", {etag}', 304),
        ('W/"other" ,W/{etag}', 304),
        ("*", 304),
        ('"other"', 200),
        ('"other", W/"another"', 200),
    ],
)
def test_if_none_match_forms(site: Site, template: str, status: int) -> None:
    etag = site.client.get("/all.rss", headers=PLAIN).headers["etag"]
    response = site.client.get(
        "/all.rss", headers={**PLAIN, "If-None-Match": template.format(etag=etag)}
    )
    assert response.status_code == status


def test_a_feed_whose_last_modified_was_ahead_of_the_clock_is_not_kept_from_pollers(
    site: Site,
) -> None:
    """A feed's Last-Modified can be ahead of the clock: the release before
    ran it a second ahead per rewrite within a second, and a clock set back
    leaves every file ahead. Its next version is stamped at most two seconds
    ahead, earlier than the one before: a poller sending only the
    If-Modified-Since it was given got 304 for the new version until the
    clock passed the old date (an hour here), and never saw it if nothing
    changed again. Nor is such a date given out any more: Last-Modified is
    never later than the answer's Date (RFC 9110 8.8.2.1)."""
    path = site.output / "all.rss"
    ahead = int(time.time()) + 3600
    os.utime(path, (ahead, ahead))
    first = site.client.get("/all.rss", headers=PLAIN)
    given = first.headers["last-modified"]
    assert parsedate_to_datetime(given).timestamp() <= time.time()
    kept = formatdate(ahead, usegmt=True)  # what the release before gave
    for date, status in ((kept, 304), (given, 200)):  # 304 for this very version only
        sent = {**PLAIN, "If-Modified-Since": date}
        assert site.client.get("/all.rss", headers=sent).status_code == status

    assert publish_file(site.output, "all.rss", b'<?xml version="1.0"?><rss version="2.0"/>')
    for date in (kept, given):
        again = site.client.get("/all.rss", headers={**PLAIN, "If-Modified-Since": date})
        assert again.status_code == 200
        assert again.content == b'<?xml version="1.0"?><rss version="2.0"/>'


def test_a_feed_rewritten_within_a_second_never_answers_304_to_the_date_before(
    site: Site,
) -> None:
    """Publishing stamps a version written within a second of the one
    before a second later, up to MAX_LEAD ahead of the clock. Rewritten
    faster than that (builds back to back), two versions had one
    Last-Modified, and a poller sending only If-Modified-Since got 304 for
    the newer; the date given was also later than the answer's Date."""
    dates = []
    for number in range(6):
        body = f'<?xml version="1.0"?><rss version="2.0"><!-- {number} --></rss>'.encode()
        assert publish_file(site.output, "all.rss", body)
        for date in dates:  # every date given for an earlier version
            sent = {**PLAIN, "If-Modified-Since": date}
            assert site.client.get("/all.rss", headers=sent).content == body
        answer = site.client.get("/all.rss", headers=PLAIN)
        assert parsedate_to_datetime(answer.headers["last-modified"]).timestamp() <= time.time()
        dates.append(answer.headers["last-modified"])


def test_if_modified_since(site: Site) -> None:
    path = site.output / "all.rss"
    os.utime(path, (1_700_000_000, 1_700_000_000))
    last_modified = site.client.get("/all.rss", headers=PLAIN).headers["last-modified"]
    assert last_modified == formatdate(1_700_000_000, usegmt=True)

    def status(**headers: str) -> int:
        return site.client.get("/all.rss", headers={**PLAIN, **headers}).status_code

    assert status(**{"If-Modified-Since": last_modified}) == 304
    assert status(**{"If-Modified-Since": formatdate(1_700_000_100, usegmt=True)}) == 304
    assert status(**{"If-Modified-Since": formatdate(1_699_999_999, usegmt=True)}) == 200
    assert status(**{"If-Modified-Since": "not a date"}) == 200
    # A number too big for the standard library's C types is no date
    # either (OverflowError: it answered 500).
    too_big = "Mon, 01 Jan 2020 00:00:00 +99999999999999"
    assert status(**{"If-Modified-Since": too_big}) == 200
    assert status(**{"If-Unmodified-Since": too_big}) == 200
    # If-None-Match decides alone when present (RFC 9110 13.2.2).
    assert status(**{"If-Modified-Since": last_modified, "If-None-Match": '"stale"'}) == 200


def test_a_feed_sent_to_a_browser_as_xml_has_its_own_etag(site: Site) -> None:
    """Two representations, two strong tags (RFC 9110 8.8.3): a shared
    cache revalidating either must not get the other's 304."""
    browser = {**PLAIN, "Accept": "text/html,application/xml;q=0.9"}
    reader = site.client.get("/all.atom", headers=PLAIN)
    shown = site.client.get("/all.atom", headers=browser)
    assert shown.headers["content-type"].startswith("application/xml")
    assert reader.headers["etag"] != shown.headers["etag"]
    for headers, response in ((PLAIN, reader), (browser, shown)):
        tag = response.headers["etag"]
        assert (
            site.client.get("/all.atom", headers={**headers, "If-None-Match": tag}).status_code
            == 304
        )
    crossed = site.client.get(
        "/all.atom", headers={**PLAIN, "If-None-Match": shown.headers["etag"]}
    )
    assert crossed.status_code == 200


def test_conditional_headers_as_rfc_9110_reads_them(site: Site) -> None:
    """Lists on several lines count whole, a date given twice is ignored,
    and If-Match / If-Unmodified-Since preconditions fail with 412."""
    # Written a while ago: Last-Modified is then the file's own time (one
    # written in the last two seconds gets an earlier one).
    os.utime(site.output / "all.atom", (time.time() - 60, time.time() - 60))
    first = site.client.get("/all.atom", headers=PLAIN)
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    def status(*headers: tuple[str, str]) -> int:
        sent = [("Accept-Encoding", "identity"), *headers]
        return site.client.get("/all.atom", headers=sent).status_code

    assert status(("If-None-Match", '"zzz"'), ("If-None-Match", etag)) == 304
    long_ago = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert status(("If-Modified-Since", modified), ("If-Modified-Since", long_ago)) == 200
    assert status(("If-Match", '"nope"')) == 412
    assert status(("If-Match", etag)) == 200
    assert status(("If-Match", "*")) == 200
    assert status(("If-Unmodified-Since", long_ago)) == 412
    assert status(("If-Unmodified-Since", modified)) == 200


def test_a_changed_file_gets_a_new_etag(site: Site) -> None:
    path = site.output / "all.json"
    old = site.client.get("/all.json", headers=PLAIN).headers["etag"]

    path.write_bytes(b'{"version": "https://jsonfeed.org/version/1.1", "items": [1]}')
    changed = site.client.get("/all.json", headers={**PLAIN, "If-None-Match": old})
    assert changed.status_code == 200
    assert changed.headers["etag"] != old
    assert changed.json()["items"] == [1]

    # As publish does it: same size, renamed into place.
    newer_body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [2]}'
    temporary = site.output / ".feeds-x.tmp"
    temporary.write_bytes(newer_body)
    os.replace(temporary, path)
    newer = site.client.get(
        "/all.json", headers={**PLAIN, "If-None-Match": changed.headers["etag"]}
    )
    assert newer.status_code == 200
    assert newer.headers["etag"] not in (old, changed.headers["etag"])
    assert newer.content == newer_body


def _served(site: Site, name: str, accept: str) -> tuple[bytes, str]:
    response = site.client.get(f"/{name}", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    return response.content, response.headers["etag"]


def test_a_new_version_with_the_old_inode_mtime_and_size_is_not_served_as_the_old(
    site: Site,
) -> None:
    """Inode, mtime and size do not tell versions apart: publish gives
    every rewrite within a second the same whole-second mtime, a replaced
    version's inode goes to the next new file, and a feed often keeps its
    size. The version before was served in its place, gzip and ETag, until
    the file changed again, so pollers holding its ETag got 304s."""
    path = site.output / "all.atom"
    before, old_tag = _served(site, "all.atom", "gzip")
    assert before == ATOM  # httpx decodes the gzip
    status = path.stat()
    changed = ATOM.replace(b"urn:x:0<", b"urn:x:X<")
    assert len(changed) == len(ATOM)
    # The same inode, size and mtime: a rewrite in place that keeps the mtime.
    path.write_bytes(changed)
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    for accept in ("gzip", "identity"):
        body, tag = _served(site, "all.atom", accept)
        assert body == changed
        assert tag.removesuffix('-gz"') != old_tag.removesuffix('-gz"')
    refreshed = site.client.get("/all.atom", headers={**GZIP, "If-None-Match": old_tag})
    assert refreshed.status_code == 200

    # As publish does it, many times within one second.
    for round_ in range(20):
        versions = [ATOM.replace(b"urn:x:1<", f"urn:{n:03}<".encode()) for n in range(3)]
        for filler in range(4):  # up to the most publish puts ahead of the clock
            publish_file(site.output, "all.atom", ATOM.replace(b"x:2<", f"{filler}:2<".encode()))
        publish_file(site.output, "all.atom", versions[0])
        assert _served(site, "all.atom", "gzip")[0] == versions[0], round_
        publish_file(site.output, "all.atom", versions[1])
        publish_file(site.output, "all.atom", versions[2])
        assert _served(site, "all.atom", "gzip")[0] == versions[2], round_


# -- content -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("all.atom", "application/atom+xml; charset=utf-8"),
        ("all.rss", "application/rss+xml; charset=utf-8"),
        ("all.json", "application/feed+json; charset=utf-8"),
        ("feeds.opml", "text/x-opml; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("feed.xsl", "application/xslt+xml; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("blob.dat", "application/octet-stream"),
    ],
)
def test_content_types(site: Site, name: str, content_type: str) -> None:
    response = site.client.get(f"/{name}", headers=PLAIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == FILES[name]


def test_root_is_the_index_with_the_same_caching(site: Site) -> None:
    response = site.client.get("/", headers=PLAIN)
    assert response.status_code == 200
    assert response.content == FILES["index.html"]
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["etag"] == site.client.get("/index.html", headers=PLAIN).headers["etag"]


def test_settings_are_read_per_request(site: Site) -> None:
    site.set(max_age=60)
    assert site.client.get("/all.rss").headers["cache-control"] == "public, max-age=60"


def test_gzip_when_asked_identity_otherwise(site: Site) -> None:
    with site.client.stream("GET", "/all.atom", headers=GZIP) as zipped:
        raw = b"".join(zipped.iter_raw())
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding, Accept"
    assert int(zipped.headers["content-length"]) == len(raw) < len(ATOM)
    assert gzip.decompress(raw) == ATOM

    plain = site.client.get("/all.atom", headers=PLAIN)
    assert "content-encoding" not in plain.headers
    assert plain.content == ATOM
    assert int(plain.headers["content-length"]) == len(ATOM)

    # Two representations, two strong tags; each revalidates itself only.
    assert zipped.headers["etag"] != plain.headers["etag"]
    for headers, etag, status in [
        (GZIP, zipped.headers["etag"], 304),
        (PLAIN, plain.headers["etag"], 304),
        (PLAIN, zipped.headers["etag"], 200),
        ({"Accept-Encoding": "gzip;q=0, identity"}, plain.headers["etag"], 304),
    ]:
        response = site.client.get("/all.atom", headers={**headers, "If-None-Match": etag})
        assert response.status_code == status, (headers, etag)
        if status == 304:
            assert response.headers["etag"] == etag


def test_small_files_are_not_gzipped(site: Site) -> None:
    response = site.client.get("/style.css", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.content == FILES["style.css"]


@pytest.mark.parametrize("accept", ["gzip", "identity"])
@pytest.mark.parametrize("name", ["all.atom", "index.html", "metrics", "healthz"])
def test_head_has_the_headers_of_get_and_no_body(site: Site, accept: str, name: str) -> None:
    if name == "healthz":
        with Store(site.storage_url) as store:
            store.record_attempt("alpha", Attempt(now=datetime.now(UTC), items=1))
    if (site.output / name).is_file():
        settled(site.output / name)
    headers = {"Accept-Encoding": accept}
    with site.client.stream("GET", f"/{name}", headers=headers) as get:
        body = b"".join(get.iter_raw())
    head = site.client.head(f"/{name}", headers=headers)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len(body)
    assert {k: v for k, v in head.headers.items() if k != "date"} == {
        k: v for k, v in get.headers.items() if k != "date"
    }


# -- refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/../config.yaml",
        "/%2e%2e/config.yaml",
        "/..%2fconfig.yaml",
        "/%2e%2e%2fconfig.yaml",
        "/....//config.yaml",
        "/sub/../../config.yaml",
        "/.feeds-abc.tmp",
        "/%2efeeds-abc.tmp",
        "/%00",
        "/all.atom%00.css",
        "/..\\config.yaml",
        "/..%5cconfig.yaml",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/leak.atom",
        "/sub",
        "/sub/",
        "/missing.atom",
        "/%252e%252e%252fconfig.yaml",
    ],
)
def test_nothing_outside_output_and_nothing_hidden(site: Site, target: str) -> None:
    status, body = site.raw("GET", target)
    assert status == 404
    assert SECRET not in body
    assert b"half-written" not in body


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("http://127.0.0.1/all.atom", "all.atom"),
        ("HTTP://feeds.example.org:8080/feeds.opml?x=1", "feeds.opml"),
        ("https://feeds.example.org", "index.html"),
        ("http://feeds.example.org/", "index.html"),
        ("http://feeds.example.org/../config.yaml", None),
        ("http://feeds.example.org/%2e%2e/config.yaml", None),
        ("http://feeds.example.org/.feeds-abc.tmp", None),
    ],
)
def test_an_absolute_url_as_request_target_is_answered_for_its_path(
    site: Site, target: str, name: str | None
) -> None:
    """RFC 9112 3.2.2: a server MUST accept the absolute form, which
    clients send through some proxies; it answered 404 for every file."""
    status, body = site.raw("GET", target)
    if name is None:
        assert status == 404
        assert SECRET not in body
        assert b"half-written" not in body
    else:
        assert status == 200
        assert body == FILES[name]


def test_a_symlink_inside_output_is_followed(site: Site) -> None:
    response = site.client.get("/latest.atom", headers=PLAIN)
    assert response.status_code == 200
    assert response.content == ATOM


@pytest.mark.parametrize("target", ["/all.atom", "/", "/healthz", "/metrics", "/missing"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_only_get_and_head(site: Site, target: str, method: str) -> None:
    status, _ = site.raw(method, target)
    assert status == 405


@pytest.mark.parametrize("target", ["/all.atom", "/", "/healthz", "/missing"])
@pytest.mark.parametrize("method", ["FOO", "get", "XYZZY"])
def test_a_method_nobody_defined_is_501(site: Site, target: str, method: str) -> None:
    """RFC 9110 9.1: an unrecognised method SHOULD get 501; the 405 it got
    says the method is known and only not allowed for this resource."""
    status, _ = site.raw(method, target)
    assert status == 501


# -- health --------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_healthz_ok_with_a_recent_success(site: Site) -> None:
    now = _now()
    with Store(site.storage_url) as store:
        store.record_attempt("alpha", Attempt(now=now - timedelta(minutes=5), status=200, items=7))
        store.record_attempt(
            "alpha",
            Attempt(now=now, error="HTTP 503", status=503, health="failing", next_due=now),
        )
        store.record_attempt("gamma", Attempt(now=now, items=1))  # not configured
    response = site.client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    report = response.json()
    assert report["status"] == "ok"
    assert report["sources"] == [
        {
            "name": "alpha",
            "health": "failing",
            "last_success": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_attempt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_error": "HTTP 503",
            "failures": 1,
            "next_due": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "items": 7,
            "moved_to": None,
        },
        {
            "name": "beta",
            "health": None,
            "last_success": None,
            "last_attempt": None,
            "last_error": None,
            "failures": None,
            "next_due": None,
            "items": None,
            "moved_to": None,
        },
    ]


def test_healthz_says_where_a_permanent_redirect_sends_a_source(site: Site) -> None:
    # Only the log said so: /healthz showed a plain "ok".
    now = _now()
    with Store(site.storage_url) as store:
        store.record_attempt(
            "alpha",
            Attempt(now=now, status=200, items=3, moved_to="https://new.example/feed.rss?key=s3"),
        )
    (alpha, _beta) = site.client.get("/healthz").json()["sources"]
    assert alpha["health"] == "ok"
    assert alpha["moved_to"] == "https://new.example/feed.rss?…"


def test_healthz_gives_a_source_paused_by_410_no_next_time(site: Site) -> None:
    now = _now()
    with Store(site.storage_url) as store:
        store.record_attempt(
            "alpha",
            Attempt(
                now=now,
                error="HTTP 410",
                status=410,
                health="gone",
                next_due=now,
                gone_url="http://example.org/alpha.rss",
            ),
        )
    (alpha, _beta) = site.client.get("/healthz").json()["sources"]
    assert alpha["health"] == "gone" and alpha["next_due"] is None


def test_healthz_shows_no_password_token_or_local_folder(site: Site) -> None:
    """/healthz shares the port partners read feeds from."""
    now = _now()
    with Store(site.storage_url) as store:
        store.record_attempt(
            "alpha",
            Attempt(
                now=now,
                error="source 'alpha': fetch failed "
                "(https://user:hunter2@10.1.2.3/feed?api_key=SECRET123): refused",
            ),
        )
        store.record_attempt(
            "beta",
            Attempt(now=now, error="source 'beta': fetch failed (/srv/private/in/feed.xml)"),
        )
    errors = [source["last_error"] for source in site.client.get("/healthz").json()["sources"]]
    assert errors == [
        "source 'alpha': fetch failed (https://10.1.2.3/feed?…): refused",
        "source 'beta': fetch failed (…/feed.xml)",
    ]
    from feeds.serve import _public

    assert _public("fetch failed (/home/my feeds/x.xml): gone") == "fetch failed (…/x.xml): gone"
    assert _public('failed (https://u:p@ss@h.example/f?t="a b"&k=S): x') == (
        "failed (https://h.example/f?…): x"
    )


def test_healthz_503_when_the_last_success_is_stale(site: Site) -> None:
    with Store(site.storage_url) as store:
        store.record_attempt("alpha", Attempt(now=_now() - timedelta(hours=2), items=3))
    response = site.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert [source["name"] for source in response.json()["sources"]] == ["alpha", "beta"]

    site.set(stale_after=3 * 3600.0)
    assert site.client.get("/healthz").status_code == 200


def test_healthz_503_when_nothing_ever_succeeded(site: Site) -> None:
    with Store(site.storage_url) as store:
        store.record_attempt("alpha", Attempt(now=_now(), error="HTTP 500", status=500))
        store.record_attempt("gamma", Attempt(now=_now(), items=1))  # not configured
    response = site.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"


@pytest.mark.parametrize("target", ["/healthz", "/metrics"])
def test_a_broken_store_is_503_without_traceback(site: Site, target: str) -> None:
    (site.root / "not-a-folder").write_text("x")
    site.set(storage_url=f"sqlite:///{site.root / 'not-a-folder' / 'feeds.db'}")
    response = site.client.get(target)
    assert response.status_code == 503
    assert "store unavailable" in response.text
    assert "Traceback" not in response.text
    assert "not-a-folder" not in response.text


@pytest.mark.slow
@pytest.mark.parametrize("target", ["/healthz", "/metrics"])
def test_checks_on_a_store_held_elsewhere_leave_the_feeds_served(site: Site, target: str) -> None:
    """Another process holds the store. 60 /healthz requests at once each
    waited 30 s for it, on the threads that serve the feeds: /all.atom
    took 29 s, and the last /healthz 60 s. They now share one reading,
    which waits 2 s for the store."""
    Store(site.storage_url).close()
    path = Path(site.storage_url.removeprefix("sqlite:///"))
    checks: list[tuple[int, float]] = []

    def timed(url: str) -> tuple[int, float]:
        started = time.monotonic()
        with httpx.Client(timeout=90) as client:
            status = client.get(url).status_code
        return status, time.monotonic() - started

    base = f"http://127.0.0.1:{site.port}"
    with store_held_whole(path):
        threads = [
            threading.Thread(target=lambda: checks.append(timed(base + target))) for _ in range(60)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        feed = timed(base + "/all.atom")
        for thread in threads:
            thread.join()
    assert feed[0] == 200 and feed[1] < 10, feed
    assert {status for status, _seconds in checks} == {503}
    assert max(seconds for _status, seconds in checks) < 10
    # Once the store is free again (and the failure no longer kept), it is read.
    time.sleep((HEALTH_SECONDS if target == "/healthz" else METRICS_SECONDS) + 0.1)
    assert "store unavailable" not in site.client.get(target).text


# -- metrics -------------------------------------------------------------------


def test_metrics(site: Site) -> None:
    start = _now() - timedelta(minutes=10)
    with Store(site.storage_url) as store:
        store.record_attempt(
            "alpha", Attempt(now=start, status=200, items=3, bytes=1000, seconds=0.5)
        )
        store.record_attempt(
            "alpha",
            Attempt(now=start + timedelta(minutes=1), status=304, not_modified=True, seconds=0.25),
        )
        store.record_attempt(
            "alpha",
            Attempt(
                now=start + timedelta(minutes=2),
                error="HTTP 503",
                status=503,
                seconds=1.0,
                health="failing",
            ),
        )
        store.record_attempt("gamma", Attempt(now=start, items=1))  # not configured
        store.upsert(
            [
                Item(source="alpha", id="a1", title="One", rubrics=("art",)),
                Item(source="alpha", id="a2", title="Two", rubrics=("art", "news")),
                Item(source="alpha", id="a3", title="Three"),
            ],
            now=start,
        )
    response = site.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }

    def alpha(name: str) -> float:
        return samples[(name, (("source", "alpha"),))]

    def beta(name: str) -> float:
        return samples[(name, (("source", "beta"),))]

    assert alpha("feeds_source_fetches_total") == 3
    assert alpha("feeds_source_failures_total") == 1
    assert alpha("feeds_source_not_modified_total") == 1
    assert alpha("feeds_source_fetched_bytes_total") == 1000
    assert alpha("feeds_source_fetch_seconds_total") == pytest.approx(1.75)
    assert alpha("feeds_source_consecutive_failures") == 1
    assert alpha("feeds_source_healthy") == 0
    assert alpha("feeds_source_last_success_timestamp_seconds") == (
        (start + timedelta(minutes=1)).timestamp()
    )
    assert beta("feeds_source_fetches_total") == 0
    assert beta("feeds_source_healthy") == 1
    assert alpha("feeds_source_empty") == beta("feeds_source_empty") == 0
    assert ("feeds_source_last_success_timestamp_seconds", (("source", "beta"),)) not in samples
    assert not any(("source", "gamma") in labels for _, labels in samples)
    assert samples[("feeds_rubric_items", (("rubric", "art"),))] == 2
    assert samples[("feeds_rubric_items", (("rubric", "news"),))] == 1
    assert samples[("feeds_items", ())] == 3
    # A dedicated registry: nothing of the process collectors leaks in.
    assert not any(name.startswith(("process_", "python_")) for name, _ in samples)


# -- the thread ------------------------------------------------------------------


def _alone(
    folder: Path, *, store: Path | None = None, sources: tuple[str, ...] = ()
) -> ServeSettings:
    """Settings for a server of a test's own: output in `folder`."""
    return ServeSettings(
        output_dir=folder,
        storage_url=f"sqlite:///{store or folder / 'feeds.db'}",
        max_age=0,
        sources=sources,
        stale_after=1.0,
    )


def test_server_thread_stops_quickly_with_a_connection_open(tmp_path: Path) -> None:
    settings = _alone(tmp_path)
    (tmp_path / "index.html").write_text("hi")
    server = ServerThread(create_app(lambda: settings), "127.0.0.1", 0)
    with pytest.raises(RuntimeError):
        _ = server.port
    server.start()
    assert server.port > 0
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
        assert client.get("/").text == "hi"  # leaves an idle keep-alive connection
        began = time.monotonic()
        server.stop()
        assert time.monotonic() - began < 5
    server.stop()  # a second stop is harmless


def test_a_browser_gets_a_feed_as_xml_so_it_applies_the_stylesheet(
    tmp_path: Path,
) -> None:
    from feeds.serve import _content_type

    feed = tmp_path / "all.atom"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert _content_type(feed, browser) == "application/xml; charset=utf-8"
    assert _content_type(feed, "application/atom+xml") == "application/atom+xml; charset=utf-8"
    assert _content_type(feed, "") == "application/atom+xml; charset=utf-8"
    assert _content_type(tmp_path / "all.json", browser) == "application/feed+json; charset=utf-8"


def _closed(sock: socket.socket, wait: float) -> bool:
    """Whether the server has closed this connection (within `wait` s),
    reading past whatever it still had to say."""
    sock.settimeout(wait)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:  # reset
        pass
    return True


def test_slow_or_idle_clients_cannot_hold_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections that never finish their headers are closed after
    HEADER_SECONDS, and past MAX_CONNECTIONS at once: the service's file
    descriptors are never all taken, and the feeds are served again."""
    from feeds import serve

    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 20)
    monkeypatch.setattr(serve, "HEADER_SECONDS", 1.0)
    settings = _alone(tmp_path)
    (tmp_path / "all.atom").write_bytes(ATOM)
    server = ServerThread(create_app(lambda: settings), "127.0.0.1", 0)
    server.start()
    slow: list[socket.socket] = []
    try:
        # One that was served, then starts its next request and stalls.
        kept = socket.create_connection(("127.0.0.1", server.port))
        kept.sendall(b"GET /all.atom HTTP/1.1\r\nHost: x\r\n\r\n")
        kept.settimeout(5)
        answer = b""
        while not answer.endswith(ATOM):  # the whole answer, body included
            answer += kept.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        kept.sendall(b"GET /all.atom HTTP/1.1\r\n")
        slow.append(kept)
        for _ in range(29):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET /all.atom HTTP/1.1\r\nHost: x\r\n")  # never ends
            slow.append(sock)
        time.sleep(0.5)
        assert sum(_closed(sock, 0.1) for sock in slow) >= 10  # past the cap
        time.sleep(1.0)
        assert all(_closed(sock, 1.0) for sock in slow)  # too slow: closed
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
            assert client.get("/all.atom").content == ATOM
    finally:
        for sock in slow:
            sock.close()
        server.stop()


@contextmanager
def _serving_atom(tmp_path: Path, big: bytes = b"") -> Iterator[ServerThread]:
    """A real server of a test's own over `tmp_path` holding all.atom (and
    big.rss when given), stopped at the end."""
    settings = _alone(tmp_path)
    (tmp_path / "all.atom").write_bytes(ATOM)
    if big:
        (tmp_path / "big.rss").write_bytes(big)
    server = ServerThread(create_app(lambda: settings), "127.0.0.1", 0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _atom_of(server: ServerThread) -> bytes:
    """all.atom as a new client gets it."""
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
        return client.get("/all.atom").content


def _read_to_close(sock: socket.socket, wait: float = 5.0) -> bytes:
    sock.settimeout(wait)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def test_a_client_that_shuts_its_side_after_its_request_still_gets_the_answer(
    tmp_path: Path,
) -> None:
    """`nc -N` and many HTTP/1.0 scripts send their request and then shut
    their side of the connection: the answer was lost (closed with nothing
    sent) whenever it was not ready within a millisecond or so."""
    with _serving_atom(tmp_path) as server:
        for request in (
            b"GET /all.atom HTTP/1.0\r\n\r\n",
            b"GET /all.atom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            b"GET /all.atom HTTP/1.1\r\nHost: x\r\n\r\n",  # keep-alive, then shut
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        ):
            for _ in range(5):
                with socket.create_connection(("127.0.0.1", server.port)) as sock:
                    sock.sendall(request)
                    sock.shutdown(socket.SHUT_WR)
                    answer = _read_to_close(sock)
                assert answer.startswith(b"HTTP/1.1 "), (request, answer[:80])
                if b"all.atom" in request:
                    assert answer.endswith(ATOM)


def test_clients_that_never_read_their_answers_cannot_shut_others_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAX_CONNECTIONS clients that ask for a big file many times over and
    read nothing held every connection for as long as they stayed: every
    other client was turned away. At the cap, the one stalled longest now
    makes room."""
    from feeds import serve

    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 6)
    monkeypatch.setattr(serve, "STALL_SECONDS", 0.5)
    big = b"<rss>" + os.urandom(1 << 20).hex().encode() + b"</rss>"
    hogs: list[socket.socket] = []
    with _serving_atom(tmp_path, big) as server:
        try:
            _ask_for_big_files(server, hogs, 6)
            # Their answers fill every buffer on the way within a second or
            # so; then, stalled for STALL_SECONDS, they give way.
            _served_within(server, 5)
        finally:
            for sock in hogs:
                sock.close()


def _ask_for_big_files(server: ServerThread, into: list[socket.socket], count: int) -> None:
    """`count` clients with small receive buffers, each asking for the big
    file 20 times over its one connection; kept in `into`."""
    for _ in range(count):
        sock = socket.socket()
        into.append(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"GET /big.rss HTTP/1.1\r\nHost: x\r\n\r\n" * 20)


def _served_within(server: ServerThread, seconds: float) -> None:
    """A new client gets the feed within `seconds`, and three more after it."""
    shut_out_until = time.monotonic() + seconds
    while True:
        try:
            assert _atom_of(server) == ATOM
            break
        except httpx.TransportError:
            assert time.monotonic() < shut_out_until, f"still shut out after {seconds:g} s"
            time.sleep(0.2)
    for _ in range(3):
        assert _atom_of(server) == ATOM


def test_clients_reading_answer_after_answer_slowly_cannot_shut_others_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAX_CONNECTIONS clients that each asked for a big file many times over
    one connection, and read a little of it every moment (never stalled for
    STALL_SECONDS), turned every other client away for as long as they
    liked. At the cap, the connection open longest now makes room."""
    from feeds import serve

    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 6)
    monkeypatch.setattr(serve, "HOLD_SECONDS", 0.5)
    big = b"<rss>" + os.urandom(1 << 20).hex().encode() + b"</rss>"
    readers: list[socket.socket] = []
    done = threading.Event()

    def read_slowly() -> None:
        while not done.is_set():
            for sock in readers:
                with suppress(OSError):
                    sock.recv(4096)
            time.sleep(0.1)

    with _serving_atom(tmp_path, big) as server:
        _ask_for_big_files(server, readers, 6)
        for sock in readers:
            sock.setblocking(False)
        slowly = threading.Thread(target=read_slowly)
        slowly.start()
        try:
            _served_within(server, 5)
        finally:
            done.set()
            slowly.join()
            for sock in readers:
                sock.close()


def test_at_the_cap_an_idle_connection_makes_room_not_a_client_reading_its_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client reading a big file steadily fills the buffers for moments:
    it is not one that stopped reading, and idle connections go first."""
    from feeds import serve

    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 4)
    big = b"<rss>" + os.urandom(1 << 21).hex().encode() + b"</rss>"
    idle: list[socket.socket] = []
    with _serving_atom(tmp_path, big) as server:
        try:
            for _ in range(3):  # served once, then kept alive doing nothing
                sock = socket.create_connection(("127.0.0.1", server.port))
                idle.append(sock)
                sock.sendall(b"GET /all.atom HTTP/1.1\r\nHost: x\r\n\r\n")
                sock.settimeout(5)
                answer = b""
                while not answer.endswith(ATOM):
                    answer += sock.recv(65536)
            reader = socket.socket()
            idle.append(reader)  # closed at the end with them
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            reader.connect(("127.0.0.1", server.port))
            reader.sendall(b"GET /big.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reader.settimeout(5)
            got = reader.recv(16384)
            time.sleep(0.3)  # the server's buffers for it are full by now
            assert _atom_of(server) == ATOM  # over the cap
            while chunk := reader.recv(65536):
                got += chunk
            assert got.endswith(big)
            assert sum(_closed(sock, 0.2) for sock in idle[:3]) == 1
        finally:
            for sock in idle:
                sock.close()


def test_metrics_tell_an_empty_source_from_a_failing_one(site: Site) -> None:
    with Store(site.storage_url) as store:
        store.record_attempt("alpha", Attempt(now=_now(), status=200, items=0, health="empty"))
        store.record_attempt("beta", Attempt(now=_now(), error="HTTP 503", health="failing"))
    samples = {
        (sample.name, sample.labels["source"]): sample.value
        for family in text_string_to_metric_families(site.client.get("/metrics").text)
        for sample in family.samples
        if "source" in sample.labels
    }
    assert samples[("feeds_source_healthy", "alpha")] == samples[("feeds_source_healthy", "beta")]
    assert samples[("feeds_source_empty", "alpha")] == 1
    assert samples[("feeds_source_empty", "beta")] == 0


def test_metrics_scrapes_close_together_share_one_reading_of_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a large store takes a while: a flood of /metrics requests
    must not count it once each (and hold every worker thread)."""
    from feeds.serve import _StoreCollector

    readings = 0
    real = Store.source_states

    def counted(self: Store) -> list[object]:
        nonlocal readings
        readings += 1
        return real(self)  # type: ignore[return-value]

    monkeypatch.setattr(Store, "source_states", counted)
    settings = _alone(tmp_path, sources=("alpha",))
    Store(settings.storage_url).close()  # something has run
    current = [settings]
    collector = _StoreCollector(lambda: current[0])
    first = list(collector.collect())
    for _ in range(20):
        assert list(collector.collect()) == first
    assert readings == 1
    current[0] = replace(settings, sources=("alpha", "beta"))  # a reload: read afresh
    collector.collect()
    assert readings == 2


def test_health_and_metrics_before_anything_ran_create_no_store(tmp_path: Path) -> None:
    """`feeds serve` may only be looking: reading a store that is not
    there yet must not create it, nor its folder."""
    store = tmp_path / "state" / "feeds.db"
    settings = _alone(tmp_path, store=store, sources=("alpha",))
    server = ServerThread(create_app(lambda: settings), "127.0.0.1", 0)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
            health = client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["sources"][0]["health"] is None
            assert client.get("/metrics").status_code == 200
    finally:
        server.stop()
    assert not store.parent.exists()
