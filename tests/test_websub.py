"""WebSub publishing against a hub stand-in on 127.0.0.1 that records pings."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest

from .conftest import BASE_CONFIG, Server, allowing, run_cli, write_config
from .test_service import SERVICE, Running, rss

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://x.example/</link><description>d</description>
<item><title>{title}</title><link>https://x.example/{n}</link>
<category>art</category></item></channel></rss>"""


class Hub:
    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        self.fail_first = 0
        self.url = ""
        #: Set: pings are held without an answer (a hub that hangs).
        self.silent = threading.Event()
        self.released = threading.Event()


@pytest.fixture
def hub() -> Iterator[Hub]:
    state = Hub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            if state.silent.is_set():
                state.released.wait(60)
            if state.fail_first > 0:
                state.fail_first -= 1
                self.send_response(503)
            else:
                state.pings.append(parse_qs(body))
                self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/hub"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        httpd.shutdown()
        httpd.server_close()


def test_changed_feeds_are_pinged_and_carry_hub_links(
    tmp_path: Path, server: Server, hub: Hub
) -> None:
    url = server.add("/feed.rss", RSS.format(title="One", n=1))
    config = _build_config(tmp_path, url, hub.url)
    hub.fail_first = 1  # the first ping is refused once: it is retried
    assert run_cli("build", "-c", str(config)).returncode == 0
    first = {ping["hub.url"][0] for ping in hub.pings}
    assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)
    base_url = "https://feeds.example.org/"
    assert {base_url + "all.atom", base_url + "art.rss", base_url + "news.json"} <= first

    atom = feedparser.parse((tmp_path / "output" / "art.atom").read_bytes())
    rss = feedparser.parse((tmp_path / "output" / "art.rss").read_bytes())
    for feed, self_url in ((atom, base_url + "art.atom"), (rss, base_url + "art.rss")):
        links = {link.rel: link.href for link in feed.feed.links}
        assert links["hub"] == hub.url and links["self"] == self_url
        assert feed.bozo == 0

    hub.pings.clear()
    assert run_cli("build", "-c", str(config)).returncode == 0
    assert hub.pings == []  # nothing changed, nobody is pinged

    server.add("/feed.rss", RSS.format(title="Two", n=2))
    assert run_cli("build", "-c", str(config)).returncode == 0
    pinged = {ping["hub.url"][0] for ping in hub.pings}
    assert base_url + "art.atom" in pinged and base_url + "all.rss" in pinged
    assert base_url + "news.atom" not in pinged  # unchanged feeds are left alone


def test_a_dead_hub_is_logged_and_does_not_fail_the_build(tmp_path: Path, server: Server) -> None:
    url = server.add("/feed.rss", RSS.format(title="One", n=1))
    config = _build_config(tmp_path, url, "http://127.0.0.1:9/hub")
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0
    assert "WebSub hub http://127.0.0.1:9/hub: ping for" in done.stderr
    assert (tmp_path / "output" / "all.atom").exists()


@pytest.mark.slow
def test_a_hub_that_hangs_does_not_hold_up_the_services_stop(
    tmp_path: Path, server: Server, hub: Hub
) -> None:
    first = server.add("/a.rss", rss("From A"))
    second = server.add("/b.rss", rss("From B"), delay=2)
    sources = (
        f"  - name: a\n    type: feed\n    url: {first}\n    interval: 1h\n"
        f"  - name: b\n    type: feed\n    url: {second}\n    interval: 1h\n"
    )
    config = _service_config(tmp_path, sources, hub.url)
    service = Running(config)
    hub.silent.set()  # from now on, every ping waits for an answer that never comes
    try:
        # A's story is out and its ping hangs; B is stored meanwhile.
        service.wait_for(lambda: "From A" in _text(tmp_path / "output" / "all.atom"))
        service.wait_for(lambda: "source 'b': HTTP 200" in service.stderr())
        began = time.monotonic()
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=30) == 0
        # The ping on its way gets its 5 s; then one short try for B's.
        assert time.monotonic() - began < 9
        assert "From B" in _text(tmp_path / "output" / "all.atom")
    finally:
        service.close()


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


@pytest.mark.slow
def test_a_hub_that_hangs_does_not_hold_up_the_services_start(
    tmp_path: Path, server: Server, hub: Hub
) -> None:
    feed = server.add("/a.rss", rss("From A"))
    sources = f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1h\n"
    config = _service_config(tmp_path, sources, hub.url)
    hub.silent.set()
    began = time.monotonic()
    service = Running(config)  # returns once the service serves
    try:
        # The start-up publish pings the hub aside (three tries of 5 s each
        # held the start up for 16.5 s).
        assert time.monotonic() - began < 5
        service.wait_for(lambda: "From A" in _text(tmp_path / "output" / "all.atom"))
    finally:
        service.close()


def test_a_hub_that_hangs_does_not_hold_up_the_services_publishes(
    tmp_path: Path, server: Server, hub: Hub
) -> None:
    feed = server.add("/a.rss", rss("From A"))
    sources = f"  - name: a\n    type: feed\n    url: {feed}\n    interval: 1s\n"
    config = _service_config(tmp_path, sources, hub.url)
    hub.silent.set()
    service = Running(config)
    try:
        service.wait_for(lambda: "From A" in _text(tmp_path / "output" / "all.atom"))
        # The pings for that publish hang (three tries of 5 s): the next
        # story still goes out with the next publish, not 16 s later.
        server.add("/a.rss", rss("From A", "From B"))
        service.wait_for(lambda: "From B" in _text(tmp_path / "output" / "all.atom"), timeout=8)
    finally:
        service.close()


@pytest.fixture
def trickling_hub() -> Iterator[str]:
    """A hub that answers a ping with a status line and then one header byte
    every half second, for ever: no single read ever times out."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 204 No Content\r\n")
                while not stop.wait(0.5):
                    conn.sendall(b"X")
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hub"
    finally:
        stop.set()
        listener.close()


def test_a_hub_that_trickles_its_answer_does_not_hang_the_build(
    tmp_path: Path, server: Server, trickling_hub: str
) -> None:
    # Socket time-outs never fire on a hub that sends a byte now and then:
    # each ping needs a deadline of its own, or the build never ends (and
    # the service's publisher, which pings in line, never publishes again).
    url = server.add("/feed.rss", RSS.format(title="One", n=1))
    config = _build_config(tmp_path, url, trickling_hub)
    began = time.monotonic()
    try:
        done = run_cli("build", "-c", str(config))
    except subprocess.TimeoutExpired:
        pytest.fail("feeds build still waiting on the hub after 120 s")
    assert done.returncode == 0
    assert time.monotonic() - began < 30
    assert "WebSub hub" in done.stderr


def test_feeds_written_before_a_failed_publish_are_still_pinged(
    tmp_path: Path, server: Server, hub: Hub
) -> None:
    # A publish that fails part-way (a full disk, a file it cannot replace)
    # has put some feeds out already. Their subscribers must hear of them:
    # the next publish finds those files unchanged and pings nobody.
    url = server.add("/feed.rss", RSS.format(title="One", n=1))
    config = _build_config(tmp_path, url, hub.url)
    assert run_cli("build", "-c", str(config)).returncode == 0
    hub.pings.clear()
    server.add("/feed.rss", RSS.format(title="Two", n=2))
    index = tmp_path / "output" / "index.html"
    index.unlink()
    index.mkdir()  # the last file of the publish cannot be written
    assert run_cli("build", "-c", str(config)).returncode == 1
    assert "Two" in (tmp_path / "output" / "all.atom").read_text(encoding="utf-8")
    index.rmdir()
    assert run_cli("build", "-c", str(config)).returncode == 0
    pinged = {ping["hub.url"][0] for ping in hub.pings}
    assert "https://feeds.example.org/all.atom" in pinged
    assert "https://feeds.example.org/art.atom" in pinged


def _build_config(folder: Path, url: str, hub: str) -> Path:
    """config.yaml for one source at `url`, announcing to `hub`."""
    base = BASE_CONFIG + f"websub:\n  hub: {hub}\n"
    return write_config(folder, f"  - name: s\n    type: feed\n    url: {url}\n", base=base)


def _service_config(folder: Path, sources: str, hub: str) -> Path:
    """config.yaml for a service of `sources`, announcing to `hub`."""
    config = folder / "config.yaml"
    base = allowing(BASE_CONFIG + SERVICE + f"websub:\n  hub: {hub}\n", sources)
    config.write_text(base + "sources:\n" + sources, encoding="utf-8")
    return config
