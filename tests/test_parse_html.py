"""feeds.parse.html: news pages without a feed, by selectors or by what the
page declares (JSON-LD, OpenGraph, microdata). Fixtures in tests/data/html/,
one behaviour each; the clock is fixed and the zone is not UTC."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from feeds.errors import ParseError
from feeds.model import Fetched, Item, ParseContext, Source
from feeds.normalise import normalise_item
from feeds.parse.decode import decode_page
from feeds.parse.html import Selectors, advertised_feed, parse_html

from .conftest import DATA, tags_left_open

HTML = DATA / "html"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
MSK = ZoneInfo("Europe/Moscow")
RU = ParseContext(now=NOW, timezone="Europe/Moscow", language="ru")
EN = ParseContext(now=NOW, timezone="Europe/Moscow", language="en")
UTF8 = {"content-type": "text/html; charset=utf-8"}


def _parse(
    name: str,
    url: str,
    selectors: Selectors | None = None,
    context: ParseContext = RU,
    headers: dict[str, str] | None = None,
) -> tuple[list[Item], list[str]]:
    fetched = Fetched(
        source="test",
        url=url,
        body=(HTML / name).read_bytes(),
        headers=UTF8 if headers is None else headers,
    )
    return parse_html(fetched, Source(name="test", type="html", url=url), context, selectors)


def _parse_body(
    body: str | bytes, selectors: Selectors | None, context: ParseContext = RU
) -> tuple[list[Item], list[str]]:
    url = "https://example.org/news/"
    raw = body.encode() if isinstance(body, str) else body
    fetched = Fetched(source="inline", url=url, body=raw, headers=UTF8)
    return parse_html(fetched, Source(name="inline", type="html", url=url), context, selectors)


# ---------------------------------------------------------------- selector mode

CARDS = Selectors(
    item="article.card",
    title="h2.card__title",
    link="a.card__link",
    date=".card__date",
    summary="p.card__lead",
    rubrics="a.tag",
    image="img.card__img",
    author=".card__author",
)
CARDS_URL = "https://gazeta-volga.example/ru/lenta/?page=2"
CARDS_BASE = "https://gazeta-volga.example/ru/"  # <base href="/ru/"> against the page URL


def test_cards_page_by_selectors() -> None:
    items, notes = _parse("cards-ru.html", CARDS_URL, CARDS)

    assert items == [
        Item(
            source="test",
            title="Мост через Волгу закроют на ремонт до весны",
            image="https://gazeta-volga.example/ru/img/2026/11/most-600x400.jpg",
            link="https://gazeta-volga.example/ru/news/2026/11/26/most-cherez-volgu/",
            summary=(
                '<img src="https://gazeta-volga.example/ru/img/2026/11/most-600x400.jpg">'
                "Движение по&nbsp;старому мосту ограничат с&nbsp;1&nbsp;декабря. "
                '<a href="transport/obiezd/">Схема объезда</a>.'
            ),
            author="Ирина Соколова",
            published=datetime(2026, 11, 26, 11, 40, tzinfo=MSK),
            categories=("Транспорт", "Город"),
            base=CARDS_BASE,
        ),
        Item(
            source="test",
            title="«Рубин» обыграл «Зенит» в Казани: 2:1",
            image="https://gazeta-volga.example/media/2026/11/rubin.jpg",
            link="https://gazeta-volga.example/ru/sport/2026/11/25/rubin-zenit/",
            # data-src, not the data: placeholder in src
            summary=(
                '<img src="https://gazeta-volga.example/media/2026/11/rubin.jpg">'
                "Победный мяч забит на&nbsp;<b>89-й</b> минуте."
            ),
            author="Павел Гришин, Анна Ли",
            published=datetime(2026, 11, 25, 9, 30, tzinfo=MSK),
            categories=("Спорт", "Футбол", "Казань"),
            base=CARDS_BASE,
        ),
        Item(
            source="test",
            title="В библиотеке открылась выставка старых фотографий",
            image="https://gazeta-volga.example/ru/img/2026/11/vystavka.jpg",
            link="https://kultura.gazeta-volga.example/2026/11/22/vystavka-fotografiy/",
            # The lead shows an image already: the card's is not added.
            summary=(
                '<img src="img/2026/11/afisha-small.png" alt="Афиша"> '
                "Снимки 1950-х годов из&nbsp;семейных архивов горожан."
            ),
            author="",
            published=datetime(2026, 11, 22, 0, 0, tzinfo=MSK),
            categories=("Культура",),
            base=CARDS_BASE,
        ),
    ]
    assert notes == ["item 3: author: selector '.card__author' matched nothing"]


def test_card_summary_links_resolve_against_the_page_base_after_normalise() -> None:
    items, _ = _parse("cards-ru.html", CARDS_URL, CARDS)

    normalised = normalise_item(items[0])

    assert 'href="https://gazeta-volga.example/ru/transport/obiezd/"' in normalised.summary


def test_item_selector_that_matches_nothing_names_source_and_selector() -> None:
    selectors = Selectors(item="article.card--big", title="h2")

    with pytest.raises(ParseError) as caught:
        _parse("cards-ru.html", CARDS_URL, selectors)

    assert caught.value.source == "test"
    assert caught.value.url == CARDS_URL
    assert str(caught.value) == (
        f"source 'test': parse failed ({CARDS_URL}): "
        "selector 'article.card--big' matched nothing on the page"
    )


@pytest.mark.parametrize(
    "selectors",
    [Selectors(item="article.card >"), Selectors(item="article.card", title="h2[")],
    ids=["item", "field"],
)
def test_selector_that_is_not_css_is_a_parse_error(selectors: Selectors) -> None:
    with pytest.raises(ParseError, match=r"source 'test'.*selector '[^']+' is not valid CSS"):
        _parse("cards-ru.html", CARDS_URL, selectors)


def test_selectors_need_an_item_selector() -> None:
    with pytest.raises(ValueError, match="item selector"):
        Selectors(item=" ")


def test_notes_say_which_fields_came_out_empty_and_why() -> None:
    selectors = Selectors(
        item="li.story",
        title="h3",
        link="h3 a@href",
        date="time",
        summary="p.dek",
        rubrics="a.topic",
        image="img.thumb",
        author=".byline",
    )
    url = "https://northfieldcourier.example/briefing/"

    items, notes = _parse("notes-en.html", url, selectors, context=EN)

    assert items == [
        Item(
            source="test",
            title="Library extends winter opening hours",
            image="https://northfieldcourier.example/img/2026/library.jpg",
            link="https://northfieldcourier.example/2026/11/25/library-hours/",
            summary=(
                '<img src="https://northfieldcourier.example/img/2026/library.jpg">'
                "Branches will stay open until 8pm on weekdays."
            ),
            author="Priya Raman",
            # a naive ISO datetime is in the source's zone
            published=datetime(2026, 11, 25, 18, 20, tzinfo=MSK),
            categories=("Community",),
            base=url,
        ),
        Item(
            source="test",
            title="Road works on Mill Lane start Monday",
            link="https://northfieldcourier.example/2026/11/25/road-works/",
            base=url,
        ),
        Item(source="test", title="Live: council budget meeting", author="Staff", base=url),
    ]
    assert notes == [
        "item 2: date: selector 'time' matched nothing",
        "item 2: summary: selector 'p.dek' matched 1 element(s) without content",
        "item 2: rubrics: selector 'a.topic' matched 1 element(s) without text",
        "item 2: image: selector 'img.thumb' matched nothing",
        "item 2: author: selector '.byline' matched nothing",
        "item 3: link: selector 'h3 a@href' matched 1 element(s) without a 'href' attribute",
        "item 3: date: 'Ongoing' not understood",
        "item 3: summary: selector 'p.dek' matched nothing",
        "item 3: rubrics: selector 'a.topic' matched nothing",
        "item 3: image: selector 'img.thumb' matched 1 element(s) "
        "without a src (nor an image inside)",
    ]


def test_a_card_with_no_title_link_date_or_text_is_no_story() -> None:
    """An advert's slot under the cards' class was published as "Untitled",
    dated when first seen, at the top of every feed."""

    def dated(time: str) -> str:
        return f'<span class="d">21.11.2026 {time}</span>'

    page = (
        "<ul>"
        f'<li class="item"><a href="/s/1">Первая история</a>{dated("10:00")}</li>'
        '<li class="item ad"><div class="banner"><img src="/ad.gif"></div></li>'
        f'<li class="item"><a href="/s/2">Вторая история</a>{dated("09:00")}</li>'
        '<li class="item"><span class="promo">Реклама</span></li>'
        '<li class="item"><p class="s">Без ссылки, но с текстом</p></li>'
        "</ul>"
    )
    selectors = Selectors(item="li.item", title="a", link="a", date=".d", summary="p.s")

    items, notes = _parse_body(page, selectors)

    assert [(item.title, item.link) for item in items] == [
        ("Первая история", "https://example.org/s/1"),
        ("Вторая история", "https://example.org/s/2"),
        ("", ""),
    ]
    assert "card 2 of the page: no title, link, date or text: no story" in notes
    assert "card 4 of the page: no title, link, date or text: no story" in notes
    assert [note for note in notes if note.startswith("item 3:")][0].startswith("item 3: title")


def test_fields_without_a_selector_are_noted_once_per_page() -> None:
    page = "<ul><li><a href='/a'>Первая</a></li><li><a href='/b'>Вторая</a></li></ul>"

    items, notes = _parse_body(page, Selectors(item="li", title="a", link="a"))

    assert [(item.title, item.link) for item in items] == [
        ("Первая", "https://example.org/a"),
        ("Вторая", "https://example.org/b"),
    ]
    assert notes == [
        "date: no selector configured",
        "summary: no selector configured",
        "rubrics: no selector configured",
        "image: no selector configured",
        "author: no selector configured",
    ]


def test_date_written_for_people_that_is_not_understood_is_noted() -> None:
    page = "<div class='c'><h2>Заседание думы</h2><span class='d'>вчера вечером</span></div>"

    items, notes = _parse_body(page, Selectors(item=".c", title="h2", date=".d"))

    assert items[0].published is None
    assert "item 1: date: 'вчера вечером' not understood" in notes


def test_attribute_specs() -> None:
    # "@attr" alone reads the item element itself; an "@" inside an
    # attribute selector is CSS, not an attribute to read.
    page = (
        '<a class="c" href="/news/1" title="Тарифы &amp; льготы">'
        '<span data-x="a@b">Тарифы</span><img data-src="/i/1.jpg"></a>'
    )
    selectors = Selectors(
        item="a.c", title="@title", link="@href", rubrics='span[data-x="a@b"]', image="img"
    )

    items, _ = _parse_body(page, selectors)

    assert items == [
        Item(
            source="inline",
            title="Тарифы & льготы",
            image="https://example.org/i/1.jpg",
            link="https://example.org/news/1",
            summary='<img src="https://example.org/i/1.jpg">',
            categories=("Тарифы",),
            base="https://example.org/news/",
        )
    ]


def test_titles_are_plain_text_decoded_once_with_collapsed_white_space() -> None:
    page = (
        "<div class='c'><h2>\n  &amp;lt;b&amp;gt; is <i>escaped</i>,\n"
        "  Путин<br>и&nbsp;Си <script>var x = 1;</script></h2></div>"
    )

    items, _ = _parse_body(page, Selectors(item=".c", title="h2"))

    assert items[0].title == "&lt;b&gt; is escaped, Путин и Си"


# Dates as pages write them, with now = 2026-11-26 09:00 UTC (12:00 Moscow).
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("22 ноября", datetime(2026, 11, 22, 0, 0, tzinfo=MSK)),
        ("1 декабря", datetime(2025, 12, 1, 0, 0, tzinfo=MSK)),  # no year: the last one
        ("Сегодня, 14:05", datetime(2026, 11, 26, 14, 5, tzinfo=MSK)),
        ("Сегодня, 11:40", datetime(2026, 11, 26, 11, 40, tzinfo=MSK)),
        ("вчера, 09:30", datetime(2026, 11, 25, 9, 30, tzinfo=MSK)),
        ("Вчера в 23:15", datetime(2026, 11, 25, 23, 15, tzinfo=MSK)),
        ("вчера", datetime(2026, 11, 25, 0, 0, tzinfo=MSK)),  # a day: from midnight
        ("3 часа назад", datetime(2026, 11, 26, 9, 0, tzinfo=MSK)),
        ("2 days ago", datetime(2026, 11, 24, 0, 0, tzinfo=MSK)),
        ("22 ноября, 18:40", datetime(2026, 11, 22, 18, 40, tzinfo=MSK)),
        ("25 ноября 2026 г., 14:05", datetime(2026, 11, 25, 14, 5, tzinfo=MSK)),
        ("Среда, 25 ноября", datetime(2026, 11, 25, 0, 0, tzinfo=MSK)),
        ("25.11.2026", datetime(2026, 11, 25, 0, 0, tzinfo=MSK)),
        ("Nov 22, 2026", datetime(2026, 11, 22, 0, 0, tzinfo=MSK)),
        ("Yesterday, 9:30 AM", datetime(2026, 11, 25, 9, 30, tzinfo=MSK)),
        # A machine date without a zone is in the source's, as ISO ones are.
        ("Fri, 20 Nov 2026 14:05:00", datetime(2026, 11, 20, 14, 5, tzinfo=MSK)),
        ("Fri, 20 Nov 2026 14:05:00 -0000", datetime(2026, 11, 20, 17, 5, tzinfo=MSK)),
        ("Fri, 20 Nov 2026 14:05:00 +0100", datetime(2026, 11, 20, 16, 5, tzinfo=MSK)),
    ],
)
def test_dates_written_for_people(written: str, expected: datetime) -> None:
    page = f"<div class='c'><h2>Новость</h2><span class='d'>{written}</span></div>"

    items, notes = _parse_body(page, Selectors(item=".c", title="h2", date=".d"))

    assert items[0].published == expected
    assert not [note for note in notes if "date" in note]


@pytest.mark.parametrize(
    ("markup", "spec", "expected"),
    [
        # The page's own offset is kept, not just the instant.
        (
            '<time datetime="2026-11-25T14:05:00+05:00">сегодня</time>',
            "time@datetime",
            datetime(2026, 11, 25, 14, 5, tzinfo=timezone(timedelta(hours=5))),
        ),
        (
            '<time datetime="2026-11-25T14:05:00Z">25 ноября</time>',
            "time",
            datetime(2026, 11, 25, 14, 5, tzinfo=UTC),
        ),
        (
            '<meta itemprop="datePublished" content="2026-11-25 14:05">',
            "meta",
            datetime(2026, 11, 25, 14, 5, tzinfo=MSK),
        ),
        ('<time datetime="2026-11-25">25.11</time>', "time", datetime(2026, 11, 25, tzinfo=MSK)),
        (
            '<span data-ts="Wed, 25 Nov 2026 14:05:00 +0300">x</span>',
            "span@data-ts",
            datetime(2026, 11, 25, 14, 5, tzinfo=timezone(timedelta(hours=3))),
        ),
        # A number too big for the standard library's C types: no date
        # (it raised OverflowError, and the whole page failed).
        (
            '<span data-ts="Wed, 25 Nov 2026 14:05:00 +99999999999999">x</span>',
            "span@data-ts",
            None,
        ),
    ],
)
def test_machine_dates(markup: str, spec: str, expected: datetime | None) -> None:
    items, _ = _parse_body(
        f"<div class='c'><h2>Новость</h2>{markup}</div>",
        Selectors(item=".c", title="h2", date=spec),
    )

    published = items[0].published
    assert published == expected
    if expected is not None:
        assert published is not None
        assert published.utcoffset() == expected.utcoffset()


# A WordPress archive card lazy-loaded by WP Rocket (data-lazy-src) and
# one by the jQuery lazyload plugin (data-original): the src is a
# placeholder, the picture is in the other attribute.
LAZY_CARDS = """<html><body>
<article class="post"><h2><a href="/2026/11/20/most/">Мост закроют на ремонт</a></h2>
<div class="thumb"><img src="data:image/svg+xml,%3Csvg%3E%3C/svg%3E"
  data-lazy-src="/wp-content/uploads/2026/11/most.jpg"
  data-lazy-srcset="/wp-content/uploads/2026/11/most.jpg 300w"></div>
<div class="excerpt"><p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="
  data-lazy-src="/wp-content/uploads/2026/11/most-in.jpg" alt="мост">Движение ограничат.</p></div>
</article>
<article class="post"><h2><a href="/2026/11/20/teatr/">Театр открыл сезон</a></h2>
<div class="thumb"><img class="lazy" src="/img/grey.gif"
  data-original="//cdn.example.org/teatr.jpg"></div>
<div class="excerpt"><p><img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="
  data-original="//cdn.example.org/teatr-in.jpg">Премьера «Чайки».</p></div>
</article>
</body></html>"""


def test_lazy_loaded_pictures_are_read_from_the_attribute_that_holds_them() -> None:
    selectors = Selectors(item="article.post", title="h2", link="h2 a", image=".thumb img")

    items, _ = _parse_body(LAZY_CARDS, selectors)

    assert [item.image for item in items] == [
        "https://example.org/wp-content/uploads/2026/11/most.jpg",
        "https://cdn.example.org/teatr.jpg",
    ]


#: Cards of one heading and one picture each.
PICTURES = Selectors(item="article.post", title="h2", link="h2 a", image="img")


def test_a_picture_given_only_in_srcset_is_its_widest_candidate() -> None:
    # A responsive image with no src: "matched 1 element(s) without a src".
    page = (
        '<html><body><article class="post"><h2><a href="/1">Мост</a></h2>'
        '<img srcset="/img/most-480.jpg 480w, /img/most-1024.jpg 1024w, /img/most-768.jpg 768w">'
        '</article><article class="post"><h2><a href="/2">Театр</a></h2>'
        '<img data-srcset="/img/teatr.jpg 1x, /img/teatr@2x.jpg 2x"></article></body></html>'
    )

    items, notes = _parse_body(page, PICTURES)

    assert [item.image for item in items] == [
        "https://example.org/img/most-1024.jpg",
        "https://example.org/img/teatr@2x.jpg",
    ]
    assert not any("image" in note for note in notes)


def test_a_srcset_address_may_hold_commas() -> None:
    # As image CDNs write their transformations: it was cut at the comma.
    page = (
        '<html><body><article class="post"><h2><a href="/1">Мост</a></h2>'
        '<img srcset="https://res.cdn.example/image/w_480,c_fill/most.jpg 480w,'
        ' https://res.cdn.example/image/w_960,c_fill/most.jpg 960w"></article></body></html>'
    )
    (item,), _notes = _parse_body(page, PICTURES)
    assert item.image == "https://res.cdn.example/image/w_960,c_fill/most.jpg"


@pytest.mark.parametrize(
    ("srcset", "expected"),
    [
        ("/a-480.jpg 480w,/a-1024.jpg 1024w", "/a-1024.jpg"),  # no space after the comma
        ("/a.jpg 1x,/a@2x.jpg 2x", "/a@2x.jpg"),
        ("/a-480.jpg\t480w, /a-960.jpg\t960w", "/a-960.jpg"),  # tabs
        ("/only.jpg", "/only.jpg"),
        ("/a.jpg, /b.jpg 2x", "/b.jpg"),
    ],
)
def test_a_srcset_is_read_as_browsers_read_it(srcset: str, expected: str) -> None:
    page = (
        '<html><body><article class="post"><h2><a href="/1">Мост</a></h2>'
        f'<img srcset="{srcset}"></article></body></html>'
    )
    (item,), _notes = _parse_body(page, PICTURES)
    assert item.image == "https://example.org" + expected


def test_lazy_loaded_pictures_inside_a_summary_keep_their_source() -> None:
    # The cleaner drops the data: placeholder and every data-* attribute:
    # the reader got an empty <img> and no picture.
    selectors = Selectors(item="article.post", title="h2", link="h2 a", summary=".excerpt")

    items, _ = _parse_body(LAZY_CARDS, selectors)
    summaries = [normalise_item(item).summary for item in items]

    assert summaries == [
        '<p><img src="https://example.org/wp-content/uploads/2026/11/most-in.jpg" alt="мост">'
        "Движение ограничат.</p>",
        '<p><img src="https://cdn.example.org/teatr-in.jpg">Премьера «Чайки».</p>',
    ]


def test_lazy_loaded_microdata_picture() -> None:
    page = """<html><body>
    <div itemscope itemtype="https://schema.org/NewsArticle">
      <a itemprop="url" href="/news/1"><h3 itemprop="headline">Трамвай</h3></a>
      <img itemprop="image" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/img/1.jpg">
      <p itemprop="description">Вагоны выйдут весной.</p>
    </div></body></html>"""

    (item,), _ = _parse_body(page, None)

    assert item.image == "https://example.org/img/1.jpg"
    assert normalise_item(item).summary == (
        '<img src="https://example.org/img/1.jpg">Вагоны выйдут весной.'
    )


# ---------------------------------------------------------------- automatic mode


def test_article_page_with_json_ld_only() -> None:
    url = "https://severpost.example/2026/11/25/segezha-vtoraya-liniya/?utm_source=tg"

    items, notes = _parse("article-jsonld.html", url)

    assert items == [
        Item(
            source="test",
            # entities in JSON-LD text decoded once
            title="Целлюлозный завод в Сегеже остановит вторую линию «до лучших времён»",
            image="https://severpost.example/wp-content/uploads/2026/11/segezha-cbk.jpg",
            # mainEntityOfPage is an @id reference to the WebPage node
            link="https://severpost.example/2026/11/25/segezha-vtoraya-liniya/",
            summary=(
                '<img src="https://severpost.example/wp-content/uploads/2026/11/segezha-cbk.jpg">'
                "Около 400 работников переведут на простой; "
                "профсоюз требует сохранить зарплату &amp; премии."
            ),
            author="Мария Левина, Олег Мартынов",
            published=datetime(2026, 11, 25, 16, 40, tzinfo=timezone(timedelta(hours=3))),
            updated=datetime(2026, 11, 25, 18, 5, 12, tzinfo=timezone(timedelta(hours=3))),
            categories=("Экономика", "Карелия", "Сегежа", "ЦБК", "сокращения"),
            base=url,
        )
    ]
    published = items[0].published
    assert published is not None
    assert published.utcoffset() == timedelta(hours=3)
    assert notes == []


def test_article_page_with_open_graph_only() -> None:
    url = "https://www.harborlight.example/news/2026/11/25/ferry-strike"

    items, notes = _parse("article-opengraph.html", url, context=EN)

    eastern = timezone(timedelta(hours=-5))
    assert items == [
        Item(
            source="test",
            title="Ferry workers walk out as talks collapse — again",
            image="https://www.harborlight.example/media/2026/11/ferry-terminal.jpg",
            link="https://www.harborlight.example/news/2026/11/25/ferry-strike/",
            summary=(
                '<img src="https://www.harborlight.example/media/2026/11/ferry-terminal.jpg">'
                "Crossings to the islands are cancelled until Friday; "
                'the union says the "final offer" was anything but.'
            ),
            author="Dana Whitfield",
            published=datetime(2026, 11, 25, 7, 30, tzinfo=eastern),
            updated=datetime(2026, 11, 25, 9, 10, tzinfo=eastern),
            categories=("Local", "Transport", "Labor"),
            base=url,
        )
    ]
    published = items[0].published
    assert published is not None
    assert published.utcoffset() == timedelta(hours=-5)
    assert notes == []


def test_article_page_with_microdata() -> None:
    url = "https://rechflot-blog.example/blog/raketa-remont/?from=main"

    items, notes = _parse("article-microdata.html", url)

    assert items == [
        Item(
            source="test",
            title="Как мы чинили старую «Ракету»",
            image="https://rechflot-blog.example/blog/img/2026/raketa.jpg",
            link="https://rechflot-blog.example/blog/raketa-remont/",
            summary=(
                '<img src="https://rechflot-blog.example/blog/img/2026/raketa.jpg">'
                "<p>Два года, три двигателя и&nbsp;одна очень терпеливая команда.</p>"
            ),
            # the nested Person's name; the comment's author is not the article's
            author="Сергей Петров",
            published=datetime(2026, 11, 24, 16, 45, tzinfo=MSK),
            categories=("Техника", "суда на подводных крыльях", "реставрация"),
            base=url,
        )
    ]
    assert notes == []


def test_listing_page_with_a_json_ld_item_list() -> None:
    url = "https://www.dalesgazette.example/news/"

    items, notes = _parse("listing-itemlist.html", url, context=EN)

    assert items == [
        Item(
            source="test",
            title="Flood warning issued for the upper Wharfe",
            link="https://www.dalesgazette.example/news/2026/11/26/flood-warning/",
            base=url,
        ),
        Item(
            source="test",
            title="Snow closes 14 schools across the Dales",
            link="https://www.dalesgazette.example/news/2026/11/26/school-closures/",
            base=url,
        ),
        Item(
            source="test",
            title="Council approves new bus route to Skipton",
            image="https://www.dalesgazette.example/img/bus-route-16x9.jpg",
            link="https://www.dalesgazette.example/news/2026/11/25/bus-route/",
            summary=(
                '<img src="https://www.dalesgazette.example/img/bus-route-16x9.jpg">'
                "The 74 will run hourly from January."
            ),
            author="Tom Hargreaves",
            published=datetime(2026, 11, 25, 17, 2, tzinfo=UTC),
            categories=("Transport",),
            base=url,
        ),
        Item(
            source="test",
            title="Hill farmers warn over winter feed prices",
            link="https://www.dalesgazette.example/news/2026/11/25/feed-prices/",
            author="Ruth Ellison",
            published=datetime(2026, 11, 25, 9, 15, tzinfo=UTC),
            updated=datetime(2026, 11, 25, 11, 40, tzinfo=UTC),
            categories=("Farming", "Cost of living"),
            base=url,
        ),
    ]
    # The list entries are undated: published stays None, never the fetch time.
    assert "item 1 (JSON-LD): date: no datePublished or dateModified" in notes
    assert "item 4 (JSON-LD): summary: no description" in notes


def test_a_story_declared_three_ways_is_one_item_and_json_ld_wins() -> None:
    url = "https://estuarypost.example/news/tidal-barrier-test"

    items, _ = _parse("article-all-three.html", url, context=EN)

    assert items == [
        Item(
            source="test",
            title="Tidal barrier passes its first winter test",
            link="https://estuarypost.example/news/tidal-barrier-test",
            summary="The gates closed twice during Sunday's surge tide.",
            author="Lena Okafor",
            published=datetime(2026, 11, 24, 7, 0, tzinfo=timezone(timedelta(hours=1))),
            categories=("Environment",),
            base=url,
        )
    ]


def test_a_story_listed_twice_keeps_what_either_declaration_gives() -> None:
    # A listing page with a bare JSON-LD ItemList (url and name, as search
    # engines ask for) and microdata cards for the same stories: the cards'
    # dates, leads and pictures were dropped with the second declaration.
    page = """<html><head><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": [
      {"@type": "ListItem", "position": 1, "url": "https://example.org/news/1/",
       "name": "Трамвай выйдет весной"}]}
    </script></head><body>
    <div itemscope itemtype="https://schema.org/NewsArticle">
      <a itemprop="url" href="/news/1/"><h3 itemprop="headline">Трамвай выйдет весной</h3></a>
      <img itemprop="image" src="/img/1.jpg">
      <time itemprop="datePublished" datetime="2026-11-20T09:30:00+05:00">20 ноября</time>
      <p itemprop="description">Первые вагоны выйдут весной.</p>
      <span itemprop="author">Анна Белова</span>
    </div></body></html>"""

    (item,), notes = _parse_body(page, None)

    assert item == Item(
        source="inline",
        title="Трамвай выйдет весной",
        link="https://example.org/news/1/",
        summary='<img src="https://example.org/img/1.jpg">Первые вагоны выйдут весной.',
        image="https://example.org/img/1.jpg",
        author="Анна Белова",
        published=datetime(2026, 11, 20, 9, 30, tzinfo=timezone(timedelta(hours=5))),
        base="https://example.org/news/",
    )
    assert notes == [
        "item 1 (JSON-LD): rubrics: no articleSection or keywords",
    ]


def test_page_that_declares_nothing_gives_no_items_and_points_at_its_feed() -> None:
    items, notes = _parse("advertises-feed.html", "https://m.uralvesti.example/")

    assert items == []
    assert notes == [
        "no items: no JSON-LD article or ItemList, OpenGraph article or microdata; "
        "the page advertises a feed at https://uralvesti.example/ru/rss/all.xml "
        "(type: feed reads it)"
    ]


def test_json_ld_that_is_not_json_is_noted_and_skipped() -> None:
    page = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": }</script>'
        '<meta property="og:type" content="article"><meta property="og:title" content="Итоги">'
    )

    items, notes = _parse_body(page, None)

    assert [(item.title, item.link) for item in items] == [("Итоги", "https://example.org/news/")]
    assert notes[0].startswith("JSON-LD block 1: not valid JSON (")


# ---------------------------------------------------------------- advertised feeds


def test_advertised_feed_resolves_against_base_href() -> None:
    page = (HTML / "advertises-feed.html").read_text(encoding="utf-8")

    assert (
        advertised_feed(page, "https://m.uralvesti.example/")
        == "https://uralvesti.example/ru/rss/all.xml"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            '<link rel="alternate" type="application/atom+xml" href="../feed.atom">',
            "https://example.org/feed.atom",
        ),
        (
            '<link rel="alternate" type="application/feed+json" href="//cdn.example.org/f.json">',
            "https://cdn.example.org/f.json",
        ),
        ('<link rel="alternate" type="text/html" hreflang="en" href="/en/">', None),
        ('<link rel="stylesheet" type="application/rss+xml" href="/x.xml">', None),
        ("<title>Нет ленты</title>", None),
    ],
)
def test_advertised_feed(head: str, expected: str | None) -> None:
    page = f"<html><head>{head}</head><body></body></html>"

    assert advertised_feed(page, "https://example.org/news/page.html") == expected


# ---------------------------------------------------------------- encodings


def test_cp1251_page_declared_by_meta_only() -> None:
    selectors = Selectors(
        item="tr.news-row", title="a.t", link="a.t", date="td.d", summary="div.anons"
    )
    url = "http://zavpravda.example/news/"

    items, _ = _parse("cp1251-meta.html", url, selectors, headers={"content-type": "text/html"})

    assert items == [
        Item(
            source="test",
            title="Новый фельдшерско-акушерский пункт открылся в селе Ёлкино",
            link="http://zavpravda.example/news/view.php?id=4312",
            summary="Приём ведут терапевт и акушерка, по&nbsp;пятницам — педиатр.",
            published=datetime(2026, 11, 26, tzinfo=MSK),
            base=url,
        ),
        Item(
            source="test",
            title="Школьники собрали тонну макулатуры «Сдай бумагу — спаси ёжика»",
            link="http://zavpravda.example/news/view.php?id=4311",
            summary="Акция прошла во всех школах района.",
            published=datetime(2026, 11, 25, tzinfo=MSK),
            base=url,
        ),
    ]


def test_koi8r_page_without_any_declaration_is_detected() -> None:
    selectors = Selectors(item="div.item", title="a", link="a", date="span.date", summary="p")
    url = "http://priozerie.example/"

    items, _ = _parse(
        "koi8r-undeclared.html", url, selectors, headers={"content-type": "text/html"}
    )

    assert items == [
        Item(
            source="test",
            title="Мост через Вуоксу закроют на ремонт до весны",
            link="http://priozerie.example/news/1021.html",
            summary="Объезд организуют через Громово, автобусы пойдут по новому расписанию.",
            published=datetime(2026, 11, 25, tzinfo=MSK),
            base=url,
        ),
        Item(
            source="test",
            title="В городской библиотеке открылась выставка старых фотографий",
            link="http://priozerie.example/news/1020.html",
            summary=(
                "Снимки пятидесятых годов из семейных архивов горожан "
                "можно посмотреть до конца декабря."
            ),
            published=datetime(2026, 11, 24, tzinfo=MSK),
            base=url,
        ),
        Item(
            source="test",
            title="Ледовая переправа на Ладоге пока закрыта",
            link="http://priozerie.example/news/1019.html",
            summary="Толщина льда у берега не превышает пяти сантиметров, выходить на лёд опасно.",
            published=datetime(2026, 11, 24, tzinfo=MSK),
            base=url,
        ),
    ]


TITLE = "Сдай бумагу, спаси ёжика"
PAGE = "<html><head>{meta}<title>" + TITLE + "</title></head><body></body></html>"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        # The header wins over the meta tag.
        (
            PAGE.format(meta='<meta charset="utf-8">').encode("cp1251"),
            {"content-type": "text/html; charset=windows-1251"},
        ),
        (
            PAGE.format(meta='<meta charset="windows-1251">').encode("cp1251"),
            {"Content-Type": "text/html"},
        ),
        (
            PAGE.format(
                meta='<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
            ).encode("koi8-r"),
            {},
        ),
        # A server that says UTF-8 for a windows-1251 page is plainly wrong.
        (PAGE.format(meta="").encode("cp1251"), {"content-type": "text/html; charset=utf-8"}),
        # A site moved to UTF-8 whose server still says windows-1251.
        (PAGE.format(meta="").encode("utf-8"), {"content-type": "text/html; charset=cp1251"}),
        (
            PAGE.format(meta='<meta charset="x-cp1251">').encode("cp1251"),
            {"content-type": "text/html"},
        ),
        (codecs.BOM_UTF8 + PAGE.format(meta="").encode("utf-8"), {}),
        (
            codecs.BOM_UTF8 + PAGE.format(meta="").encode("utf-8"),
            {"content-type": "text/html; charset=windows-1251"},
        ),
        (codecs.BOM_UTF16_LE + PAGE.format(meta="").encode("utf-16-le"), {}),
        (PAGE.format(meta="").encode("utf-8"), {}),
        # Labels of Python codecs that read no charset (rot13, base64) or
        # fail on any byte ("undefined"): the page failed as a bug in feeds.
        (PAGE.format(meta="").encode("cp1251"), {"content-type": "text/html; charset=rot13"}),
        (PAGE.format(meta="").encode("cp1251"), {"content-type": "text/html; charset=undefined"}),
        (PAGE.format(meta='<meta charset="base64">').encode("cp1251"), {}),
        (PAGE.format(meta="").encode("cp1251"), {"content-type": "text/html; charset=punycode"}),
    ],
    ids=[
        "header",
        "meta",
        "http-equiv",
        "wrong-header",
        "stale-header",
        "x-label",
        "bom-utf8",
        "bom-beats-header",
        "bom-utf16",
        "utf8",
        "rot13",
        "undefined",
        "meta-base64",
        "punycode",
    ],
)
def test_decode_page(body: bytes, headers: dict[str, str]) -> None:
    text = decode_page(body, headers)

    assert f"<title>{TITLE}</title>" in text
    assert not text.startswith("\ufeff")


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
@pytest.mark.parametrize(
    "page",
    ["<h1>Мост закроют</h1>", "<h1>ВЫБОРЫ 2026: ИТОГИ</h1>", "<b>СЪЕЗД</b> <i>Щука</i>"],
    ids=["short", "capitals", "rare-letters"],
)
def test_decode_page_reads_short_undeclared_russian_pages(page: str, codec: str) -> None:
    # Too short for a statistical detector (it calls KOI8-R Shift-JIS).
    assert decode_page(page.encode(codec), {}) == page


@pytest.mark.parametrize(
    "page",
    [
        "<p>Le comité a été réuni à Genève pour préparer la fête de Noël.</p>",
        "<p>Die Bürgerversammlung in Köln hat über die Straßenbahn abgestimmt.</p>",
    ],
    ids=["fr", "de"],
)
def test_decode_page_does_not_take_latin_accents_for_cyrillic(page: str) -> None:
    text = decode_page(page.encode("cp1252"), {})

    # The detector may still pick a neighbour of windows-1252 (cp1250) for
    # so little text; what matters here is that no Cyrillic appears.
    assert not re.search("[а-яё]", text, re.IGNORECASE)
    assert text[:20] == page[:20]


def test_decode_page_keeps_a_declared_charset_despite_a_stray_byte() -> None:
    body = PAGE.format(meta="").encode("utf-8").replace(b"<body>", b"<body>\xff")

    text = decode_page(body, {"content-type": "text/html; charset=utf-8"})

    assert TITLE in text
    assert "\ufffd" in text


def test_decode_page_falls_back_to_utf8_with_replacement() -> None:
    assert decode_page(b"", {}) == ""
    assert decode_page(b"<p>plain</p>", {"content-type": "text/html; charset=x-unknown"}) == (
        "<p>plain</p>"
    )


# ---------------------------------------------------------------- not HTML


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "the body is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not an HTML page (binary data)"),
        (
            b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel/></rss>',
            "not an HTML page but an RSS or Atom feed (type: feed reads it)",
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
            "not an HTML page but an RSS or Atom feed (type: feed reads it)",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1.1"}',
            "not an HTML page but a JSON Feed (type: feed reads it)",
        ),
        (b'{"data": [1, 2]}', "not an HTML page but JSON"),
        ("Новости дня: всё спокойно.".encode(), "not an HTML page (no HTML markup)"),
    ],
    ids=["empty", "png", "rss", "atom", "json-feed", "json", "text"],
)
def test_a_body_that_is_not_html_is_a_parse_error(body: bytes, detail: str) -> None:
    with pytest.raises(ParseError) as caught:
        _parse_body(body, None)

    assert caught.value.source == "inline"
    assert caught.value.detail == detail


@pytest.mark.parametrize(
    "href",
    ["file:///etc/passwd", "FILE:///dev/zero", "ftp://example.org/f.xml", "data:,x", "/dev/zero"],
)
def test_advertised_feed_is_never_a_local_file(href: str) -> None:
    # A page advertising file:///dev/zero made the fetcher read it until
    # memory ran out; file:///path/of/a/feed.xml published a local file.
    page = (
        f'<html><head><link rel="alternate" type="application/rss+xml" href="{href}"></head></html>'
    )

    assert advertised_feed(page, "https://example.org/news/") in (
        None,
        "https://example.org/dev/zero",
    )
    assert advertised_feed(page, "file:///srv/pages/news.html") is None


# ---------------------------------------------------------------- hostile pages


def test_a_json_ld_block_nested_too_deeply_is_skipped_not_fatal() -> None:
    """An image 600 lists deep: the decoder takes it, and reading it took
    two frames a level (RecursionError out of the whole build)."""
    deep = "[" * 600 + '"https://example.org/i.jpg"' + "]" * 600
    page = (
        '<html><head><script type="application/ld+json">'
        f'{{"@type": "NewsArticle", "headline": "Deep", "image": {deep}}}'
        '</script><script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Shallow", "url": "https://example.org/s"}'
        "</script></head><body><p>x</p></body></html>"
    )
    items, notes = _parse_body(page, None)
    assert [item.title for item in items] == ["Shallow"]
    assert any("nested too deeply" in note for note in notes)


def test_a_page_nested_thousands_deep_is_refused_at_once() -> None:
    """Parsing n nested blocks costs n² (60,000 took 16 s): the source
    fails with a reason instead of holding a worker for minutes."""
    page = "<html><body>" + "<div>" * 60_000 + "<h2><a href='/a'>A</a></h2></body></html>"
    with pytest.raises(ParseError, match="nested more than 512 deep"):
        _parse_body(page, CARDS)
    # Unclosed paragraphs and list items do not nest: such a page is read.
    flat = "<html><body>" + "<p>para" * 3000 + "<li>item" * 3000
    flat += '<article class="card"><h2 class="card__title">Flat</h2>'
    flat += '<a class="card__link" href="/flat">x</a></article></body></html>'
    items, _notes = _parse_body(flat, CARDS)
    assert [item.title for item in items] == ["Flat"]


LEFT_OPEN = f"<html><body>{tags_left_open()}</body></html>"


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (LEFT_OPEN, "formatting tags left open when their block ended"),
        # 20,000 attributes on one tag (169 KB): 7 s, n² in both parsers.
        (
            "<html><body><article><p "
            + " ".join(f"a{n}=x" for n in range(20_000))
            + ">text</p></article></body></html>",
            "a tag with more than 1,000 attributes",
        ),
        # 39,000 options in one list: 10 s a parse.
        (
            "<html><body><select>" + "<option>o" * 39_000 + "</select></body></html>",
            "a list of more than 5,000 options",
        ),
    ],
)
def test_a_page_that_would_cost_minutes_or_gigabytes_is_refused_at_once(
    page: str, reason: str
) -> None:
    with pytest.raises(ParseError, match=reason):
        _parse_body(page, CARDS)


def test_a_page_declaring_more_items_than_an_answer_may_give_is_refused_as_it_is_read() -> None:
    """A JSON-LD list of a million empty entries (3 MB) took 17 s and 1.2 GB
    before anything counted them."""
    listed = ",".join(['""'] * 60_000)
    page = (
        '<html><head><script type="application/ld+json">'
        f'{{"@type": "ItemList", "itemListElement": [{listed}]}}'
        "</script></head><body><p>x</p></body></html>"
    )
    with pytest.raises(ParseError, match="50,001 items in one answer, over the 50,000"):
        _parse_body(page, None)


def test_item_blocks_that_all_read_one_long_paragraph_are_refused_as_they_are_read() -> None:
    """500 item blocks nested in each other, each taking the one 8 MB
    paragraph inside them all as its summary: 13 s and 3.9 GB."""
    selectors = Selectors(item="article", title="h2", summary="p")
    page = (
        "<html><body>"
        + "<article>" * 300
        + "<h2>Title</h2><p>"
        + "word " * 40_000
        + "</p>"
        + "</article>" * 300
        + "</body></html>"
    )
    with pytest.raises(ParseError, match="times the text of the answer"):
        _parse_body(page, selectors)


def test_pages_with_a_few_tags_left_open_or_long_values_are_read() -> None:
    # Five bold tags left open, then 20,000 paragraphs; a list of 3,000
    # options; an attribute whose value holds 20,000 words.
    sloppy = "<div>" + "".join(f'<b class="c{n}">' for n in range(5)) + "</div>"
    sloppy += "<p>a paragraph</p>" * 20_000
    options = "<select>" + "<option>o" * 3000 + "</select>"
    value = '<div data-props=\'{"t": "' + "word " * 20_000 + "\"}'>x</div>"
    for body in (sloppy, options, value):
        page = f"<html><body>{body}"
        page += '<article class="card"><h2 class="card__title">Kept</h2>'
        page += '<a class="card__link" href="/kept">x</a></article></body></html>'
        items, _notes = _parse_body(page, CARDS)
        assert [item.title for item in items] == ["Kept"]


def test_an_unreadable_base_or_link_costs_that_address_alone() -> None:
    """`<base href="http://[x/">`: urljoin raised ValueError for every
    address of the page, ending the build."""
    page = (
        '<html><head><base href="http://[bad/"><meta property="og:url" content="http://[x/">'
        '<script type="application/ld+json">'
        '{"@type": "NewsArticle", "headline": "Based", "url": "/based",'
        ' "image": "http://[bad/i.png"}</script></head><body><p>x</p></body></html>'
    )
    items, _notes = _parse_body(page, None)
    assert [(item.title, item.link, item.image) for item in items] == [
        ("Based", "https://example.org/based", "")
    ]


def test_declared_items_repeating_one_long_text_are_refused() -> None:
    """A thousand JSON-LD list items all pointing at one 1 MB description
    made a gigabyte of items and took 11 s to read, before cleaning."""
    description = "lorem ipsum " * 20_000
    graph = (
        '{"@graph": [{"@id": "#big", "@type": "Thing", "name": "t", "description": "'
        + description
        + '"}, {"@type": "ItemList", "itemListElement": ['
        + ", ".join(f'{{"url": "/a{n}", "item": {{"@id": "#big"}}}}' for n in range(200))
        + "]}]}"
    )
    body = f'<html><head><script type="application/ld+json">{graph}</script></head></html>'

    with pytest.raises(ParseError, match="over 8 times the text of the answer"):
        _parse_body(body, None)


def test_declared_items_of_a_page_holding_their_text_are_read() -> None:
    items = [
        f'{{"@type": "NewsArticle", "headline": "Story {n}", "url": "/s{n}", '
        f'"description": "{"word " * 2_000}"}}'
        for n in range(50)
    ]
    body = (
        '<html><head><script type="application/ld+json">['
        + ", ".join(items)
        + "]</script></head><body></body></html>"
    )

    found, _ = _parse_body(body, None)

    assert len(found) == 50


def test_cards_of_which_only_some_lack_a_title_or_link_are_read() -> None:
    # One card without its heading is the page's, not a broken selector.
    page = (
        "<html><body>"
        '<article class="card"><h2 class="card__title">Первая</h2>'
        '<a class="card__link" href="/1">читать</a></article>'
        '<article class="card"><p class="card__lead">Без заголовка</p></article>'
        "</body></html>"
    )
    items, notes = _parse_body(page, CARDS)
    assert [(item.title, item.link) for item in items] == [
        ("Первая", "https://example.org/1"),
        ("", ""),
    ]
    assert "item 2: title: selector 'h2.card__title' matched nothing" in notes


def test_a_title_selector_that_matches_in_no_card_is_a_parse_error() -> None:
    page = '<html><body><article class="card"><h3>Старая вёрстка</h3></article></body></html>'
    with pytest.raises(ParseError, match=r"title selector 'h2.card__title' found nothing in any"):
        _parse_body(page, CARDS)


TEASERS = Selectors(item="div.post", title="h2", link="a", date="time", rubrics=".tag")


def test_cards_of_one_story_leading_to_one_page_are_one_item_with_what_each_gives() -> None:
    # A home page as Tilda, Bitrix and WordPress themes lay them out: the
    # featured card, the list's card (with the date, and a tracking
    # parameter), and one more with the rubric. They were three items.
    title = "Фестиваль «Архстояние» объявил программу"
    page = (
        "<html><body>"
        f'<div class="post"><h2>{title}</h2><a href="/tpost/abc123-festival">читать</a></div>'
        f'<div class="post"><h2>{title}</h2>'
        '<a href="/tpost/abc123-festival?utm_source=list">далее</a>'
        '<time datetime="2026-11-25T10:00:00+03:00">25 ноября</time></div>'
        f'<div class="post"><h2>{title.upper()}</h2><span class="tag">Искусство</span>'
        '<a href="https://EXAMPLE.org/tpost/abc123-festival/">далее</a></div>'
        '<div class="post"><h2>Новая книга Сорокина</h2><a href="/tpost/def456-book">x</a></div>'
        "</body></html>"
    )
    items, notes = _parse_body(page, TEASERS)
    festival, book = items
    assert (festival.title, festival.link) == (title, "https://example.org/tpost/abc123-festival")
    # The date of the second card, the rubric of the third.
    assert festival.published == datetime(2026, 11, 25, 10, 0, tzinfo=MSK)
    assert festival.categories == ("Искусство",)
    assert book.title == "Новая книга Сорокина"
    assert [normalise_item(item, NOW).id for item in items] == [festival.link, book.link]
    assert "item 1: cards 1, 2, 3 of the page lead to one link: one story" in notes
    # A note on a card is numbered as the stories are, as preview lists them.
    assert "item 2: date: selector 'time' matched nothing" in notes
    assert not any(note.startswith(("item 3:", "item 4:")) for note in notes)


def test_entries_at_fragments_of_one_page_stay_stories_of_their_own() -> None:
    # A live blog: two entries may share a title. Joined, one was lost.
    page = (
        "<html><body>"
        '<div class="post"><h2>Заявление МИД</h2><a href="/live/2026-11-27#e3">#</a></div>'
        '<div class="post"><h2>Заявление МИД</h2><a href="/live/2026-11-27#e2">#</a></div>'
        '<div class="post"><h2>Срочно</h2><a href="/live/2026-11-27#e1">#</a></div>'
        "</body></html>"
    )
    items, _notes = _parse_body(page, TEASERS)
    assert [item.link.rsplit("#", 1)[1] for item in items] == ["e3", "e2", "e1"]


def test_cards_under_other_titles_leading_to_one_page_stay_stories_of_their_own() -> None:
    # A page of videos, or the subscription page, where many stories lead:
    # merged, they were one story, and the next new one at that page
    # updated it instead of being published.
    page = (
        "<html><body>"
        '<div class="post"><h2>Мэр открыл мост</h2><a href="/video/">видео</a></div>'
        '<div class="post"><h2>Пожар в порту</h2><a href="/video/">видео</a></div>'
        '<div class="post"><h2>Бюджет утёк</h2><a href="/subscribe?utm_source=x">подписка</a></div>'
        '<div class="post"><h2>Ремонт дорог</h2><a href="/subscribe">подписка</a></div>'
        "</body></html>"
    )
    items, notes = _parse_body(page, TEASERS)
    assert [item.title for item in items] == [
        "Мэр открыл мост",
        "Пожар в порту",
        "Бюджет утёк",
        "Ремонт дорог",
    ]
    assert not any("one story" in note for note in notes)


def test_microdata_cards_in_googles_article_markup_give_their_pages_and_times() -> None:
    # mainEntityOfPage as a nested item named by its itemid, and the time
    # for machines in `content` beside the word for people: both stories
    # had no link, and lost their times.
    card = (
        '<div itemscope itemtype="https://schema.org/NewsArticle">'
        '<meta itemscope itemprop="mainEntityOfPage" itemType="https://schema.org/WebPage"'
        ' itemid="https://example.org/news/{slug}"/>'
        '<h2 itemprop="headline">{title}</h2>'
        '<span itemprop="datePublished" content="{iso}">{shown}</span></div>'
    )
    page = "<html><body>{}{}</body></html>".format(
        card.format(slug="alpha", title="Альфа", iso="2026-11-25T18:30:00+03:00", shown="Вчера"),
        card.format(slug="beta", title="Бета", iso="2026-11-24T09:15:00+03:00", shown="24 ноября"),
    )
    items, _notes = _parse_body(page, None)
    assert [(i.title, i.link, i.published) for i in items] == [
        ("Альфа", "https://example.org/news/alpha", datetime(2026, 11, 25, 18, 30, tzinfo=MSK)),
        ("Бета", "https://example.org/news/beta", datetime(2026, 11, 24, 9, 15, tzinfo=MSK)),
    ]


def test_a_json_ld_article_named_only_by_its_id_gets_that_page() -> None:
    page = (
        '<html><head><script type="application/ld+json">'
        '{"@context": "https://schema.org", "@type": "ItemList", "itemListElement": ['
        '{"@type": "ListItem", "position": 1, "item": {"@type": "NewsArticle",'
        ' "@id": "/news/three/", "headline": "Третья"}},'
        '{"@type": "ListItem", "position": 2, "item": {"@type": "NewsArticle",'
        ' "@id": "https://example.org/news/four/", "headline": "Четвёртая"}}]}'
        "</script></head><body></body></html>"
    )
    items, _notes = _parse_body(page, None)
    assert [(i.title, i.link) for i in items] == [
        ("Третья", "https://example.org/news/three/"),
        ("Четвёртая", "https://example.org/news/four/"),
    ]


def test_stories_named_by_parts_of_a_page_are_not_taken_for_that_page() -> None:
    # "#item-1" on the list itself, or fragments of another page, name no
    # page of the story's own: taken for one, stories took one address and
    # became one story.
    page = (
        '<html><head><script type="application/ld+json">'
        '[{"@type": "NewsArticle", "@id": "#item-1", "headline": "Первая"},'
        ' {"@type": "NewsArticle", "@id": "https://example.org/news/?page=2#item-2",'
        ' "headline": "Вторая"},'
        ' {"@type": "NewsArticle", "@id": "https://example.org/#a3", "headline": "Третья"},'
        ' {"@type": "NewsArticle", "@id": "/news/four/#article", "headline": "Четвёртая"}]'
        "</script></head><body></body></html>"
    )
    items, _notes = _parse_body(page, None)
    assert [(i.title, i.link) for i in items] == [
        ("Первая", ""),
        ("Вторая", ""),
        ("Третья", ""),
        ("Четвёртая", ""),
    ]


@pytest.mark.parametrize(
    ("markup", "field", "expected"),
    [
        # An element's own value keeps its place over a content attribute.
        ('<a itemprop="url" href="/news/1" content="Читать далее">x</a>', "link", "/news/1"),
        ('<link itemprop="url" href="/news/2" content="news-2">', "link", "/news/2"),
        (
            '<time itemprop="datePublished" datetime="2026-11-25T10:15:00+03:00"'
            ' content="2026-11-25">25 ноября</time>',
            "published",
            "2026-11-25T10:15:00+03:00",
        ),
        # A day only, where the text shown gives the time too.
        (
            '<span itemprop="datePublished" content="2026-11-25">25 ноября 2026, 10:15</span>',
            "published",
            "2026-11-25T10:15:00+03:00",
        ),
        # What readers see, for a headline or an author.
        (
            '<span itemprop="author" content="a.petrova">Анна Петрова</span>',
            "author",
            "Анна Петрова",
        ),
    ],
)
def test_a_microdata_content_attribute_does_not_outrank_an_elements_own_value(
    markup: str, field: str, expected: str
) -> None:
    page = (
        '<html><body><div itemscope itemtype="https://schema.org/NewsArticle">'
        '<h2 itemprop="headline" content="Коротко">Полный заголовок</h2>'
        f"{markup}</div></body></html>"
    )
    (item,), _notes = _parse_body(page, None)
    assert item.title == "Полный заголовок"
    value = getattr(item, field)
    if field == "link":
        assert value == "https://example.org" + expected
    elif field == "published":
        assert value.isoformat() == expected
    else:
        assert value == expected


# ---------------------------------------------------------------- dates of numbers


def _numeric_dates(
    page_language: str, source_language: str = "", *, said: str = "lang"
) -> list[datetime | None]:
    """The dates of two cards of numbers on a page in `page_language`,
    `said` in its `lang`, `xml:lang`, a `meta` element or the header."""
    lang = f' {said}="{page_language}"' if page_language and "lang" in said else ""
    meta = (
        f'<meta http-equiv="Content-Language" content="{page_language}">' if said == "meta" else ""
    )
    headers = dict(UTF8)
    if said == "header":
        headers["content-language"] = page_language
    body = (
        f"<!doctype html><html{lang}><head>{meta}</head><body>"
        '<article class="card"><h2 class="card__title">One</h2>'
        '<a class="card__link" href="/1">x</a><span class="card__date">3/11/2026</span></article>'
        '<article class="card"><h2 class="card__title">Two</h2>'
        '<a class="card__link" href="/2">x</a>'
        '<span class="card__date">11/3/2026 2:30 PM</span></article>'
        "</body></html>"
    )
    url = "https://example.org/news/"
    fetched = Fetched(source="inline", url=url, body=body.encode(), headers=headers)
    source = Source(name="inline", type="html", url=url, language=source_language)
    items, _notes = parse_html(fetched, source, EN, CARDS)
    return [item.published for item in items]


def test_a_page_in_us_english_puts_the_month_first_in_dates_of_numbers() -> None:
    # "3/11/2026" on a US site is 11 March: read day first it was 3
    # November, and the story sank eight months down its feeds.
    assert _numeric_dates("en-US") == [
        datetime(2026, 3, 11, tzinfo=MSK),
        datetime(2026, 11, 3, 14, 30, tzinfo=MSK),
    ]


@pytest.mark.parametrize("said", ["xml:lang", "meta", "header"])
def test_a_page_that_says_its_language_otherwise_than_by_lang_is_read_so(said: str) -> None:
    assert _numeric_dates("en-US", said=said)[0] == datetime(2026, 3, 11, tzinfo=MSK)
    assert _numeric_dates("en-GB", said=said)[0] == datetime(2026, 11, 3, tzinfo=MSK)


def test_the_first_of_several_languages_a_page_says_it_is_in_decides() -> None:
    # "Content-Language: en-US, en-GB" names the audience; the first leads.
    assert _numeric_dates("en-US, en-GB", said="header")[0] == datetime(2026, 3, 11, tzinfo=MSK)
    assert _numeric_dates("en-GB, en-US", said="meta")[0] == datetime(2026, 11, 3, tzinfo=MSK)


@pytest.mark.parametrize(
    ("page_language", "source_language"),
    [("en-GB", ""), ("en", ""), ("", ""), ("ru-RU", ""), ("en-US", "en-GB")],
)
def test_other_pages_put_the_day_first_and_the_source_language_decides(
    page_language: str, source_language: str
) -> None:
    assert _numeric_dates(page_language, source_language) == [
        datetime(2026, 11, 3, tzinfo=MSK),
        datetime(2026, 3, 11, 14, 30, tzinfo=MSK),
    ]


def test_a_source_said_to_be_in_us_english_puts_the_month_first_whatever_the_page_says() -> None:
    assert _numeric_dates("en-GB", "en-US")[0] == datetime(2026, 3, 11, tzinfo=MSK)


def test_a_source_language_with_no_region_leaves_the_order_to_the_page() -> None:
    assert _numeric_dates("en-US", "en")[0] == datetime(2026, 3, 11, tzinfo=MSK)


def test_a_dotted_date_on_a_us_page_stays_day_first() -> None:
    # The United States writes no dotted dates; a page in en-US (many a
    # template's default) that does writes them day first.
    body = (
        '<!doctype html><html lang="en-US"><body>'
        '<article class="card"><h2 class="card__title">One</h2>'
        '<a class="card__link" href="/1">x</a><span class="card__date">11.03.2026</span></article>'
        "</body></html>"
    )
    (item,), _notes = _parse_body(body, CARDS, EN)
    assert item.published == datetime(2026, 3, 11, tzinfo=MSK)


def test_a_page_whose_lang_is_no_language_tag_reads_its_dates_day_first() -> None:
    assert _numeric_dates("en-US" + "-x" * 50_000)[0] == datetime(2026, 11, 3, tzinfo=MSK)


# ---------------------------------------------------------------- lists beside the page's own


def _json_ld_list(name: str, *stories: tuple[str, str]) -> str:
    elements = ", ".join(
        f'{{"@type": "ListItem", "position": {n}, "url": "https://example.org/news/{slug}/", '
        f'"name": "{title}"}}'
        for n, (slug, title) in enumerate(stories, 1)
    )
    named = f'"name": "{name}", ' if name else ""
    return (
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        f'"@type": "ItemList", {named}"itemListElement": [{elements}]}}</script>'
    )


def test_a_list_of_related_or_popular_stories_is_not_read_as_the_pages_own() -> None:
    # A section page declares its stories, and the site's most read ones
    # beside them: those came in as stories of the section.
    page = (
        "<html><head>"
        + _json_ld_list("", ("1", "Трамвай выйдет весной"), ("2", "Мост откроют в мае"))
        + _json_ld_list("Самое читаемое", ("9", "Гороскоп на неделю"))
        + _json_ld_list("You may also like", ("8", "Ten recipes"))
        + "</head><body></body></html>"
    )
    items, notes = _parse_body(page, None)
    assert [item.title for item in items] == ["Трамвай выйдет весной", "Мост откроют в мае"]
    assert "JSON-LD list 'Самое читаемое' skipped: related or popular stories" in "\n".join(notes)
    assert "JSON-LD list 'You may also like' skipped" in "\n".join(notes)


def test_a_pages_own_cards_leave_out_a_declared_list_of_popular_stories() -> None:
    page = (
        "<html><head>"
        + _json_ld_list("Популярное", ("9", "Гороскоп на неделю"))
        + "</head><body>"
        + '<div itemscope itemtype="https://schema.org/NewsArticle">'
        + '<a itemprop="url" href="/news/1/"><h3 itemprop="headline">Трамвай</h3></a></div>'
        + "</body></html>"
    )
    items, _notes = _parse_body(page, None)
    assert [item.title for item in items] == ["Трамвай"]


def test_a_page_of_popular_stories_alone_is_read() -> None:
    # The "Популярное" section itself: its list is its own.
    page = (
        "<html><head>"
        + _json_ld_list("Популярное", ("9", "Гороскоп на неделю"), ("7", "Погода"))
        + "</head><body></body></html>"
    )
    items, _notes = _parse_body(page, None)
    assert [item.title for item in items] == ["Гороскоп на неделю", "Погода"]


@pytest.mark.parametrize("name", ["Popular Science", "Самое главное за день", "Unrelated news"])
def test_a_list_whose_name_only_holds_such_a_word_is_the_pages_own(name: str) -> None:
    page = (
        "<html><head>"
        + _json_ld_list(name, ("1", "Трамвай выйдет весной"), ("2", "Мост откроют в мае"))
        + '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Главное", '
        '"url": "https://example.org/news/3/"}</script>' + "</head><body></body></html>"
    )
    items, _notes = _parse_body(page, None)
    assert len(items) == 3


def test_a_popular_list_whose_stories_the_page_shows_is_its_own() -> None:
    # The "Популярное" section: its list, and a card for one of them.
    page = (
        "<html><head>"
        + _json_ld_list("Популярное", ("1", "Гороскоп"), ("2", "Погода"))
        + "</head><body>"
        + '<div itemscope itemtype="https://schema.org/NewsArticle">'
        + '<a itemprop="url" href="/news/1/"><h3 itemprop="headline">Гороскоп</h3></a></div>'
        + "</body></html>"
    )
    items, _notes = _parse_body(page, None)
    assert [item.title for item in items] == ["Гороскоп", "Погода"]


def test_a_pages_main_entity_is_its_own_whatever_its_name() -> None:
    stories = ", ".join(
        f'{{"@type": "ListItem", "position": {n}, "url": "https://example.org/news/{n}/", '
        f'"name": "Story {n}"}}'
        for n in (1, 2)
    )
    page = (
        '<html><head><meta property="og:type" content="website">'
        '<script type="application/ld+json">{"@type": "CollectionPage", "mainEntity": '
        f'{{"@type": "ItemList", "name": "Popular", "itemListElement": [{stories}]}}}}</script>'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Other", '
        '"url": "https://example.org/news/9/"}</script>'
        "</head><body></body></html>"
    )
    items, _notes = _parse_body(page, None)
    assert [item.title for item in items] == ["Story 1", "Story 2", "Other"]


def test_a_servers_content_language_does_not_outweigh_the_pages_lang() -> None:
    # A Russian page (lang="ru") on a server that says en-US by default:
    # its lang has no region, and the site's language decides.
    body = (
        '<!doctype html><html lang="ru"><head>'
        '<meta http-equiv="Content-Language" content="en-US"></head><body>'
        '<article class="card"><h2 class="card__title">One</h2>'
        '<a class="card__link" href="/1">x</a><span class="card__date">3/11/2026</span></article>'
        "</body></html>"
    )
    url = "https://example.org/news/"
    headers = {**UTF8, "content-language": "en-US"}
    fetched = Fetched(source="inline", url=url, body=body.encode(), headers=headers)
    context = ParseContext(now=NOW, timezone="Europe/Moscow", language="ru-RU")
    (item,), _notes = parse_html(
        fetched, Source(name="inline", type="html", url=url), context, CARDS
    )
    assert item.published == datetime(2026, 11, 3, tzinfo=MSK)
