"""Whole articles for full_content sources: extraction, dates, caching."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from feeds.extract import MAX_ARTICLE_BYTES, MAX_ARTICLE_TAGS, extract_article
from feeds.model import Fetched, ParseContext

from .conftest import BASE_CONFIG, Server, run_cli, tags_left_open, write_config

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CONTEXT = ParseContext(now=NOW, timezone="Europe/Moscow", language="ru")
BODY = "".join(
    f"<p>Абзац {n}: длинный текст статьи о новой выставке в городском музее, "
    "о художниках, кураторах и зрителях, который стоит прочитать целиком.</p>"
    for n in range(8)
)


def page(head: str = "", dateline: str = "") -> bytes:
    return (
        f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Статья</title>{head}'
        "</head><body><nav><a href='/'>Главная</a> <a href='/news'>Новости</a></nav>"
        f"<article><h1>Выставка года</h1>{dateline}{BODY}</article>"
        "<footer>© Редакция, все права защищены</footer></body></html>"
    ).encode()


def fetched(body: bytes) -> Fetched:
    return Fetched(source="s", url="https://news.example/a/1", body=body)


def test_main_text_without_navigation_or_footer() -> None:
    article = extract_article(fetched(page()), CONTEXT)
    assert "Абзац 0" in article.content and "Абзац 7" in article.content
    assert "Главная" not in article.content and "все права" not in article.content


def test_structured_date_keeps_its_offset() -> None:
    head = '<meta property="article:published_time" content="2026-11-25T23:30:00+03:00">'
    article = extract_article(fetched(page(head)), CONTEXT)
    assert article.published == datetime(2026, 11, 25, 23, 30, tzinfo=timezone(timedelta(hours=3)))


def test_text_date_keeps_the_local_calendar_day() -> None:
    article = extract_article(fetched(page(dateline="<p class='date'>25.11.2026</p>")), CONTEXT)
    assert article.published is not None
    assert article.published.date().isoformat() == "2026-11-25"
    assert article.published.utcoffset() == timedelta(hours=3)


def test_an_undated_page_gets_no_invented_date() -> None:
    assert extract_article(fetched(page()), CONTEXT).published is None


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://x.example/</link><description>d</description>
<item><title>Выставка года</title><link>{link}</link></item></channel></rss>"""


@pytest.mark.slow
def test_full_content_fetches_each_article_once(tmp_path: Path, server: Server) -> None:
    article = server.add(
        "/a/1", page(dateline="<p>25.11.2026</p>"), content_type="text/html; charset=utf-8"
    )
    feed = server.add("/feed.rss", RSS.format(link=article), content_type="application/rss+xml")
    config = write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {feed}\n    full_content: true\n"
    )
    for _ in range(2):
        done = run_cli("build", "-c", str(config))
        assert done.returncode == 0, done.stderr
    (entry,) = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    assert "Абзац 7" in entry.content[0].value
    assert entry.published.startswith("2026-11-25")
    assert len(server.hits("/a/1")) == 1  # cached in the store after the first build


@pytest.mark.slow
def test_article_pages_that_never_answer_share_the_sources_time_out(
    tmp_path: Path, server: Server
) -> None:
    """25 article pages of a source with `timeout: 2` that answer only after
    4 s, one at a time (`per_host: 1`): each waited its own time-out, and
    the build took ~50 s. The run's pages now share the source's 2 s,
    waiting for their host's turn included; those it did not reach are
    fetched next run, and the items keep their feed's text."""
    one_at_a_time = BASE_CONFIG.replace("  host_delay: 0\n", "  host_delay: 0\n  per_host: 1\n")
    config = _twenty_five_articles(tmp_path, server, timeout=2, base=one_at_a_time, delay=4)
    started = time.monotonic()
    done = run_cli("build", "-c", str(config))
    took = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert took < 6, f"the build took {took:.1f} s"
    assert "article pages left for the next run" in done.stderr
    entries = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    assert sorted(entry.title for entry in entries) == sorted(f"Story {n}" for n in range(25))


@pytest.mark.slow
def test_the_spacing_a_host_asks_for_does_not_count_against_the_time_out(
    tmp_path: Path, server: Server
) -> None:
    """25 pages that answer at once, `host_delay: 0.1`: 2.5 s of spacing
    for a source with `timeout: 0.5`, and every page is fetched."""
    spaced = BASE_CONFIG.replace("  host_delay: 0\n", "  host_delay: 0.1\n")
    config = _twenty_five_articles(tmp_path, server, timeout=0.5, base=spaced)
    done = run_cli("build", "-c", str(config))

    assert done.returncode == 0, done.stderr
    assert "left for the next run" not in done.stderr
    assert all(len(server.hits(f"/article/{n}")) == 1 for n in range(25))


@pytest.mark.slow
def test_article_pages_past_a_runs_share_are_fetched_next_run_though_the_feed_is_unchanged(
    tmp_path: Path, server: Server
) -> None:
    """30 stories, 25 pages a run: the next builds' feed answered 304, which
    gives no items to find the 5 left from, and they were never fetched.
    A run that leaves pages asks for the whole feed next time."""
    items = "".join(
        f"<item><title>Story {n}</title><link>{server.url}/article/{n}</link>"
        f"<description>Lead {n}</description></item>"
        for n in range(30)
    )
    for n in range(30):
        server.add(f"/article/{n}", page(), content_type="text/html; charset=utf-8")
    feed = server.add(
        "/feed.rss",
        RSS.replace("<item><title>Выставка года</title><link>{link}</link></item>", items),
        content_type="application/rss+xml",
        ETag='"v1"',
    )
    config = write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {feed}\n    full_content: true\n"
    )

    def whole_articles() -> int:
        entries = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
        return sum(
            "Абзац 7" in (entry.get("content") or [{}])[0].get("value", "") for entry in entries
        )

    for _ in range(3):
        done = run_cli("build", "-c", str(config))
        assert done.returncode == 0, done.stderr
    assert whole_articles() == 30
    assert all(len(server.hits(f"/article/{n}")) == 1 for n in range(30))
    # Asked for whole, then, with nothing left, conditionally again.
    conditional = ["if-none-match" in hit for hit in server.hits("/feed.rss")]
    assert conditional == [False, False, True]


def _one_story_with_its_lead(server: Server, tmp_path: Path, article: str) -> Path:
    """A full_content source whose feed (with an ETag, so later builds get
    304s) lists one story, with a lead of its own, at `article`."""
    feed = server.add(
        "/feed.rss",
        RSS.format(link=article).replace(
            "</link></item>", "</link><description>Лид из ленты</description></item>"
        ),
        content_type="application/rss+xml",
        ETag='"v1"',
    )
    return write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {feed}\n    full_content: true\n"
    )


def _the_entry(tmp_path: Path) -> feedparser.FeedParserDict:
    (entry,) = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    return entry


@pytest.mark.slow
def test_an_article_page_that_failed_is_fetched_again_though_the_feed_is_unchanged(
    tmp_path: Path, server: Server
) -> None:
    """An article page that answered 500 once was tried again only when
    the feed's items were read again: behind a feed answering 304, its
    story kept the feed's lead until the feed changed. A run with a failed
    page now asks for the whole feed next time, and the page is fetched."""
    article = server.sequence(
        "/a/1",
        server.route("Internal error", status=500),
        server.route(page(), content_type="text/html; charset=utf-8"),
    )
    config = _one_story_with_its_lead(server, tmp_path, article)

    first = run_cli("build", "-c", str(config))
    assert first.returncode == 0, first.stderr
    assert f"article {article}: HTTP 500" in first.stderr
    assert "tried again next run (1 of 3 tries)" in first.stderr
    assert "Абзац 7" not in str(_the_entry(tmp_path).get("content", ""))
    status = run_cli("status", "-c", str(config))
    assert status.returncode == 0, status.stderr
    (listed,) = [line for line in status.stdout.splitlines() if article in line]
    assert listed.split()[:3] == ["s", article, "1"]
    assert listed.endswith("HTTP 500 Internal Server Error")
    for _ in range(2):
        done = run_cli("build", "-c", str(config))
        assert done.returncode == 0, done.stderr
        assert "article" not in done.stderr
    assert "Абзац 7" in _the_entry(tmp_path).content[0].value
    # Fetched: no longer listed as a page that failed.
    status = run_cli("status", "-c", str(config))
    assert status.returncode == 0, status.stderr
    assert "Article pages" not in status.stdout
    assert article not in status.stdout
    assert len(server.hits("/a/1")) == 2
    # Asked for whole twice (the first build, and the one after the
    # failure), then conditionally: nothing is left to fetch.
    conditional = ["if-none-match" in hit for hit in server.hits("/feed.rss")]
    assert conditional == [False, False, True]


@pytest.mark.slow
def test_an_article_page_that_keeps_failing_is_given_up_after_three_runs(
    tmp_path: Path, server: Server
) -> None:
    """A page that never answers is not asked for on every run for ever,
    nor does it cost its feed every 304: three runs try it, then its story
    keeps the feed's lead and the feed is asked conditionally again."""
    article = server.add("/a/1", "Internal error", status=500)
    config = _one_story_with_its_lead(server, tmp_path, article)

    logs = []
    for _ in range(4):
        done = run_cli("build", "-c", str(config))
        assert done.returncode == 0, done.stderr
        logs.append(done.stderr)
    assert "(2 of 3 tries)" in logs[1]
    assert "given up after 3 tries: the item keeps the source's text" in logs[2]
    assert "article" not in logs[3]
    assert len(server.hits("/a/1")) == 3
    # `feeds status` says which page was given up, and why.
    status = run_cli("status", "-c", str(config))
    assert status.returncode == 0, status.stderr
    (listed,) = [line for line in status.stdout.splitlines() if article in line]
    assert listed.split()[:4] == ["s", article, "3,", "given"]
    assert listed.endswith("HTTP 500 Internal Server Error")
    conditional = ["if-none-match" in hit for hit in server.hits("/feed.rss")]
    assert conditional == [False, False, False, True]
    entry = _the_entry(tmp_path)
    assert entry.summary == "Лид из ленты"
    assert "content" not in entry


@pytest.mark.slow
def test_feeds_retry_has_a_given_up_article_page_fetched_on_the_next_run(
    tmp_path: Path, server: Server
) -> None:
    """Once the site is mended, the operator need not wait for the story
    to be forgotten: `feeds retry` (for the source, a page, or all) forgets
    the failed tries, and the next run asks for the whole feed again and
    fetches the page, though the feed itself is unchanged."""
    failing = server.route("Internal error", status=500)
    article = server.sequence(
        "/a/1", failing, failing, failing, server.route(page(), content_type="text/html")
    )
    config = _one_story_with_its_lead(server, tmp_path, article)
    for _ in range(4):
        done = run_cli("build", "-c", str(config))
        assert done.returncode == 0, done.stderr
    assert len(server.hits("/a/1")) == 3
    status = run_cli("status", "-c", str(config))
    assert "`feeds retry` tries them again" in status.stdout

    unknown = run_cli("retry", "-c", str(config), "no-such-source")
    assert unknown.returncode == 1
    assert "no article page that failed is no-such-source" in unknown.stderr
    retried = run_cli("retry", "-c", str(config), "s")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == (
        f"tried again on the next run of s: {article} "
        "(after 3 failed: HTTP 500 Internal Server Error)"
    )
    status = run_cli("status", "-c", str(config))
    assert article not in status.stdout

    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert len(server.hits("/a/1")) == 4
    assert "Абзац 7" in _the_entry(tmp_path).content[0].value
    conditional = ["if-none-match" in hit for hit in server.hits("/feed.rss")]
    assert conditional == [False, False, False, True, False]
    nothing = run_cli("retry", "-c", str(config))
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout.strip() == "no article page failed: nothing to try again"


def _links_page(paragraphs: int) -> bytes:
    """An article page of `paragraphs` paragraphs that each hold a link:
    four tags each, the shape the extractor takes longest over."""
    body = "".join(
        f'<p><a href="/a/{n}">Ссылка {n}</a> и немного текста рядом с ней.</p>'
        for n in range(paragraphs)
    )
    return f"<html><head><title>Все ссылки</title></head><body>{body}</body></html>".encode()


def test_an_article_page_of_too_many_tags_is_not_read() -> None:
    # 50,000 linked paragraphs (3.6 MB) took the extractor 35 s, in the
    # process that stores every other source; 12,000 (48,000 tags, under
    # a megabyte) over 2 s.
    article = extract_article(fetched(_links_page(12_000)), CONTEXT)
    assert (article.content, article.published) == ("", None)
    assert article.refused.startswith("48,0")
    assert f"over the {MAX_ARTICLE_TAGS:,}" in article.refused
    # A long page within the limit is read.
    within = extract_article(fetched(_links_page(MAX_ARTICLE_TAGS // 4 - 10)), CONTEXT)
    assert not within.refused and "Ссылка 7" in within.content


def test_an_article_page_over_two_megabytes_is_not_read() -> None:
    # A million "&amp;" in one paragraph (10 MB, 14 tags): 5 s to extract.
    body = "<html><body><article><p>" + "&amp;" * (MAX_ARTICLE_BYTES // 5 + 1) + "</p>"
    article = extract_article(fetched((body + "</article></body></html>").encode()), CONTEXT)
    assert (article.content, article.published) == ("", None)
    assert article.refused == "2.0 MiB, over the 2 MiB an article page may have to be read"


def test_an_article_page_that_would_cost_gigabytes_is_not_read() -> None:
    # 500 bold tags of their own classes left open, then paragraphs: each
    # paragraph gets a copy of all of them (see costly_markup).
    body = f"<html><body>{tags_left_open()}</body></html>"
    article = extract_article(fetched(body.encode()), CONTEXT)
    assert (article.content, article.published) == ("", None)
    assert article.refused.startswith("formatting tags left open")


@pytest.mark.slow
def test_an_article_page_too_big_to_read_leaves_the_items_text_and_is_not_fetched_again(
    tmp_path: Path, server: Server
) -> None:
    article = server.add("/a/1", _links_page(12_000), content_type="text/html; charset=utf-8")
    feed = server.add(
        "/feed.rss",
        RSS.format(link=article).replace(
            "</link></item>", "</link><description>Лид из ленты</description></item>"
        ),
        content_type="application/rss+xml",
    )
    config = write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {feed}\n    full_content: true\n"
    )
    first = run_cli("build", "-c", str(config))
    assert first.returncode == 0, first.stderr
    assert f"article {article}: not read: 48,0" in first.stderr
    assert "the item keeps the source's text" in first.stderr
    again = run_cli("build", "-c", str(config))
    assert again.returncode == 0, again.stderr
    assert "not read" not in again.stderr
    (entry,) = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    assert entry.summary == "Лид из ленты"
    assert "Ссылка" not in str(entry.get("content", ""))
    assert len(server.hits("/a/1")) == 1  # remembered as read, with nothing in it


def _twenty_five_articles(
    tmp_path: Path, server: Server, *, timeout: float, base: str, delay: float = 0.0
) -> Path:
    """A full_content source with `timeout` whose feed lists 25 stories,
    each article page answering after `delay`; its config."""
    items = "".join(
        f"<item><title>Story {n}</title><link>{server.url}/article/{n}</link>"
        f"<description>Lead {n}</description></item>"
        for n in range(25)
    )
    for n in range(25):
        server.add(f"/article/{n}", page(), content_type="text/html; charset=utf-8", delay=delay)
    feed = server.add(
        "/feed.rss",
        RSS.replace("<item><title>Выставка года</title><link>{link}</link></item>", items),
        content_type="application/rss+xml",
    )
    return write_config(
        tmp_path,
        f"  - name: s\n    type: feed\n    url: {feed}\n    full_content: true\n"
        f"    timeout: {timeout}\n",
        base,
    )


def test_the_page_is_dated_by_its_own_article_not_by_a_list_it_shows() -> None:
    # A "Popular" or "Read also" block declared as an ItemList of dated
    # articles, ahead of the page's own NewsArticle: the page took the
    # listed article's date (a year too old) as its own.
    popular = (
        '<script type="application/ld+json">{"@context": "https://schema.org",'
        ' "@type": "ItemList", "itemListElement": [{"@type": "ListItem", "position": 1,'
        ' "item": {"@type": "NewsArticle", "headline": "Старое", "url": "/a/old",'
        ' "datePublished": "2025-01-05T10:00:00+03:00"}}]}</script>'
    )
    own = (
        '<script type="application/ld+json">{"@context": "https://schema.org",'
        ' "@type": "NewsArticle", "headline": "Выставка года",'
        ' "datePublished": "2026-11-21T17:00:00+03:00"}</script>'
    )
    article = extract_article(fetched(page(popular + own)), CONTEXT)
    assert article.published == datetime(2026, 11, 21, 17, 0, tzinfo=timezone(timedelta(hours=3)))


def test_the_page_is_dated_by_the_article_at_its_own_address() -> None:
    # Microdata cards of related stories above the page's own article.
    related = "".join(
        f'<div itemscope itemtype="https://schema.org/NewsArticle"><a itemprop="url"'
        f' href="/a/{n}"><span itemprop="headline">Другое {n}</span></a>'
        f'<time itemprop="datePublished" datetime="2026-0{n}-01T10:00:00+03:00"></time></div>'
        for n in (2, 3)
    )
    own = (
        '<div itemscope itemtype="https://schema.org/NewsArticle">'
        '<link itemprop="mainEntityOfPage" href="https://news.example/a/1">'
        '<meta itemprop="headline" content="Выставка года">'
        '<meta itemprop="datePublished" content="2026-11-24T12:30:00+03:00"></div>'
    )
    body = page().replace(b"<article>", (related + own).encode() + b"<article>")
    article = extract_article(fetched(body), CONTEXT)
    assert article.published == datetime(2026, 11, 24, 12, 30, tzinfo=timezone(timedelta(hours=3)))


@pytest.mark.slow
def test_full_content_date_of_an_article_page_with_a_popular_list(
    tmp_path: Path, server: Server
) -> None:
    head = (
        '<script type="application/ld+json">{"@type": "ItemList", "itemListElement": ['
        '{"@type": "NewsArticle", "headline": "Старое", "url": "/a/old",'
        ' "datePublished": "2025-01-05T10:00:00+03:00"}]}</script>'
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2026-11-21T17:00:00+03:00">'
    )
    article = server.add("/a/1", page(head), content_type="text/html; charset=utf-8")
    feed = server.add("/feed.rss", RSS.format(link=article), content_type="application/rss+xml")
    config = write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {feed}\n    full_content: true\n"
    )
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    (entry,) = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    assert entry.published.startswith("2026-11-21T17:00:00+03:00"), entry.published


def test_an_article_page_at_the_calendars_end_or_nested_too_deeply_costs_its_date_alone(
    tmp_path: Path, server: Server
) -> None:
    """A page dated 31 Dec 9999 at -12:00 (year 10,000 in UTC, which no
    store can write) ended the build; one nested 120,000 blocks deep held
    it for minutes. Both articles keep the feed's own text and date."""
    far = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Выставка года",'
        ' "datePublished": "Fri, 31 Dec 9999 23:59:59 -1200"}</script>'
    )
    first = server.add("/a/far", page(far), content_type="text/html; charset=utf-8")
    deep = page().replace(b"<article>", b"<div>" * 120_000 + b"<article>")
    second = server.add("/a/deep", deep, content_type="text/html; charset=utf-8")
    rss = RSS.format(link=first).replace(
        "</channel>",
        f"<item><title>Глубокая</title><link>{second}</link>"
        "<pubDate>Tue, 24 Nov 2026 10:00:00 +0300</pubDate></item></channel>",
    )
    feed = server.add("/feed.rss", rss, content_type="application/rss+xml")
    config = write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {feed}\n    full_content: true\n"
    )
    started = time.monotonic()
    done = run_cli("build", "-c", str(config))
    # A bound on a hang, as the hostile tests set: the deep page took 64 s
    # to parse (the build itself takes about a second).
    assert time.monotonic() - started < 20, "the deeply nested page was parsed"
    assert done.returncode == 0, done.stderr
    entries = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    by_title = {entry.title: entry for entry in entries}
    assert set(by_title) == {"Выставка года", "Глубокая"}
    assert "Абзац 7" in by_title["Выставка года"].content[0].value
    assert not by_title["Выставка года"].published.startswith("9999")
    assert by_title["Глубокая"].published.startswith("2026-11-24")
