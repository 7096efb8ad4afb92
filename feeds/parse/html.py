"""Parse stage for news pages without a feed: HTML bytes -> list[Item]. Pure:
no network, no files, no clock. The one module that imports selectolax and
charset_normalizer.

Two modes:

- selector mode: CSS selectors from config.yaml pick each item block and,
  inside it, the title, link, date, summary, rubrics, image and author;
- automatic mode: what the page declares about itself, in this order and
  de-duplicated by link: JSON-LD (NewsArticle and friends, ItemList),
  OpenGraph/article meta of a single-article page, schema.org microdata.

Both return notes next to the items: one line for every field that came out
empty and why, for a preview command. Relative URLs are resolved against the
page's ``<base href>``, then the page URL; dates the page writes for people
go through `feeds.dates`, machine dates (ISO 8601) keep their own offset and
a naive one is in the source's time zone. An undated item stays undated.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import charset_normalizer
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from feeds.dates import parse_human_date
from feeds.errors import ParseError
from feeds.model import Fetched, Item, ParseContext, Source, canonical_link

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
#: schema.org types that make an item: Article, its news and blog subtypes.
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "AnalysisNewsArticle",
        "AskPublicNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReportageNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
    }
)

# The HTML standard reads a meta charset within the first 1024 bytes; real
# pages put a long <head> comment or inline styles first, so look further.
_PRESCAN = 4096
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
# What browsers do with these labels (WHATWG Encoding): "latin-1" and
# "ascii" pages are windows-1252.
_LABEL_CODECS = {"iso8859-1": "cp1252", "ascii": "cp1252"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Ё and ё: 0xA8/0xB8 in windows-1251, 0xB3/0xA3 in KOI8-R.
_YO = frozenset({0xA8, 0xB8, 0xA3, 0xB3})
#: Russian letters and how many of ten thousand letters of running text
#: each one is.
_RUSSIAN_LETTERS = (
    "о1097 е845 а801 и735 н670 т626 с547 р473 в454 л440 к349 м321 д298 п281 у262 я201 "
    "ы190 ь174 г170 з165 б159 ч144 й121 х97 ж94 ш73 ю64 ц48 щ36 э32 ф26 ъ4 ё4"
)
_RUSSIAN_FREQUENCY = {entry[0]: int(entry[1:]) for entry in _RUSSIAN_LETTERS.split()}
# Markup hides the language from the detector: it sees the text alone.
_MARKUP = re.compile(rb"<script\b.*?</script>|<style\b.*?</style>|<[^>]*>", re.I | re.S)

_FEED_ROOT = re.compile(r"^\s*(?:<\?[^>]*>\s*|<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)
_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|base|link|script|div|p|a|span|img|"
    r"article|section|main|header|h[1-6]|ul|ol|li|table)[\s>/]",
    re.I,
)
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_:][-\w:.]*$")
# Elements whose edges separate words in running text.
_BLOCK_TAG_NAMES = (
    "address article aside blockquote br dd div dl dt figcaption figure footer "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul"
)
_BLOCK_TAGS = frozenset(_BLOCK_TAG_NAMES.split())
_HIDDEN_TAGS = frozenset({"script", "style", "template"})
# "вчера, 09:30" and "22 ноября, 18:40": feeds.dates reads the part after a
# comma first, which loses the day; the date reads right without the comma.
_COMMA = re.compile(r"\s*,\s*")
_ISO_START = re.compile(r"^\d{4}-?\d{2}-?\d{2}")
_SPACE_BEFORE_OFFSET = re.compile(r"\s+(?=[+-]\d{2}(?::?\d{2})?$)")

_FIELDS = ("title", "link", "date", "summary", "rubrics", "image", "author")


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors for selector mode. `item` selects each item block; the
    others are relative to it. A value "css@attr" reads an attribute, plain "css" reads the text.

    "@attr" alone reads the item block itself. Plain `summary` reads the
    inner HTML; plain `link` and `image` read the href/src (data-src for
    lazy images) of the element or of the first link/image inside it;
    plain `date` prefers a datetime or content attribute to the text.
    """

    item: str
    title: str = ""
    link: str = ""
    date: str = ""
    summary: str = ""
    rubrics: str = ""  # may match several elements: each is a category
    image: str = ""
    author: str = ""

    def __post_init__(self) -> None:
        if not self.item.strip():
            raise ValueError("selectors need an item selector")


@dataclass(slots=True)
class _Page:
    """One parse: the source, where relative URLs point, the clock, and the
    notes gathered on the way."""

    source: str
    url: str
    base: str
    zone: ZoneInfo
    context: ParseContext
    notes: list[str] = field(default_factory=list)

    def absolute(self, url: str) -> str:
        url = url.strip()
        return urljoin(self.base, url) if url else ""


# ---------------------------------------------------------------- decoding


def decode_page(body: bytes, headers: dict[str, str]) -> str:
    """The page as text.

    A byte-order mark first, and valid UTF-8 with non-ASCII bytes second:
    neither happens by chance, and both outrank a stale declaration (a site
    moved to UTF-8 whose server still says windows-1251). Then the charset
    of the Content-Type header, of a <meta> in the first 4 KB, a guess
    (Russian in windows-1251 or KOI8-R, then charset_normalizer), and last
    UTF-8 with U+FFFD for what does not fit.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    if not body.isascii():
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    header = _HEADER_CHARSET.search(content_type)
    meta = _META_CHARSET.search(body[:_PRESCAN])
    declared = [
        _codec(header.group(1) if header else ""),
        _codec(meta.group(1).decode("ascii", "replace") if meta else "", in_page=True),
    ]
    for label_codec in declared:
        text = _strict_enough(body, label_codec) if label_codec else None
        if text is not None:
            return text
    if body.isascii():
        return body.decode("ascii")
    sample = _MARKUP.sub(b" ", body)
    cyrillic = _cyrillic_codec(sample)
    if cyrillic:
        return body.decode(cyrillic, errors="replace")
    best = charset_normalizer.from_bytes(sample if sample.strip() else body).best()
    if best is not None:
        return body.decode(best.encoding, errors="replace")
    return body.decode("utf-8", errors="replace")


def _cyrillic_codec(text: bytes) -> str | None:
    """windows-1251 or KOI8-R for Russian text, else None.

    A statistical detector guesses wrong on a short page (a KOI8-R headline
    comes out as Shift-JIS), so Russian is recognised by its shape first:
    both encodings keep the letters in 0xC0-0xFF, and a Cyrillic word is a
    run of such bytes (a French "été" is not). Which of the two it is, the
    letter frequencies tell: read in the wrong one, "о", "е", "а" turn into
    rare letters, whatever the case (an all-capitals headline too).
    """
    high = [i for i, byte in enumerate(text) if byte >= 0x80]
    if len(high) < 4:
        return None
    letters = [i for i in high if text[i] >= 0xC0 or text[i] in _YO]
    if len(letters) < 0.9 * len(high):
        return None
    in_runs = sum(
        1
        for i in letters
        if (i > 0 and text[i - 1] >= 0xC0) or (i + 1 < len(text) and text[i + 1] >= 0xC0)
    )
    if in_runs < 0.6 * len(letters):
        return None
    word_bytes = bytes(text[i] for i in letters)

    def score(codec: str) -> int:
        decoded = word_bytes.decode(codec, errors="replace").lower()
        return sum(_RUSSIAN_FREQUENCY.get(letter, 0) for letter in decoded)

    return max(("cp1251", "koi8-r"), key=score)


def _codec(label: str, *, in_page: bool = False) -> str | None:
    """Python's codec for a charset label, the way browsers read the label."""
    for candidate in (label, label.lower().removeprefix("x-")):  # x-cp1251
        try:
            name = codecs.lookup(candidate).name
        except LookupError:
            continue
        # A page's own text cannot declare UTF-16: it was read as ASCII.
        if in_page and name.startswith("utf-16"):
            return "utf-8"
        return _LABEL_CODECS.get(name, name)
    return None


def _strict_enough(body: bytes, codec: str) -> str | None:
    """The body in a declared charset, unless that is plainly wrong (a
    "UTF-8" page in windows-1251): a stray bad byte in a thousand is kept
    as U+FFFD, as a browser would."""
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        text = body.decode(codec, errors="replace")
    return text if text.count("\ufffd") <= max(1, len(text) // 1000) else None


# ---------------------------------------------------------------- page level


def advertised_feed(page: str, page_url: str) -> str | None:
    """The absolute URL of the first RSS, Atom or JSON feed the page
    advertises with <link rel="alternate">, or None."""
    return _advertised(LexborHTMLParser(page), page_url)


def _advertised(tree: LexborHTMLParser, page_url: str) -> str | None:
    base = _base_url(tree, page_url)
    for link in tree.css("link[href]"):
        attributes = link.attributes
        rels = (attributes.get("rel") or "").lower().split()
        kind = (attributes.get("type") or "").split(";")[0].strip().lower()
        href = (attributes.get("href") or "").strip()
        if "alternate" in rels and kind in FEED_TYPES and href:
            return urljoin(base, href)
    return None


def _base_url(tree: LexborHTMLParser, page_url: str) -> str:
    """The first <base href> (resolved against the page URL), else the page URL."""
    base = tree.css_first("base[href]")
    href = (base.attributes.get("href") or "").strip() if base is not None else ""
    if not href:
        return page_url
    resolved = urljoin(page_url, href)
    # javascript: and data: bases are ignored by browsers too.
    return resolved if resolved.lower().startswith(("http://", "https://")) else page_url


def parse_html(
    fetched: Fetched, source: Source, context: ParseContext, selectors: Selectors | None
) -> tuple[list[Item], list[str]]:
    """Items of a news page and notes on the fields that came out empty.
    Raises ParseError when the body is not HTML, when a selector is not
    valid CSS, or when the item selector matches nothing."""
    text = decode_page(fetched.body, fetched.headers)
    _check_html(text, source, fetched)
    tree = LexborHTMLParser(text)
    page = _Page(
        source=source.name,
        url=fetched.url,
        base=_base_url(tree, fetched.url),
        zone=ZoneInfo(context.timezone),
        context=context,
    )
    if selectors is not None:
        items = _select_items(tree, selectors, page)
    else:
        items = _declared_items(tree, page)
        if not items:
            note = "no items: no JSON-LD article or ItemList, OpenGraph article or microdata"
            feed = _advertised(tree, fetched.url)
            if feed:
                note += f"; the page advertises a feed at {feed} (type: feed reads it)"
            page.notes.append(note)
    return items, page.notes


def _check_html(text: str, source: Source, fetched: Fetched) -> None:
    def fail(detail: str) -> ParseError:
        return ParseError(source.name, detail, url=fetched.url)

    head = text[:4096]
    if not text.strip():
        raise fail("the body is empty")
    if "\x00" in head:
        raise fail("not an HTML page (binary data)")
    if _FEED_ROOT.match(head):
        raise fail("not an HTML page but an RSS or Atom feed (type: feed reads it)")
    if head.lstrip()[:1] in ("{", "["):
        raise fail("not an HTML page but JSON")
    if not _HTML_TAG.search(text):
        raise fail("not an HTML page (no HTML markup)")


# ---------------------------------------------------------------- text and dates


def _text(node: LexborNode) -> str:
    """Visible text of an element, one line: block boundaries and <br> are
    spaces, inline tags join without one ("<a>Путин</a>, Си" stays together),
    script and style are left out."""
    parts: list[str] = []
    stack: list[LexborNode | None] = [node]
    while stack:
        current = stack.pop()
        if current is None:
            parts.append(" ")
        elif current.is_text_node:
            parts.append(current.text_content or "")
        elif current.is_element_node and current.tag not in _HIDDEN_TAGS:
            if current.tag in _BLOCK_TAGS:
                parts.append(" ")
                stack.append(None)
            stack.extend(reversed(list(current.iter(include_text=True))))
    return " ".join("".join(parts).split())


def _plain(value: str) -> str:
    """A string from JSON as one line of plain text, entities decoded once."""
    if "<" in value:
        value = LexborHTMLParser(value, is_fragment=True).text()
    elif "&" in value:
        value = html.unescape(value)
    return " ".join(value.split())


def _read_date(value: str, page: _Page) -> datetime | None:
    """A machine date (ISO 8601, RFC 822) with its own offset, a naive one
    in the source's zone; else a date written for people."""
    text = " ".join(value.split())
    if not text:
        return None
    if _ISO_START.match(text):
        try:
            found = datetime.fromisoformat(_SPACE_BEFORE_OFFSET.sub("", text))
        except ValueError:
            pass
        else:
            return found if found.tzinfo else found.replace(tzinfo=page.zone)
    if text[:3].isalpha() and text[3:5] == ", ":
        try:
            mailed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
        else:
            # RFC 5322: "-0000" is UTC with the local offset unknown.
            return mailed if mailed.tzinfo else mailed.replace(tzinfo=UTC)
    context = page.context
    languages = (context.language,) if context.language else ()
    for candidate in dict.fromkeys((_COMMA.sub(" ", text), text)):
        human = parse_human_date(
            candidate, now=context.now, timezone=context.timezone, languages=languages
        )
        if human is not None:
            return human
    return None


def _with_image(summary: str, image: str) -> str:
    """The image reaches the feed as the summary's first element, unless the
    summary shows one already."""
    if not image or "<img" in summary.lower():
        return summary
    return f'<img src="{html.escape(image)}">{summary}'


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


# ---------------------------------------------------------------- selector mode


def _select_items(tree: LexborHTMLParser, selectors: Selectors, page: _Page) -> list[Item]:
    blocks = _css(tree.root, selectors.item, page) if tree.root is not None else []
    if not blocks:
        raise ParseError(
            page.source, f"selector {selectors.item!r} matched nothing on the page", url=page.url
        )
    for name in _FIELDS:
        if not getattr(selectors, name).strip():
            page.notes.append(f"{name}: no selector configured")
    return [_card(block, number, selectors, page) for number, block in enumerate(blocks, 1)]


def _card(block: LexborNode, number: int, selectors: Selectors, page: _Page) -> Item:
    def values(name: str, spec: str, read: _Reader) -> list[str]:
        return _values(block, number, name, spec, read, page)

    # Read in the order of _FIELDS, so the notes come in that order.
    title = next(iter(values("title", selectors.title, _TEXT)), "")
    link = next(iter(values("link", selectors.link, _LINK)), "")
    published = None
    for value in values("date", selectors.date, _DATE)[:1]:
        published = _read_date(value, page)
        if published is None:
            page.notes.append(f"item {number}: date: {value!r} not understood")
    summary = next(iter(values("summary", selectors.summary, _SUMMARY)), "")
    rubrics = values("rubrics", selectors.rubrics, _TEXT)
    image = next(iter(values("image", selectors.image, _IMAGE)), "")
    authors = values("author", selectors.author, _TEXT)
    return Item(
        source=page.source,
        title=title,
        link=page.absolute(link),
        summary=_with_image(summary, page.absolute(image)),
        image=page.absolute(image) if image else "",
        author=", ".join(authors),
        published=published,
        categories=tuple(rubrics),
        base=page.base,
    )


@dataclass(frozen=True, slots=True)
class _Reader:
    """How a field reads one matched element when its selector names no
    attribute, and what an element lacks when that comes out empty."""

    read: Callable[[LexborNode], str]
    lacks: str


def _values(
    block: LexborNode, number: int, name: str, spec: str, reader: _Reader, page: _Page
) -> list[str]:
    """Non-empty values of every element `spec` matches in `block`; a note
    when there are none."""
    spec = spec.strip()
    if not spec:
        return []
    css, attribute = _split_spec(spec)
    if css:
        # Like querySelectorAll: descendants only, never the block itself.
        own = block.mem_id
        nodes = [node for node in _css(block, css, page) if node.mem_id != own]
    else:
        nodes = [block]
    where = f"item {number}: {name}: selector {spec!r}"
    if not nodes:
        page.notes.append(f"{where} matched nothing")
        return []
    if attribute:
        raw = [node.attributes.get(attribute) or "" for node in nodes]
        if reader is _SUMMARY:
            raw = [html.escape(value, quote=False) for value in raw]
        values = _unique(" ".join(value.split()) for value in raw)
    else:
        values = _unique(reader.read(node) for node in nodes)
    if not values:
        lacks = f"a {attribute!r} attribute" if attribute else reader.lacks
        page.notes.append(f"{where} matched {len(nodes)} element(s) without {lacks}")
    return values


def _split_spec(spec: str) -> tuple[str, str]:
    """'h2 a@href' -> ('h2 a', 'href'); an '@' inside a CSS attribute
    selector (a[href^="mailto:x@y"]) is not a split."""
    css, at, attribute = spec.rpartition("@")
    if at and _ATTRIBUTE_NAME.match(attribute):
        return css.strip(), attribute.lower()
    return spec, ""


def _css(node: LexborNode, css: str, page: _Page) -> list[LexborNode]:
    try:
        return node.css(css)
    except SelectolaxError as exc:
        raise ParseError(
            page.source, f"selector {css!r} is not valid CSS ({exc})", url=page.url
        ) from exc


def _machine_date_or_text(node: LexborNode) -> str:
    # <time datetime> and <meta content> say it for machines: prefer that.
    for name in ("datetime", "content"):
        value = (node.attributes.get(name) or "").strip()
        if value:
            return value
    return _text(node)


def _url_of(attributes: tuple[str, ...], inner: str) -> Callable[[LexborNode], str]:
    """A URL field reads the element's own href/src, else that of the first
    link/image inside it; never its text."""

    def read(node: LexborNode) -> str:
        for candidate in (node, node.css_first(inner)):
            if candidate is None:
                continue
            for name in attributes:
                value = (candidate.attributes.get(name) or "").strip()
                # A lazy-loading placeholder is a data: URI in src.
                if value and not value.startswith("data:"):
                    return value
        return ""

    return read


_TEXT = _Reader(_text, "text")
_SUMMARY = _Reader(lambda node: (node.inner_html or "").strip(), "content")
_DATE = _Reader(_machine_date_or_text, "a datetime, content or text")
_LINK = _Reader(_url_of(("href",), "a[href]"), "an href (nor a link inside)")
# Lazy-loading images keep the real source in data-src, a placeholder in src.
_IMAGE = _Reader(_url_of(("data-src", "src"), "img"), "a src (nor an image inside)")


# ---------------------------------------------------------------- automatic mode


@dataclass(slots=True)
class _Found:
    """An item the page declares, where it came from and what it lacked.
    `page_level`: it describes the page itself, not one entry of a list."""

    item: Item
    origin: str
    missing: list[str]
    page_level: bool = False


def _declared_items(tree: LexborHTMLParser, page: _Page) -> list[Item]:
    found = [*_json_ld_items(tree, page), *_open_graph_items(tree, page)]
    found += _microdata_items(tree, page)
    items: list[Item] = []
    seen: set[str] = set()
    for entry in found:
        # The same story from JSON-LD and OpenGraph may differ by a slash
        # or a tracking parameter.
        key = canonical_link(entry.item.link).rstrip("/")
        if key and key in seen:
            continue
        seen.add(key)
        items.append(entry.item)
        for missing in entry.missing:
            page.notes.append(f"item {len(items)} ({entry.origin}): {missing}")
    return items


def _page_link(tree: LexborHTMLParser, page: _Page, og_url: str = "") -> str:
    """The address of the page itself: og:url, canonical link, fetched URL."""
    if og_url:
        return page.absolute(og_url)
    for link in tree.css("link[rel][href]"):
        if "canonical" in (link.attributes.get("rel") or "").lower().split():
            return page.absolute(link.attributes.get("href") or "") or page.url
    return page.url


def _link_the_page(found: list[_Found], tree: LexborHTMLParser, page: _Page) -> None:
    """The one article of an article page that gives no URL is the page."""
    page_level = [entry for entry in found if entry.page_level]
    if len(page_level) == 1 and not page_level[0].item.link:
        entry = page_level[0]
        entry.item = entry.item.evolve(link=_page_link(tree, page))
        entry.missing = [m for m in entry.missing if not m.startswith("link:")]


def _dated(
    raw_published: str, raw_updated: str, page: _Page, missing: list[str], absent: str
) -> tuple[datetime | None, datetime | None]:
    published = _read_date(raw_published, page) if raw_published else None
    updated = _read_date(raw_updated, page) if raw_updated else None
    for raw, value in ((raw_published, published), (raw_updated, updated)):
        if raw and value is None:
            missing.append(f"date: {raw!r} not understood")
    if published is None:
        # A page that says only when it was modified is dated by that.
        published, updated = updated, None
    if not (raw_published or raw_updated):
        missing.append(f"date: {absent}")
    return published, updated


# JSON-LD


def _json_ld_items(tree: LexborHTMLParser, page: _Page) -> list[_Found]:
    documents: list[Any] = []
    number = 0
    for script in tree.css("script[type]"):
        kind = (script.attributes.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        number += 1
        raw = script.text().strip()
        # Old CMS templates wrap the block in a comment or CDATA.
        raw = re.sub(r"^(?:<!--|//\s*<!\[CDATA\[)|(?:-->|//\s*\]\]>)$", "", raw).strip()
        try:
            # strict=False: raw newlines inside strings are common.
            documents.append(json.loads(raw, strict=False))
        except json.JSONDecodeError as exc:
            page.notes.append(f"JSON-LD block {number}: not valid JSON ({exc})")
    index: dict[str, dict[str, Any]] = {}
    for document in documents:
        _index_ids(document, index)
    found: list[_Found] = []
    visited: set[int] = set()
    for document in documents:
        for node in _top_nodes(document):
            _visit(node, index, page, found, visited, listed=False)
    _link_the_page(found, tree, page)
    return found


def _index_ids(node: Any, index: dict[str, dict[str, Any]]) -> None:
    if isinstance(node, list):
        for child in node:
            _index_ids(child, index)
    elif isinstance(node, dict):
        identity = node.get("@id")
        if isinstance(identity, str) and len(node) > 1:
            index.setdefault(identity, node)
        for child in node.values():
            if isinstance(child, dict | list):
                _index_ids(child, index)


def _top_nodes(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, list):
        for child in document:
            yield from _top_nodes(child)
    elif isinstance(document, dict):
        if "@type" in document:
            yield document
        yield from _top_nodes(document.get("@graph"))


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    # "NewsArticle", "schema:NewsArticle", "https://schema.org/NewsArticle"
    return {re.split(r"[/:#]", name)[-1] for name in names if isinstance(name, str)}


def _resolve(node: Any, index: dict[str, dict[str, Any]]) -> Any:
    """A bare {"@id": ...} reference replaced by the node it names."""
    if isinstance(node, dict) and set(node) == {"@id"} and isinstance(node["@id"], str):
        return index.get(node["@id"], node)
    return node


def _visit(
    node: Any,
    index: dict[str, dict[str, Any]],
    page: _Page,
    found: list[_Found],
    visited: set[int],
    *,
    listed: bool,
) -> None:
    node = _resolve(node, index)
    if isinstance(node, list):
        for child in node:
            _visit(child, index, page, found, visited, listed=listed)
        return
    if not isinstance(node, dict) or id(node) in visited:
        return
    visited.add(id(node))
    types = _types(node)
    if types & ARTICLE_TYPES:
        found.append(_json_ld_item(node, index, page, listed=listed))
    elif "ItemList" in types:
        elements = node.get("itemListElement")
        for element in elements if isinstance(elements, list) else [elements]:
            _visit_list_element(element, index, page, found, visited)
    # CollectionPage -> ItemList, WebPage -> NewsArticle.
    if "mainEntity" in node:
        _visit(node["mainEntity"], index, page, found, visited, listed=listed)


def _visit_list_element(
    element: Any,
    index: dict[str, dict[str, Any]],
    page: _Page,
    found: list[_Found],
    visited: set[int],
) -> None:
    element = _resolve(element, index)
    if isinstance(element, str):
        found.append(_json_ld_item({"url": element}, index, page, listed=True))
        return
    if not isinstance(element, dict):
        return
    if _types(element) & ARTICLE_TYPES:
        _visit(element, index, page, found, visited, listed=True)
        return
    inner = _resolve(element.get("item"), index)
    if isinstance(inner, dict) and _types(inner) & ARTICLE_TYPES:
        _visit(inner, index, page, found, visited, listed=True)
        return
    # A ListItem: its own url and name, or those of a plain `item`.
    thing = dict(element)
    if isinstance(inner, str):
        thing["url"] = inner
    elif isinstance(inner, dict):
        thing = {**inner, **{k: v for k, v in element.items() if k not in ("item", "@type")}}
        thing.setdefault("url", inner.get("@id"))
    found.append(_json_ld_item(thing, index, page, listed=True))


def _json_ld_item(
    node: dict[str, Any], index: dict[str, dict[str, Any]], page: _Page, *, listed: bool
) -> _Found:
    missing: list[str] = []
    title = _json_string(node.get("headline")) or _json_string(node.get("name"))
    if not title:
        missing.append("title: no headline or name")
    link = _json_url(node.get("url"), index) or _json_url(node.get("mainEntityOfPage"), index)
    if not link:
        missing.append("link: no url or mainEntityOfPage")
    published, updated = _dated(
        _json_string(node.get("datePublished")),
        _json_string(node.get("dateModified")),
        page,
        missing,
        "no datePublished or dateModified",
    )
    description = _json_string(node.get("description"))
    if not description:
        missing.append("summary: no description")
    categories = _json_strings(node.get("articleSection"))
    keywords = node.get("keywords")
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    categories += _json_strings(keywords)
    if not categories:
        missing.append("rubrics: no articleSection or keywords")
    author = ", ".join(_unique(_json_names(node.get("author"), index)))
    if not author:
        missing.append("author: no author")
    image = _json_url(node.get("image"), index)
    item = Item(
        source=page.source,
        title=title,
        link=page.absolute(link),
        summary=_with_image(html.escape(description, quote=False), page.absolute(image)),
        image=page.absolute(image) if image else "",
        author=author,
        published=published,
        updated=updated,
        categories=tuple(_unique(categories)),
        base=page.base,
    )
    return _Found(item, "JSON-LD", missing, page_level=not listed)


def _json_string(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return _plain(value) if isinstance(value, str) else ""


def _json_strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return _unique(_json_string(v) for v in values)


def _json_names(value: Any, index: dict[str, dict[str, Any]]) -> Iterator[str]:
    """Names of a string, Person/Organization object or a list of them."""
    value = _resolve(value, index)
    if isinstance(value, list):
        for child in value:
            yield from _json_names(child, index)
    elif isinstance(value, dict):
        yield _json_string(value.get("name"))
    else:
        yield _json_string(value)


def _json_url(value: Any, index: dict[str, dict[str, Any]]) -> str:
    """A URL from a string, an object with url/contentUrl/@id, or the first
    of a list of them."""
    value = _resolve(value, index)
    if isinstance(value, list):
        return next((url for v in value if (url := _json_url(v, index))), "")
    if isinstance(value, dict):
        for key in ("url", "contentUrl", "@id"):
            if isinstance(value.get(key), str) and value[key].strip():
                return str(value[key]).strip()
        return ""
    return value.strip() if isinstance(value, str) else ""


# OpenGraph


def _open_graph_items(tree: LexborHTMLParser, page: _Page) -> list[_Found]:
    meta: dict[str, list[str]] = {}
    for node in tree.css("meta[content]"):
        attributes = node.attributes
        key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
        value = " ".join((attributes.get("content") or "").split())
        if key and value:
            meta.setdefault(key, []).append(value)

    def first(key: str) -> str:
        return meta.get(key, [""])[0]

    # A home page is og:type website; only an article page is an item.
    if not (first("og:type").startswith("article") or "article:published_time" in meta):
        return []
    missing: list[str] = []
    title = first("og:title")
    if not title:
        missing.append("title: no og:title")
    published, updated = _dated(
        first("article:published_time"),
        first("article:modified_time"),
        page,
        missing,
        "no article:published_time",
    )
    description = first("og:description")
    if not description:
        missing.append("summary: no og:description")
    categories = _unique([*meta.get("article:section", []), *meta.get("article:tag", [])])
    if not categories:
        missing.append("rubrics: no article:section or article:tag")
    # article:author is meant to be a profile URL; a name is what a reader wants.
    names = [a for a in meta.get("article:author", []) if not a.startswith(("http:", "https:"))]
    author = ", ".join(_unique(names or meta.get("author", [])))
    if not author:
        missing.append("author: no article:author")
    item = Item(
        source=page.source,
        title=title,
        link=_page_link(tree, page, first("og:url")),
        summary=_with_image(
            html.escape(description, quote=False), page.absolute(first("og:image"))
        ),
        image=page.absolute(first("og:image")) if first("og:image") else "",
        author=author,
        published=published,
        updated=updated,
        categories=tuple(categories),
        base=page.base,
    )
    return [_Found(item, "OpenGraph", missing)]


# Microdata

#: Where a microdata property's value sits, by element (HTML standard, "values").
_PROPERTY_ATTRIBUTES = {
    "meta": "content",
    "a": "href",
    "area": "href",
    "link": "href",
    "img": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "time": "datetime",
    "data": "value",
    "meter": "value",
    "object": "data",
}
#: Properties a reader sees as words: <a itemprop="author" href="/authors/7">
#: means the name shown, not the profile URL.
_WORDS = frozenset({"headline", "name", "author", "articleSection", "keywords"})


def _microdata_items(tree: LexborHTMLParser, page: _Page) -> list[_Found]:
    scopes = [
        node
        for node in tree.css("[itemscope][itemtype]")
        if _schema_types(node.attributes.get("itemtype") or "") & ARTICLE_TYPES
    ]
    found = [_microdata_item(scope, page) for scope in scopes]
    for entry in found:
        entry.page_level = len(found) == 1
    _link_the_page(found, tree, page)
    return found


def _schema_types(itemtype: str) -> set[str]:
    return {re.split(r"[/#]", name)[-1] for name in itemtype.split()}


def _microdata_item(scope: LexborNode, page: _Page) -> _Found:
    props = _properties(scope)

    def values(name: str) -> list[str]:
        return _unique(_property_value(node, name in _WORDS) for node in props.get(name, []))

    def value(*names: str) -> str:
        return next((v for name in names for v in values(name)), "")

    missing: list[str] = []
    title = value("headline", "name")
    if not title:
        missing.append("title: no itemprop headline or name")
    link = value("url", "mainEntityOfPage")
    itemid = (scope.attributes.get("itemid") or "").strip()
    if not link and itemid.startswith(("http:", "https:", "/")):
        link = itemid
    if not link:
        missing.append("link: no itemprop url")
    published, updated = _dated(
        value("datePublished"), value("dateModified"), page, missing, "no itemprop datePublished"
    )
    summary = next(
        (text for node in props.get("description", []) if (text := _property_html(node))), ""
    )
    if not summary:
        missing.append("summary: no itemprop description")
    keywords = (word.strip() for words in values("keywords") for word in words.split(","))
    categories = _unique([*values("articleSection"), *keywords])
    if not categories:
        missing.append("rubrics: no itemprop articleSection or keywords")
    author = ", ".join(values("author"))
    if not author:
        missing.append("author: no itemprop author")
    item = Item(
        source=page.source,
        title=title,
        link=page.absolute(link),
        summary=_with_image(summary, page.absolute(value("image"))),
        image=page.absolute(value("image")) if value("image") else "",
        author=author,
        published=published,
        updated=updated,
        categories=tuple(categories),
        base=page.base,
    )
    return _Found(item, "microdata", missing)


def _properties(scope: LexborNode) -> dict[str, list[LexborNode]]:
    """The itemprop elements of one itemscope, not those of items nested in it."""
    own = scope.mem_id
    props: dict[str, list[LexborNode]] = {}
    for node in scope.css("[itemprop]"):
        if node.mem_id == own:
            continue
        parent = node.parent
        while parent is not None and parent.mem_id != own:
            if "itemscope" in parent.attributes:
                break
            parent = parent.parent
        if parent is None or parent.mem_id != own:
            continue
        for name in (node.attributes.get("itemprop") or "").split():
            props.setdefault(name, []).append(node)
    return props


def _property_value(node: LexborNode, words: bool = False) -> str:
    """A property's value; a nested item (an author's Person, an
    ImageObject) gives its name or URL."""
    attributes = node.attributes
    if "itemscope" in attributes:
        nested = _properties(node)
        for name in ("name", "url", "contentUrl"):
            for inner in nested.get(name, []):
                if value := _property_value(inner, words=name == "name"):
                    return value
        return _text(node)
    tag = node.tag or ""
    if words and tag in ("a", "area"):
        text = _text(node)
        if text:
            return text
    attribute = _PROPERTY_ATTRIBUTES.get(tag)
    if attribute:
        value = " ".join((attributes.get(attribute) or "").split())
        if value or tag != "time":
            return value
    return _text(node)


def _property_html(node: LexborNode) -> str:
    if (node.tag or "") in _PROPERTY_ATTRIBUTES:
        return html.escape(_property_value(node), quote=False)
    return (node.inner_html or "").strip()


# -- the registry's interface (feeds.parse) ---------------------------------


def _selectors_of(source: Source) -> Selectors | None:
    return Selectors(**dict(source.selectors)) if source.selectors else None


def parse(fetched: Fetched, source: Source, context: ParseContext) -> list[Item]:
    """Items of a web page: by the source's CSS selectors, or from what the
    page declares (JSON-LD, OpenGraph, microdata). Raises ParseError."""
    return parse_html(fetched, source, context, _selectors_of(source))[0]


def parse_with_notes(
    fetched: Fetched, source: Source, context: ParseContext
) -> tuple[list[Item], list[str]]:
    """`parse`, with a line for each field that came out empty and why."""
    return parse_html(fetched, source, context, _selectors_of(source))


def follow(fetched: Fetched, source: Source) -> str:
    """The feed a page advertises, to be read instead of the page, when the
    source has no selectors of its own ('' when there is none)."""
    if source.selectors:
        return ""
    page = decode_page(fetched.body, fetched.headers)
    return advertised_feed(page, fetched.url) or ""
