"""normalise: ids, titles, sanitising, dates; and its properties."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.model import Item, canonical_link
from feeds.normalise import MAX_TITLE, normalise_item, sanitise_html

from .conftest import tags_left_open

MSK = timezone(timedelta(hours=3))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"guid": "tag:x.example,2026:1", "link": "https://x.example/1"}, "tag:x.example,2026:1"),
        (
            {"guid": "https://x.example/?p=1", "link": "https://x.example/1"},
            "https://x.example/?p=1",
        ),
        (
            {"guid": "openstage 1187", "link": "https://x.example/1"},
            "urn:feeds:src:guid:openstage%201187",
        ),
        ({"link": "https://x.example/1"}, "https://x.example/1"),
    ],
)
def test_id_scheme(fields: dict[str, str], expected: str) -> None:
    assert normalise_item(Item(source="src", title="T", **fields)).id == expected


def test_id_without_guid_or_link_is_derived_from_source_title_and_date() -> None:
    base = Item(source="src", title="Заголовок", published=datetime(2022, 3, 1, 20, 55, tzinfo=MSK))
    first = normalise_item(base).id
    assert first.startswith("urn:feeds:src:")
    assert normalise_item(base).id == first
    assert (
        normalise_item(Item(source="other", title="Заголовок", published=base.published)).id
        != first
    )
    later = base.published + timedelta(days=1)  # type: ignore[operator]
    assert normalise_item(Item(source="src", title="Заголовок", published=later)).id != first
    assert (
        normalise_item(Item(source="src", title="  Заголовок ", published=base.published)).id
        == first
    )


def test_dates_become_utc() -> None:
    item = normalise_item(
        Item(source="s", title="T", published=datetime(2026, 11, 25, 16, 40, tzinfo=MSK))
    )
    assert item.published == datetime(2026, 11, 25, 13, 40, tzinfo=UTC)
    assert item.published.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        Item(source="s", title="T", published=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("summary", "title"),
    [
        ("<p>Первое предложение. Второе предложение.</p>", "Первое предложение."),
        ("<p>Без точки в конце</p>", "Без точки в конце"),
        # Not at an initial, an abbreviation or inside quotes.
        (
            "<p>Куратор А. Багдонайте об итогах конференции. Второе.</p>",
            "Куратор А. Багдонайте об итогах конференции.",
        ),
        ("<p>В 1990-х гг. Москва жила иначе. Потом.</p>", "В 1990-х гг. Москва жила иначе."),
        ("<p>Роман «Дом. Сад» вышел. Ещё одно.</p>", "Роман «Дом. Сад» вышел."),
        ("<p>Dr. Smith opened the show. Then.</p>", "Dr. Smith opened the show."),
        ("<p>" + "слово " * 60 + "</p>", None),
    ],
)
def test_title_falls_back_to_the_leads_first_sentence(summary: str, title: str | None) -> None:
    got = normalise_item(Item(source="s", title="  ", summary=summary)).title
    if title is not None:
        assert got == title
    else:
        assert got.endswith("…") and len(got) <= MAX_TITLE + 1
        assert not got[:-1].endswith(" ") and got[:-1].split()[-1] == "слово"


def test_title_is_never_empty() -> None:
    assert normalise_item(Item(source="s", title="", link="https://x.example/a")).title
    assert normalise_item(Item(source="s", title="")).title


def test_title_white_space_and_control_characters() -> None:
    item = normalise_item(Item(source="s", title=" Два\n  слова\x00\x1f "))
    assert item.title == "Два слова"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        '<svg onload="alert(1)"></svg>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<![CDATA[<script>alert(1)</script>]]>",
        '<object data="x.swf"></object><embed src="x.swf">',
    ],
)
def test_sanitiser_removes_executable_constructs(hostile: str) -> None:
    clean = sanitise_html(f"<p>ok</p>{hostile}").lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<style",
        "<object",
        "<embed",
    ):
        assert bad not in clean


@pytest.mark.parametrize(
    "hostile",
    [
        # nh3 reads the scheme of href and src only.
        '<blockquote cite="javascript:alert(1)">q</blockquote>',
        '<q cite=" JaVa&#x09;Script:alert(1)">q</q><del cite="javascript:x">d</del>',
        # A line separator became a space after cleaning, and browsers
        # drop a URL's leading space.
        '<a href="\u2028javascript:alert(1)">x</a><img src="\u2029javascript:alert(1)">',
        '<a href="&#x2028;javascript:alert(1)">x</a>',
    ],
)
@pytest.mark.parametrize("base", ["", "https://x.example/item"], ids=["no-base", "base"])
def test_no_url_left_in_an_attribute_is_a_script(hostile: str, base: str) -> None:
    clean = sanitise_html(f"<p>ok</p>{hostile}", base)
    urls = re.findall(r'\b(?:href|src|cite|longdesc)="([^"]*)"', clean)
    for url in urls:
        # As a browser reads it: tabs and line breaks out, ends trimmed.
        read = re.sub(r"[\t\n\r]", "", html.unescape(url)).strip("\x00\x20").lower()
        assert not read.startswith(("javascript:", "vbscript:", "data:")), clean


def test_a_quotes_source_is_kept_and_made_absolute() -> None:
    clean = sanitise_html(
        '<blockquote cite="/talk">q</blockquote><q cite="https://y.example/">w</q>',
        "https://x.example/news/1",
    )
    assert clean == (
        '<blockquote cite="https://x.example/talk">q</blockquote><q cite="https://y.example/">w</q>'
    )


def test_an_item_with_no_link_is_cleaned_of_separated_script_urls() -> None:
    """A JSON Feed item with no url has no base to clean against."""
    item = normalise_item(
        Item(
            source="s",
            title="T",
            guid="1",
            summary='<p><a href="\u2028javascript:alert(document.domain)">click</a></p>',
        )
    )
    assert "javascript" not in item.summary
    assert "click" in item.summary


def test_sanitiser_keeps_ordinary_markup() -> None:
    clean = sanitise_html('<p>Text <a href="https://x.example/">link</a> <b>bold</b></p>')
    assert '<a href="https://x.example/"' in clean and "<b>bold</b>" in clean


def test_non_http_item_links_are_dropped() -> None:
    assert normalise_item(Item(source="s", title="T", link="javascript:alert(1)")).link == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://x.example/a", "http://X.EXAMPLE:80/a#comments"),
        ("https://x.example/a?id=1", "https://x.example/a?id=1&utm_source=rss&fbclid=z"),
        ("https://x.example", "https://x.example/"),
    ],
)
def test_canonical_link_spots_the_same_story(a: str, b: str) -> None:
    assert canonical_link(a) == canonical_link(b)


def test_canonical_link_keeps_different_stories_apart() -> None:
    assert canonical_link("https://x.example/a?id=1") != canonical_link("https://x.example/a?id=2")


items = st.builds(
    Item,
    source=st.text(min_size=1, max_size=10),
    title=st.text(max_size=60),
    guid=st.one_of(st.just(""), st.text(max_size=20)),
    link=st.one_of(st.just(""), st.just("https://x.example/a"), st.text(max_size=20)),
    summary=st.text(max_size=200),
    content=st.one_of(st.just(""), st.text(max_size=100)),
    author=st.text(max_size=20),
    published=st.one_of(st.none(), st.datetimes(timezones=st.just(MSK))),
    categories=st.lists(st.text(max_size=10), max_size=3).map(tuple),
)


@given(items)
def test_normalising_twice_equals_normalising_once(item: Item) -> None:
    once = normalise_item(item)
    assert normalise_item(once) == once


class _Tags(HTMLParser):
    """Every start tag and attribute of a fragment, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def executable_parts(fragment: str) -> list[str]:
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    bad = []
    for tag, attrs in parser.found:
        if tag in ("script", "style", "iframe", "object", "embed", "frame", "base"):
            bad.append(tag)
        for name, value in attrs:
            squeezed = "".join((value or "").split()).lower()
            if name.startswith("on") or squeezed.startswith(("javascript:", "vbscript:", "data:")):
                bad.append(f"{tag} {name}={value}")
    return bad


PIECES = [
    "<script>alert(1)</script>",
    "<p>",
    "</p>",
    "<a href='javascript:x()'>",
    "</a>",
    '<img src="x" onerror="x()">',
    "<svg onload=x()>",
    "<iframe src=//e>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "&lt;script&gt;",
    "<scr<script>ipt>",
    "java\tscript:",
    '"',
    "'",
    "<a href=' javascript:x'>",
    "<style>",
    "text",
    "&amp;",
    "<b onclick=x>",
    "<",
]


@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=30).map("".join))
def test_sanitised_html_never_carries_an_executable_construct(value: str) -> None:
    assert executable_parts(sanitise_html(value)) == []


#: What XML cannot carry (C0 controls but tab and line ends, C1 controls,
#: lone surrogates, U+FFFE and U+FFFF), whichever way it is written.
UNWRITABLE_PIECES = [
    "&#1;",
    "&#x1F;",
    "&#x85;",
    "&#127;",
    "&#xFFFE;",
    "&#65535;",
    "&#0;",
    "&#xD800;",
    "\x01",
    "\x85",
    "\ud800",
    "\uffff",
    '<a href="java',
    'script:x">',
    "<p>",
    "text",
]


def _unwritable(text: str) -> list[str]:
    return [
        c
        for c in text
        if (ord(c) < 32 and c not in "\t\n\r")
        or 0x7F <= ord(c) <= 0x9F
        or 0xD800 <= ord(c) <= 0xDFFF
        or c in "\ufffe\uffff"
    ]


@given(st.lists(st.sampled_from(UNWRITABLE_PIECES), max_size=12).map("".join), st.booleans())
def test_sanitised_html_never_carries_a_character_no_feed_can_carry(
    value: str, with_base: bool
) -> None:
    """Cleaning reads character references: `&#1;` became the character
    itself, and a feed holding it cannot be written (the build failed)."""
    clean = sanitise_html(value, "https://x.example/a/" if with_base else "")
    assert _unwritable(clean) == []
    assert executable_parts(clean) == []


def test_a_reference_to_a_control_character_leaves_a_replacement_character() -> None:
    """A replacement character, not nothing: dropping it would join what
    it kept apart, and `java&#1;script:` is no scheme at all."""
    assert sanitise_html("<p>a&#1;b</p>") == "<p>a\ufffdb</p>"
    linked = sanitise_html('<a href="java&#1;script:alert(1)">x</a>')
    assert "javascript" not in linked and "java\ufffdscript" in linked
    # Written as the characters themselves, they are dropped, as ever.
    assert sanitise_html("<p>a\x01b</p>") == "<p>ab</p>"


def test_a_title_made_from_text_with_such_a_reference_keeps_its_id() -> None:
    """Titles (and so the ids of stories with no link or guid) are made
    from the text without the character, as they always were: with the
    replacement character in it, the same story was stored again."""
    referenced = normalise_item(Item(source="s", title="", summary="Hello&#1; world. More"))
    plain = normalise_item(Item(source="s", title="", summary="Hello world. More"))
    assert (referenced.title, referenced.id) == ("Hello world.", plain.id)
    assert referenced.summary == "Hello\ufffd world. More"


def test_html_too_deeply_nested_keeps_its_text_and_builds_no_tag() -> None:
    """Its tags are dropped, and what is left cannot join into new ones
    (`<div<x>>` once became 20,000 nested blocks again)."""
    assert sanitise_html("<div>" * 600 + "<img<x> src=x onerror=alert(1)>") == (
        "&lt;img src=x onerror=alert(1)&gt;"
    )
    assert sanitise_html("<p>ok</p>" + "<div>" * 600 + "deep &amp; text <b>bold") == (
        "ok deep &amp; text bold"
    )


def test_item_html_whose_open_tags_would_be_copied_half_a_million_times_keeps_its_text() -> None:
    """500 bold tags of their own classes left open in a block, then 1,000
    paragraphs: cleaning it built every paragraph with a copy of all 500."""
    cleaned = sanitise_html(tags_left_open("<p>text</p>"))
    assert "<b" not in cleaned and "<p" not in cleaned
    assert cleaned.startswith("text text")


def test_the_checker_itself_sees_executable_constructs() -> None:
    found = executable_parts('<script>x</script><a href=" javascript:x">y</a><b onclick="x">')
    assert len(found) == 3


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("<script>alert(1)</script>Script title", "Script title"),
        ("<b>Bold</b> move", "Bold move"),
        ("<<b>i>nested", "nested"),
        ("a < b and c > d", "a < b and c > d"),
        ("AT&T <3", "AT&T <3"),
        ("<!-- note -->Commented", "Commented"),
        ("<IMG SRC=x onerror=alert(1)>Picture", "Picture"),
        ("<T onmouseover=alert(1)>Generic", "Generic"),
        ("<svg/onload=alert(1)>Vector", "Vector"),
        # A `<` inside an attribute value; a tag the title's end leaves open.
        ('<img src=x onerror="alert(1)//<">Picture', "Picture"),
        ('<T onmouseover="alert(1)//<" >Hover', "Hover"),
        ("Picture <img src=x onerror=alert(1)", "Picture"),
        # Angle brackets that no HTML parser would build an element from.
        ("Option<T>::take_if is stable", "Option<T>::take_if is stable"),
        ("std::vector<int> in C++26", "std::vector<int> in C++26"),
        ("If x<y and y>z then x<z", "If x<y and y>z then x<z"),
    ],
)
def test_titles_carry_no_markup(title: str, expected: str) -> None:
    normalised = normalise_item(Item(source="s", title=title))
    assert normalised.title == expected
    assert normalise_item(normalised).title == expected


def test_an_author_carries_no_markup_either() -> None:
    """Readers show the author next to the title, and some render it as HTML."""
    item = normalise_item(Item(source="s", title="T", author="<img src=x onerror=alert(1)>Bob"))
    assert item.author == "Bob"
    assert normalise_item(Item(source="s", title="T", author="Ann <ann>")).author == "Ann <ann>"


@pytest.mark.parametrize("guid", ["javascript:alert(1)", "JavaScript:x", "data:text/html,x"])
def test_an_id_never_keeps_an_executable_scheme(guid: str) -> None:
    item = normalise_item(Item(source="s", title="T", guid=guid))
    assert item.id.startswith("urn:feeds:s:guid:")


FETCHED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "printed",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=3))),  # before UTC's first day
        datetime(1, 1, 1, tzinfo=UTC),  # .NET's "no date"
        datetime(1900, 1, 1, tzinfo=UTC),  # many a CMS's "no date"
        datetime(1970, 1, 1, tzinfo=UTC),  # the Unix epoch
        FETCHED + timedelta(days=2),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
    ids=["year-1-east", "year-1", "1900", "epoch", "in-two-days", "year-9999"],
)
def test_a_date_no_story_can_carry_makes_the_item_undated(printed: datetime) -> None:
    """Undated, the store gives the item the time it was first seen: it
    neither heads every feed for years nor sinks below the archive."""
    item = normalise_item(
        Item(source="s", title="T", link="https://x.example/a", published=printed, updated=printed),
        FETCHED,
    )
    assert item.published is None and item.updated is None


def test_dates_a_little_ahead_or_long_ago_are_kept() -> None:
    ahead = FETCHED + timedelta(hours=20)  # a source whose clock or zone is off
    old = datetime(1991, 8, 19, 6, 0, tzinfo=UTC)
    item = normalise_item(
        Item(source="s", title="T", link="https://x.example/a", published=old, updated=ahead),
        FETCHED,
    )
    assert (item.published, item.updated) == (old, ahead)


def test_a_link_with_spaces_or_quotes_is_made_a_valid_iri_and_the_id_stays() -> None:
    given = 'https://x.example/spaces in/é?q=a b&x=<y>"z'
    item = normalise_item(Item(source="s", title="T", link=given, image=given + ".jpg"))
    assert item.link == "https://x.example/spaces%20in/é?q=a%20b&x=%3Cy%3E%22z"
    assert item.image == item.link + ".jpg"
    assert item.id == given  # the id a reader already knows the story by
    assert normalise_item(item) == item


def test_ids_and_links_carry_no_character_a_feed_cannot_hold() -> None:
    # Links are made valid IRIs; an id keeps a control character or a
    # non-character (one stored so must find its story again: render
    # encodes it as it writes), but no lone surrogate, which no store holds.
    for fields, expected, link in [
        ({"link": "https://x.example/a\x01b"}, "https://x.example/a\x01b", "a%01b"),
        ({"guid": "https://x.example/\ud800"}, "https://x.example/%ED%A0%80", ""),
        ({"guid": "https://x.example/\ufffe"}, "https://x.example/\ufffe", ""),
        ({"guid": "lone\udfff"}, "urn:feeds:s:guid:lone%ED%BF%BF", ""),
    ]:
        item = normalise_item(Item(source="s", title="T", **fields))
        assert item.id == expected
        assert item.link == (f"https://x.example/{link}" if link else "")
        assert "%" in item.guid or not item.guid
        assert normalise_item(item) == item
    # A guid that is no URI was always written percent-encoded: it keeps its
    # id, control characters and all.
    kept = normalise_item(
        Item(source="s", title="T", guid="plain\x03guid", link="https://x.example/p")
    )
    assert kept.id == "urn:feeds:s:guid:plain%03guid"
    assert kept.link == "https://x.example/p"


def test_a_title_made_from_the_lead_leaves_the_derived_id_as_it_was() -> None:
    """Titles from a lead are no longer cut at an initial; ids derived from
    them keep the old reading, so no stored story changes its id."""
    when = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    lead = "<p>Куратор А. Петров об итогах года. Второе.</p>"
    made = normalise_item(Item(source="s", title="", summary=lead, published=when))
    before = normalise_item(Item(source="s", title="Куратор А.", published=when))
    assert made.title == "Куратор А. Петров об итогах года."
    assert made.id == before.id


def test_a_derived_id_does_not_change_as_a_date_comes_within_reach() -> None:
    ahead = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # three days after the fetch
    item = Item(source="s", title="Анонс", published=ahead)
    too_far = normalise_item(item, FETCHED)
    later = normalise_item(item, FETCHED + timedelta(days=3))
    assert too_far.published is None and later.published == ahead
    assert too_far.id == later.id


def test_quotes_that_open_low_and_close_high_do_not_hide_the_sentence_end() -> None:
    lead = "<p>Выставка „Дом“ открылась. Второе предложение. " + "Слово. " * 3000 + "</p>"
    item = normalise_item(Item(source="s", title="", summary=lead))
    assert item.title == "Выставка „Дом“ открылась."


def test_line_and_paragraph_separators_in_html_become_breaks() -> None:
    """U+2028 and U+2029 were kept in summaries and content, and newsboat
    showed each as '�'. In HTML they become the breaks they stand for;
    in an attribute, where no markup may go, a space."""
    item = normalise_item(
        Item(
            source="s",
            title="T",
            link="https://x.example/1",
            summary='<p>One\u2028two\u2029three <a href="/a" title="a\u2028b">x</a></p>',
            content="<p>Entity&#8232;line&#x2029;para</p>",
        )
    )
    assert item.summary == (
        '<p>One<br>two<br><br>three <a href="https://x.example/a" title="a b" '
        'rel="noopener noreferrer">x</a></p>'
    )
    assert item.content == "<p>Entity<br>line<br><br>para</p>"
    assert normalise_item(item) == item
    assert sanitise_html("<pre>a\u2028b</pre>") == "<pre>a<br>b</pre>"


def test_separators_in_one_line_fields_become_spaces_and_ids_stay() -> None:
    """Title, author and categories are single lines: a separator is a
    space there. A title (or a lead a title is made from) holding one keeps
    the derived id it had before separators were turned into breaks."""
    published = datetime(2026, 3, 1, tzinfo=UTC)
    item = normalise_item(
        Item(
            source="src",
            title="Line one\u2028line two",
            author="Ann\u2029Lee",
            categories=("Art\u2028news",),
            published=published,
        )
    )
    assert (item.title, item.author, item.categories) == (
        "Line one line two",
        "Ann Lee",
        ("Art news",),
    )
    assert item.id == "urn:feeds:src:a5a8bd06b0214e35241ab331"
    lead = normalise_item(
        Item(
            source="src",
            title="",
            summary="<p>Line one\u2028line two. More\u2029text.</p>",
            published=published,
        )
    )
    assert lead.title == "Line one line two."
    assert lead.id == "urn:feeds:src:15b14baf70d954a11d0d177d"
    assert lead.summary == "<p>Line one<br>line two. More<br><br>text.</p>"
