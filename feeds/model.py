"""The values that travel through the pipeline. Standard library only, no I/O.

Every type here is frozen: stages return new values (``dataclasses.replace``)
rather than changing the ones they were given.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import operator
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

#: Characters XML 1.0 forbids: a feed carrying one would not parse at all.
#: Also C1 controls (U+007F-U+009F: readers turn them into windows-1252
#: letters, HTML forbids them) and lone surrogates (a JSON "\ud800"
#: escape), which no encoder can write.
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


#: Characters no XML document can carry at all. UNWRITABLE takes the C1
#: controls too, which XML allows but discourages: text drops them, while
#: links and ids keep them as they always were written (ids never change).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def writable(value: str) -> str:
    """`value` with the characters no XML document can carry percent-encoded
    (a feed holding one could not be written at all), the rest as given.
    For links and ids, where the encoding reads as the character did."""
    if _NOT_IN_XML.search(value):
        return _NOT_IN_XML.sub(percent_encoded, value)
    return value


def percent_encoded(found: re.Match[str]) -> str:
    """A matched character as a URL writes it."""
    # A lone surrogate (a JSON "\ud800") has no UTF-8 form: its own bytes.
    return quote(found.group(), safe="", errors="surrogatepass")


def image_type_of(url: str, declared: str = "") -> str:
    """An image's MIME type: from its file name when that says, else what
    the source declared if it is an image type, else ''."""
    guessed = mimetypes.guess_type(url.split("?", 1)[0])[0] or ""
    if guessed.startswith("image/"):
        return guessed
    return declared if declared.startswith("image/") else ""


def joined(base: str, url: str) -> str:
    """`url` made absolute against `base`, as urljoin does; '' for an
    address it cannot read (an unclosed "[" in the host), as feedparser
    gives it: a source's typo is not worth its whole body."""
    try:
        return urljoin(base, url)
    except ValueError:
        return ""


def mail_date(text: str) -> datetime | None:
    """A date in RFC 5322's form, as HTTP headers and RSS write it
    (``Mon, 01 Jan 2020 00:00:00 GMT``), read as email.utils reads it:
    naive when it names no zone. None when it is not one, including a
    number too big for the C types the standard library hands it to (a
    zone of ``+99999999999999``, a 12-digit year), which raises
    OverflowError there: one such date failed its whole source, and such
    an If-Modified-Since answered 500."""
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def usable_link(link: str) -> bool:
    """Whether a web link can be read at all: its host and port make
    sense (a port of 99999 or "abc", an unclosed "[", are typos no reader
    can follow, and would trip whatever parses the link next)."""
    if "[" not in link and link.count(":") == 1:
        return True  # the scheme's colon alone: no port, no IPv6 host
    try:
        urlsplit(link).port  # noqa: B018 (checks the port; raises for a bad one)
    except ValueError:
        return False
    return True


#: Elements open inside each other beyond this make a page or an item's
#: HTML a hostile one: for many tags (a block, a stray end tag) HTML
#: parsers look through the elements still open, so n nested elements
#: cost n² (20,000 <div>s took nh3 1 s, 120,000 over 30 s). Real pages
#: stay under a hundred.
MAX_NESTING = 512
#: Items one answer may give. The 10 MiB a body may have hold at most
#: ~20,000 real stories; a body of 3.4 million empty ones (`{}` in a JSON
#: Feed, `<item/>`) took minutes and gigabytes to read. Such a body is
#: refused, with an error that says so.
MAX_ITEMS_PER_FETCH = 50_000
#: Text (titles, summaries, contents) one answer's items may hold: this
#: many times its body, and a megabyte. A page whose thousand declared
#: items all pointed at one 1 MB description gave a gigabyte of items.
MAX_TEXT_GROWTH = 8


def text_allowed(body: int) -> int:
    """How many characters of item text a body of `body` bytes may give."""
    return MAX_TEXT_GROWTH * body + 2**20


#: A comment, a script or style element (skipped whole; one left open
#: runs to the end), or a tag.
_TAG_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)|<(/?)([A-Za-z][^\s/>]*)([^>]*)>",
    re.DOTALL | re.IGNORECASE,
)
#: Elements that never hold others, and those the next of their kind
#: (or their parent's end) closes when left open: neither nests.
_NOT_NESTING = frozenset(
    (  # noqa: SIM905 (names, one per line, read worse)
        "area base br col embed hr img input link meta param source track wbr keygen "
        "p li dt dd tr td th option optgroup thead tbody tfoot colgroup caption "
        "rb rt rtc rp html head body"
    ).split()
)
#: Where "/>" closes an element as it opens it (in HTML it is ignored).
_FOREIGN = ("svg", "math")


def nested_too_deep(markup: str, limit: int = MAX_NESTING) -> bool:
    """Whether `markup` is too costly to parse as HTML (see `costly_markup`)."""
    return bool(costly_markup(markup, limit))


def costly_markup(markup: str, limit: int = MAX_NESTING) -> str:
    """Why parsing `markup` as HTML would cost minutes or gigabytes, or ''.
    As far as its tags tell: more than `limit` elements open inside each
    other (each end tag closes an open element of its own name only, and
    "/>" closes one only inside SVG or MathML); a tag with more than
    MAX_ATTRIBUTES attributes, or a list of more than MAX_OPTIONS options
    (HTML parsers spend n² on each); or formatting tags (`<b>`, `<font>`)
    left open when a block around them ends, which a parser copies into
    every element after, more than MAX_REBUILT copies in all. Costs
    nothing for short markup, and one regex pass else."""
    many_tags = len(markup) > 3 * limit and markup.count("<") > limit
    if not many_tags and (
        len(markup) <= 2 * MAX_ATTRIBUTES  # too short for that many attributes
        or (len(markup) <= _LONG_MARKUP and markup.count("=") <= MAX_ATTRIBUTES)
    ):
        return ""
    open_by_name: dict[str, int] = {}
    depth = 0
    options = 0
    #: The elements open, in order (those of _NOT_NESTING left out), and
    #: formatting elements their block's end left open, by name and by
    #: name and attributes (a parser keeps at most 3 alike).
    stack: list[tuple[str, str | None]] = []
    orphaned: dict[str, int] = {}
    orphaned_alike: dict[str, int] = {}
    copies = 0
    # Up to the last ">": past it no tag can end, and looking for an end
    # from each "<" of a run with none ("<a <a <a...") costs n².
    for tag in _TAG_TOKEN.finditer(markup, 0, markup.rfind(">") + 1):
        name = (tag[3] or "").lower()
        if not name:
            continue
        attributes = tag[4]
        if tag[2]:
            if name in _NOT_NESTING:
                continue
            if open_by_name.get(name, 0) > 0:
                open_by_name[name] -= 1
                depth -= 1
                if stack[-1][0] == name:
                    stack.pop()  # the usual case: nothing left open inside it
                else:
                    _close(stack, name, orphaned, orphaned_alike)
            elif orphaned.get(name, 0) > 0:
                orphaned[name] -= 1  # its end tag ends an orphan (the parser's adoption)
                _forget_alike(orphaned_alike, name)
            continue
        if len(attributes) > 2 * MAX_ATTRIBUTES and _attribute_count(attributes) > MAX_ATTRIBUTES:
            return f"a tag with more than {MAX_ATTRIBUTES:,} attributes"
        if name == "select":
            options = 0
        elif name == "option":
            options += 1
            if options > MAX_OPTIONS:
                return f"a list of more than {MAX_OPTIONS:,} options"
        if orphaned_alike:
            copies += sum(min(count, 3) for count in orphaned_alike.values())
            if copies > MAX_REBUILT:
                return (
                    "formatting tags left open when their block ended, copied into every "
                    f"element after: over {MAX_REBUILT:,} copies"
                )
        if name in _NOT_NESTING:
            continue
        closed = attributes.rstrip().endswith("/") and (
            name in _FOREIGN or any(open_by_name.get(f, 0) for f in _FOREIGN)
        )
        if not closed:
            open_by_name[name] = open_by_name.get(name, 0) + 1
            depth += 1
            if depth > limit:
                return f"elements nested more than {limit} deep"
            stack.append((name, attributes if name in _FORMATTING else None))
    return ""


def _close(
    stack: list[tuple[str, str | None]],
    name: str,
    orphaned: dict[str, int],
    orphaned_alike: dict[str, int],
) -> None:
    """Close the innermost open `name`: formatting elements (those with
    their attributes on the stack) opened inside it and still open are
    left to be copied into what follows."""
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == name:
            for inner, attributes in stack[index + 1 :]:
                if attributes is not None:
                    alike = f"{inner} {' '.join(attributes.split())}"
                    orphaned[inner] = orphaned.get(inner, 0) + 1
                    orphaned_alike[alike] = orphaned_alike.get(alike, 0) + 1
            del stack[index:]
            return


def _forget_alike(orphaned_alike: dict[str, int], name: str) -> None:
    """One orphaned `name` fewer, whichever attributes it had."""
    for alike in reversed(orphaned_alike):
        if alike.split(" ", 1)[0] == name:
            orphaned_alike[alike] -= 1
            if not orphaned_alike[alike]:
                del orphaned_alike[alike]
            return


def _attribute_count(attributes: str) -> int:
    """How many attributes a tag's text holds: its words once each value
    (`="..."`, `='...'`, `=word`) is taken out."""
    return len(_VALUE.sub(" ", attributes).split())


#: Attributes one tag may have, options one list: parsers spend n² on each
#: (20,000 attributes on one <p> took 7 s, 39,000 options 10 s a parse).
MAX_ATTRIBUTES = 1_000
MAX_OPTIONS = 5_000
#: Copies of formatting tags left open that a parser may make, ~400 bytes
#: each: 500 unlike <b>s left open in a <div>, then 19,000 paragraphs (a
#: 480 KB page) made 9.5 million elements and 3.5 GB; 5 of them, then
#: 50,000 paragraphs, 125 MB.
MAX_REBUILT = 250_000
#: Markup longer than this is looked into even with few tags and few "=":
#: 10,000 attributes without values ("<p a0 a1 ...>") take over 1 s.
_LONG_MARKUP = 20 * MAX_ATTRIBUTES
#: The formatting elements HTML parsers copy into later elements.
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())  # noqa: SIM905
_VALUE = re.compile(r"""\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]*)""")


def first_image(
    enclosures: Iterable[tuple[str, str, object]],
    media: Iterable[tuple[str, str, str]],
    base: str,
) -> tuple[str, str, int | None]:
    """An entry's picture, as every feed reader here picks it: the first
    image enclosure (url, type, length), else the first media element (url,
    type, medium) that is an image; the URL made absolute against `base`."""
    for url, declared, length in enclosures:
        kind = image_type_of(url, declared)
        if url and kind:
            return joined(base, url), kind, _length(length)
    for url, declared, medium in media:
        kind = image_type_of(url, declared)
        if url and (kind or medium == "image"):
            return joined(base, url), kind, None
    return "", "", None


def _length(value: object) -> int | None:
    """An enclosure's length in bytes, when it is one: plain digits (not
    "²", which isdigit() takes too), and no more than SQLite can store."""
    size = str(value or "").strip()
    if size.isascii() and size.isdigit() and len(size) <= _MOST_DIGITS:
        return int(size)
    return None


#: Digits of the longest length kept: 10**18 bytes is an exabyte, and
#: SQLite's integers end before 10**19.
_MOST_DIGITS = 18


#: An e-mail address, as author fields write one. Possessive: a hostile
#: author field cannot make it backtrack.
_ADDRESS = re.compile(r"[^\s()<>@]++@[^\s()<>@]++")


def references_read(text: str) -> str:
    """`text` with its character references read, once: for text a parser
    left as written ("Arts &amp; Culture" in a CDATA section, the fields
    feedparser's loose parser keeps so)."""
    return html.unescape(text) if "&" in text else text


def author_name(written: str) -> str:
    """The name an author field gives, without its e-mail address: RSS 2.0
    writes "ivan@example.ru (Иван Петров)", others "Иван Петров
    (ivan@example.ru)" or "Иван Петров <ivan@example.ru>". An address
    alone, or anything else, is kept as written."""
    text = written.strip()
    if text[-1:] in (")", ">"):
        start = text.rfind("(" if text[-1] == ")" else "<")
        before = text[:start].strip()
        if start > 0 and before and _ADDRESS.fullmatch(text[start + 1 : -1].strip()):
            return before
        first = text.find("(")
        name = text[first + 1 : -1].strip()
        if text[-1] == ")" and first > 0 and name and _ADDRESS.fullmatch(text[:first].strip()):
            return name
    return text


def _check_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be time-zone aware, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One story, from parse to render.

    Invariants: datetimes are aware (parsers may give local offsets; after
    `normalise` they are in UTC); `rubrics` holds rubric slugs, sorted, no
    repeats. `id` is empty until `normalise` decides it and never changes
    after that. `guid` is the source's own identifier when it has one.
    When a field is added, decide whether it belongs in `fingerprint`.
    """

    source: str
    title: str
    id: str = ""
    guid: str = ""
    link: str = ""
    summary: str = ""
    content: str = ""
    author: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    #: The time of day the source printed for an item it gave no day
    #: (``14:30``): `published` is then a guess at the day, and the id and
    #: the fingerprint take this time instead, so the guess drives neither.
    time_only: str = ""
    categories: tuple[str, ...] = ()
    rubrics: tuple[str, ...] = ()
    series: str = ""
    views: int | None = None
    #: The item's picture (a feed enclosure, media:content, og:image...):
    #: its absolute URL, MIME type and size in bytes when known.
    image: str = ""
    image_type: str = ""
    image_length: int | None = None
    #: The address relative URLs in the item's HTML are resolved against
    #: (the feed's or page's URL); used by `normalise`, never stored.
    base: str = ""
    #: `fingerprint()` once computed: a worker process computes it, and the
    #: copy it sends back carries it, so the store need not hash again.
    _digest: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError("an item needs the name of its source")
        _check_aware("published", self.published)
        _check_aware("updated", self.updated)
        if self.views is not None and self.views < 0:
            raise ValueError(f"views must not be negative, got {self.views}")

    def evolve(self, **changes: Any) -> Item:
        """A copy with `changes`, checked like a new item: what
        dataclasses.replace does, at a third of its cost (it runs twice for
        every item of every run)."""
        unknown = changes.keys() - _ITEM_FIELDS
        if unknown:
            raise TypeError(f"Item has no field {sorted(unknown)[0]!r}")
        new = object.__new__(Item)
        for put, value in zip(_SETTERS, _pickled_state(self), strict=True):
            put(new, value)
        for name, value in changes.items():
            object.__setattr__(new, name, value)
        object.__setattr__(new, "_digest", "")
        new.__post_init__()
        return new

    # Items cross from worker processes by the tens of thousands: pickled
    # as one tuple, at half the cost of the per-field state dataclasses
    # generate for slots.
    def __getstate__(self) -> tuple[Any, ...]:
        return _pickled_state(self)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for put, value in zip(_SETTERS, state, strict=True):
            put(self, value)

    def fingerprint(self) -> str:
        """A digest of what a reader sees of the story. Views are volatile and
        rubrics are kept per source by the store, so neither counts here:
        a changing view count alone is never an update."""
        if self._digest:
            return self._digest
        parts = (
            self.title,
            self.link,
            self.summary,
            self.content,
            self.author,
            # A guessed day is not what a reader sees: the store keeps the
            # date the story was first given.
            self.time_only or (self.published.isoformat() if self.published else ""),
            self.series,
            self.image,
        )
        digest = hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:32]
        object.__setattr__(self, "_digest", digest)
        return digest


_ITEM_FIELDS = frozenset(Item.__dataclass_fields__) - {"_digest"}
_PICKLED = tuple(Item.__dataclass_fields__)
_pickled_state = operator.attrgetter(*_PICKLED)
# The slots' own setters, which go round a frozen item's __setattr__ as
# object.__setattr__ does, at two thirds of its cost (no lookup by name):
# every field of every item copied or unpickled goes through them.
_SETTERS = tuple(Item.__dict__[name].__set__ for name in _PICKLED)


#: Feed formats, by file suffix.
FEED_FORMATS: tuple[str, ...] = ("atom", "rss", "json")

#: Item fields a Match may look in.
MATCH_FIELDS: tuple[str, ...] = ("title", "summary", "content", "link", "category", "author")


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A test on an item: a regular expression, or keywords (whole words,
    any case), looked for in some of its fields. Exactly one of `pattern`
    and `keywords` is set (config.py checks it)."""

    pattern: str = ""
    keywords: tuple[str, ...] = ()
    fields: tuple[str, ...] = ("title", "summary")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """Put items that pass `match` into rubric `rubric`."""

    rubric: str
    match: Match


@dataclass(frozen=True, slots=True, kw_only=True)
class Rubric:
    """A rubric of the vocabulary: `slug` names its feed files."""

    slug: str
    title: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    #: None: the site-wide output.max_items.
    max_items: int | None = None
    formats: tuple[str, ...] = FEED_FORMATS

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling that means this rubric (matched by `category_key`)."""
        return (self.title, self.slug, *self.aliases)


#: Left out of a name as compared: soft hyphens and zero-width characters,
#: which no reader sees; and ё is read as е, as Russian text often prints it.
_NAME_FOLDS = {ord(c): None for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff"} | {
    ord("ё"): "е",
    ord("Ё"): "Е",
}


def category_key(name: str) -> str:
    """What rubric names and categories are compared by. Case and runs of
    white space do not count, nor does how Unicode writes a letter (a "й"
    copied from macOS is an "и" and a combining breve), nor characters no
    reader sees, nor ё against е."""
    if not name.isascii():
        name = unicodedata.normalize("NFKC", name).translate(_NAME_FOLDS)
    return " ".join(name.casefold().split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One configured source. Exactly one of `url` and `path` is set."""

    name: str
    type: str
    url: str = ""
    path: Path | None = None
    rubrics: tuple[str, ...] = ()
    timezone: str = ""
    news_rubrics: tuple[str, ...] = ()
    timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    #: Seconds between fetches, unless `cron` (a crontab line) is set.
    interval: float = 1800.0
    cron: str = ""
    #: Language hint for dates written for people (else site.language).
    language: str = ""
    #: Items are kept when they pass one of `include` (if any) and none of
    #: `exclude`.
    include: tuple[Match, ...] = ()
    exclude: tuple[Match, ...] = ()
    #: `type: html` only: selector name -> CSS selector ("css" or
    #: "css@attribute"); empty means automatic mode.
    selectors: tuple[tuple[str, str], ...] = ()
    #: Fetch each new item's own page and take the whole article from it.
    full_content: bool = False
    #: Whether the source's guids are its stories' ids; false for a source
    #: that gives every entry one guid (ids then come from links).
    guids: bool = True

    @property
    def location(self) -> str:
        """Where the source is read from, for messages."""
        return self.url or str(self.path)

    @property
    def local_file(self) -> Path | None:
        """The local file the source reads (its `path`, or the file a
        `file:` URL names, decoded once); None for a web source."""
        if self.path is not None:
            return self.path
        parts = urlsplit(self.url)
        return Path(file_url_path(parts.path)) if parts.scheme == "file" else None


def file_url_path(path: str) -> str:
    """The local path a `file:` URL's (unquoted) path names. urllib.request
    is imported only then: it adds 13 ms to every command's start."""
    from urllib.request import url2pathname

    return url2pathname(path)


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    title: str
    base_url: str
    language: str = "en"
    timezone: str = "UTC"
    description: str = ""
    #: A WebSub hub to ping when feeds change ('' for none).
    hub: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """Defaults of the service's timing (seconds)."""

    interval: float = 1800.0
    jitter: float = 60.0
    max_backoff: float = 6 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    """Where `feeds run` and `feeds serve` listen."""

    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole of config.yaml, checked. Paths are absolute."""

    path: Path
    site: Site
    output_dir: Path
    max_items: int
    storage_url: str
    rubrics: tuple[Rubric, ...]
    series: tuple[str, ...]
    sources: tuple[Source, ...]
    rules: tuple[Rule, ...] = ()
    concurrency: int = 8
    #: Politeness per host: requests at once, and seconds between two starts.
    per_host: int = 2
    host_delay: float = 1.0
    #: Private hosts, addresses or networks (optionally :port) that fetches
    #: may reach; see feeds.guard. Checked strings.
    allow_private: tuple[str, ...] = ()
    schedule: Schedule = Schedule()
    #: None unless config.yaml has a `server:` section.
    server: Server | None = None
    log_format: str = "text"
    log_level: str = "info"
    #: Items per RFC 5005 archive page (output.archive_page_size); 0: no
    #: new pages (those written before stay, linked).
    archive_page_size: int = 100

    def rubric(self, slug: str) -> Rubric:
        for rubric in self.rubrics:
            if rubric.slug == slug:
                return rubric
        raise KeyError(slug)


#: The slug (and file name) of the feed that holds every item.
COMBINED = "all"
#: The folder of output/ that holds RFC 5005 archive pages.
ARCHIVE_DIR = "archive"


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """One full page of a feed's archive (RFC 5005): the members with
    sequence numbers `first`..`last` of the feed `slug`. Once recorded, a
    page never changes, but for a story taken out of it."""

    slug: str
    number: int
    first: int
    last: int
    #: When a story on it was taken out (`feeds forget`), if one was.
    changed: datetime | None = None


class ArchiveRow(NamedTuple):
    """A stored item as an archive page writes it, read straight from the
    store: its texts as the UTF-8 bytes stored, never decoded (archives
    write every item ever published, and decoding, building an Item and
    encoding again cost more than writing its entries). Only the fields
    an archive entry shows."""

    id: str
    title: bytes
    link: str
    summary: bytes
    content: bytes
    author: bytes
    published: datetime
    updated: datetime | None
    rubrics: tuple[str, ...]
    image: str
    image_type: str
    image_length: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """What a fetch brought back: raw bytes plus the response headers
    (lower-case names), so a parser can honour a declared charset."""

    source: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    not_modified: bool = False
    #: Where a permanent redirect (301/308) on the way pointed, if any.
    moved_to: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseContext:
    """What a parser may know besides the bytes: the clock, the source's time
    zone and the vocabulary (rubric and series names) from config.yaml."""

    now: datetime
    timezone: str
    rubric_names: tuple[str, ...] = ()
    series_names: tuple[str, ...] = ()
    language: str = ""

    def __post_init__(self) -> None:
        _check_aware("now", self.now)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceResult:
    """How one source fared in one run."""

    source: str
    error: str = ""
    status: int = 0
    not_modified: bool = False
    items: int = 0
    new: int = 0
    updated: int = 0
    seconds: float = 0.0
    #: '' when healthy, else 'failing', 'empty' or 'gone' (see store.SourceState).
    health: str = ""
    moved_to: str = ""
    next_due: datetime | None = None
    #: Not fetched: its server asked (Retry-After) for no request before then.
    waiting_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """The outcome of one full cycle."""

    started: datetime
    results: tuple[SourceResult, ...]
    written: tuple[str, ...] = ()
    unchanged: int = 0

    @property
    def failed(self) -> tuple[SourceResult, ...]:
        return tuple(r for r in self.results if not r.ok)


_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "yclid", "mc_cid", "mc_eid")
#: A web address: what a link, a picture or an item's base must be.
WEB_URL = re.compile(r"^https?://", re.IGNORECASE)
_SIMPLE_LINK = re.compile(r"^(https?)://([a-z0-9.-]+)(/[^?#]*)?$")


def canonical_link(link: str) -> str:
    """The form of a link used to spot one story published by several
    sources: scheme and host lower-cased, default port, fragment and tracking
    parameters dropped. Empty for an empty link, or one that cannot be read."""
    if not link:
        return ""
    simple = _SIMPLE_LINK.match(link)
    if simple:
        # The common case, without a query, a fragment, a port or capitals.
        return f"https://{simple.group(2)}{simple.group(3) or '/'}"
    try:
        parts = urlsplit(link.strip())
        port = parts.port if parts.port not in (None, 80, 443) else None
    except ValueError:
        return ""  # no reader can follow it: nothing to compare it by
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{port}" if port else host
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not key.lower().startswith(_TRACKING_PARAMS)
        ]
    )
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))
