"""The config stage: `load_config` / `parse_config`.

Valid configs: relative paths resolve against the folder of the config file,
defaults are filled in, the rubric vocabulary is built. Invalid configs: every
problem is a ConfigError whose message is exactly ``FILE:LINE: KEY: DETAIL``,
with the 1-based line an operator has to open in an editor.

Error cases mark the line the message must point at with ``# <-``.
"""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from feeds.config import MAX_CONFIG_BYTES, load_config, parse_config
from feeds.errors import ConfigError
from feeds.model import Config, Rubric

ROOT = Path(__file__).resolve().parent.parent
MARK = "# <-"

SITE = """\
site:
  title: Test Site
  base_url: https://feeds.example.org/
"""

#: A small valid config; error cases below are variations of it.
MINIMAL = (
    SITE
    + """\
rubrics:
  - slug: literature
    title: Литература
    aliases: [books]
  - slug: art
    title: Искусство
sources:
  - name: one
    type: feed
    url: https://example.org/feed.xml
"""
)

#: A source's first lines, for cases about its location or schedule.
ONE_SOURCE = "sources:\n  - name: one\n    type: feed\n"

TOP_KEYS = (
    "site, output, storage, fetch, schedule, server, log, rubrics, series, rules, websub, sources"
)
SITE_KEYS = "title, base_url, language, timezone, description"
SOURCE_KEYS = (
    "name, type, url, path, rubrics, timezone, timeout, max_bytes, interval, cron, "
    "language, include, exclude, full_content, guids, news_rubrics, selectors"
)
RUBRIC_KEYS = "slug, title, aliases, description, max_items, formats"
NOT_A_SLUG = "is not a slug: use lower-case Latin letters, digits, '-' and '_'"


@contextmanager
def deadline(seconds: float = 0.5) -> Iterator[None]:
    """Fail instead of hanging when the checker loops forever."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"parse_config did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse(folder: Path, text: str) -> Config:
    with deadline():
        return parse_config(textwrap.dedent(text), folder / "config.yaml")


def fail(folder: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(folder, text)
    return info.value


def marked_line(text: str) -> int:
    lines = [n for n, line in enumerate(textwrap.dedent(text).splitlines(), 1) if MARK in line]
    assert len(lines) == 1, "a case marks exactly one line with '# <-'"
    return lines[0]


# -- valid configs ------------------------------------------------------------


def test_shipped_config_loads() -> None:
    config = load_config(ROOT / "config.yaml")

    assert config.path == ROOT / "config.yaml"
    assert config.site.title == "Colta Feeds"
    assert config.site.base_url == "http://127.0.0.1:8080/"
    assert config.site.language == "ru"
    assert config.site.timezone == "Europe/Moscow"
    assert config.output_dir == ROOT / "output"
    assert config.max_items == 50
    assert config.storage_url == f"sqlite:///{ROOT / 'feeds.db'}"
    assert config.concurrency == 8
    assert [r.slug for r in config.rubrics] == [
        "literature",
        "art",
        "society",
        "classical-music",
        "news",
        "cinema",
        "theatre",
        "music",
    ]
    assert config.series == ("Colta Specials", "Молодая Россия", "Медленное чтение")
    assert [(s.name, s.type) for s in config.sources] == [
        ("colta-front", "text"),
        ("colta-music", "text"),
        ("openstage-culture", "feed"),
        ("arts-desk", "feed"),
    ]
    for source in config.sources:
        assert source.url == ""
        assert source.path is not None and source.path.is_file(), source.path
    assert config.sources[0].news_rubrics == ("news",)
    assert config.sources[3].timezone == "Europe/London"


def test_defaults(tmp_path: Path) -> None:
    config = parse(tmp_path, MINIMAL)

    assert config.path == tmp_path / "config.yaml"
    assert config.output_dir == tmp_path / "output"
    assert config.max_items == 50
    assert config.archive_page_size == 100
    assert config.storage_url == f"sqlite:///{tmp_path / 'feeds.db'}"
    assert config.concurrency == 8
    assert config.site.language == "en"
    assert config.site.timezone == "UTC"
    assert config.site.description == ""
    assert config.series == ()
    (source,) = config.sources
    assert source.url == "https://example.org/feed.xml"
    assert source.path is None
    assert source.timeout == 30.0
    assert source.max_bytes == 10 * 1024 * 1024
    assert source.timezone == ""
    assert source.rubrics == ()
    assert source.news_rubrics == ()


def test_site_base_url_gains_a_trailing_slash(tmp_path: Path) -> None:
    config = parse(
        tmp_path,
        """\
        site:
          title: Test Site
          base_url: https://feeds.example.org/news
        """,
    )
    assert config.site.base_url == "https://feeds.example.org/news/"
    assert config.sources == ()
    assert config.rubrics == ()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        pytest.param("output:\n  dir: out\n", ("output_dir", "conf/out"), id="output.dir"),
        pytest.param(
            "output:\n  dir: ../public/feeds\n",
            ("output_dir", "public/feeds"),
            id="output.dir-parent",
        ),
        pytest.param(
            "storage:\n  url: sqlite:///feeds.db\n",
            ("storage_url", "conf/feeds.db"),
            id="storage.url",
        ),
        pytest.param(
            "storage:\n  url: sqlite:///data/feeds.db\n",
            ("storage_url", "conf/data/feeds.db"),
            id="storage.url-subfolder",
        ),
        pytest.param(
            "storage:\n  url: state.db\n", ("storage_url", "conf/state.db"), id="storage.url-bare"
        ),
        pytest.param(
            "sources:\n  - name: local\n    type: text\n    path: samples/page.txt\n",
            ("source_path", "conf/samples/page.txt"),
            id="sources.path",
        ),
        pytest.param(
            "sources:\n  - name: local\n    type: feed\n    path: ../shared/world.atom\n",
            ("source_path", "shared/world.atom"),
            id="sources.path-parent",
        ),
    ],
)
def test_relative_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str, expected: tuple[str, str]
) -> None:
    folder = tmp_path / "conf"
    elsewhere = tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (folder / "config.yaml").write_text(SITE + yaml_text, encoding="utf-8")
    monkeypatch.chdir(elsewhere)  # the working directory must not matter

    config = load_config(Path("..") / "conf" / "config.yaml")

    field, relative = expected
    want = tmp_path.resolve() / relative
    if field == "output_dir":
        assert config.output_dir == want
        assert config.output_dir.is_absolute()
    elif field == "storage_url":
        assert config.storage_url == f"sqlite:///{want}"
    else:
        (source,) = config.sources
        assert source.path == want
        assert source.path is not None and source.path.is_absolute()
    assert config.path == folder.resolve() / "config.yaml"


def test_absolute_paths_stay_absolute(tmp_path: Path) -> None:
    target = tmp_path / "abs"
    config = parse(
        tmp_path / "sub",
        f"""\
        site:
          title: Test Site
          base_url: https://feeds.example.org/
        output:
          dir: {target / "out"}
        storage:
          url: sqlite:///{target / "feeds.db"}
        sources:
          - name: local
            type: feed
            path: {target / "feed.xml"}
        """,
    )
    assert config.output_dir == target / "out"
    assert config.storage_url == f"sqlite:///{target / 'feeds.db'}"
    assert config.sources[0].path == target / "feed.xml"


def test_fetch_settings_are_inherited_and_overridden(tmp_path: Path) -> None:
    config = parse(
        tmp_path,
        SITE
        + """\
output:
  max_items: 7
  archive_page_size: 20
fetch:
  timeout: 12.5
  max_bytes: 2048
  concurrency: 3
sources:
  - name: inherits
    type: feed
    url: https://example.org/a.xml
  - name: overrides
    type: feed
    url: https://example.org/b.xml
    timeout: 3
    max_bytes: 100
    timezone: Europe/London
""",
    )
    assert config.max_items == 7
    assert config.archive_page_size == 20
    assert config.concurrency == 3
    inherits, overrides = config.sources
    assert (inherits.timeout, inherits.max_bytes, inherits.timezone) == (12.5, 2048, "")
    assert (overrides.timeout, overrides.max_bytes, overrides.timezone) == (
        3.0,
        100,
        "Europe/London",
    )
    assert isinstance(overrides.timeout, float)


def test_rubric_vocabulary(tmp_path: Path) -> None:
    config = parse(
        tmp_path,
        SITE
        + """\
rubrics:
  - slug: literature
    title: Литература
    aliases: [literature, books, книги]
    description: Книги и поэзия.
  - slug: art
    title: Искусство
    aliases: visual art
  - slug: news
    title: Новости
series: Colta Specials
sources:
  - name: page
    type: text
    url: https://example.org/page.txt
    rubrics: [news, art, news]
    news_rubrics: news
""",
    )
    assert config.rubric("literature") == Rubric(
        slug="literature",
        title="Литература",
        aliases=("literature", "books", "книги"),
        description="Книги и поэзия.",
    )
    assert config.rubric("art").aliases == ("visual art",)  # a single string is a list of one
    assert config.rubric("news").aliases == ()
    assert config.rubric("art").names == ("Искусство", "art", "visual art")
    with pytest.raises(KeyError):
        config.rubric("Литература")  # titles are not slugs
    assert config.series == ("Colta Specials",)
    (source,) = config.sources
    assert source.rubrics == ("art", "news")  # sorted, no repeats
    assert source.news_rubrics == ("news",)


# -- errors ---------------------------------------------------------------------

BROKEN_SOURCES = (
    SITE
    + """\
rubrics:
  - slug: art
    title: Искусство
sources:
  - name: one
    type: feed
    url: https://example.org/one.xml
    intervl: 10m
  - name: good
    type: feed
    url: https://example.org/good.xml
  - name: two
    type: fed
    url: https://example.org/two.xml
  - name: three
    type: feed
    url: https://example.org/three.xml
    rubrics: [arts]
  - name: also-good
    type: feed
    url: https://example.org/also-good.xml
"""
)


def test_every_broken_source_is_named_at_once(tmp_path: Path) -> None:
    # After a bulk edit, the operator fixes them all in one go instead of
    # one `feeds check` per mistake.
    error = fail(tmp_path, BROKEN_SOURCES)
    shown = str(tmp_path / "config.yaml")
    assert [problem.message for problem in error.problems] == [
        f"{shown}:11: sources[0].intervl (source 'one'): unknown key (did you mean "
        f"'interval'?); known keys: {SOURCE_KEYS}",
        f"{shown}:16: sources[2].type (source 'two'): unknown source type 'fed' "
        f"(did you mean 'feed'?); known: feed, text, html",
        f"{shown}:21: sources[3].rubrics[0] (source 'three'): no rubric with slug 'arts' "
        f"(did you mean 'art'?)",
    ]
    # The error reads as its first problem, and says there are more.
    assert (error.line, error.key) == (11, "sources[0].intervl")
    assert str(error) == error.problems[0].message + " (and 2 more)"
    assert error.lines() == [problem.message for problem in error.problems]


def test_a_broken_source_and_a_problem_in_a_later_setting_are_both_named(
    tmp_path: Path,
) -> None:
    error = fail(tmp_path, BROKEN_SOURCES + "storage:\n  url: postgres://db/feeds\n")
    assert [(problem.line, problem.key) for problem in error.problems] == [
        (11, "sources[0].intervl"),
        (16, "sources[2].type"),
        (21, "sources[3].rubrics[0]"),
        (26, "storage.url"),
    ]


def test_a_problem_in_each_section_of_settings_is_named_with_the_others(
    tmp_path: Path,
) -> None:
    # A mistake in the site, another in fetch, a third in the schedule
    # and one in a source: one `feeds check` names all four, in the
    # file's order, not one per run.
    text = (
        "site:\n  title: T\n  base_url: https://feeds.example.org/\n  timezone: Europe/Moskow\n"
        "fetch:\n  concurrency: -1\n  per_hots: 2\n"
        "schedule:\n  interval: soon\n"
        "output:\n  max_items: 0\n"
        "log:\n  level: loud\n" + BROKEN_SOURCES.removeprefix(SITE)
    )
    error = fail(tmp_path, text)
    assert [(problem.line, problem.key) for problem in error.problems] == [
        (4, "site.timezone"),
        (7, "fetch.per_hots"),
        (9, "schedule.interval"),
        (11, "output.max_items"),
        (13, "log.level"),
        (21, "sources[0].intervl"),
        (26, "sources[2].type"),
        (31, "sources[3].rubrics[0]"),
    ]


def test_every_wrong_value_of_a_section_is_named_in_the_files_order(tmp_path: Path) -> None:
    # Two wrong values side by side: the first check met used to stand for
    # its section (log.format listed, log.level above it not), and an
    # operator fixed one, ran `feeds check` again, and met the next.
    text = (
        "site:\n  title: ''\n  base_url: ftp://feeds.example.org/\n  timezone: Europe/Moskow\n"
        "schedule:\n  interval: soon\n  jitter: -5\n"
        "server:\n  host: [a]\n  port: 99999\n"
        "log:\n  level: loud\n  format: fancy\n" + ONE_SOURCE + "    url: https://x.example/\n"
    )
    error = fail(tmp_path, text)
    assert [(problem.line, problem.key) for problem in error.problems] == [
        (1, "site"),
        (3, "site.base_url"),
        (4, "site.timezone"),
        (6, "schedule.interval"),
        (7, "schedule.jitter"),
        (9, "server.host"),
        (10, "server.port"),
        (12, "log.level"),
        (13, "log.format"),
    ]
    assert "missing required key 'title'" in error.problems[0].message


def test_an_unknown_key_in_fetch_leaves_its_other_keys_unchecked_but_not_the_rest(
    tmp_path: Path,
) -> None:
    # The section is one part: its first problem stands for it.
    error = fail(
        tmp_path, SITE + "fetch:\n  timout: 5\n  concurrency: -1\n" + ONE_SOURCE + "    url: x\n"
    )
    assert [problem.key for problem in error.problems] == ["fetch.timout", "sources[0].url"]


@pytest.mark.parametrize("output", ["output: public\n", "output:\n  dir: public\n  max_item: 50\n"])
def test_a_broken_output_section_is_the_one_problem_of_where_files_are(
    tmp_path: Path, output: str
) -> None:
    # Checked against the default folder, the store and a source file in
    # ./output were reported inside output.dir: moving them was wrong.
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "local.xml").write_text("<rss/>", encoding="utf-8")
    error = fail(
        tmp_path,
        SITE
        + output
        + "storage:\n  url: sqlite:///output/feeds.db\n"
        + "sources:\n  - name: local\n    type: feed\n    path: output/local.xml\n",
    )
    assert [problem.key.split(".")[0] for problem in error.problems] == ["output"]


def test_a_source_may_say_its_guids_are_no_ids(tmp_path: Path) -> None:
    source = "    url: https://example.org/a.xml\n    guids: {}\n"
    config = parse(tmp_path, SITE + ONE_SOURCE + source.format("false"))
    assert [s.guids for s in config.sources] == [False]
    assert [s.guids for s in parse(tmp_path, SITE + ONE_SOURCE + source[:34]).sources] == [True]
    error = fail(tmp_path, SITE + ONE_SOURCE + source.format('"no"'))
    assert [(problem.key, problem.detail) for problem in error.problems] == [
        ("sources[0].guids", "expected true or false, got str 'no'")
    ]


def test_a_name_taken_by_a_broken_source_is_still_taken(tmp_path: Path) -> None:
    error = fail(
        tmp_path,
        ONE_SOURCE.join((SITE, "    url: https://example.org/a.xml\n    colour: red\n"))
        + ONE_SOURCE.removeprefix("sources:\n")
        + "    url: https://example.org/b.xml\n",
    )
    assert [problem.detail for problem in error.problems] == [
        f"unknown key; known keys: {SOURCE_KEYS}",
        "another source is already named 'one'",
    ]


def test_a_source_file_inside_output_is_named_by_its_place_after_a_broken_source(
    tmp_path: Path,
) -> None:
    error = fail(
        tmp_path,
        SITE
        + "sources:\n"
        + "  - name: a\n    type: fed\n    path: a.xml\n"
        + "  - name: a\n    type: feed\n    path: b.xml\n"
        + "  - name: c\n    type: feed\n    path: c.xml\n"
        + "  - name: d\n    type: feed\n    path: output/d.xml\n",
    )
    assert [(problem.line, problem.key, problem.source) for problem in error.problems] == [
        (6, "sources[0].type", "a"),
        (8, "sources[1].name", ""),
        (16, "sources[3].path", "d"),
    ]


def test_a_key_called_name_inside_a_source_still_names_the_source(tmp_path: Path) -> None:
    error = fail(
        tmp_path,
        SITE
        + ONE_SOURCE
        + "    url: https://example.org/a.xml\n    include:\n      - name: ads  # <-\n",
    )
    assert (error.key, error.source) == ("sources[0].include[0].name", "one")
    assert "(source 'one')" in str(error)


def test_broken_rubrics_and_rules_are_all_named_and_the_sources_naming_them_are_not(
    tmp_path: Path,
) -> None:
    error = fail(
        tmp_path,
        SITE
        + "rubrics:\n"
        + "  - slug: Film\n    title: Кино\n"
        + "  - slug: art\n    title: Искусство\n    formats: [atom, pdf]\n"
        + "  - slug: music\n    title: Музыка\n"
        + "rules:\n"
        + "  - rubric: music\n    keywords: []\n"
        + "  - rubric: art\n    keywords: [выставка]\n"
        + "  - rubric: musik\n    keywords: [концерт]\n"
        + "sources:\n"
        + "  - name: a\n    type: feed\n    url: https://example.org/a.xml\n"
        + "    rubrics: [art]\n"
        + "  - name: b\n    type: fed\n    url: https://example.org/b.xml\n",
    )
    assert [(problem.line, problem.key) for problem in error.problems] == [
        (5, "rubrics[0].slug"),
        (9, "rubrics[1].formats[1]"),
        (13, "rules[0]"),
        (17, "rules[2].rubric"),
        (25, "sources[1].type"),
    ]
    # "art" is broken, not unknown: rule 1 and source a, which name it,
    # are not reported for it.


def test_many_problems_are_shown_twenty_at_most(tmp_path: Path) -> None:
    sources = "".join(
        f"  - name: s{n}\n    type: feed\n    url: https://example.org/{n}.xml\n    x: 1\n"
        for n in range(25)
    )
    error = fail(tmp_path, SITE + "sources:\n" + sources)
    assert len(error.problems) == 25
    lines = error.lines()
    assert len(lines) == 21
    assert lines[19].startswith(f"{tmp_path / 'config.yaml'}:84: sources[19].x (source 's19')")
    assert lines[20] == f"{tmp_path / 'config.yaml'}: and 5 more problems"


ERROR_CASES = [
    # unknown and renamed keys
    pytest.param(
        SITE + "sorces: []  # <-\n",
        "sorces",
        f"unknown key (did you mean 'sources'?); known keys: {TOP_KEYS}",
        id="unknown-top-key",
    ),
    pytest.param(
        SITE + "colour: red  # <-\n",
        "colour",
        f"unknown key; known keys: {TOP_KEYS}",
        id="unknown-top-key-no-hint",
    ),
    pytest.param(
        """\
        site:
          titel: Test Site  # <-
          base_url: https://feeds.example.org/
        """,
        "site.titel",
        f"unknown key (did you mean 'title'?); known keys: {SITE_KEYS}",
        id="site.titel",
    ),
    pytest.param(
        SITE
        + """\
sources:
  - name: one
    type: feed
    urll: https://example.org/feed.xml  # <-
""",
        "sources[0].urll",
        f"unknown key (did you mean 'url'?); known keys: {SOURCE_KEYS}",
        id="sources[0].urll",
    ),
    pytest.param(
        MINIMAL
        + """\
  - name: two
    type: feed
    url: https://example.org/two.xml
  - name: three
    type: feed
    urll: https://example.org/three.xml  # <-
""",
        "sources[2].urll",
        f"unknown key (did you mean 'url'?); known keys: {SOURCE_KEYS}",
        id="sources[2].urll",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: art
    title: Искусство
    alias: [arts]  # <-
""",
        "rubrics[0].alias",
        f"unknown key (did you mean 'aliases'?); known keys: {RUBRIC_KEYS}",
        id="rubrics[0].alias",
    ),
    pytest.param(
        SITE
        + """\
output:
  dir: output
  items: 20  # <-
""",
        "output.items",
        "this key was renamed: use 'output.max_items'",
        id="renamed-output.items",
    ),
    # duplicate keys (YAML alone would silently keep the last one)
    pytest.param(
        """\
        site:
          title: Test Site
          base_url: https://feeds.example.org/
          title: Other Title  # <-
        """,
        "site.title",
        "duplicate key",
        id="duplicate-site.title",
    ),
    pytest.param(
        MINIMAL + "    url: https://example.org/other.xml  # <-\n",
        "sources[0].url",
        "duplicate key",
        id="duplicate-sources[0].url",
    ),
    pytest.param(
        MINIMAL + "site:  # <-\n  title: Again\n",
        "site",
        "duplicate key",
        id="duplicate-top-key",
    ),
    # text no feed, page or list can hold (written as YAML escapes)
    pytest.param(
        'site:\n  title: "Colta\\x01 Feeds"  # <-\n  base_url: https://feeds.example.org/\n',
        "site.title",
        "contains the control character U+0001, which no feed or web page may hold",
        id="control-in-site.title",
    ),
    pytest.param(
        SITE + 'rubrics:\n  - slug: art\n    title: "Иск\\x85усство"  # <-\n',
        "rubrics[0].title",
        "contains the control character U+0085, which no feed or web page may hold",
        id="c1-control-in-rubric-title",
    ),
    pytest.param(
        SITE + 'rubrics:\n  - slug: art\n    title: Art\n    description: "A\\uFFFE"  # <-\n',
        "rubrics[0].description",
        "contains the control character U+FFFE, which no feed or web page may hold",
        id="noncharacter-in-rubric-description",
    ),
    # wrong types and values
    pytest.param(
        SITE + "output:\n  max_items: fifty  # <-\n",
        "output.max_items",
        "expected a whole number, got str 'fifty'",
        id="max_items-text",
    ),
    pytest.param(
        SITE + "output:\n  max_items: 0  # <-\n",
        "output.max_items",
        "must be greater than 0, got 0",
        id="max_items-zero",
    ),
    pytest.param(
        SITE + "output:\n  archive_page_size: -5  # <-\n",
        "output.archive_page_size",
        "must be 0 (no new archive pages) or more, got -5",
        id="archive_page_size-negative",
    ),
    pytest.param(
        SITE + "output:\n  max_items: 12.5  # <-\n",
        "output.max_items",
        "expected a whole number, got float 12.5",
        id="max_items-float",
    ),
    pytest.param(
        SITE + "fetch:\n  timeout: soon  # <-\n",
        "fetch.timeout",
        "expected a number, got str 'soon'",
        id="fetch.timeout-text",
    ),
    pytest.param(
        SITE + "fetch:\n  max_bytes: -1  # <-\n",
        "fetch.max_bytes",
        "must be greater than 0, got -1",
        id="fetch.max_bytes-negative",
    ),
    pytest.param(
        SITE + "fetch:\n  host_delay: -1  # <-\n",
        "fetch.host_delay",
        "a duration must be 0 or more, got -1",
        id="fetch.host_delay-negative",
    ),
    pytest.param(
        SITE + "schedule:\n  jitter: -1  # <-\n",
        "schedule.jitter",
        "a duration must be 0 or more, got -1",
        id="schedule.jitter-negative",
    ),
    pytest.param(
        SITE + "rubrics: literature  # <-\n",
        "rubrics",
        "expected a list, got str",
        id="rubrics-not-a-list",
    ),
    pytest.param(
        SITE + "rubrics:  # <-\n  slug: art\n  title: Искусство\n",
        "rubrics",
        "expected a list, got a mapping",
        id="rubrics-a-mapping",
    ),
    pytest.param(
        SITE + "sources:  # <-\n  name: one\n",
        "sources",
        "expected a list, got a mapping",
        id="sources-a-mapping",
    ),
    pytest.param(
        "site: Test Site  # <-\n",
        "site",
        "expected a mapping of keys, got str",
        id="site-not-a-mapping",
    ),
    pytest.param(
        """\
        site:
          title: Test Site
          base_url: feeds.example.org  # <-
        """,
        "site.base_url",
        "expected an http(s) URL, got 'feeds.example.org'",
        id="site.base_url-no-scheme",
    ),
    pytest.param(
        """\
        site:
          title: Test Site
          base_url: https://feeds.example.org:99999/  # <-
        """,
        "site.base_url",
        "the port must be a number up to 65535, got 'https://feeds.example.org:99999/'",
        id="site.base_url-port-out-of-range",
    ),
    pytest.param(
        """\
        site:
          title: Test Site
          base_url: 'https://feeds.example.org/a"b<c>|d'  # <-
        """,
        "site.base_url",
        "a URL cannot hold '\"' (nor < > { } | \\ ^ `): feed ids and links are made "
        "from it, got 'https://feeds.example.org/a\"b<c>|d'",
        id="site.base_url-not-a-url-character",
    ),
    pytest.param(
        """\
        site:
          title: [Test, Site]  # <-
          base_url: https://feeds.example.org/
        """,
        "site.title",
        "expected text, got a list",
        id="site.title-a-list",
    ),
    # missing required keys: the message points at the mapping that lacks them
    pytest.param(
        """\
        site:  # <-
          base_url: https://feeds.example.org/
        """,
        "site",
        "missing required key 'title'",
        id="missing-site.title",
    ),
    pytest.param(
        """\
        site:  # <-
          title: Test Site
          base_url: ""
        """,
        "site",
        "missing required key 'base_url'",
        id="missing-site.base_url",
    ),
    pytest.param(
        """\
        output:  # <-
          dir: out
        """,
        "site",
        "missing required key 'site'",
        id="missing-site",
    ),
    pytest.param(
        MINIMAL
        + """\
  - type: feed  # <-
    url: https://example.org/two.xml
""",
        "sources[1]",
        "missing required key 'name'",
        id="missing-sources[1].name",
    ),
    pytest.param(
        MINIMAL
        + """\
  - name: two  # <-
    url: https://example.org/two.xml
""",
        "sources[1]",
        "missing required key 'type'",
        id="missing-sources[1].type",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: art  # <-
""",
        "rubrics[0]",
        "missing required key 'title'",
        id="missing-rubrics[0].title",
    ),
    # sources
    pytest.param(
        SITE
        + """\
sources:
  - name: one
    type: feeed  # <-
    url: https://example.org/feed.xml
""",
        "sources[0].type",
        "unknown source type 'feeed' (did you mean 'feed'?); known: feed, text, html",
        id="type-feeed",
    ),
    pytest.param(
        SITE
        + """\
sources:
  - name: one
    type: webpage  # <-
    url: https://example.org/
""",
        "sources[0].type",
        "unknown source type 'webpage'; known: feed, text, html",
        id="type-webpage",
    ),
    pytest.param(
        SITE
        + """\
sources:
  - name: one  # <-
    type: feed
    url: https://example.org/feed.xml
    path: samples/feed.xml
""",
        "sources[0]",
        "give exactly one of 'url' and 'path'",
        id="url-and-path",
    ),
    pytest.param(
        MINIMAL
        + """\
  - name: two  # <-
    type: feed
""",
        "sources[1]",
        "give exactly one of 'url' and 'path'",
        id="neither-url-nor-path",
    ),
    pytest.param(
        SITE
        + """\
sources:
  - name: one
    type: feed
    url: ftp://example.org/feed.xml  # <-
""",
        "sources[0].url",
        "expected an http(s) or file URL, got 'ftp://example.org/feed.xml'",
        id="url-ftp",
    ),
    pytest.param(
        MINIMAL + "  - name: one  # <-\n    type: text\n    url: https://example.org/page.txt\n",
        "sources[1].name",
        "another source is already named 'one'",
        id="duplicate-source-name",
    ),
    pytest.param(
        MINIMAL + "    news_rubrics: [art]  # <-\n",
        "sources[0].news_rubrics",
        "only for sources of type text",
        id="news_rubrics-on-feed",
    ),
    pytest.param(
        MINIMAL + "    rubrics: [art, literatur]  # <-\n",
        "sources[0].rubrics[1]",
        "no rubric with slug 'literatur' (did you mean 'literature'?)",
        id="source-rubric-unknown",
    ),
    pytest.param(
        MINIMAL
        + """\
    rubrics:
      - art
      - Литература  # <-
""",
        "sources[0].rubrics[1]",
        "no rubric with slug 'Литература'",
        id="source-rubric-title-not-slug",
    ),
    pytest.param(
        MINIMAL + "  - name: two\n    type: text\n    path: p.txt\n    news_rubrics: nws  # <-\n",
        "sources[1].news_rubrics[0]",
        "no rubric with slug 'nws'",
        id="news_rubrics-unknown",
    ),
    # time zones
    pytest.param(
        """\
        site:
          title: Test Site
          base_url: https://feeds.example.org/
          timezone: Mars/Olympus  # <-
        """,
        "site.timezone",
        "unknown time zone 'Mars/Olympus' (use an IANA name such as 'Europe/Moscow')",
        id="site.timezone-unknown",
    ),
    pytest.param(
        MINIMAL + "    timezone: MSK+3  # <-\n",
        "sources[0].timezone",
        "unknown time zone 'MSK+3' (use an IANA name such as 'Europe/Moscow')",
        id="source.timezone-unknown",
    ),
    pytest.param(
        MINIMAL + "    timezone: Europe  # <-\n",
        "sources[0].timezone",
        "unknown time zone 'Europe' (use an IANA name such as 'Europe/Moscow')",
        id="source.timezone-a-folder",
    ),
    # rubric vocabulary
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: Литература  # <-
    title: Литература
""",
        "rubrics[0].slug",
        f"'Литература' {NOT_A_SLUG}",
        id="slug-cyrillic",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: art
    title: Искусство
  - slug: Classical Music  # <-
    title: Академическая музыка
""",
        "rubrics[1].slug",
        f"'Classical Music' {NOT_A_SLUG}",
        id="slug-capitals-and-space",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: all  # <-
    title: Всё
""",
        "rubrics[0].slug",
        "'all' is reserved for the combined feed files",
        id="slug-all-reserved",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: literature
    title: Литература
    aliases: [books]
  - slug: art  # <-
    title: Искусство
    aliases: [visual art, books]
""",
        "rubrics[1]",
        "the name 'books' already belongs to rubric 'literature'",
        id="alias-used-twice",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: art
    title: Искусство
  - slug: visual-art  # <-
    title: Визуальное искусство
    aliases: ART
""",
        "rubrics[1]",
        "the name 'ART' already belongs to rubric 'art'",
        id="alias-clashes-with-slug-any-case",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: art
    title: Искусство
  - slug: fine-art  # <-
    title: Искусство
""",
        "rubrics[1]",
        "the name 'Искусство' already belongs to rubric 'art'",
        id="title-used-twice",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: design
    title: Дизайн
  - slug: interior  # <-
    title: Интерьер
    aliases: ["Дизаи\u0306н"]
""",
        "rubrics[1]",
        "the name 'Дизаи\u0306н' already belongs to rubric 'design'",
        id="alias-the-same-title-written-decomposed",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: literature
    title: Литература
    aliases: books, Книги  # <-
""",
        "rubrics[0].aliases",
        "'books, Книги' is one text with a comma in it; several are written as a list, "
        "[books, Книги] (and one with a comma as a list of one: ['books, Книги'])",
        id="aliases-listed-with-commas-and-no-brackets",
    ),
    pytest.param(
        SITE
        + """\
rubrics:
  - slug: literature
    title: Литература
    aliases: [books, ""]  # <-
""",
        "rubrics[0].aliases[1]",
        "must not be blank",
        id="blank-alias",
    ),
    # storage
    pytest.param(
        SITE + "storage:\n  url: postgresql://feeds@localhost/feeds  # <-\n",
        "storage.url",
        "unsupported store 'postgresql': use sqlite:///PATH",
        id="storage-postgresql",
    ),
    pytest.param(
        SITE + "storage:\n  url: sqlite:///  # <-\n",
        "storage.url",
        "expected sqlite:///PATH with a file name",
        id="storage-no-file",
    ),
    # Each of these once passed the check and then crashed a build, or a
    # running service at a reload.
    # Named as the key is: a rule's rubric is one slug, not a list.
    pytest.param(
        MINIMAL + "rules:\n  - rubric: artt  # <-\n    keywords: [x]\n",
        "rules[0].rubric",
        "no rubric with slug 'artt' (did you mean 'art'?)",
        id="rule-unknown-rubric",
    ),
    pytest.param(
        MINIMAL + "rules:\n  - rubric: [art, literature]  # <-\n    keywords: [x]\n",
        "rules[0].rubric",
        "expected one rubric slug, got a list",
        id="rule-with-two-rubrics",
    ),
    pytest.param(
        MINIMAL + "rules:\n  - rubric: art\n    pattern: 'a{4294967296}'  # <-\n",
        "rules[0].pattern",
        "not a regular expression: OverflowError",
        id="pattern-repeat-too-large",
    ),
    pytest.param(
        SITE + "sources:\n  - name: ' '  # <-\n    type: feed\n    url: https://x.example/\n",
        "sources[0].name",
        "must not be blank",
        id="blank-source-name",
    ),
    pytest.param(
        "site:\n  title: T\n  base_url: https://x.example/\n  language: no  # <-\n",
        "site.language",
        "expected text, got bool (YAML reads yes, no, on and off as true or false: quote the text)",
        id="norwegian-read-as-false",
    ),
    pytest.param(
        SITE + "schedule:\n  interval: 1:30  # <-\n",
        "schedule.interval",
        "not a duration: '1:30' (use e.g. 45s, 10m, 1h30m, 2d)",
        id="base-60-is-no-duration",
    ),
    pytest.param(
        "site:\n  title: '  '  # <-\n  base_url: https://feeds.example.org/\n",
        "site.title",
        "must not be blank: every feed is titled with it",
        id="blank-site-title",
    ),
    pytest.param(
        "site:\n  title: T\n  base_url: https://x.example/\n  language: ru_RU  # <-\n",
        "site.language",
        "not a language tag: 'ru_RU' (use 'ru-RU': language tags join their parts with '-')",
        id="locale-for-a-language-tag",
    ),
    pytest.param(
        SITE + "sources:\n  - name: s\n    type: feed\n    url: https://x.example/\n"
        "    language: Russian  # <-\n",
        "sources[0].language",
        "not a language tag: 'Russian' (use a language tag such as 'ru', 'en-GB' or "
        "'zh-Hant' (the language's ISO 639 code, not its name))",
        id="language-name-for-a-tag",
    ),
    pytest.param(
        SITE + "rubrics:\n  - slug: art\n    title: '  '  # <-\n",
        "rubrics[0].title",
        "must not be blank: the rubric's feeds and index section are titled with it",
        id="blank-rubric-title",
    ),
    pytest.param(
        SITE + "output:\n  max_items: 100000000000000000000  # <-\n",
        "output.max_items",
        "must be at most 1,000,000,000,000, got 100,000,000,000,000,000,000",
        id="max-items-past-sqlite",
    ),
    pytest.param(
        SITE + "rubrics:\n  - slug: art\n    title: Art\n    formats: []  # <-\n",
        "rubrics[0].formats",
        "lists no format: name one or more of atom, rss, json (or leave the key out for all of "
        "them)",
        id="rubric-with-no-format",
    ),
    pytest.param(
        SITE + "fetch:\n  per_host: 1000000000000  # <-\n",
        "fetch.per_host",
        "must be at most 1,000, got 1,000,000,000,000",
        id="per-host-past-connections",
    ),
    pytest.param(
        SITE + "fetch:\n  concurrency: 5000  # <-\n",
        "fetch.concurrency",
        "must be at most 1,000, got 5,000",
        id="concurrency-past-connections",
    ),
    pytest.param(
        SITE + "fetch:\n  timeout: 10000000000  # <-\n",
        "fetch.timeout",
        "must be at most 86,400, got 10,000,000,000",
        id="timeout-past-the-clock",
    ),
    pytest.param(
        SITE + "sources:\n  - name: s\n    type: feed\n    url: https://x.example/\n"
        "    timeout: 99999999999  # <-\n",
        "sources[0].timeout",
        "must be at most 86,400, got 99,999,999,999",
        id="source-timeout-past-the-clock",
    ),
    pytest.param(
        SITE + "fetch:\n  timeout: .nan  # <-\n",
        "fetch.timeout",
        "expected a finite number, got nan",
        id="timeout-nan",
    ),
    pytest.param(
        SITE + "schedule:\n  interval: .inf  # <-\n",
        "schedule.interval",
        "a duration must be at most a year (365d), got inf",
        id="interval-inf",
    ),
    pytest.param(
        SITE + "schedule:\n  max_backoff: 100000000w  # <-\n",
        "schedule.max_backoff",
        "a duration must be at most a year (365d), got '100000000w'",
        id="backoff-past-a-year",
    ),
    pytest.param(
        SITE + ONE_SOURCE + "    url: https://x.example/\n    cron: '99 * * * *'  # <-\n",
        "sources[0].cron",
        "not a crontab schedule: Error validating expression '99': "
        "the last value (99) is higher than the maximum value (59)",
        id="cron-minute-99",
    ),
    pytest.param(
        SITE + ONE_SOURCE + "    url: 'file:samples/a.rss'  # <-\n",
        "sources[0].url",
        "a file URL is file:///absolute/path, got 'file:samples/a.rss' "
        "(for a path relative to config.yaml, use 'path')",
        id="file-url-relative",
    ),
    pytest.param(
        # A file name cannot hold one: it was a traceback, not a message
        # (and a service reloading such a config fell over).
        SITE + ONE_SOURCE + "    url: 'file:///srv/a%00.rss'  # <-\n",
        "sources[0].url",
        "a file URL cannot name a path with a NUL character (%00), got 'file:///srv/a%00.rss'",
        id="file-url-nul",
    ),
    pytest.param(
        SITE + ONE_SOURCE + "    url: 'file://samples/a.rss'  # <-\n",
        "sources[0].url",
        "a file URL is file:///absolute/path, got 'file://samples/a.rss' "
        "(for a path relative to config.yaml, use 'path')",
        id="file-url-with-a-host",
    ),
    pytest.param(
        SITE
        + "rubrics:\n  - slug: news\n    title: News\n  - slug: news  # <-\n    title: Other\n",
        "rubrics[1].slug",
        "another rubric already has the slug 'news'",
        id="duplicate-slug",
    ),
    pytest.param(
        SITE + "rubrics:\n  - slug: " + "a" * 65 + "  # <-\n    title: Long\n",
        "rubrics[0].slug",
        "at most 64 characters (it names files), got 65",
        id="slug-too-long",
    ),
    pytest.param(
        "site:\n  title: T\n  base_url: https://x.example/?a=1  # <-\n",
        "site.base_url",
        "expected the folder output/ is served at, with no query, fragment or space "
        "(feed addresses are made by adding file names), got 'https://x.example/?a=1'",
        id="base-url-with-query",
    ),
    pytest.param(
        SITE + "output:\n  dir: /  # <-\n",
        "output.dir",
        "'/' holds config.yaml (or everything): give a folder of its own",
        id="output-dir-root",
    ),
    pytest.param(
        SITE
        + "series:\n"
        + "  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]  # <-\n"
        + "".join(
            f"  - &{b} [{', '.join(['*' + a] * 9)}]\n"
            for a, b in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "series[0]",
        "expected text, got a list",
        id="alias-bomb",
    ),
    # A blank item selector passed `feeds check`, then every build failed
    # the source as a bug; a blank keyword matched every item (an exclude
    # dropped them all, silently).
    pytest.param(
        SITE
        + "sources:\n  - name: page\n    type: html\n    url: https://x.example/\n"
        + "    selectors:\n      item: ' '  # <-\n",
        "sources[0].selectors.item",
        "empty: give a CSS selector, or leave the key out",
        id="blank-item-selector",
    ),
    pytest.param(
        SITE
        + "sources:\n  - name: page\n    type: html\n    url: https://x.example/\n"
        + "    selectors:\n      item: article\n      title: ''  # <-\n",
        "sources[0].selectors.title",
        "empty: give a CSS selector, or leave the key out",
        id="blank-title-selector",
    ),
    pytest.param(
        MINIMAL + "    exclude:\n      - keywords: [ad, ' ']  # <-\n",
        "sources[0].exclude[0].keywords[1]",
        "empty: it would match every item",
        id="blank-keyword",
    ),
    # `sqlite:////dev/null` passed `feeds check`; every command then failed
    # with SQLite's "cannot rollback - no transaction is active".
    pytest.param(
        SITE + "storage:\n  url: sqlite:////dev/null  # <-\n",
        "storage.url",
        "'/dev/null' is not a regular file: give the database file",
        id="store-not-a-regular-file",
    ),
]


@pytest.mark.parametrize(("yaml_text", "key", "detail"), ERROR_CASES)
def test_config_errors(tmp_path: Path, yaml_text: str, key: str, detail: str) -> None:
    line = marked_line(yaml_text)

    error = fail(tmp_path, yaml_text)

    assert (error.line, error.key, error.detail) == (line, key, detail)
    assert error.path == str(tmp_path / "config.yaml")
    named = f" (source '{error.source}')" if error.source else ""
    assert str(error) == f"{tmp_path / 'config.yaml'}:{line}: {key}{named}: {detail}"


def test_an_error_in_a_source_names_the_source(tmp_path: Path) -> None:
    # "sources[137].rubrics[0]" alone sent the operator counting entries.
    text = (
        SITE
        + "rubrics:\n  - slug: film\n    title: Кино\n"
        + "sources:\n  - name: alpha\n    type: feed\n    url: https://a.example/f\n"
        + "  - name: zeta\n    type: feed\n    url: https://z.example/f\n"
        + "    rubrics: [filmz]  # <-\n"
    )
    error = fail(tmp_path, text)
    assert (error.key, error.source) == ("sources[1].rubrics[0]", "zeta")
    assert str(error).endswith(
        f":{marked_line(text)}: sources[1].rubrics[0] (source 'zeta'): "
        "no rubric with slug 'filmz' (did you mean 'film'?)"
    )
    # A misspelt key is checked before the name is read: named all the same.
    misspelt = (
        SITE + "sources:\n  - name: alpha\n    type: feed\n    urll: https://a.example/  # <-\n"
    )
    assert fail(tmp_path, misspelt).source == "alpha"
    # A source whose own name is wrong has none to be named by.
    nameless = SITE + "sources:\n  - name: ''  # <-\n    type: feed\n    url: https://a.example/\n"
    assert fail(tmp_path, nameless).source == ""


INVALID_YAML = [
    pytest.param(
        """\
        site:
          title: Test: Site  # <-
          base_url: https://feeds.example.org/
        """,
        "mapping values are not allowed here",
        id="colon-in-plain-value",
    ),
    pytest.param(
        """\
        site:
          title: Test Site
         base_url: https://feeds.example.org/  # <-
        """,
        "expected <block end>, but found '<block mapping start>'"
        " (while parsing a block mapping at line 1)",
        id="bad-indentation",
    ),
    pytest.param(
        "site:\n\ttitle: Test Site  # <-\n",
        "found character '\\t' that cannot start any token",
        id="tab-indentation",
    ),
    pytest.param(
        """\
        site:
          title: 'Test Site  # <-
          base_url: https://feeds.example.org/
        output:
          dir: out
        """,
        "found unexpected end of stream (while scanning a quoted scalar at line 2)",
        id="unclosed-quote",
    ),
]


@pytest.mark.parametrize(("yaml_text", "problem"), INVALID_YAML)
def test_invalid_yaml_names_the_line(tmp_path: Path, yaml_text: str, problem: str) -> None:
    line = marked_line(yaml_text)

    error = fail(tmp_path, yaml_text)

    assert (error.line, error.key) == (line, "")
    assert str(error) == f"{tmp_path / 'config.yaml'}:{line}: invalid YAML: {problem}"


@pytest.mark.parametrize(
    "yaml_text",
    [
        pytest.param("", id="empty"),
        pytest.param("\n\n", id="blank-lines"),
        pytest.param("# nothing configured yet\n", id="only-a-comment"),
    ],
)
def test_empty_file(tmp_path: Path, yaml_text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml_text, encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert (info.value.line, info.value.key) == (1, "")
    assert str(info.value) == f"{path}:1: the file is empty"


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "too-big"])
def test_a_config_that_is_no_regular_file_or_too_big_is_refused_unread(
    tmp_path: Path, kind: str
) -> None:
    """A FIFO put in its place blocked the read (in a running service's
    reload, deaf to SIGTERM); /dev/zero, or YAML of 50 MB, filled the
    memory (8 GB)."""
    path = tmp_path / "config.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text("sources:\n" + "  - {}\n" * (MAX_CONFIG_BYTES // 7), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    expected = "over the 4 MB" if kind == "too-big" else "regular file"
    assert expected in str(raised.value) and str(path) in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "config.yaml"

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert (info.value.line, info.value.key) == (0, "")
    assert str(info.value) == f"{path}: no such file"


@pytest.mark.parametrize("zero", ["0", "0s", "0m", "0.0"])
def test_a_zero_delay_may_carry_a_unit(tmp_path: Path, zero: str) -> None:
    config = parse(tmp_path, SITE + f"fetch:\n  host_delay: {zero}\nschedule:\n  jitter: {zero}\n")
    assert (config.host_delay, config.schedule.jitter) == (0.0, 0.0)


def test_numbers_with_a_leading_zero_stay_as_written(tmp_path: Path) -> None:
    """YAML 1.1 would read 010 as octal 8."""
    config = parse(tmp_path, SITE + "rubrics:\n  - slug: '010'\n    title: 010\n")
    assert config.rubrics[0].title == "010"


def test_a_file_not_in_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(SITE.encode() + "  description: Café des arts\n".encode("latin-1"))

    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert str(info.value) == f"{path}:4: not UTF-8: byte 0xe9 (save the file as UTF-8)"


HTML_SOURCE = (
    SITE + "sources:\n  - name: page\n    type: html\n    url: https://x.example/\n    selectors:\n"
)


@pytest.mark.parametrize(
    ("selectors", "key", "css"),
    [
        ("      item: 'article['  # <-\n", "sources[0].selectors.item", "article["),
        (
            "      item: article\n      title: 'h2 >> a'  # <-\n",
            "sources[0].selectors.title",
            "h2 >> a",
        ),
        (
            "      item: article\n      link: 'a >> b@href'  # <-\n",
            "sources[0].selectors.link",
            "a >> b",
        ),
    ],
)
def test_a_selector_that_is_not_css_is_refused_by_check(
    tmp_path: Path, selectors: str, key: str, css: str
) -> None:
    """`feeds check` said ok and every fetch then failed the source with
    "not valid CSS", naming neither the line nor the key."""
    text = HTML_SOURCE + selectors
    error = fail(tmp_path, text)
    assert (error.line, error.key) == (marked_line(text), key)
    assert error.detail == f"{css!r} is not valid CSS (Can't parse CSS selector.)"


def test_valid_selectors_with_attributes_pass(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        HTML_SOURCE + "      item: article.card\n      link: 'a.more@href'\n"
        "      image: '@data-src'\n      author: 'a[href^=\"mailto:x@y\"]'\n",
        encoding="utf-8",
    )
    (source,) = load_config(path).sources
    assert dict(source.selectors)["image"] == "@data-src"


def test_output_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    """`feeds check` said ok; `feeds build` then failed with
    "error: output .../notes.txt: File exists", naming no key."""
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    text = SITE + "output:\n  dir: notes.txt  # <-\n"
    error = fail(tmp_path, text)
    assert (error.line, error.key) == (marked_line(text), "output.dir")
    assert "is a file, not a folder" in error.detail


def test_a_default_place_that_cannot_be_used_is_named_as_the_default(tmp_path: Path) -> None:
    """With output.dir and storage.url left out, ./output a file and
    ./feeds.db a folder: both were reported at line 1 (the site's), as if
    written there, and nothing said the config never named them."""
    (tmp_path / "output").write_text("x", encoding="utf-8")
    (tmp_path / "feeds.db").mkdir()
    error = fail(tmp_path, SITE)
    assert [(problem.line, problem.key) for problem in error.problems] == [
        (1, "output.dir"),
        (1, "storage.url"),
    ]
    config = str(tmp_path / "config.yaml")
    assert error.lines() == [
        f"{config}:1: output.dir: {str(tmp_path / 'output')!r} is a file, not a folder "
        "(output.dir is not set: this is its default)",
        f"{config}:1: storage.url: {str(tmp_path / 'feeds.db')!r} is a folder: give the "
        "database file, such as sqlite:///feeds.db/feeds.db "
        "(storage.url is not set: this is its default)",
    ]


def test_a_place_the_file_gives_is_not_called_the_default_even_if_it_reads_as_false(
    tmp_path: Path,
) -> None:
    (tmp_path / "0").write_text("x", encoding="utf-8")
    error = fail(tmp_path, SITE + "storage:\n  url: false\noutput:\n  dir: 0\n")
    assert [problem.key for problem in error.problems] == ["storage.url", "output.dir"]
    assert not any("not set" in problem.detail for problem in error.problems)


@pytest.mark.parametrize("url", ["sqlite:///data", "sqlite:///data/", "data"])
def test_storage_url_that_is_a_folder_is_refused(tmp_path: Path, url: str) -> None:
    """`feeds check` said ok; `feeds build` then failed with "store
    sqlite:///...: cannot open: unable to open database file"."""
    (tmp_path / "data").mkdir()
    text = SITE + f"storage:\n  url: {url}  # <-\n"
    error = fail(tmp_path, text)
    assert (error.line, error.key) == (marked_line(text), "storage.url")
    assert "is a folder" in error.detail and "sqlite:///data/feeds.db" in error.detail


@pytest.mark.parametrize(
    ("storage", "output"),
    [
        ("sqlite:///output/feeds.db", ""),
        ("public/db/feeds.db", "output:\n  dir: public\n"),
    ],
)
def test_a_store_inside_the_output_folder_is_refused(
    tmp_path: Path, storage: str, output: str
) -> None:
    """The store under output/ was published with the feeds: `feeds serve`
    answered GET /feeds.db with the whole database."""
    text = SITE + output + f"storage:\n  url: {storage}  # <-\n"
    error = fail(tmp_path, text)
    assert (error.line, error.key) == (marked_line(text), "storage.url")
    assert "inside output.dir" in error.detail


def test_storage_url_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    """`feeds check` said ok; `feeds build` then failed with "file is not
    a database", naming no key."""
    (tmp_path / "notes.txt").write_text("shopping list\n", encoding="utf-8")
    text = SITE + "storage:\n  url: sqlite:///notes.txt  # <-\n"
    error = fail(tmp_path, text)
    assert (error.line, error.key) == (marked_line(text), "storage.url")
    assert f"{str(tmp_path / 'notes.txt')!r} is not an SQLite database" in error.detail


@pytest.mark.parametrize(
    "content", [None, b"", b"SQLite format 3\x00" + bytes(84)], ids=["absent", "empty", "sqlite"]
)
def test_a_new_empty_or_sqlite_store_file_is_accepted(
    tmp_path: Path, content: bytes | None
) -> None:
    if content is not None:
        (tmp_path / "feeds.db").write_bytes(content)
    config = parse(tmp_path, SITE + "storage:\n  url: sqlite:///feeds.db\n")
    assert config.storage_url == f"sqlite:///{tmp_path / 'feeds.db'}"


@pytest.mark.parametrize(
    ("location", "output", "key"),
    [
        pytest.param("path: output/all.atom", "", "path", id="default-output"),
        pytest.param("path: public/news.rss", "output:\n  dir: public\n", "path", id="path"),
        pytest.param(
            "url: file://{folder}/public/drafts/page.html",
            "output:\n  dir: public\n",
            "url",
            id="file-url-in-a-subfolder",
        ),
        pytest.param(
            "path: public/../public/x.rss", "output:\n  dir: ./public/\n", "path", id="dotted"
        ),
    ],
)
def test_a_local_source_file_inside_the_output_folder_is_refused(
    tmp_path: Path, location: str, output: str, key: str
) -> None:
    """A build writes into output.dir: a source file there could be
    overwritten by a feed of the same name."""
    text = SITE + output + ONE_SOURCE + f"    {location.format(folder=tmp_path)}  # <-\n"
    error = fail(tmp_path, text)
    assert (error.line, error.key) == (marked_line(text), f"sources[0].{key}")
    assert "inside output.dir" in error.detail


def test_a_local_source_file_beside_the_output_folder_is_accepted(tmp_path: Path) -> None:
    config = parse(
        tmp_path,
        SITE
        + ONE_SOURCE
        + "    path: samples/feed.rss\n  - name: two\n    type: feed\n"
        + f"    url: file://{tmp_path}/output-drafts/feed.rss\n",
    )
    assert [s.location for s in config.sources] == [
        str(tmp_path / "samples/feed.rss"),
        f"file://{tmp_path}/output-drafts/feed.rss",
    ]


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        pytest.param(
            "schedule:\n  interval: 500ms  # <-\n", "schedule.interval", id="schedule.interval"
        ),
        pytest.param(
            ONE_SOURCE + "    url: file:///tmp/f.rss\n    interval: 0.001ms  # <-\n",
            "sources[0].interval",
            id="a-local-file-polled-in-a-loop",
        ),
        pytest.param(
            ONE_SOURCE + "    url: https://x.example/f\n    interval: 0.5  # <-\n",
            "sources[0].interval",
            id="bare-seconds",
        ),
    ],
)
def test_an_interval_under_a_second_is_refused(tmp_path: Path, setting: str, key: str) -> None:
    """`interval: 0.001ms` on a local file ran 5,381 fetches in 7 s."""
    text = SITE + setting
    error = fail(tmp_path, text)
    assert (error.line, error.key) == (marked_line(text), key)
    assert "an interval must be at least a second (1s)" in error.detail


def test_an_interval_of_one_second_is_accepted(tmp_path: Path) -> None:
    config = parse(
        tmp_path,
        SITE
        + "schedule:\n  interval: 1s\n"
        + ONE_SOURCE
        + "    url: https://x.example/f\n    interval: 1\n",
    )
    assert (config.schedule.interval, config.sources[0].interval) == (1.0, 1.0)
