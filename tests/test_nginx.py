"""deploy/nginx.conf under a real nginx: content types, validators and 304s,
gzip, caching, hidden temporaries. The server block is included verbatim;
only its `listen` and `root` lines are substituted, as an operator would."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT

SERVER_BLOCK = ROOT / "deploy" / "nginx.conf"
LISTEN = "listen 8080;"
ROOT_LINE = "root /srv/feeds/output;"
MTIME = 1_700_000_000  # a fixed past modification time for every sample file
IDENTITY = {"Accept-Encoding": "identity"}


def _nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def _mime_types(nginx: str) -> Path | None:
    """The distribution's mime.types, next to nginx's compiled-in conf path."""
    info = subprocess.run([nginx, "-V"], capture_output=True, text=True, timeout=10).stderr
    match = re.search(r"--conf-path=(\S+)", info)
    folder = Path(match.group(1)).parent if match else Path("/etc/nginx")
    candidate = folder / "mime.types"
    return candidate if candidate.is_file() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sample_files(output: Path) -> None:
    entries = "".join(
        f"<entry><id>urn:test:{n}</id><title>Заголовок {n}</title>"
        f"<updated>2024-01-01T00:00:00Z</updated><summary>Текст новости номер {n}.</summary>"
        "</entry>\n"
        for n in range(40)
    )
    files = {
        "all.atom": '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Все</title>\n' + entries + "</feed>\n",
        "all.rss": '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0"><channel><title>Все</title></channel></rss>\n',
        "all.json": '{"version": "https://jsonfeed.org/version/1.1", "title": "Все"}\n',
        "feeds.opml": '<?xml version="1.0" encoding="utf-8"?>\n'
        '<opml version="2.0"><head><title>Все</title></head><body/></opml>\n',
        "feed.xsl": '<?xml version="1.0" encoding="utf-8"?>\n'
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n',
        "index.html": "<!doctype html><title>Ленты</title><h1>index page</h1>\n",
        ".feeds-x.tmp": "<feed>half written",
        ".feeds-x.atom": "<feed>half written",
    }
    for name, text in files.items():
        path = output / name
        path.write_text(text, encoding="utf-8")
        os.utime(path, (MTIME, MTIME))
    (output / "sub").mkdir()
    (output / "archive" / "all").mkdir(parents=True)
    (output / "archive" / "all" / "1.atom").write_text(files["all.atom"], encoding="utf-8")
    (output / "archive" / "all" / ".feeds-y.tmp").write_text("<feed>half", encoding="utf-8")


@dataclass
class Nginx:
    url: str
    client: httpx.Client


def _start(nginx: str, workdir: Path, output: Path, port: int) -> subprocess.Popen[bytes]:
    block = SERVER_BLOCK.read_text(encoding="utf-8")
    block = block.replace(LISTEN, f"listen 127.0.0.1:{port};").replace(
        ROOT_LINE, f'root "{output}";'
    )
    mime = _mime_types(nginx)
    temps = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"daemon off;\n"
        f"master_process off;\n"
        f"pid {workdir / 'nginx.pid'};\n"
        f"error_log {workdir / 'error.log'} info;\n"
        f"events {{}}\n"
        f"http {{\n"
        f"    {f'include {mime};' if mime else ''}\n"
        f"    access_log {workdir / 'access.log'};\n"
        f"{temps}\n"
        f"{block}\n"
        f"}}\n",
        encoding="utf-8",
    )
    log = (workdir / "stderr.log").open("ab")
    try:
        return subprocess.Popen(
            [nginx, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")],
            stdout=log,
            stderr=log,
        )
    finally:
        log.close()


def _wait_ready(proc: subprocess.Popen[bytes], workdir: Path, port: int, deadline: float) -> bool:
    """True once this nginx has bound its port (it writes its pid file only
    after that) and accepts connections; False as soon as it exits or
    reports a failed bind (it would retry for 2.5 s), or at the deadline."""
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


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    binary = _nginx_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is required in CI: .ci/run installs it")
        pytest.skip(
            "nginx is not installed (apt-get install nginx-light): deploy/nginx.conf untested"
        )
    workdir = tmp_path_factory.mktemp("nginx")
    output = workdir / "output"
    output.mkdir()
    _sample_files(output)
    (workdir / "secret.txt").write_text("password: hunter2")
    (output / "leak.atom").symlink_to(workdir / "secret.txt")

    proc = None
    port = 0
    deadline = time.monotonic() + 5
    for _attempt in range(2):  # a second try if another process took the port
        port = _free_port()
        (workdir / "error.log").unlink(missing_ok=True)
        proc = _start(binary, workdir, output, port)
        if _wait_ready(proc, workdir, port, deadline):
            break
        _stop(proc)
    else:
        log = (workdir / "error.log").read_text(errors="replace")
        pytest.fail(f"nginx did not start:\n{log}")
    assert proc is not None
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=5)
    try:
        yield Nginx(url=f"http://127.0.0.1:{port}", client=client)
    finally:
        client.close()
        _stop(proc)


def test_the_block_has_exactly_one_listen_and_one_root_line() -> None:
    text = SERVER_BLOCK.read_text(encoding="utf-8")
    assert text.count(LISTEN) == 1
    assert text.count(ROOT_LINE) == 1
    code = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    assert [line for line in code if line.startswith("listen")] == [LISTEN]
    assert [line for line in code if line.startswith("root")] == [ROOT_LINE]


def test_the_readme_shows_the_same_directives() -> None:
    text = SERVER_BLOCK.read_text(encoding="utf-8")
    directives = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Production serving with nginx") :]
    start = section.index("    map ")
    end = section.index("\n    }\n", section.index("    server {\n", start)) + 6
    shown = section[start:end].splitlines()
    assert [line.removeprefix("    ") for line in shown] == directives


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/all.atom", "application/atom+xml"),
        ("/all.rss", "application/rss+xml"),
        ("/all.json", "application/feed+json"),
        ("/feeds.opml", "text/x-opml"),
        ("/feed.xsl", "application/xslt+xml"),
        ("/index.html", "text/html"),
    ],
)
def test_content_type_with_utf8_charset(nginx: Nginx, path: str, media_type: str) -> None:
    response = nginx.client.get(path, headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.headers["etag"]
    assert response.headers["last-modified"] == formatdate(MTIME, usegmt=True)
    assert "max-age=300" in response.headers["cache-control"]


def test_if_none_match_gets_304(nginx: Nginx) -> None:
    first = nginx.client.get("/all.rss", headers=IDENTITY)
    etag = first.headers["etag"]
    again = nginx.client.get("/all.rss", headers={**IDENTITY, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_if_modified_since_gets_304(nginx: Nginx) -> None:
    first = nginx.client.get("/all.json", headers=IDENTITY)
    since = first.headers["last-modified"]
    again = nginx.client.get("/all.json", headers={**IDENTITY, "If-Modified-Since": since})
    assert again.status_code == 304
    older = formatdate(MTIME - 3600, usegmt=True)
    changed = nginx.client.get("/all.json", headers={**IDENTITY, "If-Modified-Since": older})
    assert changed.status_code == 200


def test_gzip_for_a_large_feed_and_its_weak_etag_still_revalidates(nginx: Nginx) -> None:
    response = nginx.client.get("/all.atom", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert len(response.content) > 1024
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert response.text.startswith("<?xml")  # httpx decoded it
    etag = response.headers["etag"]
    again = nginx.client.get(
        "/all.atom", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304


def test_small_files_are_not_compressed(nginx: Nginx) -> None:
    response = nginx.client.get("/all.rss", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers


def test_hidden_temporary_files_are_never_served(nginx: Nginx) -> None:
    assert nginx.client.get("/.feeds-x.tmp").status_code == 404
    assert nginx.client.get("/sub/.hidden").status_code == 404


def test_a_symbolic_link_out_of_the_folder_is_not_followed(nginx: Nginx) -> None:
    answer = nginx.client.get("/leak.atom")
    assert answer.status_code == 403
    assert b"hunter2" not in answer.content


def test_archive_pages_are_cached_for_a_year_and_current_feeds_for_minutes(nginx: Nginx) -> None:
    page = nginx.client.get("/archive/all/1.atom", headers=IDENTITY)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "max-age=31536000"
    assert page.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert nginx.client.get("/all.atom").headers["cache-control"] == "max-age=300"
    assert nginx.client.get("/archive/all/.feeds-y.tmp").status_code == 404
    assert nginx.client.get("/archive/all/2.atom").status_code == 404


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/all.atom", "/all.rss", "/archive/all/1.atom"])
def test_browsers_get_feeds_as_xml_so_the_stylesheet_applies(nginx: Nginx, path: str) -> None:
    """What `feeds serve` does: a browser (text/html first) gets
    application/xml, which it runs feeds.xsl on; a feed reader gets the
    feed's own type; caches are told the two differ."""
    reader = nginx.client.get(path, headers={**IDENTITY, "Accept": "application/atom+xml"})
    browser = nginx.client.get(path, headers={**IDENTITY, "Accept": BROWSER})
    assert browser.status_code == reader.status_code == 200
    assert browser.content == reader.content
    assert browser.headers["content-type"] == "application/xml; charset=utf-8"
    kind = "rss" if path.endswith(".rss") else "atom"
    assert reader.headers["content-type"] == f"application/{kind}+xml; charset=utf-8"
    for response in (browser, reader):
        assert "Accept" in [v.strip() for v in response.headers.get_list("vary")]
        assert response.headers["cache-control"] == (
            "max-age=31536000" if "/archive/" in path else "max-age=300"
        )
    again = nginx.client.get(
        path, headers={**IDENTITY, "Accept": BROWSER, "If-None-Match": browser.headers["etag"]}
    )
    assert again.status_code == 304


def test_a_hidden_feed_file_is_not_served_to_browsers_either(nginx: Nginx) -> None:
    assert nginx.client.get("/.feeds-x.atom", headers={"Accept": BROWSER}).status_code == 404


def test_root_serves_the_index_and_folders_are_not_listed(nginx: Nginx) -> None:
    response = nginx.client.get("/", headers=IDENTITY)
    assert response.status_code == 200
    assert "index page" in response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert nginx.client.get("/sub/").status_code in (403, 404)
