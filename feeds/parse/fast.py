"""The fast path of `type: feed`: RSS and Atom read by fastfeedparser (a
native-core parser, tens of times faster than feedparser). Pure. The one
module that imports fastfeedparser.

It is only taken where it gives exactly what the feedparser path gives (a
differential test holds both to that); for anything else `parse_fast`
returns None and the caller falls back to feedparser:

- a date without a time zone beside dates with one (fastfeedparser reads
  it as UTC, we read it in the source's zone: where no date has a zone,
  and each is in RFC 3339's or RFC 822's form, the fast path takes their
  time of day in the source's zone), a zone's name fastfeedparser reads
  otherwise (HKT, IST...), a date in words other than English ones;
- an Atom text construct whose type cannot be told apart (markup or
  entities in a title where the entries' titles are of two types,
  escaped markup in an untyped or `type="text"` content, or summary
  where not every summary is text or some entry has content); a title
  with markup or entities is otherwise read as feedparser reads it
  (`rss_title`; an Atom one by its type), and text summaries so too
  (`text_to_html`);
- a body in UTF-16 or UTF-32 (the checks read the bytes as ASCII);
- `xml:base` (relative links resolved against something else than the
  feed's address), a charset other than UTF-8 in the HTTP header (which
  lxml would not read: `parse` re-encodes such a body as UTF-8 first), a
  DOCTYPE (entities), RSS 1.0, Atom 0.3 and Atom written with a prefix;
- elements of an entry that feedparser reads and fastfeedparser does not:
  `itunes:summary`, `media:description` (summary or content; but in
  Atom, in a media:group or media:content, as YouTube writes it, it is
  read as feedparser reads it), `itunes:keywords`, `media:keywords`,
  `itunes:category`, `atom:category` (categories), `atom:content`,
  `dc:description` beside `description`, Dublin Core dates beside the
  feed's own (or in Atom; but a dc:date naming the moment of its item's
  pubDate is read), XHTML text (which fastfeedparser gives with
  its wrapper), Atom enclosures, and Media RSS elements under a prefix
  other than `media` where the fast path reads them as written
  (media:thumbnail beside media:content, which fastfeedparser drops);
  `media:` bound to another namespace (feedparser reads it by the
  prefix);
- a content element that differs from the description only by the white
  space around it (fastfeedparser's copy of a description looks the same);
- markup written as elements (or a comment) in an entry's title, summary or
  content, not escaped nor in CDATA (fastfeedparser keeps the text before
  the first of them), and plain-text Atom content with an ampersand;
- categories and enclosures written as the other format writes them (an RSS
  category with `term`, an enclosure with `href`, an Atom category with
  text), Atom content of a media type, a link with an entity left in it
  (escaped twice), an Atom entry whose first link is of another kind than
  its rel-less one, or whose rel has spaces around it, a year written
  `0026`, an offset of 24 hours or more;
- windows-1252's characters written as C1 controls (`&#146;`, or bytes
  0x80-0x9F in a document declared ISO-8859-1), an author, creator, guid
  or id under a foreign prefix, feedparser's other names for summaries,
  contents, categories and enclosures (`abstract`, `atom:tags`, an XHTML
  body), RSS's elements in an Atom entry, a summary element in RSS, an
  entity without its semicolon in a title, a category's label, a link
  with three slashes after its scheme;
- entries of shapes the two read otherwise (`_entries_read_otherwise`):
  two titles, ids, links or descriptions, or an empty link; media:title or
  itunes:title before the title (or an empty one); in Atom, more than one
  alternate link, one of another type than HTML, only links of other
  kinds, a link without href, an entry's source, an empty summary, plain
  text with line breaks (feedparser's path makes them breaks), an author
  without a name, a category without a term; atom:link in RSS, an RSS
  author written as Atom's, managingEditor in an item, a title after an
  image in an item, dc:creator in Atom, Media RSS's namespace without its
  last slash; an item without a date whose guid is no URL
  (fastfeedparser reads "10" or "1712345678" as its date); "-0000" where
  an item's id is made from its date; a "z" zone after a fraction of a
  second (feedparser's path drops the fraction);
- a document that is not well-formed XML, namespaces included (feedparser's
  recovery keeps more of it: an undeclared `content:` prefix, say), or one
  fastfeedparser does not accept.

tests/data/corpus holds feeds in the shapes publishers write (WordPress,
Blogger, YouTube, podcasts, Russian news sites...): the differential test
reads each both ways, and checks that the usual ones take this path.
"""

from __future__ import annotations

import html
import html.entities
import io
import re
import xml.parsers.expat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

import fastfeedparser
import nh3

from feeds.model import (
    WEB_URL,
    Fetched,
    Item,
    Source,
    author_name,
    first_image,
    joined,
    mail_date,
)

_HEAD = 4096
#: U+2028 and U+2029 in UTF-8, and how far fastfeedparser looks for them.
LINE_SEPARATOR = re.compile(rb"\xe2\x80[\xa8\xa9]")
_SEPARATORS_WINDOW = 64 * 1024
_SEPARATORS_SLACK = 3 + 8192
#: What may come before a document's DOCTYPE: white space, the XML
#: declaration and other processing instructions, comments.
_PROLOG_PART = re.compile(rb"\s++|<\?.*?\?>|<!--.*?-->", re.DOTALL)


def doctype_at(body: bytes) -> int:
    """Where the DOCTYPE of an XML `body` starts, however long the prolog
    before it (comments of any length may come first), or -1 without one.
    Past the prolog, a `<!DOCTYPE` is text (a CDATA section's HTML page).
    A body of UTF-8 or another ASCII-compatible encoding."""
    position = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    while found := _PROLOG_PART.match(body, position):
        position = found.end()
    return position if body.startswith(b"<!DOCTYPE", position) else -1


# Date elements and whether their text ends in a zone.
# Possessive quantifiers and no `<` inside a tag: the text of a hostile
# body (whitespace that no `</` follows, a run of openings that no `>`
# closes) cannot make the search backtrack, so it takes linear time. The
# captured text keeps its trailing whitespace: callers strip it.
_DATES = re.compile(
    rb"<(?:pubDate|published|updated|dc:date|issued|modified|lastBuildDate)\b[^<>]*+>"
    rb"\s*+(?:<!\[CDATA\[)?+\s*+([^<\]]*+)(?:\]\]>)?+\s*+</",
)
#: And under any prefix (a10:updated, dcterms:modified), looked for in the
#: entries that have such elements.
_PREFIXED_DATES = re.compile(
    rb"<[\w.-]++:(?:pubDate|published|updated|date|issued|modified)\b[^<>]*+>"
    rb"\s*+(?:<!\[CDATA\[)?+\s*+([^<\]]*+)(?:\]\]>)?+\s*+</",
)
_DATE_NAMES = frozenset({b"pubDate", b"published", b"updated", b"date", b"issued", b"modified"})
#: Zone names beyond RFC 822's that both paths read with the same offset
#: (the feedparser path by its table of them; not HKT, which fastfeedparser
#: reads as UTC, nor names of several zones such as IST).
_ZONE_NAMES = rb"MSK|CES?T|EES?T|WES?T|JST|KST|SGT|AEST|AEDT|NZST|NZDT"
#: RFC 3339's "Z" follows a digit (a "z" only whole seconds: after a
#: fraction, the feedparser path reads the time without it); RFC 822's
#: military letters but Z (which is UT) are read as UTC here and in the
#: source's zone by the feedparser path, as are names ending in Z (MESZ):
#: left to it.
_ZONED = re.compile(
    rb"(?:(?<=\d)Z|(?<=:\d\d)z|[+-]\d\d:?\d\d|\b(?:GMT|UTC|UT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|Z|"
    + _ZONE_NAMES
    + rb"))$"
)
#: A date with no zone, in the forms both paths read alike: RFC 3339's
#: without its offset (or with a space for its T), RFC 822's without its
#: zone.
_NAIVE_DATE = re.compile(
    rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?"
    rb"|(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d(?::\d\d)?"
)
_NAMED_ZONE = re.compile(rb"\b(?:" + _ZONE_NAMES + rb")$")
#: A zone written as a name (letters), and the forms after which both
#: paths read it alike: an RFC 822 date in full (seconds, a four-digit
#: year, one space before the name; GMT without seconds too, which
#: `_PLAIN_DATE` takes) and RFC 3339's "Z". After others
#: ("2026-11-20T12:00:00 MSK", "20 Nov 2026 12:00 EEST", "Fri, 20 Nov 26
#: ...") fastfeedparser reads UTC where the feedparser path reads the
#: zone, or the other way round.
_NAME_AT_END = re.compile(rb"[A-Za-z]$")
_NAMED_DATE = re.compile(
    rb"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d(?::\d\d [A-Z]{1,4}| GMT)"
    rb"|\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?[zZ]"
)
#: An RFC 822 date (its month by name) whose zone is written the RFC 3339
#: way ("+03:00") or after GMT or UTC ("GMT+0300"): fastfeedparser reads it
#: as UTC; the feedparser path reads the offset.
_NAMED_MONTH = re.compile(rb"[A-Za-z]{3}")
_ODD_OFFSET = re.compile(rb"(?:[+-]\d\d:\d\d|(?:GMT|UTC|UT)\s*+[+-]\s*+\d++(?::?+\d\d)?+)$")
#: An RFC 822 date whose offset (group 1) is written the RFC 3339 way
#: ("+03:00", as PHP's date format "P" writes it): fastfeedparser reads
#: its time of day as UTC, and where every date of a document is one with
#: the same offset, the fast path puts them back at that offset.
_SHIFTED_DATE = re.compile(
    rb"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d(?::\d\d)? ([+-]\d\d:\d\d)"
)
#: A time on the 12-hour clock ("2:00 PM"): fastfeedparser reads it as
#: morning.
_TWELVE_HOUR = re.compile(rb"\d\s*+[AaPp]\.?+[Mm]\b")
#: The usual dates, RFC 3339 and RFC 822 with a numeric zone or GMT:
#: `_zoned_date` takes each of them, and this is one match instead of four
#: searches.
_PLAIN_DATE = re.compile(
    rb"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)"
    rb"|(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d(?::\d\d)? (?:[+-]\d{4}|GMT)"
)
#: The fields of a date in RFC 3339's form and in RFC 822's, at its start:
#: a date that names no real time (30 February, 24:00, a leap second) is
#: read by neither fastfeedparser nor Python, and feedparser's own reading
#: (which carries the surplus over) decides.
_ISO_FIELDS = re.compile(rb"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d))?")
_RFC822_FIELDS = re.compile(
    rb"(?:[A-Za-z]{3},?\s*+)?(\d{1,2})\s++([A-Za-z]{3})[A-Za-z]*+\s++(\d{4}|\d\d)\s++"
    rb"(\d{1,2}):(\d\d)(?::(\d\d))?"
)
#: A date's numeric zone, in its last six characters.
_OFFSET = re.compile(rb".?[+-](\d\d):?(\d\d)")
_MONTHS = {
    name.encode(): number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_ATOM_ROOT = re.compile(rb"<feed[\s>]")
_ATOM_TEXT = re.compile(rb"<(title|summary|content|subtitle|rights)\b([^<>]*+)(?<!/)>")
_HTML_TYPE = re.compile(rb"""\btype\s*=\s*["'](?:html|text/html)["']""")
#: (No `\b` first: a pattern that starts with a word is searched for by
#: that word, at memchr speed; `\b` made it test every position.)
_ATOM_ENCLOSURE = re.compile(rb"""rel\s*=\s*["']enclosure["']""")
#: A prefixed element's start: (prefix, local name).
_PREFIXED = re.compile(rb"<([\w.-]+):([\w.-]+)")
#: Elements of an entry that feedparser reads into its summary, content or
#: categories (`itunes:summary`, `itunes:keywords`, `media:keywords`; any
#: description but dc:description, and that one beside the entry's own,
#: which feedparser takes for content) and fastfeedparser does not; and
#: Dublin Core dates, which beside a feed's own date (or in Atom) feedparser
#: takes for the published or updated date, and fastfeedparser does not.
_MORE_TEXT = frozenset({b"summary", b"keywords"})
#: fastfeedparser reads the text of a category in any namespace, and no
#: content element but Media RSS's; feedparser reads them in the namespaces
#: it knows (compared in lower case): a category in Media RSS's alone is
#: read alike, and content in Atom's (atom:content in RSS) by feedparser only.
_MEDIA_NAMESPACE = rb"http://search\.yahoo\.com/mrss/?"
#: A Media RSS element with an address attribute named in capitals
#: (`URL`, `Url`), or one with its address as text.
_URL_IN_ANOTHER_CASE = re.compile(
    rb"<media:(?:thumbnail|content)(?=[\s/>])[^<>]*?(?:\s(?!url\s*+=)[uU][rR][lL]\s*+="
    rb"|(?<!/)>\s*+[^<\s])"
)
#: The prefix `media` declared Media RSS's (at the root, or on an element
#: as Blogger does); one declared any other way is not.
_MEDIA_PREFIX_BOUND = re.compile(
    rb"""xmlns:media\s*+=\s*+(["'])http://search\.yahoo\.com/mrss/\1"""
)
_ATOM_NAMESPACES = rb"http://www\.w3\.org/2005/atom|http://purl\.org/atom/ns\#"
#: The namespace feedparser reads each prefixed date element of an entry in.
_DATE_NAMESPACES = {
    b"date": rb"http://purl\.org/dc/elements/1\.1/",
    b"issued": rb"http://purl\.org/dc/terms/",
    b"modified": rb"http://purl\.org/dc/terms/",
    b"published": _ATOM_NAMESPACES,
    b"updated": _ATOM_NAMESPACES,
}
#: Prefixed elements of Atom entries only feedparser reads (dc:creator and
#: itunes:author as the author, dc:subject as a category, dc:description
#: as the summary, content:encoded as the content), under any prefix.
_READ_IN_ATOM_BY_FEEDPARSER = frozenset(
    {b"creator", b"author", b"subject", b"description", b"encoded"}
)
#: Prefixes of one element past which a document is left to feedparser.
_MOST_PREFIXES = 8
_DC_DATES = frozenset({b"date", b"modified", b"issued"})
#: Kinds of prefixed element past which a document is left to feedparser
#: (real feeds have a few dozen; a set of millions would take gigabytes).
_MOST_PREFIXED = 500
_WINDOW = 256 * 1024
_FIRST_ENTRY = re.compile(rb"<(?:item|entry)[\s>/]")
_ODD_LENGTH = re.compile(rb"""length\s*+=\s*+(?:"(?![0-9]*+")|'(?![0-9]*+'))""")
#: An entity escaped ("&amp;copy;"), or one HTML reads without its
#: semicolon ("&amp;copy", as `html.unescape` does).
_ESCAPED_ENTITY = re.compile(
    rb"&amp;(?:#\d+|#x[0-9a-fA-F]+|\w+;|(?:"
    + "|".join(
        sorted((name for name in html.entities.html5 if not name.endswith(";")), key=len)[::-1]
    ).encode()
    + rb"))"
)
#: A character reference to "<" or "&".
_REFERENCE_TO_MARKUP = re.compile(rb"&#(?:0*+(?:60|38)|[xX]0*+(?:3[cC]|26));")
#: A tag, as fastfeedparser takes tags out of a content to make a summary
#: up ("<[^>]+>"), but for a "<" inside one: with it, a run of "<" made
#: each search go to the end of the content.
_TAG = re.compile(r"<[^<>]*+>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|\w+);")
#: White space, as the ids tell a URI by (`feeds.normalise`).
_SPACE = re.compile(r"\s")
#: A guid's mark as no permalink: feedparser reads the attribute's name in
#: any case, and any value but "true" as no.
_NOT_PERMALINK = re.compile(rb"""(?i:ispermalink)\s*+=\s*+(?:"(?!true")|'(?!true'))""")


def parse_fast(fetched: Fetched, source: Source, timezone: str = "") -> list[Item] | None:
    """Items of an RSS or Atom feed, or None when the fast path cannot
    promise the same result as feedparser. `timezone`: the source's, for
    dates written without one (none given: such a feed is declined)."""
    read = read_fast(fetched, source, timezone)
    return None if read is None else read[0]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the fast path's reading of entries hung on besides each entry:
    the parts of one document whose facts are those of the whole are read
    as the whole is (see `feeds.parse.parts`). None: no entry needed it."""

    #: How the dates read (see `_dates_are_zoned`).
    dates: str
    #: "", "alone" or "mixed" (see `_Document.thumbnails`).
    thumbnails: str | None
    #: Whether some entry may have content of its own (`_Document`).
    content: bool | None
    #: Whether some length attribute is more than digits (`_Document`).
    odd_lengths: bool | None
    #: Whether some entry's link is its id: its guids are then looked into
    #: where the document marks one as no permalink (`marks_guids`), and
    #: the whole's are if any part's are.
    linked_ids: bool = False

    def read_as(self, whole: Facts) -> bool:
        """Whether entries read with these facts read as they do with the
        `whole` document's. (A part without thumbnails in a document with
        some is not read alike: media under a default namespace, which the
        checks do not see, read otherwise.)"""
        return (
            self.dates == whole.dates
            and self.thumbnails in (None, whole.thumbnails)
            and self.content in (None, whole.content)
            and self.odd_lengths in (None, whole.odd_lengths)
        )


def document_facts(fetched: Fetched, timezone: str = "") -> Facts | None:
    """The facts of a whole document the fast path takes, but for its
    entries and its well-formedness (its parts are read, and checked,
    each on its own); None where it declines it."""
    checked = _checked(fetched, timezone, well_formed=False)
    if checked is None:
        return None
    body = fetched.body
    return Facts(
        dates=checked.dates,
        thumbnails=checked.thumbnails,
        content=_has_content(body),
        odd_lengths=_has_odd_lengths(body),
    )


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the checks of a whole document found."""

    dates: str
    thumbnails: str
    is_atom: bool
    #: Where the first entry starts.
    first_entry: int
    #: The local names of the prefixed elements of the entries.
    prefixed: frozenset[bytes]
    #: Whether entries hold a media:description (in Atom: see `_EntryMedia`).
    described: bool = False
    #: Whether the entries' Media RSS elements are all named `media:`.
    media_named: bool = False
    #: Whether every summary is Atom's plain text, and no entry has content.
    text_summaries: bool = False


def read_fast(
    fetched: Fetched,
    source: Source,
    timezone: str = "",
    *,
    has_ids: bool | None = None,
    marked: bool | None = None,
) -> tuple[list[Item], Facts] | None:
    """`parse_fast`, and the facts of the document it read. For a part of
    a document: `has_ids`, whether the whole gives ids (`ids_given`);
    `marked`, whether it marks a guid as no permalink (`marks_guids`)."""
    # A part's entries' authors are looked at in the whole (see `Facts`).
    checked = _checked(fetched, timezone, authors=has_ids is None)
    if checked is None:
        return None
    body = fetched.body
    dates = checked.dates
    try:
        parsed = fastfeedparser.parse(body, include_media=True, include_enclosures=True)
    except Exception:
        # Its errors are plain ValueErrors and lxml errors: whatever it
        # rejects, feedparser gets to try (and to explain).
        return None
    entries = parsed.get("entries") or []
    if not entries and (b"<item" in body or b"<entry" in body):
        return None
    if entries and _entries_read_otherwise(body, checked, entries):
        return None
    if has_ids is None:
        # Looked up once, not per item: on a feed without ids, a search of
        # the whole body for every item made a big feed quadratic.
        has_ids = ids_given(body)
    # fastfeedparser takes an http guid as the link even when the feed says
    # it is no permalink; feedparser, and RSS 2.0, do not, unless the item
    # also gives it as its <link> (Substack, RSSHub, hnrss). Looked into
    # only when some entry's link is its guid and such a mark is there.
    linked_ids = any(
        (link := str(entry.get("link") or "").strip())
        and link == str(entry.get("id") or "").strip()
        for entry in entries
    )
    if linked_ids and (_NOT_PERMALINK.search(body) if marked is None else marked):
        unlinked = _guids_not_links(body)
        if unlinked is None or len(unlinked) != len(entries):
            return None
        for entry, guids in zip(entries, unlinked, strict=True):
            link = str(entry.get("link") or "").strip()
            if link and link == str(entry.get("id") or "").strip() and link in guids:
                return None  # its link is only that guid: feedparser gives none
    document = _Document(
        body,
        zone=ZoneInfo(timezone) if dates == "naive" else shifted_zone(dates),
        has_ids=has_ids,
        named=dates == "named" or dates.startswith("shifted"),
        thumbnails=checked.thumbnails,
        first_entry=checked.first_entry,
        is_atom=checked.is_atom,
        described=checked.described,
        media_named=checked.media_named,
        text_summaries=checked.text_summaries,
    )
    items = []
    for index, entry in enumerate(entries):
        item = _item(entry, source, fetched.url, document, index, len(entries))
        if item is None:
            return None
        items.append(item)
    if has_ids and linked_ids and _guid_less_share_links(body, items):
        return None
    return items, document.facts(dates, linked_ids=linked_ids)


#: Media RSS's namespace without its last slash (fastfeedparser reads none
#: of its elements then).
_MEDIA_WITHOUT_SLASH = re.compile(rb"search\.yahoo\.com/mrss[\"']")
#: An Atom summary written empty.
_EMPTY_SUMMARY = re.compile(rb"<summary\b[^<>]*+(?:(?<=/)>|>\s*+</summary>)")
#: An Atom category with no term (a label alone).
_TERMLESS_CATEGORY = re.compile(rb"<category\b(?![^<>]*?\bterm\s*+=)")
#: CDATA sections, comments and processing instructions, matched (and so
#: passed over) by the searches of the entries' elements below: text in
#: them is no element (an SVG's <title> in an item's HTML). Each is
#: closed: the document is well-formed by then. (A processing instruction
#: passed over too, or "<?x <!--<!--...?>" made each "<!--" a search to
#: the end of the document.)
#: One left open passes to the end of the document: a document not known
#: to be well-formed (the whole of one read in parts) with many openings
#: made each a search to its end.
_CDATA_OPENED = rb"!\[CDATA\[(?:[^\]]++|\](?!\]>))*+"
_PASSED_AFTER_ITS_START = (
    _CDATA_OPENED + rb"(?:\]\]>|\Z)|!--(?:[^-]++|-(?!->))*+(?:-->|\Z)"
    rb"|\?(?:[^?]++|\?(?!>))*+(?:\?>|\Z)"
)
_PASSED = rb"<(?:" + _PASSED_AFTER_ITS_START + rb")|"
#: A CDATA section, closed (after its "<").
_CDATA_AFTER_ITS_START = _CDATA_OPENED + rb"\]\]>"
#: The elements of entries whose number tells their shape, without prefix
#: (one search for them all: a search for each took five times as long).
#: A link or date element written empty is found with its end ("link/>",
#: "pubDate>").
_ELEMENTS = (
    rb"<(item|entry|title|description|summary|content|guid|id|author|contributor|name|managingEditor"
    rb"|source|image|textInput|textinput|(?:link|pubDate|published|updated)(?:\s*+/>|>\s*+(?=</))?+)(?=[\s>/<])"
)
_SHAPE = re.compile(_PASSED + _ELEMENTS)
#: The first entry's start (group 1), outside CDATA sections, comments and
#: processing instructions: a search from an `<item>` quoted in one went
#: through each construct opened after it to the end of the document.
_FIRST_ENTRY_OUTSIDE = re.compile(_PASSED + rb"<(item|entry)[\s>/]")
#: The same, looking into CDATA and comments too: a third of the time on
#: a feed whose entries' HTML is in CDATA. Where it finds nothing read
#: otherwise, `_SHAPE` would not either.
_ROUGH_SHAPE = re.compile(_ELEMENTS)
_UNPREFIXED_DATES = frozenset({b"pubDate", b"published", b"updated"})
#: An entry's start (group 1) or an Atom link's attributes (group 2).
_ENTRY_OR_LINK = re.compile(_PASSED + rb"<(entry)[\s>/]|<link\b([^<>]*+)>")
#: An attribute's value, white space and all (stripped after: a lazy
#: match before `\s*` rescanned each run of spaces, n^2 on a long one).
_REL = re.compile(rb"""\brel\s*+=\s*+(?:"([^"]*+)"|'([^']*+)')""")
_TYPE = re.compile(rb"""\btype\s*+=\s*+(?:"([^"]*+)"|'([^']*+)')""")
_EMPTY_HREF = re.compile(rb"""\bhref\s*+=\s*+(?:"\s*+"|'\s*+')""")
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")
#: The types of an Atom text construct both paths read as text.
_TEXT_TYPES = frozenset({b"text", b"text/plain", b"html", b"xhtml"} | set(_HTML_TYPES))
#: What Python's strip() takes off a text (the ASCII ones, NEL, no-break
#: space and Unicode's other spaces), in UTF-8.
_BLANK = (
    rb"(?:\s|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f"
    rb"|\xe3\x80\x80)"
)
#: An entry's start (group 1), or a title element's (group 3), with its
#: prefix (group 2) and, where it may be empty once stripped, its end
#: (group 4): blank text, in CDATA sections too, and character references
#: (which may be blank ones).
_ENTRY_OR_TITLE = re.compile(
    _PASSED + rb"<(item|entry)[\s>/]"
    rb"|<(?:([\w.-]++):)?(title)(?=[\s>/])(?:[^<>/]|/(?!>))*+"
    rb"(/>|>(?:" + _BLANK + rb"|<!\[CDATA\[" + _BLANK + rb"*+\]\]>|&#[xX]?+[0-9a-fA-F]++;)*+</)?"
)
#: An entry's start (group 1) or a date element's, under any prefix
#: (group 2, its name).
_ENTRY_OR_DATE = re.compile(
    rb"<(item|entry)[\s>/]|<((?:[\w.-]++:)?(?:" + b"|".join(sorted(_DATE_NAMES)) + rb"))[\s>]"
)


def _entries_read_otherwise(body: bytes, checked: _Checked, entries: list[Any]) -> bool:
    """Whether an entry is of a shape the two paths read otherwise: its
    title, link, summary, author or category written in a way only the
    feedparser path reads as it should, or its date made up of its guid.
    Looked for from the first entry's start to the last one's end (a
    channel's image or atom:link after its items is no item's)."""
    start = checked.first_entry
    # The last entry's end: its own kind's first (a search of the whole
    # body from its end for the other kind took as long as the checks).
    ends = (b"</entry>", b"</item>") if checked.is_atom else (b"</item>", b"</entry>")
    last = body.rfind(ends[0], start)
    end = max(last, body.rfind(ends[1], max(last, start)))
    end = len(body) if end < 0 else body.index(b">", end) + 1
    return _shaped_otherwise(
        body, checked, entries, _ROUGH_SHAPE.findall(body, start, end), end
    ) and _shaped_otherwise(body, checked, entries, _SHAPE.findall(body, start, end), end)


def _shaped_otherwise(
    body: bytes, checked: _Checked, entries: list[Any], shape: list[bytes], end: int
) -> bool:
    """`_entries_read_otherwise` by the names of the entries' elements in
    order, `shape`, their own ones among them."""
    start = checked.first_entry
    counts = Counter(shape)
    if counts[b"item"] + counts[b"entry"] != len(entries):
        # Entries fastfeedparser does not read (Atom entries in RSS, items
        # in another namespace), which feedparser does.
        return True
    # fastfeedparser takes an entry's first title, link, guid or id (or
    # media:title or itunes:title before the title, or either with no
    # title); feedparser the entry's own, its last.
    if _twice_in_an_entry(shape, _ONCE_IN_ATOM if checked.is_atom else _ONCE_IN_RSS):
        return True
    if b"title" in checked.prefixed and _a_prefixed_title_first(body, start, end):
        return True
    if checked.prefixed & _ONCE_PREFIXED and _a_prefixed_element_twice(body, start, end):
        return True
    if checked.is_atom:
        return (
            # An entry's source: the feed it was copied from, with a title,
            # id and links of its own.
            counts[b"source"] > 0
            # An image (RSS's) in an entry: feedparser takes its title for
            # the entry's where the entry has none.
            or counts[b"image"] > 0
            or bool(_EMPTY_SUMMARY.search(body, start, end))  # content taken for the summary
            # An author without a name.
            or counts[b"author"] + counts[b"contributor"] > counts[b"name"]
            or bool(_TERMLESS_CATEGORY.search(body, start, end))
            or _links_read_otherwise(body, start, end)
        )
    return (
        # An empty link, a link all the same; atom:link, which
        # fastfeedparser may take for the link.
        any(name != b"link" and name.startswith(b"link") for name in counts)
        or (b"link" in checked.prefixed and _a_prefixed_link(body, start, end))
        # An author written as Atom's, or the channel's editor in an item.
        or counts[b"name"] > 0
        # Atom's date beside RSS's (either written empty too):
        # fastfeedparser takes RSS's.
        or _both_named(counts, b"published", b"pubDate")
        # A text input in an item: feedparser's path fails on it.
        or counts[b"textInput"] + counts[b"textinput"] > 0
        # Atom's author in RSS (atom:author) with no name: feedparser takes
        # its email or uri for the author.
        or bool(
            checked.prefixed & _PERSON_NAMES
            and _A_PREFIXED_PERSON_WITHOUT_A_NAME.search(body, start, end)
        )
        or counts[b"managingEditor"] > 0
        # An image in an item: feedparser reads a title after it as the
        # image's (and dc:title anywhere, then, as the item's).
        or bool(
            counts[b"image"] and (b"title" in checked.prefixed or _a_title_after_an_image(shape))
        )
        or bool(
            counts[b"source"]
            and b"title" in checked.prefixed
            and _a_prefixed_title_after_a_source(body, start, end)
        )
        or _dated_by_guid(body, checked, shape, entries)
    )


#: A prefixed author or contributor that holds elements, none a name.
_A_PREFIXED_PERSON_WITHOUT_A_NAME = re.compile(
    rb"<([\w.-]++:(?:author|contributor))\b[^<>]*+(?<!/)>\s*+<(?!/)"
    rb"(?:[^<]++|<(?!/?[\w.-]++:name[\s>/]|/\1\s*+>))*+</\1\s*+>"
)
#: A prefixed link element's start, up to its local name's end.
_PREFIXED_LINK = re.compile(rb"<[\w.-]++:link[\s>/]")


def _a_prefixed_link(body: bytes, start: int, end: int) -> bool:
    """Whether an entry has a prefixed link element (atom:link). (One
    search: a search back to the "<" of each ":link" was quadratic on a
    text of many.)"""
    return _PREFIXED_LINK.search(body, start, end) is not None


def _a_title_after_an_image(shape: list[bytes]) -> bool:
    """Whether an item has a title after an image element."""
    image = False
    for name in shape:
        if name in _ENTRY_NAMES:
            image = False
        elif name == b"image":
            image = True
        elif image and name == b"title":
            return True
    return False


#: The elements an entry has one of at most, else it is read otherwise
#: (fastfeedparser takes the first, feedparser the last; of two Atom
#: summaries, feedparser takes the second for the content; a date written
#: empty beside one written out is the same element). An author's name,
#: once in each author.
_ONCE_IN_RSS = frozenset(
    {b"title", b"link", b"guid", b"description", b"pubDate", b"published", b"updated"}
)
_ONCE_IN_ATOM = frozenset(
    {b"title", b"id", b"summary", b"content", b"published", b"updated", b"name"}
)
_ENTRY_NAMES = frozenset({b"item", b"entry"})
_PERSON_NAMES = frozenset({b"author", b"contributor"})
#: The last bytes of an element's name in `_SHAPE` found with its end
#: ("pubDate/>", "updated>\n").
_WRITTEN_EMPTY = frozenset(bytes([end]) for end in b">/ \t\r\n")


def _twice_in_an_entry(shape: list[bytes], once: frozenset[bytes]) -> bool:
    """Whether an entry (or an author) has two of an element of `once`,
    `shape` being the names of its elements in order, entries' included."""
    seen: set[bytes] = set()
    for name in shape:
        if name not in once:
            if name in _ENTRY_NAMES:
                seen.clear()
                continue
            if name in _PERSON_NAMES:
                seen.discard(b"name")
                continue
            if name[-1:] not in _WRITTEN_EMPTY:  # (b"" is a comment or CDATA passed over)
                continue
            name = _written_name(name)
            if name not in once:
                continue
        if name in seen:
            return True
        seen.add(name)
    return False


def _written_name(name: bytes) -> bytes:
    """An element's name in `_SHAPE` found with its end, without it."""
    return name.partition(b"/")[0].partition(b">")[0].rstrip()


def _both_named(counts: Counter[bytes], one: bytes, other: bytes) -> bool:
    """Whether the `counts` of names in `_SHAPE` hold both elements, each
    written out or empty."""
    names = {_written_name(name) for name, count in counts.items() if count}
    return one in names and other in names


#: The prefixed elements an entry has one of a name at most (dates, and
#: content:encoded: fastfeedparser takes the first, feedparser the last).
_ONCE_PREFIXED = _DATE_NAMES | {b"encoded"}
#: An entry's start (group 1) or one of those elements' (group 2, its
#: name), under any prefix or none.
_ENTRY_OR_ONCE = re.compile(
    rb"<(item|entry)[\s>/]|<((?:[\w.-]++:)?(?:" + b"|".join(sorted(_ONCE_PREFIXED)) + rb"))[\s>/]"
)


def _a_prefixed_element_twice(body: bytes, start: int, end: int) -> bool:
    """Whether some entry has two elements of one local name among
    `_ONCE_PREFIXED` (two atom:updated, an updated beside an atom:updated,
    two content:encoded). For a document with such prefixed elements;
    two unprefixed dates are told by the shape."""
    seen: set[bytes] = set()
    for entry, name in _ENTRY_OR_ONCE.findall(body, start, end):
        if entry:
            seen.clear()
        else:
            local = name.rpartition(b":")[2]
            if local in seen:
                return True
            seen.add(local)
    return False


#: An entry's start (group 1), a source's (group 2), a prefixed title's
#: (group 3), or a media group's or content's start (group 4, but for an
#: empty one) or end (group 5), past CDATA sections, comments and
#: processing instructions.
_ENTRY_SOURCE_OR_TITLE = re.compile(
    _PASSED + rb"<(?:(item|entry)|(source)|([\w.-]++:title))[\s>/]"
    rb"|<(media:(?:group|content))\b[^<>]*+(?<!/)>|</(media:(?:group|content))\s*+>"
)


def _a_prefixed_title_after_a_source(body: bytes, start: int, end: int) -> bool:
    """Whether some item has a prefixed title of its own (media:title, not
    in a media:content) after its source (the feed the story was taken
    from): feedparser then takes it for the item's title, fastfeedparser
    the item's own."""
    after = False
    depth = 0
    for entry, source, title, opened, closed in _ENTRY_SOURCE_OR_TITLE.findall(body, start, end):
        if entry:
            after, depth = False, 0
        elif source:
            after = True
        elif opened:
            depth += 1
        elif closed:
            depth -= 1
        elif title and after and depth <= 0:
            return True
    return False


def _a_prefixed_title_first(body: bytes, start: int, end: int) -> bool:
    """Whether some entry with a prefixed title (media:title, itunes:title)
    has it first, or has a title that may be empty once stripped:
    fastfeedparser takes the first title of either kind, empty or not;
    feedparser the entry's own title unless it is empty."""
    seen = prefixed = prefixed_first = empty = False
    for found in _ENTRY_OR_TITLE.finditer(body, start, end):
        if found.group(1):
            if prefixed and (prefixed_first or empty):
                return True
            seen = prefixed = prefixed_first = empty = False
        elif found.group(3):
            if found.group(2):
                prefixed = True
                prefixed_first = prefixed_first or not seen
            else:
                empty = empty or found.group(4) is not None
            seen = True
    return prefixed and (prefixed_first or empty)


def _links_read_otherwise(body: bytes, start: int, end: int) -> bool:
    """Whether some Atom entry's link may be read otherwise: the feedparser
    path takes its last alternate link of an HTML type (or of none), and
    no link of another kind; fastfeedparser its first link marked as
    alternate, or else its first link of any kind (a "self" link before
    one with no rel). Alike where an entry has one such alternate, first
    or marked, or no link at all."""
    alternates = others = 0
    marked = other_first = False
    for found in _ENTRY_OR_LINK.finditer(body, start, end):
        if found.group(1):
            if _links_differ(alternates, others, marked=marked, other_first=other_first):
                return True
            alternates = others = 0
            marked = other_first = False
            continue
        attributes = found.group(2)
        if attributes is None:  # a CDATA section or a comment
            continue
        if b"href" not in attributes:
            return True  # a link written as RSS's: feedparser reads its text
        if _EMPTY_HREF.search(attributes):
            return True  # href="": fastfeedparser passes it over, feedparser not
        # The usual spellings told without the searches (a tenth of the
        # reading of an Atom feed).
        if b'rel="alternate"' in attributes:
            rel: bytes | None = b"alternate"
        else:
            rel = _value(_REL, attributes) if b"rel" in attributes else None
            if rel is not None and rel != rel.strip():
                return True  # " alternate ": no alternate to feedparser
        if rel is None or rel == b"alternate":
            if b'type="text/html"' not in attributes and b"type" in attributes:
                kind = _value(_TYPE, attributes)
                if kind is not None and kind.lower() not in _HTML_TYPES:
                    return True  # " text/html ": no HTML to feedparser
            alternates += 1
            marked = marked or rel is not None
        else:
            other_first = other_first or not (alternates or others)
            others += 1
    return _links_differ(alternates, others, marked=marked, other_first=other_first)


def _links_differ(alternates: int, others: int, *, marked: bool, other_first: bool) -> bool:
    """`_links_read_otherwise` for one entry's links: how many alternate
    ones (marked so, or with no rel), how many of other kinds, whether an
    alternate was marked, whether one of another kind came first."""
    return alternates > 1 or bool(others and (not alternates or (other_first and not marked)))


def _value(attribute: re.Pattern[bytes], attributes: bytes) -> bytes | None:
    """The value of an attribute found by `attribute`, as written."""
    found = attribute.search(attributes)
    if found is None:
        return None
    return found.group(1) if found.group(1) is not None else found.group(2)


def _dated_by_guid(body: bytes, checked: _Checked, shape: list[bytes], entries: list[Any]) -> bool:
    """Whether fastfeedparser may have dated an item by its guid: it reads
    a guid that is no URL as a date ("10", "1712345678") where the item has
    no date, which feedparser does not. Looked into for the items without
    a date element only (a date written empty is none either)."""
    if checked.prefixed & _DATE_NAMES:  # dc:date and the like: looked for too
        shape = [
            b"item" if entry else b"pubDate"
            for entry, _date in _ENTRY_OR_DATE.findall(body, checked.first_entry)
        ]
    for index in _undated(shape):
        entry = entries[index]
        guid = str(entry.get("id") or "")
        if guid and entry.get("published") and not guid.startswith(("http://", "https://")):
            return True
    return False


def _undated(shape: list[bytes]) -> list[int]:
    """The numbers of the items with no date element, `shape` being the
    names of their elements in order, items' included."""
    undated = []
    number = -1
    dated = True
    for name in shape:
        if name == b"item":
            if not dated:
                undated.append(number)
            number += 1
            dated = False
        elif name in _UNPREFIXED_DATES:
            dated = True
    if not dated:
        undated.append(number)
    return undated


#: An entry's id element: an RSS guid, an Atom id.
_ID_START = re.compile(rb"<(?:guid|id)[\s>]")


def _guid_less_share_links(body: bytes, items: list[Item]) -> bool:
    """Whether an entry with no id of its own may share its link with a
    story of another title. Beside entries with ids, fastfeedparser gives
    one without an id its link as its id, which the fast path cannot tell
    from an id that is the link (the story's id is the same either way);
    but feedparser's entry has no guid, and a link such entries share is
    nobody's id (`shared_links`): two stories took one id, and the store
    kept one of them. Looked into only where some entry lacks an id."""
    if not ids_missing(body, len(items)):
        return False
    titles: dict[str, str] = {}
    shared = False
    for item in items:
        if item.guid and item.guid == item.link:
            shared |= titles.setdefault(item.link, item.title) != item.title
    return shared or any(
        titles.get(item.link, item.title) != item.title for item in items if item.guid != item.link
    )


def ids_missing(body: bytes, entries: int) -> bool:
    """Whether fewer id elements (RSS guids, Atom ids) follow the first
    entry's start than there are `entries`."""
    first = _FIRST_ENTRY.search(body)
    return first is not None and len(_ID_START.findall(body, first.start())) < entries


def marks_guids(body: bytes) -> bool:
    """Whether the document may mark a guid as no permalink."""
    return _NOT_PERMALINK.search(body) is not None


def guids_read_alike(body: bytes, entries: int) -> bool:
    """Whether the guids of a marked document's `entries` entries read
    alike on both paths as a whole (`read_fast` looks into them when some
    entry's link is its id; each such entry is looked into by itself)."""
    unlinked = _guids_not_links(body)
    return unlinked is not None and len(unlinked) == entries


def ids_given(body: bytes) -> bool:
    """Whether some entry of the document may have an id (a guid, or an
    Atom id): fastfeedparser fills a missing one with the entry's link,
    which is then only told apart from an id that is the link where no
    entry has one."""
    return b"<guid" in body or b"<id" in body


def _checked(
    fetched: Fetched, timezone: str, *, well_formed: bool = True, authors: bool = True
) -> _Checked | None:
    """The checks of the whole document before its entries are read: None
    where the fast path cannot promise what feedparser reads. Its
    well-formedness and its entries' markup too, unless `well_formed` is
    false (a whole read in parts, each checked on its own); its entries'
    authors too, unless `authors` is false (a part's, which the whole's
    `document_facts` looks at)."""
    body = fetched.body
    head = body[:_HEAD]
    if b"\x00" in head:
        # UTF-16 or UTF-32: every check below looks for ASCII in the bytes,
        # and would find no date, no xml:base, no element in them.
        return None
    if b"xml:base" in body or b"<!DOCTYPE" in head or b"<!doctype" in head:
        return None
    if len(body) > _HEAD and doctype_at(body) >= 0:
        return None  # after a long prolog: entities all the same
    # Its window starts where it finds the document: past leading white
    # space, a byte-order mark and up to 8 KB of junk before it.
    window = _SEPARATORS_WINDOW + len(body) - len(body.lstrip()) + _SEPARATORS_SLACK
    if LINE_SEPARATOR.search(body, 0, window):
        # fastfeedparser then makes every U+2028 and U+2029 of the document
        # a line feed: feedparser's path keeps them (breaks in the HTML).
        return None
    if b"<rdf:RDF" in head or b'version="0.3"' in head:
        return None  # RSS 1.0 and Atom 0.3 are rare: feedparser reads them
    charset = re.search(r"charset=([\w.:-]+)", fetched.headers.get("content-type", ""), re.I)
    if charset and charset.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        return None
    is_atom = b"http://www.w3.org/2005/Atom" in head and b"<rss" not in head
    if is_atom and not _ATOM_ROOT.search(head):
        return None  # Atom with a prefix (<a:feed>): the checks look for <entry>
    dates = _dates_are_zoned(body)
    if not dates:
        return None
    text_summaries = False
    if is_atom and not _atom_types_are_clear(body):
        # Atom entries whose summaries are all text, and no content: each
        # summary is read as feedparser's path reads text (`text_to_html`;
        # where the types are clear without it, it changes nothing).
        text_summaries = _atom_kinds(body, 0, b"summary") == "text" and not _has_content(body)
        if not text_summaries or not _atom_types_are_clear(body, text_summaries):
            return None
    if dates == "naive" and not timezone:
        return None
    if well_formed and not _well_formed(body):
        return None  # feedparser's recovery keeps more of a broken document
    if is_atom and _ATOM_ENCLOSURE.search(body):
        return None  # fastfeedparser does not read Atom enclosures
    # The prefixed elements past the channel's own ones (a podcast's
    # channel has its own itunes:summary, which is no entry's): one search
    # for them all, where a search for each took a tenth of the parsing.
    first_entry = next(
        (found.start() for found in _FIRST_ENTRY_OUTSIDE.finditer(body) if found.group(1)),
        len(body),
    )
    # Elements only feedparser reads as written, and (looked for in parts,
    # not in a whole read in parts) elements in elements: markup written
    # as elements in an entry's text (not escaped, nor in CDATA), elements
    # nested in an element only feedparser looks into.
    if _declined_in_entries(body, first_entry, atom=is_atom, nested=well_formed):
        return None
    # Where the entries declare namespaces of their own (none, mostly: one
    # search then tells).
    declaring = body.find(b"xmlns", first_entry)
    if declaring >= 0 and _in_another_namespace(body, declaring, first_entry, atom=is_atom):
        return None
    if _has_c1_controls(body, head):
        return None
    if b"\xc3" in body and _TWICE_ENCODED.search(body):
        # Text that reads as UTF-8 once encoded as ISO-8859-1 ("cafÃ©"):
        # feedparser's path decodes it again ("café"), fastfeedparser not.
        return None
    prefixed = _prefixed_elements(body, first_entry)
    if prefixed is None:
        return None
    locals_ = {local for _prefix, local in prefixed}
    if any(local.lower() in _PREFIXED_NAMES_READ and not local.islower() for local in locals_):
        return None  # dc:Creator, media:Content: feedparser reads them, fastfeedparser not
    if b"base64" in body and _BASE64_MODE.search(body, first_entry):
        return None  # mode="base64": feedparser decodes the text
    if locals_ & _PREFIXED_READ_OTHERWISE:
        odd = {
            (prefix, local)
            for prefix, local in prefixed
            if local in _PREFIXED_READ_OTHERWISE and (prefix, local) not in _PREFIXES_READ_ALIKE
        }
        # An author under a prefix bound to Atom's namespace (atom:author,
        # .NET's a10:author) reads alike.
        atom_authors = {(prefix, local) for prefix, local in odd if local == b"author"}
        if odd - atom_authors or _bound_to(
            body, first_entry, atom_authors, b"author", _ATOM_NAMESPACES, otherwise=True
        ):
            return None
    if (
        any(prefix == b"media" for prefix, _local in prefixed)
        or declaring >= 0
        or body.find(b"yahoo.com/mrss", 0, first_entry) >= 0
    ):
        # (Media RSS's namespace is declared before the first entry, or in
        # the entries, where `declaring` found the first declaration.)
        declared = sum(1 for _ in _MEDIA_PREFIX_BOUND.finditer(body))
        if body.count(b"xmlns:media") != declared or (
            body.count(b"search.yahoo.com/mrss") != declared
        ):
            # `media:` bound to another namespace (feedparser reads its
            # elements as Media RSS's all the same, by the prefix), or Media
            # RSS's namespace under another prefix or none (which the
            # entries' scan would not see as Media RSS).
            return None
    if locals_ & {b"thumbnail", b"content"} and _URL_IN_ANOTHER_CASE.search(body, first_entry):
        return None  # feedparser reads `URL` as `url` (the last of them), fastfeedparser not
    # Thumbnails beside media:content, and Media RSS's description in Atom
    # (YouTube's), are read entry by entry as feedparser reads them, where
    # the elements are named `media:` (see `_EntryMedia`).
    media_named = bool(locals_ & {b"thumbnail", b"description"}) and _media_named(prefixed)
    described = is_atom and media_named and (b"media", b"description") in prefixed
    if (
        locals_ & _MORE_TEXT
        or any(
            local == b"description"
            and (prefix != b"dc" or body.find(b"<description", first_entry) >= 0)
            and not (described and prefix == b"media")
            for prefix, local in prefixed
        )
        or _bound_to(body, first_entry, prefixed, b"category", _MEDIA_NAMESPACE, otherwise=True)
        or _bound_to(body, first_entry, prefixed, b"content", _ATOM_NAMESPACES)
    ):
        return None
    if (
        locals_ & _DC_DATES
        and (is_atom or b"<pubDate" in body)
        and not (
            # dc:date beside pubDate, the same moment each (the Guardian's):
            # feedparser's updated date, the same as its published one, is
            # none once normalised; fastfeedparser gives none.
            not is_atom
            and locals_ & _DC_DATES == {b"date"}
            and {prefix for prefix, local in prefixed if local == b"date"} == {b"dc"}
            and _dc_dates_are_pub_dates(body, first_entry)
        )
    ):
        return None
    if _dates_read_otherwise(body, first_entry, prefixed, locals_):
        return None
    if b"subject" in locals_ and (
        b"category" in locals_ or body.find(b"<category", first_entry) >= 0
    ):
        return None  # feedparser lists dc:subject and categories otherwise
    if authors and _two_authors_in_an_entry(body, first_entry):
        return None  # fastfeedparser gives the first, feedparser the last
    if locals_ & _DATE_NAMES:
        dates = _dates_are_zoned(body, first_entry)
        if not dates or (dates == "naive" and not timezone):
            return None
    read_in_atom = _READ_IN_ATOM_BY_FEEDPARSER
    if described and not any(
        local == b"description" and prefix != b"media" for prefix, local in prefixed
    ):
        read_in_atom = read_in_atom - {b"description"}  # media:description alone: read here
    if _MEDIA_WITHOUT_SLASH.search(head) or (is_atom and locals_ & read_in_atom):
        # Media RSS's namespace without its last slash, which only the
        # feedparser path reads; dc:creator, itunes:author, dc:subject,
        # dc:description and content:encoded in Atom, which only it reads.
        return None
    return _Checked(
        dates=dates,
        thumbnails=(
            "" if b"thumbnail" not in locals_ else "mixed" if b"content" in locals_ else "alone"
        ),
        is_atom=is_atom,
        first_entry=first_entry,
        prefixed=frozenset(locals_),
        described=described,
        media_named=media_named,
        text_summaries=text_summaries,
    )


#: Elements of entries only feedparser reads as written, per format. In
#: RSS: an enclosure with `href` for `url`, a category with Atom's `term`
#: or a `label`, a link with an attribute (feedparser takes its `href` or
#: `url`; fastfeedparser may take another link where it is empty), a
#: title, description or content with a `type`, an `id` (feedparser's
#: guid), a `content`, `summary`, `abstract` or `fullitem` (feedparser's
#: summary or content), a body (XHTML's, which feedparser reads as the
#: content, declared or not). In Atom: a category with text, or with an
#: empty term and a label, a link with a `url` or `uri` (feedparser takes
#: it before the `href`), RSS's elements (a pubDate, guid, description,
#: enclosure...), a body. (Prefixed ones are told by
#: `_PREFIXED_READ_OTHERWISE`; a page quoted in CDATA is passed over.)
_BODY = rb"body[\s>/]"
#: An element with a capital letter in its name but as RSS spells its own
#: (`<Link>`, `<GUID>`), or one of those in small letters (`<pubdate>`):
#: feedparser reads names in small letters, fastfeedparser only as they
#: are spelt. (A prefixed one is told by `_PREFIXED_NAMES_READ`.)
_IN_ANOTHER_CASE = (
    rb"(?!(?:pubDate|managingEditor|lastBuildDate|textInput)[\s>/])[a-z.-]*+[A-Z]"
    rb"|(?:pubdate|managingeditor|lastbuilddate)[\s>/]"
)
_BASE64_MODE = re.compile(rb"""\bmode\s*+=\s*+["']\s*+base64""")
#: The local names of prefixed elements feedparser reads (in small
#: letters, as it reads every name: `dc:Creator` too).
_PREFIXED_NAMES_READ = frozenset(
    b"creator subject date encoded content thumbnail title description author summary updated "
    b"published modified issued created link category keywords group image guid id name email "
    b"uri".split()
)
#: An element either parser reads, put in another namespace than its
#: document's by a default namespace of its own (`<category xmlns="...">`,
#: `<creator xmlns="...dc/elements/1.1/">`): fastfeedparser no longer reads
#: it in Atom, nor an enclosure in RSS, feedparser still does. (WordPress's
#: `<post-id xmlns="...">` is none, and RSS's other elements read alike.)
#: Looked for only where an entry declares a default namespace at all: in
#: the search of every document's entries it took a fifth of the time.
_IN_ANOTHER_NAMESPACE = {
    atom: re.compile(_PASSED + rb"<(" + names + rb"(?=[\s/>])[^<>]*?\bxmlns\s*+=)")
    for atom, names in (
        (False, rb"enclosure"),
        (
            True,
            rb"(?:title|link|description|summary|content|category|author|contributor|name"
            rb"|email|uri|guid|id|pubDate|published|updated|issued|modified|created|creator"
            rb"|subject|enclosure|source|comments|rights)",
        ),
    )
}
_DEFAULT_NAMESPACE = re.compile(rb"xmlns\s*+=")


def _in_another_namespace(body: bytes, position: int, start: int, *, atom: bool) -> bool:
    """Whether an element of the entries from `start` on is put in another
    namespace by a default one of its own (`_IN_ANOTHER_NAMESPACE`);
    `position`: the first "xmlns" from `start` on."""
    while position >= 0:
        if _DEFAULT_NAMESPACE.match(body, position):
            search = _IN_ANOTHER_NAMESPACE[atom].finditer(body, start)
            return any(found.group(1) is not None for found in search)
        position = body.find(b"xmlns", position + 5)
    return False


#: (Each without its "<", which the search below has first: with it, each
#: alternative began with its own "<", and the search, no longer looking
#: for "<" first, took nine times as long.)
_READ_OTHERWISE = {
    False: rb"enclosure\b(?![^<>]*?\burl\s*+=)|category\b[^<>]*?\b(?:term|label)\s*+="
    rb"|link\s[^<>]*?=|(?:title|description|[\w.-]++:encoded)\b[^<>]*?\btype\s*+="
    rb"|(?:summary|abstract|fullitem|id|content|issued|keywords|tags)[\s>/]|"
    + _BODY
    + rb"|"
    + _IN_ANOTHER_CASE,
    True: rb"category\b[^<>]*+(?<!/)>\s*+[^<\s]|category\b[^<>]*?\bterm\s*+=\s*+(?:\"\"|'')"
    rb"|link\b[^<>]*?\bur[il]\s*+="
    rb"|(?:pubDate|guid|description|enclosure|date|modified|tags|keywords|abstract"
    rb"|fullitem|lastBuildDate)[\s>/]|" + _BODY + rb"|" + _IN_ANOTHER_CASE,
}
#: The elements of entries that hold elements, and the elements each may
#: hold for both parsers to read it alike (patterns of names): an author's
#: name (under any prefix: `atom:author` in RSS) and Blogger's picture of
#: them, media's elements in its groups and contents, an item's image, a
#: channel's text input after its items. Entries hold any.
_CONTAINERS = {
    rb"(?:[\w.-]++:)?+(?:author|contributor)": rb"(?:[\w.-]++:)?+(?:name|email|uri)|gd:image",
    rb"media:group": rb"media:[\w.-]++",
    rb"media:content": rb"media:[\w.-]++",
    # YouTube's ratings and view counts, which neither path reads.
    rb"media:community": rb"media:(?:starRating|statistics)",
    rb"image": rb"url|title|link|width|height",
    rb"textInput|textinput": rb"title|description|name|link",
}
_ENTRY_OR_CONTAINER = rb"(?:item|entry|" + rb"|".join(_CONTAINERS) + rb")[\s>/]"


def _holding_otherwise(container: bytes, children: bytes) -> bytes:
    """A pattern of an element `container` (after its "<") that holds
    something else than text, CDATA sections and `children`: another
    element, a comment or a processing instruction (fastfeedparser reads
    the text of an RSS author up to a comment in it)."""
    child = rb"(?!(?:" + container + rb")[\s>/])(?:" + children + rb")(?=[\s>/])[^<>]*+>"
    return (
        rb"(?:" + container + rb")(?=[\s>/])[^<>]*+(?<!/)>"
        rb"(?:[^<]++|<(?:" + _CDATA_AFTER_ITS_START + rb"|/?+" + child + rb"))*+"
        rb"<(?!/(?:" + container + rb")\s*+>)"
    )


#: An element of an entry that holds an element it should not: one of
#: `_CONTAINERS` something else than its children, any other element an
#: element, a comment or a processing instruction (after its text and
#: CDATA sections). feedparser reads an element at any depth (a category
#: in `<foo>` or in an author is the entry's, a guid in `<ya:related>` its
#: guid), fastfeedparser only an entry's own children; and where a title,
#: summary or content holds markup as elements, fastfeedparser keeps the
#: text before the first of them ("Lead" of "Lead <b>bold</b> end").
_HOLDING_OTHERWISE = (
    # Whether it holds anything but text and CDATA sections first (one
    # look for every element, then its name: each name looked at first
    # took twice as long).
    rb"(?=(?![/!?])[^<>]*+(?<!/)>(?:[^<]++|<" + _CDATA_AFTER_ITS_START + rb")*+<(?!/))"
    rb"(?:(?!"
    + _ENTRY_OR_CONTAINER
    + rb")|"
    + b"|".join(_holding_otherwise(container, held) for container, held in _CONTAINERS.items())
    + rb")"
)
#: Both, found (group 1) in one pass over the entries that passes over
#: CDATA sections, comments and processing instructions whole (an HTML
#: `<details><summary>` in an item's content is no summary, and a search
#: that looked into them went through each again for every `<title>`
#: quoted in one: quadratic); by (format, whether elements are looked
#: into: in a document known to be well-formed, each of its parts when it
#: is read in parts).
_DECLINED_IN_ENTRIES = {
    (atom, nested): re.compile(
        rb"<(?:"
        + _PASSED_AFTER_ITS_START
        + rb"|("
        + _READ_OTHERWISE[atom]
        + (rb"|" + _HOLDING_OTHERWISE if nested else b"")
        + rb"))"
    )
    for atom in (False, True)
    for nested in (False, True)
}


def _declined_in_entries(body: bytes, start: int, *, atom: bool, nested: bool) -> bool:
    """Whether the entries from `start` on hold an element only feedparser
    reads as written (`_READ_OTHERWISE`), or, with `nested`, an element
    holding one it should not (`_HOLDING_OTHERWISE`)."""
    return any(
        found.group(1) is not None
        for found in _DECLINED_IN_ENTRIES[atom, nested].finditer(body, start)
    )


#: Prefixed elements of entries only feedparser reads as written: an
#: author or creator under another prefix than Dublin Core's or iTunes',
#: a guid or an id under any (fastfeedparser reads them by their local
#: name), and feedparser's summaries, contents, categories and enclosures
#: by other names (an XHTML body, atom:tags, rss:abstract, atom:enclosure).
_PREFIXED_READ_OTHERWISE = frozenset(
    {
        b"author",
        b"creator",
        b"guid",
        b"id",
        b"body",
        b"tags",
        b"abstract",
        b"fullitem",
        b"enclosure",
    }
)
_PREFIXES_READ_ALIKE = frozenset({(b"dc", b"creator"), (b"itunes", b"author")})
#: A character of the C1 controls (U+0080-U+009F), or a reference to one:
#: feedparser reads it as windows-1252's ("&#146;" as a right quote, as
#: browsers do), fastfeedparser drops it or keeps it as it is. (Two
#: searches, each for its first bytes: one for both took 0.4 ms a
#: 100 KB feed.)
_C1_CHARACTER = re.compile(rb"\xc2[\x80-\x9f]")
#: A character reference, with its hexadecimal or its decimal digits.
#: Possessive: `&#` and 40,000 zeros without a `;` took 4 s.
CHARACTER_REFERENCE = re.compile(rb"&#(?:[xX]0*+([0-9a-fA-F]++)|0*+([0-9]++));")
#: The start of a character of UTF-8 encoded twice: a lead byte written
#: as a character of ISO-8859-1 (U+00C2-U+00F4), then a continuation
#: byte so written (U+0080-U+00BF), each in UTF-8.
_TWICE_ENCODED = re.compile(rb"\xc3[\x82-\xb4]\xc2[\x80-\xbf]")
#: A reference to a C1 control (group 1), or one that may name no
#: character (see `names_no_character`): four hexadecimal digits or more
#: (group 2), or five decimal ones (group 3). One search for both.
_ODD_REFERENCE = re.compile(
    rb"&#(?:(0*+(?:12[89]|1[3-5]\d)|[xX]0*+[89][0-9a-fA-F])"
    rb"|[xX]0*+([0-9a-fA-F]{4,}+)|0*+([0-9]{5,}+));"
)
#: The encoding a document's XML declaration names. Declared as
#: ISO-8859-1, its bytes 0x80-0x9F are those controls; in windows-1252 and
#: windows-1251 they are letters, and 0xC2 is one too ("В" before "™" in
#: windows-1251).
XML_DECLARATION_ENCODING = re.compile(rb"""<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_LATIN1 = re.compile(rb"(?i:iso[-_]?8859[-_]1|latin-?1|l1|cp819)")
_UTF8 = re.compile(rb"(?i:utf-?8)")
_C1_BYTE = re.compile(rb"[\x80-\x9f]")


def names_no_character(hexadecimal: bytes | str | None, decimal: bytes | str | None) -> bool:
    """Whether a character reference of these digits, without leading
    zeros (a `CHARACTER_REFERENCE`'s groups) names no character: a surrogate
    (`&#xD800;`) or a number past U+10FFFF. The feedparser path reads such
    a reference as U+FFFD's, wherever it is written (see
    `feeds.parse.feed`): also in a CDATA section, where it is text that
    fastfeedparser keeps as written."""
    digits = hexadecimal or decimal or b""
    if len(digits) > 7:  # longer than U+10FFFF in either base
        return True
    number = int(digits, 16) if hexadecimal else int(digits)
    return 0xD800 <= number <= 0xDFFF or number > 0x10FFFF


def _has_c1_controls(body: bytes, head: bytes) -> bool:
    """Whether the document holds a C1 control (see `_C1_CHARACTER`), as a
    reference or as a character of the encoding it declares in `head`; or
    a reference that names no character, which the two paths read
    otherwise in a CDATA section (`names_no_character`)."""
    for found in _ODD_REFERENCE.finditer(body):
        if found.group(1) or names_no_character(found.group(2), found.group(3)):
            return True
    declared = XML_DECLARATION_ENCODING.search(head)
    if declared is None or _UTF8.fullmatch(declared.group(1)):
        return _C1_CHARACTER.search(body) is not None
    return bool(_LATIN1.fullmatch(declared.group(1))) and _C1_BYTE.search(body) is not None


#: An entry's start (group 1), or an author element's (RSS author,
#: dc:creator, Atom author).
_ENTRY_OR_AUTHOR = re.compile(rb"<(?:(item|entry)|(?:[\w.-]+:)?(?:author|creator))[\s>/]")


def _two_authors_in_an_entry(body: bytes, first_entry: int) -> bool:
    """Whether some entry has two author elements (co-authors as WordPress
    plugins write them: a dc:creator each), in one pass over the entries."""
    authors = 0
    for found in _ENTRY_OR_AUTHOR.finditer(body, first_entry):
        if found.group(1):
            authors = 0
        else:
            authors += 1
            if authors == 2:
                return True
    return False


def _prefixed_elements(body: bytes, start: int) -> set[tuple[bytes, bytes]] | None:
    """The (prefix, local name) of each prefixed element from `start` on;
    None past _MOST_PREFIXED kinds. Found a window at a time, so that a
    hostile body of millions of them never makes a list of millions (each
    window ends before a `<`, where no name can be cut)."""
    found: set[tuple[bytes, bytes]] = set()
    while start < len(body):
        end = body.find(b"<", start + _WINDOW)
        end = len(body) if end < 0 else end
        found.update(_PREFIXED.findall(body, start, end))
        if len(found) > _MOST_PREFIXED:
            return None
        start = end
    return found


def _bound_to(
    body: bytes,
    first_entry: int,
    prefixed: set[tuple[bytes, bytes]],
    local: bytes,
    namespaces: bytes,
    *,
    otherwise: bool = False,
) -> bool:
    """Whether an element `local` of an entry may be in one of `namespaces`
    (a pattern), or with `otherwise` in another namespace: its prefix is
    declared so before the first entry, or not declared there at all (or
    there are more such prefixes than real feeds use)."""
    prefixes = [re.escape(prefix) for prefix, name in prefixed if name == local]
    if len(prefixes) > _MOST_PREFIXES:
        return True
    for prefix in prefixes:
        if re.compile(rb"xmlns:" + prefix + rb"\s*+=").search(body, 0, first_entry) is None:
            return True
    if not prefixes:
        return False
    uri = (
        rb"(?!(?i:" + namespaces + rb")[\"'])" if otherwise else rb"(?i:" + namespaces + rb")[\"']"
    )
    declared = re.compile(rb"xmlns:(?:" + b"|".join(prefixes) + rb")\s*+=\s*+[\"']\s*+" + uri)
    return declared.search(body, 0, first_entry) is not None


def _dates_read_otherwise(
    body: bytes, first_entry: int, prefixed: set[tuple[bytes, bytes]], locals_: set[bytes]
) -> bool:
    """Whether an entry's prefixed dates may be read otherwise by the two
    parsers. fastfeedparser reads a date element by its name in any
    namespace, feedparser only in the one it knows (dc:issued, dcterms:date
    or a date in another vocabulary it leaves unread); and where two
    elements give the same date (dc:date and dcterms:modified, pubDate and
    atom:published), feedparser takes the last, fastfeedparser its own
    choice."""
    if (b"pubDate" in locals_) or any(
        _bound_to(body, first_entry, prefixed, local, namespace, otherwise=True)
        for local, namespace in _DATE_NAMESPACES.items()
    ):
        return True
    published = len(locals_ & {b"issued", b"published"}) + (
        body.find(b"<pubDate", first_entry) >= 0
    )
    return published > 1 or len(locals_ & {b"date", b"modified", b"updated"}) > 1


#: An entry's start or end (group 1, "/" for an end), or a pubDate's or
#: dc:date's name (group 2) and text up to the next "<" (group 3).
_ENTRY_OR_PUBLISHED = re.compile(
    _PASSED + rb"<(/?+)(?:item|entry)[\s>/]|<(pubDate|dc:date)(?=[\s>/])[^<>]*+>([^<]*+)<"
)


def _dc_dates_are_pub_dates(body: bytes, start: int) -> bool:
    """Whether each entry from `start` on with a dc:date has one, and one
    pubDate, each in a form both paths read alike (`_PLAIN_DATE`), naming
    the same moment."""
    dates: dict[bytes, list[bytes]] = {}
    for found in _ENTRY_OR_PUBLISHED.finditer(body, start):
        if found.group(1) is not None:
            if b"dc:date" in dates and (
                len(dates[b"dc:date"]) != 1 or len(dates.get(b"pubDate", ())) != 1
            ):
                return False
            if b"dc:date" in dates:
                moment = _instant(dates[b"dc:date"][0])
                if moment is None or moment != _instant(dates[b"pubDate"][0]):
                    return False
            dates = {}
        elif found.group(2):
            if not body.startswith(b"/" + found.group(2), found.end()):
                return False  # CDATA or a comment in it
            dates.setdefault(found.group(2), []).append(found.group(3).strip())
    return not dates


def _instant(written: bytes) -> datetime | None:
    """The moment a date in a form of `_PLAIN_DATE` names; None for others."""
    if not _PLAIN_DATE.fullmatch(written):
        return None
    text = written.decode("ascii")
    if not text[:4].isdigit():
        return mail_date(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # no real time (the date checks decline it before)
        return None


def _in_any_case(name: str) -> tuple[str, ...]:
    """`name` written in every mix of cases ("link", "Link", "LINK"...)."""
    return tuple("".join(letters) for letters in product(*((c.lower(), c.upper()) for c in name)))


#: The element names of a link and a guid as both parsers read them.
_LINK_NAMES = _in_any_case("link")
_GUID_NAMES = _in_any_case("guid")


def _guids_not_links(body: bytes) -> list[set[str]] | None:
    """For each RSS item, in the document's order, the text of its guids
    that are no permalink (as feedparser reads them: an isPermaLink, its
    name in any case, other than "true") and are not the text of one of
    its own <link> elements; None if the document does not read so."""
    from lxml import etree  # fastfeedparser's own parser: loaded already

    found: list[set[str]] = []
    try:
        for _event, item in etree.iterparse(
            io.BytesIO(body),
            tag="item",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
        ):
            # Children by name in lxml (an item of millions of others is not
            # looked through here), in any case, as both parsers read them.
            links = {(child.text or "").strip() for child in item.iterchildren(*_LINK_NAMES)}
            guids = set()
            for child in item.iterchildren(*_GUID_NAMES):
                marks = []
                for name, value in child.attrib.items():
                    namespace, _brace, local = name.rpartition("}")
                    if local.lower() == "ispermalink":
                        if namespace:
                            # feedparser reads it in a namespace it does not
                            # know as the mark, in one it knows as another.
                            return None
                        marks.append(value)
                text = (child.text or "").strip()
                if marks and marks[-1] != "true" and text not in links:
                    guids.add(text)
            found.append(guids)
            item.clear()
    except etree.LxmlError:
        return None
    return found


def _well_formed(body: bytes) -> bool:
    """A strict XML check (expat, C speed: ~400 MB/s). DOCTYPEs were refused
    before, so no entity is ever expanded here. An encoding expat cannot
    read (Shift_JIS, GBK, Big5 and the other multi-byte ones, or a name
    it does not know) is for feedparser too."""
    try:
        # With namespaces: a prefix no xmlns declares ("content:encoded"
        # in a hand-written feed) is an error, as in feedparser's strict
        # reading, whose loose one then reads the document otherwise.
        xml.parsers.expat.ParserCreate(namespace_separator=" ").Parse(body, True)
    except (xml.parsers.expat.ExpatError, ValueError, LookupError):
        return False
    return True


def _dates_are_zoned(body: bytes, prefixed_from: int | None = None) -> str:
    """How the document's dates read alike on both paths: "zoned", every
    one ends in a zone fastfeedparser reads, and is ASCII (it leaves a date
    in other words, "Пт, 20 ноя 2026", unread, takes an RFC 822 date's
    "+03:00" or "GMT+3" for UTC, and "2:00 PM" for two in the morning);
    "named", so, and some end in a zone's name such as MSK (see
    `_NAMED_ZONE`); "naive", none has a zone and each is in a plain form,
    which fastfeedparser reads as UTC and the feedparser path in the
    source's zone (see `_NAIVE_DATE`); "shifted" and an offset
    ("shifted+03:00"), each is an RFC 822 date with that one offset
    written the RFC 3339 way (`_SHIFTED_DATE`), whose time of day
    fastfeedparser reads as UTC and the feedparser path at the offset; ""
    otherwise. With `prefixed_from`, the dates under a prefix from there
    on too (a10:updated, dcterms:modified)."""
    # Each date once (an item's published and updated are often the same),
    # and the usual forms by one match: the searches below scan every
    # position of a date, several times, for every date of every feed.
    dates = {found.strip() for found in _DATES.findall(body)}
    if prefixed_from is not None:
        dates.update(found.strip() for found in _PREFIXED_DATES.findall(body, prefixed_from))
    dates.discard(b"")
    if not all(_real_time(found) for found in dates):
        return ""
    unusual = [found for found in dates if not _PLAIN_DATE.fullmatch(found)]
    if all(_zoned_date(found) for found in unusual):
        named = any(_NAMED_ZONE.search(found) for found in unusual) or any(
            found.endswith(b"-0000") for found in dates
        )
        return "named" if named else "zoned"
    if len(unusual) == len(dates) and all(_NAIVE_DATE.fullmatch(found) for found in unusual):
        return "naive"
    if len(unusual) == len(dates):
        offsets = {shifted.group(1) for shifted in map(_SHIFTED_DATE.fullmatch, unusual) if shifted}
        if len(offsets) == 1 and all(map(_SHIFTED_DATE.fullmatch, unusual)):
            return "shifted" + offsets.pop().decode()
    return ""


def shifted_zone(dates: str) -> timezone | None:
    """The offset of the dates of a document whose dates are "shifted" (see
    `_dates_are_zoned`), as a zone; None for other dates."""
    if not dates.startswith("shifted"):
        return None
    sign, hours, minutes = dates[7], int(dates[8:10]), int(dates[11:13])
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if sign == "-" else offset)


def _real_time(found: bytes) -> bool:
    """Whether a date in RFC 3339's or RFC 822's form names a real time (a
    date in neither form is not looked into here)."""
    iso = _ISO_FIELDS.match(found)
    if iso is not None:
        year, month, day, hour, minute = (int(field) for field in iso.groups()[:5])
        second = int(iso.group(6) or 0)
    else:
        rfc822 = _RFC822_FIELDS.match(found)
        if rfc822 is None:
            return True
        if found[rfc822.end() : rfc822.end() + 1] == b".":
            return False  # a fraction of a second: fastfeedparser reads it, the other path no date
        month = _MONTHS.get(rfc822.group(2).lower(), 0)
        day, year, hour, minute = (int(rfc822.group(n)) for n in (1, 3, 4, 5))
        second = int(rfc822.group(6) or 0)
        if len(rfc822.group(3)) == 4 and year < 1000:
            return False  # "0026": fastfeedparser reads no date, feedparser 2026
        if year < 100:  # as the standard library reads a year of two digits
            year += 1900 if year > 68 else 2000
    offset = _OFFSET.fullmatch(found[-6:])
    if offset is not None and (int(offset.group(1)) > 23 or int(offset.group(2)) > 59):
        return False  # "+2400": no zone to either path, each reads it its way
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _zoned_date(found: bytes) -> bool:
    """Whether both paths read this date alike (see `_dates_are_zoned`)."""
    return bool(
        found.isascii()
        and _ZONED.search(found)
        and (not _NAME_AT_END.search(found) or _NAMED_DATE.fullmatch(found))
        and not (_ODD_OFFSET.search(found) and _NAMED_MONTH.search(found))
        and not _TWELVE_HOUR.search(found)
    )


def _atom_types_are_clear(body: bytes, text_summaries: bool = False) -> bool:
    """In Atom, text constructs default to plain text; an untyped one that
    carries escaped markup or entities would read differently here (the fast
    path cannot tell the type of a summary), but for titles (read by the
    kind of the document's titles) and, with `text_summaries`, summaries
    (all text: each read as text)."""
    for opening in _ATOM_TEXT.finditer(body):
        if _HTML_TYPE.search(opening.group(2)):
            continue
        kind = _value(_TYPE, opening.group(2)) if b"type" in opening.group(2) else None
        if kind is not None and kind.lower() not in _TEXT_TYPES:
            return False  # content of a media type ("image/png"), base64
        if opening.group(1) == b"title" or (text_summaries and opening.group(1) == b"summary"):
            continue  # read by the kind of its document's titles, or as text
        end = body.find(b"</" + opening.group(1), opening.end())
        inner = body[opening.end() : end if end >= 0 else len(body)]
        # A plain "&amp;" decodes to "&" either way; markup or an entity
        # once decoded would not (written with references too: "&#60;b>",
        # "&#38;amp;").
        if (
            b"<" in inner
            or b"&lt;" in inner
            or _ESCAPED_ENTITY.search(inner)
            or _REFERENCE_TO_MARKUP.search(inner)
        ):
            return False
        # The feedparser path makes a line break of plain text a <br>.
        if opening.group(1) in (b"summary", b"content") and b"\n" in inner.strip():
            return False
        # Plain-text content with an ampersand: fastfeedparser's summary
        # made of it is the content decoded ("Fish & chips"), taken for
        # a copy of it; feedparser keeps both ("Fish &amp; chips").
        if opening.group(1) == b"content" and b"&" in inner:
            return False
    return True


#: An Atom text construct's start, its name (group 1) and attributes
#: (group 2), CDATA sections, comments and processing instructions passed
#: over.
_ATOM_TEXT_START = re.compile(_PASSED + rb"<(title|summary)(?=[\s>/])([^<>]*+)>")


def _atom_kinds(body: bytes, start: int, name: bytes) -> str:
    """How the Atom elements `name` (title, summary) from `start` on are
    typed: "text" (none has a type, or each "text"), "html" (each "html"),
    or "" (some other type, both kinds, or none at all). feedparser reads a
    text one as written and an HTML one as HTML, whatever it holds."""
    kinds = set()
    for found in _ATOM_TEXT_START.finditer(body, start):
        if found.group(1) != name:
            continue
        attributes = found.group(2)
        kind = _value(_TYPE, attributes) if b"type" in attributes else b"text"
        # (feedparser reads the type in small letters.)
        kinds.add({b"text": "text", b"html": "html"}.get((kind or b"").strip().lower(), ""))
    return kinds.pop() if len(kinds) == 1 else ""


class _Document:
    """What `_item` needs to know of the whole document, and which of it
    the entries read so far needed (see `Facts`)."""

    def __init__(
        self,
        body: bytes,
        *,
        zone: tzinfo | None,
        has_ids: bool,
        named: bool,
        thumbnails: str,
        first_entry: int = 0,
        is_atom: bool = False,
        described: bool = False,
        media_named: bool = False,
        text_summaries: bool = False,
    ) -> None:
        self._body = body
        self.is_atom = is_atom
        #: Whether entries hold a media:description (see `_EntryMedia`).
        self.described = described
        #: Whether `entry_media` can tell entries' Media RSS elements.
        self.media_named = media_named
        #: Whether each summary is read as text (see `_checked`).
        self.text_summaries = text_summaries

        self._first_entry = first_entry
        self._summaries: list[str] | None = None
        self._media: list[_EntryMedia] | None = None
        self._atom_titles: str | None = None
        #: The source's zone, for a document whose dates have none.
        self.zone = zone
        self.has_ids = has_ids
        #: Whether some date's zone is one the feedparser path reads as the
        #: source's zone where an item's id is made from its date: a zone's
        #: name (see `_NAMED_ZONE`), an offset written "+03:00" (see
        #: `_SHIFTED_DATE`).
        self.named = named
        self._thumbnails = thumbnails
        self._odd_lengths: bool | None = None
        self._content: bool | None = None
        self._content_read = False
        self.thumbnails_read = False

    @property
    def thumbnails(self) -> str:
        """ "": no media:thumbnail; "alone": thumbnails and no media:content;
        "mixed": both."""
        self.thumbnails_read = True
        return self._thumbnails

    @property
    def odd_lengths(self) -> bool:
        """Whether some length attribute is more than ASCII digits:
        fastfeedparser gives int() of it (" 5120", "+5120", "5_120" give
        5120), feedparser the text, which is then no length. Looked for
        only when an entry needs it."""
        if self._odd_lengths is None:
            self._odd_lengths = _has_odd_lengths(self._body)
        return self._odd_lengths

    @property
    def has_content(self) -> bool:
        """Whether any entry may have a content element of its own (where
        none does, an RSS entry's content is fastfeedparser's copy of its
        description). Looked for only when an entry needs it."""
        self._content_read = True
        return self.holds_content

    @property
    def holds_content(self) -> bool:
        """`has_content` of this document itself, a part's own, which is no
        fact of the whole: where it holds no content element, none of its
        entries has one."""
        if self._content is None:
            self._content = _has_content(self._body)
        return self._content

    def own_summary(self, index: int, entries: int) -> str:
        """What entry `index` (of `entries`) has of its own summary (an RSS
        description, an Atom summary): "absent", "empty" (no text, so
        that fastfeedparser makes one up from the content as for none),
        "text", or "" where the entries cannot be told apart. Looked for
        only when an entry needs it, in one pass over the entries."""
        if self._summaries is None:
            self._summaries = _own_summaries(self._body, self._first_entry)
        if len(self._summaries) != entries:
            return ""
        return self._summaries[index]

    @property
    def in_utf8(self) -> bool:
        """Whether the document is UTF-8 as it declares itself."""
        declared = XML_DECLARATION_ENCODING.search(self._body, 0, _HEAD)
        return declared is None or _UTF8.fullmatch(declared.group(1)) is not None

    def atom_titles(self) -> str:
        """`_atom_kinds` of the entries' titles, looked for once, when a title
        needs it."""
        if self._atom_titles is None:
            self._atom_titles = _atom_kinds(self._body, self._first_entry, b"title")
        return self._atom_titles

    def entry_media(self, index: int, entries: int) -> _EntryMedia | None:
        """Entry `index`'s (of `entries`) Media RSS elements as written
        (see `_EntryMedia`); None where the entries cannot be told apart.
        Looked for only when an entry needs it, in one pass over the
        entries."""
        if self._media is None:
            self._media = _entries_media(self._body, self._first_entry)
        if len(self._media) != entries:
            return None
        return self._media[index]

    def facts(self, dates: str, *, linked_ids: bool) -> Facts:
        """The facts its entries were read by: those they needed."""
        return Facts(
            dates=dates,
            thumbnails=self._thumbnails if self.thumbnails_read else None,
            content=self._content if self._content_read else None,
            odd_lengths=self._odd_lengths,
            linked_ids=linked_ids,
        )


#: An entry's start or end (group 1, "/" for an end, and group 2), or its
#: summary's (group 3: description or summary, dc:description too, which
#: fastfeedparser reads as the description; group 4 when it is written
#: empty, "<summary/>"); CDATA sections and comments passed over.
_ENTRY_OR_SUMMARY = re.compile(
    _PASSED + rb"<(/?+)(item|entry)[\s>/]"
    rb"|<((?:[\w.-]++:)?+(?:description|summary))(?=[\s>/])[^<>]*+(?:(?<=/)(>)|>)"
)
#: A summary's text that is no text: nothing, or empty CDATA sections.
_NO_TEXT = re.compile(rb"(?:<!\[CDATA\[\]\]>)*+")


def _own_summaries(body: bytes, start: int) -> list[str]:
    """`_Document.own_summary` of each entry from `start` on (a channel's
    description after its items is none of theirs)."""
    summaries: list[str] = []
    inside = False
    for found in _ENTRY_OR_SUMMARY.finditer(body, start):
        if found.group(2):
            inside = not found.group(1)
            if inside:
                summaries.append("absent")
        elif found.group(3) and inside:
            if found.group(4):
                summaries[-1] = "empty"
                continue
            end = body.find(b"</" + found.group(3), found.end())
            inner = body[found.end() : end] if end >= 0 else b"x"
            summaries[-1] = "empty" if _NO_TEXT.fullmatch(inner) else "text"
    return summaries


@dataclass(slots=True)
class _EntryMedia:
    """An entry's Media RSS elements as written, where fastfeedparser does
    not give what feedparser reads of them: the thumbnails of an entry with
    media:content (feedparser lists them after its media:content), and a
    media:description, YouTube's in a media:group (feedparser's summary
    of an Atom entry without one; fastfeedparser gives it to each
    media:content of its group)."""

    #: The media:thumbnail addresses, in order ("" where one cannot be
    #: read from its attribute as written).
    thumbnails: list[str]
    #: How many media:content elements it has.
    contents: int = 0
    #: How many media:description elements it has.
    descriptions: int = 0
    #: Whether a media:description is written otherwise than feedparser
    #: and fastfeedparser read alike: with attributes (a type), outside a
    #: media:group or media:content, or beside the entry's own summary or
    #: content.
    odd: bool = False


#: In the entries: an entry's start or end (group 1, "/" for an end), a
#: media:thumbnail's attributes (group 2), a media:group's or
#: media:content's start or end (group 3 "/" for an end, group 4 its
#: name, group 5 "/" for an element written empty), a
#: media:description's attributes (group 6), an Atom summary or content
#: (group 7); CDATA sections, comments and processing instructions
#: passed over.
_ENTRY_OR_MEDIA = re.compile(
    _PASSED + rb"<(/?+)(?:item|entry)[\s>/]"
    rb"|<media:thumbnail(?=[\s>/])([^<>]*+)>"
    rb"|<(/?+)media:(group|content)(?=[\s>/])[^<>]*?(/?+)>"
    rb"|<media:description(?=[\s>/])([^<>]*+)>"
    rb"|<(summary|content)(?=[\s>/])"
)
#: An attribute of a start tag, from the one before it on: its name (group
#: 1) and its value, as written (group 2 or 3).
_ATTRIBUTE = re.compile(rb"""\s++([^\s=/>]++)\s*+=\s*+(?:"([^"]*+)"|'([^']*+)')""")
#: A reference XML reads in an attribute value, its digits without their
#: leading zeros (a document that gets here is well-formed: no other
#: reference is left, nor one of zeros alone).
_XML_REFERENCE = re.compile(r"&(?:#0*+([0-9]++)|#x0*+([0-9a-fA-F]++)|(amp|lt|gt|quot|apos));")
_XML_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
#: Line ends and the white space XML makes a space of in an attribute value.
_XML_LINE_END = re.compile(r"\r\n?+")
_XML_ATTRIBUTE_SPACE = str.maketrans("\t\n\r", "   ")


def _attribute_value(written: bytes) -> str:
    """An attribute value as an XML parser gives it: line ends made line
    feeds, then white space made spaces, then references read. "" where it
    cannot be read so (not UTF-8, a reference naming no character)."""
    try:
        text = written.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    if "\r" in text:
        text = _XML_LINE_END.sub("\n", text)
    text = text.translate(_XML_ATTRIBUTE_SPACE)
    if "&" not in text:
        return text

    def read(found: re.Match[str]) -> str:
        decimal, hexadecimal, name = found.groups()
        if name:
            return _XML_ENTITIES[name]
        if names_no_character(hexadecimal, decimal):
            raise ValueError(found.group())
        return chr(int(hexadecimal, 16) if hexadecimal else int(decimal))

    try:
        text = _XML_REFERENCE.sub(read, text)
    except ValueError:
        return ""
    return text


def _entries_media(body: bytes, start: int) -> list[_EntryMedia]:
    """`_Document.entry_media` of each entry from `start` on."""
    found_media: list[_EntryMedia] = []
    entry: _EntryMedia | None = None
    depth = 0
    own = False
    for found in _ENTRY_OR_MEDIA.finditer(body, start):
        if found.group(1) is not None:
            if found.group(1):
                if entry is not None and entry.descriptions and own:
                    entry.odd = True
                entry = None
            else:
                entry = _EntryMedia([])
                found_media.append(entry)
                depth = 0
                own = False
        elif entry is None:
            continue
        elif found.group(2) is not None:
            url = _thumbnail_url(found.group(2))
            entry.thumbnails.append(_attribute_value(url).strip() if url else "")
        elif found.group(3) is not None:
            if found.group(3):
                depth -= 1
            elif not found.group(5):
                depth += 1
            if not found.group(3) and found.group(4) == b"content":
                entry.contents += 1
        elif found.group(6) is not None:
            entry.descriptions += 1
            if found.group(6).strip() or depth <= 0 or entry.descriptions > 1:
                entry.odd = True
        elif found.group(7):
            own = True
    return found_media


def _thumbnail_url(attributes: bytes) -> bytes | None:
    """A media:thumbnail's address as written in its `attributes`; None
    where feedparser might read another one (it reads names in small
    letters: a later `URL` over a `url`) or none can be told."""
    found = None
    position = 0
    while (attribute := _ATTRIBUTE.match(attributes, position)) is not None:
        position = attribute.end()
        name = attribute.group(1).lower()
        if name == b"url" or name.endswith(b":url"):
            if attribute.group(1) != b"url" or found is not None:
                return None
            found = attribute.group(2) if attribute.group(2) is not None else attribute.group(3)
    if attributes[position:].strip(b" \t\r\n/"):
        return None  # attributes not read to their end
    return found


def _media_named(prefixed: set[tuple[bytes, bytes]]) -> bool:
    """Whether the entries' elements `_entries_media` looks at are all
    under the prefix `media` (it finds them by that name; the caller makes
    sure the prefix is Media RSS's)."""
    return all(prefix == b"media" for prefix, local in prefixed if local in _MEDIA_LOOKED_AT)


#: The Media RSS elements `_entries_media` looks at (and so reads by name).
_MEDIA_LOOKED_AT = frozenset({b"thumbnail", b"group", b"description", b"content"})


def _has_odd_lengths(body: bytes) -> bool:
    return _ODD_LENGTH.search(body) is not None


def _has_content(body: bytes) -> bool:
    return b"<content" in body or b":encoded" in body


def _item(
    entry: Any, source: Source, base: str, document: _Document, index: int, entries: int
) -> Item | None:
    title = str(entry.get("title") or "")
    if document.is_atom:
        if "<" in title or (
            "&" in title and (_ENTITY.search(title) or html.unescape(title) != title)
        ):
            # Markup or entities ("&amp" too): its type attribute decides.
            kind = document.atom_titles()
            if not kind:
                return None
            title = plain_title(title.strip(), f"text/{'plain' if kind == 'text' else kind}")
    elif "<" in title or ("&" in title and _LOOKS_LIKE_A_REFERENCE.search(title)):
        title = rss_title(title)
    summary = str(entry.get("description") or "")
    content = ""
    for part in entry.get("content") or []:
        value = str(part.get("value") or "")
        if value:
            content = value
            break
    if content == summary:
        # fastfeedparser's copy of an RSS description where there is no
        # content, or a summary it made up of a content without markup:
        # feedparser gives no summary beside it where the entry's own is
        # empty.
        own = document.own_summary(index, entries) if content and document.holds_content else "-"
        if not own:
            return None
        if own == "empty":
            summary = ""
        else:
            content = ""
    elif content.strip() == summary:
        # fastfeedparser's copy of an RSS description, kept as written
        # where the description is stripped: feedparser has no content. A
        # content element that differs from the description only so is
        # feedparser's content: the two cannot be told apart here.
        if document.has_content:
            return None
        content = ""
    elif content and _may_be_made_up(summary, content):
        # fastfeedparser makes a summary up from the content of an entry
        # with no summary of its own, or an empty one; feedparser gives the
        # content as the summary of the first, and no summary to the second.
        own = document.own_summary(index, entries)
        if not own:
            return None
        if own == "absent":
            summary, content = content, ""
        elif own == "empty":
            summary = ""
    if document.text_summaries:
        summary = text_to_html(summary)  # as feedparser's path reads Atom text
    if document.described:
        media = document.entry_media(index, entries)
        if media is None or media.odd:
            return None
        if media.descriptions:
            # fastfeedparser gives the description to each media:content of
            # its group (or the one holding it); feedparser makes it the
            # summary of an entry without one.
            given = {m.get("description") for m in entry.get("media_content") or ()}
            if summary or content or not media.contents or len(given) != 1 or None in given:
                return None
            summary = str(given.pop()).strip()
    categories = tag_names(entry.get("tags"))
    link = str(entry.get("link") or "").strip()
    if "&" in link and _ENTITY.search(link):
        return None  # escaped twice ("&amp;amp;"): feedparser decodes it again
    if ":///" in link:
        return None  # "https:///host/": feedparser drops the slash too many
    guid = str(entry.get("id") or "").strip()
    if guid == link and not document.has_ids:
        guid = ""  # fastfeedparser fills a missing id with the link
    elif (
        guid
        and guid == link
        and not (WEB_URL.match(link) and _joined(base, link) == link and not _SPACE.search(link))
    ):
        # The same, or a guid that is the link: which, cannot be told where
        # other items have guids (an empty one among them). The id is the
        # same either way only for a web link that needs no resolving, and
        # holds no space (a guid with one is no URI to the ids, a link all
        # the same); feedparser decides the others.
        return None
    if guid and not link:
        # An RSS permalink guid is the item's URL: feedparser takes it as
        # the link however it is spaced or its scheme spelt, fastfeedparser
        # only a bare lower-case "http...". feedparser decides.
        return None
    if document.named and not (guid or (link and WEB_URL.match(_joined(base, link)))):
        # An item with neither guid nor web link (none, or "mailto:...") has
        # its id made from its date, and the feedparser path reads a zone's
        # name (or an offset written "+03:00") in such a date as the
        # source's zone (as it always did, so that the id stays the same).
        return None
    published = _date(entry.get("published"), document.zone)
    updated = _date(entry.get("updated"), document.zone)
    if published is None:
        published, updated = updated, None
    enclosures = [
        (
            str(e.get("url") or e.get("href") or "").strip(),
            # In small letters, as feedparser gives "IMAGE/JPEG".
            str(e.get("type") or "").lower(),
            # "0" as feedparser gives it, not fastfeedparser's 0.
            "" if e.get("length") is None else str(e.get("length")),
        )
        for e in entry.get("enclosures") or []
    ]
    image, image_type, image_length = first_image(enclosures, (), base)
    if image_length is not None and document.odd_lengths:
        return None  # maybe read by int() from " 5120" or "+5120": feedparser has none
    if not image:
        if document.thumbnails == "mixed":
            # feedparser lists every media:thumbnail after the media:content;
            # fastfeedparser only those of entries without media:content, as
            # media:content. Unless an image enclosure (first either way)
            # decides, the thumbnails as written do.
            media = document.entry_media(index, entries) if document.media_named else None
            if media is None or "" in media.thumbnails or not document.in_utf8:
                return None  # (addresses are read from the bytes as UTF-8)
            listed = list(_media(entry, document)) if media.contents else []
            listed += [(thumbnail, "", "") for thumbnail in media.thumbnails]
            image, image_type, image_length = first_image((), listed, base)
        else:
            image, image_type, image_length = first_image((), _media(entry, document), base)
    return Item(
        source=source.name,
        title=" ".join(title.split()),
        guid=guid,
        link=_joined(base, link),
        # Stripped as feedparser strips every element's text (a no-break
        # space at either end too); fastfeedparser leaves a content's.
        summary=summary.strip(),
        content=content.strip(),
        author=author_name(str(entry.get("author") or "")),
        published=published,
        updated=updated,
        categories=categories,
        image=image,
        image_type=image_type,
        image_length=image_length,
        base=base,
    )


#: What feedparser takes for a reference when it looks for HTML in a
#: title: a title with neither it nor a "<" is text to it.
_LOOKS_LIKE_A_REFERENCE = re.compile(r"&#?\w+;")


def rss_title(text: str) -> str:
    """An RSS title as the feedparser path gives it, from the title's text
    (CDATA and character references read): feedparser takes it for HTML
    when it looks like HTML by its own rule (a closing tag or an entity,
    every tag one its sanitiser keeps, every entity a known one), and
    `plain_title` makes text of it. "std::vector<bool>" stays as written;
    "&quot;Сад&quot;" (written "&amp;quot;", as DLE writes quotes) is
    "\"Сад\"". feedparser is imported only for a title that needs it:
    it adds ~11 MB to a worker process."""
    from feedparser.mixin import _FeedParserMixin

    text = text.strip()
    kind = "text/html" if _FeedParserMixin.looks_like_html(text) else "text/plain"
    return plain_title(text, kind)


def text_to_html(value: str) -> str:
    """Plain text as HTML, as the feedparser path makes it: escaped, each
    line break a <br>."""
    return html.escape(value, quote=False).replace("\n", "<br>")


def plain_title(value: str, kind: str) -> str:
    """A title as plain text: tags dropped, entities decoded exactly once."""
    if "html" in (kind or ""):
        value = html.unescape(nh3.clean(value, tags=set()))
    return " ".join(value.split())


def _media(entry: Any, document: _Document) -> Iterator[tuple[str, str, str]]:
    """An entry's media as the feedparser path reads them. Where
    media:thumbnail is the only media of the document, fastfeedparser gives
    each as media:content typed image/jpeg; feedparser gives no type,
    which the address's extension then decides (as for any media)."""
    for media in entry.get("media_content") or []:
        yield (
            str(media.get("url") or "").strip(),
            # In small letters, as feedparser gives "IMAGE/PNG".
            "" if document.thumbnails == "alone" else str(media.get("type") or "").lower(),
            str(media.get("medium") or ""),
        )


def _joined(base: str, link: str) -> str:
    """The link as the feedparser path gives it, urljoin(base, link):
    "HTTPS://" in lower case, an empty "?" dropped. Most links are already
    so, and are told by a match (urljoin cost 8 us a link)."""
    if not link:
        return ""
    if _AS_JOINED.fullmatch(link) and not link.endswith(("?", "#", ";")):
        return link
    return joined(base, link)


#: A link urljoin gives back as it is: a lower-case web scheme, a host,
#: no white space or controls (which urlsplit drops), no brackets (which it
#: checks), and no empty query, fragment or parameters (which it drops).
_AS_JOINED = re.compile(
    r"https?://[^\x00-\x20\x7f/?#\[\]\\](?:[^\x00-\x20\x7f\[\]\\?#;]|;(?![?#])|\?(?!#)|#)*"
)


#: How long a summary fastfeedparser makes up from an entry's content is
#: (before it is stripped), and how much of the content it reads for it.
_MADE_UP_LENGTH = 512
_MADE_UP_FROM = 2048


def _may_be_made_up(summary: str, content: str) -> bool:
    """Whether `summary` may be what fastfeedparser makes up of `content`:
    the start of its text (tags taken out, entities decoded, white space
    squeezed), cut at 512 characters. The start of the summary is compared
    with the start of the content's text, read from its first 400
    characters where they hold enough of it (an unclosed tag at their end
    left out), else from the 2,048 fastfeedparser reads."""
    if len(summary) > _MADE_UP_LENGTH:
        return False
    start = _squeezed(summary[:100])[:40]
    head = content[:400]
    opening = head.rfind("<")
    if opening > head.rfind(">"):
        head = head[:opening]
    text = _squeezed(_TAG.sub("", head))
    if len(text) < len(start) + 40:
        # Little text in the first characters (an image's long address),
        # and an entity that may be cut at their end.
        text = _squeezed(_TAG.sub("", content[:_MADE_UP_FROM]))
    return text.startswith(start)


def _squeezed(text: str) -> str:
    return "".join(html.unescape(text).split())


def _date(value: Any, zone: tzinfo | None = None) -> datetime | None:
    """fastfeedparser's date; with `zone`, its time of day in that zone (it
    gives a date written without a zone, or with an offset it does not
    read, as that time in UTC)."""
    if not value:
        return None
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if zone is not None:
        return found.replace(tzinfo=zone)
    return found if found.tzinfo else None


def tag_names(tags: Any) -> tuple[str, ...]:
    """An entry's category terms and labels (as both parsers give them),
    stripped, each once, in order. (A list searched for each one made
    35,000 categories on one item take 10 s.)"""
    names: dict[str, None] = {}
    for tag in tags or ():
        for value in (tag.get("term"), tag.get("label")):
            if value and value.strip():
                names[value.strip()] = None
    return tuple(names)
