"""Config stage: reads config.yaml and returns a frozen, checked `Config`.

The only module that imports YAML. It reads one file; every problem becomes a
`ConfigError` naming the file, the line and the key path
(``config.yaml:14: sources[2].url: ...``). Unknown keys are errors, with a
"did you mean" when a known key is close. One problem does not end the
check: the error carries the first problem of the site, of each section
of settings and of each source, rubric and rule (`ConfigError.problems`).
Relative paths resolve against the folder of the config file.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from feeds.errors import ConfigError
from feeds.guard import parse_allow_rule
from feeds.model import (
    FEED_FORMATS,
    MATCH_FIELDS,
    UNWRITABLE,
    Config,
    Match,
    Rubric,
    Rule,
    Schedule,
    Server,
    Site,
    Source,
    category_key,
    file_url_path,
)
from feeds.parse import SELECTOR_KEYS, SOURCE_TYPES, TYPE_OPTIONS
from feeds.timing import cron_problem, parse_duration


def _guarded(loader: Any) -> Any:
    """A safe loader whose scalar constructors report a bad value
    (`!!int =`, `!!timestamp` with nothing) as a YAML error with its line,
    rather than the ValueError or IndexError PyYAML lets escape."""

    def wrap(construct: Any) -> Any:
        def guarded(self: Any, node: yaml.Node) -> Any:
            try:
                return construct(self, node)
            except (ValueError, IndexError, KeyError, AttributeError, TypeError) as exc:
                raise yaml.constructor.ConstructorError(
                    None, None, f"cannot read {node.tag} value {node.value!r}", node.start_mark
                ) from exc

        return guarded

    class Guarded(loader):  # type: ignore[misc]
        pass

    for tag, construct in list(loader.yaml_constructors.items()):
        Guarded.add_constructor(tag, wrap(construct))
    # YAML 1.1 reads `1:30` as 90 (base 60) and `010` as 8 (octal): no
    # config value means either, so such text stays text, for the checker
    # to judge (an interval of "1:30" is refused, a title of "010" kept).
    numbers = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    Guarded.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in numbers]
        for first, resolvers in loader.yaml_implicit_resolvers.items()
    }
    Guarded.add_implicit_resolver(numbers[0], _DECIMAL, list("-+0123456789"))
    Guarded.add_implicit_resolver(numbers[1], _FLOAT, list("-+0123456789."))
    return Guarded


_DECIMAL = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
_FLOAT = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


#: libyaml's parser when PyYAML has it (ten times faster on a config with
#: a thousand sources), the pure-Python one otherwise; both safe.
_LOADER = _guarded(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
_PY_LOADER = _guarded(yaml.SafeLoader)

DEFAULT_STORAGE = "sqlite:///feeds.db"
DEFAULT_MAX_ITEMS = 50
DEFAULT_ARCHIVE_PAGE_SIZE = 100
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_CONCURRENCY = 8
#: The largest number a config may give (a count, a size, seconds): SQLite
#: and the scheduler hold it, and no real setting comes near.
MAX_NUMBER = 10**12
#: Requests at once, overall or to one host: each holds a thread and a
#: connection (10^12 of them filled memory before the first request).
MAX_CONNECTIONS = 1000
#: Seconds a source may take to answer: a day (the clock could not wait
#: for 10^10).
MAX_TIMEOUT = 86_400
#: The longest rubric slug: it names files, and file names have limits.
MAX_SLUG = 64
#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: The shortest interval between two fetches of a source, in seconds: a
#: shorter one hammers a server (or a disk) without bringing news sooner.
MIN_INTERVAL = 1.0

#: Keys that were renamed: old dotted path -> new one. Kept so an old config
#: gets a message naming the replacement instead of a bare "unknown key".
RENAMED: dict[str, str] = {
    "output.items": "output.max_items",
}

_TOP_KEYS = (
    "site",
    "output",
    "storage",
    "fetch",
    "schedule",
    "server",
    "log",
    "rubrics",
    "series",
    "rules",
    "websub",
    "sources",
)
#: A language tag (RFC 5646's langtag, and private use): a language code
#: of 2-3 letters with up to three extensions of 3, then script, region,
#: variants, extensions. Letters are ASCII only; case does not matter.
_LANGUAGE_TAG = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}"
    r"(?:-[a-z]{4})?"
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"
    r"|x(?:-[a-z0-9]{1,8})+)",
    re.IGNORECASE | re.ASCII,
)
#: What no URL (nor IRI) holds as it is (RFC 3987): every feed's id, self
#: link and OPML entry would carry it.
_NOT_IN_URL = re.compile(r'["<>{}|\\^`\x00-\x1f\x7f]')
_SITE_KEYS = ("title", "base_url", "language", "timezone", "description")
_OUTPUT_KEYS = ("dir", "max_items", "archive_page_size")
_STORAGE_KEYS = ("url",)
_FETCH_KEYS = (
    "timeout",
    "max_bytes",
    "concurrency",
    "per_host",
    "host_delay",
    "allow_private",
)
_SCHEDULE_KEYS = ("interval", "jitter", "max_backoff")
_SERVER_KEYS = ("host", "port")
_LOG_KEYS = ("format", "level")
_LOG_FORMATS = ("text", "json")
_LOG_LEVELS = ("debug", "info", "warning", "error")
_CRON = re.compile(r"^\S+(\s+\S+){4}$")
_RUBRIC_KEYS = ("slug", "title", "aliases", "description", "max_items", "formats")
_MATCH_KEYS = ("pattern", "keywords", "fields")
_RULE_KEYS = ("rubric", *_MATCH_KEYS)
_SOURCE_KEYS = (
    "name",
    "type",
    "url",
    "path",
    "rubrics",
    "timezone",
    "timeout",
    "max_bytes",
    "interval",
    "cron",
    "language",
    "include",
    "exclude",
    "full_content",
    "guids",
    *sorted({key for keys in TYPE_OPTIONS.values() for key in keys}),
)
#: The source types an option belongs to, for those only some types take.
_OPTION_OWNERS = {
    option: tuple(kind for kind, keys in TYPE_OPTIONS.items() if option in keys)
    for option in {key for keys in TYPE_OPTIONS.values() for key in keys}
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SOURCE_PLACE = re.compile(r"sources\[(\d+)\]")
_ZERO = re.compile(r"^\s*0+(\.0*)?\s*(ms|[smhdw])?\s*$", re.IGNORECASE)
#: Reserved: the combined feed is written as all.atom, all.rss, all.json.
_RESERVED_SLUGS = ("all", "feeds", "index")


#: The largest config.yaml read: ~40,000 sources. YAML costs ~180 bytes
#: of memory per byte of small mappings: a 50 MB file took 8 GB and
#: minutes, with a running service's reload stuck in it.
MAX_CONFIG_BYTES = 4 * 2**20


def load_config(path: str | Path) -> Config:
    """Read and check config.yaml. Raises ConfigError."""
    path = Path(path)
    shown = str(path)
    try:
        # Opened without blocking and checked before it is read: a FIFO (or
        # /dev/zero) put in its place hung a running service's reload, deaf
        # to SIGTERM, or filled its memory.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ConfigError(shown, 0, "", "not a regular file")
            if info.st_size > MAX_CONFIG_BYTES:
                raise ConfigError(
                    shown,
                    0,
                    "",
                    f"{info.st_size} bytes is over the {MAX_CONFIG_BYTES // 2**20} MB "
                    "a config may have",
                )
            with os.fdopen(fd, "rb", closefd=False) as stream:
                data = stream.read(MAX_CONFIG_BYTES + 1)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise ConfigError(shown, 0, "", "no such file") from None
    except OSError as exc:
        raise ConfigError(shown, 0, "", f"cannot read: {exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:  # grew while read
        raise ConfigError(
            shown, 0, "", f"over the {MAX_CONFIG_BYTES // 2**20} MB a config may have"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            shown, line, "", f"not UTF-8: byte 0x{data[exc.start]:02x} (save the file as UTF-8)"
        ) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Check the YAML text of a config file that lives at `path`.
    Raises ConfigError."""
    shown = str(path)
    try:
        data, lines = _load(text, shown, _LOADER)
    except RecursionError:
        raise ConfigError(shown, 1, "", "invalid YAML: nested too deeply") from None
    except yaml.YAMLError:
        # libyaml's messages are terser: read a broken file again with the
        # pure-Python parser, for the message an operator will see.
        try:
            data, lines = _load(text, shown, _PY_LOADER)
        except RecursionError:
            raise ConfigError(shown, 1, "", "invalid YAML: nested too deeply") from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            # A problem found at the end of the stream (an unclosed bracket or
            # quote) is best shown where the unclosed thing started.
            if exc.context_mark and mark and mark.line >= len(text.splitlines()):
                mark = exc.context_mark
            line = mark.line + 1 if mark else 0
            problem = exc.problem or str(exc)
            if exc.context and exc.context_mark:
                problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
            raise ConfigError(shown, line, "", f"invalid YAML: {problem}") from exc
        except yaml.reader.ReaderError as exc:
            line = text[: exc.position].count("\n") + 1
            problem = f"character {exc.character!r} is not allowed in YAML"
            raise ConfigError(shown, line, "", f"invalid YAML: {problem}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(shown, 1, "", f"invalid YAML: {exc}") from exc
    checker = _Checker(shown, path.resolve().parent, lines)
    try:
        config = checker.config(data, path.resolve())
    except ConfigError as problem:
        checker.problems.append(problem)
    if checker.problems:
        raise ConfigError.of(checker.problems)
    return config


def _load(text: str, shown: str, loader_class: Any) -> tuple[Any, dict[str, int]]:
    """The document's values and the line of every key path, in one parse."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        if node is None:
            return None, lines
        _index_lines(node, "", lines, shown, set())
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _index_lines(
    node: yaml.Node, key: str, lines: dict[str, int], shown: str, seen_nodes: set[int]
) -> None:
    """Record the line of every key path; reject duplicate keys, which YAML
    would otherwise resolve silently by keeping the last one. A node an
    alias repeats is walked once: nested aliases (a "billion laughs" of a
    few hundred bytes) would otherwise be walked billions of times."""
    lines.setdefault(key, node.start_mark.line + 1)
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = str(key_node.value) or '""'  # an empty key still needs a name
            child = f"{key}.{name}" if key else name
            if name in seen:
                raise ConfigError(shown, key_node.start_mark.line + 1, child, "duplicate key")
            seen.add(name)
            lines[child] = key_node.start_mark.line + 1
            _index_lines(value_node, child, lines, shown, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, f"{key}[{index}]", lines, shown, seen_nodes)


_T = TypeVar("_T")
#: What stands for a site whose problem is noted while the check goes on.
_STAND_IN_SITE = Site(title="?", base_url="https://invalid.example/")


class _Checker:
    """Turns the loaded YAML into a Config, noting in `problems` the first
    problem of each part (the site, each section of settings, each
    source, rubric and rule) while it checks the others. A problem the
    others hang on (the file's shape, the list of rubrics) ends the
    check."""

    def __init__(self, shown: str, base: Path, lines: dict[str, int]) -> None:
        self.shown = shown
        self.base = base
        self.lines = lines
        self.problems: list[ConfigError] = []
        #: The names of the sources read so far, by their place in the list.
        self.source_names: dict[int, str] = {}
        #: The place in the list of each source that passed its checks.
        self.places: dict[str, int] = {}
        #: The slugs of rubrics reported broken.
        self.broken_slugs: set[str] = set()

    def fail(self, key: str, detail: str) -> ConfigError:
        # The line of the key, else of the nearest key above it in the file
        # (a setting the file leaves out: the message says its default is
        # what is wrong).
        line = self.lines.get(key, 0)
        probe = key
        while not line and probe:
            shorter = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe)
            probe = "" if shorter == probe else shorter
            line = self.lines.get(probe, 0)
        # Which source, by the name the operator knows it by: "sources[137]"
        # alone sent them counting entries.
        place = _SOURCE_PLACE.match(key)
        source = self.source_names.get(int(place[1]), "") if place else ""
        if place and key[place.end() :] == ".name":
            source = ""  # the name is what is wrong: the key says which
        return ConfigError(self.shown, line or 1, key, detail, source=source)

    # -- shapes ---------------------------------------------------------

    def mapping(
        self, key: str, value: Any, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping of keys, got {_kind(value)}")
        for name in value:
            if not isinstance(name, str):
                raise self.fail(key, f"keys must be text, got {name!r}")
            if name not in allowed:
                shown_name = name or '""'  # an empty key still needs a name
                child = f"{key}.{shown_name}" if key else shown_name
                renamed = RENAMED.get(_generic(child))
                if renamed:
                    raise self.fail(child, f"this key was renamed: use '{renamed}'")
                hint = _did_you_mean(name, allowed)
                raise self.fail(child, f"unknown key{hint}; known keys: {', '.join(allowed)}")
        for name in required:
            if value.get(name) in (None, ""):
                child = f"{key}.{name}" if key else name
                raise self.fail(key if key else child, f"missing required key '{name}'")
        return value

    def sequence(self, key: str, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {_kind(value)}")
        return value

    def text(self, key: str, value: Any, default: str = "") -> str:
        if value is None:
            return default
        if isinstance(value, bool):
            raise self.fail(
                key,
                f"expected text, got {_kind(value)} (YAML reads yes, no, on and off "
                f"as true or false: quote the text)",
            )
        if not isinstance(value, str | int | float):
            raise self.fail(key, f"expected text, got {_kind(value)}")
        text = str(value).strip()
        if "\x00" in text:
            raise self.fail(key, "contains a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise self.fail(key, "is not valid Unicode text (a lone surrogate)") from None
        found = UNWRITABLE.search(text)
        if found:
            raise self.fail(
                key,
                f"contains the control character U+{ord(found.group()):04X}, which no feed "
                f"or web page may hold",
            )
        return text

    def texts(self, key: str, value: Any, blank: str = "must not be blank") -> tuple[str, ...]:
        if isinstance(value, str):
            if "," in value:
                # "aliases: books, Книги" was one alias, "books, Книги",
                # which no category matched; and `feeds check` said ok.
                names = ", ".join(part.strip() for part in value.split(",") if part.strip())
                raise self.fail(
                    key,
                    f"{value!r} is one text with a comma in it; several are written as "
                    f"a list, [{names}] (and one with a comma as a list of one: [{value!r}])",
                )
            value = [value]
        items = self.sequence(key, value)
        texts = tuple(self.text(f"{key}[{i}]", item) for i, item in enumerate(items))
        for i, text in enumerate(texts):
            if not text:
                raise self.fail(f"{key}[{i}]", blank)
        return texts

    def number(
        self,
        key: str,
        value: Any,
        default: float,
        *,
        integer: bool = False,
        zero: str = "",
        most: int = MAX_NUMBER,
    ) -> Any:
        """A positive number up to `most`; `zero` names what 0 means where 0
        is allowed."""
        if value is None:
            return default
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            wanted = "a whole number" if integer else "a number"
            raise self.fail(key, f"expected {wanted}, got {_kind(value)} {value!r}")
        if not math.isfinite(value):
            raise self.fail(key, f"expected a finite number, got {value}")
        if zero and value < 0:
            raise self.fail(key, f"must be 0 ({zero}) or more, got {value}")
        if not zero and value <= 0:
            raise self.fail(key, f"must be greater than 0, got {value}")
        if value > most:
            raise self.fail(key, f"must be at most {most:,}, got {value:,}")
        return value

    def timezone(self, key: str, value: Any, default: str) -> str:
        name = self.text(key, value, default)
        if not name:
            return ""
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: a folder of the zone database, such as 'Europe'.
            raise self.fail(
                key, f"unknown time zone {name!r} (use an IANA name such as 'Europe/Moscow')"
            ) from None
        return name

    def language(self, key: str, value: Any, default: str) -> str:
        """A language tag as feeds carry it (`xml:lang`, RSS `language`,
        `<html lang>`): BCP 47's form, with a language code of two or three
        letters (no longer one is registered), like ru, en-GB or zh-Hant."""
        tag = self.text(key, value, default)
        if not tag or _LANGUAGE_TAG.fullmatch(tag):
            return tag
        hint = "a language tag such as 'ru', 'en-GB' or 'zh-Hant'"
        if "_" in tag and _LANGUAGE_TAG.fullmatch(tag.replace("_", "-")):
            hint = f"{tag.replace('_', '-')!r}: language tags join their parts with '-'"
        elif tag.isalpha():
            hint += " (the language's ISO 639 code, not its name)"
        raise self.fail(key, f"not a language tag: {tag!r} (use {hint})")

    # -- sections -------------------------------------------------------

    def config(self, data: Any, path: Path) -> Config:
        if data is None:
            raise ConfigError(self.shown, 1, "", "the file is empty")
        top = self.mapping("", data, _TOP_KEYS, required=("site",))
        # Each part the others do not hang on is checked whatever the rest
        # holds; its problem is noted and a stand-in (never used: a config
        # with problems is refused) lets the check go on. The rubrics are
        # another matter: sources and rules name them.
        kept = self.kept
        site = kept(_STAND_IN_SITE, lambda: self.site(top.get("site")))
        hub = kept("", lambda: self.hub(top.get("websub")))
        output: dict[str, Any] | None = kept(
            None, lambda: self.mapping("output", top.get("output"), _OUTPUT_KEYS)
        )
        storage: dict[str, Any] = kept(
            {}, lambda: self.mapping("storage", top.get("storage"), _STORAGE_KEYS)
        )
        fetch: dict[str, Any] = kept(
            {}, lambda: self.mapping("fetch", top.get("fetch"), _FETCH_KEYS)
        )
        rubrics = self.rubrics(top.get("rubrics"))
        series: tuple[str, ...] = kept((), lambda: self.texts("series", top.get("series")))
        timeout = kept(
            DEFAULT_TIMEOUT,
            lambda: float(
                self.number(
                    "fetch.timeout", fetch.get("timeout"), DEFAULT_TIMEOUT, most=MAX_TIMEOUT
                )
            ),
        )
        max_bytes = kept(
            DEFAULT_MAX_BYTES,
            lambda: int(
                self.number(
                    "fetch.max_bytes", fetch.get("max_bytes"), DEFAULT_MAX_BYTES, integer=True
                )
            ),
        )
        rules = self.rules(top.get("rules"), rubrics)
        schedule = kept(Schedule(), lambda: self.schedule(top.get("schedule")))
        sources = self.sources(top.get("sources"), rubrics, timeout, max_bytes, schedule)
        # Where the output goes is not known if its section is broken: the
        # checks of what lies inside it wait for it to be fixed.
        output_dir: Path | None = None
        if output is not None:
            where = partial(self.output_dir, output, path)
            output_dir = kept(None, partial(self.defaulted, "output.dir", output.get("dir"), where))
        output = output or {}
        if output_dir is not None:
            for source in sources:
                kept(None, partial(self.outside, source, output_dir))
        url = storage.get("url")
        storage_url = kept(
            DEFAULT_STORAGE, partial(self.defaulted, "storage.url", url, partial(self.storage, url))
        )
        if output_dir is not None:
            kept(None, lambda: self.unpublished(storage_url, output_dir))
        max_items = kept(
            DEFAULT_MAX_ITEMS, lambda: self.count("output.max_items", output, DEFAULT_MAX_ITEMS)
        )
        archive_page_size = kept(
            DEFAULT_ARCHIVE_PAGE_SIZE,
            lambda: self.count(
                "output.archive_page_size",
                output,
                DEFAULT_ARCHIVE_PAGE_SIZE,
                zero="no new archive pages",
            ),
        )
        concurrency = kept(
            DEFAULT_CONCURRENCY,
            lambda: self.count(
                "fetch.concurrency", fetch, DEFAULT_CONCURRENCY, most=MAX_CONNECTIONS
            ),
        )
        per_host = kept(2, lambda: self.count("fetch.per_host", fetch, 2, most=MAX_CONNECTIONS))
        host_delay = kept(
            1.0, lambda: self.duration("fetch.host_delay", fetch.get("host_delay"), 1.0, zero=True)
        )
        allow_private: tuple[str, ...] = kept(
            (), lambda: self.allow_rules(fetch.get("allow_private"))
        )
        server = kept(None, lambda: self.server(top))
        logging: dict[str, str] = kept({}, lambda: self.log(top.get("log")))
        if self.problems:
            # The last one noted; `parse_config` lists it with the others.
            raise self.problems.pop()
        return Config(
            path=path,
            site=replace(site, hub=hub) if hub else site,
            output_dir=output_dir or self.base,
            storage_url=storage_url,
            rubrics=rubrics,
            series=series,
            sources=sources,
            host_delay=host_delay,
            allow_private=allow_private,
            schedule=schedule,
            rules=rules,
            server=server,
            max_items=max_items,
            archive_page_size=archive_page_size,
            concurrency=concurrency,
            per_host=per_host,
            **logging,
        )

    def kept(self, stand_in: _T, check: Callable[[], _T]) -> _T:
        """`check()`, or `stand_in` once its problem is noted."""
        try:
            return check()
        except ConfigError as problem:
            self.problems.append(problem)
            return stand_in

    def count(
        self,
        key: str,
        fields: dict[str, Any],
        default: int,
        zero: str = "",
        most: int = MAX_NUMBER,
    ) -> int:
        """A whole number under `key` (``fetch.concurrency``) in `fields`."""
        value = fields.get(key.rpartition(".")[2])
        return int(self.number(key, value, default, integer=True, zero=zero, most=most))

    def hub(self, value: Any) -> str:
        websub = self.mapping("websub", value, ("hub",))
        hub = self.text("websub.hub", websub.get("hub"))
        if hub:
            parts = _split_url(hub)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise self.fail("websub.hub", f"expected an http(s) URL, got {hub!r}")
        return hub

    def output_dir(self, output: dict[str, Any], path: Path) -> Path:
        out_dir = self.text("output.dir", output.get("dir"), "output") or "output"
        output_dir = (self.base / out_dir).resolve()
        if output_dir == output_dir.parent or output_dir in path.parents:
            raise self.fail(
                "output.dir",
                f"{str(output_dir)!r} holds config.yaml (or everything): give a folder of its own",
            )
        if output_dir.exists() and not output_dir.is_dir():
            raise self.fail("output.dir", f"{str(output_dir)!r} is a file, not a folder")
        return output_dir

    def outside(self, source: Source, output_dir: Path) -> None:
        index = self.places[source.name]  # a broken one before it is not in `sources`
        local = source.local_file
        if local is not None and output_dir in (local := local.resolve()).parents:
            # A build writes its files there, over any of the same name.
            raise self.fail(
                f"sources[{index}].{'path' if source.path else 'url'}",
                f"{str(local)!r} is inside output.dir ({str(output_dir)!r}), where a build "
                f"writes its files (a feed may overwrite it): keep source files outside",
            )

    def unpublished(self, storage_url: str, output_dir: Path) -> None:
        if output_dir in Path(storage_url.removeprefix("sqlite:///")).parents:
            # output/ is what `feeds serve` and nginx publish.
            raise self.fail(
                "storage.url",
                f"the store would be inside output.dir ({str(output_dir)!r}), which is "
                f"published: anyone could download it; keep it outside",
            )

    def duration(self, key: str, value: Any, default: float, *, zero: bool = False) -> float:
        if value is None:
            return default
        if zero and (value == 0 or (isinstance(value, str) and _ZERO.match(value))):
            return 0.0
        try:
            return parse_duration(value)
        except ValueError as exc:
            problem = str(exc)
            if zero:  # where 0 is allowed, "greater than 0" would mislead
                problem = problem.replace("greater than 0", "0 or more")
            raise self.fail(key, problem) from None

    def interval(self, key: str, value: Any, default: float) -> float:
        seconds = self.duration(key, value, default)
        if seconds < MIN_INTERVAL:
            raise self.fail(key, f"an interval must be at least a second (1s), got {value!r}")
        return seconds

    def match(self, key: str, fields: dict[str, Any]) -> Match:
        pattern = self.text(f"{key}.pattern", fields.get("pattern"))
        keywords = self.texts(
            f"{key}.keywords", fields.get("keywords"), blank="empty: it would match every item"
        )
        if bool(pattern) == bool(keywords):
            raise self.fail(key, "give exactly one of 'pattern' and 'keywords'")
        if pattern:
            try:
                re.compile(pattern)
            except (re.error, OverflowError, RecursionError) as exc:
                # OverflowError: a repeat count past the engine's; Recursion-
                # Error: thousands of nested groups.
                problem = exc if isinstance(exc, re.error) else type(exc).__name__
                raise self.fail(f"{key}.pattern", f"not a regular expression: {problem}") from None
        where = self.texts(f"{key}.fields", fields.get("fields")) or ("title", "summary")
        for index, name in enumerate(where):
            if name not in MATCH_FIELDS:
                hint = _did_you_mean(name, MATCH_FIELDS)
                raise self.fail(
                    f"{key}.fields[{index}]",
                    f"unknown field {name!r}{hint}; known: {', '.join(MATCH_FIELDS)}",
                )
        return Match(pattern=pattern, keywords=keywords, fields=tuple(dict.fromkeys(where)))

    def matches(self, key: str, value: Any) -> tuple[Match, ...]:
        found = []
        for index, entry in enumerate(self.sequence(key, value)):
            child = f"{key}[{index}]"
            found.append(self.match(child, self.mapping(child, entry, _MATCH_KEYS)))
        return tuple(found)

    def flag(self, key: str, value: Any, default: bool = False) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_kind(value)} {value!r}")
        return value

    def selectors(self, key: str, value: Any) -> tuple[tuple[str, str], ...]:
        if value is None:
            return ()
        fields = self.mapping(key, value, SELECTOR_KEYS, required=("item",))
        chosen = tuple(
            (name, self.text(f"{key}.{name}", fields[name]))
            for name in SELECTOR_KEYS
            if fields.get(name) is not None
        )
        # Loaded only for a config with selectors: reading one stays cheap.
        from feeds.parse.html import selector_problem

        for name, spec in chosen:
            if not spec:
                raise self.fail(f"{key}.{name}", "empty: give a CSS selector, or leave the key out")
            problem = selector_problem(name, spec)
            if problem:
                raise self.fail(f"{key}.{name}", problem)
        return chosen

    def known_slugs(self, rubrics: tuple[Rubric, ...]) -> tuple[str, ...]:
        """The slugs a source or rule may name: the rubrics', and those of
        rubrics reported broken (their own problem is reported already)."""
        return (*(r.slug for r in rubrics), *sorted(self.broken_slugs))

    def rules(self, value: Any, rubrics: tuple[Rubric, ...]) -> tuple[Rule, ...]:
        slugs = self.known_slugs(rubrics)
        found = []
        for index, entry in enumerate(self.sequence("rules", value)):
            try:
                found.append(self.rule(index, entry, slugs))
            except ConfigError as problem:
                self.problems.append(problem)  # a rule is a leaf, as a source is
        return tuple(found)

    def rule(self, index: int, entry: Any, slugs: tuple[str, ...]) -> Rule:
        key = f"rules[{index}]"
        fields = self.mapping(key, entry, _RULE_KEYS, required=("rubric",))
        if not isinstance(fields["rubric"], str):
            raise self.fail(
                f"{key}.rubric", f"expected one rubric slug, got {_kind(fields['rubric'])}"
            )
        rubric = self.text(f"{key}.rubric", fields["rubric"])
        if rubric not in slugs:
            hint = _did_you_mean(rubric, slugs)
            raise self.fail(f"{key}.rubric", f"no rubric with slug {rubric!r}{hint}")
        return Rule(rubric=rubric, match=self.match(key, fields))

    def allow_rules(self, value: Any) -> tuple[str, ...]:
        rules = self.texts("fetch.allow_private", value)
        for index, rule in enumerate(rules):
            try:
                parse_allow_rule(rule)
            except ValueError as exc:
                raise self.fail(f"fetch.allow_private[{index}]", str(exc)) from None
        return rules

    def schedule(self, value: Any) -> Schedule:
        fields = self.mapping("schedule", value, _SCHEDULE_KEYS)
        base = Schedule()
        kept = self.kept
        return Schedule(
            interval=kept(
                base.interval,
                lambda: self.interval("schedule.interval", fields.get("interval"), base.interval),
            ),
            jitter=kept(
                base.jitter,
                lambda: self.duration(
                    "schedule.jitter", fields.get("jitter"), base.jitter, zero=True
                ),
            ),
            max_backoff=kept(
                base.max_backoff,
                lambda: self.duration(
                    "schedule.max_backoff", fields.get("max_backoff"), base.max_backoff
                ),
            ),
        )

    def server(self, top: dict[str, Any]) -> Server | None:
        if "server" not in top:
            return None
        fields = self.mapping("server", top.get("server"), _SERVER_KEYS)
        host = self.kept(
            "127.0.0.1",
            lambda: self.text("server.host", fields.get("host"), "127.0.0.1") or "127.0.0.1",
        )
        port = fields.get("port", 8080)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise self.fail("server.port", f"expected a port number 0-65535, got {port!r}")
        return Server(host=host, port=port)

    def log(self, value: Any) -> dict[str, str]:
        fields = self.mapping("log", value, _LOG_KEYS)
        chosen = {}
        for key, allowed, default in (
            ("format", _LOG_FORMATS, "text"),
            ("level", _LOG_LEVELS, "info"),
        ):
            # Each on its own: both wrong, both are listed.
            chosen[f"log_{key}"] = self.kept(
                default, partial(self.one_of, f"log.{key}", fields.get(key), allowed, default)
            )
        return chosen

    def one_of(self, key: str, value: Any, allowed: tuple[str, ...], default: str) -> str:
        text = self.text(key, value, default).lower() or default
        if text not in allowed:
            raise self.fail(key, f"expected one of {', '.join(allowed)}, got {text!r}")
        return text

    def site(self, value: Any) -> Site:
        """Each key is checked on its own: a config with a wrong base URL
        and a wrong time zone hears of both at once. (An unknown key still
        stands for the whole section: see `mapping`.)"""
        site = self.mapping("site", value, _SITE_KEYS)
        kept = self.kept
        return Site(
            title=kept(_STAND_IN_SITE.title, lambda: self.site_title(site.get("title"))),
            base_url=kept(_STAND_IN_SITE.base_url, lambda: self.base_url(site.get("base_url"))),
            language=kept(
                "en", lambda: self.language("site.language", site.get("language"), "en") or "en"
            ),
            timezone=kept(
                "UTC", lambda: self.timezone("site.timezone", site.get("timezone"), "UTC") or "UTC"
            ),
            description=kept("", lambda: self.text("site.description", site.get("description"))),
        )

    def site_title(self, value: Any) -> str:
        if value in (None, ""):
            raise self.fail("site", "missing required key 'title'")
        title = self.text("site.title", value)
        if not title:
            raise self.fail("site.title", "must not be blank: every feed is titled with it")
        return title

    def base_url(self, value: Any) -> str:
        if value in (None, ""):
            raise self.fail("site", "missing required key 'base_url'")
        base_url = self.text("site.base_url", value)
        parts = _split_url(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail("site.base_url", f"expected an http(s) URL, got {base_url!r}")
        if parts.query or parts.fragment or "#" in base_url or re.search(r"\s", base_url):
            raise self.fail(
                "site.base_url",
                f"expected the folder output/ is served at, with no query, fragment or "
                f"space (feed addresses are made by adding file names), got {base_url!r}",
            )
        bad = _NOT_IN_URL.search(base_url)
        if bad:
            raise self.fail(
                "site.base_url",
                f"a URL cannot hold {bad.group()!r} (nor < > {{ }} | \\ ^ `): feed ids and "
                f"links are made from it, got {base_url!r}",
            )
        try:
            parts.port  # noqa: B018 (read for its check: 0-65535)
        except ValueError:
            raise self.fail(
                "site.base_url", f"the port must be a number up to 65535, got {base_url!r}"
            ) from None
        return base_url if base_url.endswith("/") else base_url + "/"

    def defaulted(self, key: str, value: Any, check: Callable[[], _T]) -> _T:
        """`check()` of a setting given as `value`; when the file leaves it
        out, its problem says the default is what is wrong (it is shown at
        line 1, where the file does not name it)."""
        try:
            return check()
        except ConfigError as problem:
            if value is not None:
                raise
            raise self.fail(
                key, f"{problem.detail} ({key} is not set: this is its default)"
            ) from None

    def storage(self, value: Any) -> str:
        url = self.text("storage.url", value, DEFAULT_STORAGE) or DEFAULT_STORAGE
        if "://" not in url:
            url = "sqlite:///" + url
        if not url.startswith("sqlite:///"):
            scheme = url.split("://", 1)[0]
            raise self.fail("storage.url", f"unsupported store {scheme!r}: use sqlite:///PATH")
        file = url.removeprefix("sqlite:///")
        if not file:
            raise self.fail("storage.url", "expected sqlite:///PATH with a file name")
        resolved = (self.base / file).resolve()
        if resolved.is_dir():
            raise self.fail(
                "storage.url",
                f"{str(resolved)!r} is a folder: give the database file, "
                f"such as sqlite:///{file.rstrip('/')}/feeds.db",
            )
        if resolved.exists() and not resolved.is_file():
            # /dev/null, a pipe, a socket: SQLite opens some, then fails
            # every write with a message that names none of them.
            raise self.fail(
                "storage.url",
                f"{str(resolved)!r} is not a regular file: give the database file",
            )
        if _not_sqlite(resolved):
            raise self.fail(
                "storage.url",
                f"{str(resolved)!r} is not an SQLite database: give the store's file, "
                f"or the name of a file to create",
            )
        return "sqlite:///" + str(resolved)

    def rubrics(self, value: Any) -> tuple[Rubric, ...]:
        rubrics: list[Rubric] = []
        owners: dict[str, str] = {}
        for index, entry in enumerate(self.sequence("rubrics", value)):
            # As with sources: the next rubrics are checked too. The slug of
            # a broken one still counts as known, so that the sources and
            # rules naming it are not reported as well.
            try:
                rubrics.append(self.rubric(index, entry, rubrics, owners))
            except ConfigError as problem:
                self.problems.append(problem)
                slug = entry.get("slug") if isinstance(entry, dict) else None
                if isinstance(slug, str) and _SLUG.match(slug.strip()):
                    self.broken_slugs.add(slug.strip())
        return tuple(rubrics)

    def rubric(
        self, index: int, entry: Any, rubrics: list[Rubric], owners: dict[str, str]
    ) -> Rubric:
        key = f"rubrics[{index}]"
        fields = self.mapping(key, entry, _RUBRIC_KEYS, required=("slug", "title"))
        slug = self.text(f"{key}.slug", fields["slug"])
        if not _SLUG.match(slug):
            raise self.fail(
                f"{key}.slug",
                f"{slug!r} is not a slug: use lower-case Latin letters, digits, '-' and '_'",
            )
        if slug in _RESERVED_SLUGS:
            raise self.fail(f"{key}.slug", f"{slug!r} is reserved for the combined feed files")
        if len(slug) > MAX_SLUG:
            raise self.fail(
                f"{key}.slug",
                f"at most {MAX_SLUG} characters (it names files), got {len(slug)}",
            )
        if any(earlier.slug == slug for earlier in rubrics):
            raise self.fail(f"{key}.slug", f"another rubric already has the slug {slug!r}")
        formats = self.texts(f"{key}.formats", fields.get("formats"))
        if fields.get("formats") is not None and not formats:
            raise self.fail(
                f"{key}.formats",
                f"lists no format: name one or more of {', '.join(FEED_FORMATS)} "
                "(or leave the key out for all of them)",
            )
        formats = formats or FEED_FORMATS
        for index_, name in enumerate(formats):
            if name not in FEED_FORMATS:
                raise self.fail(
                    f"{key}.formats[{index_}]",
                    f"unknown format {name!r}; known: {', '.join(FEED_FORMATS)}",
                )
        title = self.text(f"{key}.title", fields["title"])
        if not title:
            raise self.fail(
                f"{key}.title",
                "must not be blank: the rubric's feeds and index section are titled with it",
            )
        limit = fields.get("max_items")
        rubric = Rubric(
            slug=slug,
            title=title,
            aliases=self.texts(f"{key}.aliases", fields.get("aliases")),
            description=self.text(f"{key}.description", fields.get("description")),
            max_items=None
            if limit is None
            else int(self.number(f"{key}.max_items", limit, 0, integer=True)),
            formats=tuple(dict.fromkeys(formats)),
        )
        for name in rubric.names:
            # Folded as classify folds categories.
            folded = category_key(name)
            owner = owners.get(folded)
            if owner is not None and owner != slug:
                raise self.fail(key, f"the name {name!r} already belongs to rubric '{owner}'")
            owners[folded] = slug
        return rubric

    def sources(
        self,
        value: Any,
        rubrics: tuple[Rubric, ...],
        timeout: float,
        max_bytes: int,
        schedule: Schedule,
    ) -> tuple[Source, ...]:
        slugs = self.known_slugs(rubrics)
        sources: list[Source] = []
        names: set[str] = set()
        for index, entry in enumerate(self.sequence("sources", value)):
            # A source's problem does not end the check: nothing else in the
            # file depends on a source, so the next ones are checked too, and
            # one `feeds check` lists the problems of every source.
            try:
                source = self.source(index, entry, names, slugs, timeout, max_bytes, schedule)
            except ConfigError as problem:
                self.problems.append(problem)
                taken = self.source_names.get(index, "").strip()
                if taken and problem.key != f"sources[{index}].name":
                    names.add(taken)  # a second source of that name is a problem too
                continue
            sources.append(source)
            self.places[source.name] = index
        return tuple(sources)

    def source(
        self,
        index: int,
        entry: Any,
        names: set[str],
        slugs: tuple[str, ...],
        timeout: float,
        max_bytes: int,
        schedule: Schedule,
    ) -> Source:
        key = f"sources[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
            # Known before its keys are checked: a misspelt key, the
            # commonest mistake, named no source.
            self.source_names[index] = entry["name"]
        fields = self.mapping(key, entry, _SOURCE_KEYS, required=("name", "type"))
        name = self.text(f"{key}.name", fields["name"])
        if not name:
            raise self.fail(f"{key}.name", "must not be blank")
        if name in names:
            raise self.fail(f"{key}.name", f"another source is already named {name!r}")
        names.add(name)
        self.source_names[index] = name
        kind = self.text(f"{key}.type", fields["type"])
        if kind not in SOURCE_TYPES:
            hint = _did_you_mean(kind, SOURCE_TYPES)
            raise self.fail(
                f"{key}.type",
                f"unknown source type {kind!r}{hint}; known: {', '.join(SOURCE_TYPES)}",
            )
        for option in fields:
            owners = _OPTION_OWNERS.get(option, ())
            if owners and kind not in owners:
                raise self.fail(f"{key}.{option}", f"only for sources of type {', '.join(owners)}")
        url, path = self.location(key, fields)
        cron = self.text(f"{key}.cron", fields.get("cron"))
        if cron and "interval" in fields:
            raise self.fail(key, "give 'interval' or 'cron', not both")
        if cron and not _CRON.match(cron):
            raise self.fail(
                f"{key}.cron",
                f"expected five crontab fields (minute hour day month weekday), got {cron!r}",
            )
        if cron:
            problem = cron_problem(cron)
            if problem:
                raise self.fail(f"{key}.cron", f"not a crontab schedule: {problem}")
        return Source(
            name=name,
            type=kind,
            url=url,
            path=path,
            rubrics=self.slugs(f"{key}.rubrics", fields.get("rubrics"), slugs),
            news_rubrics=self.slugs(f"{key}.news_rubrics", fields.get("news_rubrics"), slugs),
            timezone=self.timezone(f"{key}.timezone", fields.get("timezone"), ""),
            timeout=float(
                self.number(f"{key}.timeout", fields.get("timeout"), timeout, most=MAX_TIMEOUT)
            ),
            interval=self.interval(f"{key}.interval", fields.get("interval"), schedule.interval),
            cron=cron,
            language=self.language(f"{key}.language", fields.get("language"), ""),
            selectors=self.selectors(f"{key}.selectors", fields.get("selectors")),
            full_content=self.flag(f"{key}.full_content", fields.get("full_content")),
            guids=self.flag(f"{key}.guids", fields.get("guids"), default=True),
            include=self.matches(f"{key}.include", fields.get("include")),
            exclude=self.matches(f"{key}.exclude", fields.get("exclude")),
            max_bytes=int(
                self.number(f"{key}.max_bytes", fields.get("max_bytes"), max_bytes, integer=True)
            ),
        )

    def location(self, key: str, fields: dict[str, Any]) -> tuple[str, Path | None]:
        url = self.text(f"{key}.url", fields.get("url"))
        path = self.text(f"{key}.path", fields.get("path"))
        if bool(url) == bool(path):
            raise self.fail(key, "give exactly one of 'url' and 'path'")
        if path:
            return "", (self.base / path).resolve()
        problem = source_url_problem(url)
        if problem:
            raise self.fail(f"{key}.url", problem)
        return url, None

    def slugs(self, key: str, value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
        slugs = self.texts(key, value)
        for index, slug in enumerate(slugs):
            if slug not in known:
                hint = _did_you_mean(slug, known)
                raise self.fail(f"{key}[{index}]", f"no rubric with slug {slug!r}{hint}")
        return tuple(sorted(set(slugs)))


def changes(old: Config, new: Config) -> list[str]:
    """What a reload changes besides the sources, as the service's log says
    it ("rubrics added: film; rubrics removed: cinema"): "0 sources changed" was
    all it said of a rubric renamed or an output folder moved."""
    said: list[str] = []
    before = {rubric.slug: rubric for rubric in old.rubrics}
    after = {rubric.slug: rubric for rubric in new.rubrics}
    for what, slugs in (
        ("added", [slug for slug in after if slug not in before]),
        ("removed", [slug for slug in before if slug not in after]),
        ("changed", [s for s in after if s in before and after[s] != before[s]]),
    ):
        if slugs:
            said.append(f"rubrics {what}: {', '.join(slugs)}")
    if new.rules != old.rules:
        said.append("rules changed")
    if new.series != old.series:
        said.append("series changed")
    if new.site != old.site:
        said.append("site changed")
    if (new.per_host, new.host_delay, new.allow_private) != (
        old.per_host,
        old.host_delay,
        old.allow_private,
    ):
        said.append("fetch settings changed")
    if (new.max_items, new.archive_page_size) != (old.max_items, old.archive_page_size):
        said.append("output limits changed")
    if new.output_dir != old.output_dir:
        said.append(f"output now in {new.output_dir} ({old.output_dir} keeps what it holds)")
    return said


def source_url_problem(url: str) -> str:
    """What is wrong with a source's `url` ('' when nothing): config.yaml
    and `feeds preview --url` hold it to the same rules."""
    parts = _split_url(url)
    if parts.scheme not in ("http", "https", "file") or (
        parts.scheme != "file" and not parts.netloc
    ):
        return f"expected an http(s) or file URL, got {url!r}"
    if parts.scheme != "file":
        host = _url_host_problem(parts)
        if host:
            return f"{host}, in {url!r}"
    if parts.scheme == "file" and (
        parts.netloc not in ("", "localhost") or not parts.path.startswith("/")
    ):
        return (
            f"a file URL is file:///absolute/path, got {url!r} "
            "(for a path relative to config.yaml, use 'path')"
        )
    if parts.scheme == "file" and "\x00" in file_url_path(parts.path):
        return f"a file URL cannot name a path with a NUL character (%00), got {url!r}"
    return ""


def _url_host_problem(parts: Any) -> str:
    """What is wrong with an http(s) URL's host and port ('' when nothing):
    caught here, the mistake is not reported at every fetch as something
    else (urllib3 calls an address it cannot parse a refused redirect)."""
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "the port is not a number from 1 to 65535"
    if not parts.hostname:
        return "no host"
    if any(char.isspace() or char in '<>"\\^`{|}' for char in parts.hostname):
        return f"the host {parts.hostname!r} has a character no host name can have"
    return ""


def _not_sqlite(path: Path) -> bool:
    """Whether `path` is a file with something in it other than an SQLite
    database. No file, an empty one (a new store) and one that cannot be
    read (the store will say why) are not refused here.

    SQLite is asked first, read-only: a running service re-reads its config,
    and any close of a file the process opened itself drops every lock the
    process holds on it (POSIX locks belong to the process). Another process
    would then take itself for the store's only user and delete the
    write-ahead log from under the service; SQLite keeps its files open
    until their locks are let go. Only a file SQLite refuses is opened, to
    tell a damaged store (its header, the store's to report) from another
    kind of file."""
    if not path.is_file():
        return False
    # Imported here: reading a config loads no database module until a
    # store file is there to be looked at.
    import sqlite3
    from contextlib import closing

    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            db.execute("PRAGMA schema_version").fetchone()
        return False
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_NOTADB:
            return False
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_HEADER)) != SQLITE_HEADER
    except OSError:
        return False


def _split_url(url: str) -> Any:
    """urlsplit, with a malformed URL (an unclosed "[") read as having no
    scheme, so the caller's own message names the key."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")


def _did_you_mean(name: str, choices: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _generic(key: str) -> str:
    """`sources[3].urll` -> `sources.urll`, for the RENAMED table."""
    return re.sub(r"\[\d+\]", "", key)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return type(value).__name__
