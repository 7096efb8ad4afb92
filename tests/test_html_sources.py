"""`type: html` sources end to end: served from 127.0.0.1, built by the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from .conftest import DATA, Server, run_cli, write_config

pytestmark = pytest.mark.slow

HTML = DATA / "html"
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Урал</title><id>tag:u,2026:f</id>
<updated>2026-11-25T10:00:00Z</updated>
<entry><id>tag:u,2026:1</id><title>Из ленты Atom</title>
<link rel="alternate" href="https://uralvesti.example/news/1"/>
<updated>2026-11-25T10:00:00Z</updated><category term="society"/></entry>
</feed>"""


def build(tmp_path: Path, sources: str) -> tuple[int, str, Path]:
    config = write_config(tmp_path, sources)
    done = run_cli("build", "-c", str(config), "-v", "--now", "2026-11-26T09:00:00+00:00")
    return done.returncode, done.stderr, tmp_path / "output"


def test_selector_mode_page(tmp_path: Path, server: Server) -> None:
    url = server.add(
        "/ru/lenta/", (HTML / "cards-ru.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    code, stderr, output = build(
        tmp_path,
        f"  - name: volga\n    type: html\n    url: {url}\n"
        "    selectors:\n"
        "      item: article.card\n      title: h2.card__title\n      link: a.card__link\n"
        "      date: .card__date\n      summary: p.card__lead\n      rubrics: a.tag\n"
        "      image: img.card__img\n      author: .card__author\n",
    )
    assert code == 0, stderr
    feed = feedparser.parse((output / "all.atom").read_bytes())
    assert feed.bozo == 0 and len(feed.entries) >= 2
    assert any(e.link.startswith(server.url + "/ru/") for e in feed.entries)  # made absolute
    for entry in feed.entries:
        # A card with a link keeps it, made absolute; one without gets a derived id.
        assert entry.id.startswith("urn:feeds:volga:") or entry.link.startswith(
            ("http://", "https://")
        )
    as_json = json.loads((output / "all.json").read_text(encoding="utf-8"))
    assert all(item["title"] for item in as_json["items"])


def test_automatic_mode_json_ld_article(tmp_path: Path, server: Server) -> None:
    url = server.add(
        "/article",
        (HTML / "article-jsonld.html").read_bytes(),
        content_type="text/html; charset=utf-8",
    )
    code, stderr, output = build(tmp_path, f"  - name: art\n    type: html\n    url: {url}\n")
    assert code == 0, stderr
    (entry,) = feedparser.parse((output / "all.atom").read_bytes()).entries
    assert entry.title and entry.published


def test_a_page_advertising_its_feed_is_read_through_it(tmp_path: Path, server: Server) -> None:
    server.add("/ural/atom/all.xml", ATOM, content_type="application/atom+xml")
    page = (
        "<!doctype html><html><head><title>Урал</title>"
        '<link rel="alternate" type="application/atom+xml" href="atom/all.xml">'
        "</head><body><p>Новости</p></body></html>"
    )
    url = server.add("/ural/", page, content_type="text/html; charset=utf-8")
    code, stderr, output = build(tmp_path, f"  - name: ural\n    type: html\n    url: {url}\n")
    assert code == 0, stderr
    assert "advertises its own feed; read" in stderr and "/ural/atom/all.xml" in stderr
    (entry,) = feedparser.parse((output / "society.atom").read_bytes()).entries
    assert entry.title == "Из ленты Atom"


def build_beside_a_good_source(
    tmp_path: Path, server: Server, selectors: str
) -> tuple[int, str, Path]:
    """A build of the card page `volga` read with `selectors` (YAML lines
    under `selectors:`) and of a good feed `ok` beside it."""
    url = server.add(
        "/ru/lenta/", (HTML / "cards-ru.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    ok = server.add("/ok.xml", ATOM, content_type="application/atom+xml")
    return build(
        tmp_path,
        f"  - name: volga\n    type: html\n    url: {url}\n    selectors:\n      {selectors}"
        f"  - name: ok\n    type: feed\n    url: {ok}\n",
    )


def test_selector_matching_nothing_fails_the_source_by_name(tmp_path: Path, server: Server) -> None:
    code, stderr, output = build_beside_a_good_source(tmp_path, server, "item: div.no-such-card\n")
    assert code == 1
    assert "source 'volga'" in stderr and "div.no-such-card" in stderr
    assert len(feedparser.parse((output / "all.atom").read_bytes()).entries) == 1


@pytest.mark.parametrize(
    ("field", "selectors"),
    [
        ("title", "item: article.card\n      title: h3.entry-title\n      link: a.card__link\n"),
        ("link", "item: article.card\n      title: h2.card__title\n      link: h3.entry-title a\n"),
    ],
)
def test_a_title_or_link_selector_that_no_longer_fits_the_page_fails_the_source(
    tmp_path: Path, server: Server, field: str, selectors: str
) -> None:
    # After a redesign: the cards are still there, their titles (or links)
    # are not where the selectors look. Every card made one link-less
    # story titled "Untitled", and the source said "ok".
    code, stderr, output = build_beside_a_good_source(tmp_path, server, selectors)
    assert code == 1
    assert "source 'volga'" in stderr and f"{field} selector" in stderr
    assert "found nothing in any of the" in stderr
    titles = [e.title for e in feedparser.parse((output / "all.atom").read_bytes()).entries]
    assert titles == ["Из ленты Atom"]


def test_preview_explains_empty_fields(tmp_path: Path, server: Server) -> None:
    url = server.add(
        "/ru/lenta/", (HTML / "cards-ru.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    config = write_config(
        tmp_path,
        f"  - name: volga\n    type: html\n    url: {url}\n"
        "    selectors:\n      item: article.card\n      title: h2.card__title\n"
        "      date: time.missing\n",
    )
    done = run_cli("preview", "volga", "-c", str(config), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["items"]
    assert any("date: selector 'time.missing' matched nothing" in n for n in report["notes"])


def test_adhoc_preview_with_selector_options(tmp_path: Path, server: Server) -> None:
    url = server.add(
        "/ru/lenta/", (HTML / "cards-ru.html").read_bytes(), content_type="text/html; charset=utf-8"
    )
    config = write_config(tmp_path, f"  - name: volga\n    type: html\n    url: {url}\n")
    done = run_cli(
        "preview",
        "-c",
        str(config),
        "--json",
        "--type",
        "html",
        "--url",
        url,
        "--item",
        "article.card",
        "--title",
        "h2.card__title",
        "--rubrics",
        "a.tag",
    )
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)["items"]
    assert items and all(item["title"] for item in items)
    assert any(item["categories"] for item in items)


def test_a_relative_date_on_an_unchanged_page_is_no_update(tmp_path: Path, server: Server) -> None:
    page = (
        '<!doctype html><html><head><meta charset="utf-8"></head><body>'
        '<div class="card"><a href="/news/1"><h2>Выборы назначены на март</h2></a>'
        '<span class="time">3 часа назад</span></div></body></html>'
    )
    url = server.add("/lenta/", page, content_type="text/html; charset=utf-8")
    config = write_config(
        tmp_path,
        f"  - name: lenta\n    type: html\n    url: {url}\n"
        "    selectors:\n      item: div.card\n      title: h2\n      link: a\n"
        "      date: .time\n",
    )
    first = run_cli("build", "-c", str(config), "--now", "2026-11-26T09:00:00+00:00")
    assert first.returncode == 0, first.stderr
    again = run_cli("build", "-c", str(config), "--now", "2026-11-26T10:00:00+00:00")
    assert again.returncode == 0, again.stderr
    assert "lenta: 1 items, 0 new, 0 updated" in again.stdout
    (entry,) = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries
    assert entry.published.startswith("2026-11-26T09:00:00") and entry.updated == entry.published


def test_preview_numbers_items_as_its_notes_do_when_filters_drop_some(
    tmp_path: Path, server: Server
) -> None:
    page = (
        '<!doctype html><html><head><meta charset="utf-8"></head><body>'
        '<div class="card"><h2>Мост закроют на ремонт</h2><p>Движение ограничат.</p></div>'
        '<div class="card"><h2>Реклама: окна</h2><p>Скидки.</p></div>'
        '<div class="card"><h2>Театр отметил юбилей</h2></div></body></html>'
    )
    url = server.add("/lenta/", page, content_type="text/html; charset=utf-8")
    config = write_config(
        tmp_path,
        f"  - name: lenta\n    type: html\n    url: {url}\n"
        "    selectors:\n      item: div.card\n      title: h2\n      summary: p\n"
        '    exclude:\n      - pattern: "^Реклама"\n        fields: [title]\n',
    )
    done = run_cli("preview", "lenta", "-c", str(config), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["dropped_by_filters"] == 1
    # Both notes on the third card call it item 3, as the parser numbered it.
    assert "item 3: summary: selector 'p' matched nothing" in report["notes"]
    assert "item 3: summary: empty; the source gives none" in report["notes"]
    assert [(i["number"], i["title"]) for i in report["items"]] == [
        (1, "Мост закроют на ремонт"),
        (3, "Театр отметил юбилей"),
    ]
    table = run_cli("preview", "lenta", "-c", str(config))
    assert table.returncode == 0, table.stderr
    assert [line.split()[0] for line in table.stdout.splitlines()[1:3]] == ["1", "3"]
