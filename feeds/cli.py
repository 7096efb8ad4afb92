"""The command line: arguments, logging, exit codes, human-readable output.

    feeds build   one full cycle: fetch every source, store, render, publish
    feeds check   validate config.yaml and print what it describes

Exit codes: 0 every source succeeded; 1 one or more sources failed (the
others are still published) or the store/output could not be written;
2 the config or the command line is invalid (nothing fetched or written).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from feeds import __version__
from feeds.config import load_config
from feeds.errors import ConfigError, FeedsError
from feeds.model import Config, RunReport

EXIT_OK = 0
EXIT_SOURCES_FAILED = 1
EXIT_CONFIG = 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_CONFIG
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    _setup_logging(args.verbose)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    handler = _COMMANDS[args.command]
    try:
        return handler(config, args)
    except FeedsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SOURCES_FAILED


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
            default="config.yaml",
            type=Path,
            help="path to config.yaml (default: ./config.yaml)",
        )
        sub.add_argument("-v", "--verbose", action="store_true", help="log every source's outcome")
        return sub

    build = command("build", "Run one full cycle: fetch every source, store, publish feeds.")
    build.add_argument(
        "--now",
        type=_instant,
        default=None,
        help="pretend the current time is this ISO 8601 instant (reproducible builds, tests)",
    )
    command("check", "Validate config.yaml without fetching or writing anything.")
    return parser


def _instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )


def _build(config: Config, args: argparse.Namespace) -> int:
    from feeds.pipeline import run_once

    now = args.now or datetime.now(UTC)
    report = run_once(config, now=now)
    _print_report(config, report)
    return EXIT_SOURCES_FAILED if report.failed else EXIT_OK


def _print_report(config: Config, report: RunReport) -> None:
    for result in report.results:
        if result.ok:
            state = "not modified" if result.not_modified else f"{result.items} items"
            print(
                f"ok     {result.source}: {state}, {result.new} new, "
                f"{result.updated} updated ({result.seconds:.2f} s)"
            )
    for result in report.failed:
        print(f"FAILED {result.error}", file=sys.stderr)
    print(
        f"{len(report.results) - len(report.failed)} of {len(report.results)} sources ok; "
        f"{len(report.written)} files written, {report.unchanged} unchanged in {config.output_dir}"
    )


def _check(config: Config, args: argparse.Namespace) -> int:
    print(f"{config.path}: ok")
    print(f"  site: {config.site.title} <{config.site.base_url}>")
    print(f"  rubrics: {', '.join(r.slug for r in config.rubrics) or '(none)'}")
    print(f"  sources: {len(config.sources)}")
    for source in config.sources:
        print(f"    {source.name} ({source.type}): {source.location}")
    return EXIT_OK


_COMMANDS = {"build": _build, "check": _check}
