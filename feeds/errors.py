"""The one exception family of feeds. Pure: no I/O, imports nothing of ours.

    FeedsError
    ├── ConfigError          config.yaml is unreadable or invalid (exit code 2)
    ├── SourceError          one source failed; the run goes on without it
    │   ├── FetchError       the network or the input file
    │   └── ParseError       the body is not what the source type expects
    ├── StoreError           the database
    ├── PublishError         writing into output/
    └── ServeError           the HTTP server cannot listen

Every error keeps its facts as attributes and builds its message from them,
ordered where, what, detail.
"""

from __future__ import annotations

import os
import re


def printable(text: str, *, lines: bool = False) -> str:
    """`text` with its control characters written as escapes (ESC as
    ``\\x1b``): a source's words (an HTTP reason phrase, a server's error,
    a URL it redirects to) reach terminals, logs and `feeds status`, where
    an escape sequence would act (retitle the window, clear the screen,
    set the clipboard). `lines`: line breaks and tabs stay."""
    control = _CONTROL_IN_LINES if lines else _CONTROL
    if control.search(text) is None:
        return text
    return control.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class FeedsError(Exception):
    """Root of every error that feeds reports to an operator."""


class ConfigError(FeedsError):
    """config.yaml is missing, malformed or invalid.

    `path` is the config file, `line` the 1-based line (0 when unknown) and
    `key` the dotted key path such as ``sources[2].url``.
    """

    def __init__(
        self,
        path: str,
        line: int,
        key: str,
        detail: str,
        *,
        source: str = "",
        others: tuple[ConfigError, ...] = (),
    ) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.detail = detail
        #: The name of the source the key is in, when it has one yet, as
        #: the message shows it.
        self.source = printable(source)
        where = f"{path}:{line}" if line else path
        named = f" (source '{self.source}')" if source else ""
        what = f" {key}{named}:" if key else ""
        #: This problem alone, as one line.
        self.message = f"{where}:{what} {detail}"
        #: Every problem found, this one first (the check goes on past a
        #: broken source, so that one run names the problems of them all).
        self.problems: tuple[ConfigError, ...] = (self, *others)
        more = f" (and {len(others)} more)" if others else ""
        super().__init__(self.message + more)

    def lines(self, most: int = 20) -> list[str]:
        """A line for each problem, the first `most` of them (after a bulk
        edit gone wrong, a key misspelt in every source, the first ones
        tell what to fix), then how many more."""
        shown = [problem.message for problem in self.problems[:most]]
        hidden = len(self.problems) - len(shown)
        if hidden:
            shown.append(f"{self.path}: and {hidden} more problem{'s' if hidden > 1 else ''}")
        return shown

    @classmethod
    def of(cls, problems: list[ConfigError]) -> ConfigError:
        """One error for several problems, in the file's order: the first
        one's, carrying the others."""
        first, *others = sorted(problems, key=lambda problem: problem.line)
        if not others:
            return first
        return cls(
            first.path,
            first.line,
            first.key,
            first.detail,
            source=first.source,
            others=tuple(others),
        )


class SourceError(FeedsError):
    """One source could not be read; `source` names it."""

    stage = "failed"

    def __init__(self, source: str, detail: str, *, url: str = "") -> None:
        self.source = source
        # What a source said, or where it pointed, is not run as a command
        # where the message is shown.
        self.detail = detail = printable(detail)
        self.url = url = printable(url)
        at = f" ({url})" if url else ""
        super().__init__(f"source '{source}': {self.stage}{at}: {detail}")


class FetchError(SourceError):
    """The source's URL or file could not be fetched."""

    stage = "fetch failed"

    def __init__(
        self,
        source: str,
        detail: str,
        *,
        url: str = "",
        status: int = 0,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        #: Seconds the server asked us to wait (Retry-After on 429/503).
        self.retry_after = retry_after
        super().__init__(source, detail, url=url)


class ParseError(SourceError):
    """The fetched body is not what the source's type expects."""

    stage = "parse failed"


class StoreError(FeedsError):
    """The database could not be opened, migrated or written. `held_by`:
    the run holding it, when that is why."""

    def __init__(self, url: str, detail: str, *, held_by: str = "") -> None:
        self.url = url
        self.detail = detail
        self.held_by = held_by
        super().__init__(f"store {url}: {detail}")


class PublishError(FeedsError):
    """An output file could not be written; the previous version stays.
    `held_by`: the run holding the output folder, when that is why."""

    def __init__(self, path: str, detail: str, *, held_by: str = "") -> None:
        self.path = path
        self.detail = detail
        self.held_by = held_by
        super().__init__(f"output {path}: {detail}")


class ServeError(FeedsError):
    """The HTTP server could not start (address in use, no permission)."""

    def __init__(self, address: str, detail: str) -> None:
        self.address = address
        self.detail = detail
        super().__init__(f"serve {address}: {detail}")


def describe_bug(exc: BaseException) -> str:
    """An error nothing expected (a bug in feeds, met on one source's
    input), told so that a report of it can be acted on: the exception
    and the last place in feeds it went through."""
    where = ""
    trace = exc.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        if code.co_filename.startswith(_PACKAGE):
            module = "feeds" + code.co_filename[len(_PACKAGE) :].replace(os.sep, "/")
            where = f" (in {module}:{trace.tb_lineno}, {code.co_name})"
        trace = trace.tb_next
    detail = str(exc) or "no detail"
    return f"unexpected {type(exc).__name__}: {detail}{where}; a bug in feeds, please report it"


_PACKAGE = os.path.dirname(os.path.abspath(__file__))
