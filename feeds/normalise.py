"""Normalise stage: Item -> Item, pure. Dates, ids, whitespace, HTML clean-up.

After this stage an item has its final id, plain-text title, sanitised
HTML, UTC datetimes and tidy categories. Normalising twice gives the same
item as normalising once.

Id scheme (documented in the README, and a promise to partners: an item
keeps its id for ever):

1. the source's own guid when it is an absolute URI (``tag:``, ``http:``...);
2. a source's guid that is not a URI, namespaced by source:
   ``urn:feeds:<source>:guid:<guid>``;
3. else the item's link, unless the fetch gives it to entries with different
   titles (`shared_links`);
4. else ``urn:feeds:<source>:<digest>``, the digest taken over the title and
   the date the source printed (never the position on the page, never the
   time we fetched it); when it printed a time of day but no day, over that
   time, not over the day a parser guessed.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import nh3

from feeds.model import (
    UNWRITABLE,
    WEB_URL,
    Item,
    image_type_of,
    joined,
    nested_too_deep,
    percent_encoded,
    references_read,
    usable_link,
    writable,
)

MAX_TITLE = 140
#: Dates before this are placeholders ("0001-01-01", "1900-01-01", the Unix
#: epoch) far more often than history; older zone rules also gave them
#: offsets in seconds, which no feed format can write.
EARLIEST_DATE = datetime(1970, 1, 2, tzinfo=UTC)
#: How far past the fetch a date may lie (clocks and zones drift): a later
#: one would head every feed, and set its `updated`, for years.
FUTURE_SLACK = timedelta(days=1)
_URL_SCHEMES = {"http", "https", "mailto"}
_CLEAN_TAGS = {"script", "style", "template", "noscript", "iframe", "object", "embed"}
# Built once: nh3.clean converts its settings on every call, which costs
# more than the cleaning of a typical 1 KB body. The HTML cleaner
# (`_CLEANER`, below `_resolve`, its attribute filter) reads the base that
# relative URLs are made absolute against from the calling thread.
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=_CLEAN_TAGS)
#: What cleaning changes in text: markup and entities, the escapes nh3
#: writes for `>` and a no-break space, a carriage return (a line feed
#: after it) and a leading byte-order mark (dropped). Text without any of
#: them comes back as it went in.
_CLEANING_CHANGES = ("<", ">", "&", "\r", "\xa0", "\ufeff")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«„“A-ZА-ЯЁ0-9])")
_LAST_WORD = re.compile(r"(\w+)\.$")
#: Words written with a full stop that seldom end a sentence.
_ABBREVIATIONS = frozenset(
    (  # noqa: SIM905 (a list of 45 words, one per line, reads worse)
        "г гг в вв им ул пр просп пл д стр т тт см ср проф акад доц ст св тыс млн млрд руб "
        "коп англ нем франц лат обл р mr mrs ms dr prof st jr sr vs no nos inc ltd co"
    ).split()
)
_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "longdesc"})
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^#")
#: A script or style element; one left open runs to the end (searching
#: on for a close from each opening made a title of 40,000 "<script "
#: take 45 s).
_SCRIPT = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
#: A whole tag, for HTML too deeply nested to be cleaned as HTML.
_ANY_TAG = re.compile(r"<[^<>]*>")
#: A tag-like token in a title: `<name attributes>` or `<!...>`. As an HTML
#: tokenizer reads it: up to the next `>` even past a `<` (`<img
#: onerror="f()//<">`), or to the end, where the reader's own markup
#: would close it.
_TAG = re.compile(r"<(?:!|/?([a-zA-Z][a-zA-Z0-9:-]*))([^>]*)(?:>|$)")
#: The element names an HTML parser knows (the living standard's, and the
#: obsolete ones browsers still build, such as font, marquee and image).
_HTML_ELEMENT_NAMES = """a abbr acronym address applet area article aside audio b base
    basefont bdi bdo bgsound big blink blockquote body br button canvas caption center cite code col
    colgroup data datalist dd del details dfn dialog dir div dl dt em embed fieldset
    figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header
    hgroup hr html i iframe image img input ins isindex kbd keygen label legend li link
    listing main map mark marquee math menu menuitem meta meter multicol nav nextid nobr
    noembed noframes noscript object ol optgroup option output p param picture
    plaintext pre progress q rb rp rt rtc ruby s samp script search section select slot
    small source spacer span strike strong style sub summary sup svg table tbody td
    template textarea tfoot th thead time title tr track tt u ul var video wbr xmp"""
_HTML_ELEMENTS = frozenset(_HTML_ELEMENT_NAMES.split())
#: Schemes an id may not keep: a reader may follow an id as a link.
_UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")
#: LINE SEPARATOR and PARAGRAPH SEPARATOR. Python counts them as white
#: space, so one-line fields (title, author, categories) turn them into a
#: space with the rest; the HTML cleaner keeps them, and readers such as
#: newsboat show each as a replacement character (U+FFFD). In HTML they
#: become the breaks they mean.
_BREAKS = {"\u2028": "<br>", "\u2029": "<br><br>"}
#: A tag as the cleaner writes it (every attribute value in double quotes
#: with no quote inside), or one separator.
_TAG_OR_SEPARATOR = re.compile(r'<[^<>"]*(?:"[^"]*"[^<>"]*)*>|[\u2028\u2029]')
#: Characters no IRI may hold: white space, quotes, angle brackets..., and
#: the controls, lone surrogates and non-characters no XML document can
#: carry.
_NOT_IN_IRI = re.compile(r'[\s<>"{}|\\^`\x00-\x1f\ud800-\udfff\ufffe\uffff]')
#: A lone surrogate: no UTF-8 form, so no store can hold it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def shared_links(items: Iterable[Item]) -> frozenset[str]:
    """The links one fetch gives to entries with different titles and no
    guid (a podcast's page for every episode, a ticker's front page): such
    a link identifies none of them, so none takes it for its id. Each did,
    and the store kept one of the stories."""
    return link_titles(items).shared


@dataclass(frozen=True, slots=True)
class LinkTitles:
    """The links a fetch gives to entries with no guid, each with the
    title it first comes with, and those of them `shared_links` finds."""

    titles: dict[str, str]
    shared: frozenset[str]


def link_titles(items: Iterable[Item]) -> LinkTitles:
    titles: dict[str, str] = {}
    shared: set[str] = set()
    for item in items:
        link = item.link.strip()
        if item.id or item.guid.strip() or not link:
            continue
        title = _line(item.title) or item.summary.strip() or item.content.strip()
        if titles.setdefault(link, title) != title:
            shared.add(link)
    return LinkTitles(titles, frozenset(shared))


def shared_across(parts: Iterable[LinkTitles]) -> frozenset[str]:
    """`shared_links` of a document from those of its parts, in order: a
    link each part gives to one story may be given to another in the
    next."""
    titles: dict[str, str] = {}
    shared: set[str] = set()
    for part in parts:
        shared |= part.shared
        for link, title in part.titles.items():
            if titles.setdefault(link, title) != title:
                shared.add(link)
    return frozenset(shared)


def normalise_item(
    item: Item, now: datetime | None = None, shared: Container[str] = frozenset()
) -> Item:
    """Final forms for one item: id, title, HTML, dates. A date before
    EARLIEST_DATE, or (given the fetch's `now`) more than FUTURE_SLACK after
    it, is dropped: the item counts as undated. A link in `shared` (see
    `shared_links`) gives no id."""
    given = item.link.strip()
    if given and not (WEB_URL.match(given) and usable_link(given)):
        given = ""
    # The id keeps the link as given (ids never change); the link itself
    # must be a valid IRI for readers and validators.
    link = _iri(given)
    base = item.base if WEB_URL.match(item.base) else link
    # Titles are made from the HTML as cleaned, its separators still there
    # (read as spaces): an id derived from such a title stays as it was.
    summary = _cleaned(item.summary, base)
    content = _cleaned(item.content, base)
    title = _untagged(_line(item.title))
    id_title = title
    if not title:
        title = title_from(summary) or title_from(content)
        id_title = title_from(summary, first_stop=True) or title_from(content, first_stop=True)
    if not title:
        title = id_title = link or "Untitled"
    categories = tuple(
        # Read once: in a CDATA section (`<![CDATA[Arts &amp; Culture]]>`, as
        # many CMSs write categories) references stay as written, and no
        # rubric's name matched "Arts &amp; Culture".
        dict.fromkeys(line for c in item.categories if (line := _line(references_read(c))))
    )
    published = plausible_date(item.published, now)
    updated = plausible_date(item.updated, now)
    if updated == published:
        # "Updated when published" says nothing more than "published".
        updated = None
    guid = item.guid.strip()
    # A derived id takes the date as printed, however implausible: it must
    # not change when a date a little too far ahead comes within reach.
    printed = plausible_date(item.published, None, earliest=None)
    identity = item.id or _derive_id(
        item.source,
        guid,
        "" if item.link.strip() in shared else given,
        id_title,
        printed,
        time_only=item.time_only,
    )
    return item.evolve(
        id=identity,
        title=title,
        link=link,
        summary=_line_breaks(_writable(summary, item.summary)),
        content=_line_breaks(_writable(content, item.content)),
        author=_untagged(_line(item.author)),
        guid=writable(guid),
        published=published,
        updated=updated,
        categories=categories,
        series=_line(item.series),
        **_image(item),
    )


def _iri(url: str) -> str:
    """`url` with the characters no IRI may hold (spaces, quotes, angle
    brackets...) percent-encoded, as a browser sends them; letters of any
    script stay as they are."""
    if _NOT_IN_IRI.search(url):
        return _NOT_IN_IRI.sub(percent_encoded, url)
    return url


def _storable(uri: str) -> str:
    """An id made from a guid or link as it always was, but for lone
    surrogates (a JSON "\\ud800"), which no store can hold: those are
    percent-encoded. The controls and non-characters a feed cannot carry
    stay: render percent-encodes them as it writes, and an id stored with
    them before must still find its story (made anew, the id would differ
    from the stored one, and the story would be stored and published twice
    under one written id)."""
    if _LONE_SURROGATE.search(uri):
        return _LONE_SURROGATE.sub(percent_encoded, uri)
    return uri


def _image(item: Item) -> dict[str, object]:
    """Only a web address survives as a picture (no javascript:, data:),
    and only a MIME type as its type (one with a control character in it
    made every feed listing the item fail to render)."""
    if item.image and WEB_URL.match(item.image.strip()):
        image = item.image.strip()
        kind = item.image_type.strip()
        if kind and not _MIME.match(kind):
            kind = image_type_of(image)  # as its name says, if it does
        return {"image": _iri(image), "image_type": kind}
    return {"image": "", "image_type": "", "image_length": None}


#: A MIME type as RFC 6838 names one: type/subtype, and no parameters.
_MIME_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MIME = re.compile(rf"{_MIME_NAME}/{_MIME_NAME}\Z")


def _derive_id(
    source_name: str,
    guid: str,
    link: str,
    title: str,
    published: datetime | None,
    *,
    time_only: str = "",
) -> str:
    """The item's id (see the module's docstring). `time_only`, the time of
    day a source printed with no day (``14:30``), stands for the date: no
    whole date's ISO form can equal it, so it names no dated item's id."""
    if guid:
        if _URI.match(guid) and not guid.lower().startswith(_UNSAFE_SCHEMES):
            return _storable(guid)
        plain = quote(guid, safe="", errors="surrogatepass")
        return f"urn:feeds:{quote(source_name, safe='')}:guid:{plain}"
    if link:
        return _storable(link)
    day = time_only or (published.isoformat() if published else "")
    key = "\x1f".join((source_name, title.casefold(), day))
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"urn:feeds:{quote(source_name, safe='')}:{digest}"


def sanitise_html(value: str, base: str = "") -> str:
    """Allow-list clean-up: no script, style, frames, event handlers or
    `javascript:` URLs survive; what is left is well-formed HTML. With a
    `base`, relative links and image sources are made absolute. Line and
    paragraph separators become breaks."""
    return _line_breaks(_writable(_cleaned(value, base), value))


def _cleaned(value: str, base: str) -> str:
    """`sanitise_html` but for the separators, which stay as they are."""
    if UNWRITABLE.search(value):
        value = UNWRITABLE.sub("", value)
    if not value or value.isspace():
        return ""
    if not any(mark in value for mark in _CLEANING_CHANGES):
        return value.strip()  # plain text: what nh3 would give back
    return _cleaned_markup(value, base)


def _writable(cleaned: str, given: str) -> str:
    """Cleaned HTML as a feed can carry it. Cleaning reads a character
    reference (`&#1;` in `given`) as the character itself, which no feed
    can carry: one such item made every feed that listed it fail to
    render. A replacement character, not nothing, so that no two pieces
    join ("java&#1;script:"). (Titles made from the text drop it, as they
    always did: the ids made from them stay as they were.)"""
    if "#" in given and "&#" in given and UNWRITABLE.search(cleaned):
        return UNWRITABLE.sub("\ufffd", cleaned)
    return cleaned


def _cleaned_markup(value: str, base: str) -> str:
    if nested_too_deep(value):
        # Hostile (cleaning it would take minutes): its text, no markup.
        text = " ".join(_ANY_TAG.sub(" ", _SCRIPT.sub("", value)).split())
        value = text.replace("<", "&lt;")  # no tag left to build ("<div<x>>")
    _base.url = base
    try:
        return _CLEANER.clean(value).strip()
    finally:
        _base.url = ""


def _line_breaks(cleaned: str) -> str:
    """Cleaned HTML with each line separator a `<br>` and each paragraph
    separator two; in a tag (an attribute value) a space, and then cleaned
    again: `href="\u2028javascript:..."`, harmless as it was, began with a
    space that browsers drop."""
    if "\u2028" not in cleaned and "\u2029" not in cleaned:
        return cleaned
    in_tags = False

    def line_break(found: re.Match[str]) -> str:
        nonlocal in_tags
        text = found.group()
        breaks = _BREAKS.get(text)
        if breaks:
            return breaks
        in_tags = True
        return text.replace("\u2028", " ").replace("\u2029", " ")

    spaced = _TAG_OR_SEPARATOR.sub(line_break, cleaned)
    return _CLEANER.clean(spaced).strip() if in_tags else spaced


def _resolve(element: str, attribute: str, found: str) -> str | None:
    """nh3's attribute filter: a relative URL made absolute against the
    base of the item being cleaned in this thread (None drops one that
    cannot be read), and a URL of a scheme other than http(s) and mailto
    dropped wherever it is (nh3 looks at href and src only: a `cite` of
    `javascript:` went through)."""
    if attribute not in _URL_ATTRIBUTES:
        return found
    # As written when it starts with its scheme (most do), else as read.
    scheme = _SCHEME.match(found) or _SCHEME.match(_AS_BROWSERS_READ.sub("", found))
    if scheme and scheme.group(1).lower() not in _URL_SCHEMES:
        return None
    if _base.url and not _ABSOLUTE.match(found):
        return joined(_base.url, found) or None  # unreadable: dropped
    return found


#: What a browser takes out of a URL before it reads its scheme: tabs and
#: line breaks anywhere, controls and spaces around it.
_AS_BROWSERS_READ = re.compile(r"[\t\n\r]|^[\x00-\x20]+|[\x00-\x20]+$")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")


class _Base(threading.local):
    url = ""


_base = _Base()
_CLEANER = nh3.Cleaner(
    url_schemes=_URL_SCHEMES, clean_content_tags=_CLEAN_TAGS, attribute_filter=_resolve
)


def plain_text(value: str) -> str:
    """Text without tags, entities decoded once, white space collapsed."""
    if "<" in value or "&" in value:
        value = html.unescape(_TEXT_CLEANER.clean(value))
    return _line(value)


def _untagged(title: str) -> str:
    """A title without markup, even markup its source escaped: readers that
    render RSS titles as HTML must find nothing to run. Repeated until no
    tag is left, since removing one can join the pieces of another.
    What only looks like a tag stays: a name no HTML parser knows, with no
    attribute value (`Option<T>`, `vector<int>`, `x<y and y>z`) is inert
    even where a reader renders the title as HTML."""
    for _pass in range(_TAG_PASSES):
        if "<" not in title:
            break
        cleaned = _TAG.sub(_markup, _SCRIPT.sub("", title))
        if cleaned == title:
            break
        title = cleaned
    else:
        # Still joining new tags: nested on purpose, one level per pass (a
        # quadratic cost). No angle bracket is left to build one.
        title = title.replace("<", "").replace(">", "")
    return " ".join(title.split())


#: Passes of tag removal before a title's angle brackets all go.
_TAG_PASSES = 8


def _markup(tag: re.Match[str]) -> str:
    """'' for a tag an HTML parser would build or act on, else the text."""
    name, rest = tag[1], tag[2]
    if name is None or "=" in rest or name.casefold() in _HTML_ELEMENTS:
        return ""  # <!-- -->, <!doctype>, an element, attributes
    return tag[0]


def _line(value: str) -> str:
    """One line of plain text: control characters gone, white space collapsed."""
    if not value.isprintable() and UNWRITABLE.search(value):
        value = UNWRITABLE.sub("", value)
    return " ".join(value.split())


def first_sentence(text: str) -> str:
    """`text` up to its first sentence end: not at an initial ("А. Блок"),
    an abbreviation ("1990-х гг.") or inside «quotes» ("роман «Дом. Сад»").
    One pass over the text, however long."""
    open_quotes = 0
    counted = 0
    for end in _SENTENCE_END.finditer(text):
        stretch = text[counted : end.start()]
        open_quotes += stretch.count("«") - stretch.count("»")
        counted = end.start()
        word = _LAST_WORD.search(text, max(0, counted - 40), counted)
        if word and (len(word.group(1)) == 1 or word.group(1).casefold() in _ABBREVIATIONS):
            continue
        if open_quotes > 0:
            continue
        return text[:counted]
    return text


def title_from(lead_html: str, *, first_stop: bool = False) -> str:
    """A title for an item that has none: the lead's first sentence, cut at a
    word boundary when it is longer than MAX_TITLE. `first_stop`: cut at
    the first full stop followed by a capital, initials and abbreviations
    included, as titles were made before: ids derived from a title keep
    that reading, so no stored story changes its id."""
    text = plain_text(lead_html)
    if not text:
        return ""
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0] if first_stop else first_sentence(text)
    if len(sentence) <= MAX_TITLE:
        return sentence
    cut = sentence[: MAX_TITLE + 1].rsplit(" ", 1)[0].rstrip(",;:—–- ")
    return (cut or sentence[:MAX_TITLE]) + "…"


def plausible_date(
    value: datetime | None, now: datetime | None, *, earliest: datetime | None = EARLIEST_DATE
) -> datetime | None:
    """`value` in UTC, or None when it cannot be a real publication date
    (before `earliest`, or more than FUTURE_SLACK after `now`)."""
    if value is None:
        return None
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # the first or last day a datetime can hold
        return None
    if earliest is not None and value < earliest:
        return None
    if now is not None and value > now + FUTURE_SLACK:
        return None
    return value
