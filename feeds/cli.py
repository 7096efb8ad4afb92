"""The command line: arguments, logging, exit codes, human-readable output.

    feeds build   one full cycle: fetch every source, store, render, publish
    feeds run     the service: every source on its schedule, config reloaded live
    feeds serve   serve output/ over HTTP (ETag, 304, gzip), /healthz, /metrics
    feeds status  a table of sources from the store
    feeds check   validate config.yaml and print what it describes

Exit codes: 0 every source succeeded; 1 one or more sources failed (the
others are still published) or the store/output could not be written;
2 the config or the command line is invalid (nothing fetched or written).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import faulthandler
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

from feeds import __version__
from feeds.config import load_config, parse_config, source_url_problem
from feeds.errors import ConfigError, FeedsError, PublishError, printable
from feeds.model import ARCHIVE_DIR, Config, RunReport, Server, Source, SourceResult
from feeds.parse import SELECTOR_KEYS

if TYPE_CHECKING:
    from feeds.store import FailedPage

EXIT_OK = 0
EXIT_SOURCES_FAILED = 1
EXIT_CONFIG = 2
#: As a shell reports a command ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_CONFIG
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    try:
        config = _config_for(args)
    except ConfigError as exc:
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    _setup_logging(config, args.verbose, quiet_sources=args.command == "build" and _is_tty())
    # A crash in native code (a parser, the database driver) would end the
    # process without a word: its Python stack goes to the log instead.
    with contextlib.suppress(AttributeError, ValueError, OSError):  # no real stderr
        faulthandler.enable()
    handler = _COMMANDS[args.command]
    try:
        return handler(config, args)
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as exc:
        if _raised_by_ctrl_c(exc):
            return _interrupted()
        if isinstance(exc, FeedsError):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_SOURCES_FAILED
        if isinstance(exc, BrokenPipeError):
            # `feeds preview ... | head`: the reader left; that is not an error.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_OK
        raise


def run() -> NoReturn:
    """The `feeds` command (and `python -m feeds`): `main`, then out.

    Once a command is done its files are closed and in place, its store
    closed, its threads and worker processes ended; what the interpreter
    would still do is free every object one by one and collect the rest,
    30-45 ms of a build (a tenth of a cycle where nothing changed). So the
    process ends at once once its exit handlers have run and its streams
    are flushed; a command that left a thread or a child process running
    ends the usual way, which waits for them."""
    code = main()
    if threading.active_count() > 1 or multiprocessing.active_children():
        sys.exit(code)
    # What is registered to run at exit still runs (the log's handlers are
    # flushed so, and a coverage or profiling tool writes its data so).
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # gone, or closed
            stream.flush()
    os._exit(code)


def _interrupted() -> int:
    # What was committed stays (a build commits every few thousand items),
    # and files are replaced whole.
    print("interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _raised_by_ctrl_c(exc: BaseException) -> bool:
    """Whether an error came of handling a Ctrl-C: cleaning up after one,
    or a lock that the Ctrl-C caught half-way (Python's own Condition.wait
    can raise "release unlocked lock" so). The user interrupted the
    command; that is what to tell them, not the error it caused."""
    seen: set[int] = set()
    chain: list[BaseException | None] = [exc]
    while chain:
        cause = chain.pop()
        if cause is None or id(cause) in seen:
            continue
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        chain += (cause.__cause__, cause.__context__)
    return False


#: Where a command looks for its config when `-c` is not given (this
#: object: argparse keeps a default that is not text as it is).
DEFAULT_CONFIG = Path("config.yaml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeds",
        description="Turn news sources into clean, rubric-tagged Atom, RSS and JSON feeds.",
    )
    parser.add_argument("--version", action="version", version=f"feeds {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.add_argument(
            "-c",
            "--config",
            default=DEFAULT_CONFIG,
            type=Path,
            help="path to config.yaml (default: ./config.yaml)",
        )
        sub.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
        return sub

    build = command("build", "Run one full cycle: fetch every source, store, publish feeds.")
    build.add_argument(
        "--now",
        type=_instant,
        default=None,
        help="pretend the current time is this ISO 8601 instant (reproducible builds, tests)",
    )
    command(
        "run",
        "Run the service: fetch each source on its schedule, keep feeds fresh, "
        "reload config.yaml on change or SIGHUP, serve output/ when config has `server:`.",
    )
    serve = command("serve", "Serve output/ over HTTP with /healthz and /metrics.")
    serve.add_argument("--host", default=None, help="address to listen on (default: server.host)")
    serve.add_argument(
        "--port", type=_port, default=None, help="port to listen on (default: server.port or 8080)"
    )
    command("status", "Show each source's state from the store: health, last success, errors.")
    command(
        "rubrics",
        "Show how many items each rubric holds, and the source categories that matched "
        "no rubric (with how often), to know which aliases or rules to add.",
    )
    preview = command(
        "preview",
        "Fetch one source (from config.yaml, or given with --type and --url) and show the "
        "items it would yield, with every empty field and why; nothing is stored.",
    )
    preview.add_argument("name", nargs="?", help="a source's name in config.yaml")
    preview.add_argument("--type", dest="source_type", help="source type for an ad-hoc source")
    preview.add_argument("--url", help="URL of an ad-hoc source")
    preview.add_argument("--json", action="store_true", help="print JSON instead of a table")
    for name in SELECTOR_KEYS:
        preview.add_argument(
            f"--{name}",
            metavar="CSS",
            help=f"with --type html: the {name} selector ('css' or 'css@attr')",
        )
    command("check", "Validate config.yaml without fetching or writing anything.")
    forget = command(
        "forget",
        "Take stories out for good, by id or link: out of every feed and archive page "
        "(rewritten), and kept out when a source lists them again. Not while a service runs.",
    )
    forget.add_argument("stories", nargs="+", metavar="ID_OR_LINK", help="a story's id or link")
    retry = command(
        "retry",
        "Try the article pages of full_content sources that could not be fetched (`feeds "
        "status` lists them) again on their sources' next runs, given up or not: all of "
        "them, or those of the sources or pages named.",
    )
    retry.add_argument(
        "pages", nargs="*", metavar="SOURCE_OR_PAGE", help="a source's name or a page's URL"
    )
    return parser


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    # Schedules are reckoned up to a year on, and dates stored in UTC: an
    # instant at either end of the calendar has no room for them.
    if not _EARLIEST_NOW <= moment <= _LATEST_NOW:
        raise argparse.ArgumentTypeError(
            f"{value!r} is out of range: give a time from 1971-01-01 to 9998-12-31"
        )
    return moment


_EARLIEST_NOW = datetime(1971, 1, 1, tzinfo=UTC)
_LATEST_NOW = datetime(9999, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {port}")
    return port


def _is_tty() -> bool:
    return sys.stderr.isatty()


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for key in ("source", "status", "new"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """Log lines as text, a control character in them written as an escape:
    a stranger's words or URL, in our messages or a library's ("Redirecting
    ... -> ..."), must not act on the terminal or the journal's reader."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), lines=True)


def _setup_logging(config: Config, verbose: bool, *, quiet_sources: bool) -> None:
    """Log lines go to stderr, as text or JSON (config `log:`). On a terminal
    `feeds build` shows a progress line instead of one log line per source."""
    level = logging.DEBUG if verbose else getattr(logging, config.log_level.upper())
    if quiet_sources and not verbose:
        level = max(level, logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    if config.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _build(config: Config, args: argparse.Namespace) -> int:
    from feeds.pipeline import in_config_order, run_once

    now = args.now or datetime.now(UTC)
    progress = _Progress(len(config.sources)) if _is_tty() else None
    results: list[SourceResult] = []

    def noted(result: SourceResult) -> None:
        results.append(result)
        if progress:
            progress.step(result)

    try:
        try:
            report = run_once(config, now=now, on_result=noted)
        finally:
            if progress:
                progress.done()
    except PublishError:
        # The sources were stored (the next build publishes them): say how
        # each went before the error does.
        _print_sources(in_config_order(config, results), config.site.timezone)
        read = sum(1 for result in results if result.ok)
        print(f"{read} of {len(config.sources)} sources read and stored; feeds not published")
        raise
    _print_report(config, report)
    return EXIT_SOURCES_FAILED if report.failed else EXIT_OK


class _Progress:
    """A one-line progress bar on the terminal's stderr. A log line written
    meanwhile (a failing source's warning) replaces the bar on its line,
    and the bar is drawn again below it."""

    WIDTH = 120

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self._bar = ""
        self._lock = threading.Lock()
        self._handlers = [
            handler
            for handler in logging.getLogger().handlers
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr
        ]
        for handler in self._handlers:
            handler.setStream(_AboveTheBar(self))

    def step(self, result: SourceResult) -> None:
        self.count += 1
        width = 30
        filled = width * self.count // max(1, self.total)
        mark = "FAILED" if not result.ok else "empty" if result.health == "empty" else "ok"
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.count}/{self.total} "
        with self._lock:
            self._bar = f"{line}{result.source} {mark}"[: self.WIDTH]
            sys.stderr.write("\r" + self._bar.ljust(self.WIDTH))
            sys.stderr.flush()

    def write_above(self, text: str) -> None:
        with self._lock:
            sys.stderr.write("\r" + " " * self.WIDTH + "\r" + text)
            if self._bar and text.endswith("\n"):
                sys.stderr.write(self._bar.ljust(self.WIDTH))
            sys.stderr.flush()

    def done(self) -> None:
        for handler in self._handlers:
            handler.setStream(sys.stderr)
        with self._lock:
            self._bar = ""
            sys.stderr.write("\r" + " " * self.WIDTH + "\r")
            sys.stderr.flush()


class _AboveTheBar:
    """The log handlers' stream while a progress bar is shown."""

    def __init__(self, progress: _Progress) -> None:
        self._progress = progress

    def write(self, text: str) -> None:
        self._progress.write_above(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _print_report(config: Config, report: RunReport) -> None:
    empty = _print_sources(report.results, config.site.timezone)
    pages = sum(1 for name in report.written if name.startswith(f"{ARCHIVE_DIR}/"))
    archived = f" ({pages} of them in {ARCHIVE_DIR}/)" if pages else ""
    waiting = sum(1 for result in report.results if result.waiting_until is not None)
    ok = len(report.results) - len(report.failed) - empty - waiting
    others = f", {empty} empty" if empty else ""
    others += f", {waiting} waiting" if waiting else ""
    print(
        f"{ok} of {len(report.results)} sources ok{others}; "
        f"{len(report.written)} files written{archived}, {report.unchanged} unchanged "
        f"in {config.output_dir}"
    )


def _print_sources(results: Sequence[SourceResult], zone: str) -> int:
    """A line per source, failures last (on stderr); returns how many
    came back empty."""
    empty = 0
    for result in results:
        if result.waiting_until is not None:
            print(
                f"wait   {result.source}: not fetched: its server asked for no request "
                f"before {_when(result.waiting_until, zone)} (Retry-After)"
            )
        elif result.ok:
            state = "not modified" if result.not_modified else f"{result.items} items"
            # A source that had items and now yields none has most likely
            # changed its layout: not a quiet success.
            mark = "empty " if result.health == "empty" else "ok    "
            empty += result.health == "empty"
            print(
                f"{mark} {result.source}: {state}, {result.new} new, "
                f"{result.updated} updated ({result.seconds:.2f} s)"
            )
    for result in results:
        if not result.ok:
            print(f"FAILED {result.error}", file=sys.stderr)
    return empty


def _check(config: Config, args: argparse.Namespace) -> int:
    print(f"{config.path}: ok")
    print(f"  site: {config.site.title} <{config.site.base_url}>")
    print(f"  rubrics: {', '.join(r.slug for r in config.rubrics) or '(none)'}")
    print(f"  sources: {len(config.sources)}")
    for source in config.sources:
        print(f"    {source.name} ({source.type}): {source.location}")
        if source.path is not None and not source.path.is_file():
            # Not an error: another program may write it before the first run.
            print(f"      warning: {source.path} is not a file (yet): the source will fail")
    return EXIT_OK


def _run(config: Config, args: argparse.Namespace) -> int:
    from feeds.scheduler import Service

    def announce(url: str) -> None:
        print(f"serving {url} (index: {url}index.html); Ctrl-C stops", flush=True)

    code = Service(args.config, config, on_serving=announce).run()
    _deaf_to_stop_signals()
    return code


def _deaf_to_stop_signals() -> None:
    """Once stopped, Ctrl-C pressed again or a supervisor's second SIGTERM
    must not end the exit itself by the signal: the interpreter's teardown
    puts the default handlers back, and one arriving then killed the
    process (130 or 143, not 0)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _serve(config: Config, args: argparse.Namespace) -> int:
    from feeds.scheduler import serve_settings
    from feeds.serve import create_app, serve_forever

    server = config.server or Server()
    host = args.host or server.host
    port = server.port if args.port is None else args.port
    settings = serve_settings(config)

    def announce(bound: int) -> None:  # once the address is ours, not before
        # The warning first: whoever acts on the "serving" line (a test,
        # a script that stops the server again) has been told already.
        if not _has_files(config.output_dir):
            print(
                f"warning: {config.output_dir} holds no feeds yet, so every address answers "
                "404: run 'feeds build' (or 'feeds run') with this config to make them",
                file=sys.stderr,
                flush=True,
            )
        print(f"serving {config.output_dir} at http://{host}:{bound}/", flush=True)

    def stopped(signum: int, frame: object) -> None:
        # uvicorn shuts down gracefully, then raises the signal it caught
        # again: a clean exit, not death by SIGTERM. Deaf to more first:
        # one that broke off the `finally` below kept this handler, which
        # the interpreter's teardown turns back into the default, and the
        # next signal of a burst killed the process (-15).
        _deaf_to_stop_signals()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        sys.exit(EXIT_OK)

    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGINT, stopped)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            serve_forever(create_app(lambda: settings), host, port, announce)
    finally:
        _deaf_to_stop_signals()
    return EXIT_OK


def _has_files(folder: Path) -> bool:
    try:
        return any(entry.is_file() for entry in folder.iterdir())
    except OSError:
        return False


#: Seconds `feeds status` and `feeds rubrics` wait for a store another
#: process holds whole (readers of a WAL store wait for no writer): they
#: waited 30 s, then said "database is locked".
LOOK_WAIT = 5.0


def _status(config: Config, args: argparse.Namespace) -> int:
    from feeds.store import Store, no_store_yet

    zone = config.site.timezone
    states = {}
    pages: list[FailedPage] = []
    if not no_store_yet(config.storage_url):  # else every source is "never fetched"
        with Store(config.storage_url, read_only=True, wait=LOOK_WAIT) as store:
            states = {state.name: state for state in store.source_states()}
            pages = store.failed_pages()
    rows = [("SOURCE", "STATE", "LAST SUCCESS", "ITEMS", "NEXT DUE", "LAST ERROR")]
    for source in config.sources:
        state = states.get(source.name)
        if state is None or state.last_attempt is None:
            rows.append((source.name, "never fetched", "-", "-", "-", ""))
            continue
        health = state.health or "ok"
        if state.failures:
            health = f"{health} ({state.failures}x)"
        paused = bool(state.gone_url) and state.gone_url == source.location
        rows.append(
            (
                source.name,
                health,
                _when(state.last_success, zone),
                str(state.last_items) if state.last_success else "-",
                # Not fetched again until its url changes in config.yaml.
                "paused" if paused else _when(state.next_due, zone),
                # Whole (the last column): its end says what went wrong.
                state.last_error.removeprefix(f"source '{source.name}': ")
                or _moved(state.moved_to),
            )
        )
    # Taken out of config.yaml: never fetched again, but its stories stay in
    # the feeds, so the store still answers for it.
    configured = {source.name for source in config.sources}
    for name, state in states.items():
        if name not in configured:
            last = str(state.last_items) if state.last_success else "-"
            rows.append((name, "not in config", _when(state.last_success, zone), last, "-", ""))
    _table(rows)
    if pages:
        _failed_pages(pages, zone)
    return EXIT_OK


def _failed_pages(pages: list[FailedPage], zone: str) -> None:
    """The article pages of `full_content` sources that could not be
    fetched: those still to be tried, and those given up (their stories
    keep the source's text)."""
    from feeds.timing import PAGE_TRIES

    print()
    print(f"Article pages not fetched (full_content; each is tried on {PAGE_TRIES} runs):")
    _table(
        [
            ("SOURCE", "PAGE", "TRIES", "LAST TRY", "LAST ERROR"),
            *(
                (
                    page.source or "-",
                    printable(page.url),
                    f"{page.tries}, given up" if page.tries >= PAGE_TRIES else str(page.tries),
                    _when(page.last_try, zone),
                    printable(page.error),
                )
                for page in pages
            ),
        ]
    )
    print("`feeds retry` tries them again on their sources' next runs.")


def _rubrics(config: Config, args: argparse.Namespace) -> int:
    from feeds.classify import Vocabulary
    from feeds.model import category_key
    from feeds.store import Store, no_store_yet

    counts: dict[str, int] = {}
    categories: dict[str, int] = {}
    waiting: dict[str, int] = {}
    total = 0
    vocabulary = Vocabulary.of(config.rubrics)
    if not no_store_yet(config.storage_url):  # else nothing is stored yet
        with Store(config.storage_url, read_only=True, wait=LOOK_WAIT) as store:
            counts = store.rubric_counts()
            categories = store.category_counts(category_key)
            waiting = store.waiting_for_rubrics(vocabulary.slugs_for)
            total = store.count()
    rows = [("RUBRIC", "TITLE", "ITEMS")]
    rows += [(r.slug, r.title, str(counts.get(r.slug, 0))) for r in config.rubrics]
    rows.append(("(all)", config.site.title, str(total)))
    _table(rows)
    for slug, count in sorted(waiting.items()):
        print(
            f"{slug}: {count} stored {'item carries' if count == 1 else 'items carry'} a "
            "category that maps to it now; those their source still lists join it when it "
            "is next read (its next fetch in the service, or the next feeds build)"
        )
    unmatched = sorted(
        ((n, name) for name, n in categories.items() if vocabulary.slug_for(name) is None),
        key=lambda pair: (-pair[0], pair[1].casefold()),
    )
    # Filed under a broader level than they name ("Культура / Интервью").
    broader: list[tuple[int, str, str, tuple[str, ...]]] = []
    for name, n in categories.items():
        finer = vocabulary.finer_levels(name)
        filed = vocabulary.slug_for(name) if finer else None
        if filed is not None:
            broader.append((n, name, filed, finer))
    broader.sort(key=lambda row: (-row[0], row[1].casefold()))
    print()
    if not total:
        print("Nothing is stored yet: run `feeds build` (or the service) first.")
        return EXIT_OK
    if not unmatched:
        print("Every source category maps to a rubric.")
    else:
        print("Source categories that match no rubric (add them as aliases, or write a rule):")
        _table([("ITEMS", "CATEGORY"), *((str(n), name) for n, name in unmatched)])
    if broader:
        print()
        print(
            "Nested categories filed under a broader level (an alias for the finer one "
            "files them under its own rubric):"
        )
        _table(
            [
                ("ITEMS", "CATEGORY", "RUBRIC", "UNMATCHED"),
                *((str(n), name, slug, " / ".join(finer)) for n, name, slug, finer in broader),
            ]
        )
    return EXIT_OK


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())


#: The config of `feeds preview --type T --url U` run where there is none.
_PREVIEW_CONFIG = "site:\n  title: preview\n  base_url: https://localhost/\n  timezone: UTC\n"


def _config_for(args: argparse.Namespace) -> Config:
    """The config a command runs with. Raises ConfigError.

    Nothing of a config is needed to look at one URL (`feeds preview --type
    T --url U` with no `-c`): outside a site's folder it is read with UTC,
    no rubrics and no private addresses (it said "config.yaml: no such
    file"); and in a folder whose config.yaml is broken (being edited),
    so too, with the config's problems shown as warnings."""
    ad_hoc = (
        args.command == "preview"
        and not args.name
        and bool(args.url)
        and args.config is DEFAULT_CONFIG  # not given: an explicit one must be right
    )
    if not ad_hoc:
        return load_config(args.config)
    if args.config.exists():
        try:
            return load_config(args.config)
        except ConfigError as exc:
            for line in exc.lines():
                print(f"warning: {line}", file=sys.stderr)
            print(
                "warning: previewing without config.yaml: UTC, no rubrics, no private addresses",
                file=sys.stderr,
            )
    # Read as if in a folder of its own: nothing here (a file named output,
    # say) is any concern of a preview, which writes nothing.
    with tempfile.TemporaryDirectory(prefix="feeds-preview-") as place:
        return parse_config(_PREVIEW_CONFIG, Path(place) / "config.yaml")


def _preview(config: Config, args: argparse.Namespace) -> int:
    from feeds.parse import SOURCE_TYPES
    from feeds.pipeline import preview_source

    if args.name:
        source = next((s for s in config.sources if s.name == args.name), None)
        if source is None:
            known = ", ".join(s.name for s in config.sources) or "none"
            print(
                f"error: no source named {args.name!r} in {config.path}; known: {known}",
                file=sys.stderr,
            )
            return EXIT_CONFIG
    elif args.url and args.source_type in SOURCE_TYPES:
        selectors = tuple(
            (name, getattr(args, name)) for name in SELECTOR_KEYS if getattr(args, name)
        )
        if selectors and args.source_type != "html":
            print("error: selectors go with --type html", file=sys.stderr)
            return EXIT_CONFIG
        if selectors and not args.item:
            print("error: selectors need --item, the selector of each item", file=sys.stderr)
            return EXIT_CONFIG
        problem = source_url_problem(args.url)
        if problem:
            print(f"error: --url: {problem}", file=sys.stderr)
            return EXIT_CONFIG
        source = Source(name="preview", type=args.source_type, url=args.url, selectors=selectors)
    else:
        print(
            f"error: give a source name, or --type (one of {', '.join(SOURCE_TYPES)}) and --url",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    preview = preview_source(config, source, now=datetime.now(UTC))
    if args.json:
        zone = ZoneInfo(config.site.timezone)
        print(json.dumps(_preview_json(preview, zone), ensure_ascii=False, indent=2))
    else:
        _print_preview(config, preview)
    return EXIT_SOURCES_FAILED if preview.error else EXIT_OK


def _preview_json(preview: Any, zone: ZoneInfo) -> dict[str, object]:
    """Dates in the site's zone, as the table and the feeds give them."""

    def local(moment: datetime | None) -> str | None:
        return moment.astimezone(zone).isoformat() if moment else None

    return {
        "source": preview.source.name,
        "error": preview.error,
        "dropped_by_filters": preview.dropped,
        "notes": list(preview.notes),
        "items": [
            {
                "number": number,
                "id": item.id,
                "title": item.title,
                "link": item.link,
                "published": local(item.published),
                "updated": local(item.updated),
                "author": item.author,
                "rubrics": list(item.rubrics),
                "categories": list(item.categories),
                "series": item.series,
                "views": item.views,
                "summary": item.summary,
            }
            for number, item in zip(preview.numbers, preview.items, strict=True)
        ],
    }


def _print_preview(config: Config, preview: Any) -> None:
    if preview.error:
        print(f"FAILED {preview.error}", file=sys.stderr)
        return
    zone = ZoneInfo(config.site.timezone)
    rows = [("#", "DATE", "RUBRICS", "TITLE")]
    for number, item in zip(preview.numbers, preview.items, strict=True):
        when = item.published.astimezone(zone).strftime("%Y-%m-%d %H:%M") if item.published else "-"
        # Shortened for the table only, and marked so: the feed has it whole.
        title = item.title if len(item.title) <= 90 else item.title[:89] + "…"
        rows.append((str(number), when, ",".join(item.rubrics) or "-", title))
    _table(rows)
    print(f"\n{len(preview.items)} items from {preview.source.location}", end="")
    print(f"; {preview.dropped} dropped by filters" if preview.dropped else "")
    for note in preview.notes:
        print(f"  {note}")


def _forget(config: Config, args: argparse.Namespace) -> int:
    from feeds.pipeline import forget_stories

    forgotten, missing, written = forget_stories(config, args.stories, now=datetime.now(UTC))
    for story in forgotten:
        pages = len(story.pages)
        if story.before:
            print(f"forgotten before: {printable(story.id)} ({printable(story.title)})")
            continue
        print(
            f"forgotten: {printable(story.id)} ({printable(story.title)}); "
            f"out of {', '.join(story.feeds) or 'no feed'}"
            + (f" and {pages} archive page{'s' if pages != 1 else ''}" if pages else "")
        )
    for key in missing:
        print(f"no stored story has the id or link {printable(key)}", file=sys.stderr)
    if forgotten:
        print(f"{len(written)} files written in {config.output_dir}")
    return EXIT_SOURCES_FAILED if missing else EXIT_OK


def _retry(config: Config, args: argparse.Namespace) -> int:
    from feeds.store import Store, no_store_yet

    keys: list[str] = args.pages
    pages: list[FailedPage] = []
    if not no_store_yet(config.storage_url):
        with Store(config.storage_url) as store, store.transaction():
            pages = store.retry_pages(keys)
    for page in pages:
        print(
            f"tried again on the next run of {printable(page.source or '-')}: "
            f"{printable(page.url)} (after {page.tries} failed: {printable(page.error)})"
        )
    missing = [key for key in keys if not any(key in (page.source, page.url) for page in pages)]
    for key in missing:
        print(
            f"no article page that failed is {printable(key)} or of a source so named",
            file=sys.stderr,
        )
    if not keys and not pages:
        print("no article page failed: nothing to try again")
    return EXIT_SOURCES_FAILED if missing else EXIT_OK


def _moved(url: str) -> str:
    return f"moved permanently to {printable(url)}: update its url" if url else ""


def _when(moment: datetime | None, zone: str) -> str:
    """A time as an operator reads it: in the site's time zone, the one
    its crons and dates are in (`feeds preview` shows dates so too), with
    the zone's name."""
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


_COMMANDS = {
    "build": _build,
    "run": _run,
    "serve": _serve,
    "status": _status,
    "rubrics": _rubrics,
    "preview": _preview,
    "check": _check,
    "forget": _forget,
    "retry": _retry,
}
