"""Serve a benchmark workload folder on 127.0.0.1 as static files.

    with serve(folder) as base_url:          # "http://127.0.0.1:PORT/"
        ...
    with serving(folder) as server:          # the same, plus server.kind
        ...

nginx from the distribution when it is installed (a minimal config written
to a temporary folder: `daemon off; master_process off`, logs and temp paths
inside that folder, `etag on`), else a standard-library ThreadingHTTPServer.
Both send an ETag and Last-Modified for every file and answer
If-None-Match / If-Modified-Since with a bodiless 304, as a real feed host
does, so a second `feeds build` costs no transfer. `.xml` is served as
`application/xml` without a charset: a windows-1251 feed is declared by its
XML declaration alone.

    python -m bench.server FOLDER        serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {".xml": "application/xml", ".json": "application/json"}


@dataclass(frozen=True)
class Server:
    """A running server: its base URL, what it is, and how to stop it."""

    url: str
    kind: str
    access_log: Path | None = None


@contextlib.contextmanager
def serve(folder: Path, *, prefer_nginx: bool = True) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 while the block runs; yields the base URL."""
    with serving(folder, prefer_nginx=prefer_nginx) as server:
        yield server.url


@contextlib.contextmanager
def serving(folder: Path, *, prefer_nginx: bool = True) -> Iterator[Server]:
    """Serve `folder` on 127.0.0.1 while the block runs; yields the Server."""
    folder = Path(folder).resolve()
    nginx = nginx_binary() if prefer_nginx else None
    if nginx is not None:
        with tempfile.TemporaryDirectory(prefix="bench-nginx-") as workdir:
            proc, port = _start_nginx(nginx, Path(workdir), folder)
            if proc is not None:
                try:
                    yield Server(
                        url=f"http://127.0.0.1:{port}/",
                        kind=f"nginx ({_nginx_version(nginx)})",
                        access_log=Path(workdir) / "access.log",
                    )
                finally:
                    _stop_process(proc)
                return
    with _python_server(folder) as server:
        yield server


# -- nginx -------------------------------------------------------------------


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def _nginx_version(nginx: str) -> str:
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10)
    match = re.search(r"nginx/(\S+)", result.stderr)
    return f"nginx/{match.group(1)}" if match else "nginx"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _nginx_conf(workdir: Path, folder: Path, port: int) -> str:
    temps = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    types = "\n".join(f"        {kind} {ext[1:]};" for ext, kind in CONTENT_TYPES.items())
    return f"""\
daemon off;
master_process off;
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
worker_rlimit_nofile 4096;
events {{
    worker_connections 1024;
}}
http {{
    types {{
{types}
    }}
    default_type application/octet-stream;
    access_log {workdir / "access.log"};
{temps}
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    etag on;
    if_modified_since before;
    server {{
        listen 127.0.0.1:{port} backlog=512;
        root "{folder}";
        autoindex off;
        location / {{
        }}
    }}
}}
"""


def _start_nginx(
    nginx: str, workdir: Path, folder: Path
) -> tuple[subprocess.Popen[bytes] | None, int]:
    """nginx serving `folder` on a free port, or (None, 0) when it will not
    start (the caller falls back to the Python server)."""
    deadline = time.monotonic() + 10
    for _attempt in range(3):  # another process may take the port first
        port = _free_port()
        (workdir / "error.log").unlink(missing_ok=True)
        conf = workdir / "nginx.conf"
        conf.write_text(_nginx_conf(workdir, folder, port), encoding="utf-8")
        with (workdir / "stderr.log").open("ab") as log:
            proc = subprocess.Popen(
                [nginx, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        if _wait_ready(proc, workdir, port, deadline):
            return proc, port
        _stop_process(proc)
    return None, 0


def _wait_ready(proc: subprocess.Popen[bytes], workdir: Path, port: int, deadline: float) -> bool:
    """True once this nginx wrote its pid file (it does so after binding)
    and accepts connections; False when it exits or fails to bind."""
    pid_file = workdir / "nginx.pid"
    error_log = workdir / "error.log"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if error_log.exists() and "bind() to 127.0.0.1" in error_log.read_text(errors="replace"):
            return False
        try:
            if pid_file.read_text().strip() == str(proc.pid):
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the standard-library fallback -------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """GET and HEAD of static files with ETag (size + mtime), Last-Modified
    (mtime) and 304 answers to If-None-Match / If-Modified-Since."""

    protocol_version = "HTTP/1.1"
    server_version = "bench-static"
    root: Path = Path(".")

    def do_GET(self) -> None:
        self._respond(body=True)

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _respond(self, *, body: bool) -> None:
        path = self._file()
        if path is None:
            self._empty(HTTPStatus.NOT_FOUND)
            return
        stat = path.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": last_modified}
        if self._not_modified(etag, stat.st_mtime):
            self._empty(HTTPStatus.NOT_MODIFIED, headers)
            return
        self.send_response(HTTPStatus.OK)
        kind = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(stat.st_size))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            with path.open("rb") as handle:
                shutil.copyfileobj(handle, self.wfile, 256 * 1024)

    def _file(self) -> Path | None:
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        if any(part in ("", ".", "..") or part.startswith(".") for part in relative.split("/")):
            return None
        path = self.root / relative
        return path if path.is_file() else None

    def _not_modified(self, etag: str, mtime: float) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:
            tags = [tag.strip().removeprefix("W/") for tag in match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                moment = email.utils.parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return int(mtime) <= moment.timestamp()
        return False

    def _empty(self, status: HTTPStatus, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", "0")
        self.end_headers()


class _Threading(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


@contextlib.contextmanager
def _python_server(folder: Path) -> Iterator[Server]:
    handler = type("_FolderHandler", (_Handler,), {"root": folder})
    httpd = _Threading(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="bench-server", daemon=True)
    thread.start()
    try:
        yield Server(url=f"http://127.0.0.1:{httpd.server_address[1]}/", kind="python http.server")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so `serving` stops the nginx it started
    (otherwise it would outlive a killed benchmark, holding its port)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--python", action="store_true", help="use the Python server, not nginx")
    args = parser.parse_args(argv)
    with serving(args.folder, prefer_nginx=not args.python) as server:
        print(f"serving {args.folder} at {server.url} with {server.kind}; Ctrl-C stops", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
