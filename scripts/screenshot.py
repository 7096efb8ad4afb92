"""A screenshot of a feed file as a browser shows it through feeds.xsl.

    python scripts/screenshot.py output/all.atom shot.png [--width 1000 --height 1400]

Serves the folder of the stylesheet the feed names (its own folder, or
output/ for an archive page) on 127.0.0.1 (a free port), copies
feeds/assets/feeds.xsl there when the folder has none, points
headless Chromium at the feed's URL and writes its screenshot, then stops the
server. `--dump-dom` also prints the page Chromium built (after XSLT) on
stdout. Nothing leaves the loopback interface; the whole run is bounded by
`--timeout` (60 s).

Exit status: 0 when the PNG was written, 1 otherwise (with the reason on
stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
STYLESHEET = ROOT / "feeds" / "assets" / "feeds.xsl"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 60.0

# Browsers apply <?xml-stylesheet?> only to documents they render as XML in
# the tab. application/xml is rendered as XML everywhere; the registered
# feed types (application/atom+xml, application/rss+xml) have been offered
# as downloads or handed to feed readers by some browsers, so for a
# screenshot the feeds go out as application/xml. text/xsl is the type the
# processing instruction itself names, and Chromium loads the stylesheet
# under it (it also accepts application/xslt+xml and the XML types).
CONTENT_TYPES = {
    ".atom": "application/xml; charset=utf-8",
    ".rss": "application/xml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
}

# Headless flags that work in a container without a display, D-Bus or
# network; the profile is a fresh temporary folder added per run. The
# resolver rule keeps the browser on loopback: a feed's images and links
# to other hosts resolve to nothing instead of reaching the network.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

# Chromium (since about 143) lays a red "XSLT is being removed from this
# browser" banner over the top of every page built with XSLT. Real visitors
# see it; the screenshot leaves it out unless asked, so it shows our page.
NO_XSLT_BANNER = "--disable-features=GenerateXSLTWarningBanner"


class ScreenshotError(Exception):
    """The screenshot could not be taken; the message says why."""


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) while the block runs; yields
    the base URL, ending in a slash."""
    handler = functools.partial(_Handler, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="screenshot-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def stylesheet_folder(feed: Path) -> Path:
    """The folder of the stylesheet `feed` names in its <?xml-stylesheet?>
    (archive pages name ../../feeds.xsl), or the feed's own folder."""
    head = feed.read_bytes()[:1024]
    found = re.search(rb'<\?xml-stylesheet[^>]*href="([^"]+)"', head)
    if not found:
        return feed.parent
    return (feed.parent / found.group(1).decode()).resolve().parent


def ensure_stylesheet(folder: Path, stylesheet: Path = STYLESHEET) -> bool:
    """Copy feeds.xsl into `folder` unless it holds one; True when copied."""
    target = folder / stylesheet.name
    if target.exists():
        return False
    shutil.copyfile(stylesheet, target)
    return True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """End the process group this script started for Chromium (the launcher
    script, the browser and its helpers), and nothing else."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run_chromium(
    url: str,
    extra: Sequence[str] = (),
    *,
    chromium: str = CHROMIUM,
    timeout: float = TIMEOUT,
) -> str:
    """Run headless Chromium on `url` with `extra` flags; its stdout."""
    if not (shutil.which(chromium) or os.access(chromium, os.X_OK)):
        raise ScreenshotError(f"{chromium}: no such browser (apt-get install chromium)")
    with tempfile.TemporaryDirectory(
        prefix="feeds-chromium-", ignore_cleanup_errors=True
    ) as profile:
        command = [chromium, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *extra, url]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.communicate()
            raise ScreenshotError(f"chromium did not finish within {timeout:g} s") from None
        finally:
            # Helpers (crashpad) may outlive the browser: end the group.
            _kill_group(process)
    if process.returncode != 0:
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise ScreenshotError(
            f"chromium exited with status {process.returncode}: " + " | ".join(tail)
        )
    return stdout.decode("utf-8", "replace")


def screenshot(
    feed: Path,
    out: Path,
    *,
    width: int = 1000,
    height: int = 1400,
    dump_dom: bool = False,
    xslt_banner: bool = False,
    chromium: str = CHROMIUM,
    timeout: float = TIMEOUT,
) -> str:
    """Write a PNG of `feed` as Chromium renders it to `out`; the rendered
    DOM when `dump_dom`, else ""."""
    feed = feed.resolve()
    out = out.resolve()
    if not feed.is_file():
        raise ScreenshotError(f"{feed}: no such file")
    root = stylesheet_folder(feed)
    if not feed.is_relative_to(root):
        raise ScreenshotError(f"{feed}: its stylesheet is not in a folder above it")
    if ensure_stylesheet(root):
        sys.stderr.write(f"screenshot: copied {STYLESHEET.name} into {root}\n")
    else:
        # An older copy is used as it is: delete it to see an edited stylesheet.
        sys.stderr.write(f"screenshot: using {root / STYLESHEET.name}\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        out.unlink()
    flags = [f"--window-size={width},{height}", f"--screenshot={out}"]
    if dump_dom:
        flags.append("--dump-dom")
    if not xslt_banner:
        flags.append(NO_XSLT_BANNER)
    with serve(root) as base:
        path = quote(feed.relative_to(root).as_posix())
        dom = run_chromium(base + path, flags, chromium=chromium, timeout=timeout)
    if not out.is_file() or out.stat().st_size == 0:
        raise ScreenshotError(f"chromium wrote no screenshot to {out}")
    return dom if dump_dom else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Screenshot a feed file as a browser renders it with feeds.xsl."
    )
    parser.add_argument("feed", type=Path, help="an .atom or .rss file")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=1400)
    parser.add_argument(
        "--dump-dom", action="store_true", help="also print the rendered DOM on stdout"
    )
    parser.add_argument(
        "--xslt-banner",
        action="store_true",
        help="keep Chromium's XSLT deprecation banner, as visitors see it",
    )
    parser.add_argument("--chromium", default=CHROMIUM, help=f"browser binary ({CHROMIUM})")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds (60)")
    args = parser.parse_args(argv)
    try:
        dom = screenshot(
            args.feed,
            args.out,
            width=args.width,
            height=args.height,
            dump_dom=args.dump_dom,
            xslt_banner=args.xslt_banner,
            chromium=args.chromium,
            timeout=args.timeout,
        )
    except (ScreenshotError, OSError) as error:
        sys.stderr.write(f"screenshot: {error}\n")
        return 1
    if dom:
        sys.stdout.write(dom)
    sys.stderr.write(f"screenshot: wrote {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
