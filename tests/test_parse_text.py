"""The `text` source type on the seed page and on glue, date and id cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeds.classify import Vocabulary, classify_item
from feeds.errors import ParseError
from feeds.model import Fetched, Item, ParseContext, Rubric, Source
from feeds.normalise import normalise_item
from feeds.parse.text import parse
from feeds.store import Store, Upserted

from .conftest import SEED

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
RUBRICS = (
    Rubric(slug="literature", title="Литература"),
    Rubric(slug="art", title="Искусство"),
    Rubric(slug="society", title="Общество"),
    Rubric(slug="classical-music", title="Академическая музыка"),
    Rubric(slug="news", title="Новости", aliases=("news",)),
)
SERIES = ("Colta Specials", "Молодая Россия")
SOURCE = Source(name="colta", type="text", path=Path("colta.txt"), news_rubrics=("news",))


def context(now: datetime = NOW, language: str = "ru") -> ParseContext:
    return ParseContext(
        now=now,
        timezone="Europe/Moscow",
        rubric_names=tuple(name for rubric in RUBRICS for name in rubric.names),
        series_names=SERIES,
        language=language,
    )


def items_of(text: str | bytes, now: datetime = NOW, language: str = "ru") -> list[Item]:
    body = text.encode("utf-8") if isinstance(text, str) else text
    fetched = Fetched(source="colta", url="file:///colta.txt", body=body)
    vocabulary = Vocabulary.of(RUBRICS)
    return [
        classify_item(normalise_item(item), vocabulary, SOURCE.rubrics)
        for item in parse(fetched, SOURCE, context(now, language))
    ]


def read_into(store: Store, page: str, now: datetime) -> Upserted:
    """The page read at `now` and its items stored, as one run does."""
    with store.transaction():
        return store.upsert(items_of(page, now=now), now=now)


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK).astimezone(UTC)


# (title, published, rubrics, series, views) for the 14 items of the seed,
# in page order.
SEED_ITEMS = [
    ("Философ и художник: Яков Друскин и Михаил Шемякин", None, ("literature",), "", None),
    ("COLTA.RU заблокирована в России", msk(2022, 3, 11, 14, 52), ("news",), "", None),
    (
        "Из фонда V-A-C уходит художественный директор Франческо Манакорда",
        msk(2022, 3, 3, 14, 53),
        ("news",),
        "",
        None,
    ),
    ("Уволился замдиректора Пушкинского музея", msk(2022, 3, 3, 12, 33), ("news",), "", None),
    ("Принято решение о ликвидации «Эха Москвы»", msk(2022, 3, 3, 11, 29), ("news",), "", None),
    (
        "«Фабрика» предоставит площадку оставшимся без работы художникам и кураторам",
        msk(2022, 3, 2, 18, 26),
        ("news",),
        "",
        None,
    ),
    (
        "Госдума обсудит 15-летний срок за распространение фейков о военных действиях",
        msk(2022, 3, 2, 17, 23),
        ("news",),
        "",
        None,
    ),
    ("В Москве покажут «Лебединое озеро»", msk(2022, 3, 2, 15, 11), ("news",), "", None),
    ("Кузбасс будет писаться через Z", msk(2022, 3, 2, 12, 48), ("news",), "", None),
    (
        "В России начали блокировать сайты «Эха Москвы» и «Дождя»",
        msk(2022, 3, 1, 20, 55),
        ("news",),
        "",
        None,
    ),
    (
        "Поэтесса Наста Манцевич восстанавливает следы семейного и государственного насилия, "
        "пытаясь понять, как преодолеть общую немоту",
        msk(2022, 1, 20),
        ("literature",),
        "Colta Specials",
        12300,
    ),
    (
        "Рассказ Алексея Николаева о радикальном дополнении для обработки фотографий будущего",
        msk(2022, 1, 18),
        ("art",),
        "Молодая Россия",
        2764,
    ),
    (
        "Куратор Алиса Багдонайте об итогах международной конференции в Выксе, "
        "местном контексте и новой арт-резиденции",
        msk(2022, 1, 17),
        ("art", "literature", "society"),
        "",
        11806,
    ),
    (
        "Андрей Мирошниченко о недавнем медиаскандале, который иллюстрирует борьбу старых "
        "и новых медиа",
        msk(2022, 1, 13),
        ("art", "classical-music", "literature", "society"),
        "",
        15401,
    ),
]


def test_seed_page_gives_exactly_the_fourteen_items() -> None:
    items = items_of(SEED.read_bytes())
    got = [(i.title, i.published, i.rubrics, i.series, i.views) for i in items]
    assert got == SEED_ITEMS


def test_seed_cards_keep_their_lead_as_summary() -> None:
    cards = items_of(SEED.read_bytes())[10:]
    assert [card.summary for card in cards] == [title for title, *_ in SEED_ITEMS[10:]]


def test_seed_noise_never_becomes_an_item() -> None:
    text = " ".join(f"{i.title} {i.summary}" for i in items_of(SEED.read_bytes()))
    for noise in ("©", "Facebook", "Все новости", "Союз креативных кластеров", "Сегодня"):
        assert noise not in text


def test_seed_ids_are_unique_and_stable_across_reads() -> None:
    first = [item.id for item in items_of(SEED.read_bytes())]
    again = [item.id for item in items_of(SEED.read_bytes(), now=datetime(2026, 12, 1, tzinfo=UTC))]
    assert len(set(first)) == 14
    assert first == again


def test_new_headline_leaves_old_ids_unchanged() -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    at = lines.index("11 марта 2022") + 1
    grown = lines[:at] + ["16:05Новая новость о новом"] + lines[at:]
    before = {item.title: item.id for item in items_of("\n".join(lines))}
    after = {item.title: item.id for item in items_of("\n".join(grown))}
    assert len(after) == len(before) + 1
    for title, item_id in before.items():
        assert after[title] == item_id


def test_ids_do_not_depend_on_position_on_the_page() -> None:
    page = "1 марта 2022\n10:00Первая новость\n11:00Вторая новость\n"
    swapped = "1 марта 2022\n11:00Вторая новость\n10:00Первая новость\n"
    assert {i.id for i in items_of(page)} == {i.id for i in items_of(swapped)}


@pytest.mark.parametrize(
    ("line", "title", "rubrics", "series"),
    [
        ("ЛитератураФилософ и художник", "Философ и художник", ("literature",), ""),
        ("Colta SpecialsПоэтесса пишет", "Поэтесса пишет", (), "Colta Specials"),
        ("Молодая РоссияРассказ о будущем", "Рассказ о будущем", (), "Молодая Россия"),
        ("Академическая музыкаОркестр уехал", "Оркестр уехал", ("classical-music",), ""),
        ("ИскусствоColta SpecialsЭссе", "Эссе", ("art",), "Colta Specials"),
        ("Общество«Мемориал» в суде", "«Мемориал» в суде", ("society",), ""),
    ],
)
def test_glued_names_are_peeled_from_a_featured_headline(
    line: str, title: str, rubrics: tuple[str, ...], series: str
) -> None:
    (item,) = items_of(line)
    assert (item.title, item.rubrics, item.series) == (title, rubrics, series)


@pytest.mark.parametrize(
    "line",
    [
        "Обществознание возвращают в школы",  # a rubric name as the start of a word
        "Литература и жизнь: заметки",  # a rubric as the first word, not glued
        "Все новости",
        "© Фото: пресс-служба",
        # A name in capitals, or in camel case, that starts with a rubric's.
        "ИСКУССТВОВЕДЫ собрались в Перми",
        "НОВОСТИПРО запускает рассылку",
        "литератураМания: так называется клуб",
    ],
)
def test_lines_that_only_look_glued_are_noise(line: str) -> None:
    assert items_of(line) == []


@pytest.mark.parametrize(
    ("line", "hour", "minute", "title"),
    [
        ("14:52COLTA.RU заблокирована в России", 14, 52, "COLTA.RU заблокирована в России"),
        ("09:0530 лет спустя", 9, 5, "30 лет спустя"),
        ("23:59«Эха Москвы» больше нет", 23, 59, "«Эха Москвы» больше нет"),
        ("7:00V-A-C объявил конкурс", 7, 0, "V-A-C объявил конкурс"),
        ("14:52 Время отделено пробелом", 14, 52, "Время отделено пробелом"),
    ],
)
def test_time_glued_to_headline(line: str, hour: int, minute: int, title: str) -> None:
    (item,) = items_of(f"3 марта 2022\n{line}")
    assert item.title == title
    assert item.published == msk(2022, 3, 3, hour, minute)


@pytest.mark.parametrize(
    ("heading", "day"),
    [
        ("11 марта 2022", (2022, 3, 11)),
        ("1 января 2023", (2023, 1, 1)),
        ("22 ноября", (2026, 11, 22)),  # no year: the most recent past 22 November
        ("27 ноября", (2025, 11, 27)),  # tomorrow's date without a year is last year's
        ("Сегодня", (2026, 11, 26)),
        ("Вчера", (2026, 11, 25)),
        ("Сегодня, 26 ноября", (2026, 11, 26)),
        ("10 марта 2022 года", (2022, 3, 10)),
        ("10.03.2022", (2022, 3, 10)),
        ("March 10, 2022", (2022, 3, 10)),
    ],
)
def test_russian_date_headings(heading: str, day: tuple[int, int, int]) -> None:
    (item,) = items_of(f"{heading}\n10:15Заголовок новости")
    assert item.published == msk(*day, 10, 15)


def test_date_heading_applies_to_every_headline_below_it() -> None:
    items = items_of("2 марта 2022\n18:26Первая\n12:48Вторая\n1 марта 2022\n20:55Третья")
    assert [i.published for i in items] == [
        msk(2022, 3, 2, 18, 26),
        msk(2022, 3, 2, 12, 48),
        msk(2022, 3, 1, 20, 55),
    ]


def test_moscow_midnight_is_stored_as_the_previous_utc_evening() -> None:
    (card,) = items_of("Литература\nЛид статьи о книгах\n20 января 202212300")
    assert card.published == datetime(2022, 1, 19, 21, 0, tzinfo=UTC)
    assert card.views == 12300


@pytest.mark.parametrize(
    ("line", "year", "views"),
    [
        ("20 января 202212300", 2022, 12300),
        ("18 января 20222764", 2022, 2764),
        ("9 ноября 20265", 2026, 5),
        ("January 20, 202212300", 2022, 12300),
    ],
)
def test_year_glued_to_view_count(line: str, year: int, views: int) -> None:
    (card,) = items_of(f"Искусство\nЛид карточки\n{line}")
    assert card.published is not None
    assert card.published.astimezone(MSK).year == year
    assert card.views == views


@pytest.mark.parametrize(
    ("line", "views"),
    [
        ("17 ноября 2025 1200", 1200),
        ("17 ноября 2025\xa01200", 1200),
        ("17 ноября 2025 12 300", 12300),
        ("17 ноября 2025 1\u202f234\u202f567", 1234567),
    ],
)
def test_a_view_count_after_a_space_is_read_and_its_card_kept(line: str, views: int) -> None:
    # A copy of the page that keeps a space between the date and the view
    # count lost the whole card (and its story) where the layout glues them.
    first, second = items_of(
        f"Искусство\nКуратор об итогах конференции\n{line}\n"
        "Литература\nЛид второй статьи\n20 января 202212300"
    )
    assert (first.title, first.published, first.views, first.rubrics) == (
        "Куратор об итогах конференции",
        msk(2025, 11, 17),
        views,
        ("art",),
    )
    assert (second.title, second.views) == ("Лид второй статьи", 12300)


def test_rubric_lines_glued_together_all_go_to_the_card() -> None:
    (card,) = items_of("ЛитератураОбщество\nЛид статьи\n20 января 202212300")
    assert (card.title, card.rubrics) == ("Лид статьи", ("literature", "society"))


def test_a_rubric_in_capitals_glued_to_a_headline_is_still_peeled() -> None:
    (item,) = items_of("ИСКУССТВОКуратор о выставке")
    assert (item.title, item.rubrics) == ("Куратор о выставке", ("art",))


def test_a_card_without_a_view_count_keeps_its_date() -> None:
    card, featured, news = items_of(
        "Литература\nЛид без просмотров\n20 января 2022\n"
        # A featured headline, then a news list: its heading is no card date.
        "ИскусствоВыставка года\n11 марта 2022\n14:52Новость"
    )
    assert (card.title, card.published, card.views) == (
        "Лид без просмотров",
        msk(2022, 1, 20),
        None,
    )
    assert (featured.title, featured.published) == ("Выставка года", None)
    assert (news.title, news.published) == ("Новость", msk(2022, 3, 11, 14, 52))


def test_repeated_rubric_line_counts_once() -> None:
    (card,) = items_of("Искусство\nИскусство\nЛид\n18 января 20222764")
    assert card.rubrics == ("art",)
    assert card.categories == ("Искусство",)


@pytest.mark.parametrize(
    "labels",
    [
        "Академическая музыка\nТеатр\nОбщество",  # one not configured, among others
        "Академическая музыка\nОбщество\nТеатр",  # the last label before the lead
        "Академическая музыка\nТеатр\nКино и ТВ\nОбщество",  # two in a row
        "Академическая музыкаОбщество\nТеатр",  # after labels glued together
    ],
    ids=["among-others", "last", "two-in-a-row", "after-glued-labels"],
)
def test_a_label_no_rubric_is_named_after_is_a_category_of_its_card_not_a_story(
    labels: str,
) -> None:
    # "Театр" is no rubric here (the operator left it out, or has not added
    # it yet): it was a story of its own, titled "Театр", dated at the fetch
    # and tagged with the labels above it; the card lost those labels.
    page = f"{labels}\nДирижер о новом поколении оркестров\n16 ноября 202615020\n"
    (card,) = items_of(page)
    assert card.title == "Дирижер о новом поколении оркестров"
    assert card.rubrics == ("classical-music", "society")
    assert "Театр" in card.categories  # for `feeds rubrics` to list as matched by none
    assert (card.published, card.views) == (msk(2026, 11, 16), 15020)


def test_a_rubric_line_is_known_however_it_writes_its_letters() -> None:
    """A label printed "Все о кино" for the rubric "Всё о кино" (or with a
    soft hyphen) was no label: a card of its own, titled so."""
    names = ("Всё о кино", "Литература")
    bare = ParseContext(now=NOW, timezone="Europe/Moscow", rubric_names=names, language="ru")
    page = "Все о кино\nЛи\u00adтература\nЛид статьи\n20 января 202212300\n"
    fetched = Fetched(source="colta", url="file:///colta.txt", body=page.encode())
    (card,) = parse(fetched, SOURCE, bare)
    assert card.categories == ("Всё о кино", "Литература")


@pytest.mark.parametrize(
    "credit", ["© Архив / Facebook\nТекст новости.\n", ""], ids=["with-credit", "card-next"]
)
def test_a_short_featured_headline_under_a_rubric_line_is_still_a_story(credit: str) -> None:
    # A name of several capitalised words is a headline's, not a label's,
    # even with the next card's labels right under it.
    featured, card = items_of(
        f"Литература\nЯков Друскин\n{credit}Общество\nЛид статьи\n19 ноября 20264521"
    )
    assert (featured.title, featured.rubrics) == ("Яков Друскин", ("literature",))
    assert (card.title, card.rubrics, card.categories) == (
        "Лид статьи",
        ("society",),
        ("Общество",),
    )


def test_vocabulary_comes_from_the_context_not_the_code() -> None:
    fetched = Fetched(source="colta", url="file:///x", body="КиноРежиссер снял фильм".encode())
    bare = ParseContext(now=NOW, timezone="Europe/Moscow")
    assert parse(fetched, SOURCE, bare) == []
    taught = ParseContext(now=NOW, timezone="Europe/Moscow", rubric_names=("Кино",))
    (item,) = parse(fetched, SOURCE, taught)
    assert (item.title, item.categories) == ("Режиссер снял фильм", ("Кино",))


def test_long_lead_gives_a_title_cut_at_a_word_boundary() -> None:
    lead = "Очень " * 40 + "длинный лид"
    (card,) = items_of(f"Литература\n{lead}\n20 января 20221")
    assert card.title.endswith("…")
    assert len(card.title) <= 141
    assert lead.startswith(card.title[:-1])
    assert card.title[:-1] == card.title[:-1].rstrip()


@pytest.mark.parametrize("encoding", ["cp1251", "koi8-r"])
def test_a_page_in_a_russian_single_byte_encoding_is_decoded(encoding: str) -> None:
    (item,) = items_of("ЛитератураФилософ и художник".encode(encoding))
    assert item.title == "Философ и художник"


def test_a_utf8_page_its_server_calls_windows_1251_is_read_as_utf8() -> None:
    # A host moved to UTF-8 whose server still says windows-1251: every
    # title came out as mojibake, and the cards' dates were lost with them.
    page = "ЛитератураФилософ и художник\nЛитература\nНовая книга о Друскине\n20 января 202212300\n"
    fetched = Fetched(
        source="colta",
        url="https://colta.example/page",
        body=page.encode("utf-8"),
        headers={"content-type": "text/plain; charset=windows-1251"},
    )
    featured, card = parse(fetched, SOURCE, context())
    assert featured.title == "Философ и художник"
    assert (card.summary, card.views) == ("Новая книга о Друскине", 12300)


def test_a_windows_1251_page_its_server_names_is_still_read_so() -> None:
    fetched = Fetched(
        source="colta",
        url="https://colta.example/page",
        body="ЛитератураФилософ и художник".encode("cp1251"),
        headers={"content-type": "text/plain; charset=windows-1251"},
    )
    (item,) = parse(fetched, SOURCE, context())
    assert item.title == "Философ и художник"


@pytest.mark.parametrize("label", ["rot13", "undefined", "base64", "zlib", "punycode", "idna"])
def test_a_charset_that_names_no_text_encoding_is_ignored(label: str) -> None:
    """Python's codecs of another kind, named by a server: the page failed
    as a bug in feeds (LookupError, or UnicodeError for "undefined")."""
    fetched = Fetched(
        source="colta",
        url="https://colta.example/page",
        body="ЛитератураФилософ и художник".encode("cp1251"),
        headers={"content-type": f"text/plain; charset={label}"},
    )
    (item,) = parse(fetched, SOURCE, context())
    assert item.title == "Философ и художник"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            '<!DOCTYPE html>\n<html lang="ru"><body><h2>Новость</h2></body></html>',
            "not a page's text but an HTML page (type: html reads it)",
        ),
        (
            '\ufeff<?xml version="1.0"?>\n<!-- лента -->\n<rss version="2.0"><channel/></rss>',
            "not a page's text but an RSS or Atom feed (type: feed reads it)",
        ),
        (
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>Лента</title></feed>',
            "not a page's text but an RSS or Atom feed (type: feed reads it)",
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS'
            ' 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
            '<rss version="0.91"></rss>',
            "not a page's text but an RSS or Atom feed (type: feed reads it)",
        ),
        (
            '{"version": "https://jsonfeed.org/version/1.1", "title": "Лента", "items": []}',
            "not a page's text but a JSON Feed (type: feed reads it)",
        ),
    ],
    ids=["html", "rss", "atom", "rss-0.91", "json-feed"],
)
def test_a_page_or_feed_given_as_text_says_which_type_reads_it(body: str, detail: str) -> None:
    # Read as text, its markup made no item: "ok, 0 items" at every fetch,
    # and the wrong type was never noticed.
    with pytest.raises(ParseError) as caught:
        items_of(body)
    assert (caught.value.source, caught.value.detail) == ("colta", detail)


def test_a_dump_whose_first_line_quotes_markup_is_still_read() -> None:
    (item,) = items_of(
        "Лекция: <html> и <rss> для начинающих\nЛитература\nЛид\n20 января 202212300"
    )
    assert item.title == "Лид"


def test_binary_garbage_is_a_parse_error_naming_the_source() -> None:
    fetched = Fetched(source="colta", url="file:///x", body=b"\x00\x01\x02\xff" * 10)
    with pytest.raises(ParseError, match="source 'colta'"):
        parse(fetched, SOURCE, context())


def test_a_stray_nul_byte_costs_nothing_but_itself() -> None:
    """One NUL in a UTF-8 dump failed the whole page, as "not text in a
    known encoding"; a UTF-16 page (a NUL every other byte) still fails."""
    body = SEED.read_bytes()
    at = body.index(b"\n", len(body) // 2)
    items = items_of(body[:at] + b"\x00" + body[at:])
    assert [item.title for item in items] == [item.title for item in items_of(body)]
    with pytest.raises(ParseError, match="not text in a known encoding"):
        parse(
            Fetched(source="colta", url="file:///x", body=body.decode().encode("utf-16-le")),
            SOURCE,
            context(),
        )


def test_a_utf8_dump_cut_inside_a_letter_is_still_read_as_utf8() -> None:
    # A dump cut short (a download or a size limit) ends inside a two-byte
    # letter: the page is still UTF-8, not windows-1251 nor a parse error.
    body = SEED.read_bytes()
    cut = body[: body.rindex("медиа".encode())] + "ме".encode()[:-1]
    items = items_of(cut)
    assert [item.title for item in items[:13]] == [title for title, *_ in SEED_ITEMS[:13]]
    assert "\ufffd" not in "".join(item.title + item.summary for item in items)


def test_one_stray_byte_does_not_turn_a_utf8_dump_into_mojibake() -> None:
    body = "Литература\nColta SpecialsПоэтесса «Наста» о немоте\n20 января 202212300\n".encode()
    body = body.replace("«".encode(), b"\xab", 1)  # one windows-1251 quote pasted in
    (card,) = items_of(body)
    assert (card.series, card.views) == ("Colta Specials", 12300)
    assert card.title.startswith("Поэтесса ") and card.title.endswith("Наста» о немоте")


@pytest.mark.parametrize(
    "cut",
    ["13 января 202215401", "13 января 20221", "13 января 20", "13 янв", "", "LEAD"],
    ids=["whole", "views-cut", "year-cut", "month-cut", "no-date-line", "lead-cut"],
)
def test_a_dump_cut_inside_its_last_card_does_not_invent_an_item(cut: str) -> None:
    # The dump ends inside its last card: the card is not complete yet. It
    # must not become a story dated at the fetch (heading the feed), which
    # the next, whole dump would repeat under another id.
    lines = SEED.read_text(encoding="utf-8").rstrip("\n").split("\n")
    head = lines[:-1] if cut != "LEAD" else [*lines[:-2], lines[-2][:30]]
    items = items_of("\n".join([*head, cut] if cut not in ("", "LEAD") else head))
    whole = {item.id for item in items_of("\n".join(lines))}
    assert {item.id for item in items} <= whole
    assert len(items) == (14 if cut.startswith("13 января 2022") else 13)


def test_a_featured_headline_before_a_last_timed_headline_is_kept() -> None:
    featured, news = items_of("Литература\nВыставка года\nСегодня\n10:00Последняя новость")
    assert (featured.title, news.title) == ("Выставка года", "Последняя новость")
    featured, news = items_of("Литература\nВыставка года\n10:00Последняя новость")
    assert (featured.title, news.title) == ("Выставка года", "Последняя новость")


@pytest.mark.parametrize(
    "heading",
    ["10 марта 2022, четверг", "Четверг, 10 марта 2022", "2022-03-10", "10/03/2022", "10.03.22"],
)
def test_a_heading_in_another_common_form_starts_its_day(heading: str) -> None:
    # Unrecognised, such a heading left the headlines under it with the
    # previous heading's day: wrong dates, and ids derived from them.
    first, second = items_of(f"11 марта 2022\n09:00Первая\n{heading}\n10:15Вторая")
    assert first.published == msk(2022, 3, 11, 9, 0)
    assert second.published == msk(2022, 3, 10, 10, 15)


@pytest.mark.parametrize("heading", ["Май", "May", "Ноябрь", "Понедельник"])
def test_a_heading_that_names_no_day_gives_no_day(heading: str) -> None:
    # A month alone was read as today's day of that month: 26 May on the
    # 26th, 27 May the next day, so the headline under it came back as a
    # new story every day. It now reads as a headline with no day above
    # it; a weekday still names its day.
    days = (msk(2026, 11, 26, 12, 0), msk(2026, 11, 27, 12, 0))
    read = [items_of(f"{heading}\n10:15Новость под заголовком", now=now) for now in days]
    assert [item.title for items in read for item in items] == ["Новость под заголовком"] * 2
    first, second = (items[0] for items in read)
    assert first.id == second.id
    if heading == "Понедельник":
        assert first.published == second.published == msk(2026, 11, 23, 10, 15)
    else:
        assert (first.published, second.published) == (
            msk(2026, 11, 26, 10, 15),
            msk(2026, 11, 27, 10, 15),
        )


def test_a_card_dated_without_a_year_is_a_card_of_the_latest_such_day() -> None:
    # A page of this year's cards prints no year: "20 ноября" is the last
    # 20 November up to the fetch, not a news-list heading.
    (card, _next) = items_of(
        "Литература\nПоэтесса о немоте и насилии. Второе предложение\n20 ноября\n"
        "Общество\nДругая статья\n19 ноября 2026\n"
    )
    assert card.title == "Поэтесса о немоте и насилии."
    assert card.published == msk(2026, 11, 20)
    assert card.rubrics == ("literature",)
    # Followed by timed headlines, such a line still heads a news list.
    featured, news = items_of("Литература\nВыставка года\n20 ноября\n10:00Новость дня")
    assert featured.title == "Выставка года" and news.published == msk(2026, 11, 20, 10, 0)


@pytest.mark.parametrize("footer", ["18+", "2007–2022 © COLTA.RU", "16+ Все права защищены"])
def test_a_featured_headline_before_a_footer_line_starting_with_a_digit_is_kept(
    footer: str,
) -> None:
    # A whole page whose last line (an age mark, the years of a copyright)
    # starts with a digit: the headline before it is a story, and every
    # later dump ends the same way.
    (item,) = items_of(f"Литература\nВыставка года\n{footer}")
    assert (item.title, item.rubrics) == ("Выставка года", ("literature",))


# A news list whose newest headlines sit above its first date heading: the
# page prints their time of day, and no day.
UNDATED_ON_TOP = (
    "16:40Фонд объявил шорт-лист премии\n"
    "08:05Библиотека продлит работу читального зала\n"
    "25 ноября 2026\n"
    "13:05Киношкола откроется в Казани\n"
)


def test_a_headline_with_no_date_heading_keeps_its_id_from_day_to_day() -> None:
    # Fetched at noon in Moscow on three days running: the same page, the
    # same stories, so the same ids. (Its id came from the fetch's day, and
    # it came back as a new story every day it stayed on the page.)
    days = [msk(2026, 11, day, 12, 0) for day in (26, 27, 28)]
    ids = [[item.id for item in items_of(UNDATED_ON_TOP, now=now)] for now in days]
    assert len(set(ids[0])) == 3
    assert ids[0] == ids[1] == ids[2]


def test_undated_headlines_stay_apart_from_each_other_and_from_dated_ones() -> None:
    # A different title, or the same title at another time, is another story.
    page = "10:00Первая новость\n11:00Вторая новость\n12:00Первая новость\n"
    for now in (msk(2026, 11, 26, 13, 0), msk(2026, 11, 27, 13, 0)):
        items = items_of(page, now=now)
        assert len({item.id for item in items}) == 3
        # A dated headline with the title of an undated one is not that one,
        # nor is a featured headline of that title.
        dated = items_of("25 ноября 2026\n10:00Первая новость", now=now)
        featured = items_of("ЛитератураПервая новость", now=now)
        assert dated[0].id != items[0].id != featured[0].id


def test_an_undated_headline_is_dated_at_the_latest_such_time_up_to_the_fetch() -> None:
    # At noon, 16:40 has not come yet today: the headline is yesterday's,
    # not one dated hours ahead; 08:05 is this morning's.
    late, early, dated = items_of(UNDATED_ON_TOP, now=msk(2026, 11, 26, 12, 0))
    assert late.published == msk(2026, 11, 25, 16, 40)
    assert early.published == msk(2026, 11, 26, 8, 5)
    assert dated.published == msk(2026, 11, 25, 13, 5)
    # Read a minute after its time, it is today's.
    (late, *_rest) = items_of(UNDATED_ON_TOP, now=msk(2026, 11, 26, 16, 41))
    assert late.published == msk(2026, 11, 26, 16, 40)


def test_an_undated_headline_is_one_story_in_the_store_day_after_day(tmp_path: Path) -> None:
    # The stored story keeps the date it was first given, and is neither a
    # new story nor an update when read again on a later day.
    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        for day in (26, 27, 28):
            now = msk(2026, 11, day, 17, 0)
            result = read_into(store, UNDATED_ON_TOP, now)
            assert (result.new, result.updated) == ((3, 0) if day == 26 else (0, 0))
        stored = {item.title: item for item in store.latest()}
    assert len(stored) == 3
    first = stored["Фонд объявил шорт-лист премии"]
    assert (first.published, first.updated) == (msk(2026, 11, 26, 16, 40), None)


def test_an_undated_headline_shown_later_under_its_date_heading_stays_one_story(
    tmp_path: Path,
) -> None:
    # Read undated on the evening it appeared and again the next morning;
    # then the site puts it under its date heading: one story throughout.
    undated = "16:40Фонд объявил шорт-лист премии\n"
    headed = "09:00Новость следующего дня\n26 ноября 2026\n16:40Фонд объявил шорт-лист премии\n"
    reads = [
        (undated, msk(2026, 11, 26, 17, 0), 1),
        (undated, msk(2026, 11, 27, 8, 0), 0),
        (headed, msk(2026, 11, 27, 10, 0), 1),
    ]
    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        for page, now, new in reads:
            result = read_into(store, page, now)
            assert (result.new, result.updated) == (new, 0)
        stored = {item.title: item for item in store.latest()}
    assert len(stored) == 2
    story = stored["Фонд объявил шорт-лист премии"]
    assert (story.published, story.updated) == (msk(2026, 11, 26, 16, 40), None)


def test_a_daily_headline_with_no_date_heading_is_a_new_story_each_day(
    tmp_path: Path,
) -> None:
    # A bulletin printed every morning at 09:00 under the same title, the
    # newest above the first date heading. The next day the page shows
    # today's at the top and yesterday's under its heading: two stories,
    # one for each day, not yesterday's twice and today's lost.
    first = "09:00Курс валют на сегодня\n25 ноября 2026\n18:00Другая новость\n"
    second = (
        "09:00Курс валют на сегодня\n26 ноября 2026\n"
        "09:00Курс валют на сегодня\n18:00Ещё одна новость\n"
    )
    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        for page, now in ((first, msk(2026, 11, 26, 10, 0)), (second, msk(2026, 11, 27, 10, 0))):
            read_into(store, page, now)
        # The second page read again at noon changes nothing.
        again = read_into(store, second, msk(2026, 11, 27, 12, 0))
        bulletins = [i.published for i in store.latest() if i.title == "Курс валют на сегодня"]
    assert bulletins == [msk(2026, 11, 27, 9, 0), msk(2026, 11, 26, 9, 0)]
    assert (again.new, again.updated) == (0, 0)


def test_an_undated_headline_on_a_clock_change_day_is_never_ahead_nor_a_day_behind() -> None:
    # London's clocks: 01:00 GMT became 02:00 BST on 29 March 2026, and
    # 02:00 BST went back to 01:00 GMT on 25 October 2026. A headline's
    # time is compared with the fetch's as moments, not as clock faces.
    def undated(page: str, now: datetime) -> datetime | None:
        fetched = Fetched(source="colta", url="file:///colta.txt", body=page.encode())
        at = ParseContext(now=now, timezone="Europe/London", language="en")
        (item,) = [normalise_item(i) for i in parse(fetched, SOURCE, at)]
        return item.published

    # At 02:10 BST, a headline printed 01:30 (a time the clocks skipped,
    # read as 01:30 GMT, twenty minutes on) is not dated ahead of the fetch.
    spring = datetime(2026, 3, 29, 1, 10, tzinfo=UTC)
    assert undated("01:30Clocks go forward\n", spring) == datetime(2026, 3, 28, 1, 30, tzinfo=UTC)
    # At 01:10 GMT, after the clocks went back, 01:30 BST was forty minutes
    # ago: today's, the date the next day's page prints under its heading.
    autumn = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    headed = "25 October 2026\n01:30Clocks go back\n"
    assert undated("01:30Clocks go back\n", autumn) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert undated(headed, autumn + timedelta(days=1)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


EVENING_PAGE = (
    "Сегодня\n22:30Вечерняя новость\n19:10Ранняя новость\n26 ноября 2026\n18:00Старая новость\n"
)
MORNING_PAGE = (
    "Сегодня\n08:00Утренняя новость\nВчера\n22:30Вечерняя новость\n19:10Ранняя новость\n"
    "26 ноября 2026\n18:00Старая новость\n"
)


def test_a_page_saved_before_midnight_and_read_after_it_dates_its_today_the_day_before() -> None:
    # Saved on the evening of 27 November, read at 00:30 in Moscow: its
    # "Сегодня" is the 27th, and none of its stories is ahead of the fetch.
    after_midnight = msk(2026, 11, 28, 0, 30)
    dated = {item.title: item.published for item in items_of(EVENING_PAGE, now=after_midnight)}
    assert dated == {
        "Вечерняя новость": msk(2026, 11, 27, 22, 30),
        "Ранняя новость": msk(2026, 11, 27, 19, 10),
        "Старая новость": msk(2026, 11, 26, 18, 0),
    }
    # "Вчера" on such a page is the day before its today.
    page = "Сегодня\n23:40Поздняя\n20:00Вечерняя\nВчера\n10:00Вчерашняя\n"
    dated = {item.title: item.published for item in items_of(page, now=after_midnight)}
    assert dated == {
        "Поздняя": msk(2026, 11, 27, 23, 40),
        "Вечерняя": msk(2026, 11, 27, 20, 0),
        "Вчерашняя": msk(2026, 11, 26, 10, 0),
    }


def test_a_page_read_across_midnight_and_again_next_morning_is_the_same_stories(
    tmp_path: Path,
) -> None:
    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        first = read_into(store, EVENING_PAGE, now=msk(2026, 11, 28, 0, 30))
        second = read_into(store, MORNING_PAGE, now=msk(2026, 11, 28, 9, 0))
        assert (first.new, second.new, second.updated) == (3, 1, 0)
        assert store.count() == 4


def test_a_page_read_the_same_evening_keeps_its_today() -> None:
    # Two hours ahead of the fetch is within a site's clock being off: today.
    dated = {
        item.title: item.published for item in items_of(EVENING_PAGE, now=msk(2026, 11, 27, 20, 31))
    }
    assert dated["Вечерняя новость"] == msk(2026, 11, 27, 22, 30)
    assert dated["Старая новость"] == msk(2026, 11, 26, 18, 0)


def test_one_headline_ahead_under_today_does_not_move_the_page_a_day_back() -> None:
    # An evening broadcast announced in the morning: the page is today's.
    # Taken for a page of the day before, every story on it was dated a
    # day early, and published again under new ids once read in the evening.
    page = (
        "Сегодня\n23:00Трансляция: концерт в прямом эфире\n11:40Утренняя новость\n"
        "09:15Ранняя новость\nВчера\n18:00Вчерашняя\n"
    )
    for now in (msk(2026, 11, 27, 12, 0), msk(2026, 11, 27, 20, 30)):
        dated = {item.title: item.published for item in items_of(page, now=now)}
        assert dated["Утренняя новость"] == msk(2026, 11, 27, 11, 40)
        assert dated["Вчерашняя"] == msk(2026, 11, 26, 18, 0)


def test_a_busy_page_saved_before_midnight_is_moved_though_it_lists_early_morning_news() -> None:
    # Saved at 23:50, read at 00:20: the 01:15 headline (of the day before)
    # is less than three hours ahead, and the page was read as the fetch's
    # day, its stories up to 23 h ahead.
    page = "Сегодня\n23:40Поздняя\n21:00Вечерняя\n15:00Дневная\n09:00Утренняя\n01:15Ночная\n"
    dated = {item.title: item.published for item in items_of(page, now=msk(2026, 11, 28, 0, 20))}
    assert dated["Поздняя"] == msk(2026, 11, 27, 23, 40)
    assert dated["Ночная"] == msk(2026, 11, 27, 1, 15)


def test_one_announcement_alone_under_today_does_not_move_the_page() -> None:
    # Read early in the morning: the evening broadcast is the only headline
    # of the day yet. Moved a day back, "Вчера" went back with it, and the
    # stories came again under new ids once the morning news came.
    page = "Сегодня\n19:00Анонс: вечерний эфир\nВчера\n22:10Вчерашняя вечерняя\n18:00Вчерашняя\n"
    dated = {item.title: item.published for item in items_of(page, now=msk(2026, 11, 28, 4, 37))}
    assert dated["Вчерашняя вечерняя"] == msk(2026, 11, 27, 22, 10)
    assert dated["Анонс: вечерний эфир"] == msk(2026, 11, 28, 19, 0)


def test_a_weekday_heading_on_a_page_saved_before_midnight_is_not_moved() -> None:
    # 27 November 2026 is a Friday; a page saved that evening, read after
    # midnight: "Сегодня" moves to the 27th, "Пятница" names the 27th.
    page = "Сегодня\n23:40Поздняя\n20:00Вечерняя\nПятница\n10:00Пятничная\n"
    dated = {item.title: item.published for item in items_of(page, now=msk(2026, 11, 28, 0, 30))}
    assert dated == {
        "Поздняя": msk(2026, 11, 27, 23, 40),
        "Вечерняя": msk(2026, 11, 27, 20, 0),
        "Пятничная": msk(2026, 11, 27, 10, 0),
    }


def test_times_on_the_12_hour_clock_glued_to_headlines() -> None:
    page = (
        "26 ноября 2026\n2:52 PMCOLTA.RU blocked in Russia\n11:30 a.m.Museum reopens\n"
        "12:05 AMMidnight show\n"
    )
    assert [(item.title, item.published) for item in items_of(page, language="en")] == [
        ("COLTA.RU blocked in Russia", msk(2026, 11, 26, 14, 52)),
        ("Museum reopens", msk(2026, 11, 26, 11, 30)),
        ("Midnight show", msk(2026, 11, 26, 0, 5)),
    ]


@pytest.mark.parametrize(
    "page",
    [
        "26 ноября 2026\n10:00 PMI в еврозоне вырос\n09:15 Утренняя новость\n",
        "26 ноября 2026\n9:30 AMD представила процессор\n",
        "26 ноября 2026\n14:52AMD shares fall\n11:15 P.M.A. объявила сбор\n",
        # Every time so, on a Russian page: still the headlines' capitals.
        "26 ноября 2026\n10:30 PMI Германии вырос\n11:00 PMI еврозоны упал\n",
    ],
)
def test_capitals_after_a_time_on_a_24_hour_page_are_the_headlines(page: str) -> None:
    # Read as PM or AM, "PMI" lost its first letters and its time moved
    # twelve hours: only an English page whose every time has AM or PM is
    # read so.
    titles = {item.title: item.published for item in items_of(page)}
    expected = {
        "PMI Германии вырос": msk(2026, 11, 26, 10, 30),
        "PMI еврозоны упал": msk(2026, 11, 26, 11, 0),
        "PMI в еврозоне вырос": msk(2026, 11, 26, 10, 0),
        "AMD представила процессор": msk(2026, 11, 26, 9, 30),
        "AMD shares fall": msk(2026, 11, 26, 14, 52),
        "P.M.A. объявила сбор": msk(2026, 11, 26, 11, 15),
    }
    for title, published in titles.items():
        if title in expected:
            assert published == expected[title]
    assert set(titles) & set(expected)
    assert all(title in expected or title == "Утренняя новость" for title in titles)


def test_an_english_heading_with_its_weekday_first_dates_the_headlines_under_it() -> None:
    (item,) = items_of("Friday, March 4, 2022\n14:53Director leaves V-A-C\n")
    assert item.published == msk(2022, 3, 4, 14, 53)


def test_a_card_with_no_lead_takes_its_rubric_with_it() -> None:
    # A picture's card: its rubric and its date line, no lead. The next
    # card was filed under that rubric too.
    page = (
        "Общество\n18 ноября 2026300\n"
        "Искусство\nКуратор открыл новую выставку. Совсем новую.\n16 ноября 2026100\n"
    )
    (card,) = items_of(page)
    assert (card.rubrics, card.views) == (("art",), 100)


def test_a_card_with_neither_rubric_nor_view_count_is_still_a_card() -> None:
    # Its date line was taken for a news list's heading, and the card lost.
    page = (
        "Литература\nКарточка с рубрикой. Второе предложение.\n20 ноября 2026\n"
        "Карточка без рубрики и без просмотров. Второе.\n19 ноября 2026\n"
        "Еще одна карточка без рубрики с просмотрами\n18 ноября 2026700\n"
    )
    assert [(item.title, item.published) for item in items_of(page)] == [
        ("Карточка с рубрикой.", msk(2026, 11, 20)),
        ("Карточка без рубрики и без просмотров.", msk(2026, 11, 19)),
        ("Еще одна карточка без рубрики с просмотрами", msk(2026, 11, 18)),
    ]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_dump_with_its_byte_order_mark_is_read(codec: str) -> None:
    # As Notepad and PowerShell save text; it was refused as not text.
    body = SEED.read_text(encoding="utf-8")
    encoded = body.encode(codec)
    if codec != "utf-16":  # the plain codec writes its own mark
        encoded = "\ufeff".encode(codec) + encoded
    assert [item.title for item in items_of(encoded)] == [item.title for item in items_of(body)]


def test_a_dateline_with_the_month_first_is_no_day_heading() -> None:
    # Only a weekday puts the month first in a heading ("Friday, March 4").
    (item,) = items_of("Москва, Май 9\n10:00Новость дня\n")
    assert item.published is not None and item.published.month == 11


@pytest.mark.parametrize(("language", "day"), [("en-US", (3, 11)), ("en", (11, 3))])
def test_a_day_heading_of_numbers_is_read_month_first_for_a_us_source(
    language: str, day: tuple[int, int]
) -> None:
    page = "News\n3/11/2026\n10:00Council approves the budget\n"
    ((title, published),) = [(i.title, i.published) for i in items_of(page, language=language)]
    assert (title, published) == ("Council approves the budget", msk(2026, *day, 10, 0))
