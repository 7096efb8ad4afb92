"""RFC 5005 archives: what a syndication partner sees when it walks a feed's
history, cycle after cycle, over HTTP from `feeds serve`.

The partner's algorithm is the RFC's: read the current document, follow
`prev-archive` to the end, merge by item id. Every item published in the
feed must come back, each archive page must hold its own items only, and a
page, once written, must never change.
"""

from __future__ import annotations

import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import feedparser
import httpx
import pytest

from feeds.model import ArchivePage, Item, Site
from feeds.render import (
    FeedSpec,
    archive_entry,
    archive_row_entry,
    render_archive,
    render_feed,
)
from feeds.serve import ServerThread, ServeSettings, create_app
from feeds.store import Store

from .conftest import BASE_CONFIG, Server, downgrade_store, run_cli, write_config

if TYPE_CHECKING:
    from .test_service import Running

HISTORY_NS = "http://purl.org/syndication/history/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
PAGE = 3  # output.archive_page_size
KEEP = 4  # output.max_items
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class Story:
    number: int
    title: str
    hours: int  # after T0
    art: bool

    @property
    def guid(self) -> str:
        return f"urn:story:{self.number}"


def story(number: int, *, hours: int | None = None, title: str = "") -> Story:
    return Story(
        number,
        title or f"Новость {number}",
        number if hours is None else hours,
        art=number % 2 == 1,
    )


def rss(stories: list[Story]) -> str:
    items = "".join(
        "<item>"
        f"<title>{escape(s.title)}</title>"
        f"<link>https://source.example/{s.number}</link>"
        f'<guid isPermaLink="false">{s.guid}</guid>'
        f"<pubDate>{format_datetime(T0 + timedelta(hours=s.hours))}</pubDate>"
        f"<description>&lt;p&gt;Текст {s.number}&lt;/p&gt;</description>"
        + ("<category>art</category>" if s.art else "")
        + "</item>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Source</title><link>https://source.example/</link>{items}</channel></rss>"
    )


@dataclass
class Walk:
    """What a partner collected from one feed: the entries of the current
    document and of each archive page, newest page first."""

    current: list[str]
    pages: list[tuple[str, list[str]]]

    def merged(self) -> set[str]:
        ids = set(self.current)
        for _url, page in self.pages:
            ids.update(page)
        return ids


def walk(url: str) -> Walk:
    """Read the current document and follow prev-archive to the end."""
    current = feedparser.parse(url)
    assert not current.bozo, current.get("bozo_exception")
    walked = Walk(current=[e.id for e in current.entries], pages=[])
    link = _link(current, "prev-archive")
    seen = set()
    while link:
        assert link not in seen, f"prev-archive loops back to {link}"
        seen.add(link)
        page = feedparser.parse(link)
        assert not page.bozo, (link, page.get("bozo_exception"))
        assert page.get("status") == 200, link
        assert _link(page, "current") == url
        walked.pages.append((link, [e.id for e in page.entries]))
        link = _link(page, "prev-archive")
    return walked


def _link(document: feedparser.FeedParserDict, rel: str) -> str:
    found = [link.href for link in document.feed.get("links", []) if link.get("rel") == rel]
    assert len(found) <= 1, (rel, found)
    return found[0] if found else ""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`feeds serve`'s app over tmp_path/output; yields its base URL."""
    output = tmp_path / "output"
    output.mkdir()
    settings = ServeSettings(
        output_dir=output,
        storage_url=f"sqlite:///{tmp_path / 'feeds.db'}",
        max_age=60,
        sources=("source",),
        stale_after=3600.0,
    )
    thread = ServerThread(create_app(lambda: settings), "127.0.0.1", 0)
    thread.start()
    try:
        yield f"http://127.0.0.1:{thread.port}/"
    finally:
        thread.stop()


def _config(tmp_path: Path, server: Server, base_url: str) -> Path:
    base = BASE_CONFIG.replace("https://feeds.example.org/", base_url).replace(
        "  max_items: 50\n", f"  max_items: {KEEP}\n  archive_page_size: {PAGE}\n"
    )
    url = server.url + "/feed.rss"
    return write_config(tmp_path, f"  - name: source\n    type: feed\n    url: {url}\n", base)


def _build(config: Path) -> str:
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    return done.stdout


def _archive_files(output: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(output)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted((output / "archive").rglob("*"))
        if path.is_file()
    }


def test_archives_can_be_turned_off_and_on_again(
    tmp_path: Path, server: Server, served: str
) -> None:
    """`archive_page_size: 0` writes no page and links none; set again, the
    next build archives every item the current document no longer holds."""
    config = _config(tmp_path, server, served)
    on = config.read_text(encoding="utf-8")
    config.write_text(on.replace(f"archive_page_size: {PAGE}", "archive_page_size: 0"))
    server.add("/feed.rss", rss([story(n) for n in range(1, 11)]))
    output = tmp_path / "output"
    _build(config)
    assert not (output / "archive").exists()
    off = walk(served + "all.atom")
    assert len(off.current) == KEEP
    assert off.pages == []
    assert ">Архив<" not in (output / "index.html").read_text(encoding="utf-8")

    config.write_text(on)
    _build(config)
    chain = walk(served + "all.atom")
    assert chain.merged() == {story(n).guid for n in range(1, 11)}
    assert all(len(ids) <= PAGE for _url, ids in chain.pages)
    assert ">Архив<" in (output / "index.html").read_text(encoding="utf-8")


def test_a_lost_page_is_written_again_by_the_next_build_even_with_nothing_new(
    tmp_path: Path, server: Server, served: str
) -> None:
    config = _config(tmp_path, server, served)
    server.add("/feed.rss", rss([story(n) for n in range(1, 8)]))  # all: 2 pages
    _build(config)
    output = tmp_path / "output"
    before = _archive_files(output)
    (output / "archive" / "all" / "1.atom").unlink()
    (output / "archive" / "art" / "1.rss").unlink()

    out = _build(config)

    assert "2 files written (2 of them in archive/)" in out
    after = _archive_files(output)
    assert {name: data for name, (data, _mtime) in after.items()} == {
        name: data for name, (data, _mtime) in before.items()
    }
    assert "0 files written" in _build(config)


def test_a_store_rebuilt_over_an_old_output_writes_its_own_pages(
    tmp_path: Path, server: Server, served: str
) -> None:
    """The store is lost and built again from the sources, into the same
    output/: its page numbers hold other items than the pages on disk, so
    its pages are written over them, and the chain again holds every item
    exactly where the store says."""
    config = _config(tmp_path, server, served)
    newer = [story(n) for n in range(1, 8)]
    older = [story(n, hours=-n) for n in range(8, 15)]
    server.add("/feed.rss", rss(newer))
    _build(config)
    server.add("/feed.rss", rss(newer + older))
    _build(config)
    for name in ("feeds.db", "feeds.db-wal", "feeds.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)

    out = run_cli("build", "-c", str(config))

    assert out.returncode == 0, out.stderr
    assert "archive pages written from another store" in out.stderr
    chain = walk(served + "all.atom")
    everything = [s.guid for s in newer + older]
    assert sorted(chain.merged()) == sorted(everything)
    paged = [item_id for _url, ids in chain.pages for item_id in ids]
    assert len(paged) == len(set(paged)) == 12  # four full pages, no item twice
    again = run_cli("build", "-c", str(config))
    assert "another store" not in again.stderr
    assert "0 files written" in again.stdout


def test_a_new_store_over_an_old_output_says_so_once_before_its_first_page(
    tmp_path: Path, server: Server, served: str
) -> None:
    """A new store with too few items for a page yet, over an old output/:
    the warning came at every publish (three in three seconds from a
    service) until its first page filled."""
    config = _config(tmp_path, server, served)
    server.add("/feed.rss", rss([story(n) for n in range(1, 11)]))
    _build(config)
    for name in ("feeds.db", "feeds.db-wal", "feeds.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    server.add("/feed.rss", rss([story(20)]))

    first = run_cli("build", "-c", str(config))
    server.add("/feed.rss", rss([story(20), story(21)]))
    second = run_cli("build", "-c", str(config))

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "archive pages written from another store" in first.stderr
    assert "another store" not in second.stderr
    assert "1 new" in second.stderr or "1 new" in second.stdout
    # The other store's pages are gone: none passes for this store's.
    assert not list((tmp_path / "output" / "archive").glob("*/*.atom"))


def test_a_rebuilt_store_with_fewer_pages_drops_the_old_ones_past_its_own(
    tmp_path: Path, server: Server, served: str
) -> None:
    """The old store had more pages than the new one: those past the new
    store's last page are removed, so that when it grows the pages it
    numbers there are written, not taken for already on disk."""
    config = _config(tmp_path, server, served)
    server.add("/feed.rss", rss([story(n) for n in range(1, 15)]))  # 4 pages
    _build(config)
    for name in ("feeds.db", "feeds.db-wal", "feeds.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    server.add("/feed.rss", rss([story(n) for n in range(20, 27)]))  # 1 page
    _build(config)
    assert not (tmp_path / "output" / "archive" / "all" / "3.atom").exists()
    grown = [story(n) for n in range(20, 34)]
    server.add("/feed.rss", rss(grown))

    _build(config)

    chain = walk(served + "all.atom")
    assert sorted(chain.merged()) == sorted(s.guid for s in grown)
    paged = [item_id for _url, ids in chain.pages for item_id in ids]
    assert len(paged) == len(set(paged))


def test_walking_the_archive_recovers_every_item_cycle_after_cycle(
    tmp_path: Path, server: Server, served: str
) -> None:
    config = _config(tmp_path, server, served)
    output = tmp_path / "output"
    cycles = [
        [story(n) for n in range(1, 6)],
        # A feed shows only its latest stories: 1-5 scroll off.
        [story(n) for n in range(6, 12)],
        # New stories, and one already archived is edited at its source.
        [story(n) for n in range(12, 17)] + [story(7, title="Новость 7 (исправлено)")],
        # One arrives late with the oldest date of all.
        [story(n) for n in range(12, 17)] + [story(0, hours=-100)],
    ]
    published: set[int] = set()
    before: dict[str, tuple[bytes, int]] = {}
    for number, stories in enumerate(cycles, 1):
        server.add("/feed.rss", rss(stories))
        _build(config)
        published.update(s.number for s in stories)
        expected = {
            "all": {f"urn:story:{n}" for n in published},
            "art": {f"urn:story:{n}" for n in published if n % 2 == 1},
        }
        for slug, ids in expected.items():
            for suffix in ("atom", "rss"):
                walked = walk(f"{served}{slug}.{suffix}")
                assert walked.merged() == ids, (number, slug, suffix)
                # Each item on one page only, pages of at most PAGE items.
                paged = [i for _url, page in walked.pages for i in page]
                assert len(paged) == len(set(paged))
                assert all(0 < len(page) <= PAGE for _url, page in walked.pages)
                # The current document keeps its size: the newest KEEP.
                assert len(walked.current) == min(KEEP, len(ids))
        if number == 4:
            # The late story is older than everything: not in the current
            # document, so it went straight to a page (a short one).
            combined = walk(f"{served}all.atom")
            assert "urn:story:0" not in combined.current
            assert "urn:story:0" in combined.pages[0][1]
            assert len(combined.pages[0][1]) < PAGE
        if number == 3:
            # Pages written earlier are byte for byte (and mtime) the same:
            # the edit of story 7 does not reach its archived copy.
            after = _archive_files(output)
            assert {name: after[name] for name in before} == before
            assert len(after) > len(before)
            page = next(
                feedparser.parse(url)
                for url, ids in walk(f"{served}all.atom").pages
                if "urn:story:7" in ids
            )
            titles = {e.id: e.title for e in page.entries}
            assert titles["urn:story:7"] == "Новость 7"
        before = _archive_files(output)


def test_archive_pages_carry_the_rfc_5005_markers_and_cache_for_ever(
    tmp_path: Path, server: Server, served: str
) -> None:
    config = _config(tmp_path, server, served)
    server.add("/feed.rss", rss([story(n) for n in range(1, 8)]))  # 7 items: 2 pages
    out = _build(config)
    archive = tmp_path / "output" / "archive"
    pages = [path for path in archive.rglob("*.*") if not path.name.startswith(".")]
    assert len(pages) == 6  # all: 2 pages, art (1, 3, 5, 7): 1 page; in Atom and RSS
    assert (archive / ".store").is_file()  # which store wrote them: not a page
    assert "files written (6 of them in archive/)" in out
    with httpx.Client(base_url=served, timeout=5) as client:
        for suffix in ("atom", "rss"):
            response = client.get(f"archive/all/2.{suffix}", headers={"Accept": "*/*"})
            assert response.status_code == 200
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            root = ET.fromstring(response.content)
            channel = root if suffix == "atom" else root.find("channel")
            assert channel is not None
            assert channel.find(f"{{{HISTORY_NS}}}archive") is not None
            links = {
                link.get("rel"): link.get("href") for link in channel.findall(f"{{{ATOM_NS}}}link")
            }
            assert links["self"] == f"{served}archive/all/2.{suffix}"
            assert links["current"] == f"{served}all.{suffix}"
            assert links["prev-archive"] == f"{served}archive/all/1.{suffix}"
            # Written in advance, so the page never has to change.
            assert links["next-archive"] == f"{served}archive/all/3.{suffix}"
            assert client.get(links["next-archive"]).status_code == 404
            first = ET.fromstring(client.get(f"archive/all/1.{suffix}").content)
            first_channel = first if suffix == "atom" else first.find("channel")
            assert first_channel is not None
            rels = [link.get("rel") for link in first_channel.findall(f"{{{ATOM_NS}}}link")]
            assert "prev-archive" not in rels
            # The stylesheet two folders up is the one published.
            assert b'href="../../feeds.xsl"' in response.content
            assert client.get("archive/all/../../feeds.xsl").status_code in (200, 404)
            assert client.get("feeds.xsl").status_code == 200
            # The current document is no archive page.
            current = ET.fromstring(client.get(f"all.{suffix}").content)
            assert current.find(f".//{{{HISTORY_NS}}}archive") is None
        # The index leads people to the history too.
        index = client.get("", headers={"Accept": "text/html"}).text
        assert '<a href="archive/all/2.atom" type="application/atom+xml">Архив</a>' in index
        assert "(2 страницы)" in index and '"archive/art/1.atom"' in index
        for bad in (
            "archive/.store",
            "archive/all/.feeds-x.tmp",
            "archive/x/y/1.atom",
            "archive/..%2fall.atom",
        ):
            assert client.get(bad).status_code == 404, bad


SITE = Site(title="Сайт", base_url="https://feeds.example.org/", timezone="Europe/Moscow")


def _items() -> list[Item]:
    when = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    return [
        Item(
            source="s",
            id="https://a.example/1",
            title="Ссылка & <теги>",
            link="https://a.example/1",
            summary="<p>Кратко</p>",
            content="<p>Полностью <b>всё</b></p>",
            author="Анна",
            published=when,
            updated=when + timedelta(hours=2),
            rubrics=("art", "news"),
            image="https://a.example/1.jpg",
            image_type="image/png",
            image_length=1234,
        ),
        Item(source="s", id="urn:x:2", title="Без ссылки", summary="<p>Только</p>", published=when),
        Item(source="s", id="urn:x:3", title="Пусто", link="https://a.example/3", published=when),
        Item(
            source="s",
            id="urn:x:4",
            title="Картинка без размера",
            link="https://a.example/4",
            content="<p>Текст</p>",
            published=when - timedelta(days=3),
            image="https://a.example/4.jpg",
        ),
    ]


@pytest.mark.parametrize("suffix", ["atom", "rss"])
def test_archive_entries_read_the_same_as_the_current_documents(suffix: str) -> None:
    """Archive pages have their own writer; a reader must not tell."""
    items = tuple(_items())
    spec = FeedSpec(
        slug="all",
        title="Всё",
        description="",
        items=items,
        updated=datetime(2026, 11, 25, tzinfo=UTC),
        labels={"art": "Искусство", "news": "Новости"},
    )
    current = feedparser.parse(render_feed(SITE, spec, suffix))
    entries = [archive_entry(SITE, spec.labels, item) for item in items]
    first = ArchivePage("all", 1, 1, 4)
    page = feedparser.parse(render_archive(SITE, spec, first, entries, suffix))
    assert not current.bozo and not page.bozo
    fields = (
        "id",
        "title",
        "link",
        "summary",
        "content",
        "author",
        "published_parsed",
        "updated_parsed",
        "tags",
        "enclosures",
    )
    assert len(page.entries) == len(current.entries) == len(items)
    for ours, theirs in zip(page.entries, current.entries, strict=True):
        for name in fields:
            # (RSS has no updated date; asking feedparser for one warns.)
            present = dict.__contains__(theirs, name), dict.__contains__(ours, name)
            assert present[0] == present[1], (ours.id, name)
            if present[0]:
                assert ours[name] == theirs[name], (ours.id, name)


def test_pages_write_a_stored_item_as_its_item_reads(tmp_path: Path) -> None:
    """Pages are written from the stored bytes, not from Items: every field
    must come out as the item read back from the store writes it."""
    when = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    items = [
        *_items(),
        Item(source="s", id="urn:x:5", title="«Кавычки» \"и\" 'апостроф' & <b>", published=when),
        Item(
            source="s",
            id="urn:x:6",
            title="Одно и то же",
            link="https://a.example/6?a=1&b=2",
            summary="<p>Один текст</p>",
            content="<p>Один текст</p>",
            author="Иван & Пётр <ред.>",
            published=when - timedelta(days=400),
            rubrics=("news",),
        ),
        Item(
            source="s",
            id="https://a.example/7\x01",
            title="Управляющий знак",
            link="https://a.example/7\x01",
            summary="<p>Текст</p>",
            published=when,
            image="https://a.example/7\x02.gif",
            image_type="",
            image_length=0,
        ),
    ]
    labels = {"art": "Искусство", "news": "Новости & <всё>"}
    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        with store.transaction():
            store.upsert(items, now=when + timedelta(days=1))
        stored = store.latest(limit=100)
        rows = store.archive_rows([item.id for item in stored])
    assert len(stored) == len(rows) == len(items)
    for item in stored:
        written = archive_row_entry(SITE, labels, rows[item.id])
        assert written == archive_entry(SITE, labels, item), item.id
        assert written.atom.decode().count("<category ") == len(item.rubrics)


def _newest(store: Store, slug: str, count: int) -> set[str]:
    """The ids of a feed's current document of `count` items."""
    return {item.id for item in store.latest(None if slug == "all" else slug, count)}


def test_membership_survives_leaving_a_rubric_and_is_never_doubled(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)

    def item(n: int, rubrics: tuple[str, ...]) -> Item:
        return Item(
            source="s",
            id=f"urn:x:{n}",
            title=f"Статья {n}",
            published=now - timedelta(hours=10 - n),
            rubrics=rubrics,
        )

    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        with store.transaction():
            store.upsert([item(n, ("art",)) for n in (1, 2, 3)], now=now)
            pages = store.archive_pages("art", 2, _newest(store, "art", 10))
        assert [(p.first, p.last) for p in pages] == [(1, 2)]
        assert store.archived_ids(pages[0]) == ["urn:x:2", "urn:x:1"]
        with store.transaction():
            store.upsert([item(1, ())], now=now)  # leaves the rubric
            store.upsert([item(1, ("art",))], now=now)  # and comes back
            store.upsert([item(4, ("art",))], now=now)
            pages = store.archive_pages("art", 2, _newest(store, "art", 10))
        # Item 1 keeps its place; only item 4 is new to the feed.
        assert [(p.first, p.last) for p in pages] == [(1, 2), (3, 4)]
        assert store.archived_ids(pages[1]) == ["urn:x:4", "urn:x:3"]
        with store.transaction():
            # A smaller page size applies to new pages only.
            store.upsert([item(n, ("art",)) for n in (5, 6)], now=now)
            pages = store.archive_pages("art", 1, _newest(store, "art", 10))
        assert [(p.first, p.last) for p in pages] == [(1, 2), (3, 4), (5, 5), (6, 6)]
        with store.transaction():
            # Item 7 joins and leaves at once: out of the current document,
            # so the short rest becomes a page rather than be out of reach.
            store.upsert([item(7, ("art",)), item(8, ("art",))], now=now)
            store.upsert([item(7, ())], now=now)
            pages = store.archive_pages("art", 5, _newest(store, "art", 10))
        assert [(p.first, p.last) for p in pages][-1] == (7, 8)
        with store.transaction():
            store.upsert([item(9, ("art",))], now=now)
            assert (
                store.archive_pages("art", 5, _newest(store, "art", 10))[-1].last == 8
            )  # 9 is current


def test_an_older_store_joins_its_items_to_the_feeds_in_date_order(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    now = datetime(2026, 11, 25, tzinfo=UTC)
    with Store(f"sqlite:///{path}") as store, store.transaction():
        store.upsert(
            [
                Item(
                    source="s",
                    id=f"urn:x:{n}",
                    title=f"Статья {n}",
                    published=now - timedelta(days=n),
                    rubrics=("art",) if n % 2 else (),
                )
                for n in range(1, 6)
            ],
            now=now,
        )
    downgrade_store(path, 4)
    with Store(f"sqlite:///{path}") as store:
        with store.transaction():
            everything = store.archive_pages("all", 5, _newest(store, "all", 5))
            art = store.archive_pages("art", 1, _newest(store, "art", 5))
        assert store.archived_ids(everything[0]) == [f"urn:x:{n}" for n in range(1, 6)]
        assert [store.archived_ids(page)[0] for page in art] == [
            "urn:x:5",
            "urn:x:3",
            "urn:x:1",
        ]


def test_a_first_run_with_many_pages_writes_them_in_worker_processes(
    tmp_path: Path, server: Server, served: str
) -> None:
    """Fifty sources start worker processes; three hundred one-item pages
    are shared among them. The chain must be whole all the same."""
    sources = ""
    for n in range(50):
        stories = [story(n * 3 + k, hours=n * 3 + k) for k in range(3)]
        for s in stories:
            s.title = f"Источник {n}, новость {s.number}"
        url = server.add(f"/s{n}.rss", rss(stories))
        sources += f"  - name: s{n}\n    type: feed\n    url: {url}\n"
    base = BASE_CONFIG.replace("https://feeds.example.org/", served).replace(
        "  max_items: 50\n", "  max_items: 5\n  archive_page_size: 1\n"
    )
    done = run_cli("build", "-c", str(write_config(tmp_path, sources, base)))
    assert done.returncode == 0, done.stderr
    output = tmp_path / "output"
    walked = walk(f"{served}all.atom")
    paged = [i for _url, page in walked.pages for i in page]
    assert sorted(paged) == sorted(f"urn:story:{n}" for n in range(150))
    assert len(walked.current) == 5
    art = walk(f"{served}art.rss")
    assert art.merged() == {f"urn:story:{n}" for n in range(150) if n % 2 == 1}
    assert not list(output.rglob(".feeds-*")), "temporary files left behind"


def test_a_folder_in_the_way_fails_the_build_naming_it_and_leaves_no_temporaries(
    tmp_path: Path, server: Server, served: str
) -> None:
    config = _config(tmp_path, server, served)
    server.add("/feed.rss", rss([story(n) for n in range(1, 8)]))
    output = tmp_path / "output"
    (output / "archive").write_text("not a folder", encoding="utf-8")
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 1
    # The file in the way, not the first page it stopped ("Not a directory").
    assert f"{output / 'archive'}: a file is in the way" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not list(output.rglob(".feeds-*"))
    # Once the way is clear, the next build writes every page.
    (output / "archive").unlink()
    _build(config)
    assert walk(f"{served}all.atom").merged() == {f"urn:story:{n}" for n in range(1, 8)}


def test_a_failure_rendering_the_current_documents_leaves_no_page_half_done(
    tmp_path: Path, server: Server, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The current documents are rendered while the archive pages are
    still being written; if rendering fails, those pages are dropped
    whole (no temporaries) and the next build writes the complete chain."""
    from feeds import output, pipeline
    from feeds.config import load_config

    config = _config(tmp_path, server, served)
    server.add("/feed.rss", rss([story(n) for n in range(1, 12)]))

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("the disk went away while rendering")

    monkeypatch.setattr(output, "render_feed", broken)
    with pytest.raises(RuntimeError, match="went away"):
        pipeline.run_once(load_config(config), now=T0 + timedelta(days=1))
    output = tmp_path / "output"
    assert not list(output.rglob(".feeds-*")), "temporary files left behind"
    assert not (output / "all.atom").exists()
    monkeypatch.undo()
    _build(config)
    assert walk(f"{served}all.atom").merged() == {f"urn:story:{n}" for n in range(1, 12)}
    assert walk(f"{served}art.rss").merged() == {
        f"urn:story:{n}" for n in range(1, 12) if story(n).art
    }


@pytest.mark.slow
def test_the_service_archives_as_it_goes(tmp_path: Path, server: Server) -> None:
    """`feeds run`: each fetch brings two more stories; pages fill and are
    written by the service itself, and the chain it serves is complete."""
    from .test_service import SERVICE, Running

    versions = [[story(n) for n in range(1, 2 * v + 1)][-4:] for v in range(1, 7)]
    url = server.sequence("/feed.rss", *(server.route(rss(stories)) for stories in versions))
    base = BASE_CONFIG.replace(
        "  max_items: 50\n", f"  max_items: {KEEP}\n  archive_page_size: {PAGE}\n"
    )
    config = write_config(
        tmp_path,
        f"  - name: source\n    type: feed\n    url: {url}\n    interval: 0.3s\n",
        base + SERVICE,
    )
    service = Running(config)
    try:

        def fetch(address: str) -> bytes:
            local = address.replace("https://feeds.example.org/", service.url)
            return httpx.get(local, timeout=5).content

        def newest_is_out() -> bool:
            return b"urn:story:12" in fetch(service.url + "all.atom")

        service.wait_for(newest_is_out, timeout=20)
        for slug, wanted in (("all", range(1, 13)), ("art", range(1, 13, 2))):
            current = feedparser.parse(fetch(f"https://feeds.example.org/{slug}.atom"))
            ids = [e.id for e in current.entries]
            assert len(ids) == KEEP
            paged: list[str] = []
            link = _link(current, "prev-archive")
            while link:
                page = feedparser.parse(fetch(link))
                assert not page.bozo
                assert 0 < len(page.entries) <= PAGE
                paged += [e.id for e in page.entries]
                link = _link(page, "prev-archive")
            assert len(paged) == len(set(paged))
            assert set(paged) | set(ids) == {f"urn:story:{n}" for n in wanted}, slug
        assert service.stop() == 0
        # Which store wrote the pages: a service started on a new store
        # never said (its first publish had no pages yet), and a store
        # rebuilt after a loss took them for its own.
        with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
            owner = (tmp_path / "output" / "archive" / ".store").read_text().strip()
            assert owner == store.identity()
    finally:
        service.close()


def _fifty_sources_served(tmp_path: Path, server: Server, served: str) -> Running:
    """`feeds run` over fifty hourly sources of three stories each, with
    one-item archive pages: a first publish of hundreds of pages."""
    from .test_service import SERVICE, Running

    sources = ""
    for n in range(50):
        stories = [story(n * 3 + k, hours=n * 3 + k) for k in range(3)]
        url = server.add(f"/s{n}.rss", rss(stories))
        sources += f"  - name: s{n}\n    type: feed\n    url: {url}\n    interval: 1h\n"
    base = BASE_CONFIG.replace("https://feeds.example.org/", served).replace(
        "  max_items: 50\n", "  max_items: 5\n  archive_page_size: 1\n"
    )
    return Running(write_config(tmp_path, sources, base + SERVICE))


@pytest.mark.slow
def test_the_service_has_its_worker_processes_write_many_pages(
    tmp_path: Path, server: Server, served: str
) -> None:
    """Fifty sources at once in `feeds run`: the publish that follows has
    hundreds of one-item pages, which the service's parsing workers write.
    The chains must be whole all the same."""
    service = _fifty_sources_served(tmp_path, server, served)
    everything = {f"urn:story:{n}" for n in range(150)}
    try:
        service.wait_for(lambda: walk(f"{served}all.atom").merged() == everything, timeout=30)
        # Nothing stays pending once all is out, and the service's look for
        # lost files (every 5 s) finds none: written pages are not lost.
        time.sleep(6)
        service.wait_for(lambda: not _pending(tmp_path), timeout=15)
        assert service.stop() == 0
    finally:
        service.close()
    assert "missing files" not in service.stderr()
    assert "bodies are parsed in" in service.stderr()
    walked = walk(f"{served}all.atom")
    paged = [i for _url, page in walked.pages for i in page]
    assert sorted(paged) == sorted(everything)  # each on exactly one page
    art = walk(f"{served}art.rss")
    assert art.merged() == {f"urn:story:{n}" for n in range(150) if n % 2 == 1}
    assert not list((tmp_path / "output").rglob(".feeds-*")), "temporary files left behind"


def _pending(folder: Path) -> str:
    """The rubric feeds the service's store has waiting to be published."""
    with sqlite3.connect(folder / "feeds.db") as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'pending_rubrics'").fetchone()
    return str(row[0]) if row else ""


@pytest.mark.slow
def test_what_is_stored_when_the_service_stops_is_published_before_it_exits(
    tmp_path: Path, server: Server, served: str
) -> None:
    """SIGTERM right after fifty sources stored, before the publisher's
    turn: the service publishes them (hundreds of pages, with its workers'
    help) and then exits, without an error."""
    service = _fifty_sources_served(tmp_path, server, served)
    try:
        service.wait_for(lambda: service.stderr().count("': HTTP 200") == 50, timeout=30)
        assert service.stop() == 0
    finally:
        service.close()
    assert "ERROR" not in service.stderr(), service.stderr()
    everything = {f"urn:story:{n}" for n in range(150)}
    assert walk(f"{served}all.atom").merged() == everything
    assert walk(f"{served}art.rss").merged() == {f"urn:story:{n}" for n in range(1, 150, 2)}


@pytest.mark.parametrize("encoding", ["UTF-16le", "UTF-16be"])
def test_pages_write_the_same_from_a_store_made_in_utf_16(tmp_path: Path, encoding: str) -> None:
    """A database file made by a UTF-16 client (sqlite3_open16, some
    Windows tools) keeps its encoding: its stored bytes are not UTF-8, and
    pages must still write its items as they read."""
    path = tmp_path / "feeds.db"
    made = sqlite3.connect(path)
    made.execute(f"PRAGMA encoding = '{encoding}'")
    made.execute("CREATE TABLE made (x)")  # the encoding is fixed with the first page
    made.execute("DROP TABLE made")
    made.close()
    when = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    items = [*_items(), Item(source="s", id="urn:x:9", title="Ёж & «ёлка»", published=when)]
    labels = {"art": "Искусство", "news": "Новости"}
    with Store(f"sqlite:///{path}") as store:
        assert store._db.execute("PRAGMA encoding").fetchone()[0] == encoding
        with store.transaction():
            store.upsert(items, now=when)
        stored = store.latest(limit=100)
        rows = store.archive_rows([item.id for item in stored])
    assert len(stored) == len(rows) == len(items)
    for item in stored:
        assert archive_row_entry(SITE, labels, rows[item.id]) == archive_entry(SITE, labels, item)
