"""Parse stage for news pages without a feed: HTML bytes -> list[Item]. Pure:
no network, no files, no clock. The page level and selector mode are here;
feeds.parse.decode turns the bytes into text, feeds.parse.declared is
automatic mode and feeds.parse.page holds what both modes share. These are
the modules that import selectolax and charset_normalizer.

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

import html
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from feeds.dates import writes_month_first
from feeds.errors import ParseError
from feeds.model import (
    Fetched,
    Item,
    ParseContext,
    Source,
    canonical_link,
    costly_markup,
    joined,
    nested_too_deep,
    text_allowed,
)
from feeds.parse import text_refused
from feeds.parse.declared import declared_items
from feeds.parse.decode import decode_page, document_kind
from feeds.parse.page import (
    Page,
    address_in,
    image_source,
    inner_html,
    node_text,
    plain,
    read_date,
    unique,
    with_image,
)

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})

_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|html|head|body|meta|title|base|link|script|div|p|a|span|img|"
    r"article|section|main|header|h[1-6]|ul|ol|li|table)[\s>/]",
    re.I,
)
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_:][-\w:.]*$")

_FIELDS = ("title", "link", "date", "summary", "rubrics", "image", "author")


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors for selector mode. `item` selects each item block; the
    others are relative to it. A value "css@attr" reads an attribute, plain "css" reads the text.

    "@attr" alone reads the item block itself. Plain `summary` reads the
    inner HTML; plain `link` and `image` read the href/src (data-src,
    data-lazy-src or data-original for lazy images) of the element or of
    the first link/image inside it;
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


# ---------------------------------------------------------------- page level


def advertised_feed(page: str, page_url: str) -> str | None:
    """The absolute URL of the first RSS, Atom or JSON feed the page
    advertises with <link rel="alternate">, or None."""
    if nested_too_deep(page):
        return None  # not parsed at all (see costly_markup)
    return _advertised(LexborHTMLParser(page), page_url)


def _advertised(tree: LexborHTMLParser, page_url: str) -> str | None:
    base = _base_url(tree, page_url)
    for link in tree.css("link[href]"):
        attributes = link.attributes
        rels = (attributes.get("rel") or "").lower().split()
        kind = (attributes.get("type") or "").split(";")[0].strip().lower()
        href = (attributes.get("href") or "").strip()
        if "alternate" in rels and kind in FEED_TYPES and href:
            url = joined(base, href)
            # The page is a stranger's: a file: (or any non-HTTP) address
            # would have the fetcher read a local file as the source (a
            # local page is often a saved copy of a stranger's page too).
            if url.lower().startswith(("http://", "https://")):
                return url
    return None


def page_addresses(page: str, page_url: str) -> frozenset[str]:
    """The addresses a page gives itself (the URL it was read from, its
    og:url and its canonical link) in the form that spots one story under
    several spellings (`canonical_link`, no final slash)."""
    if nested_too_deep(page):
        return frozenset((canonical_link(page_url).rstrip("/"),))  # see costly_markup
    tree = LexborHTMLParser(page)
    base = _base_url(tree, page_url)
    found = [page_url]
    for node in tree.css("meta[content]"):
        attributes = node.attributes
        if (attributes.get("property") or "").strip().lower() == "og:url":
            found.append(joined(base, (attributes.get("content") or "").strip()))
    for link in tree.css("link[rel][href]"):
        if "canonical" in (link.attributes.get("rel") or "").lower().split():
            found.append(joined(base, (link.attributes.get("href") or "").strip()))
    return frozenset(canonical_link(address).rstrip("/") for address in found)


def _base_url(tree: LexborHTMLParser, page_url: str) -> str:
    """The first <base href> (resolved against the page URL), else the page URL."""
    base = tree.css_first("base[href]")
    href = (base.attributes.get("href") or "").strip() if base is not None else ""
    if not href:
        return page_url
    resolved = joined(page_url, href)
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
    page = Page(
        source=source.name,
        url=fetched.url,
        base=_base_url(tree, fetched.url),
        zone=ZoneInfo(context.timezone),
        context=context,
        text_left=text_allowed(len(fetched.body)),
        month_first=writes_month_first(
            source.language, *_declared_languages(tree, fetched.headers), context.language
        ),
    )
    if selectors is not None:
        items = _select_items(tree, selectors, page)
    else:
        items = declared_items(tree, page)
        if not items:
            note = "no items: no JSON-LD article or ItemList, OpenGraph article or microdata"
            feed = _advertised(tree, fetched.url)
            if feed:
                note += f"; the page advertises a feed at {feed} (type: feed reads it)"
            page.notes.append(note)
    return items, page.notes


def _declared_languages(tree: LexborHTMLParser, headers: Mapping[str, str]) -> tuple[str, ...]:
    """The language the page says it is in, as browsers weigh it: its
    `<html lang="en-US">` (or `xml:lang`); only where it has neither, a
    `<meta http-equiv="content-language">`, then the Content-Language
    header (the first of a list): a server's or template's default
    (`en-US`) must not outweigh the page's own `lang="ru"`. A value no
    language tag is as long as is left out (it would only fill the cache
    of `writes_month_first`)."""
    found = []
    root = tree.css_first("html")
    if root is not None:
        found = [root.attributes.get("lang") or "", root.attributes.get("xml:lang") or ""]
    if not any(value.strip() for value in found):
        for meta in tree.css("meta[http-equiv]"):
            if (meta.attributes.get("http-equiv") or "").strip().lower() == "content-language":
                found.append(meta.attributes.get("content") or "")
                break
        found.append(headers.get("content-language", ""))
    tags = (value.split(",")[0].strip() for value in found)
    return tuple(tag for tag in tags if tag and len(tag) <= _LONGEST_LANGUAGE_TAG)


#: Longer than any language tag in use (BCP 47 asks for 35 at least).
_LONGEST_LANGUAGE_TAG = 64


def _check_html(text: str, source: Source, fetched: Fetched) -> None:
    def fail(detail: str) -> ParseError:
        return ParseError(source.name, detail, url=fetched.url)

    head = text[:4096]
    if not text.strip():
        raise fail("the body is empty")
    if "\x00" in head:
        raise fail("not an HTML page (binary data)")
    if document_kind(head) == "feed":
        raise fail("not an HTML page but an RSS or Atom feed (type: feed reads it)")
    if document_kind(head) == "json feed":
        raise fail("not an HTML page but a JSON Feed (type: feed reads it)")
    if head.lstrip()[:1] in ("{", "["):
        raise fail("not an HTML page but JSON")
    if not _HTML_TAG.search(text):
        raise fail("not an HTML page (no HTML markup)")
    costly = costly_markup(text)
    if costly:
        # Parsing it would take minutes, or gigabytes (see costly_markup).
        raise fail(f"{costly}: not read")


# ---------------------------------------------------------------- selector mode


def _select_items(tree: LexborHTMLParser, selectors: Selectors, page: Page) -> list[Item]:
    blocks = _css(tree.root, selectors.item, page) if tree.root is not None else []
    if not blocks:
        raise ParseError(
            page.source, f"selector {selectors.item!r} matched nothing on the page", url=page.url
        )
    for name in _FIELDS:
        if not getattr(selectors, name).strip():
            page.notes.append(f"{name}: no selector configured")
    items: list[Item] = []
    card_notes: list[list[str]] = []
    for number, block in enumerate(blocks, 1):
        start = len(page.notes)
        items.append(_card(block, number, selectors, page))
        card_notes.append(page.notes[start:])
        del page.notes[start:]
    for name, spec in (("title", selectors.title), ("link", selectors.link)):
        if spec.strip() and not any(getattr(item, name) for item in items):
            # The page changed under its selectors: its cards made one
            # link-less story titled "Untitled", and the source said "ok".
            raise ParseError(
                page.source,
                f"{name} selector {spec.strip()!r} found nothing in any of the "
                f"{len(items)} item(s) selector {selectors.item!r} matched "
                "(has the page changed?)",
                url=page.url,
            )
    # A card with no title, link, date or text is no story: an advert's
    # slot, a banner (it was published as "Untitled", dated when first
    # seen, at the top of every feed).
    empty = [
        index
        for index, item in enumerate(items)
        if not (item.title.strip() or item.link or item.published or plain(item.summary))
    ]
    for index in empty:
        page.notes.append(f"card {index + 1} of the page: no title, link, date or text: no story")
    if empty:
        dropped = set(empty)
        kept = [index for index in range(len(items)) if index not in dropped]
        items = [items[index] for index in kept]
        card_notes = [card_notes[index] for index in kept]
    stories = _one_story_a_link(items)
    for number, cards in enumerate(stories, 1):
        first = cards[0]
        # Numbered as the stories are, which preview lists.
        page.notes += [f"item {number}: {note.split(': ', 1)[1]}" for note in card_notes[first]]
        if len(cards) > 1:
            shown = ", ".join(str(card + 1) for card in cards)
            page.notes.append(
                f"item {number}: cards {shown} of the page lead to one link: one story"
            )
    return [_merged([items[card] for card in cards]) for cards in stories]


def _one_story_a_link(items: list[Item]) -> list[list[int]]:
    """The cards of each story, by their index in `items`: cards under one
    title leading to one place (tracking parameters set aside), as a
    featured card and the list's card do, are one story. A card with no
    title of its own joins the first at its place. Cards under other titles
    stay stories of their own: a page of videos, or a subscription page, is
    where many stories lead, and a teaser's shorter title cannot be told
    from another story's. So do cards at other fragments of one page (a
    live blog's entries, which may share a title)."""
    stories: list[list[int]] = []
    at: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        page = canonical_link(item.link).rstrip("/")
        if page and "#" in item.link:
            page += "#" + item.link.split("#", 1)[1]
        title = " ".join(item.title.split()).casefold()
        key = (page, title)
        found = at.get(key) if page else None
        if found is not None:
            stories[found].append(index)
            continue
        if page:
            at.setdefault(key, len(stories))
            at.setdefault((page, ""), len(stories))
        stories.append([index])
    return stories


def _merged(cards: list[Item]) -> Item:
    """The first card of a story, with what it lacks from the others and
    every card's rubrics."""
    first = cards[0]
    changes: dict[str, object] = {}
    for other in cards[1:]:
        for name in ("title", "summary", "published", "image", "author"):
            if name not in changes and not getattr(first, name) and getattr(other, name):
                changes[name] = getattr(other, name)
    categories = tuple(dict.fromkeys(c for card in cards for c in card.categories))
    if categories != first.categories:
        changes["categories"] = categories
    return first.evolve(**changes) if changes else first


def _card(block: LexborNode, number: int, selectors: Selectors, page: Page) -> Item:
    def values(name: str, spec: str, read: _Reader) -> list[str]:
        return _values(block, number, name, spec, read, page)

    # Read in the order of _FIELDS, so the notes come in that order.
    title = next(iter(values("title", selectors.title, _TEXT)), "")
    link = next(iter(values("link", selectors.link, _LINK)), "")
    published = None
    for value in values("date", selectors.date, _DATE)[:1]:
        published = read_date(value, page)
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
        summary=with_image(summary, page.absolute(image)),
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
    block: LexborNode, number: int, name: str, spec: str, reader: _Reader, page: Page
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
        raw = (node.attributes.get(attribute) or "" for node in nodes)
        if reader is _SUMMARY:
            raw = (html.escape(value, quote=False) for value in raw)
        values = unique(_charged((" ".join(value.split()) for value in raw), page))
    else:
        values = unique(_charged((reader.read(node) for node in nodes), page))
    if not values:
        lacks = f"a {attribute!r} attribute" if attribute else reader.lacks
        page.notes.append(f"{where} matched {len(nodes)} element(s) without {lacks}")
    return values


def _charged(values: Iterable[str], page: Page) -> Iterator[str]:
    """`values`, each taken from the text the page may give as it is read
    (see text_allowed). Raises ParseError once it is spent: 500 item blocks
    nested in each other, all reading one 8 MB paragraph as their summary,
    took 13 s and 3.9 GB."""
    for value in values:
        page.text_left -= len(value)
        if page.text_left < 0:
            raise text_refused(page.source, page.url)
        yield value


def selector_problem(name: str, spec: str) -> str:
    """What is wrong with the CSS of one configured selector ('' when
    nothing), so that `feeds check` refuses what every fetch would fail on.
    `item` is CSS alone; the other fields may end in `@attr`."""
    spec = spec.strip()
    css = spec if name == "item" else _split_spec(spec)[0]
    if not css:
        return ""
    try:
        LexborHTMLParser("<html></html>").root.css(css)  # type: ignore[union-attr]
    except SelectolaxError as exc:
        return f"{css!r} is not valid CSS ({exc})"
    return ""


def _split_spec(spec: str) -> tuple[str, str]:
    """'h2 a@href' -> ('h2 a', 'href'); an '@' inside a CSS attribute
    selector (a[href^="mailto:x@y"]) is not a split."""
    css, at, attribute = spec.rpartition("@")
    if at and _ATTRIBUTE_NAME.match(attribute):
        return css.strip(), attribute.lower()
    return spec, ""


def _css(node: LexborNode, css: str, page: Page) -> list[LexborNode]:
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
    return node_text(node)


def _url_of(address: Callable[[LexborNode], str], inner: str) -> Callable[[LexborNode], str]:
    """A URL field reads the element's own address, else that of the first
    link/image inside it; never its text."""

    def read(node: LexborNode) -> str:
        for candidate in (node, node.css_first(inner)):
            found = address(candidate) if candidate is not None else ""
            if found:
                return found
        return ""

    return read


def _href(node: LexborNode) -> str:
    return address_in(node, ("href",))


_TEXT = _Reader(node_text, "text")
_SUMMARY = _Reader(inner_html, "content")
_DATE = _Reader(_machine_date_or_text, "a datetime, content or text")
_LINK = _Reader(_url_of(_href, "a[href]"), "an href (nor a link inside)")
# Lazy-loading images keep the real source in data-src (or another of
# LAZY_SOURCES), a placeholder in src; responsive ones may give a srcset only.
_IMAGE = _Reader(_url_of(image_source, "img"), "a src (nor an image inside)")


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
