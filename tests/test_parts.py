"""A big feed document is read in parts by the worker processes at once:
the same items, in the same order, as the whole document gives; and where
a part would read otherwise, the whole is read instead."""

from __future__ import annotations

import random
import sqlite3
import xml.parsers.expat
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

import feeds.model
import feeds.parse.feed
from feeds import pipeline, workers
from feeds.classify import Vocabulary
from feeds.config import load_config
from feeds.fetch import Fetcher
from feeds.model import Fetched, Item, Match, ParseContext, Rubric, Source
from feeds.parse.fast import parse_fast
from feeds.parse.feed import cut_in_parts
from feeds.parse.parts import cut_entries, part_bodies
from feeds.store import SourceState

from .conftest import Server, run_cli, write_config
from .test_parse_differential import CORPUS, FAST_SHAPES, _atom, _corpus_fetched, _rss

_T = TypeVar("_T")

SOURCE = Source(name="s", type="feed", url="https://example.org/feed")
CONTEXT = ParseContext(now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC), timezone="Europe/Moscow")
VOCABULARY = Vocabulary.of(
    (
        Rubric(slug="news", title="Новости", aliases=("news", "Новости")),
        Rubric(slug="art", title="Искусство", aliases=("art", "Искусство")),
    )
)
HEAD = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
    b"<title>Big</title><link>https://big.example/</link><description>d</description>\n"
)
TAIL = b"\n</channel></rss>\n"


class Inline(Executor):
    """Runs each task as it is submitted, and counts them."""

    def __init__(self) -> None:
        self.tasks = 0

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        self.tasks += 1
        future: Future[_T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def item(
    n: int, *, guid: bool = True, link: str = "", title: str = "", extra: str = "", words: int = 0
) -> bytes:
    when = datetime(2026, 11, 20, 12, tzinfo=UTC) - timedelta(minutes=n)
    return (
        f"<item><title>{title or f'Новость номер {n}'}</title>"
        f"<link>{link or f'https://big.example/{n}'}</link>"
        + (f'<guid isPermaLink="false">story-{n}</guid>' if guid else "")
        + f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        f"<category>{'news' if n % 2 else 'Искусство'}</category>"
        f"<description><![CDATA[<p>Текст {n}{' слово' * words}</p><script>x()</script>]]>"
        "</description>"
        f"{extra}</item>\n"
    ).encode()


def document(*items: bytes) -> bytes:
    return HEAD + b"".join(items) + TAIL


def fetched(body: bytes, content_type: str = "application/rss+xml") -> Fetched:
    return Fetched(source="s", url=SOURCE.url, body=body, headers={"content-type": content_type})


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document is cut, each entry a part of its own."""
    monkeypatch.setattr(pipeline, "PARTS_FROM", 0)
    monkeypatch.setattr(pipeline, "PART_BYTES", 1)


def in_parts(body: Fetched, source: Source = SOURCE) -> tuple[Item, ...] | None:
    pool = Inline()
    read = pipeline._read_in_parts(pool, body, source, CONTEXT, VOCABULARY)
    assert read is None or pool.tasks > 1
    return read


def whole(body: Fetched, source: Source = SOURCE) -> tuple[Item, ...]:
    items, error = pipeline.process_fetched(body, source, CONTEXT, VOCABULARY)
    assert not error
    return items


def well_formed(body: bytes) -> bool:
    try:
        xml.parsers.expat.ParserCreate().Parse(body, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


# -- where a document is cut ---------------------------------------------


def test_each_part_is_the_head_whole_entries_and_the_tail() -> None:
    entries = [item(n) for n in range(10)]
    body = document(*entries)
    cut = cut_entries(body, len(entries[0]) * 3)
    assert cut is not None and cut.entries == 10
    parts = list(part_bodies(body, cut))
    assert len(parts) == cut.parts == 3  # a short last part joined the one before
    assert [part.count(b"<item>") for part in parts] == list(cut.counts)
    head, tail = body[: cut.head], body[cut.tail :]
    assert head.startswith(HEAD) and tail.endswith(TAIL)
    for part in parts:
        assert part.startswith(head) and part.endswith(tail) and well_formed(part)
    assert head + b"".join(part[len(head) : -len(tail)] for part in parts) + tail == body


def test_an_entry_whose_attribute_holds_a_closing_bracket_is_cut_around() -> None:
    odd = item(1).replace(b"<item>", b'<item data-note="a > b">')
    body = document(item(0), odd, item(2), item(3))
    cut = cut_entries(body, 10)
    assert cut is not None and cut.entries == 4
    assert all(well_formed(part) for part in part_bodies(body, cut))
    assert odd in list(part_bodies(body, cut))[1]


@pytest.mark.parametrize(
    "body",
    [
        # Something of the channel's between two entries.
        document(item(0), b"<textInput><title>t</title></textInput>", item(1), item(2)),
        # An entry inside an entry.
        document(item(0), item(1).replace(b"</item>", item(9) + b"</item>"), item(2)),
        # An entry under a prefix, or spelt with a capital.
        document(item(0), item(1).replace(b"item>", b"rss:item>"), item(2)),
        document(item(0), item(1).replace(b"item>", b"Item>"), item(2)),
        # `<item` in a comment or a CDATA section: counted, never cut
        # around.
        document(item(0), b"<!-- <item> -->", item(1), item(2)),
        document(item(0), item(1).replace(b"<p>", b"<p>&lt;item&gt; <![CDATA[<item>]]>"), item(2)),
        # A CDATA section or an entry left open.
        document(item(0), item(1), b"<![CDATA[", item(2)),
        document(item(0), item(1), b"<item><title>t</title>"),
        # A DOCTYPE (entities), UTF-16.
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "x">]>' + document(item(0), item(1))[40:],
        document(item(0), item(1), item(2)).decode().encode("utf-16"),
        # One entry.
        document(item(0)),
    ],
    ids=[
        "between",
        "nested",
        "prefixed",
        "capital",
        "comment",
        "cdata",
        "open-cdata",
        "open-entry",
        "doctype",
        "utf-16",
        "single",
    ],
)
def test_a_document_that_cannot_be_cut_cleanly_is_read_whole(body: bytes) -> None:
    assert cut_entries(body, 10) is None


def test_a_small_document_is_not_cut() -> None:
    body = document(*(item(n) for n in range(10)))
    assert cut_entries(body, len(body)) is None
    assert cut_entries(body, len(body) // 4) is not None


def test_a_json_feed_is_read_whole() -> None:
    body = b'{"items": [' + b", ".join([b'{"content_html": "<item>a</item>"}'] * 50) + b"]}"
    assert cut_in_parts(fetched(body, "application/feed+json"), 10) is None


def _in_1251(body: bytes) -> bytes:
    return body.decode().replace("utf-8", "windows-1251").encode("windows-1251")


@pytest.mark.usefixtures("small_parts")
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/rss+xml", _in_1251(document(item(0), item(1), item(2)))),
        ("text/xml; charset=windows-1251", _in_1251(document(item(0), item(1), item(2)))),
        ("text/xml; charset=windows-1251", document(item(0), item(1), item(2))),
    ],
    ids=["declared", "header", "utf-8-under-another-label"],
)
def test_a_body_in_another_charset_reads_in_parts_as_it_reads_whole(
    content_type: str, body: bytes
) -> None:
    parts = in_parts(fetched(body, content_type))
    assert parts is not None and parts == whole(fetched(body, content_type))
    assert parts[0].title == "Новость номер 0"


@pytest.mark.usefixtures("small_parts")
def test_an_unlabelled_body_in_another_charset_is_read_whole() -> None:
    # feedparser reads it, once its charset is told from its letters.
    body = _in_1251(document(item(0), item(1), item(2)))
    body = fetched(body.replace(b' encoding="windows-1251"', b""), "text/xml")
    assert in_parts(body) is None
    assert whole(body)[0].title == "Новость номер 0"


# -- what the parts give -------------------------------------------------


@pytest.mark.usefixtures("small_parts")
def test_parts_give_the_items_of_the_whole_in_its_order() -> None:
    body = fetched(document(*(item(n) for n in range(30))))
    parts = in_parts(body)
    assert parts is not None and len(parts) == 30
    assert parts == whole(body)
    assert [i.guid for i in parts] == [f"story-{n}" for n in range(30)]
    assert {i.rubrics for i in parts} == {("news",), ("art",)}
    assert all("<script" not in i.summary for i in parts)


#: The corpus feeds the fast path reads: each is read in parts (but
#: reddit, whose thumbnails are on some entries only: it is read whole).
CUT_SHAPES = [name for name in FAST_SHAPES if name != "reddit"]


@pytest.mark.usefixtures("small_parts")
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_a_publishers_feed_read_in_parts_gives_what_it_gives_whole(path: Path) -> None:
    body = _corpus_fetched(path)
    parts = in_parts(body)
    if path.stem in CUT_SHAPES:
        assert parts is not None, "read whole"
    if parts is not None:
        assert parts == whole(body)


@pytest.mark.usefixtures("small_parts")
def test_a_part_the_fast_path_declines_has_the_whole_read() -> None:
    # Its itunes:summary is read by feedparser only: that part, and so the
    # whole document, goes to feedparser.
    body = document(
        item(0),
        item(1, extra="<itunes:summary>Подробно</itunes:summary>"),
        item(2),
    ).replace(b"<rss ", b'<rss xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" ')
    assert in_parts(fetched(body)) is None
    assert len(whole(fetched(body))) == 3


@pytest.mark.usefixtures("small_parts")
def test_a_link_two_parts_give_to_different_stories_is_nobodys_id() -> None:
    # No guids, and one link for two stories in different parts: the
    # whole document sees it shared, so neither takes it for its id.
    body = fetched(
        document(
            item(0, guid=False, link="https://big.example/ticker", title="Первая"),
            item(1, guid=False),
            item(2, guid=False, link="https://big.example/ticker", title="Вторая"),
        )
    )
    assert in_parts(body) is None
    ids = [i.id for i in whole(body)]
    assert len(set(ids)) == 3 and "https://big.example/ticker" not in ids


@pytest.mark.usefixtures("small_parts")
def test_a_source_whose_guids_are_no_ids_reads_in_parts_as_whole() -> None:
    source = replace(SOURCE, guids=False)
    body = fetched(document(*(item(n) for n in range(6))))
    parts = in_parts(body, source)
    assert parts is not None and parts == whole(body, source)
    assert [i.id for i in parts] == [f"https://big.example/{n}" for n in range(6)]


@pytest.mark.usefixtures("small_parts")
def test_the_text_limit_is_the_whole_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    # Allowed: 1 MiB of text for the body. Each part holds under that, all
    # of them over it: refused as the whole is.
    monkeypatch.setattr(feeds.model, "MAX_TEXT_GROWTH", 0)
    text = "Слово " * 40_000  # 240,000 characters
    body = fetched(document(*(item(n, title=text) for n in range(6))))
    assert in_parts(body) is None
    items, error = pipeline.process_fetched(body, SOURCE, CONTEXT, VOCABULARY)
    assert items == () and "times the text of the answer" in error


@pytest.mark.usefixtures("small_parts")
def test_a_source_filter_keeps_what_it_keeps_of_the_whole() -> None:
    odd = Match(pattern="[13579]$", fields=("title",))
    source = Source(name="s", type="feed", url=SOURCE.url, include=(odd,))
    body = fetched(document(*(item(n) for n in range(10))))
    parts = in_parts(body, source)
    assert parts is not None and parts == whole(body, source)
    assert len(parts) == 5


# -- a build -------------------------------------------------------------


def _stored(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT id, title, published FROM items ORDER BY published, id"
        ).fetchall()


@pytest.fixture
def big_feed() -> Iterator[bytes]:
    """A feed of 3,000 entries, 3.3 MB: over PARTS_FROM."""
    body = document(*(item(n, words=70) for n in range(3000)))
    assert len(body) > pipeline.PARTS_FROM
    yield body


def test_a_build_reads_a_big_feed_in_parts_and_stores_what_the_whole_gives(
    tmp_path: Path, server: Server, big_feed: bytes
) -> None:
    url = server.add("/big.xml", big_feed, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: big\n    type: feed\n    url: {url}\n")
    config.write_text(config.read_text() + "log:\n  level: debug\n", encoding="utf-8")
    done = run_cli("build", "-c", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "big: 3000 items, 3000 new" in done.stdout
    assert "source 'big': 3000 entries read in " in done.stderr
    source = Source(name="big", type="feed", url=url)
    context = ParseContext(now=CONTEXT.now, timezone="Europe/Moscow")
    expected, error = pipeline.process_fetched(fetched(big_feed), source, context, VOCABULARY)
    assert not error
    stored = _stored(tmp_path / "feeds.db")
    assert sorted(i.id for i in expected) == sorted(row[0] for row in stored)
    assert {i.title for i in expected} == {row[1] for row in stored}
    atom = (tmp_path / "output" / "all.atom").read_text(encoding="utf-8")
    assert atom.index("Новость номер 0<") < atom.index("Новость номер 1<")


def test_the_services_workers_read_a_big_feed_in_parts(
    tmp_path: Path, server: Server, big_feed: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    # The service's workers come from a fork server: they import the
    # pipeline afresh, and the parts and what they bring back cross to
    # them and back.
    url = server.add("/big.xml", big_feed, content_type="application/rss+xml")
    config = load_config(write_config(tmp_path, f"  - name: big\n    type: feed\n    url: {url}\n"))
    source = config.sources[0]
    context = pipeline._context(config, source, CONTEXT.now)
    caplog.set_level("DEBUG", logger="feeds")
    with (
        Fetcher(config.site.base_url, allow_private=config.allow_private) as fetcher,
        workers.parsing_pool() as pool,
    ):
        collected = pipeline.collect_source(
            source, fetcher, SourceState(name="big"), context, config, pool
        )
    assert not collected.error
    assert "3000 entries read in " in caplog.text
    vocabulary = pipeline._vocabulary(config)
    whole_body = Fetched(source="big", url=url, body=big_feed, headers={"content-type": "text/xml"})
    expected, _ = pipeline.process_fetched(whole_body, source, context, vocabulary)
    assert collected.items == expected


@pytest.mark.usefixtures("small_parts")
def test_entries_without_guids_beside_others_with_guids_have_the_whole_read() -> None:
    # Whether their links are shared is the whole's to say; and a part of
    # such entries alone would not give them the link as their guid, as
    # the whole does.
    body = fetched(document(item(0), item(1, guid=False), item(2, guid=False), item(3)))
    assert in_parts(body) is None
    assert [i.id for i in whole(body)][1:3] == ["https://big.example/1", "https://big.example/2"]


@pytest.mark.usefixtures("small_parts")
def test_generated_feeds_read_in_parts_give_what_they_give_whole() -> None:
    rng = random.Random(20261128)
    cut = 0
    for n in range(400):
        text = _rss(rng, n) if n % 2 else _atom(rng, n)
        body = fetched(text.encode(), "application/atom+xml" if n % 2 == 0 else "text/xml")
        parts = in_parts(body)
        if parts is not None:
            cut += 1
            assert parts == whole(body), text
    assert cut >= 50


# -- what the whole reads otherwise (found by review) --------------------


def _long(n: int, tag: str = "item", attrs: str = "", extra: str = "", **given: Any) -> bytes:
    """An entry of about 1 KB: a big document of them is cut into parts
    of a few hundred each, as a real one is."""
    entry = item(n, extra=f"<comments>{'c' * 900}</comments>{extra}", **given)
    return entry.replace(b"<item>", f"<{tag}{attrs}>".encode()).replace(
        b"</item>", f"</{tag}>".encode()
    )


def test_entries_the_whole_does_not_read_are_not_read_in_its_parts() -> None:
    # fastfeedparser reads an RSS channel's plain items only; a part made
    # of Atom entries, or of items in another namespace, would give them.
    # The whole is feedparser's (the fast path would give 2,000 where it
    # gives 3,000: their titles outnumber the entries it reads).
    for body in (
        document(*(_long(n) for n in range(2000)), *(_long(n, "entry") for n in range(2000, 3000))),
        document(
            *(
                _long(n, attrs=' xmlns="https://ns.example/"' if 1000 <= n < 2000 else "")
                for n in range(3000)
            )
        ),
    ):
        assert len(body) > pipeline.PARTS_FROM
        assert in_parts(fetched(body)) is None
        assert parse_fast(fetched(body), SOURCE) is None
        assert len(whole(fetched(body))) == 3000


def test_a_fact_of_the_whole_no_part_holds_has_the_whole_read() -> None:
    # One odd enclosure length (" 5"), far from the items with images, has
    # the whole read by feedparser; a part without it would read those
    # items on the fast path: here that gave two stories one id.
    def entry(n: int) -> bytes:
        extra = ""
        if n < 1000:
            extra = f'<enclosure url="https://i.example/{n}.jpg" type="image/jpeg" length="1234"/>'
        if n == 2500:
            extra = '<enclosure url="https://a.example/x.mp3" type="audio/mpeg" length=" 5"/>'
        if n in (100, 101):
            return _long(n, extra=extra, guid=False, link="https://big.example/ticker")
        return _long(n, extra=extra)

    body = fetched(document(*(entry(n) for n in range(3000))))
    assert in_parts(body) is None
    ids = [i.id for i in whole(body)]
    assert len(set(ids)) == 3000


def test_a_body_the_cut_fails_on_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settling a body's charset can raise (a lone surrogate from UTF-7):
    # the whole's reading then says why the source fails, as it did.
    def fails(body: bytes, size: int) -> None:
        raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(feeds.parse.feed, "cut_entries", fails)
    body = fetched(document(*(_long(n) for n in range(2500))))
    assert in_parts(body) is None
    assert len(whole(body)) == 2500


def test_a_document_mostly_head_or_markup_is_read_whole() -> None:
    # Each part would repeat 5 MB of channel categories; or the scan would
    # go through millions of processing instructions at Python's pace.
    categories = b"<category>c</category>" * 230_000
    body = document(*(_long(n) for n in range(3000))).replace(
        b"<description>d", categories + b"<description>d"
    )
    assert cut_entries(body, pipeline.PART_BYTES) is None
    marked = document(*(_long(n, extra="<?x?>" * 400) for n in range(1000)))
    assert len(marked) > pipeline.PARTS_FROM
    assert cut_entries(marked, pipeline.PART_BYTES) is None


def test_line_separators_have_the_whole_read() -> None:
    # fastfeedparser turns each U+2028 into a line feed only if one is in
    # a document's first 64 KB: the whole and its parts would disagree.
    # (The whole is feedparser's then, which makes each a break.)
    entries = [_long(n) for n in range(3000)]
    for n in (1, 1400):
        entries[n] = entries[n].replace(b"</p>", "a\u2028b</p>".encode())
    body = fetched(document(*entries))
    assert in_parts(body) is None
    assert "a<br>b" in whole(body)[1400].summary


@pytest.mark.usefixtures("small_parts")
def test_a_part_without_thumbnails_in_a_document_with_some_has_the_whole_read() -> None:
    # A thumbnail under the default namespace, which the checks do not
    # see, reads otherwise where the document has other thumbnails.
    head = HEAD.replace(b"<rss ", b'<rss xmlns:media="http://search.yahoo.com/mrss/" ')
    thumbnail = '<thumbnail xmlns="http://search.yahoo.com/mrss/" url="https://big.example/p2"/>'
    body = fetched(
        head
        + item(0, extra='<media:thumbnail url="https://big.example/0.jpg"/>')
        + item(1)
        + item(2, extra=thumbnail)
        + TAIL
    )
    assert in_parts(body) is None
    assert whole(body)[2].image == ""


def test_a_link_shared_in_one_part_is_shared_in_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two stories of the first part share a link, and one of the second
    # part has it too: none of the three may take it for its id.
    monkeypatch.setattr(pipeline, "PARTS_FROM", 0)
    monkeypatch.setattr(pipeline, "PART_BYTES", len(item(0)) * 2 + 20)
    front = "https://big.example/front"
    body = fetched(
        document(
            item(0, guid=False, link=front, title="A"),
            item(1, guid=False, link=front, title="B"),
            item(2, guid=False),
            item(3, guid=False, link=front, title="C"),
            item(4, guid=False),
            item(5, guid=False),
        )
    )
    assert in_parts(body) is None
    assert front not in {i.id for i in whole(body)}


@pytest.mark.usefixtures("small_parts")
def test_a_mark_of_no_permalink_anywhere_is_looked_into_in_every_part() -> None:
    # Atom entries whose link is their id, and the text isPermaLink="false"
    # in one summary: the fast path looks into the guids of the whole and
    # declines it (a limit feedparser's path then applies refuses it); a
    # part without that text read its entries.
    def entry(n: int, id_: str = "", categories: int = 0, text: str = "t") -> bytes:
        return (
            f"<entry><title>S{n}</title><id>{id_ or f'https://big.example/{n}'}</id>"
            f'<link href="https://big.example/{n}"/><updated>2026-11-20T12:00:00Z</updated>'
            + '<category term="c"/>' * categories
            + f"<summary>{text}</summary></entry>"
        ).encode()

    body = fetched(
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><id>urn:f</id>'
        + entry(0)
        + entry(1, "urn:1", text='RSS says isPermaLink="false"')
        + entry(2, categories=600)
        + b"</feed>",
        "application/atom+xml",
    )
    assert in_parts(body) is None
    items, error = pipeline.process_fetched(body, SOURCE, CONTEXT, VOCABULARY)
    assert items == () and "600 categories" in error


@pytest.mark.usefixtures("small_parts")
def test_a_guid_the_whole_reads_otherwise_in_a_part_that_gives_none_its_link() -> None:
    # Entry 1 has no guid (fastfeedparser gives it its link as its id), so
    # the whole's guids are looked into, and entry 2's marked in another
    # namespace sends the whole to feedparser; its own part never looked.
    odd = item(2).replace(b'isPermaLink="false"', b'x:isPermaLink="false" xmlns:x="urn:x"')
    body = fetched(document(item(0), item(1, guid=False), odd, item(3)))
    assert in_parts(body) is None
    assert [i.guid for i in whole(body)] == ["story-0", "", "story-2", "story-3"]


@pytest.mark.usefixtures("small_parts")
def test_an_entry_of_two_authors_has_the_whole_read() -> None:
    # Its part does not look at its authors: the whole does, and leaves
    # the document to feedparser (which gives the last author).
    two = item(1, extra="<dc:creator>Анна</dc:creator><dc:creator>Борис</dc:creator>")
    body = fetched(document(item(0), two, item(2)))
    assert in_parts(body) is None
    assert whole(body)[1].author == "Борис"
