"""Render stage: items -> bytes of Atom 1.0, RSS 2.0, JSON Feed 1.1, OPML 2.0
and the HTML index. Pure and deterministic; the only module that imports
feedgen.

Nothing here reads the clock: a feed's `updated` is its newest item's, or
the time given for an empty feed, so the same items give the same bytes and
an unchanged feed is never rewritten. Dates are written in the site's time
zone, so a story keeps the calendar day its publisher gave it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from feeds import __version__
from feeds.model import (
    ARCHIVE_DIR,
    COMBINED,
    ArchivePage,
    ArchiveRow,
    Item,
    Site,
    writable,
)
from feeds.words import RUSSIAN, STYLESHEET_RUSSIAN, words_for

#: File suffix -> (label, MIME type) of every feed format we write.
FORMATS: dict[str, tuple[str, str]] = {
    "atom": ("Atom", "application/atom+xml"),
    "rss": ("RSS", "application/rss+xml"),
    "json": ("JSON Feed", "application/feed+json"),
}
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One published feed: the combined one (slug ``all``) or a rubric's."""

    slug: str
    title: str
    description: str
    items: tuple[Item, ...]
    updated: datetime
    total: int = 0
    #: Rubric slug -> title, for category labels and JSON tags.
    labels: Mapping[str, str] = field(default_factory=dict)
    #: The formats (file suffixes) this feed is published in.
    formats: tuple[str, ...] = tuple(FORMATS)
    #: How many RFC 5005 archive pages the feed has (the newest is
    #: the current document's prev-archive).
    archived: int = 0

    def label(self, slug: str) -> str:
        return self.labels.get(slug, slug)

    def filename(self, suffix: str) -> str:
        return f"{self.slug}.{suffix}"


def feed_url(site: Site, spec: FeedSpec, suffix: str) -> str:
    return site.base_url + spec.filename(suffix)


#: Archive pages are written in these formats (those of the feed).
ARCHIVE_FORMATS = ("atom", "rss")
HISTORY_NS = "http://purl.org/syndication/history/1.0"


def archive_formats(formats: Iterable[str]) -> list[str]:
    """The formats a feed published in `formats` has archive pages in (a
    JSON-only feed has none)."""
    published = set(formats)
    return [suffix for suffix in ARCHIVE_FORMATS if suffix in published]


def archive_name(slug: str, number: int, suffix: str) -> str:
    """An archive page's path under output/ (and under the base URL)."""
    return f"{ARCHIVE_DIR}/{slug}/{number}.{suffix}"


def render_feed(site: Site, spec: FeedSpec, suffix: str) -> bytes:
    """The bytes of one feed file in the format its suffix names."""
    if suffix == "json":
        return render_json(site, spec)
    generator = _generator(site, spec, suffix)
    if suffix == "atom":
        document = bytes(generator.atom_str(pretty=True, encoding="UTF-8"))
    else:
        document = bytes(generator.rss_str(pretty=True, encoding="UTF-8"))
    # A browser renders the feed through feeds.xsl (published beside it);
    # feed readers ignore the processing instruction.
    declaration, _, rest = document.partition(b"\n")
    return declaration + b"\n" + STYLESHEET_PI + b"\n" + rest


STYLESHEET = "feeds.xsl"
STYLESHEET_PI = f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET}"?>'.encode()
#: Archive pages are two folders down (archive/<slug>/).
ARCHIVE_STYLESHEET_PI = f'<?xml-stylesheet type="text/xsl" href="../../{STYLESHEET}"?>'


def stylesheet(language: str = "en") -> bytes:
    """The XSLT that makes a feed readable in a browser (a package file),
    its words in the site's language where there is a translation."""
    data = (resources.files("feeds") / "assets" / STYLESHEET).read_bytes()
    if words_for(language) is not RUSSIAN:
        return data
    text = data.decode("utf-8")
    for english, russian in STYLESHEET_RUSSIAN:
        text = text.replace(english, russian)
    return text.encode("utf-8")


def _generator(site: Site, spec: FeedSpec, suffix: str) -> FeedGenerator:
    zone = ZoneInfo(site.timezone)
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(feed_url(site, spec, "atom"))
    feed.title(spec.title)
    # RFC 4287 4.1.1: a feed needs an author unless every entry has one.
    feed.author(name=site.title)
    feed.subtitle(spec.description or spec.title)
    feed.link(href=feed_url(site, spec, suffix), rel="self", type=FORMATS[suffix][1])
    # WebSub: subscribers learn the hub from the feed. RFC 5005: the newest
    # archive page. Atom takes them as links; RSS through atom:link.
    extra = []
    if site.hub:
        extra.append({"rel": "hub", "href": site.hub})
    if spec.archived and suffix in ARCHIVE_FORMATS:
        href = site.base_url + archive_name(spec.slug, spec.archived, suffix)
        extra.append({"rel": "prev-archive", "href": href, "type": FORMATS[suffix][1]})
    for link in extra:
        feed.link(**link)
    # Last: feedgen makes the last link added the RSS channel's <link>,
    # which must be the site.
    feed.link(href=site.base_url, rel="alternate", type="text/html")
    if extra:
        feed.register_extension("links", _AtomLinks, _NoEntryExtension, atom=False, rss=True)
        feed.links.extra = extra
    feed.language(site.language)
    feed.updated(_local(spec.updated, zone))
    feed.generator("feeds", version=__version__)
    for item in map(_writable, spec.items):
        entry = feed.add_entry(order="append")
        entry.id(item.id)
        entry.title(item.title)
        if item.link:
            entry.link(href=item.link, rel="alternate", type="text/html")
        published = _local(_published(item), zone)
        entry.published(published)
        entry.updated(_local(item.updated or published, zone))
        summary, content = _texts(item)
        if summary:
            entry.summary(summary, type="html")
        if content:
            entry.content(content, type="html")
        if item.author:
            entry.author(name=item.author)
            entry.dc.dc_creator(item.author)
        for slug in item.rubrics:
            entry.category(term=slug, label=spec.label(slug), scheme=site.base_url)
        if item.image:
            kind = item.image_type or "image/jpeg"
            length = str(item.image_length or 0)  # RSS 2.0 requires one; 0 = unknown
            # Through our own extension: feedgen 1.0 drops the rel and type
            # of an Atom entry's links, so its enclosure() would turn the
            # picture into a second alternate link.
            entry.register_extension("picture", _Picture, atom=True, rss=True)
            entry.picture.atom = {"rel": "enclosure", "href": item.image, "type": kind}
            if item.image_length:
                entry.picture.atom["length"] = length
            entry.picture.rss = {"url": item.image, "length": length, "type": kind}
        is_permalink = bool(item.link) and item.id == item.link
        entry.guid(item.id, permalink=is_permalink)
    return feed


class _AtomLinks(BaseExtension):  # type: ignore[misc]
    """More `<atom:link>`s in an RSS channel (feedgen writes only the self
    link there)."""

    def __init__(self) -> None:
        self.extra: list[dict[str, str]] = []

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        for link in self.extra:
            xml_elem(f"{{{ATOM_NS}}}link", channel, **link)
        return rss


class _NoEntryExtension(BaseEntryExtension):  # type: ignore[misc]
    pass


class _Picture(BaseEntryExtension):  # type: ignore[misc]
    """An item's picture: Atom `<link rel="enclosure">`, RSS `<enclosure>`."""

    def __init__(self) -> None:
        self.atom: dict[str, str] = {}
        self.rss: dict[str, str] = {}

    def extend_atom(self, entry: Any) -> Any:
        if self.atom:
            xml_elem("link", entry, **self.atom)
        return entry

    def extend_rss(self, item: Any) -> Any:
        if self.rss:
            xml_elem("enclosure", item, **self.rss)
        return item


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One item as archive pages write it, in both formats (UTF-8: encoded
    once however many pages carry it, and half the memory of Cyrillic str)."""

    atom: bytes
    rss: bytes
    #: When the item last changed: the newest makes a page's `updated`.
    stamp: datetime


def archive_entry(site: Site, labels: Mapping[str, str], item: Item) -> ArchiveEntry:
    """An item's Atom entry and RSS item for archive pages (see
    `archive_row_entry`, which writes them)."""
    row = ArchiveRow(
        id=item.id,
        title=item.title.encode(),
        link=item.link,
        summary=item.summary.encode(),
        content=item.content.encode(),
        author=item.author.encode(),
        published=_published(item),
        updated=item.updated,
        rubrics=item.rubrics,
        image=item.image,
        image_type=item.image_type,
        image_length=item.image_length,
    )
    return archive_row_entry(site, labels, row)


def archive_row_entry(site: Site, labels: Mapping[str, str], row: ArchiveRow) -> ArchiveEntry:
    """A stored item's Atom entry and RSS item for archive pages, written
    as bytes from the bytes the store holds. Written directly rather than
    through feedgen, which costs ~10x more per entry (and archives hold
    every item ever published); both formats share the escaping of the
    item's texts. They read like the current document's entries: tests
    compare the two through feedparser."""
    # As _writable and _texts do for the current documents.
    the_id, link, image = writable(row.id), writable(row.link), writable(row.image)
    zone = ZoneInfo(site.timezone)
    published = _local(row.published, zone)
    updated = _local(row.updated or published, zone)
    # Formatted once when they are the same moment (most items): 1.7 us each.
    published_text = published.isoformat().encode()
    updated_text = published_text if updated == published else updated.isoformat().encode()
    content = row.content
    if not content and not link:
        content = row.summary or b"<p>" + _html_bytes(row.title) + b"</p>"
    summary = row.summary if row.summary and row.summary != content else b""
    escaped_id, title = _esc_bytes(the_id.encode()), _esc_bytes(row.title)
    author = _esc_bytes(row.author)

    atom = [b"  <entry>\n    <id>", escaped_id, b"</id>\n    <title>", title, b"</title>\n"]
    atom += [b"    <updated>", updated_text, b"</updated>\n"]
    if author:
        atom += [b"    <author>\n      <name>", author, b"</name>\n    </author>\n"]
    if link:
        atom += [b"    <link href=", _attr(link).encode(), b' rel="alternate" type="text/html"/>\n']
    if summary:
        summary = _esc_bytes(summary)
        atom += [b'    <summary type="html">', summary, b"</summary>\n"]
    if content:
        content = _esc_bytes(content)
        atom += [b'    <content type="html">', content, b"</content>\n"]
    # Only rubrics configured now (see output._rubrics_configured).
    categories = [
        _category(site.base_url, slug, labels[slug]) for slug in row.rubrics if slug in labels
    ]
    atom += [atom_line for atom_line, _rss_line in categories]
    picture = kind = b""
    if image:
        picture = _attr(image).encode()
        kind = _attr(row.image_type or "image/jpeg").encode()
        length = b" length=" + _attr(str(row.image_length)).encode() if row.image_length else b""
        atom += [b'    <link rel="enclosure" href=', picture, b" type=", kind, length, b"/>\n"]
    atom += [b"    <published>", published_text, b"</published>\n  </entry>"]

    rss = [b"    <item>\n      <title>", title, b"</title>\n"]
    if link:
        rss += [b"      <link>", _esc_bytes(link.encode()), b"</link>\n"]
    if summary and content:
        rss += [b"      <description>", summary, b"</description>\n"]
        rss += [b"      <content:encoded>", content, b"</content:encoded>\n"]
    elif summary or content:
        rss += [b"      <description>", summary or content, b"</description>\n"]
    permalink = b"true" if link and the_id == link else b"false"
    rss += [b'      <guid isPermaLink="', permalink, b'">', escaped_id, b"</guid>\n"]
    rss += [rss_line for _atom_line, rss_line in categories]
    if image:
        length = _attr(str(row.image_length or 0)).encode()
        rss += [b"      <enclosure url=", picture, b" length=", length, b" type=", kind, b"/>\n"]
    rss += [b"      <pubDate>", _rfc822(published).encode(), b"</pubDate>\n"]
    if author:
        rss += [b"      <dc:creator>", author, b"</dc:creator>\n"]
    rss.append(b"    </item>")
    return ArchiveEntry(b"".join(atom), b"".join(rss), updated)


@lru_cache(maxsize=256)
def _category(scheme: str, slug: str, name: str) -> tuple[bytes, bytes]:
    """A rubric as an Atom category line and an RSS category line."""
    return (
        f"    <category term={_attr(slug)} scheme={_attr(scheme)} label={_attr(name)}/>\n".encode(),
        f"      <category domain={_attr(scheme)}>{_esc(name)}</category>\n".encode(),
    )


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc822(moment: datetime) -> str:
    """What email.utils.format_datetime writes for an aware datetime, at a
    third of its cost."""
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment:%H:%M:%S %z}"
    )


def render_archive(
    site: Site, spec: FeedSpec, page: ArchivePage, entries: Sequence[ArchiveEntry], suffix: str
) -> bytes:
    """One RFC 5005 archive page of a feed as Atom or RSS, its entries in
    the order given: `fh:archive`, and links to the current document and
    to the pages before and after. The next page's URL is fixed in
    advance, so a page never changes; until that page exists, its items
    are in the current document."""
    zone = ZoneInfo(site.timezone)
    stamps = [entry.stamp for entry in entries]
    if page.changed is not None:
        stamps.append(page.changed)  # a story taken out of it then
    updated = _local(max(stamps, default=spec.updated), zone)
    mime = FORMATS[suffix][1]
    links = [("self", archive_name(spec.slug, page.number, suffix))]
    links.append(("current", spec.filename(suffix)))
    if page.number > 1:
        links.append(("prev-archive", archive_name(spec.slug, page.number - 1, suffix)))
    links.append(("next-archive", archive_name(spec.slug, page.number + 1, suffix)))
    title = f"{spec.title} ({page.number})"
    if suffix == "atom":
        head = [
            "<?xml version='1.0' encoding='UTF-8'?>",
            ARCHIVE_STYLESHEET_PI,
            f'<feed xmlns="{ATOM_NS}" xmlns:fh="{HISTORY_NS}" xml:lang={_attr(site.language)}>',
            f"  <id>{_esc(feed_url(site, spec, 'atom'))}</id>",
            f"  <title>{_esc(title)}</title>",
            f"  <updated>{updated.isoformat()}</updated>",
            f"  <author>\n    <name>{_esc(site.title)}</name>\n  </author>",
            *(
                f"  <link href={_attr(site.base_url + href)} rel={_attr(rel)} type={_attr(mime)}/>"
                for rel, href in links
            ),
            f'  <link href={_attr(site.base_url)} rel="alternate" type="text/html"/>',
            f"  <generator version={_attr(__version__)}>feeds</generator>",
            f"  <subtitle>{_esc(spec.description or spec.title)}</subtitle>",
            "  <fh:archive/>",
        ]
        body = [entry.atom for entry in entries]
        tail = b"</feed>\n"
    else:
        head = [
            "<?xml version='1.0' encoding='UTF-8'?>",
            ARCHIVE_STYLESHEET_PI,
            f'<rss xmlns:atom="{ATOM_NS}" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
            f' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:fh="{HISTORY_NS}" version="2.0">',
            "  <channel>",
            f"    <title>{_esc(title)}</title>",
            f"    <link>{_esc(site.base_url)}</link>",
            f"    <description>{_esc(spec.description or spec.title)}</description>",
            *(
                f"    <atom:link href={_attr(site.base_url + href)} rel={_attr(rel)}"
                f" type={_attr(mime)}/>"
                for rel, href in links
            ),
            "    <fh:archive/>",
            f"    <generator>feeds {_esc(__version__)}</generator>",
            f"    <language>{_esc(site.language)}</language>",
            f"    <lastBuildDate>{_rfc822(updated)}</lastBuildDate>",
        ]
        body = [entry.rss for entry in entries]
        tail = b"  </channel>\n</rss>\n"
    # One join: a page is ~250 KB, and "+ tail" would copy it again.
    return b"\n".join(["\n".join(head).encode(), *body, tail])


def render_json(site: Site, spec: FeedSpec) -> bytes:
    """JSON Feed 1.1 with the same items, in the same order, as the XML feeds."""
    zone = ZoneInfo(site.timezone)
    items = []
    for item in map(_writable, spec.items):
        published = _local(_published(item), zone)
        entry: dict[str, object] = {
            "id": item.id,
            "title": item.title,
            "content_html": item.content or item.summary or f"<p>{html.escape(item.title)}</p>",
            "date_published": published.isoformat(),
            "date_modified": _local(item.updated or published, zone).isoformat(),
        }
        if item.link:
            entry["url"] = item.link
        if item.content and item.summary:
            entry["summary"] = _plain(item.summary)
        if item.author:
            entry["authors"] = [{"name": item.author}]
        if item.image:
            entry["image"] = item.image
        if item.rubrics:
            entry["tags"] = [spec.label(slug) for slug in item.rubrics]
        extension: dict[str, object] = {"rubrics": list(item.rubrics)}
        if item.series:
            extension["series"] = item.series
        if item.views is not None:
            extension["views"] = item.views
        entry["_feeds"] = extension
        items.append(entry)
    document: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": site.base_url,
        "feed_url": feed_url(site, spec, "json"),
        "description": spec.description or spec.title,
        "language": site.language,
    }
    if site.hub:
        # JSON Feed 1.1: where to subscribe for pushes (the hub is pinged
        # for the .json topic like the others).
        document["hubs"] = [{"type": "WebSub", "url": site.hub}]
    document["items"] = items
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render_opml(site: Site, specs: Iterable[FeedSpec], title: str = "") -> bytes:
    """OPML 2.0 subscription list of the given feeds (all of them, or one
    rubric's), each once: a reader that imports the list subscribes to
    every outline, and the same items in three formats would show three
    times. A feed is listed in the first of Atom, RSS and JSON Feed it is
    published in; the index links every format."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{html.escape(title or site.title)}</title>",
        f"    <ownerId>{html.escape(site.base_url)}</ownerId>",
        "  </head>",
        "  <body>",
    ]
    for spec in specs:
        suffix = next((suffix for suffix in FORMATS if suffix in spec.formats), "")
        if not suffix:
            continue
        lines.append(
            "    <outline"
            # OPML 2.0 calls every feed subscription type="rss".
            ' type="rss"'
            f" text={quoteattr(spec.title)}"
            f" title={quoteattr(spec.title)}"
            f" description={quoteattr(spec.description or spec.title)}"
            f" xmlUrl={quoteattr(feed_url(site, spec, suffix))}"
            f" htmlUrl={quoteattr(site.base_url)}"
            f" language={quoteattr(site.language)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def render_index(site: Site, specs: Iterable[FeedSpec], headlines: int = 5) -> bytes:
    """The HTML index: rubrics, item counts, latest headlines, subscribe
    links and autodiscovery tags for every feed."""
    specs = list(specs)
    zone = ZoneInfo(site.timezone)
    esc = html.escape
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(site.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(site.title)}</title>",
    ]
    for spec in specs:
        for suffix, (label, mime) in FORMATS.items():
            if suffix not in spec.formats:
                continue
            head.append(
                f'<link rel="alternate" type="{mime}" '
                f'title="{esc(spec.title)} ({label})" href="{esc(spec.filename(suffix))}">'
            )
    head += [
        "<style>",
        "body{font:16px/1.5 system-ui,sans-serif;max-width:56rem;margin:2rem auto;",
        "padding:0 1rem;color:#222}",
        "h1{margin-bottom:.2rem}section{border-top:1px solid #ddd;padding:.6rem 0}",
        "h2{font-size:1.2rem;margin:.4rem 0}.count{color:#666;font-weight:normal;font-size:.9rem}",
        ".subscribe a{margin-right:.8rem;font-size:.9rem}",
        "time{color:#666;font-size:.85rem;margin-right:.5rem}",
        "ul{padding-left:1.1rem}",
        "</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(site.title)}</h1>",
    ]
    if site.description:
        head.append(f"<p>{esc(site.description)}</p>")
    words = words_for(site.language)
    opml = '<a href="feeds.opml">OPML</a>'
    times = esc(words.times.format(zone=site.timezone))
    body = [f'<p class="subscribe">{words.all_feeds.format(opml=opml)} · {times}</p>']
    for spec in specs:
        count = words.counted(spec.total, words.items)
        body.append(f'<section id="{esc(spec.slug)}">')
        body.append(f'<h2>{esc(spec.title)} <span class="count">{count}</span></h2>')
        if spec.description:
            body.append(f"<p>{esc(spec.description)}</p>")
        links = " ".join(
            f'<a href="{esc(spec.filename(suffix))}" type="{mime}">{label}</a>'
            for suffix, (label, mime) in FORMATS.items()
            if suffix in spec.formats
        )
        if spec.slug != COMBINED:
            opml = esc(spec.filename("opml"))
            links += f' <a href="{opml}" type="text/x-opml">OPML</a>'
        # Older items: the newest archive page, which links the rest, in
        # the first format the feed has pages in.
        paged = archive_formats(spec.formats)
        if spec.archived and paged:
            newest = esc(archive_name(spec.slug, spec.archived, paged[0]))
            mime = FORMATS[paged[0]][1]
            pages = words.counted(spec.archived, words.pages)
            links += f' · <a href="{newest}" type="{mime}">{words.archive}</a>'
            links += f' <span class="count">({pages})</span>'
        body.append(f'<p class="subscribe">{words.subscribe} {links}</p>')
        if spec.items:
            body.append("<ul>")
            for item in map(_writable, spec.items[:headlines]):
                when = _local(_published(item), zone)
                stamp = f'<time datetime="{when.isoformat()}">{when:%Y-%m-%d %H:%M}</time>'
                title = esc(item.title)
                if item.link:
                    title = f'<a href="{esc(item.link)}">{title}</a>'
                body.append(f"<li>{stamp}{title}</li>")
            body.append("</ul>")
        else:
            body.append(f"<p>{words.empty}</p>")
        body.append("</section>")
    tail = [
        f'<footer><p class="count">{esc(words.generated.format(version=__version__))}</p></footer>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(head + body + tail).encode("utf-8")


def _esc(text: str) -> str:
    """Text for XML character data (what saxutils.escape does, at a fraction
    of the cost per call: archive pages escape every field of every item)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _esc_bytes(text: bytes) -> bytes:
    """`_esc` for UTF-8 bytes (no byte of a multi-byte character is one of
    these three)."""
    return text.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")


def _html_bytes(text: bytes) -> bytes:
    """What html.escape does, for UTF-8 bytes."""
    text = _esc_bytes(text)
    return text.replace(b'"', b"&quot;").replace(b"'", b"&#x27;")


def _attr(text: str) -> str:
    """A double-quoted XML attribute value; white space that attribute
    normalisation would fold is kept as character references."""
    text = _esc(text).replace('"', "&quot;")
    if "\n" in text or "\r" in text or "\t" in text:
        text = text.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{text}"'


def _writable(item: Item) -> Item:
    """`item` with its id, link and picture as a feed can hold them,
    percent-encoded: ids keep the control characters and non-characters
    they were made with (see normalise's `_storable`), and the store may
    hold links and pictures with them from before normalising encoded
    them. (No store holds a lone surrogate: SQLite takes UTF-8 only.)"""
    the_id, link, image = writable(item.id), writable(item.link), writable(item.image)
    if the_id is item.id and link is item.link and image is item.image:
        return item
    return item.evolve(id=the_id, link=link, image=image)


def _texts(item: Item) -> tuple[str, str]:
    """An entry's (summary, content) as both writers put them: content
    when there is no link to the story (Atom wants one), no summary that
    merely repeats the content."""
    content = item.content
    if not content and not item.link:
        content = item.summary or f"<p>{html.escape(item.title)}</p>"
    summary = item.summary if item.summary and item.summary != content else ""
    return summary, content


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` in the site's zone, or in UTC where the zone cannot say it
    as feeds must: before its standard time (offsets in seconds, which
    RFC 3339 and RFC 822 cannot write), or past the calendar's ends. The
    store may hold such dates from before they were refused."""
    try:
        local = moment.astimezone(zone)
    except OverflowError:
        return moment.astimezone(UTC)
    offset = local.utcoffset()
    if offset is not None and offset.seconds % 60:
        return moment.astimezone(UTC)
    return local


def _published(item: Item) -> datetime:
    if item.published is None:
        raise ValueError(f"item {item.id!r} has no published date; the store sets one")
    return item.published


def _plain(fragment: str) -> str:
    from html.parser import HTMLParser

    parts: list[str] = []

    class _Text(HTMLParser):
        def handle_data(self, data: str) -> None:
            parts.append(data)

        def handle_starttag(self, tag: str, attrs: object) -> None:
            # A break parts words ("One<br>two"), as the line separator
            # normalise turned into it did.
            if tag == "br":
                parts.append(" ")

    parser = _Text(convert_charrefs=True)
    parser.feed(fragment)
    parser.close()
    return " ".join("".join(parts).split())
