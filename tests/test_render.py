"""Render stage: what a subscriber's reader sees in the Atom, RSS and JSON
feeds, the OPML list and the HTML index.

Output is read back the way subscribers read it: with feedparser (bytes in)
for the XML feeds, with xml.etree for structure, with json for JSON Feed and
with html.parser for the index page.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from calendar import timegm
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser
import pytest

from feeds.model import ArchivePage, Item, Site
from feeds.render import FeedSpec, render_feed, render_index, render_opml
from feeds.words import ENGLISH, RUSSIAN

BASE = "https://feeds.example.org/"
MOSCOW = ZoneInfo("Europe/Moscow")
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
A = f"{{{ATOM_NS}}}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_FORMATS = ("atom", "rss")
ALL_FORMATS = ("atom", "rss", "json")
MIME = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
LABELS = {
    "art": "Искусство",
    "literature": "Литература",
    "news": "Новости",
}
HOSTILE = "<script>alert(1)</script> & co"
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")

# The feed's own time: deliberately not "now", so a render that read the
# clock would write a date that is none of these.
SPEC_UPDATED = datetime(2026, 11, 25, 13, 40, tzinfo=UTC)


# --------------------------------------------------------------------------
# helpers


@pytest.fixture
def site() -> Site:
    return Site(
        title="Test Site",
        base_url=BASE,
        language="ru",
        timezone="Europe/Moscow",
    )


def make_item(**fields: object) -> Item:
    values: dict[str, object] = {
        "source": "colta",
        "summary": "<p>Summary</p>",
        "content": "",
        "author": "",
        "rubrics": ("art",),
    }
    values.update(fields)
    return Item(**values)  # type: ignore[arg-type]


def sample_items() -> tuple[Item, ...]:
    """Three normalised items, newest first, covering the usual shapes."""
    return (
        make_item(
            id="https://www.colta.ru/news/101",
            title="Выставка «Оттепель» открылась",
            link="https://www.colta.ru/news/101",
            summary="<p>Короткое описание.</p>",
            content="<p>Полный <b>текст</b> новости.</p>",
            author="Иван Петров",
            published=SPEC_UPDATED,
            updated=SPEC_UPDATED,
            rubrics=("art", "literature"),
            series="Colta Specials",
            views=1234,
        ),
        make_item(
            # A story published late in the UTC evening: in Moscow it is
            # already the next day.
            id="urn:feeds:colta:0123456789abcdef01234567",
            title="Ночная премьера",
            link="https://www.colta.ru/articles/202?a=1&b=2",
            summary="<p>Спектакль &amp; разговор.</p>",
            author="Мария Сидорова",
            published=datetime(2026, 11, 24, 22, 30, tzinfo=UTC),
            updated=datetime(2026, 11, 24, 23, 5, tzinfo=UTC),
            rubrics=("literature",),
        ),
        make_item(
            id="https://www.colta.ru/news/303",
            title="Новость без автора",
            link="https://www.colta.ru/news/303",
            summary="<p>Третья.</p>",
            published=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
            rubrics=("art",),
        ),
    )


def make_spec(
    items: tuple[Item, ...] | None = None,
    *,
    slug: str = "art",
    title: str = "Искусство — Test Site",
    description: str = "Искусство: items of Test Site",
    updated: datetime = SPEC_UPDATED,
    total: int | None = None,
) -> FeedSpec:
    if items is None:
        items = sample_items()
    return FeedSpec(
        slug=slug,
        title=title,
        description=description,
        items=items,
        updated=updated,
        total=len(items) if total is None else total,
        labels=dict(LABELS),
    )


def parse(data: bytes) -> feedparser.FeedParserDict:
    assert isinstance(data, bytes)
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, f"feedparser rejected the feed: {parsed.get('bozo_exception')!r}"
    return parsed


def xml_root(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def json_doc(data: bytes) -> dict[str, object]:
    assert isinstance(data, bytes)
    document = json.loads(data.decode("utf-8"))
    assert isinstance(document, dict)
    return document


def local_iso(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).isoformat()


def instant(parsed_struct: object) -> datetime:
    """A feedparser *_parsed struct (UTC) as an aware datetime."""
    return datetime.fromtimestamp(timegm(parsed_struct), tz=UTC)  # type: ignore[arg-type]


def atom_entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{A}entry")


def rss_items(root: ET.Element) -> list[ET.Element]:
    channel = root.find("channel")
    assert channel is not None
    return channel.findall("item")


class _Page(HTMLParser):
    """Collects the tags and the visible text of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "script":
            self._in_script = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.script_text if self._in_script else self.text).append(data)

    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            found
            for name, found in self.tags
            if name == tag and all(found.get(k) == v for k, v in attrs.items())
        ]


def page(data: bytes) -> _Page:
    parser = _Page()
    parser.feed(data.decode("utf-8"))
    parser.close()
    return parser


# --------------------------------------------------------------------------
# items round-trip through a subscriber's parser


@pytest.mark.parametrize("suffix", XML_FORMATS)
def test_xml_feed_round_trips_items_in_order(site: Site, suffix: str) -> None:
    items = sample_items()
    parsed = parse(render_feed(site, make_spec(items), suffix))

    assert parsed.version == ("atom10" if suffix == "atom" else "rss20")
    assert len(parsed.entries) == len(items)
    for entry, item in zip(parsed.entries, items, strict=True):
        assert entry.id == item.id
        assert entry.title == item.title
        assert entry.link == item.link
        assert instant(entry.published_parsed) == item.published


def test_json_feed_round_trips_items_in_order(site: Site) -> None:
    items = sample_items()
    document = json_doc(render_feed(site, make_spec(items), "json"))

    entries = document["items"]
    assert isinstance(entries, list)
    assert [e["id"] for e in entries] == [i.id for i in items]
    assert [e["title"] for e in entries] == [i.title for i in items]
    assert [e.get("url") for e in entries] == [i.link for i in items]
    assert [datetime.fromisoformat(e["date_published"]) for e in entries] == [
        i.published for i in items
    ]


@pytest.mark.parametrize("suffix", ALL_FORMATS)
def test_published_dates_are_written_in_site_time_zone(site: Site, suffix: str) -> None:
    """A story published at 22:30 UTC on the 24th is 01:30 on the 25th in
    Moscow: the feed says so, with the +03:00 offset, same instant."""
    items = sample_items()
    late = items[1]
    data = render_feed(site, make_spec(items), suffix)

    if suffix == "atom":
        entry = atom_entries(xml_root(data))[1]
        assert entry.findtext(f"{A}published") == "2026-11-25T01:30:00+03:00"
        assert entry.findtext(f"{A}updated") == "2026-11-25T02:05:00+03:00"
    elif suffix == "rss":
        pub_date = rss_items(xml_root(data))[1].findtext("pubDate")
        assert pub_date == "Wed, 25 Nov 2026 01:30:00 +0300"
        assert parsedate_to_datetime(pub_date) == late.published
    else:
        entry = json_doc(data)["items"][1]  # type: ignore[index]
        assert entry["date_published"] == "2026-11-25T01:30:00+03:00"
        assert entry["date_modified"] == "2026-11-25T02:05:00+03:00"


def test_atom_categories_carry_slug_as_term_and_title_as_label(site: Site) -> None:
    items = sample_items()
    parsed = parse(render_feed(site, make_spec(items), "atom"))

    for entry, item in zip(parsed.entries, items, strict=True):
        tags = [(t["term"], t["label"]) for t in entry.get("tags", [])]
        assert tags == [(slug, LABELS[slug]) for slug in item.rubrics]


def test_rss_categories_carry_rubric_title(site: Site) -> None:
    items = sample_items()
    data = render_feed(site, make_spec(items), "rss")
    parsed = parse(data)

    for entry, item in zip(parsed.entries, items, strict=True):
        assert [t["term"] for t in entry.get("tags", [])] == [LABELS[s] for s in item.rubrics]
    for element, item in zip(rss_items(xml_root(data)), items, strict=True):
        assert [c.text for c in element.findall("category")] == [LABELS[s] for s in item.rubrics]


def test_category_label_falls_back_to_slug_without_a_title(site: Site) -> None:
    item = make_item(
        id="https://www.colta.ru/news/9",
        title="Без словаря",
        link="https://www.colta.ru/news/9",
        published=SPEC_UPDATED,
        rubrics=("unlisted",),
    )
    spec = make_spec((item,))
    atom = parse(render_feed(site, spec, "atom"))
    rss = parse(render_feed(site, spec, "rss"))
    document = json_doc(render_feed(site, spec, "json"))

    assert [(t["term"], t["label"]) for t in atom.entries[0].tags] == [("unlisted", "unlisted")]
    assert [t["term"] for t in rss.entries[0].tags] == ["unlisted"]
    assert document["items"][0]["tags"] == ["unlisted"]  # type: ignore[index]


def test_authors_in_atom_and_rss(site: Site) -> None:
    items = sample_items()
    atom_data = render_feed(site, make_spec(items), "atom")
    rss_data = render_feed(site, make_spec(items), "rss")

    for entry, item in zip(atom_entries(xml_root(atom_data)), items, strict=True):
        names = [a.findtext(f"{A}name") for a in entry.findall(f"{A}author")]
        assert names == ([item.author] if item.author else [])
    for element, item in zip(rss_items(xml_root(rss_data)), items, strict=True):
        creators = [c.text for c in element.findall(f"{{{DC_NS}}}creator")]
        assert creators == ([item.author] if item.author else [])

    atom = parse(atom_data)
    rss = parse(rss_data)
    assert atom.entries[0].author == "Иван Петров"
    assert rss.entries[0].author == "Иван Петров"
    assert rss.entries[1].author == "Мария Сидорова"


def test_atom_feed_without_item_authors_still_has_an_author(site: Site) -> None:
    """RFC 4287: a feed whose entries lack authors must name one itself."""
    root = xml_root(render_feed(site, make_spec(), "atom"))
    assert root.findtext(f"{A}author/{A}name") == "Test Site"


@pytest.mark.parametrize("suffix", XML_FORMATS)
def test_content_and_summary_reach_the_reader(site: Site, suffix: str) -> None:
    items = sample_items()
    parsed = parse(render_feed(site, make_spec(items), suffix))

    first = parsed.entries[0]
    assert [c.value for c in first.content] == ["<p>Полный <b>текст</b> новости.</p>"]
    assert first.summary == "<p>Короткое описание.</p>"
    # An item with a link and only a summary: the summary is what shows.
    assert parsed.entries[1].summary == "<p>Спектакль &amp; разговор.</p>"


def test_link_with_query_string_survives_every_format(site: Site) -> None:
    link = "https://www.colta.ru/articles/202?a=1&b=2"
    spec = make_spec()
    for suffix in XML_FORMATS:
        assert parse(render_feed(site, spec, suffix)).entries[1].link == link
    document = json_doc(render_feed(site, spec, "json"))
    assert document["items"][1]["url"] == link  # type: ignore[index]
    hrefs = [a["href"] for a in page(render_index(site, [spec])).find("a")]
    assert link in hrefs


def test_the_index_says_which_time_zone_its_times_are_in(site: Site) -> None:
    text = render_index(site, [make_spec()]).decode("utf-8")
    times = re.findall(r"<time [^>]*>([^<]*)</time>", text)
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", t) for t in times)
    # The clock times carry no zone themselves: the page names it once
    # (in the site's language: Russian here).
    assert "Время указано по часовому поясу Europe/Moscow" in re.sub(r"<[^>]+>", "", text)


def test_the_index_speaks_the_sites_language(site: Site) -> None:
    """A Russian site's index said "Subscribe", "3 items" and "No items
    yet." in English."""
    specs = [make_spec(), replace(make_spec(), slug="theatre", items=(), total=0, archived=22)]
    russian = re.sub(r"<[^>]+>", "", render_index(site, specs).decode("utf-8"))
    assert "Подписаться:" in russian and "Subscribe" not in russian
    assert RUSSIAN.counted(len(make_spec().items), RUSSIAN.items) in russian
    assert "Материалов пока нет." in russian and "(22 страницы)" in russian
    english = re.sub(
        r"<[^>]+>", "", render_index(replace(site, language="en-GB"), specs).decode("utf-8")
    )
    assert "Subscribe:" in english and "No items yet." in english and "(22 pages)" in english
    assert "Times are Europe/Moscow time" in english
    # A language with no translation reads English.
    assert "Subscribe:" in render_index(replace(site, language="de"), specs).decode("utf-8")


@pytest.mark.parametrize(
    ("number", "russian", "english"),
    [
        (0, "0 материалов", "0 items"),
        (1, "1 материал", "1 item"),
        (3, "3 материала", "3 items"),
        (5, "5 материалов", "5 items"),
        (11, "11 материалов", "11 items"),
        (12, "12 материалов", "12 items"),
        (21, "21 материал", "21 items"),
        (104, "104 материала", "104 items"),
        (111, "111 материалов", "111 items"),
    ],
)
def test_counts_take_the_noun_form_their_number_asks_for(
    number: int, russian: str, english: str
) -> None:
    assert RUSSIAN.counted(number, RUSSIAN.items) == russian
    assert ENGLISH.counted(number, ENGLISH.items) == english


# --------------------------------------------------------------------------
# feed-level metadata


def test_atom_feed_metadata(site: Site) -> None:
    data = render_feed(site, make_spec(), "atom")
    root = xml_root(data)

    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == BASE + "art.atom"
    assert root.findtext(f"{A}title") == "Искусство — Test Site"
    links = {(link.get("rel") or "alternate"): link for link in root.findall(f"{A}link")}
    assert links["self"].get("href") == BASE + "art.atom"
    assert links["self"].get("type") == "application/atom+xml"
    assert links["alternate"].get("href") == BASE
    assert root.findtext(f"{A}updated") == "2026-11-25T16:40:00+03:00"
    assert root.get(XML_LANG) == "ru"

    parsed = parse(data)
    assert parsed.feed.id == BASE + "art.atom"
    assert parsed.feed.link == BASE
    assert parsed.feed.language == "ru"
    assert instant(parsed.feed.updated_parsed) == SPEC_UPDATED


def test_rss_feed_metadata(site: Site) -> None:
    data = render_feed(site, make_spec(), "rss")
    root = xml_root(data)
    channel = root.find("channel")
    assert channel is not None

    assert root.get("version") == "2.0"
    assert channel.findtext("title") == "Искусство — Test Site"
    assert channel.findtext("link") == BASE
    assert channel.findtext("description") == "Искусство: items of Test Site"
    assert channel.findtext("language") == "ru"
    self_links = [link for link in channel.findall(f"{A}link") if link.get("rel") == "self"]
    assert [link.get("href") for link in self_links] == [BASE + "art.rss"]
    assert self_links[0].get("type") == "application/rss+xml"

    last_build = channel.findtext("lastBuildDate")
    assert last_build == "Wed, 25 Nov 2026 16:40:00 +0300"
    assert RFC822.match(last_build)
    assert parsedate_to_datetime(last_build) == SPEC_UPDATED

    parsed = parse(data)
    assert parsed.feed.link == BASE
    assert parsed.feed.language == "ru"


def test_rss_dates_are_rfc822(site: Site) -> None:
    items = sample_items()
    data = render_feed(site, make_spec(items), "rss")
    pub_dates = [element.findtext("pubDate") for element in rss_items(xml_root(data))]

    assert pub_dates[0] == "Wed, 25 Nov 2026 16:40:00 +0300"
    for text, item in zip(pub_dates, items, strict=True):
        assert text is not None and RFC822.match(text), text
        assert parsedate_to_datetime(text) == item.published


def test_json_feed_document(site: Site) -> None:
    items = sample_items()
    document = json_doc(render_feed(site, make_spec(items), "json"))

    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Искусство — Test Site"
    assert document["home_page_url"] == BASE
    assert document["feed_url"] == BASE + "art.json"
    assert document["language"] == "ru"

    entries = document["items"]
    assert isinstance(entries, list) and len(entries) == 3
    first = entries[0]
    assert first["id"] == "https://www.colta.ru/news/101"
    assert first["url"] == "https://www.colta.ru/news/101"
    assert first["title"] == "Выставка «Оттепель» открылась"
    assert first["content_html"] == "<p>Полный <b>текст</b> новости.</p>"
    assert first["date_published"] == "2026-11-25T16:40:00+03:00"
    assert first["tags"] == ["Искусство", "Литература"]
    assert first["authors"] == [{"name": "Иван Петров"}]
    assert first["_feeds"] == {
        "rubrics": ["art", "literature"],
        "series": "Colta Specials",
        "views": 1234,
    }

    for entry, item in zip(entries, items, strict=True):
        # JSON Feed 1.1: every item has a string id and some content.
        assert isinstance(entry["id"], str) and entry["id"]
        assert entry.get("content_html") or entry.get("content_text")
        assert ISO_WITH_OFFSET.match(entry["date_published"]), entry["date_published"]
        assert entry["tags"] == [LABELS[s] for s in item.rubrics]
        assert entry["_feeds"]["rubrics"] == list(item.rubrics)
        if item.author:
            assert entry["authors"] == [{"name": item.author}]
        else:
            assert "authors" not in entry
    # An item with no series and no view count says nothing about them.
    assert entries[2]["_feeds"] == {"rubrics": ["art"]}


def test_json_views_zero_is_kept(site: Site) -> None:
    item = make_item(
        id="https://www.colta.ru/news/0",
        title="Никто не читал",
        link="https://www.colta.ru/news/0",
        published=SPEC_UPDATED,
        views=0,
    )
    document = json_doc(render_feed(site, make_spec((item,)), "json"))
    assert document["items"][0]["_feeds"]["views"] == 0  # type: ignore[index]


# --------------------------------------------------------------------------
# RSS guid


@pytest.mark.parametrize(
    ("item_id", "link", "permalink"),
    [
        ("https://www.colta.ru/news/1", "https://www.colta.ru/news/1", "true"),
        ("urn:feeds:colta:abcdef0123456789abcdef01", "https://www.colta.ru/news/1", "false"),
        ("urn:feeds:colta:abcdef0123456789abcdef01", "", "false"),
        ("https://www.colta.ru/node/77", "https://www.colta.ru/news/1", "false"),
        ("tag:colta.ru,2026:news/1", "https://www.colta.ru/news/1", "false"),
    ],
    ids=["id-is-link", "urn-with-link", "urn-no-link", "other-url", "tag-uri"],
)
def test_rss_guid_is_permalink_only_when_id_is_the_link(
    site: Site, item_id: str, link: str, permalink: str
) -> None:
    item = make_item(id=item_id, title="Guid", link=link, published=SPEC_UPDATED)
    data = render_feed(site, make_spec((item,)), "rss")
    parse(data)
    guids = rss_items(xml_root(data))[0].findall("guid")

    assert [g.text for g in guids] == [item_id]
    assert guids[0].get("isPermaLink") == permalink


# --------------------------------------------------------------------------
# an item without a link


def _linkless() -> Item:
    return make_item(
        id="urn:feeds:colta-text:5f1e2d3c4b5a69788796a5b4",
        title="Заметка без ссылки",
        link="",
        summary="<p>Только текст заметки.</p>",
        content="",
        published=SPEC_UPDATED,
    )


def test_item_without_link_is_a_valid_atom_entry_with_content(site: Site) -> None:
    item = _linkless()
    data = render_feed(site, make_spec((item,)), "atom")
    parsed = parse(data)
    entry = atom_entries(xml_root(data))[0]

    assert entry.findtext(f"{A}id") == item.id
    assert entry.findall(f"{A}link") == []
    content = entry.find(f"{A}content")
    assert content is not None and (content.text or "").strip()
    assert parsed.entries[0].content[0].value == "<p>Только текст заметки.</p>"


def test_item_without_link_or_text_still_has_atom_content(site: Site) -> None:
    item = make_item(
        id="urn:feeds:colta-text:000000000000000000000001",
        title="Только заголовок & больше ничего",
        link="",
        summary="",
        content="",
        published=SPEC_UPDATED,
    )
    spec = make_spec((item,))
    parsed = parse(render_feed(site, spec, "atom"))
    assert "Только заголовок &amp; больше ничего" in parsed.entries[0].content[0].value

    entry = json_doc(render_feed(site, spec, "json"))["items"][0]  # type: ignore[index]
    assert entry["content_html"]
    assert "url" not in entry


def test_item_without_link_in_rss_and_json(site: Site) -> None:
    item = _linkless()
    spec = make_spec((item,))
    rss_data = render_feed(site, spec, "rss")
    parsed = parse(rss_data)
    element = rss_items(xml_root(rss_data))[0]

    assert element.find("link") is None
    assert parsed.entries[0].id == item.id
    assert parsed.entries[0].summary == "<p>Только текст заметки.</p>"

    entry = json_doc(render_feed(site, spec, "json"))["items"][0]  # type: ignore[index]
    assert entry["id"] == item.id
    assert "url" not in entry
    assert entry["content_html"] == "<p>Только текст заметки.</p>"


# --------------------------------------------------------------------------
# an empty feed


@pytest.mark.parametrize("suffix", XML_FORMATS)
def test_empty_xml_feed_is_valid(site: Site, suffix: str) -> None:
    updated = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = render_feed(site, make_spec((), updated=updated, total=0), suffix)
    parsed = parse(data)

    assert parsed.entries == []
    root = xml_root(data)
    if suffix == "atom":
        assert root.findtext(f"{A}updated") == "2026-01-02T06:04:05+03:00"
        assert root.findall(f"{A}entry") == []
    else:
        assert root.findtext("channel/lastBuildDate") == "Fri, 02 Jan 2026 06:04:05 +0300"
        assert root.findall("channel/item") == []
    assert instant(parsed.feed.updated_parsed) == updated


def test_empty_json_feed_is_valid(site: Site) -> None:
    document = json_doc(render_feed(site, make_spec((), total=0), "json"))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Искусство — Test Site"
    assert document["items"] == []


# --------------------------------------------------------------------------
# determinism


@pytest.mark.parametrize("suffix", ALL_FORMATS)
def test_same_spec_gives_same_bytes(site: Site, suffix: str) -> None:
    first = render_feed(site, make_spec(), suffix)
    second = render_feed(site, make_spec(), suffix)
    assert first == second


def test_opml_and_index_are_deterministic(site: Site) -> None:
    specs = [make_spec(), make_spec((), slug="news", title="Новости", total=0)]
    assert render_opml(site, specs) == render_opml(site, specs)
    assert render_index(site, specs) == render_index(site, specs)


_ISO_ANY = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
_RFC_ANY = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}"
)


def _dates_in(data: bytes) -> set[datetime]:
    text = data.decode("utf-8")
    found = {datetime.fromisoformat(s.replace("Z", "+00:00")) for s in _ISO_ANY.findall(text)}
    found |= {parsedate_to_datetime(s) for s in _RFC_ANY.findall(text)}
    return found


@pytest.mark.parametrize("suffix", ALL_FORMATS)
def test_output_holds_no_date_but_the_given_ones(site: Site, suffix: str) -> None:
    """Nothing in a feed comes from the clock: every date written is the
    spec's updated or an item's published/updated time."""
    items = sample_items()
    spec = make_spec(items, updated=datetime(2026, 11, 25, 13, 40, tzinfo=UTC))
    allowed = {spec.updated}
    for item in items:
        allowed.add(item.published)  # type: ignore[arg-type]
        if item.updated:
            allowed.add(item.updated)

    data = render_feed(site, spec, suffix)
    dates = _dates_in(data)
    assert spec.updated in dates
    assert dates <= allowed, sorted(dates - allowed)


@pytest.mark.parametrize("suffix", ALL_FORMATS)
def test_empty_feed_holds_no_date_but_spec_updated(site: Site, suffix: str) -> None:
    updated = datetime(2019, 6, 1, 12, 0, tzinfo=UTC)
    data = render_feed(site, make_spec((), updated=updated, total=0), suffix)
    assert _dates_in(data) <= {updated}
    if suffix != "json":
        assert _dates_in(data) == {updated}


def test_feed_updated_does_not_follow_item_dates(site: Site) -> None:
    """The feed's updated is exactly what the spec says, even when that is
    earlier than an item's own update time."""
    items = sample_items()
    spec = make_spec(items, updated=SPEC_UPDATED - timedelta(hours=1))
    root = xml_root(render_feed(site, spec, "atom"))
    assert root.findtext(f"{A}updated") == "2026-11-25T15:40:00+03:00"
    channel = xml_root(render_feed(site, spec, "rss")).find("channel")
    assert channel is not None
    assert channel.findtext("lastBuildDate") == "Wed, 25 Nov 2026 15:40:00 +0300"


# --------------------------------------------------------------------------
# hostile text


def _hostile_spec() -> FeedSpec:
    item = make_item(
        id="https://www.colta.ru/news/666",
        title=HOSTILE,
        link="https://www.colta.ru/news/666",
        summary="<p>Безопасный текст.</p>",
        published=SPEC_UPDATED,
    )
    return make_spec((item,), title=HOSTILE, description=HOSTILE)


@pytest.mark.parametrize("suffix", XML_FORMATS)
def test_hostile_title_is_escaped_in_xml_feeds(site: Site, suffix: str) -> None:
    data = render_feed(site, _hostile_spec(), suffix)
    assert b"<script>" not in data
    parsed = parse(data)
    assert parsed.entries[0].title == HOSTILE
    assert parsed.feed.title == HOSTILE
    root = xml_root(data)
    if suffix == "atom":
        assert atom_entries(root)[0].findtext(f"{A}title") == HOSTILE
    else:
        assert rss_items(root)[0].findtext("title") == HOSTILE


def test_hostile_title_is_plain_text_in_json(site: Site) -> None:
    document = json_doc(render_feed(site, _hostile_spec(), "json"))
    assert document["title"] == HOSTILE
    assert document["items"][0]["title"] == HOSTILE  # type: ignore[index]


def test_hostile_title_is_never_a_live_script_in_index(site: Site) -> None:
    data = render_index(site, [_hostile_spec()])
    assert b"<script" not in data.lower()
    parsed = page(data)
    assert parsed.find("script") == []
    assert HOSTILE in parsed.visible_text()


def test_hostile_title_in_opml_is_escaped(site: Site) -> None:
    data = render_opml(site, [_hostile_spec()])
    root = xml_root(data)
    texts = {o.get("text") for o in root.iter("outline") if o.get("xmlUrl")}
    assert texts == {HOSTILE}


# --------------------------------------------------------------------------
# OPML


def _specs() -> list[FeedSpec]:
    items = sample_items()
    return [
        make_spec(items, slug="all", title="Test Site", description="Every item of Test Site"),
        make_spec(items, slug="art"),
        make_spec(
            (items[1],),
            slug="literature",
            title="Литература — Test Site",
            description="Литература: items of Test Site",
        ),
        make_spec((), slug="news", title="Новости — Test Site", total=0),
    ]


def test_opml_lists_every_feed_once(site: Site) -> None:
    """A reader importing the list subscribes to every outline: each feed
    is there once (in Atom), not once per format with the same items."""
    specs = _specs()
    root = xml_root(render_opml(site, specs))

    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.find("head/title") is not None
    assert root.find("body") is not None
    feeds = [o for o in root.iter("outline") if o.get("xmlUrl")]
    urls = [o.get("xmlUrl") for o in feeds]
    assert urls == [f"{BASE}{spec.slug}.atom" for spec in specs]
    for outline in feeds:
        assert outline.get("text")
        assert outline.get("htmlUrl") == BASE
        assert outline.get("type") == "rss"  # OPML 2.0's word for any feed
    by_url = {o.get("xmlUrl"): o for o in feeds}
    assert by_url[BASE + "art.atom"].get("text") == "Искусство — Test Site"
    assert by_url[BASE + "news.atom"].get("text") == "Новости — Test Site"


def test_opml_lists_a_feed_in_a_format_it_has(site: Site) -> None:
    """A rubric published only as JSON Feed (or RSS) is listed in that
    format, not under a file that does not exist."""
    json_only = replace(make_spec(sample_items(), slug="art"), formats=("json",))
    rss_json = replace(make_spec(sample_items(), slug="news"), formats=("json", "rss"))
    root = xml_root(render_opml(site, [json_only, rss_json]))

    assert [o.get("xmlUrl") for o in root.iter("outline")] == [
        BASE + "art.json",
        BASE + "news.rss",
    ]


def test_opml_with_no_feeds_is_valid(site: Site) -> None:
    root = xml_root(render_opml(site, []))
    assert root.get("version") == "2.0"
    assert [o for o in root.iter("outline") if o.get("xmlUrl")] == []


# --------------------------------------------------------------------------
# index.html


def test_index_has_autodiscovery_for_every_feed(site: Site) -> None:
    specs = _specs()
    parsed = page(render_index(site, specs))

    for spec in specs:
        for suffix in ALL_FORMATS:
            links = [
                link
                for link in parsed.find("link", rel="alternate", type=MIME[suffix])
                if urljoin(BASE, link["href"]) == f"{BASE}{spec.slug}.{suffix}"
            ]
            assert len(links) == 1, (spec.slug, suffix)
            assert links[0].get("title")


def test_index_shows_rubrics_counts_and_subscribe_links(site: Site) -> None:
    specs = _specs()
    specs[1] = make_spec(sample_items(), slug="art", total=42)
    specs[2] = make_spec(
        (sample_items()[1],),
        slug="literature",
        title="Литература — Test Site",
        total=1,
    )
    parsed = page(render_index(site, specs))
    text = parsed.visible_text()

    assert "Test Site" in text
    assert "Искусство — Test Site 42 материала" in text
    assert "Литература — Test Site 1 материал" in text
    assert "Литература — Test Site 1 материалов" not in text
    assert "Новости — Test Site 0 материалов" in text
    hrefs = {urljoin(BASE, a.get("href", "")) for a in parsed.find("a")}
    for spec in specs:
        for suffix in ALL_FORMATS:
            assert f"{BASE}{spec.slug}.{suffix}" in hrefs, (spec.slug, suffix)
    assert BASE + "feeds.opml" in hrefs


def test_index_links_archive_pages_only_in_formats_they_are_written_in(site: Site) -> None:
    """Archive pages are written in a feed's Atom and RSS formats: an
    RSS-only feed's archive link is its RSS page, a JSON-only feed has none."""
    specs = [
        replace(make_spec(sample_items(), slug="art"), formats=("rss",), archived=9),
        replace(make_spec(sample_items(), slug="literature"), formats=("json",), archived=9),
        replace(make_spec(sample_items(), slug="news"), archived=2),
    ]
    document = render_index(site, specs).decode()

    assert '<a href="archive/art/9.rss" type="application/rss+xml">Архив</a>' in document
    assert "archive/art/9.atom" not in document
    assert "archive/literature/" not in document
    assert '<a href="archive/news/2.atom" type="application/atom+xml">Архив</a>' in document
    assert document.count("Архив</a>") == 2


def test_index_shows_latest_headlines_newest_first(site: Site) -> None:
    items = sample_items()
    data = render_index(site, [make_spec(items)])
    text = page(data).visible_text()

    positions = [text.find(item.title) for item in items]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)
    hrefs = [a.get("href") for a in page(data).find("a")]
    for item in items:
        assert item.link in hrefs
    # The late-evening UTC story shows its Moscow date and time.
    assert "2026-11-25 01:30" in text


def test_index_limits_headlines_to_the_latest(site: Site) -> None:
    items = tuple(
        make_item(
            id=f"https://www.colta.ru/news/{n}",
            title=f"Заголовок номер {n:02d}",
            link=f"https://www.colta.ru/news/{n}",
            published=SPEC_UPDATED - timedelta(hours=n),
        )
        for n in range(8)
    )
    text = page(render_index(site, [make_spec(items)], headlines=3)).visible_text()
    shown = [item.title for item in items if item.title in text]
    assert shown == [item.title for item in items[:3]]


def test_index_for_empty_rubric_says_so_and_still_links_feeds(site: Site) -> None:
    spec = make_spec((), slug="news", title="Новости — Test Site", total=0)
    parsed = page(render_index(site, [spec]))
    hrefs = {urljoin(BASE, a.get("href", "")) for a in parsed.find("a")}
    assert {f"{BASE}news.{suffix}" for suffix in ALL_FORMATS} <= hrefs
    assert "Новости — Test Site 0 материалов" in parsed.visible_text()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "America/St_Johns", "Asia/Kathmandu"])
def test_archive_dates_are_written_as_rfc_822_like_the_current_documents(zone: str) -> None:
    """Archive pages format RSS dates themselves; every day of a year, in
    zones with negative and odd offsets, reads as email.utils writes it."""
    from email.utils import format_datetime

    from feeds.render import _rfc822

    start = datetime(2024, 1, 1, 23, 59, 58, tzinfo=UTC)
    for day in range(366):
        moment = (start + timedelta(days=day, hours=day % 24)).astimezone(ZoneInfo(zone))
        assert _rfc822(moment) == format_datetime(moment)


def test_rss_channel_link_is_the_site_with_a_hub_and_archive_pages(site: Site) -> None:
    """feedgen takes the last link it was given as the channel's <link>:
    not the hub's, not the newest archive page's."""
    hubbed = Site(
        title=site.title,
        base_url=BASE,
        language="ru",
        timezone="Europe/Moscow",
        hub="https://hub.example/",
    )
    data = render_feed(hubbed, replace(make_spec(), archived=3), "rss")
    channel = xml_root(data).find("channel")
    assert channel is not None
    assert channel.findtext("link") == BASE
    rels = {link.get("rel") for link in channel.findall(f"{A}link")}
    assert {"self", "hub", "prev-archive"} <= rels
    assert parse(data).feed.link == BASE


# The first and last moments a datetime holds, and a date before Moscow
# kept standard time (its offset then was +02:30:17).
EXTREME_DATES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(1900, 1, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("zone", ["Europe/Moscow", "America/New_York"])
def test_stored_dates_no_zone_can_write_are_written_in_utc(zone: str) -> None:
    """The store may hold such dates from before normalising refused them:
    every document still renders, with offsets feeds can carry."""
    from feeds.render import archive_entry, render_archive

    site = Site(title="T", base_url=BASE, language="ru", timezone=zone)
    items = tuple(
        make_item(id=f"{BASE}x/{n}", title=f"T{n}", link=f"{BASE}x/{n}", published=moment)
        for n, moment in enumerate(EXTREME_DATES)
    )
    spec = make_spec(items, updated=EXTREME_DATES[1])
    for suffix in ("atom", "json"):
        text = render_feed(site, spec, suffix).decode()
        stamps = re.findall(
            r'(?:<(?:updated|published)>|_(?:published|modified)": ")([^<"]+)', text
        )
        assert stamps and all(ISO_WITH_OFFSET.match(stamp) for stamp in stamps), stamps
    root = xml_root(render_feed(site, spec, "rss"))
    dates = [root.findtext("channel/lastBuildDate")] + [
        i.findtext("pubDate") for i in rss_items(root)
    ]
    assert all(re.search(r" [+-]\d{4}$", str(date)) for date in dates), dates
    entries = [archive_entry(site, {}, item) for item in items]
    page = ArchivePage("art", 1, 1, 3)
    for suffix in ("atom", "rss"):
        assert not feedparser.parse(render_archive(site, spec, page, entries, suffix)).bozo
    assert "T2" in render_index(site, [spec]).decode()


def test_json_feed_names_the_websub_hub(site: Site) -> None:
    """README: with websub.hub set, every feed names the hub. JSON Feed 1.1
    does so in `hubs`; without it a JSON Feed subscriber cannot find where
    to subscribe, though the hub is pinged for the .json topics too."""
    hubbed = replace(site, hub="https://hub.example/")
    document = json_doc(render_feed(hubbed, make_spec(), "json"))
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]
    assert "hubs" not in json_doc(render_feed(site, make_spec(), "json"))


def test_a_line_break_in_the_summary_parts_words_in_json(site: Site) -> None:
    """normalise turns a line separator into `<br>`; the JSON feed's plain
    summary made "One<br>two" "Onetwo", where it had read "One two"."""
    item = make_item(
        id="https://www.colta.ru/news/1",
        title="T",
        link="https://www.colta.ru/news/1",
        summary="<p>One<br>two<br><br>three</p>",
        content="<p>Whole text.</p>",
        published=SPEC_UPDATED,
    )
    document = json_doc(render_feed(site, make_spec((item,)), "json"))
    assert document["items"][0]["summary"] == "One two three"  # type: ignore[index]


def test_stored_ids_and_links_no_feed_can_hold_are_written_percent_encoded() -> None:
    """A store may hold links and ids with control characters or lone
    surrogates from before normalising encoded them: every document still
    renders (lxml refused them, and no feed was written in any later run),
    with the characters percent-encoded as normalising now does."""
    from feeds.render import archive_entry, render_archive

    site = Site(title="T", base_url=BASE, language="ru", timezone="Europe/Moscow")
    items = (
        make_item(
            id="https://x.example/a\x01b",
            title="Control",
            link="https://x.example/a\x01b",
            image="https://x.example/i\x02.png",
            published=SPEC_UPDATED,
        ),
        make_item(
            id="https://x.example/\ud800",
            title="Surrogate",
            link="https://x.example/s\udfff",
            published=SPEC_UPDATED,
        ),
    )
    spec = make_spec(items)
    ids = {"https://x.example/a%01b", "https://x.example/%ED%A0%80"}
    links = {"https://x.example/a%01b", "https://x.example/s%ED%BF%BF"}
    for suffix in XML_FORMATS:
        parsed = feedparser.parse(render_feed(site, spec, suffix))
        assert not parsed.bozo, parsed.bozo_exception
        assert {entry.id for entry in parsed.entries} == ids
        assert {entry.link for entry in parsed.entries} == links
    document = json_doc(render_feed(site, spec, "json"))
    assert {entry["id"] for entry in document["items"]} == ids
    assert document["items"][0]["image"] == "https://x.example/i%02.png"
    entries = [archive_entry(site, {}, item) for item in items]
    page = ArchivePage("art", 1, 1, 2)
    for suffix in XML_FORMATS:
        archived = feedparser.parse(render_archive(site, spec, page, entries, suffix))
        assert not archived.bozo, archived.bozo_exception
        assert {entry.id for entry in archived.entries} == ids
    assert "Surrogate" in render_index(site, [spec]).decode()
