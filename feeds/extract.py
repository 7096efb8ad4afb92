"""Whole articles from their own pages, for sources with `full_content`.
Pure: bytes in, values out. The one module that imports trafilatura and
htmldate.

The text comes from trafilatura, a main-content extractor (boilerplate,
navigation and comments left out). The publication date comes from what
the page declares (JSON-LD, `article:published_time`, microdata, via
feeds.parse.html), else from htmldate, which weighs the many places a date
hides in a page rather than taking the first date-like string. htmldate
gives a calendar day: it is kept as that day in the source's time zone. A
page that declares no date gets none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import htmldate
import trafilatura

from feeds.errors import ParseError
from feeds.model import Fetched, ParseContext, Source, canonical_link, costly_markup
from feeds.parse.decode import decode_page
from feeds.parse.html import page_addresses, parse_html

_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)
#: Tags (counted as the `<` in it) an article page may have to be read.
#: The extractor's time grows faster than the page: on a page of
#: paragraphs that each hold a link, 10,000 tags took 0.4 s, 40,000 1.8 s,
#: 80,000 6 s and 200,000 (3.6 MB) 35 s, all of it holding the process
#: that stores every other source. Article pages have a few thousand.
MAX_ARTICLE_TAGS = 40_000
#: Bytes an article page may have to be read: with few tags, the
#: extractor still took 5-12 s over pages of 7-10 MB (a million "&amp;",
#: one long paragraph of dates). Article pages weigh under a megabyte.
MAX_ARTICLE_BYTES = 2 * 2**20


@dataclass(frozen=True, slots=True)
class Article:
    """What an article page gave: its main text as HTML, and its date.
    `refused`: why the page was not read (then neither is given)."""

    content: str
    published: datetime | None
    refused: str = ""


def extract_article(fetched: Fetched, context: ParseContext) -> Article:
    """The main content and publication date of one article page."""
    if len(fetched.body) > MAX_ARTICLE_BYTES:
        return _not_read(
            f"{len(fetched.body) / 2**20:.1f} MiB, over the "
            f"{MAX_ARTICLE_BYTES // 2**20} MiB an article page may have to be read"
        )
    page = decode_page(fetched.body, fetched.headers)
    tags = page.count("<")
    if tags > MAX_ARTICLE_TAGS:
        return _not_read(
            f"{tags:,} tags, over the {MAX_ARTICLE_TAGS:,} an article page may have to be read"
        )
    costly = costly_markup(page)
    if costly:
        return _not_read(costly)
    extracted = trafilatura.extract(
        page,
        url=fetched.url,
        output_format="html",
        include_links=True,
        include_images=True,
        include_comments=False,
        favor_precision=True,
    )
    content = ""
    if extracted:
        body = _BODY.search(extracted)
        content = (body.group(1) if body else extracted).strip()
    return Article(content=content, published=_page_date(fetched, page, context))


def _not_read(why: str) -> Article:
    return Article(content="", published=None, refused=why)


def _page_date(fetched: Fetched, page: str, context: ParseContext) -> datetime | None:
    source = Source(name="article", type="html", url=fetched.url)
    try:
        declared, _notes = parse_html(fetched, source, context, None)
    except ParseError:
        declared = []  # not structured enough to read: the text may still date it
    # A page may declare other articles too ("Popular", "Read also"): when
    # one of its articles is at the page's own address, that one dates it.
    addresses = page_addresses(page, fetched.url)
    own = [item for item in declared if canonical_link(item.link).rstrip("/") in addresses]
    for item in own or declared:
        if item.published is not None:
            return item.published
    found = htmldate.find_date(page, url=fetched.url, extensive_search=True, original_date=True)
    if not found:
        return None
    try:
        day = date.fromisoformat(found[:10])
    except ValueError:
        return None
    return datetime.combine(day, time(), tzinfo=ZoneInfo(context.timezone))
