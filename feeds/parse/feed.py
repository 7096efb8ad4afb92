"""Parse stage for `type: feed`: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed.
Pure. The one module that imports feedparser.

feedparser gets the raw bytes and the response headers, never a URL or text
we decoded, so it does no I/O and honours a declared charset
(windows-1251 feeds). Its sanitiser is off: every piece of HTML is cleaned
once, by `normalise`, with the same allow-list whatever the source type.
JSON Feed (1.0 and 1.1) is plain JSON and is read here directly, since the
released feedparser does not understand it.
"""

from __future__ import annotations

import codecs
import html
import io
import json
import re
import time
import xml.sax
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from feeds.errors import ParseError
from feeds.model import (
    MAX_ITEMS_PER_FETCH,
    WEB_URL,
    Fetched,
    Item,
    ParseContext,
    Source,
    author_name,
    first_image,
    image_type_of,
    joined,
    mail_date,
    references_read,
)
from feeds.parse import too_many
from feeds.parse.decode import cyrillic_codec, document_kind, strict_enough, text_codec
from feeds.parse.fast import (
    CHARACTER_REFERENCE,
    LINE_SEPARATOR,
    XML_DECLARATION_ENCODING,
    Facts,
    doctype_at,
    ids_given,
    marks_guids,
    names_no_character,
    parse_fast,
    plain_title,
    read_fast,
    tag_names,
    text_to_html,
)
from feeds.parse.parts import Cut, cut_entries

_JSON_TYPES = ("application/feed+json", "application/json")
_DOCTYPE_WINDOW = 64 * 1024
#: A DOCTYPE up to the "[" of its internal subset.
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*+\[", re.IGNORECASE)
#: What an internal subset is read by: the start of quoted text or of a
#: comment (read to its end, `_SUBSET_CLOSE`), an entity's declaration,
#: the subset's end. One pass, however they are nested or left open.
_SUBSET_MARK = re.compile(rb"\"|'|<!--|<!ENTITY|\]", re.IGNORECASE)
_SUBSET_CLOSE = {b'"': b'"', b"'": b"'", b"<!--": b"-->"}
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
#: The end of a feed document's root, looked for in its last bytes.
_ROOT_END = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>", re.IGNORECASE)
_TAIL = 4096
#: Longer text in a date element is not a date (and costs dateparser time).
_LONGEST_DATE = 100
#: The offset at the end of an RFC 822 date, however written: "+03:00",
#: "GMT+0300", "GMT +3", "UTC-5", "+3". The standard library reads "+3" as
#: minutes, the name alone when a space follows it, and the rest not at all.
_TRAILING_OFFSET = re.compile(
    r"(?<![\w:])(?:(?:GMT|UTC|UT)\s*+)?([+-])(\d\d?)(?::?(\d\d))?$", re.IGNORECASE
)
#: A time of day on the 12-hour clock ("2:00 PM", "02:00:00 p.m."), which
#: the standard library reads as morning.
_TWELVE_HOUR = re.compile(
    r"(?<![\d:])(\d\d?):(\d\d)(:\d\d)?\s*([ap])\.?m\.?(?![\w.])", re.IGNORECASE
)
#: Zone names feeds use beyond RFC 822's, each with one offset (hours east).
#: IST, BST and the like name several zones: the source's zone decides.
_ZONE_NAMES = {
    "MSK": 3,
    "CET": 1,
    "CEST": 2,
    "EET": 2,
    "EEST": 3,
    "WET": 0,
    "WEST": 1,
    "JST": 9,
    "KST": 9,
    "HKT": 8,
    "SGT": 8,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
}
#: Byte-order marks of the wider encodings, UTF-32's first (its little-
#: endian mark begins with UTF-16's).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Categories (and subjects, keywords) one entry may carry for feedparser
#: to read it: it looks for each among those before it, so 35,000 on one
#: entry took 60 s, and the 10 MiB a body may have, hours (real entries
#: carry a few dozen at most).
_MOST_TAGS_FOR_FEEDPARSER = 500
_TAG_MARKS = (b"<category", b":category", b":subject", b":keywords")
#: The fewest bytes an entry takes (`<item/>`).
_LEAST_ENTRY = 7
#: The start and the end of an entry.
_ENTRY_START = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s>/]", re.IGNORECASE)
_ENTRY_END = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)
#: U+FFFD as a reference: what an HTML parser reads a reference that names
#: no character as (feedparser's forgiving parser writes each reference as
#: chr(number) in UTF-8, and fails on such a one).
_REPLACEMENT_REF = b"&#xFFFD;"
#: A charset in a header (the XML declaration's encoding: fast.py's
#: `XML_DECLARATION_ENCODING`).
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?[^;"'\s]*["']?""", re.IGNORECASE)


def parse(fetched: Fetched, source: Source, context: ParseContext) -> list[Item]:
    """Items of an RSS, Atom or JSON feed. Raises ParseError."""
    if not fetched.body.strip():
        # It said "not a feed (no feed markup)": the answer had nothing in it.
        raise ParseError(source.name, "not a feed: the answer is empty", url=fetched.url)
    zone = ZoneInfo(context.timezone)
    if _is_json(fetched):
        return _parse_json_feed(fetched, source, zone)
    if len(fetched.body) > _LEAST_ENTRY * MAX_ITEMS_PER_FETCH:
        # Counted before either parser builds them all (a million `<item/>`
        # took minutes and gigabytes).
        too_many(sum(1 for _ in _ENTRY_START.finditer(fetched.body)), source, fetched.url)
    # A body labelled UTF-8 (or not at all) that the fast path reads is
    # UTF-8: its strict XML check refuses other bytes. Only if it does not
    # is the whole body decoded to see what it is; others are settled first.
    labelled_utf8 = _labelled_utf8(fetched)
    if not labelled_utf8:
        fetched = _charset_settled(fetched)
    readable = _in_utf8(fetched)
    items = None if readable is None else parse_fast(readable, source, context.timezone)
    if items is not None:
        return items
    if labelled_utf8:
        fetched = _charset_settled(fetched)
    return _parse_xml_feed(fetched, source, context)


def _is_json(fetched: Fetched) -> bool:
    content_type = fetched.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in _JSON_TYPES or fetched.body.lstrip()[:1] == b"{"


@dataclass(frozen=True, slots=True)
class Cutting:
    """A body cut into parts, and what each part needs of the whole."""

    #: The body the parts are cut from: its charset settled as `parse`
    #: settles it for the whole (that may depend on bytes anywhere in it).
    fetched: Fetched
    cut: Cut
    whole: OfWhole


@dataclass(frozen=True, slots=True)
class OfWhole:
    """What the reading of a part is told of the whole document."""

    #: Whether the whole gives ids (see `ids_given`).
    has_ids: bool
    #: Whether the whole marks a guid as no permalink (`marks_guids`).
    marked: bool


def cut_in_parts(fetched: Fetched, size: int) -> Cutting | None:
    """Where to cut a big RSS or Atom body into documents of about `size`
    bytes of entries each, to be read at once by several processes with
    `parse_part` (see `feeds.parse.parts`); None when it is to be read
    whole: JSON, a charset the fast path does not read, or entries that
    cannot be cut apart."""
    if _is_json(fetched):
        return None
    if not _labelled_utf8(fetched):
        fetched = _charset_settled(fetched)
    readable = _in_utf8(fetched)
    if readable is None:
        return None
    body = readable.body
    if LINE_SEPARATOR.search(body):
        # fastfeedparser turns every U+2028 and U+2029 of a document into a
        # line feed if one is in its first 64 KB: a part and the whole
        # could read them otherwise.
        return None
    cut = cut_entries(body, size)
    if cut is None:
        return None
    return Cutting(readable, cut, OfWhole(has_ids=ids_given(body), marked=marks_guids(body)))


def parse_part(
    fetched: Fetched, source: Source, context: ParseContext, whole: OfWhole, entries: int
) -> tuple[list[Item], Facts] | None:
    """Items of one part of a body cut by `cut_in_parts`, which holds
    `entries` entries, and the facts of its reading; None when the fast
    path does not take it, or finds other entries than the cut. Parts are
    read only by the fast path, which reads each entry on its own but for
    its document's facts: a part whose facts are the whole's reads as the
    whole does (anything else, feedparser's recovery of a broken document
    say, is for the whole)."""
    read = read_fast(fetched, source, context.timezone, has_ids=whole.has_ids, marked=whole.marked)
    return None if read is None or len(read[0]) != entries else read


def parse_with_feedparser(fetched: Fetched, source: Source, context: ParseContext) -> list[Item]:
    """The feedparser path alone (the reference the fast path is held to)."""
    return _parse_xml_feed(_charset_settled(fetched), source, context)


def _charset_settled(fetched: Fetched) -> Fetched:
    """`fetched` with one charset named in its XML declaration and header,
    where the bytes say better than the labels: both parsers let the
    declaration or the header outrank them, and the Russian came out as
    "РџСЂ..." or "Ïðè...", stored and syndicated so.

    - A UTF-8 byte-order mark decides, as in browsers (WHATWG Encoding,
      "decode") and XML 1.0 Appendix F.
    - Valid UTF-8 with non-ASCII bytes outranks a stale declaration or
      header (a site moved to UTF-8 that still says windows-1251): it does
      not happen by chance, as `decode_page` reads pages too.
    - Bytes that are not UTF-8 and that no label names, or only a UTF-8
      label they disprove, are windows-1251 or KOI8-R when their letters
      say so (XML would read them as UTF-8, and feedparser then as
      windows-1252); another named charset is honoured.
    UTF-16 and UTF-32 bodies (NUL bytes) are left to the parsers."""
    body = fetched.body
    if body.startswith(codecs.BOM_UTF8):
        return _declared_as(fetched, "utf-8")
    for bom, wide in _WIDE_BOMS:
        if body.startswith(bom):
            # XML needs no encoding declaration after such a mark, but the
            # parsers did: with none (and no charset in the header) the
            # feed was "not well-formed". One that names its encoding is
            # read as it always was (by feedparser, as UTF-16).
            if _HEADER_CHARSET.search(fetched.headers.get("content-type", "")):
                return fetched
            with suppress(UnicodeDecodeError):
                text = body[len(bom) :].decode(wide).encode()
                if not XML_DECLARATION_ENCODING.match(text):
                    return _declared_as(replace(fetched, body=text), "utf-8")
            return fetched
    if body.isascii() or b"\x00" in body[:_DOCTYPE_WINDOW]:
        return fetched
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return _declared_as(fetched, "utf-8")
    declaration = XML_DECLARATION_ENCODING.match(body)
    content_type = fetched.headers.get("content-type", "")
    if declaration is not None or _HEADER_CHARSET.search(content_type):
        label = _feedparser_charset(content_type)
        if not label and declaration is not None:
            label = declaration.group(1).decode("ascii", "replace")
        codec = text_codec(label) if label else None
        mended = _mended(fetched, codec)
        if mended is not fetched or codec != "utf-8":
            return mended
        # Named UTF-8, and too many bytes are not: the label is wrong (a
        # windows-1251 feed whose template says UTF-8), as if there were
        # none. Any bytes are windows-1251 or windows-1252, so those are
        # honoured.
    nearly_utf8 = _mended(fetched, "utf-8")
    if nearly_utf8 is not fetched:
        return nearly_utf8
    codec = cyrillic_codec(body)
    return fetched if codec is None else _mended(_declared_as(fetched, codec), codec)


def _mended(fetched: Fetched, codec: str | None) -> Fetched:
    """`fetched` in UTF-8 when a few of its bytes do not fit `codec`, the
    charset it is in (a summary cut inside a character, windows-1251's
    unmapped 0x98): each such byte made U+FFFD, as browsers do. feedparser,
    failing to decode the body strictly, read the whole of it as
    windows-1252 instead, and every title came out as "Íîâîñòü"; the
    ids derived from those titles then changed once the byte was fixed.
    As it is when it fits, when no codec is known, or when too many bytes
    do not fit for the label to be right (the parsers decide)."""
    if codec is None or codec.startswith(("utf-16", "utf-32")):
        return fetched
    try:
        fetched.body.decode(codec)
    except UnicodeDecodeError:
        text = strict_enough(fetched.body, codec)
        if text is not None:
            return _declared_as(replace(fetched, body=text.encode()), "utf-8")
    return fetched


def _in_utf8(fetched: Fetched) -> Fetched | None:
    """`fetched` for the fast path, which reads UTF-8 only: as it is unless
    its header names another charset; then re-encoded as UTF-8 from that
    charset, which outranks the XML declaration for feedparser too (a
    windows-1251 feed labelled so by its server went to feedparser, at
    six times the cost). None when the charset is unknown, not a text
    encoding, not the one feedparser reads (`_feedparser_charset`), or
    does not fit the bytes: feedparser decides."""
    content_type = fetched.headers.get("content-type", "")
    found = _HEADER_CHARSET.search(content_type)
    if found is None:
        return fetched
    label = found.group().partition("=")[2].strip("\"' ")
    codec = text_codec(label)
    if codec is None:
        return None
    if codec == "utf-8":
        return fetched
    if label != _feedparser_charset(content_type):
        return None
    if b"\x00" in fetched.body[:_DOCTYPE_WINDOW]:
        # UTF-16 or UTF-32: feedparser resolves relative URLs in such a body
        # (its bytes cannot show that it has no xml:base), which writes each
        # tag again; the fast path, given it in UTF-8, would not.
        return None
    try:
        text = fetched.body.decode(codec)
    except UnicodeDecodeError:
        return None
    return _declared_as(replace(fetched, body=text.encode()), "utf-8")


#: The media types whose charset parameter feedparser reads before the XML
#: declaration (RFC 3023), besides application/*+xml and text/*.
_CHARSET_FIRST_TYPES = (
    "application/xml",
    "application/xml-dtd",
    "application/xml-external-parsed-entity",
)


def _feedparser_charset(content_type: str) -> str:
    """The charset feedparser decodes a body in first, from the header: the
    last charset parameter, for an XML or text media type as written (it
    compares the type case-sensitively); '' for any other type, whose
    charset parameter it does not read (the XML declaration decides)."""
    media_type, *parameters = content_type.split(";")
    media_type = media_type.strip()
    if not (
        media_type in _CHARSET_FIRST_TYPES
        or (media_type.startswith("application/") and media_type.endswith("+xml"))
        or media_type.startswith("text/")
    ):
        return ""
    charset = ""
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    return charset


def _labelled_utf8(fetched: Fetched) -> bool:
    """Whether neither the XML declaration nor the header names a charset
    other than UTF-8 (nor is there a byte-order mark to weigh against
    them)."""
    body = fetched.body
    if body.startswith(codecs.BOM_UTF8):
        return False
    declaration = XML_DECLARATION_ENCODING.match(body)
    charset = _HEADER_CHARSET.search(fetched.headers.get("content-type", ""))
    return all(
        label.lower().replace("_", "-") in ("utf-8", "utf8")
        for label in (
            declaration.group(1).decode("ascii", "replace") if declaration else "utf-8",
            charset.group().partition("=")[2].strip("\"' ") if charset else "utf-8",
        )
    )


def _declared_as(fetched: Fetched, charset: str) -> Fetched:
    """`fetched` with `charset` in its XML declaration (if it has one) and
    in its Content-Type header."""
    body = fetched.body
    bom = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    declaration = XML_DECLARATION_ENCODING.match(body, bom)
    if declaration is not None:
        start, end = declaration.span(1)
        body = body[:start] + charset.encode("ascii") + body[end:]
    headers = {name: value for name, value in fetched.headers.items() if name != "content-type"}
    content_type = fetched.headers.get("content-type", "") or "application/xml"
    if _HEADER_CHARSET.search(content_type):
        content_type = _HEADER_CHARSET.sub(f"charset={charset}", content_type)
    else:
        content_type = f"{content_type}; charset={charset}"
    headers["content-type"] = content_type
    return replace(fetched, body=body, headers=headers)


#: The control characters XML 1.0 allows nowhere (but NUL and ESC, see
#: `_controls_dropped`).
_XML_CONTROLS = bytes(range(0x01, 0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x1B))
_XML_CONTROLS += bytes(range(0x1C, 0x20))


#: A document in an ASCII-compatible encoding: `<` first, after a UTF-8
#: byte-order mark and white space.
_ASCII_START = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<")


def _controls_dropped(body: bytes) -> bytes:
    """`body` without the control characters no XML document may hold
    (a stray U+0001 pasted into a title, a vertical tab): one made the whole
    document not well-formed, and feedparser's loose parser, which then
    reads it, mangles references in links (`?q=&quot;x&quot;` came out as
    `?q=&quotx&quot`), so the story took another id than once the
    character was gone, and came out twice. Only for bytes in which they
    are single characters: not UTF-16 or UTF-32 (NUL bytes near the start)
    nor the ISO-2022 encodings (their ESC sequences), nor EBCDIC (a tab is
    0x05 there: its documents do not start with an ASCII `<`); cleaning
    drops them from every text anyway."""
    if not _ASCII_START.match(body) or b"\x00" in body[:_DOCTYPE_WINDOW] or b"\x1b" in body:
        return body
    return body.translate(None, _XML_CONTROLS)


def _characters_only(body: bytes) -> bytes:
    """`body` with every character reference that names no character (a
    surrogate such as `&#xD800;`, or a number past U+10FFFF) made U+FFFD's,
    as a browser reads it: feedparser's forgiving parser, which reads
    documents that are not well-formed, stops with an exception at one.
    Only ASCII-compatible encodings are looked into."""
    if b"&#" not in body:
        return body

    def written(reference: re.Match[bytes]) -> bytes:
        return _REPLACEMENT_REF if names_no_character(*reference.groups()) else reference.group()

    return CHARACTER_REFERENCE.sub(written, body)


def _declares_entities(body: bytes) -> bool:
    """Whether a document declares XML entities: in a DOCTYPE in its first
    64 KB (text before its XML declaration too), or in its DOCTYPE wherever
    that is. Its internal subset is read past comments and quoted text, in
    which a "]" ends nothing ("<!-- ] -->" once hid the entities after it)."""
    at = doctype_at(body)
    starts = [found.end() for found in _DOCTYPE_SUBSET.finditer(body, 0, _DOCTYPE_WINDOW)]
    if at >= 0 and (subset := _DOCTYPE_SUBSET.match(body, at)) is not None:
        starts.append(subset.end())
    return any(_subset_declares_entities(body, start) for start in starts)


def _subset_declares_entities(body: bytes, start: int) -> bool:
    """Whether the internal subset of a DOCTYPE, from `start` (past its
    "["), declares an entity before it ends."""
    position = start
    while (mark := _SUBSET_MARK.search(body, position)) is not None:
        text = mark.group()
        if text == b"]":
            return False
        if text.upper() == b"<!ENTITY":
            return True
        end = body.find(_SUBSET_CLOSE[text], mark.end())
        if end < 0:  # never closed: whatever follows is read as declared
            return _ENTITY.search(body, mark.end()) is not None
        position = end + len(_SUBSET_CLOSE[text])
    return False


def _parse_xml_feed(fetched: Fetched, source: Source, context: ParseContext) -> list[Item]:
    if _declares_entities(fetched.body):
        # Entity declarations are how billion-laughs, quadratic blow-up and
        # XXE attacks work; no real feed needs its own.
        raise ParseError(
            source.name,
            "the document declares its own XML entities (<!ENTITY>); refused",
            url=fetched.url,
        )
    _few_enough_tags(fetched, source)
    # Imported on first use: most feeds take the fast path, and feedparser
    # adds ~11 MB to every worker process that imports it.
    import feedparser

    # No document address: feedparser would resolve every guid against it
    # too, so a guid such as "plain-43" became a URL (a different id from
    # the fast path's, and a local path for a file source). Links and
    # relative URLs in the text are resolved here and in normalising.
    headers = {k: v for k, v in fetched.headers.items() if k.lower() != "content-location"}
    try:
        parsed = feedparser.parse(
            # As a stream: given bytes, feedparser first tries them as the
            # name of a file to open, and read a local file a body named.
            io.BytesIO(_characters_only(_controls_dropped(fetched.body))),
            response_headers=headers,
            sanitize_html=False,
            # Only an xml:base gives feedparser anything to resolve against;
            # without one, its resolver would only rewrite every tag with its
            # attributes sorted (`<img alt src>`), which the fast path does
            # not: a feed moving between the paths changed every story.
            # (In UTF-16 or UTF-32 the bytes cannot show one: resolved.)
            resolve_relative_uris=(
                b"xml:base" in fetched.body or b"\x00" in fetched.body[:_DOCTYPE_WINDOW]
            ),
        )
    except (ValueError, OverflowError) as error:
        # What _characters_only cannot see (a UTF-16 body, say) still
        # fails this source alone, never the whole run.
        raise ParseError(
            source.name, f"not a feed: feedparser gave up ({error})", url=fetched.url
        ) from error
    except (TypeError, KeyError, AttributeError, IndexError) as error:
        # feedparser's own bugs on markup that is not well-formed (an end
        # tag with no start: </width>, </media:player>): the source's
        # doing, said as such, not "a bug in feeds".
        raise ParseError(
            source.name,
            f"not a well-formed feed, and feedparser fails on its markup "
            f"({type(error).__name__}: {error})",
            url=fetched.url,
        ) from error
    if not parsed.get("version") and not parsed.entries:
        head = fetched.body[:4096].decode("utf-8", "replace")
        if document_kind(head) == "html":
            raise ParseError(
                source.name, "not a feed but an HTML page (type: html reads it)", url=fetched.url
            )
        if parsed.get("bozo"):
            reason = _bozo_reason(parsed.get("bozo_exception"))
            raise ParseError(source.name, f"not a feed: {reason}", url=fetched.url)
        looks = "an HTML page" if b"<html" in fetched.body[:2048].lower() else "no feed markup"
        raise ParseError(source.name, f"not a feed ({looks})", url=fetched.url)
    entries = parsed.entries
    if parsed.get("bozo") and entries and not _ROOT_END.search(fetched.body[-_TAIL:]):
        # Cut short (an upstream rewriting its file in place, a dropped
        # connection): the entries left open at the end are unfinished. Taken
        # as stories they would be dated now, head every feed, and stay
        # beside the real ones once the document comes whole. (Counted in
        # the bytes only when they show every entry: not in UTF-16.)
        # Only the last entry can be open, and only if its start comes after
        # every end: a whole document with trailing junk and an entry not
        # closed in the middle (or an empty `<item/>`) keeps all of them.
        starts = [found.start() for found in _ENTRY_START.finditer(fetched.body)]
        ends = [found.end() for found in _ENTRY_END.finditer(fetched.body)]
        if len(starts) == len(entries) and starts[-1] >= max(ends, default=0):
            entries = entries[:-1]
    # feedparser's loose parser, which reads what the XML parser refused
    # (one bare "&" anywhere), leaves the character references of some
    # fields as written: an author "AT&amp;T" was published as such, and a
    # guid made another id than the same feed's well-formed copy gave.
    loose = isinstance(parsed.get("bozo_exception"), xml.sax.SAXException)
    return [_xml_entry(entry, source, context, fetched.url, loose=loose) for entry in entries]


def _xml_entry(
    entry: Any, source: Source, context: ParseContext, base: str, *, loose: bool = False
) -> Item:
    title_detail = entry.get("title_detail") or {}
    title = plain_title(entry.get("title", ""), title_detail.get("type", "text/plain"))
    summary = _html(entry.get("summary", ""), (entry.get("summary_detail") or {}).get("type"))
    content = ""
    for part in entry.get("content") or []:
        content = _html(part.get("value", ""), part.get("type"))
        if content:
            break
    if content == summary:
        content = ""
    # Not author_detail's name: feedparser finds the address in it with a
    # pattern that ends a domain after four letters ("ivan@kultura.moscow
    # (Иван)" gave the name "ow (Иван").
    detail = entry.get("author_detail") or {}
    written = entry.get("author") or detail.get("name") or ""
    if loose:
        written = references_read(written)
        detail = {key: references_read(str(value)) for key, value in detail.items() if value}
    if detail.get("email") and written == f"{detail.get('name')} ({detail['email']})":
        # Atom's <name> and <email>, which feedparser joins so: the name is
        # the name, whatever the email element holds ("ivan at kultura.ru").
        author = str(detail["name"]).strip()
    else:
        author = author_name(written)
    categories = tag_names(entry.get("tags"))
    image, image_type, image_length = _feedparser_image(entry, base)
    link = joined(base, entry.get("link", "").strip()) if entry.get("link") else ""
    guid = (entry.get("id") or "").strip()
    if loose:
        guid = references_read(guid)
    zone = ZoneInfo(context.timezone)
    # dict.get: feedparser's own get() maps a missing `updated` to
    # `published` with a DeprecationWarning; we decide that ourselves.
    exact = bool(guid or WEB_URL.match(link))
    published = _date(entry.get("published"), entry.get("published_parsed"), zone, exact=exact)
    updated = _date(
        dict.get(entry, "updated"), dict.get(entry, "updated_parsed"), zone, exact=exact
    )
    if exact:
        # A date in words of another language ("Пт, 20 ноя 2026 14:00:00
        # +0300") is read as one written for people. Not for an item
        # without guid or link: its id is made from the date, and was made
        # when such a date went unread.
        if published is None:
            published = _human_date(entry.get("published"), context)
        if updated is None:
            updated = _human_date(dict.get(entry, "updated"), context)
    if published is None:
        # RSS 1.0 dc:date and Atom entries with only <updated> date the story.
        published, updated = updated, None
    return Item(
        source=source.name,
        title=title,
        guid=guid,
        link=link,
        summary=summary,
        content=content,
        author=(author or "").strip(),
        published=published,
        updated=updated,
        categories=categories,
        image=image,
        image_type=image_type,
        image_length=image_length,
        base=base,
    )


def _feedparser_image(entry: Any, base: str) -> tuple[str, str, int | None]:
    """The first image an entry carries: an image enclosure, then
    media:content, then media:thumbnail."""
    media = (*(entry.get("media_content") or []), *(entry.get("media_thumbnail") or []))
    return first_image(
        (
            ((e.get("href") or "").strip(), e.get("type") or "", e.get("length"))
            for e in entry.get("enclosures") or []
        ),
        (((m.get("url") or "").strip(), m.get("type") or "", m.get("medium") or "") for m in media),
        base,
    )


def _parse_json_feed(fetched: Fetched, source: Source, zone: ZoneInfo) -> list[Item]:
    try:
        # JSON Feed is UTF-8; a stray bad byte (a cut character) is U+FFFD,
        # not the loss of every item.
        text = strict_enough(fetched.body, "utf-8-sig")
        if text is None:
            text = fetched.body.decode("utf-8-sig")  # says where it is not UTF-8
        document = json.loads(text)
    except ValueError as exc:  # undecodable, not JSON, or a number of 5,000 digits
        raise ParseError(source.name, f"invalid JSON: {exc}", url=fetched.url) from exc
    except RecursionError:
        # [[[[...: a few bytes per level, and the decoder's depth limit
        # raised past every handler, ending the whole build.
        raise ParseError(source.name, "invalid JSON: nested too deeply", url=fetched.url) from None
    if not isinstance(document, dict) or "jsonfeed.org/version/" not in str(
        document.get("version", "")
    ):
        raise ParseError(source.name, "JSON but not a JSON Feed (no version)", url=fetched.url)
    entries = document.get("items")
    if not isinstance(entries, list):
        raise ParseError(source.name, "JSON Feed without an 'items' list", url=fetched.url)
    too_many(len(entries), source, fetched.url)
    base = _json_text(document.get("home_page_url")) or _json_text(document.get("feed_url"))
    base = base or fetched.url
    feed_authors = _json_authors(document)
    items = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        field = partial(_json_field, entry)
        link = (field("url") or field("external_url")).strip()
        content = field("content_html")
        if not content and field("content_text"):
            content = text_to_html(field("content_text"))
        image = (field("image") or field("banner_image")).strip()
        summary = html.escape(field("summary"), quote=False)
        if not summary:
            summary, content = content, ""
        raw_tags = entry.get("tags")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
        items.append(
            Item(
                source=source.name,
                title=field("title").strip(),
                guid=field("id").strip(),
                link=joined(base, link) if link else "",
                summary=summary,
                content=content,
                author=_json_authors(entry) or feed_authors,
                published=_date(entry.get("date_published"), None, zone),
                updated=_date(entry.get("date_modified"), None, zone),
                categories=_json_tags(tags),
                image=joined(base, image) if image else "",
                image_type=image_type_of(image) if image else "",
            )
        )
    return items


def _json_text(value: object) -> str:
    """A JSON Feed field that is to be a string: a string, or a number
    written as one (ids often are numbers); anything else is as missing.
    An object or a list was written as Python prints it: a link
    `http://example.com/%7B'a':%201%7D`, a title `['list', 'title']`."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _json_field(node: dict[str, Any], name: str) -> str:
    return _json_text(node.get(name))


def _json_tags(tags: list[Any]) -> tuple[str, ...]:
    """A JSON Feed item's tags: strings (a number read as one). An object or
    a list is no tag: written as Python prints it (`{'name': 'Кино'}`), it
    was kept as a category no rubric could match."""
    names = (str(tag).strip() for tag in tags if _json_tag(tag))
    return tuple(name for name in names if name)


def _json_tag(tag: object) -> bool:
    return isinstance(tag, str) or (isinstance(tag, int) and not isinstance(tag, bool))


def _json_authors(node: dict[str, Any]) -> str:
    authors = node.get("authors")
    if not isinstance(authors, list):
        single = node.get("author")
        authors = [single] if isinstance(single, dict) else []
    names = [_json_field(a, "name").strip() for a in authors if isinstance(a, dict)]
    names = [name for name in names if name]
    return ", ".join(names)


def _html(value: str, kind: str | None) -> str:
    if not value:
        return ""
    if kind and "html" not in kind:
        return text_to_html(value)
    return value


def _date(
    raw: Any, parsed: time.struct_time | None, zone: ZoneInfo, *, exact: bool = True
) -> datetime | None:
    """A date with its own offset when it has one, else in the source's zone.
    feedparser's parsed tuple (always UTC) is the fallback for odd formats.
    Not `exact` (an item whose id is made from its date): an RFC 822 date
    whose zone the standard library does not read is in the source's zone,
    as it always was, so that the id stays the same."""
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        if exact:
            text = _as_rfc822(text)
        found = mail_date(text)
        if found is not None:
            if found.tzinfo is None and exact:
                found = found.replace(tzinfo=_rfc822_zone(text) or zone)
        else:
            try:
                found = datetime.fromisoformat(text)
            except ValueError:
                found = None
                if exact and text[-1:] == "z":  # RFC 3339 allows "z" for "Z"
                    with suppress(ValueError):
                        found = datetime.fromisoformat(text[:-1] + "Z")
        if found is not None:
            return found if found.tzinfo else found.replace(tzinfo=zone)
    if parsed is not None:
        try:
            return datetime(*parsed[:6], tzinfo=UTC)
        except ValueError:
            return None  # past the calendar's end (year 10000 once in UTC)
    return None


def _as_rfc822(text: str) -> str:
    """An RFC 822 date as the standard library reads it right: a time on
    the 12-hour clock on the 24-hour one, an offset after GMT or UTC, or
    of hours alone, as `+HHMM`. Other text is returned as it is."""
    text = _TWELVE_HOUR.sub(_on_24_hour_clock, text)
    return _TRAILING_OFFSET.sub(_as_hhmm, text)


def _as_hhmm(found: re.Match[str]) -> str:
    sign, hours, minutes = found.groups()
    return f"{sign}{int(hours):02d}{minutes or '00'}"


def _on_24_hour_clock(found: re.Match[str]) -> str:
    hour, minutes, seconds, half = int(found[1]), found[2], found[3] or ":00", found[4].lower()
    if 1 <= hour <= 12:
        hour = hour % 12 + (12 if half == "p" else 0)
    return f"{hour:02d}:{minutes}{seconds}"


def _rfc822_zone(text: str) -> tzinfo | None:
    """The zone at the end of an RFC 822 date (its offset written `+HHMM`
    by `_as_rfc822`) that the standard library leaves unread: "-0000" (UTC,
    RFC 5322), or the name of a zone that has one offset; None for
    anything else."""
    if text.endswith("-0000"):
        return UTC
    hours_east = _ZONE_NAMES.get(text.rsplit(None, 1)[-1].upper())
    return timezone(timedelta(hours=hours_east)) if hours_east is not None else None


def _human_date(raw: Any, context: ParseContext) -> datetime | None:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > _LONGEST_DATE:
        return None
    # Imported here: dateparser is big, and most feeds never need it.
    from feeds.dates import read_for

    return read_for(raw, context)


def _bozo_reason(exc: object) -> str:
    text = str(exc) if exc else "unreadable"
    return text.splitlines()[0] if text else type(exc).__name__


def _few_enough_tags(fetched: Fetched, source: Source) -> None:
    """Raises ParseError when an entry (or the channel) carries more than
    _MOST_TAGS_FOR_FEEDPARSER categories. Counted in place, entry by entry."""
    body = fetched.body
    if sum(body.count(mark) for mark in _TAG_MARKS) <= _MOST_TAGS_FOR_FEEDPARSER:
        return
    bounds = [0, *(found.start() for found in _ENTRY_START.finditer(body)), len(body)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        tags = sum(body.count(mark, start, end) for mark in _TAG_MARKS)
        if tags > _MOST_TAGS_FOR_FEEDPARSER:
            raise ParseError(
                source.name,
                f"an entry with {tags:,} categories, over the {_MOST_TAGS_FOR_FEEDPARSER:,} "
                "feedparser (which reads this feed) takes in good time: refused",
                url=fetched.url,
            )
