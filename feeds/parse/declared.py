"""Automatic mode of the HTML parser: the items a page declares about
itself, in this order and de-duplicated by link: JSON-LD (NewsArticle and
friends, ItemList), OpenGraph/article meta of a single-article page,
schema.org microdata; a story declared twice keeps the fields either
declaration gives. Pure: no network, no files, no clock.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feeds.model import MAX_ITEMS_PER_FETCH, Item, canonical_link
from feeds.parse import items_refused, text_refused
from feeds.parse.page import (
    Page,
    image_source,
    inner_html,
    node_text,
    plain,
    read_date,
    unique,
    with_image,
)

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


@dataclass(slots=True)
class _Found:
    """An item the page declares, where it came from and what it lacked.
    `page_level`: it describes the page itself, not one entry of a list."""

    item: Item
    origin: str
    missing: list[str]
    page_level: bool = False


def declared_items(tree: LexborHTMLParser, page: Page) -> list[Item]:
    json_ld, side_lists = _json_ld_items(tree, page)
    found = [*json_ld, *_open_graph_items(tree, page)]
    found += _microdata_items(tree, page)
    found += side_lists(found)
    kept: list[_Found] = []
    seen: dict[str, _Found] = {}
    for entry in found:
        # The same story from JSON-LD and OpenGraph may differ by a slash
        # or a tracking parameter.
        key = _story_key(entry)
        if key and key in seen:
            _fill_in(seen[key], entry)
            continue
        if key:
            seen[key] = entry
        kept.append(entry)
    for number, entry in enumerate(kept, 1):
        for missing in entry.missing:
            page.notes.append(f"item {number} ({entry.origin}): {missing}")
    return [entry.item for entry in kept]


def _story_key(entry: _Found) -> str:
    return canonical_link(entry.item.link).rstrip("/")


def _fill_in(kept: _Found, twin: _Found) -> None:
    """The fields a story's first declaration leaves empty, from a later
    one of the same story (a bare JSON-LD ItemList names the stories whose
    microdata cards give their dates, leads and pictures)."""
    item, other = kept.item, twin.item
    changes: dict[str, Any] = {}
    filled: set[str] = set()
    if not item.title and other.title:
        changes["title"] = other.title
        filled.add("title")
    if item.published is None and other.published is not None:
        changes.update(published=other.published, updated=other.updated)
        filled.add("date")
    if not item.author and other.author:
        changes["author"] = other.author
        filled.add("author")
    if not item.categories and other.categories:
        changes["categories"] = other.categories
        filled.add("rubrics")
    image = item.image or other.image
    text = _lead(item) or _lead(other)
    if text:
        filled.add("summary")
    if image != item.image:
        changes["image"] = image
    summary = with_image(text, image)
    if summary != item.summary:
        changes["summary"] = summary
    if changes:
        kept.item = item.evolve(**changes)
    kept.missing = [m for m in kept.missing if m.split(":", 1)[0] not in filled]


def _lead(item: Item) -> str:
    """A declared item's summary without the picture put at its head."""
    head = with_image("", item.image)
    return item.summary[len(head) :] if head and item.summary.startswith(head) else item.summary


def _declared_item(
    page: Page,
    *,
    title: str,
    link: str,
    summary: str,
    image: str,
    author: str,
    published: datetime | None,
    updated: datetime | None,
    categories: list[str],
) -> Item:
    """An item as the page declares it (JSON-LD, OpenGraph, microdata): its
    picture made absolute, and shown at the head of the summary too.
    Raises ParseError once the page's items hold more text than it may give
    (a thousand items all pointing at one 1 MB description took 11 s and a
    gigabyte to read)."""
    page.text_left -= len(title) + len(summary)
    if page.text_left < 0:
        raise text_refused(page.source, page.url)
    picture = page.absolute(image)
    return Item(
        source=page.source,
        title=title,
        link=link,
        summary=with_image(summary, picture),
        image=picture,
        author=author,
        published=published,
        updated=updated,
        categories=tuple(categories),
        base=page.base,
    )


def _page_link(tree: LexborHTMLParser, page: Page, og_url: str = "") -> str:
    """The address of the page itself: og:url, canonical link, fetched URL."""
    if og_url:
        return page.absolute(og_url)
    for link in tree.css("link[rel][href]"):
        if "canonical" in (link.attributes.get("rel") or "").lower().split():
            return page.absolute(link.attributes.get("href") or "") or page.url
    return page.url


def _link_the_page(found: list[_Found], tree: LexborHTMLParser, page: Page) -> None:
    """The one article of an article page that gives no URL is the page."""
    page_level = [entry for entry in found if entry.page_level]
    if len(page_level) == 1 and not page_level[0].item.link:
        entry = page_level[0]
        entry.item = entry.item.evolve(link=_page_link(tree, page))
        entry.missing = [m for m in entry.missing if not m.startswith("link:")]


def _dated(
    raw_published: str, raw_updated: str, page: Page, missing: list[str], absent: str
) -> tuple[datetime | None, datetime | None]:
    published = read_date(raw_published, page) if raw_published else None
    updated = read_date(raw_updated, page) if raw_updated else None
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


def _json_ld_items(
    tree: LexborHTMLParser, page: Page
) -> tuple[list[_Found], Callable[[list[_Found]], list[_Found]]]:
    """The stories the page's JSON-LD declares, and a function that gives
    those of its related or popular lists (`_SIDE_LIST`), given the
    page's other stories."""
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
        except ValueError as exc:  # JSONDecodeError, or a number of 5,000 digits
            page.notes.append(f"JSON-LD block {number}: not valid JSON ({exc})")
        except RecursionError:
            page.notes.append(f"JSON-LD block {number}: nested too deeply")
    index: dict[str, dict[str, Any]] = {}
    found: list[_Found] = []
    visited: set[int] = set()
    # The decoder takes a few hundred levels of nesting, and reading them
    # takes a frame or two a level: a block nested that deeply is skipped.
    readable = []
    for number, document in enumerate(documents, 1):
        try:
            _index_ids(document, index)
            readable.append(document)
        except RecursionError:
            page.notes.append(f"JSON-LD block {number}: nested too deeply")
    side: list[dict[str, Any]] = []
    for document in readable:
        try:
            for node in _top_nodes(document):
                _visit(node, index, page, found, visited, side, listed=False)
        except RecursionError:
            page.notes.append("a JSON-LD block nested too deeply")
    _link_the_page(found, tree, page)

    def side_lists(others: list[_Found]) -> list[_Found]:
        """The stories of the lists named as related or popular where they
        are the page's own: it declares no others (a "Популярное" section),
        or some of the same (its cards); else none, and a note of each."""
        links = {_story_key(entry) for entry in others} - {""}
        read: list[_Found] = []
        for node in side:
            visited.discard(id(node))
            listed: list[_Found] = []
            _visit(node, index, page, listed, visited, None, listed=False)
            if not others or links & {_story_key(entry) for entry in listed}:
                read += listed
                continue
            name = _json_string(node.get("name")) or _json_string(node.get("headline"))
            page.notes.append(
                f"JSON-LD list {name!r} skipped: related or popular stories, not the page's own"
            )
        return read

    return found, side_lists


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


#: The name of a list of stories beside the page's own, as sites name
#: them, whole ("Читайте также", "Самое читаемое", "You may also like"; not
#: "Popular Science" or "Самое главное за день", which may be the page's).
_SIDE_LIST = re.compile(
    r"(?:related|popular|trending|recommended|most\s+(?:read|viewed|popular|shared|commented))"
    r"(?:\s+(?:now|today|stories|articles|posts|news|reads|for\s+you))?"
    r"|you\s+(?:may|might)\s+(?:also\s+)?like|(?:see|read)\s+also|also\s+read"
    r"|more\s+(?:stories|news|to\s+read)|editor'?s'?\s+picks"
    r"|(?:читайте|смотрите)\s+также|по\s+теме|ещ[её]\s+по\s+теме|выбор\s+редакции"
    r"|(?:похожие|популярные|рекомендуемые|другие|ещ[её])\s+(?:новости|материалы|статьи|публикации)"
    r"|популярное|рекомендуем|рекомендуемое|самое\s+(?:читаемое|популярное|обсуждаемое|интересное)",
    re.IGNORECASE,
)


def _side_list(name: str) -> bool:
    return _SIDE_LIST.fullmatch(name.strip().rstrip(":.!").strip()) is not None


def _visit(
    node: Any,
    index: dict[str, dict[str, Any]],
    page: Page,
    found: list[_Found],
    visited: set[int],
    side: list[dict[str, Any]] | None,
    *,
    listed: bool,
) -> None:
    """Find the stories a JSON-LD node declares. A list named as related
    or popular stories goes to `side` instead (None: read it)."""
    node = _resolve(node, index)
    if isinstance(node, list):
        for child in node:
            _visit(child, index, page, found, visited, side, listed=listed)
        return
    if not isinstance(node, dict) or id(node) in visited:
        return
    visited.add(id(node))
    types = _types(node)
    if types & ARTICLE_TYPES:
        _room_for_one(found, page)
        found.append(_json_ld_item(node, index, page, listed=listed))
    elif "ItemList" in types:
        name = _json_string(node.get("name")) or _json_string(node.get("headline"))
        if side is not None and _side_list(name):
            side.append(node)  # read only if the page declares nothing else
            return
        elements = node.get("itemListElement")
        for element in elements if isinstance(elements, list) else [elements]:
            _visit_list_element(element, index, page, found, visited, side)
    # CollectionPage -> ItemList, WebPage -> NewsArticle.
    if "mainEntity" in node:
        # The page's main entity is its own, whatever its name.
        _visit(node["mainEntity"], index, page, found, visited, None, listed=listed)


def _visit_list_element(
    element: Any,
    index: dict[str, dict[str, Any]],
    page: Page,
    found: list[_Found],
    visited: set[int],
    side: list[dict[str, Any]] | None,
) -> None:
    element = _resolve(element, index)
    _room_for_one(found, page)
    if isinstance(element, str):
        found.append(_json_ld_item({"url": element}, index, page, listed=True))
        return
    if not isinstance(element, dict):
        return
    if _types(element) & ARTICLE_TYPES:
        _visit(element, index, page, found, visited, side, listed=True)
        return
    inner = _resolve(element.get("item"), index)
    if isinstance(inner, dict) and _types(inner) & ARTICLE_TYPES:
        _visit(inner, index, page, found, visited, side, listed=True)
        return
    # A ListItem: its own url and name, or those of a plain `item`.
    thing = dict(element)
    if isinstance(inner, str):
        thing["url"] = inner
    elif isinstance(inner, dict):
        thing = {**inner, **{k: v for k, v in element.items() if k not in ("item", "@type")}}
        thing.setdefault("url", inner.get("@id"))
    found.append(_json_ld_item(thing, index, page, listed=True))


def _room_for_one(found: list[_Found], page: Page) -> None:
    """Raises ParseError when the page already declares MAX_ITEMS_PER_FETCH
    items: one list of a million empty ones (3 MB) took 17 s and 1.2 GB,
    before the count was looked at."""
    if len(found) >= MAX_ITEMS_PER_FETCH:
        raise items_refused(len(found) + 1, page.source, page.url)


def _json_ld_item(
    node: dict[str, Any], index: dict[str, dict[str, Any]], page: Page, *, listed: bool
) -> _Found:
    missing: list[str] = []
    title = _json_string(node.get("headline")) or _json_string(node.get("name"))
    if not title:
        missing.append("title: no headline or name")
    link = (
        _json_url(node.get("url"), index)
        or _json_url(node.get("mainEntityOfPage"), index)
        or _page_of(node.get("@id"))
    )
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
    author = ", ".join(unique(_json_names(node.get("author"), index)))
    if not author:
        missing.append("author: no author")
    item = _declared_item(
        page,
        title=title,
        link=page.absolute(link),
        summary=html.escape(description, quote=False),
        image=_json_url(node.get("image"), index),
        author=author,
        published=published,
        updated=updated,
        categories=unique(categories),
    )
    return _Found(item, "JSON-LD", missing, page_level=not listed)


def _json_string(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return plain(value) if isinstance(value, str) else ""


def _json_strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return unique(_json_string(v) for v in values)


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


def _page_of(identity: Any) -> str:
    """The page an item's identifier names, when it is a web address or a
    path with no fragment ("https://site/news/1", "/news/three/"); '' for
    anything else. An identifier with a fragment ("#article",
    "/list/#item-2", "https://site/#a3") names a part of some page, often
    of the list being read: stories listed by such ids took that one page
    for theirs, and were taken for one story."""
    if not isinstance(identity, str):
        return ""
    address = identity.strip()
    return (
        address if address.startswith(("http://", "https://", "/")) and "#" not in address else ""
    )


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


def _open_graph_items(tree: LexborHTMLParser, page: Page) -> list[_Found]:
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
    categories = unique([*meta.get("article:section", []), *meta.get("article:tag", [])])
    if not categories:
        missing.append("rubrics: no article:section or article:tag")
    # article:author is meant to be a profile URL; a name is what a reader wants.
    names = [a for a in meta.get("article:author", []) if not a.startswith(("http:", "https:"))]
    author = ", ".join(unique(names or meta.get("author", [])))
    if not author:
        missing.append("author: no article:author")
    item = _declared_item(
        page,
        title=title,
        link=_page_link(tree, page, first("og:url")),
        summary=html.escape(description, quote=False),
        image=first("og:image"),
        author=author,
        published=published,
        updated=updated,
        categories=categories,
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


def _microdata_items(tree: LexborHTMLParser, page: Page) -> list[_Found]:
    scopes = [
        node
        for node in tree.css("[itemscope][itemtype]")
        if _schema_types(node.attributes.get("itemtype") or "") & ARTICLE_TYPES
    ]
    owned = _owned_properties(tree) if scopes else {}
    found = [_microdata_item(scope, page, owned) for scope in scopes]
    for entry in found:
        entry.page_level = len(found) == 1
    _link_the_page(found, tree, page)
    return found


def _schema_types(itemtype: str) -> set[str]:
    return {re.split(r"[/#]", name)[-1] for name in itemtype.split()}


def _microdata_item(scope: LexborNode, page: Page, owned: _Owned) -> _Found:
    props = owned.get(scope.mem_id, {})

    def values(name: str) -> list[str]:
        return unique(_property_value(node, name in _WORDS, owned) for node in props.get(name, []))

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
        (text for node in props.get("description", []) if (text := _property_html(node, owned))),
        "",
    )
    if not summary:
        missing.append("summary: no itemprop description")
    keywords = (word.strip() for words in values("keywords") for word in words.split(","))
    categories = unique([*values("articleSection"), *keywords])
    if not categories:
        missing.append("rubrics: no itemprop articleSection or keywords")
    author = ", ".join(values("author"))
    if not author:
        missing.append("author: no itemprop author")
    item = _declared_item(
        page,
        title=title,
        link=page.absolute(link),
        summary=summary,
        image=value("image"),
        author=author,
        published=published,
        updated=updated,
        categories=categories,
    )
    return _Found(item, "microdata", missing)


#: Each itemscope's own itemprop elements, by name, keyed by the scope's
#: mem_id (see `_owned_properties`).
_Owned = dict[int, dict[str, list[LexborNode]]]


def _owned_properties(tree: LexborHTMLParser) -> _Owned:
    """The itemprop elements of every itemscope on the page, not those of
    items nested in it, found in one pass: each element's nearest scope is
    remembered for the elements below it. Looked up scope by scope, walking
    up from every property, 20 nested scopes over 20,000 properties took
    27 s."""
    nearest: dict[int, int | None] = {}  # element (not a scope) -> its scope
    owned: _Owned = {}
    for node in tree.css("[itemprop]"):
        passed: list[int] = []
        owner: int | None = None
        parent = node.parent
        while parent is not None:
            here = parent.mem_id
            if here in nearest:
                owner = nearest[here]
                break
            if "itemscope" in parent.attributes:
                owner = here
                break
            passed.append(here)
            parent = parent.parent
        for here in passed:
            nearest[here] = owner
        if owner is None:
            continue
        for name in (node.attributes.get("itemprop") or "").split():
            owned.setdefault(owner, {}).setdefault(name, []).append(node)
    return owned


def _property_value(node: LexborNode, words: bool, owned: _Owned) -> str:
    """A property's value; a nested item (an author's Person, an
    ImageObject) gives its name or URL."""
    attributes = node.attributes
    if "itemscope" in attributes:
        nested = owned.get(node.mem_id, {})
        for name in ("name", "url", "contentUrl"):
            for inner in nested.get(name, []):
                if value := _property_value(inner, name == "name", owned):
                    return value
        # A page named by its identifier, as Google's article markup gives
        # mainEntityOfPage: <meta itemscope itemprop=... itemid="https://...">.
        named = "" if words else _page_of(attributes.get("itemid"))
        return named or node_text(node)
    tag = node.tag or ""
    if words and tag in ("a", "area"):
        text = node_text(node)
        if text:
            return text
    if tag == "img":
        return image_source(node)  # a lazy-loaded picture's, not its placeholder
    attribute = _PROPERTY_ATTRIBUTES.get(tag)
    content = " ".join((attributes.get("content") or "").split())
    if content and not attribute and not words and not _less_than_shown(content, node):
        # <span itemprop="datePublished" content="2026-11-27T18:30+03:00">
        # Вчера</span>, as schema.org's examples write one: the value for
        # machines, on an element with no value of its own (an href, a
        # datetime keeps its place), where the text is for people. A
        # headline or an author is what readers see.
        return content
    if attribute:
        value = " ".join((attributes.get(attribute) or "").split())
        if value or tag != "time":
            return value
    return node_text(node)


def _less_than_shown(content: str, node: LexborNode) -> bool:
    """Whether a date in `content` gives the day only where the text shown
    gives a time as well (`content="2026-11-27"` on "27 ноября 2026,
    10:15"): the text says more."""
    return bool(_DAY_ONLY.fullmatch(content)) and bool(_CLOCK_TIME.search(node_text(node)))


_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK_TIME = re.compile(r"\d{1,2}[:.]\d{2}")


def _property_html(node: LexborNode, owned: _Owned) -> str:
    if (node.tag or "") in _PROPERTY_ATTRIBUTES:
        return html.escape(_property_value(node, False, owned), quote=False)
    return inner_html(node)
