"""What both modes of the HTML parser share: `Page` (one parse: where
relative URLs point, the clock, the notes) and the text and date helpers.
Pure: no network, no files, no clock.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feeds.dates import read_for
from feeds.model import ParseContext, joined, mail_date

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
#: Where lazy-loading scripts keep an image's address while `src` holds a
#: placeholder (a data: URI or a grey GIF): WordPress and most scripts
#: (data-src), WP Rocket (data-lazy-src), jQuery lazyload (data-original).
LAZY_SOURCES = ("data-src", "data-lazy-src", "data-original")


@dataclass(slots=True)
class Page:
    """One parse: the source, where relative URLs point, the clock, and the
    notes gathered on the way."""

    source: str
    url: str
    base: str
    zone: ZoneInfo
    context: ParseContext
    notes: list[str] = field(default_factory=list)
    #: Characters of item text the page may still give (see text_allowed).
    text_left: int = sys.maxsize
    #: Whether its dates of numbers put the month first (`3/11/2026` is
    #: 11 March): the source's language says, else the page's own, else
    #: the site's (the first that names a region).
    month_first: bool = False

    def absolute(self, url: str) -> str:
        url = url.strip()
        return joined(self.base, url) if url else ""


# ---------------------------------------------------------------- text and dates


def node_text(node: LexborNode) -> str:
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


def plain(value: str) -> str:
    """A string from JSON as one line of plain text, entities decoded once."""
    if "<" in value:
        value = LexborHTMLParser(value, is_fragment=True).text()
    elif "&" in value:
        value = html.unescape(value)
    return " ".join(value.split())


def read_date(value: str, page: Page) -> datetime | None:
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
        mailed = mail_date(text)
        if mailed is not None:
            if mailed.tzinfo:
                return mailed
            # RFC 5322: "-0000" is UTC with the local offset unknown; no
            # zone at all is the source's, like a naive ISO date.
            return mailed.replace(tzinfo=UTC if text.endswith("-0000") else page.zone)
    for candidate in dict.fromkeys((_COMMA.sub(" ", text), text)):
        human = read_for(candidate, page.context, month_first=page.month_first)
        if human is not None:
            return human
    return None


def image_source(node: LexborNode) -> str:
    """The address an <img> shows once loaded: a lazy-loading attribute's,
    else its src, else the widest picture its srcset offers (a responsive
    image may give no src); never a data: placeholder."""
    return address_in(node, (*LAZY_SOURCES, "src")) or _widest(
        address_in(node, ("data-srcset", "srcset"))
    )


def _widest(srcset: str) -> str:
    """The largest candidate of a srcset ("a.jpg 480w, b.jpg 1024w", or
    "a.jpg 1x,b.jpg 2x"); the first when none says its size. Read as
    browsers read one: an address runs to white space (it may hold commas,
    "/w_480,c_fill/a.jpg"), a comma ending it ends its candidate, and a
    candidate's descriptors run to the next comma."""
    best, size = "", -1.0
    for address, descriptor in _srcset_candidates(srcset):
        if address.lower().startswith("data:"):
            continue
        found = _DESCRIPTOR.fullmatch(descriptor)
        this = float(found[1]) if found else 0.0
        if this > size:
            best, size = address, this
    return best


def _srcset_candidates(srcset: str) -> Iterator[tuple[str, str]]:
    position, end = 0, len(srcset)
    while position < end:
        while position < end and (srcset[position].isspace() or srcset[position] == ","):
            position += 1
        start = position
        while position < end and not srcset[position].isspace():
            position += 1
        address = srcset[start:position]
        if not address:
            return
        if address.endswith(","):
            yield address.rstrip(","), ""
            continue
        comma = srcset.find(",", position)
        stop = end if comma < 0 else comma
        yield address, " ".join(srcset[position:stop].split())
        position = stop + 1


#: A width ("480w") or a pixel density ("2x", "1.5x").
_DESCRIPTOR = re.compile(r"(\d+(?:\.\d+)?)[wx]")


def address_in(node: LexborNode, names: tuple[str, ...]) -> str:
    """The first of these attributes of `node` that holds an address ('' if
    none): a data: URI is a lazy-loading placeholder, not one."""
    attributes = node.attributes
    for name in names:
        value = (attributes.get(name) or "").strip()
        if value and not value.lower().startswith("data:"):
            return value
    return ""


def inner_html(node: LexborNode) -> str:
    """An element's HTML, its lazy-loaded images given their real src (the
    HTML cleaner drops data: URIs and data-* attributes: they would come
    out as empty <img> elements)."""
    for image in node.css("img"):
        source = image_source(image)
        if source and source != (image.attributes.get("src") or "").strip():
            image.attrs["src"] = source
    return (node.inner_html or "").strip()


def with_image(summary: str, image: str) -> str:
    """The image reaches the feed as the summary's first element, unless the
    summary shows one already (a data: placeholder shows nothing)."""
    if not image or image.lower().startswith("data:") or "<img" in summary.lower():
        return summary
    return f'<img src="{html.escape(image)}">{summary}'


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))
