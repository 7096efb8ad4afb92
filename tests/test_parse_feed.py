"""The `feed` parser: RSS 0.91/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1.

Every case is a small fixture under tests/data/feed/ (one behaviour per file)
fed to `parse` as bytes plus response headers, exactly as a fetch hands it
over. Summaries and content are still raw HTML here: sanitising is
`normalise`'s job, so the integration cases at the end run the next stages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.classify import Vocabulary, classify_item
from feeds.errors import ParseError
from feeds.model import Fetched, Item, ParseContext, Rubric, Source
from feeds.normalise import normalise_item, sanitise_html, shared_links
from feeds.parse.feed import parse, parse_with_feedparser

DATA = Path(__file__).resolve().parent / "data" / "feed"
FEED_URL = "https://example.org/feed"
RSS = "application/rss+xml"
ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"

SOURCE = Source(name="s", type="feed", url=FEED_URL)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _context(timezone: str = "Europe/Moscow") -> ParseContext:
    return ParseContext(now=NOW, timezone=timezone)


def _fetched(body: bytes, content_type: str) -> Fetched:
    return Fetched(source="s", url=FEED_URL, body=body, headers={"content-type": content_type})


def _parse(name: str, content_type: str, timezone: str = "Europe/Moscow") -> list[Item]:
    body = (DATA / name).read_bytes()
    return parse(_fetched(body, content_type), SOURCE, _context(timezone))


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _view(item: Item) -> dict[str, Any]:
    """What a reader gets of a parsed item. Datetimes compare by instant
    (aware datetimes do). An `updated` equal to `published` says nothing
    more than `published` does, and every later stage reads a missing
    `updated` as `published`, so the two spellings count as one: None."""
    return {
        "source": item.source,
        "title": item.title,
        "guid": item.guid,
        "link": item.link,
        "summary": item.summary,
        "content": item.content,
        "author": item.author,
        "published": item.published,
        "updated": None if item.updated == item.published else item.updated,
        "categories": item.categories,
    }


def _expect(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source": "s",
        "title": "",
        "guid": "",
        "link": "",
        "summary": "",
        "content": "",
        "author": "",
        "published": None,
        "updated": None,
        "categories": (),
    }
    unknown = set(fields) - set(base)
    assert not unknown, f"typo in expected fields: {unknown}"
    return {**base, **fields}


# --- every field of every item, per format ------------------------------------

FORMATS = [
    pytest.param(
        "rss20.xml",
        RSS,
        [
            _expect(
                title="First story",
                guid="https://example.org/news/first",
                link="https://example.org/news/first",
                summary="<p>First <b>lead</b></p>",
                author="Анна Петрова",
                published=_utc(2026, 11, 20, 7, 0),
                categories=("Books", "Общество"),
            ),
            _expect(
                title="Second story",
                guid="story-2",
                link="https://example.org/news/second",
                summary="Plain lead",
                content="<p>Full <i>text</i></p>",
                author="Иван Сидоров",
                published=_utc(2026, 11, 21, 15, 30),
                categories=("Art",),
            ),
            _expect(
                # a permalink guid and no <link>: the guid is the link
                title="Third story",
                guid="https://example.org/news/third",
                link="https://example.org/news/third",
                summary="Third lead",
                published=_utc(2026, 11, 22, 5, 15),
            ),
        ],
        id="rss-2.0",
    ),
    pytest.param(
        "rss10.xml",
        RSS,
        [
            _expect(
                title="RDF one",
                guid="https://example.org/rdf/1",
                link="https://example.org/rdf/1",
                summary="One <em>lead</em>",
                author="Мария Иванова",
                published=_utc(2026, 11, 20, 7, 0),
                categories=("Literature",),
            ),
            _expect(
                title="RDF two",
                guid="https://example.org/rdf/2",
                link="https://example.org/rdf/2",
                summary="Two lead",
                published=_utc(2026, 11, 21, 6, 30),
            ),
        ],
        id="rss-1.0",
    ),
    pytest.param(
        "rss091.xml",
        RSS,
        [
            _expect(
                title="Old one",
                link="https://example.org/old/1",
                summary="Old lead one",
            ),
            _expect(
                title="Old two",
                link="https://example.org/old/2",
                summary="Old lead two",
            ),
        ],
        id="rss-0.91",
    ),
    pytest.param(
        "atom10.xml",
        ATOM,
        [
            _expect(
                title="Atom html",
                guid="tag:example.org,2026:1",
                link="https://example.org/atom/1",
                # a text summary becomes HTML that shows the same text
                summary="Cats &amp; dogs &lt;3",
                content="<p>Full <b>html</b> text</p>",
                author="Ольга Смирнова",
                published=_utc(2026, 11, 20, 7, 0),
                updated=_utc(2026, 11, 20, 9, 30),
                # term and label are both categories
                categories=("books", "Литература", "art"),
            ),
            _expect(
                # xhtml content without its wrapping div; the only body is the lead
                title="Atom xhtml",
                guid="tag:example.org,2026:2",
                link="https://example.org/atom/2",
                summary="<p>Hello <em>world</em></p>",
                author="Editor",
                published=_utc(2026, 11, 21, 9, 0),
            ),
        ],
        id="atom-1.0",
    ),
    pytest.param(
        "atom03.xml",
        ATOM,
        [
            _expect(
                title="Atom 0.3 entry",
                guid="tag:example.org,2026:a03-1",
                link="https://example.org/a03/1",
                summary="Short summary",
                content="<p>Old <b>content</b></p>",
                author="Old Author",
                published=_utc(2026, 11, 20, 7, 0),
                updated=_utc(2026, 11, 20, 15, 0),
            ),
        ],
        id="atom-0.3",
    ),
    pytest.param(
        "jsonfeed11.json",
        JSON_FEED,
        [
            _expect(
                title="JSON html",
                guid="https://example.org/json/1",
                link="https://example.org/json/1",
                # a JSON Feed summary is plain text
                summary="Cats &amp; dogs",
                content="<p>Rich <b>content</b></p>",
                author="Анна, Борис",
                published=_utc(2026, 11, 20, 7, 0),
                updated=_utc(2026, 11, 20, 12, 0),
                categories=("Books", "Искусство"),
            ),
            _expect(
                # content_text only: escaped, line breaks kept; feed authors apply
                title="JSON text",
                guid="json-2",
                link="https://example.org/json/2",
                summary="Line one<br>Line &lt;two&gt; &amp; more",
                author="Feed Team",
                published=_utc(2026, 11, 21, 8, 0),
            ),
        ],
        id="jsonfeed-1.1",
    ),
    pytest.param(
        "jsonfeed11.json",
        "text/plain; charset=utf-8",
        [
            _expect(
                title="JSON html",
                guid="https://example.org/json/1",
                link="https://example.org/json/1",
                summary="Cats &amp; dogs",
                content="<p>Rich <b>content</b></p>",
                author="Анна, Борис",
                published=_utc(2026, 11, 20, 7, 0),
                updated=_utc(2026, 11, 20, 12, 0),
                categories=("Books", "Искусство"),
            ),
            _expect(
                title="JSON text",
                guid="json-2",
                link="https://example.org/json/2",
                summary="Line one<br>Line &lt;two&gt; &amp; more",
                author="Feed Team",
                published=_utc(2026, 11, 21, 8, 0),
            ),
        ],
        id="jsonfeed-1.1-served-as-text",
    ),
    pytest.param(
        "jsonfeed10.json",
        "application/json",
        [
            _expect(
                title="Version one",
                guid="j10-1",
                link="https://example.org/j10/1",
                summary="<p>One</p>",
                author="Дмитрий",
                published=_utc(2026, 11, 20, 7, 0),
                categories=("news",),
            ),
            _expect(
                title="Feed author only",
                guid="j10-2",
                link="https://example.org/j10/2",
                summary="<p>Two</p>",
                author="Feed Author",
            ),
        ],
        id="jsonfeed-1.0",
    ),
]


@pytest.mark.parametrize(("name", "content_type", "expected"), FORMATS)
def test_every_field_of_every_item(
    name: str, content_type: str, expected: list[dict[str, Any]]
) -> None:
    items = _parse(name, content_type)

    assert [_view(item) for item in items] == expected


# --- encodings ----------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/rss+xml", id="xml-declaration-only"),
        pytest.param("application/rss+xml; charset=windows-1251", id="charset-header"),
    ],
)
def test_windows_1251_feed_reads_as_russian(content_type: str) -> None:
    body = (DATA / "cp1251.xml").read_bytes()
    assert "Привет".encode("cp1251") in body  # the fixture really is cp1251

    items = parse(_fetched(body, content_type), SOURCE, _context())

    assert [_view(item) for item in items] == [
        _expect(
            title="Привет, мир",
            link="https://example.org/ru/1",
            summary="Ёлки-палки, съешь ещё этих мягких французских булок",
            categories=("Литература",),
        )
    ]


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/rss+xml", id="declaration-only"),
        pytest.param("application/rss+xml; charset=windows-1251", id="header-too"),
    ],
)
def test_a_utf8_byte_order_mark_outranks_a_windows_1251_declaration(content_type: str) -> None:
    """A site that re-saved its feed as UTF-8 (with a BOM) and kept the
    old declaration: the BOM decides, as in browsers (WHATWG Encoding,
    "decode") and XML 1.0 Appendix F. Read as windows-1251 it was "РџСЂ..."."""
    text = (DATA / "cp1251.xml").read_bytes().decode("cp1251")
    body = b"\xef\xbb\xbf" + text.encode("utf-8")
    assert b'encoding="windows-1251"' in body[:60]

    items = parse(_fetched(body, content_type), SOURCE, _context())

    assert [(item.title, item.summary) for item in items] == [
        ("Привет, мир", "Ёлки-палки, съешь ещё этих мягких французских булок")
    ]


def _cp1251_fixture_as(encoding: str, declaration: str | None) -> bytes:
    """tests/data/feed/cp1251.xml in `encoding`, declaring `declaration`
    (None: no encoding in its XML declaration)."""
    text = (DATA / "cp1251.xml").read_bytes().decode("cp1251")
    said = "" if declaration is None else f' encoding="{declaration}"'
    return text.replace(' encoding="windows-1251"', said, 1).encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "declaration", "content_type"),
    [
        # A site moved to UTF-8 whose server still says windows-1251.
        pytest.param(
            "utf-8", "utf-8", "application/rss+xml; charset=windows-1251", id="stale-header"
        ),
        # A feed re-saved as UTF-8 that kept its old declaration.
        pytest.param("utf-8", "windows-1251", "application/rss+xml", id="stale-declaration"),
        # windows-1251 with no word about it anywhere.
        pytest.param("cp1251", None, "application/rss+xml", id="undeclared-cp1251"),
        pytest.param("cp1251", None, "text/xml", id="undeclared-cp1251-text-xml"),
        pytest.param("koi8-r", None, "application/rss+xml", id="undeclared-koi8-r"),
        # windows-1251 whose template or server says UTF-8, which the bytes
        # disprove: "Ïðèâåò".
        pytest.param("cp1251", "utf-8", "application/rss+xml", id="cp1251-declared-utf-8"),
        pytest.param(
            "cp1251", None, "application/rss+xml; charset=utf-8", id="cp1251-header-utf-8"
        ),
        pytest.param("koi8-r", "UTF-8", "text/xml", id="koi8-r-declared-utf-8"),
    ],
)
def test_russian_comes_out_right_whatever_the_labels_say(
    encoding: str, declaration: str | None, content_type: str
) -> None:
    """As for pages and text dumps: valid UTF-8 outranks a stale label, and
    Russian that no label names is told by its letters. These came out as
    "РџСЂРёРІРµС‚" or "Ïðèâåò", stored and syndicated so."""
    body = _cp1251_fixture_as(encoding, declaration)

    items = parse(_fetched(body, content_type), SOURCE, _context())

    assert [(item.title, item.summary) for item in items] == [
        ("Привет, мир", "Ёлки-палки, съешь ещё этих мягких французских булок")
    ]


@pytest.mark.parametrize("declaration", ["utf-8", None])
def test_portuguese_in_windows_1252_is_not_taken_for_russian(declaration: str | None) -> None:
    """Headlines of "-ção" and "-ções" put accented letters side by side
    as Russian puts Cyrillic ones: they came out as "Aзхes da Petrobras"."""
    titles = [
        "Ações da Petrobras sobem após decisão",
        "Eleições: apuração começa às 17h",
        "Inflação e tributação em discussão",
        "Educação: governo anuncia ações",
    ]
    said = f' encoding="{declaration}"' if declaration else ""
    body = (
        f'<?xml version="1.0"{said}?>\n<rss version="2.0"><channel><title>Notícias</title>'
        "<link>https://example.com.br/</link><description>d</description>"
        + "".join(
            f"<item><title>{title}</title><link>https://example.com.br/{n}</link></item>"
            for n, title in enumerate(titles)
        )
        + "</channel></rss>\n"
    ).encode("cp1252")

    items = parse(_fetched(body, RSS), SOURCE, _context())

    assert [item.title for item in items] == titles


@pytest.mark.parametrize(
    ("encoding", "declaration", "content_type", "stray"),
    [
        # A summary cut inside a character, in a feed that says UTF-8...
        pytest.param("utf-8", "utf-8", "application/rss+xml", b"\xd0", id="utf-8-declared"),
        pytest.param(
            "utf-8", None, "application/rss+xml; charset=utf-8", b"\xd0", id="utf-8-in-header"
        ),
        # ...or nothing at all.
        pytest.param("utf-8", None, "application/rss+xml", b"\xd0", id="utf-8-unlabelled"),
        # windows-1251's 0x98, which Python's codec leaves unmapped.
        pytest.param(
            "cp1251", "windows-1251", "application/rss+xml", b"\x98", id="cp1251-declared"
        ),
        pytest.param(
            "cp1251",
            None,
            "application/rss+xml; charset=windows-1251",
            b"\x98",
            id="cp1251-in-header",
        ),
        pytest.param("cp1251", None, "application/rss+xml", b"\x98", id="cp1251-unlabelled"),
    ],
)
@pytest.mark.parametrize("reader", [parse, parse_with_feedparser], ids=["parse", "feedparser"])
def test_one_stray_byte_spoils_one_character_not_the_whole_feed(
    encoding: str, declaration: str | None, content_type: str, stray: bytes, reader: Any
) -> None:
    """The strict decode failed, feedparser read the whole body as
    windows-1252, and every title came out as "Ïðèâåò, ìèð", stored and
    syndicated so (and, once the byte was fixed, the ids derived from
    those titles changed). Browsers, and our pages, make the byte U+FFFD."""
    body = _cp1251_fixture_as(encoding, declaration)
    end = "булок".encode(encoding)
    body = body.replace(end, end + stray, 1)

    items = reader(_fetched(body, content_type), SOURCE, _context())

    assert [(item.title, item.summary) for item in items] == [
        ("Привет, мир", "Ёлки-палки, съешь ещё этих мягких французских булок\ufffd")
    ]


def test_a_json_feed_with_one_stray_byte_keeps_its_items() -> None:
    """It failed whole: "invalid JSON: 'utf-8' codec can't decode byte"."""
    document = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "Лента", "items": ['
        '{"id": "1", "url": "https://example.org/1", "title": "Привет, мир",'
        ' "content_text": "Ёлки-палки"}]}'
    ).encode()
    body = document.replace("палки".encode(), "палки".encode() + b"\xd0", 1)

    (item,) = parse(_fetched(body, JSON_FEED), SOURCE, _context())

    assert item.title == "Привет, мир"
    assert "Ёлки-палки\ufffd" in item.summary + item.content


def test_a_json_feed_tag_that_is_no_string_is_no_category() -> None:
    """An object among the tags was kept as its Python form, `{'name':
    'Кино'}`: a category no rubric could match."""
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "Лента", "items": ['
        '{"id": "1", "url": "https://example.org/1", "title": "Т", "content_text": "x",'
        ' "tags": ["Кино", {"name": "Кино"}, ["Театр"], null, true, 2024, " "]}]}'
    ).encode()

    (item,) = parse(_fetched(body, JSON_FEED), SOURCE, _context())

    assert item.categories == ("Кино", "2024")


def test_a_json_feed_field_of_the_wrong_kind_is_as_missing() -> None:
    """An object or a list where a string belongs was written as Python
    prints it: the link `https://example.org/%7B'a':%201%7D`, the title
    `['list', 'title']`. A number is read as one written as a string."""
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "Лента",'
        ' "home_page_url": ["https://example.org/"], "items": ['
        '{"id": 42, "url": {"a": 1}, "external_url": "https://example.org/42",'
        ' "title": ["list", "title"], "summary": {"s": 1}, "content_html": "<p>Текст</p>",'
        ' "image": true, "authors": [{"name": ["Иван"]}, {"name": "Мария"}]}]}'
    ).encode()

    (item,) = parse(_fetched(body, JSON_FEED), SOURCE, _context())

    assert (item.guid, item.link, item.title) == ("42", "https://example.org/42", "")
    assert (item.summary, item.content, item.image, item.author) == (
        "<p>Текст</p>",
        "",
        "",
        "Мария",
    )


def test_an_html_page_given_as_a_feed_says_which_type_reads_it() -> None:
    """It said "not a feed: <unknown>:3:66: mismatched tag"."""
    body = (
        '<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8"><title>Лента</title></head>\n'
        '<body><article><h2><a href="/lenta/101">Выставка</a></h2><br></article></body></html>'
    ).encode()

    with pytest.raises(ParseError) as caught:
        parse(_fetched(body, "text/html"), SOURCE, _context())

    assert caught.value.detail == "not a feed but an HTML page (type: html reads it)"


@pytest.mark.parametrize("body", [b"", b"  \r\n", b"\n\n"])
@pytest.mark.parametrize("content_type", ["application/rss+xml", "application/json", ""])
def test_an_empty_answer_says_it_was_empty(body: bytes, content_type: str) -> None:
    """It said "not a feed (no feed markup)", or a JSON error."""
    with pytest.raises(ParseError) as caught:
        parse(_fetched(body, content_type), SOURCE, _context())

    assert caught.value.detail == "not a feed: the answer is empty"


def test_a_feed_mostly_not_in_its_charset_is_still_not_a_feed_of_replacement_marks() -> None:
    """Many bytes that do not fit the label mean the label is wrong, not
    the bytes: the body is not made U+FFFD's."""
    body = _cp1251_fixture_as("cp1251", "utf-8")

    (item,) = parse(_fetched(body, "application/rss+xml"), SOURCE, _context())

    assert "\ufffd" not in item.title


@pytest.mark.parametrize("stray", ["width", "media:player", "creativecommons:license", "gml:pos"])
def test_markup_feedparser_fails_on_is_the_sources_error_not_a_bug(stray: str) -> None:
    """A stray end tag in a feed that is not well-formed made feedparser
    raise TypeError or KeyError, reported as "a bug in feeds"."""
    body = (
        '<rss version="2.0"><channel><title>T</title><item><title>a</title>'
        f"<link>http://x.example/1</link></{stray}><x></item></channel></rss>"
    ).encode()

    with pytest.raises(ParseError, match="not a well-formed feed, and feedparser fails"):
        parse(_fetched(body, RSS), SOURCE, _context())


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": ['
            + b",".join([b"{}"] * 50_001)
            + b"]}",
            JSON_FEED,
        ),
        (
            b'<rss version="2.0"><channel><title>T</title>'
            + b"<item/>" * 50_001
            + b"</channel></rss>",
            RSS,
        ),
    ],
    ids=["json-feed", "rss"],
)
def test_an_answer_of_more_items_than_any_source_gives_is_refused(
    body: bytes, content_type: str
) -> None:
    """3.4 million empty items fit in the 10 MiB a body may have: reading
    them took 96 s and 2 GB."""
    with pytest.raises(ParseError, match="50,001 items in one answer, over the 50,000"):
        parse(_fetched(body, content_type), SOURCE, _context())


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("declaration", ["", '<?xml version="1.0"?>'])
@pytest.mark.parametrize("reader", [parse, parse_with_feedparser], ids=["parse", "feedparser"])
def test_a_feed_in_utf16_or_utf32_with_its_mark_and_no_encoding_declared_is_read(
    codec: str, declaration: str, reader: Any
) -> None:
    """XML needs no encoding declaration after a byte-order mark; the
    parsers did, and such a feed failed as "not well-formed"."""
    text = (
        f'{declaration}<rss version="2.0"><channel><title>T</title><item>'
        "<title>Привет, мир</title><link>https://example.org/ru/1</link></item></channel></rss>"
    )
    body = "\ufeff".encode(codec) + text.encode(codec)

    items = reader(_fetched(body, RSS), SOURCE, _context())

    assert [(item.title, item.link) for item in items] == [
        ("Привет, мир", "https://example.org/ru/1")
    ]


# --- links ----------------------------------------------------------------------


def test_relative_link_resolves_against_the_feed_url() -> None:
    (item,) = _parse("relative_link.xml", RSS)

    assert item.link == "https://example.org/news/1"


# --- dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "timezone", "published"),
    [
        pytest.param(
            "atom_naive_dates.xml",
            ATOM,
            "Europe/Moscow",
            _utc(2026, 11, 20, 7, 0),
            id="atom-moscow",
        ),
        pytest.param("atom_naive_dates.xml", ATOM, "UTC", _utc(2026, 11, 20, 10, 0), id="atom-utc"),
        pytest.param(
            "atom_naive_dates.xml",
            ATOM,
            "Asia/Vladivostok",
            _utc(2026, 11, 20, 0, 0),
            id="atom-vladivostok",
        ),
        pytest.param(
            "rss_naive_date.xml", RSS, "Europe/Moscow", _utc(2026, 11, 20, 7, 0), id="rss-moscow"
        ),
        pytest.param(
            "jsonfeed_naive_date.json",
            JSON_FEED,
            "Europe/Moscow",
            _utc(2026, 11, 20, 7, 0),
            id="jsonfeed-moscow",
        ),
    ],
)
def test_date_without_zone_is_in_the_source_zone(
    name: str, content_type: str, timezone: str, published: datetime
) -> None:
    (item,) = _parse(name, content_type, timezone)

    assert item.published == published


@pytest.mark.parametrize("timezone", ["Europe/Moscow", "UTC", "America/New_York"])
def test_date_with_offset_keeps_its_instant_whatever_the_source_zone(timezone: str) -> None:
    (item,) = _parse("atom_naive_dates.xml", ATOM, timezone)

    # <updated>2026-11-20T12:00:00+01:00</updated>
    assert item.updated == _utc(2026, 11, 20, 11, 0)


# --- titles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "title"),
    [
        # <title>Кошки &amp;amp; собаки</title>: an RSS title is HTML (RSS
        # Best Practices Profile), escaped once more for XML; readers show "&".
        pytest.param("title_double_escaped.xml", RSS, "Кошки & собаки", id="rss-double-escaped"),
        # <title>Кошки &amp; собаки</title>
        pytest.param("title_escaped.xml", RSS, "Кошки & собаки", id="rss-escaped"),
        # <title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title>
        pytest.param("title_html_atom.xml", ATOM, "Bold move", id="atom-html"),
        # <title type="text">AT&amp;amp;T &lt;b&gt; tag</title>: plain text, decoded once
        pytest.param("title_text_atom.xml", ATOM, "AT&amp;T <b> tag", id="atom-text"),
    ],
)
def test_title_entities_are_decoded_exactly_once(name: str, content_type: str, title: str) -> None:
    (item,) = _parse(name, content_type)

    assert item.title == title


# --- failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        pytest.param("not_a_feed.html", "text/html; charset=utf-8", id="html-page"),
        pytest.param("not_a_feed.html", RSS, id="html-page-served-as-rss"),
        pytest.param("empty.xml", RSS, id="empty-body"),
        pytest.param("invalid.json", "text/plain", id="invalid-json"),
        pytest.param("invalid.json", JSON_FEED, id="invalid-json-declared"),
        pytest.param("not_jsonfeed.json", "application/json", id="json-not-a-json-feed"),
    ],
)
def test_unreadable_body_raises_parse_error_naming_the_source(name: str, content_type: str) -> None:
    with pytest.raises(ParseError) as caught:
        _parse(name, content_type)

    assert caught.value.source == "s"
    assert "source 's'" in str(caught.value)


def test_malformed_but_recoverable_feed_still_yields_its_items() -> None:
    # <description>Tom & Jerry</description>: an unescaped ampersand
    items = _parse("unescaped_amp.xml", RSS)

    assert [(item.title, item.link) for item in items] == [
        ("Tom and Jerry", "https://example.org/broken/1"),
        ("Still here", "https://example.org/broken/2"),
    ]
    assert sanitise_html(items[0].summary) == "Tom &amp; Jerry"


_WHOLE_RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>One</title><link>https://example.org/1</link></item>"
    "<item><title>Two</title><link>https://example.org/2</link></item>"
    "<item><title>Three</title><link>https://example.org/3</link>"
    "<description>The third story</description></item>"
    "</channel></rss>\n"
)
_WHOLE_ATOM = (
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    "<title>t</title><id>urn:t</id><updated>2026-11-20T10:00:00Z</updated>"
    '<entry><id>urn:1</id><title>One</title><link href="https://example.org/1"/>'
    "<updated>2026-11-20T10:00:00Z</updated></entry>"
    '<entry><id>urn:2</id><title>Two</title><link href="https://example.org/2"/>'
    "<updated>2026-11-20T10:00:00Z</updated></entry>"
    '<entry><id>urn:3</id><title>Three</title><link href="https://example.org/3"/>'
    "<updated>2026-11-20T10:00:00Z</updated><summary>The third story</summary></entry>"
    "</feed>\n"
)


@pytest.mark.parametrize("whole", [_WHOLE_RSS, _WHOLE_ATOM], ids=["rss", "atom"])
@pytest.mark.parametrize("cut", ["The third", "<link", "<title>Thr"])
def test_a_document_cut_short_gives_only_its_finished_entries(whole: str, cut: str) -> None:
    """A body cut inside its last entry (an upstream rewriting its file in
    place) must not make that half entry a story of its own: dated at the
    fetch it would head every feed, and stay as a duplicate once the whole
    document comes."""
    three = [item.title for item in _parse_body(whole.encode())]
    body = whole[: whole.rindex(cut)].encode()

    assert [item.title for item in _parse_body(body)] == three[:2] == ["One", "Two"]


def test_a_recovered_document_that_is_whole_keeps_every_entry() -> None:
    # Not well-formed (a stray ampersand), but not cut: all three stay.
    body = _WHOLE_RSS.replace("The third story", "Tom & Jerry").encode()
    assert [item.title for item in _parse_body(body)] == ["One", "Two", "Three"]


@pytest.mark.parametrize(
    "middle",
    ["<item/>", "<item><title>Open</title><link>https://example.org/o</link>"],
    ids=["empty-item", "item-never-closed"],
)
def test_a_whole_document_with_trailing_junk_keeps_its_last_entry(middle: str) -> None:
    # Whole, but not well-formed (more than 4 KB of junk after the root, an
    # entry in the middle that is empty or never closed): not cut short, so
    # nothing is dropped, the last entry least of all.
    body = _WHOLE_RSS.replace("<item><title>Two", middle + "<item><title>Two", 1)
    body += "<!-- " + "x" * 5000 + " -->\n<div>Powered by a CMS</div>\n"
    titles = [item.title for item in _parse_body(body.encode())]
    assert titles[-1] == "Three" and {"One", "Two"} <= set(titles)


def _parse_body(body: bytes) -> list[Item]:
    return parse(_fetched(body, RSS), SOURCE, _context())


# --- with normalise and classify ----------------------------------------------------

RUBRICS = (
    Rubric(slug="literature", title="Литература", aliases=("books",)),
    Rubric(slug="art", title="Искусство"),
    Rubric(slug="society", title="Общество"),
    Rubric(slug="news", title="Новости"),
)


@pytest.mark.parametrize(
    ("name", "content_type", "source_rubrics", "expected"),
    [
        pytest.param(
            "categories.xml",
            RSS,
            ("news",),
            [
                # BOOKS: an alias; "  искусство ": a title, other case, spaces
                ("Matched by alias and title", ("art", "literature", "news")),
                # Literature: the slug; ЛИТЕРАТУРА: the title upper-cased
                ("Matched by slug", ("literature", "news")),
                ("No categories", ("news",)),
            ],
            id="rss-categories",
        ),
        pytest.param(
            "categories.xml",
            RSS,
            (),
            [
                ("Matched by alias and title", ("art", "literature")),
                ("Matched by slug", ("literature",)),
                ("No categories", ()),
            ],
            id="rss-categories-no-source-rubrics",
        ),
        pytest.param(
            "atom10.xml",
            ATOM,
            ("society",),
            [
                # term "books" and label "Литература" both name literature
                ("Atom html", ("art", "literature", "society")),
                ("Atom xhtml", ("society",)),
            ],
            id="atom-term-and-label",
        ),
        pytest.param(
            "jsonfeed11.json",
            JSON_FEED,
            ("news",),
            [
                ("JSON html", ("art", "literature", "news")),
                ("JSON text", ("news",)),
            ],
            id="jsonfeed-tags",
        ),
    ],
)
def test_categories_become_rubrics_after_normalise_and_classify(
    name: str,
    content_type: str,
    source_rubrics: tuple[str, ...],
    expected: list[tuple[str, tuple[str, ...]]],
) -> None:
    vocabulary = Vocabulary.of(RUBRICS)

    items = [
        classify_item(normalise_item(item), vocabulary, source_rubrics)
        for item in _parse(name, content_type)
    ]

    assert [(item.title, item.rubrics) for item in items] == expected


def test_normalised_items_are_utc_with_clean_html_and_ids() -> None:
    items = [normalise_item(item) for item in _parse("atom10.xml", ATOM)]

    assert [
        (item.id, item.published, item.updated, item.summary, item.content) for item in items
    ] == [
        (
            "tag:example.org,2026:1",
            _utc(2026, 11, 20, 7, 0),
            _utc(2026, 11, 20, 9, 30),
            "Cats &amp; dogs &lt;3",
            "<p>Full <b>html</b> text</p>",
        ),
        (
            "tag:example.org,2026:2",
            _utc(2026, 11, 21, 9, 0),
            None,  # updated == published says nothing more: normalised away
            "<p>Hello <em>world</em></p>",
            "",
        ),
    ]
    assert {item.published.utcoffset() for item in items if item.published} == {timedelta(0)}


class _CountedBytes(bytes):
    """A body that counts the searches made through all of it."""

    searches = 0

    def __contains__(self, part: object) -> bool:
        type(self).searches += 1
        return super().__contains__(part)  # type: ignore[operator]


@pytest.mark.parametrize("items", [50, 500])
def test_a_feed_without_ids_is_searched_a_few_times_not_once_per_item(items: int) -> None:
    """Items without a guid: the fast path used to look for `<guid` and
    `<id` in the whole body once per item, so a 16 MB feed of 10,000 such
    items took three minutes. The number of whole-body searches must not
    grow with the number of items."""
    entries = "".join(
        f"<item><title>Story {n}</title><link>https://x.example/{n}</link>"
        f"<pubDate>Fri, 20 Nov 2026 10:00:00 +0000</pubDate><description>Text {n}</description>"
        "</item>"
        for n in range(items)
    )
    body = _CountedBytes(
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://x.example/</link>{entries}</channel></rss>".encode()
    )
    _CountedBytes.searches = 0
    source = Source(name="plain", type="feed", url="https://x.example/feed.rss")
    fetched = Fetched(source="plain", url=source.url, body=body, headers={})
    parsed = parse(fetched, source, _context())
    assert len(parsed) == items
    assert all(item.guid == "" for item in parsed)
    assert _CountedBytes.searches < 20


def test_json_feed_nested_too_deeply_fails_the_source_alone() -> None:
    # 200,000 levels (400 KB): json's depth limit raised RecursionError,
    # which no handler caught, and the whole build ended with a traceback.
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 200_000
    body += b"]" * 200_000 + b"}"

    with pytest.raises(ParseError, match="nested too deeply"):
        parse(_fetched(body, JSON_FEED), SOURCE, _context())


def test_json_ld_nested_too_deeply_is_a_note() -> None:
    from feeds.parse.html import parse_html

    ld = '{"@type": "NewsArticle", "a": ' * 100_000 + "1" + "}" * 100_000
    page = (
        f'<html><head><script type="application/ld+json">{ld}</script></head><body>x</body></html>'
    )
    fetched = Fetched(
        source="s", url=FEED_URL, body=page.encode(), headers={"content-type": "text/html"}
    )

    items, notes = parse_html(
        fetched, Source(name="s", type="html", url=FEED_URL), _context(), None
    )
    assert any("nested too deeply" in note for note in notes)


def _rss_item(*inners: str, encoding: str = "utf-8", title: str = "t") -> bytes:
    """An RSS document of one item for each of `inners`, declaring
    `encoding` and written in it."""
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.org/</link><description>d</description>"
        + "".join(f"<item>{inner}</item>" for inner in inners)
        + "</channel></rss>"
    ).encode(encoding)


@pytest.mark.parametrize(
    ("written", "name"),
    [
        # RSS 2.0's own form: the address, then the name in brackets.
        ("ivan@kultura.ru (Иван Петров)", "Иван Петров"),
        # feedparser's address pattern ends a domain after four letters:
        # readers showed "ow (Иван Петров" as the author.
        ("ivan@kultura.moscow (Иван Петров)", "Иван Петров"),
        ("Иван Петров (ivan@kultura.moscow)", "Иван Петров"),
        ("Иван Петров &lt;ivan@kultura.moscow&gt;", "Иван Петров"),
        # An address alone is all there is of the author: kept whole, not "ow".
        ("editor@kultura.moscow", "editor@kultura.moscow"),
        ("Иван Петров", "Иван Петров"),
        ("Ivan (the critic)", "Ivan (the critic)"),
    ],
)
@pytest.mark.parametrize("reader", [parse, parse_with_feedparser], ids=["parse", "feedparser"])
def test_an_rss_author_is_its_name_without_the_address(
    reader: Any, written: str, name: str
) -> None:
    """The fast path kept the address, the feedparser path cut it at the
    wrong place: the same feed gave two authors, one of them garbage."""
    body = _rss_item(f"<title>A</title><link>http://example.org/a</link><author>{written}</author>")

    (item,) = reader(_fetched(body, RSS), SOURCE, _context("UTC"))

    assert item.author == name


@pytest.mark.parametrize("reader", [parse, parse_with_feedparser], ids=["parse", "feedparser"])
def test_an_atom_author_is_its_name_without_the_address(reader: Any) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>t</title><id>urn:t</id><updated>2026-11-20T10:00:00Z</updated><entry>"
        "<id>http://example.org/a</id><title>A</title><link href='http://example.org/a'/>"
        "<updated>2026-11-20T10:00:00Z</updated><author><name>Анна Ким</name>"
        "<email>anna@kultura.moscow</email></author></entry></feed>"
    ).encode()

    (item,) = reader(_fetched(body, ATOM), SOURCE, _context("UTC"))

    assert item.author == "Анна Ким"


@pytest.mark.parametrize("email", ["anna at kultura.ru", "anna[at]kultura.ru", "unknown"])
@pytest.mark.parametrize("reader", [parse, parse_with_feedparser], ids=["parse", "feedparser"])
def test_an_atom_author_is_its_name_whatever_its_email_element_holds(
    reader: Any, email: str
) -> None:
    """feedparser joins Atom's <name> and <email> as "name (email)": an
    email element that is no address (a spam-proof "at") came out of the
    feedparser path as "Анна Ким (anna at kultura.ru)", and of the fast
    path as "Анна Ким"."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>t</title><id>urn:t</id><updated>2026-11-20T10:00:00Z</updated><entry>"
        "<id>http://example.org/a</id><title>A</title><link href='http://example.org/a'/>"
        "<updated>2026-11-20T10:00:00Z</updated><author><name>Анна Ким</name>"
        f"<email>{email}</email></author></entry></feed>"
    ).encode()

    (item,) = reader(_fetched(body, ATOM), SOURCE, _context("UTC"))

    assert item.author == "Анна Ким"


@pytest.mark.parametrize(
    "printed",
    [
        "Пт, 20 ноя 2026 14:00:00 +0300",
        "Пятница, 20 ноября 2026 14:00:00 +0300",
        "пт, 20 ноя 2026 14:00 +0300",
    ],
)
def test_a_pubdate_in_russian_keeps_its_instant(printed: str) -> None:
    """Some Russian feeds write day and month names in Russian. Neither
    parser reads them: the story was dated when first seen, a day late
    here, and headed the feeds above newer stories."""
    body = _rss_item(
        "<title>A</title><link>http://example.org/a</link>"
        f"<guid>http://example.org/a</guid><pubDate>{printed}</pubDate>"
    )

    (item,) = parse(_fetched(body, RSS), SOURCE, _context("UTC"))

    assert item.published == _utc(2026, 11, 20, 11, 0)


@pytest.mark.parametrize(
    "printed",
    [
        "Mon, 01 Jan 2020 00:00:00 +99999999999999",  # a zone too big for C
        "Mon, 01 Jan 99999999999 00:00:00 GMT",  # a year too big
        "Mon, 01 Jan 2020 99999999999999:00:00 GMT",
    ],
)
def test_a_pubdate_with_numbers_too_big_costs_only_that_date(printed: str) -> None:
    """The standard library raises OverflowError for these, not
    ValueError: the whole source failed, the other items with it."""
    body = _rss_item(
        "<title>A</title><link>http://example.org/a</link>"
        f"<guid>http://example.org/a</guid><pubDate>{printed}</pubDate></item>"
        "<item><title>B</title><link>http://example.org/b</link>"
        "<pubDate>Fri, 20 Nov 2026 11:00:00 GMT</pubDate>"
    )

    first, second = parse(_fetched(body, RSS), SOURCE, _context("UTC"))

    assert (first.title, first.published) == ("A", None)
    assert (second.title, second.published) == ("B", _utc(2026, 11, 20, 11, 0))


@pytest.mark.parametrize(
    ("language", "day"), [("en-US", (3, 11)), ("en-GB", (11, 3)), ("en", (11, 3)), ("", (11, 3))]
)
def test_a_pubdate_of_numbers_is_read_month_first_for_a_us_source(
    language: str, day: tuple[int, int]
) -> None:
    body = _rss_item(
        "<title>A</title><link>https://x.example/a</link><pubDate>3/11/2026 10:00 AM</pubDate>"
    )
    context = ParseContext(now=NOW, timezone="UTC", language=language)

    (item,) = parse(_fetched(body, RSS), SOURCE, context)

    assert item.published == _utc(2026, *day, 10, 0)


def test_an_unread_pubdate_of_an_item_without_guid_or_link_stays_unread() -> None:
    """Its id is made from the date: an item stored before Russian dates
    were read was made with none, and keeps that id."""
    body = _rss_item("<title>A</title><pubDate>Пт, 20 ноя 2026 14:00:00 +0300</pubDate>")

    (item,) = parse(_fetched(body, RSS), SOURCE, _context("UTC"))

    assert item.published is None


@pytest.mark.parametrize(
    ("printed", "hour", "minute"),
    [
        # Offsets written the RFC 3339 way, or after "GMT", in an RFC 822
        # date: the fast path read them as UTC, three hours out.
        ("Fri, 20 Nov 2026 14:00:00 +03:00", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 GMT+0300", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 GMT+3", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 UTC-05:00", 19, 0),
        # Zone names outside RFC 822: read in the source's zone (UTC here).
        ("Fri, 20 Nov 2026 14:00:00 MSK", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 CET", 13, 0),
        ("Fri, 20 Nov 2026 14:00:00 EEST", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 JST", 5, 0),
        # RFC 5322: "-0000" is UTC, the sender's own zone unknown.
        ("Fri, 20 Nov 2026 14:00:00 -0000", 14, 0),
        # Hours alone: the standard library read "+3" as three minutes.
        ("Fri, 20 Nov 2026 14:00:00 +3", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 +03", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 -5", 19, 0),
        # The 12-hour clock: "2:00 PM" was read as two in the morning.
        ("Fri, 20 Nov 2026 2:00 PM +0000", 14, 0),
        ("Fri, 20 Nov 2026 02:00:00 pm GMT", 14, 0),
        ("Fri, 20 Nov 2026 12:30:00 AM GMT", 0, 30),
        ("Fri, 20 Nov 2026 12:05 PM +0300", 9, 5),
        ("Fri, 20 Nov 2026 11:59 P.M. +0000", 23, 59),
        ("Fri, 20 Nov 2026 2:00 PM+0000", 14, 0),
        ("Fri, 20 Nov 2026 2:00 PM, GMT", 14, 0),
        # An offset after GMT or UTC, spaced: read as UTC, the offset lost.
        ("Fri, 20 Nov 2026 14:00:00 GMT +3", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 UTC -05:00", 19, 0),
        # The ordinary forms stay as they were.
        ("Fri, 20 Nov 2026 14:00:00 +0300", 11, 0),
        ("Fri, 20 Nov 2026 14:00:00 GMT", 14, 0),
        ("Fri, 20 Nov 2026 14:00:00 EST", 19, 0),
    ],
)
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_a_pubdate_keeps_the_zone_it_names(printed: str, hour: int, minute: int, zone: str) -> None:
    body = _rss_item(
        "<title>A</title><link>http://example.org/a</link>"
        f"<guid>http://example.org/a</guid><pubDate>{printed}</pubDate>"
    )

    (item,) = parse(_fetched(body, RSS), SOURCE, _context(zone))

    assert item.published == _utc(2026, 11, 20, hour, minute)


def test_a_pubdate_on_the_12_hour_clock_without_a_zone_is_afternoon_in_the_sources() -> None:
    body = _rss_item(
        "<title>A</title><link>http://example.org/a</link>"
        "<pubDate>Fri, 20 Nov 2026 2:00 pm</pubDate>"
    )

    (item,) = parse(_fetched(body, RSS), SOURCE, _context("Europe/Moscow"))

    assert item.published == _utc(2026, 11, 20, 11, 0)


def test_a_zone_name_that_means_several_zones_is_read_in_the_sources() -> None:
    """IST is India's, Ireland's and Israel's: the source's zone decides."""
    body = _rss_item(
        "<title>A</title><link>http://example.org/a</link>"
        "<pubDate>Fri, 20 Nov 2026 14:00:00 IST</pubDate>"
    )

    (item,) = parse(_fetched(body, RSS), SOURCE, _context("Asia/Kolkata"))

    assert item.published == _utc(2026, 11, 20, 8, 30)


def test_a_zoned_pubdate_of_an_item_without_guid_or_link_is_read_as_before() -> None:
    """Its id is made from the date: an item stored when "+03:00" was read
    in the source's zone keeps the id it was given."""
    body = _rss_item("<title>A</title><pubDate>Fri, 20 Nov 2026 14:00:00 MSK</pubDate>")

    (item,) = parse(_fetched(body, RSS), SOURCE, _context("Asia/Tokyo"))

    assert item.published == _utc(2026, 11, 20, 5, 0)


@pytest.mark.parametrize(
    "printed", ["2026-11-20t14:00:00z", "2026-11-20T14:00:00z", "2026-11-20t17:00:00+03:00"]
)
def test_a_json_feed_date_in_lower_case_keeps_its_instant(printed: str) -> None:
    """RFC 3339 allows "t" and "z": such a date went unread, and the story
    was dated when first seen."""
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": '
        f'[{{"id": "1", "url": "http://example.org/a", "title": "A", '
        f'"date_published": "{printed}"}}]}}'
    ).encode()

    (item,) = parse(_fetched(body, JSON_FEED), SOURCE, _context("Asia/Tokyo"))

    assert item.published == _utc(2026, 11, 20, 14, 0)


def test_a_body_that_names_a_local_file_is_not_read_from_disk(tmp_path: Path) -> None:
    """feedparser tries `open()` on what it is given before taking it as the
    document: a server answering with the path of a feed on this machine
    made its stories this source's."""
    local = tmp_path / "local.xml"
    local.write_bytes(
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>Local secret</title><link>https://example.org/a</link>"
        b"<pubDate>Fri, 20 Nov 2026 12:00:00 +0000</pubDate></item></channel></rss>"
    )
    fetched = Fetched(source="s", url=FEED_URL, body=str(local).encode(), headers={})
    with pytest.raises(ParseError):
        parse_with_feedparser(fetched, SOURCE, _context())


_WITH_REFERENCES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
    "<title>{channel}</title><link>https://example.com/</link><description>d</description>"
    "<item><title>Tom &amp; Jerry</title><link>https://example.com/r?a=1&amp;b=2</link>"
    '<guid isPermaLink="false">id-1&amp;2</guid><dc:creator>Smith &amp; Jones</dc:creator>'
    "<category>Arts &amp; Culture</category>"
    "<pubDate>Thu, 26 Nov 2026 11:00:00 +0000</pubDate></item></channel></rss>"
)


def test_a_feed_with_one_bare_ampersand_reads_its_references_as_a_whole_one_does() -> None:
    """One bare "&" sends the feed to feedparser's loose parser, which left
    "Smith &amp; Jones" as the author (readers showed "&amp;") and the guid
    as written, so the story's id changed with the feed's well-formedness."""
    (whole,) = parse(
        _fetched(_WITH_REFERENCES.format(channel="Q&amp;A").encode(), "application/rss+xml"),
        SOURCE,
        _context(),
    )
    (broken,) = parse(
        _fetched(_WITH_REFERENCES.format(channel="Q&A").encode(), "application/rss+xml"),
        SOURCE,
        _context(),
    )
    assert (broken.author, broken.guid) == ("Smith & Jones", "id-1&2")
    assert (broken.title, broken.link) == (whole.title, whole.link)
    assert normalise_item(broken, NOW).id == normalise_item(whole, NOW).id
    assert normalise_item(broken, NOW).categories == ("Arts & Culture",)


def _quoting_feed(channel_title: str, item_title: str) -> bytes:
    return _rss_item(
        f"<title>{item_title}</title>"
        "<link>http://example.com/search?q=&quot;opera&quot;&amp;b=1&lt;2</link>"
        "<description>a &lt;b&gt;bold&lt;/b&gt; word</description>"
        "<pubDate>Mon, 23 Nov 2026 09:08:00 GMT</pubDate>",
        "<title>Без ссылки</title><guid isPermaLink='false'>a&amp;b</guid>"
        "<pubDate>Mon, 23 Nov 2026 09:09:00 GMT</pubDate>",
        title=channel_title,
    )


@pytest.mark.parametrize(
    ("channel_title", "item_title"),
    [
        pytest.param("Q \x01", "Search", id="in-the-channel"),
        pytest.param("Q", "Sea\x0brch\x1f", id="in-a-title"),
    ],
)
def test_a_stray_control_character_changes_no_story(channel_title: str, item_title: str) -> None:
    """One control character XML allows nowhere made the document not
    well-formed, and feedparser's loose reading mangled the references in
    a link (`?q=&quotopera&quot`): the story took another id than the
    same feed without it gave, and came out twice once it was fixed."""
    clean = parse(_fetched(_quoting_feed("Q", "Search"), RSS), SOURCE, _context())
    stray = parse(_fetched(_quoting_feed(channel_title, item_title), RSS), SOURCE, _context())

    assert [_view(item) for item in stray] == [_view(item) for item in clean]
    assert clean[0].link == 'http://example.com/search?q="opera"&b=1<2'
    assert [normalise_item(item, NOW).id for item in stray] == [
        normalise_item(item, NOW).id for item in clean
    ]


def test_a_feed_in_ebcdic_keeps_its_tabs_and_line_ends() -> None:
    """EBCDIC writes a tab as 0x05 and NEL as 0x15, which are control
    characters in ASCII: dropping them joined "Quarterly\tresults"."""
    body = _rss_item(
        "<title>Quarterly\tresults</title><description>Line one\x85Line two</description>",
        encoding="IBM037",
    )

    (item,) = parse(_fetched(body, RSS), SOURCE, _context())

    assert item.title == "Quarterly results"
    assert "Line one" in item.summary and "oneLine" not in item.summary


def test_a_feed_in_iso_2022_jp_keeps_its_escape_sequences() -> None:
    """Its characters are written with ESC sequences, which dropping the
    control characters XML forbids must leave alone."""
    body = _rss_item(
        "<title>東京の天気</title><link>http://example.jp/1</link>",
        encoding="iso-2022-jp",
        title="ニュース",
    )

    (item,) = parse(_fetched(body, RSS), SOURCE, _context())

    assert item.title == "東京の天気"


@pytest.mark.parametrize("stray", ["", "\x01"], ids=["fast-path", "feedparser"])
@pytest.mark.parametrize(
    ("entries", "ids"),
    [
        pytest.param(
            # Permalink guids, and story 1 listed again without one.
            [("Story one", "1", "1"), ("Story two", "2", "2"), ("Story one", "1", "")],
            ["1", "2", "1"],
            id="permalink-and-a-repeat",
        ),
        pytest.param(
            # An entry without a guid whose link is another entry's guid.
            [("Story E", "e", ""), ("Story F", "f", "e")],
            ["e", "e"],
            id="link-as-another-guid",
        ),
    ],
)
def test_a_document_gives_the_same_ids_on_either_path(
    stray: str, entries: list[tuple[str, str, str]], ids: list[str]
) -> None:
    """fastfeedparser gives an entry without a guid its link as its guid,
    in a document with guids; feedparser gives it none. A control
    character sends the document to feedparser's path: the ids must not
    change with it."""
    body = _rss_item(
        *(
            f"<title>{title}</title><link>https://example.org/{link}</link>"
            + (f"<guid>https://example.org/{guid}</guid>" if guid else "")
            + f"<pubDate>Mon, 23 Nov 2026 {10 + n}:00:00 +0300</pubDate>"
            for n, (title, link, guid) in enumerate(entries)
        ),
        title=f"T{stray}",
    )

    items = parse(_fetched(body, RSS), SOURCE, _context())
    shared = shared_links(items)

    assert [normalise_item(i, NOW, shared).id for i in items] == [
        f"https://example.org/{n}" for n in ids
    ]
