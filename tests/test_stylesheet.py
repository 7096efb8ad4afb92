"""feeds/assets/feeds.xsl: what a person who opens a feed in a browser sees.

The feeds are rendered with `render_feed`, given the processing instruction
`<?xml-stylesheet type="text/xsl" href="feeds.xsl"?>` after the XML
declaration, and then:

- transformed with lxml (libxslt, the engine Chromium and Safari use) and
  read back as HTML: title, subscribe note, items, dates, rubrics, summaries;
- read with feedparser, which must see exactly what it saw without the
  instruction;
- opened in headless Chromium (slow): the page it builds must hold the
  items, proving the transform runs in a real browser, and a screenshot is
  written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html

from feeds.model import ArchivePage, Item, Site
from feeds.render import FeedSpec, archive_entry, render_archive, render_feed, stylesheet
from feeds.words import STYLESHEET_RUSSIAN

from .conftest import ROOT

STYLESHEET = ROOT / "feeds" / "assets" / "feeds.xsl"
SCRIPT = ROOT / "scripts" / "screenshot.py"
CHROMIUM = "/usr/bin/chromium"
PI = b'<?xml-stylesheet type="text/xsl" href="feeds.xsl"?>'
XSL_NS = "http://www.w3.org/1999/XSL/Transform"
BASE = "https://feeds.example.org/"
FORMATS = ("atom", "rss")
LABELS = {"art": "Искусство", "literature": "Литература"}
UPDATED = datetime(2026, 11, 25, 13, 40, tzinfo=UTC)
TITLE = "Искусство — Test Site"
DESCRIPTION = "Выставки, театр и книги"

# Each item: its title, its link, the date the page shows (Moscow time, the
# site's zone) and the rubric labels.
EXPECTED = [
    (
        "Выставка «Оттепель» открылась",
        "https://www.colta.ru/news/101",
        "2026-11-25 16:40",
        ["Искусство", "Литература"],
    ),
    (
        "Ночная премьера & <разговор>",
        "https://www.colta.ru/articles/202?a=1&b=2",
        "2026-11-25 01:30",
        ["Литература"],
    ),
    ("Заметка без ссылки", "", "2026-11-20 11:00", ["unlisted"]),
]


@pytest.fixture
def site() -> Site:
    return Site(title="Test Site", base_url=BASE, language="ru", timezone="Europe/Moscow")


def spec(items: tuple[Item, ...] | None = None, archived: int = 0) -> FeedSpec:
    if items is None:
        items = sample_items()
    return FeedSpec(
        slug="art",
        title=TITLE,
        description=DESCRIPTION,
        items=items,
        updated=UPDATED,
        total=len(items),
        labels=dict(LABELS),
        archived=archived,
    )


def sample_items() -> tuple[Item, ...]:
    """Newest first: a full item with summary and content, one with a
    summary only and markup-looking text in its title, and a linkless note
    whose only text repeats its title."""
    return (
        Item(
            source="colta",
            id="https://www.colta.ru/news/101",
            title="Выставка «Оттепель» открылась",
            link="https://www.colta.ru/news/101",
            summary="<p>Короткое <b>описание</b> выставки &amp; программы.</p>",
            content="<p>Полный текст новости.</p>",
            author="Иван Петров",
            published=UPDATED,
            updated=UPDATED,
            rubrics=("art", "literature"),
        ),
        Item(
            source="colta",
            id="urn:feeds:colta:0123456789abcdef01234567",
            title="Ночная премьера & <разговор>",
            link="https://www.colta.ru/articles/202?a=1&b=2",
            summary='<p>Спектакль и <a href="https://www.colta.ru/x">разговор</a>.</p>',
            author="Мария Сидорова",
            published=datetime(2026, 11, 24, 22, 30, tzinfo=UTC),
            updated=datetime(2026, 11, 24, 23, 5, tzinfo=UTC),
            rubrics=("literature",),
        ),
        Item(
            source="colta-text",
            id="urn:feeds:colta-text:000000000000000000000001",
            title="Заметка без ссылки",
            summary="<p>Заметка без ссылки</p>",
            published=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
            rubrics=("unlisted",),
        ),
    )


def with_pi(data: bytes) -> bytes:
    """The feed with the stylesheet instruction right after its XML
    declaration, as render will write it."""
    assert data.startswith(b"<?xml ")
    if PI in data:  # render writes it itself now
        return data
    declaration, rest = data.split(b"?>", 1)
    return declaration + b"?>\n" + PI + rest


def feed_bytes(
    site: Site, suffix: str, items: tuple[Item, ...] | None = None, archived: int = 0
) -> bytes:
    return with_pi(render_feed(site, spec(items, archived), suffix))


@pytest.fixture(scope="module")
def transform() -> etree.XSLT:
    return etree.XSLT(etree.parse(str(STYLESHEET)))


def to_html(transform: etree.XSLT, data: bytes, **params: str) -> lxml_html.HtmlElement:
    result = transform(etree.fromstring(data), **params)
    errors = [e for e in transform.error_log if e.level_name != "WARNING"]
    assert not errors, errors
    return lxml_html.fromstring(str(result))


def text(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


# --------------------------------------------------------------------------
# the stylesheet itself


def test_stylesheet_is_self_contained_xslt_1_0() -> None:
    root = etree.parse(str(STYLESHEET)).getroot()
    assert root.tag == f"{{{XSL_NS}}}stylesheet"
    assert root.get("version") == "1.0"
    output = root.find(f"{{{XSL_NS}}}output")
    assert output is not None
    assert output.get("method") == "html"
    assert output.get("encoding") == "UTF-8"
    source = STYLESHEET.read_text(encoding="utf-8").lower()
    for external in ("<script", "<link", "@import", "url(", "src="):
        assert external not in source, external


# --------------------------------------------------------------------------
# the page, as libxslt builds it


@pytest.mark.parametrize("suffix", FORMATS)
def test_page_shows_feed_and_subscribe_note(site: Site, transform: etree.XSLT, suffix: str) -> None:
    page = to_html(transform, feed_bytes(site, suffix))

    assert page.get("lang") == "ru"
    assert text(page.find(".//h1")) == TITLE
    assert TITLE in text(page.find(".//title"))
    assert text(page.find_class("subtitle")[0]) == DESCRIPTION
    note = page.find_class("subscribe")[0]
    assert "feed reader" in text(note)
    assert [text(c) for c in note.find_class("url")] == [f"{BASE}art.{suffix}"]
    assert [a.get("href") for a in note.iter("a")] == [BASE]
    kicker = text(page.find_class("kicker")[0])
    assert kicker.startswith("Atom feed" if suffix == "atom" else "RSS feed")
    assert "3 items, updated 2026-11-25 16:40" in kicker


@pytest.mark.parametrize("suffix", FORMATS)
def test_page_lists_items_in_feed_order(site: Site, transform: etree.XSLT, suffix: str) -> None:
    page = to_html(transform, feed_bytes(site, suffix))
    entries = page.find_class("entry")

    assert len(entries) == len(EXPECTED)
    for entry, (title, link, shown, labels) in zip(entries, EXPECTED, strict=True):
        heading = entry.find("h2")
        assert text(heading) == title
        assert [a.get("href") for a in heading.iter("a")] == ([link] if link else [])
        time = entry.find(".//time")
        assert time is not None and time.text == shown
        moment = datetime.fromisoformat(time.get("datetime", ""))
        assert moment.utcoffset() is not None
        assert moment.strftime("%Y-%m-%d %H:%M") == shown
        assert [text(r) for r in entry.find_class("rubric")] == labels
    authors = [[text(a) for a in e.find_class("author")] for e in entries]
    assert authors == [["Иван Петров"], ["Мария Сидорова"], []]
    # Markup-looking text in a title stays text.
    assert entries[1].xpath(".//h2//*[not(self::a)]") == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_summaries_render_as_html(site: Site, transform: etree.XSLT, suffix: str) -> None:
    """libxslt honours disable-output-escaping: the summary's own markup
    becomes elements. The summary is preferred to the content, and a text
    that only repeats the title is left out."""
    entries = to_html(transform, feed_bytes(site, suffix)).find_class("entry")
    summaries = [e.find_class("summary") for e in entries]

    first = summaries[0][0]
    assert text(first) == "Короткое описание выставки & программы."
    assert [text(b) for b in first.iter("b")] == ["описание"]
    assert "Полный текст" not in text(entries[0])
    second = summaries[1][0]
    assert [(a.get("href"), text(a)) for a in second.iter("a")] == [
        ("https://www.colta.ru/x", "разговор")
    ]
    assert summaries[2] == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_plain_text_fallback_strips_markup(site: Site, transform: etree.XSLT, suffix: str) -> None:
    """Where disable-output-escaping is ignored (Firefox), summaries show as
    text without their tags rather than as raw markup."""
    page = to_html(transform, feed_bytes(site, suffix), **{"rich-html": "false()"})
    summaries = [s for e in page.find_class("entry") for s in e.find_class("summary")]

    assert [text(s) for s in summaries] == [
        "Короткое описание выставки & программы.",
        "Спектакль и разговор.",
    ]
    assert [list(s.iter("b", "a")) for s in summaries] == [[], []]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("rich", ["true()", "false()"])
def test_long_title_and_long_summary_still_render(
    site: Site, transform: etree.XSLT, suffix: str, rich: str
) -> None:
    """A 10 KB title once let a 12 KB summary of 1,500 entities into the
    check for summaries that repeat the title, whose recursion hit the
    engine's depth limit: the whole page, archive pages included, failed."""
    long = Item(
        source="colta",
        id="https://www.colta.ru/news/long",
        title="Long headline " * 715,
        link="https://www.colta.ru/news/long",
        summary="<p>" + "Q&amp;A " * 1500 + "</p>",
        published=UPDATED,
        rubrics=("art",),
    )
    page = to_html(
        transform, feed_bytes(site, suffix, (long, *sample_items())), **{"rich-html": rich}
    )

    entries = page.find_class("entry")
    assert len(entries) == 4
    assert "Q&A Q&A" in text(entries[0])


def test_empty_feed_says_so(site: Site, transform: etree.XSLT) -> None:
    for suffix in FORMATS:
        page = to_html(transform, feed_bytes(site, suffix, ()))
        assert page.find_class("entry") == []
        assert text(page.find_class("empty")[0]) == "No items yet."
        assert "0 items" in text(page.find_class("kicker")[0])


def test_every_piece_the_russian_stylesheet_translates_is_in_the_stylesheet() -> None:
    source = STYLESHEET.read_text(encoding="utf-8")
    for english, _russian in STYLESHEET_RUSSIAN:
        assert english in source, english
    russian = stylesheet("ru").decode("utf-8")
    assert 'lang="en"' not in russian
    # No English words left over that the table missed (comments and the
    # style sheet aside).
    shown = re.sub(r"<!--.*?-->", "", russian.split('<xsl:template name="style">')[0], flags=re.S)
    for words in ("items", "feed reader", "preview", "Older", "Newer", "Not a feed", ", updated"):
        assert words not in shown, words


@pytest.fixture(scope="module")
def russian() -> etree.XSLT:
    return etree.XSLT(etree.fromstring(stylesheet("ru")))


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_russian_sites_feed_reads_in_russian_in_a_browser(
    site: Site, russian: etree.XSLT, suffix: str
) -> None:
    """A Russian site's feeds said "This is a web feed", "3 items" and
    "Older items" in English."""
    page = to_html(russian, feed_bytes(site, suffix))
    kicker = text(page.find_class("kicker")[0])
    assert kicker.startswith("лента Atom" if suffix == "atom" else "лента RSS")
    assert "3 материала, обновлена 2026-11-25 16:40" in kicker
    note = text(page.find_class("subscribe")[0])
    assert note.startswith("Это лента новостей") and "программу для чтения лент" in note
    assert [e.get("lang") for e in page.iter() if e.get("lang")] == ["ru"] * len(
        [e for e in page.iter() if e.get("lang")]
    )
    empty = to_html(russian, feed_bytes(site, suffix, ()))
    assert text(empty.find_class("empty")[0]) == "Материалов пока нет."


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (1, "1 материал"),
        (2, "2 материала"),
        (5, "5 материалов"),
        (11, "11 материалов"),
        (21, "21 материал"),
        (24, "24 материала"),
    ],
)
def test_the_russian_page_counts_items_as_russian_does(
    site: Site, russian: etree.XSLT, count: int, shown: str
) -> None:
    first = sample_items()[0]
    items = tuple(
        Item(
            source="s",
            id=f"https://x.example/{n}",
            title=f"Новость {n}",
            link=f"https://x.example/{n}",
            published=first.published,
        )
        for n in range(count)
    )
    page = to_html(russian, feed_bytes(site, "atom", items))
    assert f" {shown}," in f" {text(page.find_class('kicker')[0])}"


def test_atom_fallbacks_term_and_updated(transform: etree.XSLT) -> None:
    """Atom written elsewhere: a category without a label shows its term, an
    entry without published shows updated, a text summary stays text."""
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        b"<title>Other</title><id>urn:x</id><updated>2024-01-02T03:04:05Z</updated>"
        b'<entry><title>Only updated</title><id>urn:x:1</id><link href="https://x.example/1"/>'
        b"<updated>2024-01-02T03:04:05Z</updated>"
        b'<category term="misc"/><summary type="text">a &lt;b&gt; c</summary></entry>'
        b"</feed>"
    )
    page = to_html(transform, data)
    entry = page.find_class("entry")[0]

    assert page.get("lang") == "en"
    assert page.find_class("url") == []
    assert entry.find(".//time").text == "2024-01-02 03:04"
    assert [text(r) for r in entry.find_class("rubric")] == ["misc"]
    summary = entry.find_class("summary")[0]
    assert text(summary) == "a <b> c"
    assert list(summary.iter("b")) == []


# --------------------------------------------------------------------------
# feed readers see no difference


@pytest.mark.parametrize("suffix", FORMATS)
def test_feeds_with_instruction_still_parse(site: Site, suffix: str) -> None:
    plain = render_feed(site, spec(), suffix)
    styled = with_pi(plain)
    assert styled.count(PI) == 1
    assert styled.index(PI) < styled.index(b"<feed" if suffix == "atom" else b"<rss")

    before = feedparser.parse(plain)
    after = feedparser.parse(styled)
    assert after.bozo == 0, after.get("bozo_exception")
    assert after.version == before.version == ("atom10" if suffix == "atom" else "rss20")
    assert after.feed.title == before.feed.title == TITLE

    def items(parsed: feedparser.FeedParserDict) -> list[tuple[str, str, str, object]]:
        return [(e.id, e.title, e.get("link", ""), e.published_parsed) for e in parsed.entries]

    assert items(after) == items(before)
    assert [e.title for e in after.entries] == [title for title, *_ in EXPECTED]

    root = etree.fromstring(styled)
    instruction = root.getprevious()
    assert isinstance(instruction, etree._XSLTProcessingInstruction)
    assert instruction.get("href") == "feeds.xsl"


# --------------------------------------------------------------------------
# a real browser


@pytest.fixture
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI: .ci/run must install chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium): feeds.xsl untested")
    return CHROMIUM


def _screenshot(feed: Path, shot: Path, chromium: str) -> subprocess.CompletedProcess[bytes]:
    """scripts/screenshot.py on `feed`, with the DOM Chromium built."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(feed), str(shot), "--dump-dom", "--chromium", chromium]
        + ["--width", "800", "--height", "1000", "--timeout", "30"],
        capture_output=True,
        timeout=45,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return done


@pytest.mark.slow
def test_chromium_renders_atom_feed(site: Site, chromium: str, tmp_path: Path) -> None:
    """scripts/screenshot.py serves the folder on 127.0.0.1 and runs headless
    Chromium: the page it builds holds the transformed items, summary
    markup included, and the screenshot is a PNG."""
    feed = tmp_path / "art.atom"
    feed.write_bytes(feed_bytes(site, "atom"))
    shot = tmp_path / "art.png"

    done = _screenshot(feed, shot, chromium)
    assert (tmp_path / "feeds.xsl").read_bytes() == STYLESHEET.read_bytes()
    page = lxml_html.fromstring(done.stdout.decode("utf-8"))
    entries = page.find_class("entry")
    assert [text(e.find("h2")) for e in entries] == [title for title, *_ in EXPECTED]
    assert [text(c) for c in page.find_class("url")] == [f"{BASE}art.atom"]
    assert [text(b) for b in entries[0].find_class("summary")[0].iter("b")] == ["описание"]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 1000


@pytest.mark.parametrize("suffix", FORMATS)
def test_archive_pages_say_so_and_link_the_pages_around(
    site: Site, transform: etree.XSLT, suffix: str
) -> None:
    items = sample_items()
    entries = [archive_entry(site, LABELS, item) for item in items]
    data = render_archive(site, spec(items), ArchivePage("art", 2, 4, 6), entries, suffix)
    page = to_html(transform, data)
    note = text(page.find_class("subscribe")[0])
    assert "archive page" in note and "never changes" in note
    assert [text(c) for c in page.find_class("url")] == [f"{BASE}art.{suffix}"]
    links = {a.get("class"): a.get("href") for a in page.find_class("pages")[0].iter("a")}
    assert links == {
        "current": f"{BASE}art.{suffix}",
        "newer": f"{BASE}archive/art/3.{suffix}",
        "older": f"{BASE}archive/art/1.{suffix}",
    }
    assert [text(e.find("h2")) for e in page.find_class("entry")] == [t for t, *_ in EXPECTED]
    # The current document points back into its archive.
    current = to_html(transform, feed_bytes(site, suffix, items, archived=2))
    nav = current.find_class("pages")[0]
    assert [(a.get("class"), a.get("href")) for a in nav.iter("a")] == [
        ("older", f"{BASE}archive/art/2.{suffix}")
    ]
    assert "This is a web feed" in text(current.find_class("subscribe")[0])


@pytest.mark.slow
def test_chromium_renders_an_archive_page(site: Site, chromium: str, tmp_path: Path) -> None:
    """An archive page two folders down finds ../../feeds.xsl, and the
    browser shows it as an archive page with its neighbours linked."""
    items = sample_items()
    entries = [archive_entry(site, LABELS, item) for item in items]
    page = tmp_path / "archive" / "art" / "2.atom"
    page.parent.mkdir(parents=True)
    page.write_bytes(
        render_archive(site, spec(items), ArchivePage("art", 2, 4, 6), entries, "atom")
    )
    shot = tmp_path / "page.png"

    done = _screenshot(page, shot, chromium)
    assert (tmp_path / "feeds.xsl").read_bytes() == STYLESHEET.read_bytes()
    assert not (page.parent / "feeds.xsl").exists()
    dom = lxml_html.fromstring(done.stdout.decode("utf-8"))
    assert "archive page" in text(dom.find_class("subscribe")[0])
    assert [text(e.find("h2")) for e in dom.find_class("entry")] == [t for t, *_ in EXPECTED]
    nav = [a.get("href") for a in dom.find_class("pages")[0].iter("a")]
    assert nav == [f"{BASE}art.atom", f"{BASE}archive/art/3.atom", f"{BASE}archive/art/1.atom"]
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
