"""Rubrics from categories, source rubrics and rules; source filters;
per-rubric options as an operator writes them in config.yaml."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from feeds.classify import Vocabulary, classify_item, keep_item, matches
from feeds.config import parse_config
from feeds.errors import ConfigError
from feeds.model import Item, Match, Rubric, Rule
from feeds.normalise import normalise_item

from .conftest import BASE_CONFIG, Server, run_cli, write_config

RUBRICS = (
    Rubric(slug="cinema", title="Кино", aliases=("film", "Все о кино")),
    Rubric(slug="theatre", title="Театр"),
    Rubric(slug="design", title="Дизайн"),
    Rubric(slug="art", title="Искусство", aliases=("art",)),
)


def item(**fields: object) -> Item:
    base: dict[str, object] = {"source": "s", "title": "Заголовок", "link": "https://x.example/a"}
    base.update(fields)
    return normalise_item(Item(**base))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        (("КИНО",), ("cinema",)),
        (("  film ",), ("cinema",)),
        (("art", "Театр", "art"), ("art", "theatre")),
        (("Мода",), ()),
        # Spelled as the reader sees it, written otherwise: "й" as "и" and a
        # combining breve (text copied from macOS), a soft hyphen, a
        # zero-width space, "ё" for "е" and back.
        (("Дизаи\u0306н",), ("design",)),
        (("Ки\u00adно",), ("cinema",)),
        (("Кино\u200b",), ("cinema",)),
        (("Всё о кино",), ("cinema",)),
        (("ВСЕ О КИНО",), ("cinema",)),
        (("Кино и театр",), ()),
        # Written in a CDATA section, where references stay as written.
        (("Ки&#1085;о",), ("cinema",)),
        (("Теа&shy;тр &amp; кино",), ()),
        (("Теа&shy;тр",), ("theatre",)),
        # Nested, as CMSs print a category under its parent: the most
        # specific level that is a rubric.
        (("Искусство / Кино",), ("cinema",)),
        (("Arts > Film",), ("cinema",)),
        (("Новости » Театр",), ("theatre",)),
        (("Искусство / Интервью",), ("art",)),
        (("Искусство/Дизайн",), ("art", "design")),
        (("Мода / Интервью",), ()),
        (("/ Кино /",), ("cinema",)),
        (("Мода → Кино",), ("cinema",)),
        (("Art | Кино",), ("cinema",)),
        # A slash with no space around it joins names as often as it
        # separates levels: a level only when every part is a rubric.
        (("Театр/Мода",), ()),
        (("Мода/Театр",), ()),
        (("AC/DC",), ()),
        (("Театр\\Кино",), ("cinema", "theatre")),
        (("Театр|Кино|Театр",), ("cinema", "theatre")),
    ],
)
def test_categories_map_through_titles_slugs_and_aliases(
    categories: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    got = classify_item(item(categories=categories), Vocabulary.of(RUBRICS), ())
    assert got.rubrics == expected


@pytest.mark.parametrize(
    ("match", "fields", "hit"),
    [
        (Match(keywords=("кино",)), {"title": "Новое КИНО в Москве"}, True),
        (Match(keywords=("art",)), {"title": "A party for everyone"}, False),
        (Match(keywords=("art",)), {"title": "Modern Art, again"}, True),
        (Match(pattern=r"(?i)спектакл"), {"summary": "<p>Новый <b>спектакль</b></p>"}, True),
        (Match(pattern="спектакл", fields=("title",)), {"summary": "<p>спектакль</p>"}, False),
        (
            Match(keywords=("cinema",), fields=("link",)),
            {"link": "https://x.example/cinema/1"},
            True,
        ),
        (
            Match(keywords=("cinema",), fields=("link",)),
            {"link": "https://cinema.example/1"},
            False,
        ),
        (Match(keywords=("мода",), fields=("category",)), {"categories": ("Мода",)}, True),
        (Match(keywords=("rock & roll",)), {"summary": "<p>rock &amp; roll</p>"}, True),
        # A phrase as HTML writes it: split by a tag or a line break, or
        # spaced with a no-break space after a short word.
        (
            Match(keywords=("фестиваль в Каннах",)),
            {"summary": '<p>фестиваль в <a href="https://x.example/c">Каннах</a></p>'},
            True,
        ),
        (Match(keywords=("фестиваль в Каннах",)), {"summary": "фестиваль в&nbsp;Каннах"}, True),
        (Match(keywords=("фестиваль в Каннах",)), {"summary": "фестиваль в\nКаннах"}, True),
        (Match(keywords=("фестиваль в Каннах",)), {"summary": "фестиваль в Канне"}, False),
        # A path as a browser shows it, however the link encodes it.
        (
            Match(keywords=("кино",), fields=("link",)),
            {"link": "https://x.example/%D0%BA%D0%B8%D0%BD%D0%BE/1"},
            True,
        ),
        # ... and a rule written as the link encodes it still matches.
        (
            Match(pattern="/%D0%BA%D0%B8%D0%BD%D0%BE/", fields=("link",)),
            {"link": "https://x.example/%D0%BA%D0%B8%D0%BD%D0%BE/1"},
            True,
        ),
    ],
)
def test_matches_looks_in_the_chosen_fields(
    match: Match, fields: dict[str, object], hit: bool
) -> None:
    assert matches(match, item(**fields)) is hit


def test_rules_add_rubrics_by_content() -> None:
    vocabulary = Vocabulary.of(
        RUBRICS,
        (
            Rule(rubric="theatre", match=Match(pattern=r"(?i)\bспектакл")),
            Rule(rubric="cinema", match=Match(keywords=("фильм",))),
        ),
    )
    got = classify_item(item(title="Спектакль и фильм"), vocabulary, ("art",))
    assert got.rubrics == ("art", "cinema", "theatre")


def test_filters_drop_and_keep() -> None:
    advert = Match(pattern="^Реклама", fields=("title",))
    assert not keep_item(item(title="Реклама: скидки"), (), (advert,))
    assert keep_item(item(title="Новости дня"), (), (advert,))
    only_cinema = Match(keywords=("кино",))
    assert keep_item(item(title="Кино недели"), (only_cinema,), ())
    assert not keep_item(item(title="Театр недели"), (only_cinema,), ())


def _config(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return parse_config(text, tmp_path / "config.yaml")


def test_config_reads_rules_filters_and_rubric_options(tmp_path: Path) -> None:
    config = _config(
        BASE_CONFIG.replace(
            "  - slug: art\n    title: Искусство\n",
            "  - slug: art\n    title: Искусство\n    max_items: 5\n    formats: [atom]\n",
        )
        + "rules:\n  - rubric: art\n    keywords: [выставка, exhibition]\n"
        + "sources:\n  - name: a\n    type: feed\n    path: a.xml\n    language: en\n"
        + "    exclude:\n      - pattern: '^Ad:'\n        fields: [title]\n",
        tmp_path,
    )
    art = config.rubric("art")
    assert (art.max_items, art.formats) == (5, ("atom",))
    assert config.rules == (Rule(rubric="art", match=Match(keywords=("выставка", "exhibition"))),)
    (source,) = config.sources
    assert source.language == "en"
    assert source.exclude == (Match(pattern="^Ad:", fields=("title",)),)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("rules:\n  - rubric: art\n", "rules[0]: give exactly one of 'pattern' and 'keywords'"),
        ("rules:\n  - rubric: arts\n    keywords: [x]\n", "did you mean 'art'?"),
        ("rules:\n  - rubric: art\n    pattern: '(unclosed'\n", "not a regular expression"),
        (
            "rules:\n  - rubric: art\n    keywords: [x]\n    fields: [titel]\n",
            "rules[0].fields[0]: unknown field 'titel' (did you mean 'title'?)",
        ),
    ],
)
def test_bad_rules_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(BASE_CONFIG + extra, tmp_path)
    assert message in str(caught.value)
    assert caught.value.line > 0


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://x.example/</link><description>d</description>
<item><title>Выставка года</title><link>https://x.example/1</link>
<pubDate>Wed, 25 Nov 2026 12:00:00 +0300</pubDate></item>
<item><title>Реклама: купите</title><link>https://x.example/2</link>
<pubDate>Wed, 25 Nov 2026 11:00:00 +0300</pubDate></item>
<item><title>Премьера спектакля</title><link>https://x.example/3</link>
<pubDate>Wed, 25 Nov 2026 10:00:00 +0300</pubDate><category>society</category></item>
</channel></rss>"""


@pytest.mark.slow
def test_rules_filters_and_formats_end_to_end(tmp_path: Path, server: Server) -> None:
    url = server.add("/feed.rss", RSS, content_type="application/rss+xml")
    base = (
        BASE_CONFIG.replace(
            "  - slug: art\n    title: Искусство\n    aliases: [art]\n",
            "  - slug: art\n    title: Искусство\n    aliases: [art]\n    formats: [atom]\n"
            "    max_items: 1\n",
        )
        + "rules:\n  - rubric: art\n    keywords: [выставка, спектакль, спектакля]\n"
    )
    config = write_config(
        tmp_path,
        f"  - name: s\n    type: feed\n    url: {url}\n"
        "    exclude:\n      - pattern: '^Реклама'\n        fields: [title]\n",
        base=base,
    )
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    output = tmp_path / "output"
    combined = feedparser.parse((output / "all.atom").read_bytes())
    assert [e.title for e in combined.entries] == ["Выставка года", "Премьера спектакля"]
    art = feedparser.parse((output / "art.atom").read_bytes())
    assert [e.title for e in art.entries] == ["Выставка года"]  # max_items: 1
    assert not (output / "art.rss").exists() and not (output / "art.json").exists()
    assert 'href="art.rss"' not in (output / "index.html").read_text(encoding="utf-8")
    society = feedparser.parse((output / "society.atom").read_bytes())
    assert [e.title for e in society.entries] == ["Премьера спектакля"]


@pytest.mark.parametrize(
    ("category", "finer"),
    [
        ("Искусство / Интервью", ("Интервью",)),
        ("Culture > Art > Reviews > 2026", ("Reviews", "2026")),
        ("Culture > Art", ()),  # filed by its finest level
        ("Интервью / Искусство", ()),
        ("Искусство", ()),
        ("Театр/Мода", ()),  # not nested: joined
        ("Спорт / Футбол", ()),  # files nowhere
    ],
)
def test_the_finer_levels_of_a_nested_category_filed_by_a_broader_one(
    category: str, finer: tuple[str, ...]
) -> None:
    vocabulary = Vocabulary.of([Rubric(slug="art", title="Искусство", aliases=("art",))])
    assert vocabulary.finer_levels(category) == finer


def test_a_nested_categorys_finest_level_may_join_rubrics() -> None:
    # "Культура / Кино/Театр" went to culture alone, and `feeds rubrics`
    # listed "Кино/Театр" as matching nothing.
    vocabulary = Vocabulary.of(
        [
            Rubric(slug="culture", title="Культура"),
            Rubric(slug="cinema", title="Кино"),
            Rubric(slug="theatre", title="Театр"),
        ]
    )
    assert vocabulary.slugs_for("Культура / Кино/Театр") == ("cinema", "theatre")
    assert vocabulary.finer_levels("Культура / Кино/Театр") == ()
    assert vocabulary.slugs_for("Культура / AC/DC") == ("culture",)
    assert vocabulary.finer_levels("Культура / / Интервью") == ("Интервью",)
