"""End to end: `python -m feeds` in a subprocess against a real HTTP server."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import httpx
import pytest

from feeds.config import load_config
from feeds.errors import PublishError
from feeds.store import Store

from .conftest import (
    BASE_CONFIG,
    ROOT,
    SEED,
    Server,
    group_ends,
    run_cli,
    store_held_whole,
    write_config,
)

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Openstage</title><link>https://openstage.example/</link><description>d</description>
<item><title>Выставка в ГЭС-2</title><link>https://openstage.example/a</link>
<guid isPermaLink="true">https://openstage.example/a</guid>
<pubDate>Wed, 25 Nov 2026 12:30:00 +0300</pubDate>
<category>Искусство</category><category>Мода</category>
<description><![CDATA[<p onclick="x()">Текст <script>alert(1)</script>
<a href="javascript:evil()">ссылка</a></p>]]></description>
</item>
<item><title>Роман года</title><link>https://openstage.example/b</link>
<guid isPermaLink="false">openstage-2</guid>
<pubDate>Tue, 24 Nov 2026 10:00:00 +0300</pubDate>
<category>books</category>
</item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Desk</title><id>tag:desk.example,2026:feed</id><updated>2026-11-25T10:00:00Z</updated>
<entry><id>tag:desk.example,2026:1</id><title>Same story, other desk</title>
<link rel="alternate" href="https://openstage.example/a?utm_source=desk"/>
<updated>2026-11-25T09:30:00Z</updated><category term="literature"/>
<summary>Syndicated</summary></entry>
</feed>
"""


def sources_block(server: Server) -> str:
    rss = server.add("/culture.rss", RSS, content_type="application/rss+xml", ETag='"v1"')
    atom = server.add("/desk.atom", ATOM, content_type="application/atom+xml")
    seed = server.add("/colta.txt", SEED.read_bytes(), content_type="text/plain; charset=utf-8")
    return f"""\
  - name: culture
    type: feed
    url: {rss}
  - name: desk
    type: feed
    url: {atom}
    rubrics: [society]
  - name: colta
    type: text
    url: {seed}
    news_rubrics: [news]
"""


def parse_all(output: Path) -> dict[str, feedparser.FeedParserDict]:
    parsed = {}
    for path in sorted(output.glob("*.atom")) + sorted(output.glob("*.rss")):
        parsed[path.name] = feedparser.parse(path.read_bytes())
    return parsed


@pytest.mark.slow
def test_build_publishes_valid_feeds_and_rebuild_writes_nothing(
    tmp_path: Path, server: Server
) -> None:
    config = write_config(tmp_path, sources_block(server))
    done = run_cli("build", "-c", str(config), "--now", "2026-11-26T09:00:00+00:00")
    assert done.returncode == 0, done.stderr
    output = tmp_path / "output"
    slugs = ["all", "literature", "art", "society", "classical-music", "news"]
    expected = {f"{slug}.{suffix}" for slug in slugs for suffix in ("atom", "rss", "json")}
    rubric_opml = {f"{slug}.opml" for slug in slugs if slug != "all"}
    assert expected | rubric_opml | {"feeds.opml", "index.html", "feeds.xsl"} == {
        p.name for p in output.iterdir()
    }

    for name, feed in parse_all(output).items():
        assert feed.bozo == 0, (name, feed.get("bozo_exception"))
        assert feed.version in ("atom10", "rss20"), name

    combined = parse_all(output)["all.atom"]
    # 2 RSS items + 14 page items; the Atom entry is the RSS story again.
    assert len(combined.entries) == 16
    by_link = {e.get("link"): e for e in combined.entries}
    story = by_link["https://openstage.example/a"]
    assert story.id == "https://openstage.example/a"
    assert {t.term for t in story.tags} == {"art", "literature", "society"}
    assert {t.label for t in story.tags} == {"Искусство", "Литература", "Общество"}

    literature = parse_all(output)["literature.atom"]
    # No description configured: the title stands in, in the site's language.
    assert literature.feed.subtitle == literature.feed.title == "Литература — Test Site"
    assert "items of" not in (output / "index.html").read_text(encoding="utf-8")
    titles = [e.title for e in literature.entries]
    assert "Роман года" in titles and "Выставка в ГЭС-2" in titles
    assert "Философ и художник: Яков Друскин и Михаил Шемякин" in titles

    news = json.loads((output / "news.json").read_text(encoding="utf-8"))
    assert len(news["items"]) == 9
    assert news["items"][0]["title"] == "COLTA.RU заблокирована в России"
    assert news["items"][0]["date_published"] == "2022-03-11T14:52:00+03:00"

    for path in output.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text and "javascript:" not in text and "onclick" not in text
    ElementTree.fromstring((output / "feeds.opml").read_bytes())

    stamps = {p.name: p.stat().st_mtime_ns for p in output.iterdir()}
    again = run_cli("build", "-c", str(config), "--now", "2026-11-26T10:00:00+00:00")
    assert again.returncode == 0, again.stderr
    assert "0 files written" in again.stdout
    assert stamps == {p.name: p.stat().st_mtime_ns for p in output.iterdir()}
    # The RSS source answered 304 to the validator it gave the first time.
    assert server.hits("/culture.rss")[-1].get("if-none-match") == '"v1"'
    assert "culture: not modified" in again.stdout
    with sqlite3.connect(tmp_path / "feeds.db") as db:
        assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 16


def test_a_rubric_added_later_tags_the_items_its_sources_still_list(
    tmp_path: Path, server: Server
) -> None:
    """The category "Мода" matched no rubric; a rubric with that alias is
    added. The source would answer 304 to its validators, so the build
    asks for the whole body once, and the stored story joins the rubric."""
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml", ETag='"v1"')
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    assert run_cli("build", "-c", str(config)).returncode == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("rubrics:\n", "rubrics:\n  - slug: fashion\n    title: Мода\n", 1),
        encoding="utf-8",
    )

    done = run_cli("build", "-c", str(config))

    assert done.returncode == 0, done.stderr
    assert "culture: 2 items, 0 new, 0 updated" in done.stdout
    assert "if-none-match" not in server.hits("/culture.rss")[-1]
    fashion = feedparser.parse((tmp_path / "output" / "fashion.atom").read_bytes())
    assert [entry.title for entry in fashion.entries] == ["Выставка в ГЭС-2"]
    again = run_cli("build", "-c", str(config))
    assert "culture: not modified" in again.stdout


def test_an_upgrade_that_renders_differently_rewrites_the_files_once(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sites upgraded with nothing new at their sources got none of the
    renderer's fixes: the unchanged-cycle shortcut kept the old files."""
    from feeds import output, pipeline
    from feeds.config import load_config

    url = server.add("/culture.rss", RSS, content_type="application/rss+xml", ETag='"v1"')
    config = load_config(
        write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    )
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    pipeline.run_once(config, now=now)
    atom = tmp_path / "output" / "all.atom"
    published = atom.read_bytes()
    atom.write_bytes(published.replace(b"<feed", b"<!-- as an older version wrote it -->\n<feed"))
    assert pipeline.run_once(config, now=now).written == ()

    monkeypatch.setattr(output, "_renderer", lambda: "the renderer of the next version")
    report = pipeline.run_once(config, now=now)

    assert "all.atom" in report.written
    assert atom.read_bytes() == published


def test_only_what_tags_items_asks_for_a_whole_body_again(tmp_path: Path) -> None:
    """A rubric's description or a source's schedule changes nothing in the
    items: no fetch without validators (on a thousand sources, a full
    cycle instead of a second of 304s). An alias does."""
    from feeds.config import load_config
    from feeds.pipeline import reading_key

    def key(text: str) -> str:
        config = load_config(write_config(tmp_path, text))
        return reading_key(config, config.sources[0])

    plain = "  - name: culture\n    type: feed\n    url: https://openstage.example/feed\n"
    base = key(plain)
    assert key(plain + "    interval: 2h\n    timeout: 5\n") == base
    config = tmp_path / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "    title: Литература\n", "    title: Литература\n    description: Книги\n"
        ),
        encoding="utf-8",
    )
    assert reading_key(load_config(config), load_config(config).sources[0]) == base
    config.write_text(
        config.read_text(encoding="utf-8").replace("aliases: [art]", "aliases: [art, arts]"),
        encoding="utf-8",
    )
    assert reading_key(load_config(config), load_config(config).sources[0]) != base
    assert key(plain + "    rubrics: [news]\n") != base


def test_a_source_that_stops_yielding_items_is_reported_empty(
    tmp_path: Path, server: Server
) -> None:
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    assert "1 of 1 sources ok;" in run_cli("build", "-c", str(config)).stdout
    empty = RSS.split("<item>")[0] + "</channel></rss>"
    server.add("/culture.rss", empty, content_type="application/rss+xml")

    done = run_cli("build", "-c", str(config))

    assert done.returncode == 0, done.stderr
    assert "empty  culture: 0 items" in done.stdout
    assert "0 of 1 sources ok, 1 empty;" in done.stdout


def test_a_build_leaves_a_cron_source_due_at_its_cron_time(tmp_path: Path, server: Server) -> None:
    """The service started after a build takes each source's next time from
    the store: for a cron source it must be the cron's, not an interval's."""
    rss = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(
        tmp_path, f'  - name: culture\n    type: feed\n    url: {rss}\n    cron: "0 */2 * * *"\n'
    )
    done = run_cli("build", "-c", str(config), "--now", "2026-11-26T14:16:04Z")
    assert done.returncode == 0, done.stderr
    status = run_cli("status", "-c", str(config))
    # In the site's zone, the cron's (Europe/Moscow): 15:00 UTC.
    assert "2026-11-26 18:00:00 MSK" in status.stdout, status.stdout


def _one_story(number: int, category: str = "") -> str:
    filed = f"<category>{category}</category>" if category else ""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<link>https://x.example/</link><description>d</description>"
        f"<item><title>Story {number}</title><link>https://x.example/{number}</link>"
        f"{filed}</item></channel></rss>"
    )


@pytest.mark.slow
def test_a_slow_source_does_not_hold_up_the_sources_behind_it(
    tmp_path: Path, server: Server
) -> None:
    """Results are stored in config order, but not at the price of idle
    fetch slots: the sources behind one that answers slowly (or not at all,
    until its time-out) are fetched meanwhile. A build used to fetch the
    few dozen behind it, then wait with every slot idle."""
    slow = server.add("/slow.rss", _one_story(0), delay=4)
    sources = f"  - name: slow\n    type: feed\n    url: {slow}\n"
    for number in range(1, 41):
        url = server.add(f"/f{number}.rss", _one_story(number))
        sources += f"  - name: s{number}\n    type: feed\n    url: {url}\n"
    base = BASE_CONFIG.replace("fetch:\n", "fetch:\n  concurrency: 2\n  per_host: 2\n")
    built = run_cli("build", "-c", str(write_config(tmp_path, sources, base)))
    assert built.returncode == 0, built.stderr
    assert "41 of 41 sources ok" in built.stdout + built.stderr
    asked = dict(server.times)
    assert max(asked[f"/f{number}.rss"] for number in range(1, 41)) < asked["/slow.rss"] + 4


@pytest.mark.slow
def test_sources_waiting_for_their_hosts_turn_do_not_hold_up_other_hosts(
    tmp_path: Path, server: Server, other_server: Server
) -> None:
    """Each host gets its `per_host` and `host_delay`, but a fetch thread
    does not sit out one host's turn while another host's source could go:
    with a site's feeds listed together, the threads queued up behind that
    site and every other host waited."""
    sources = ""
    for number in range(6):
        url = server.add(f"/a{number}.rss", _one_story(number))
        sources += f"  - name: a{number}\n    type: feed\n    url: {url}\n"
    for number in range(6):
        url = other_server.add(f"/b{number}.rss", _one_story(100 + number))
        sources += f"  - name: b{number}\n    type: feed\n    url: {url}\n"
    base = BASE_CONFIG.replace(
        "fetch:\n  host_delay: 0\n", "fetch:\n  host_delay: 0.5\n  concurrency: 3\n  per_host: 1\n"
    )
    built = run_cli("build", "-c", str(write_config(tmp_path, sources, base)))
    assert built.returncode == 0, built.stderr
    assert "12 of 12 sources ok" in built.stdout + built.stderr
    first = sorted(when for _path, when in server.times)
    second = sorted(when for _path, when in other_server.times)
    # Each host was asked one source at a time, half a second apart...
    for times in (first, second):
        assert all(later - earlier >= 0.45 for earlier, later in itertools.pairwise(times))
    assert server.most_in_flight == other_server.most_in_flight == 1
    # ...and the other host from the start, not once the first was done.
    assert second[0] < first[1]


def test_a_source_the_store_refuses_fails_alone(tmp_path: Path, server: Server) -> None:
    """A store error on one source's items (here a trigger; in the field a
    constraint a merge got wrong) is that source's failure, with its
    back-off: the other sources of the run are stored and published."""
    rss = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    atom = server.add("/desk.atom", ATOM, content_type="application/atom+xml")
    config = write_config(
        tmp_path,
        f"  - name: culture\n    type: feed\n    url: {rss}\n"
        f"  - name: desk\n    type: feed\n    url: {atom}\n",
    )
    Store(f"sqlite:///{tmp_path / 'feeds.db'}").close()  # the store, as a build makes it
    with sqlite3.connect(tmp_path / "feeds.db") as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.source = 'culture' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )

    done = run_cli("build", "-c", str(config))

    assert done.returncode == 1
    assert "source 'culture': failed: could not store its items" in done.stderr
    assert "refused by the test" in done.stderr
    with sqlite3.connect(tmp_path / "feeds.db") as db:
        assert db.execute("SELECT DISTINCT source FROM items").fetchall() == [("desk",)]
        failures, error = db.execute(
            "SELECT failures, last_error FROM sources WHERE name = 'culture'"
        ).fetchone()
    assert failures == 1 and "could not store its items" in error
    assert len(feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries) > 0


def test_feeds_taken_out_of_the_config_are_removed_from_output(
    tmp_path: Path, server: Server
) -> None:
    """A rubric dropped from config.yaml, or a format dropped from one, no
    longer leaves its files behind, served unchanged for ever; files of the
    operator's own in output/ stay."""
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    assert run_cli("build", "-c", str(config)).returncode == 0
    output = tmp_path / "output"
    (output / "robots.txt").write_text("User-agent: *\n")
    assert {"news.atom", "society.json", "society.opml"} <= {p.name for p in output.iterdir()}

    text = config.read_text(encoding="utf-8")
    text = text.replace("  - slug: news\n    title: Новости\n    aliases: [news]\n", "")
    text = text.replace("    title: Общество\n", "    title: Общество\n    formats: [rss]\n")
    config.write_text(text, encoding="utf-8")
    done = run_cli("build", "-c", str(config))

    assert done.returncode == 0, done.stderr
    names = {p.name for p in output.iterdir()}
    assert not {"news.atom", "news.rss", "news.json", "news.opml"} & names
    assert not {"society.atom", "society.json"} & names
    assert {"society.rss", "society.opml", "all.atom", "art.json", "robots.txt"} <= names
    assert "news" not in (output / "feeds.opml").read_text(encoding="utf-8")


def test_feeds_taken_out_while_output_was_elsewhere_are_removed_when_it_returns(
    tmp_path: Path, server: Server
) -> None:
    """output.dir moved, a rubric taken out, output.dir moved back: the
    rubric's files in the first folder were served unchanged for ever (the
    store remembered what it published in one folder only)."""
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    assert run_cli("build", "-c", str(config)).returncode == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("dir: output", "dir: output2"), encoding="utf-8")
    assert run_cli("build", "-c", str(config)).returncode == 0
    without_news = text.replace("  - slug: news\n    title: Новости\n    aliases: [news]\n", "")
    config.write_text(without_news.replace("dir: output", "dir: output2"), encoding="utf-8")
    assert run_cli("build", "-c", str(config)).returncode == 0
    config.write_text(without_news, encoding="utf-8")

    done = run_cli("build", "-c", str(config))

    assert done.returncode == 0, done.stderr
    for folder in ("output", "output2"):
        names = {p.name for p in (tmp_path / folder).iterdir()}
        assert not {"news.atom", "news.rss", "news.json", "news.opml"} & names, folder
        assert {"all.atom", "art.json"} <= names


def test_what_an_older_store_recorded_as_published_is_still_retired(
    tmp_path: Path, server: Server
) -> None:
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    assert run_cli("build", "-c", str(config)).returncode == 0
    output = tmp_path / "output"
    with Store(load_config(config).storage_url) as store, store.transaction():
        # As a store before per-folder records kept them.
        names = sorted(p.name for p in output.iterdir() if p.is_file())
        store.set_meta("published_files", json.dumps({"dir": str(output), "files": names}))
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  - slug: news\n    title: Новости\n    aliases: [news]\n", ""))

    assert run_cli("build", "-c", str(config)).returncode == 0

    assert not {"news.atom", "news.opml"} & {p.name for p in output.iterdir()}


def test_check_warns_of_a_local_file_that_is_not_there(tmp_path: Path) -> None:
    (tmp_path / "here.rss").write_text(RSS, encoding="utf-8")
    config = write_config(
        tmp_path,
        "  - name: here\n    type: feed\n    path: here.rss\n"
        "  - name: nope\n    type: feed\n    path: samples/nope.rss\n",
    )
    done = run_cli("check", "-c", str(config))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stdout.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "samples/nope.rss is not a file (yet)" in warnings[0]


@pytest.mark.parametrize(
    ("setting", "kept", "message"),
    [
        pytest.param(
            "storage:\n  url: notes.txt\n",
            "notes.txt",
            "config.yaml:{line}: storage.url: '{folder}/notes.txt' is not an SQLite database",
            id="store-not-a-database",
        ),
        pytest.param(
            "sources:\n  - name: local\n    type: feed\n    path: output/all.atom\n",
            "output/all.atom",
            "config.yaml:{line}: sources[0].path (source 'local'): "
            "'{folder}/output/all.atom' is inside output.dir",
            id="source-file-in-output",
        ),
    ],
)
def test_check_refuses_a_file_a_build_would_break_or_overwrite(
    tmp_path: Path, setting: str, kept: str, message: str
) -> None:
    """`feeds check` said ok to both: the build then failed with "file is
    not a database" naming no key, or wrote all.atom over the source's
    own file. Now both commands name the file, line and key (the setting's
    last line), and the file stays as it was."""
    (tmp_path / "output").mkdir()
    (tmp_path / kept).write_text(RSS, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(BASE_CONFIG + setting, encoding="utf-8")
    line = len((BASE_CONFIG + setting).splitlines())
    for command in ("check", "build"):
        done = run_cli(command, "-c", str(config))
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert message.format(line=line, folder=tmp_path) in done.stderr
    assert (tmp_path / kept).read_text(encoding="utf-8") == RSS


def test_serve_on_a_taken_port_says_so_without_claiming_to_serve(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "-c", str(config), "--port", str(port))
    assert done.returncode != 0
    assert "serving" not in done.stdout
    assert str(port) in done.stderr


@pytest.mark.slow
def test_one_failing_source_exits_1_and_the_others_are_published(
    tmp_path: Path, server: Server
) -> None:
    good = server.add("/ok.rss", RSS, content_type="application/rss+xml")
    config = write_config(
        tmp_path,
        f"""\
  - name: gone
    type: feed
    url: {server.url}/missing.rss
  - name: fine
    type: feed
    url: {good}
""",
    )
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 1
    assert "source 'gone'" in done.stderr and "HTTP 404" in done.stderr
    feed = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert [e.title for e in feed.entries] == ["Выставка в ГЭС-2", "Роман года"]


@pytest.mark.parametrize("stage", ["parse", "store", "schedule"])
def test_a_bug_met_on_one_source_fails_that_source_alone(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """An error nothing expected, met on one source's answer (a link with
    a port of 99999 once raised ValueError in the store), ended the whole
    build with a traceback: nothing was published, the healthy sources
    neither. Now that source fails alone and its error says where."""
    from feeds import normalise, pipeline
    from feeds.config import load_config
    from feeds.store import Store

    good = server.add("/ok.rss", RSS, content_type="application/rss+xml")
    odd = server.add("/odd.rss", RSS.replace("Роман года", "Odd story"))
    config = load_config(
        write_config(
            tmp_path,
            f"  - name: odd\n    type: feed\n    url: {odd}\n"
            f"  - name: fine\n    type: feed\n    url: {good}\n",
        )
    )

    def buggy(item: Any, now: Any = None, shared: Any = frozenset()) -> Any:
        if item.source == "odd":
            raise ValueError("Port out of range 0-65535")
        return normalise_item(item, now, shared)

    def buggy_upsert(self: Store, items: list[Any], **kwargs: Any) -> Any:
        if items[0].source == "odd":
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return upsert(self, items, **kwargs)

    def buggy_lifetime(headers: dict[str, str], now: datetime) -> float | None:
        if "odd" in headers.get("x-odd", ""):
            raise OverflowError("date value out of range")
        return cache_lifetime(headers, now)

    normalise_item, upsert = normalise.normalise_item, Store.upsert
    cache_lifetime = pipeline.cache_lifetime
    if stage == "parse":
        monkeypatch.setattr(pipeline, "normalise_item", buggy)
    elif stage == "store":
        monkeypatch.setattr(Store, "upsert", buggy_upsert)
    else:
        # Met on the answer's headers, before anything is stored (a max-age
        # past the calendar's end ended the whole build, nothing published).
        server.add("/odd.rss", RSS.replace("Роман года", "Odd story"), x_odd="odd")
        monkeypatch.setattr(pipeline, "cache_lifetime", buggy_lifetime)
    report = pipeline.run_once(config, now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC))

    failed = {result.source: result.error for result in report.results if result.error}
    assert list(failed) == ["odd"]
    expected = "ValueError: Port out of range" if stage == "parse" else "OverflowError"
    assert expected in failed["odd"] and "a bug in feeds" in failed["odd"]
    assert "tests/test_cli.py" not in failed["odd"]  # where in feeds, not in the test
    feed = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert sorted(e.title for e in feed.entries) == ["Выставка в ГЭС-2", "Роман года"]
    with Store(config.storage_url) as store:
        state = store.source_state("odd")
    assert state.failures == 1 and expected in state.last_error
    if stage == "parse":
        # Previewing the source says the same, rather than a traceback.
        preview = pipeline.preview_source(
            config, config.sources[0], now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
        )
        assert expected in preview.error and "source 'odd'" in preview.error


def test_on_a_terminal_a_warning_gets_a_line_of_its_own_above_the_progress_bar(
    tmp_path: Path, server: Server
) -> None:
    good = server.add("/ok.rss", RSS, content_type="application/rss+xml")
    config = write_config(
        tmp_path,
        f"""\
  - name: fine
    type: feed
    url: {good}
  - name: gone
    type: feed
    url: {server.url}/missing.rss
  - name: also-fine
    type: feed
    url: {good}
""",
    )
    screen = _on_a_terminal(
        [sys.executable, "-m", "feeds", "build", "-c", str(config)], cwd=tmp_path
    )
    # What the terminal shows on each line: the text after its last
    # carriage return.
    shown = [line.rsplit("\r", 1)[-1] for line in screen.split("\n")]
    warnings = [line for line in shown if "WARNING" in line]
    assert warnings, screen
    for line in warnings:
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ WARNING source 'gone'", line), line
    assert not any(line.strip() for line in shown[-1:]), "the bar is cleared at the end"


def _on_a_terminal(command: list[str], cwd: Path) -> str:
    """Everything `command` writes to stderr when stderr is a terminal
    (a pseudo-terminal here), as the terminal receives it."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    received = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal is gone: the process has ended
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    process.wait(timeout=60)
    return received.decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("site: [unclosed\n", "config.yaml:1: invalid YAML"),
        (
            "site:\n  title: T\n  base_url: https://x.example/\n  titel: oops\n",
            "config.yaml:4: site.titel: unknown key (did you mean 'title'?)",
        ),
        (
            "site:\n  title: T\n  base_url: https://x.example/\nsources:\n"
            "  - name: a\n    type: feed\n    url: ftp://x.example/f\n",
            "config.yaml:7: sources[0].url (source 'a'): expected an http(s) or file URL",
        ),
    ],
)
def test_invalid_config_exits_2_and_writes_nothing(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    for command in ("check", "build"):
        done = run_cli(command, "-c", str(config))
        assert done.returncode == 2, (command, done.stderr)
        assert message in done.stderr
        assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_check_names_the_problem_of_every_broken_source_and_build_writes_nothing(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "site:\n  title: T\n  base_url: https://x.example/\nsources:\n"
        "  - name: a\n    type: feed\n    url: ftp://x.example/f\n"
        "  - name: b\n    type: feed\n    url: https://x.example/b\n"
        "  - name: c\n    type: fed\n    url: https://x.example/c\n",
        encoding="utf-8",
    )
    for command in ("check", "build"):
        done = run_cli(command, "-c", str(config))
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.splitlines() == [
            f"error: {config}:7: sources[0].url (source 'a'): expected an http(s) or file "
            "URL, got 'ftp://x.example/f'",
            f"error: {config}:12: sources[2].type (source 'c'): unknown source type 'fed' "
            "(did you mean 'feed'?); known: feed, text, html",
        ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    done = run_cli("check", "-c", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2
    assert "nope.yaml: no such file" in done.stderr


@pytest.mark.slow
def test_shipped_config_builds_offline(tmp_path: Path) -> None:
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    done = run_cli("build", "-c", str(tmp_path / "config.yaml"))
    assert done.returncode == 0, done.stderr
    feeds = parse_all(tmp_path / "output")
    assert all(feed.bozo == 0 for feed in feeds.values())
    assert len(feeds["all.atom"].entries) >= 20
    assert all(len(feed.entries) > 0 for feed in feeds.values())


def test_every_command_has_help() -> None:
    for command in ("build", "run", "serve", "status", "rubrics", "preview", "check"):
        done = run_cli(command, "--help")
        assert done.returncode == 0
        assert "--config" in done.stdout
    top = run_cli("--help")
    assert "build" in top.stdout and "check" in top.stdout


def test_status_lists_every_source_after_a_build(tmp_path: Path, server: Server) -> None:
    good = server.add("/ok.rss", RSS)
    config = write_config(
        tmp_path,
        f"  - name: fine\n    type: feed\n    url: {good}\n"
        f"  - name: broken\n    type: feed\n    url: {server.url}/nope.rss\n"
        f"  - name: later\n    type: feed\n    url: {good}?x\n"
        f"  - name: retired\n    type: feed\n    url: {server.add('/gone.rss', '', status=410)}\n",
    )
    before = run_cli("status", "-c", str(config))
    assert before.returncode == 0
    assert "never fetched" in before.stdout
    run_cli("build", "-c", str(config))
    table = run_cli("status", "-c", str(config)).stdout.splitlines()
    assert table[0].split()[:2] == ["SOURCE", "STATE"]
    rows = {line.split()[0]: line for line in table[1:]}
    assert rows["fine"].split()[1] == "ok" and " 2 " in rows["fine"]
    assert "failing (1x)" in rows["broken"] and "HTTP 404" in rows["broken"]
    # Paused until its url changes: no time at which it will be fetched.
    assert "paused" in rows["retired"] and "410" in rows["retired"]
    assert not re.search(r"\d{4}-\d\d-\d\d", rows["retired"])


def test_status_says_where_a_permanent_redirect_sends_a_source(
    tmp_path: Path, server: Server
) -> None:
    target = server.add("/new.rss", RSS)
    moved = server.add("/old.rss", "", status=301, Location=target)
    config = write_config(tmp_path, f"  - name: moved\n    type: feed\n    url: {moved}\n")
    run_cli("build", "-c", str(config))
    (row,) = run_cli("status", "-c", str(config)).stdout.splitlines()[1:]
    assert row.split()[1] == "ok"
    assert row.endswith(f"moved permanently to {target}: update its url")
    # Once config.yaml says the new url, nothing is said.
    write_config(tmp_path, f"  - name: moved\n    type: feed\n    url: {target}\n")
    run_cli("build", "-c", str(config))
    (row,) = run_cli("status", "-c", str(config)).stdout.splitlines()[1:]
    assert "moved" not in row.split(None, 1)[1]


def test_build_logs_one_line_per_source_as_text_or_json(tmp_path: Path, server: Server) -> None:
    good = server.add("/ok.rss", RSS)
    sources = f"  - name: fine\n    type: feed\n    url: {good}\n"
    config = write_config(tmp_path, sources)
    text = run_cli("build", "-c", str(config))
    assert re.search(r"INFO source 'fine': HTTP 200 in [\d.]+ s, 2 items, 2 new", text.stderr)
    config = write_config(tmp_path, sources, base=BASE_CONFIG + "log:\n  format: json\n")
    lines = [json.loads(line) for line in run_cli("build", "-c", str(config)).stderr.splitlines()]
    (entry,) = [line for line in lines if line.get("source") == "fine"]
    assert entry["level"] == "info" and entry["status"] == 200
    assert "not modified" in entry["message"] or "2 items" in entry["message"]
    # A 304 keeps the items it had: no "0 items" for it.
    server.add("/ok.rss", RSS, ETag='"v1"')
    config = write_config(tmp_path, sources)
    run_cli("build", "-c", str(config))
    again = run_cli("build", "-c", str(config)).stderr
    assert re.search(r"INFO source 'fine': not modified in [\d.]+ s\n", again), again


@pytest.mark.slow
def test_serve_command_serves_output_and_stops_on_sigterm(tmp_path: Path, server: Server) -> None:
    config = write_config(
        tmp_path, f"  - name: fine\n    type: feed\n    url: {server.add('/ok.rss', RSS)}\n"
    )
    assert run_cli("build", "-c", str(config)).returncode == 0
    process, port = _serving(config)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 10
        while True:
            try:
                first = httpx.get(url + "art.atom")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "feeds serve did not answer"
                time.sleep(0.1)
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/atom+xml; charset=utf-8"
        again = httpx.get(url + "art.atom", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert httpx.get(url + "..%2fconfig.yaml").status_code == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_stopped_by_signals_still_coming_as_it_exits_exits_0(
    tmp_path: Path, signum: int
) -> None:
    config = write_config(tmp_path, "  - name: later\n    type: feed\n    path: later.rss\n")
    process, _port = _serving(config)
    try:
        assert process.stdout is not None
        assert "serving" in process.stdout.readline()
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signum)
            time.sleep(0.02)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _serving(config: Path) -> tuple[subprocess.Popen[str], int]:
    """`feeds serve` on a free port, as an operator starts it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "feeds", "serve", "-c", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
    )
    return process, port


def test_serve_before_any_build_says_there_is_nothing_to_serve_yet(tmp_path: Path) -> None:
    config = write_config(tmp_path, "  - name: later\n    type: feed\n    path: later.rss\n")
    process, _port = _serving(config)
    try:
        assert process.stdout is not None
        assert "serving" in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # Every address answers 404 until a build has run: the operator is told why.
    assert "no feeds yet" in err and "feeds build" in err, err


def test_status_lists_a_source_taken_out_of_the_config(tmp_path: Path, server: Server) -> None:
    """Its stories stay in the store and the feeds: status said nothing of
    it, as if it had never been there."""
    good = server.add("/ok.rss", RSS)
    kept = f"  - name: kept\n    type: feed\n    url: {good}\n"
    config = write_config(
        tmp_path, kept + f"  - name: retired\n    type: feed\n    url: {good}?r\n"
    )
    assert run_cli("build", "-c", str(config), "--now", "2026-11-26T12:00:00Z").returncode == 0
    config = write_config(tmp_path, kept)

    done = run_cli("status", "-c", str(config))

    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert rows["retired"].split() == [
        "retired",
        "not",
        "in",
        "config",
        "2026-11-26",
        "15:00:00",
        "MSK",
        "2",
        "-",
    ]
    assert list(rows) == ["kept", "retired"]


def test_status_and_rubrics_before_any_run_create_no_store(tmp_path: Path, server: Server) -> None:
    """They only read: a store (and its folder) made by them would sit where
    the operator never asked for one, and hide a mistyped storage.url."""
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "storage:\n  url: sqlite:///state/feeds.db\n", encoding="utf-8")

    status = run_cli("status", "-c", str(config))
    rubrics = run_cli("rubrics", "-c", str(config))

    assert status.returncode == rubrics.returncode == 0, status.stderr + rubrics.stderr
    assert "culture  never fetched" in status.stdout
    assert "(all)" in rubrics.stdout
    assert not (tmp_path / "state").exists()


def test_status_and_rubrics_write_nothing_into_a_store_made_empty(
    tmp_path: Path, server: Server
) -> None:
    """`: > feeds.db`: they wrote a whole new schema into it (156 KB) and
    said "never fetched", as if a store were there. They only read: an
    empty file is a store with nothing in it yet, and stays empty."""
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    (tmp_path / "feeds.db").write_bytes(b"")

    status = run_cli("status", "-c", str(config))
    rubrics = run_cli("rubrics", "-c", str(config))

    assert status.returncode == rubrics.returncode == 0, status.stderr + rubrics.stderr
    assert "culture  never fetched" in status.stdout
    assert (tmp_path / "feeds.db").stat().st_size == 0
    assert sorted(path.name for path in tmp_path.glob("feeds.db*")) == ["feeds.db"]


@pytest.mark.slow
def test_status_on_a_store_held_whole_elsewhere_says_so_within_seconds(
    tmp_path: Path, server: Server
) -> None:
    """Another process holds the store whole (`locking_mode = EXCLUSIVE`):
    `feeds status` waited 30 s, and 35 s in all, before its error."""
    url = server.add("/culture.rss", RSS, content_type="application/rss+xml")
    config = write_config(tmp_path, f"  - name: culture\n    type: feed\n    url: {url}\n")
    assert run_cli("build", "-c", str(config)).returncode == 0
    with store_held_whole(tmp_path / "feeds.db"):
        started = time.monotonic()
        status = run_cli("status", "-c", str(config))
        took = time.monotonic() - started
    assert status.returncode == 1
    assert "database is locked" in status.stderr and "Traceback" not in status.stderr
    assert took < 15, f"took {took:.1f} s"


def test_a_store_opened_to_read_writes_nothing_and_refuses_an_old_schema(
    tmp_path: Path,
) -> None:
    from feeds.errors import StoreError
    from feeds.store import Store

    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    Store(url).close()
    with Store(url, read_only=True) as store:
        assert store.source_states() == []
        with pytest.raises(StoreError, match="readonly"), store.transaction():
            store.set_meta("written", "yes")
    with sqlite3.connect(tmp_path / "feeds.db") as db:
        db.execute("PRAGMA user_version = 5")
    with pytest.raises(StoreError, match="older than this feeds reads"):
        Store(url, read_only=True)


def test_rubrics_lists_counts_and_unmatched_categories(tmp_path: Path, server: Server) -> None:
    config = write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {server.add('/ok.rss', RSS)}\n"
    )
    assert run_cli("build", "-c", str(config)).returncode == 0
    done = run_cli("rubrics", "-c", str(config))
    assert done.returncode == 0
    rows = {line.split()[0]: line.split()[-1] for line in done.stdout.splitlines() if line}
    assert rows["art"] == "1" and rows["literature"] == "1" and rows["news"] == "0"
    unmatched = done.stdout.split("match no rubric", 1)[1]
    assert re.search(r"^1\s+Мода$", unmatched, flags=re.M)


def test_rubrics_counts_a_category_once_whatever_its_case_and_spacing(
    tmp_path: Path, server: Server
) -> None:
    """Categories match rubrics whatever their case and spacing, so an alias
    added for one spelling takes them all: they are one line, and an item
    that carries two spellings is one item, not two."""
    feed = RSS.replace(
        "<category>books</category>",
        "<category>books</category><category>  мода </category><category>МОДА</category>",
    )
    sources = f"  - name: s\n    type: feed\n    url: {server.add('/ok.rss', feed)}\n"
    config = write_config(tmp_path, sources)
    assert run_cli("build", "-c", str(config)).returncode == 0

    done = run_cli("rubrics", "-c", str(config))

    assert done.returncode == 0, done.stderr
    unmatched = done.stdout.split("match no rubric", 1)[1]
    assert re.findall(r"^(\d+)\s+(.+)$", unmatched, flags=re.M) == [("2", "Мода")], unmatched


def test_rubrics_lists_the_finer_level_a_nested_category_is_not_filed_by(
    tmp_path: Path, server: Server
) -> None:
    """ "Искусство / Интервью" is filed under art, its broader level: the
    operator sees "Интервью" as a possible alias or rubric of its own."""
    feed = RSS.replace(
        "<category>Мода</category>", "<category>Искусство / Интервью</category>"
    ).replace("<category>books</category>", "<category>Culture &gt; Books &gt; Reviews</category>")
    sources = f"  - name: s\n    type: feed\n    url: {server.add('/ok.rss', feed)}\n"
    config = write_config(tmp_path, sources)
    assert run_cli("build", "-c", str(config)).returncode == 0

    done = run_cli("rubrics", "-c", str(config))

    assert done.returncode == 0, done.stderr
    assert "Every source category maps to a rubric." in done.stdout
    broader = done.stdout.split("filed under a broader level", 1)[1]
    rows = re.findall(r"^(\d+)\s+(.+?)\s{2,}(\S+)\s{2,}(.+)$", broader, flags=re.M)
    assert rows == [
        ("1", "Culture > Books > Reviews", "literature", "Reviews"),
        ("1", "Искусство / Интервью", "art", "Интервью"),
    ]


def test_rubrics_before_any_build_says_nothing_is_stored_yet(tmp_path: Path) -> None:
    """It said "Every source category maps to a rubric." of a store that
    held nothing."""
    config = write_config(tmp_path, "  - name: s\n    type: feed\n    url: http://127.0.0.1:9/f\n")

    done = run_cli("rubrics", "-c", str(config))

    assert done.returncode == 0, done.stderr
    assert "Nothing is stored yet" in done.stdout
    assert "Every source category" not in done.stdout


def test_rubrics_says_which_stored_items_a_new_rubric_gets_on_the_next_read(
    tmp_path: Path, server: Server
) -> None:
    sources = f"  - name: s\n    type: feed\n    url: {server.add('/ok.rss', RSS)}\n"
    config = write_config(tmp_path, sources)
    assert run_cli("build", "-c", str(config)).returncode == 0
    # The operator adds a rubric for the category "Мода" the store has seen.
    with_fashion = BASE_CONFIG.replace(
        "rubrics:\n", "rubrics:\n  - slug: fashion\n    title: Мода\n"
    )
    config = write_config(tmp_path, sources, base=with_fashion)
    done = run_cli("rubrics", "-c", str(config))
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[-1] for line in done.stdout.splitlines() if line}
    assert rows["fashion"] == "0"  # not tagged yet: only a read tags it
    assert "fashion: 1 stored item carries a category that maps to it now" in done.stdout
    assert run_cli("build", "-c", str(config)).returncode == 0
    after = run_cli("rubrics", "-c", str(config)).stdout
    rows = {line.split()[0]: line.split()[-1] for line in after.splitlines() if line}
    assert rows["fashion"] == "1" and "maps to it now" not in after


def test_preview_of_a_url_needs_no_config_yaml(tmp_path: Path) -> None:
    """Outside a site's folder it said "config.yaml: no such file"."""
    feed = tmp_path / "news.rss"
    feed.write_text(_rss_of(("A", 10, "books")), encoding="utf-8")

    done = run_cli("preview", "--type", "feed", "--url", feed.as_uri(), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "Story A" in done.stdout
    assert not (tmp_path / "output").exists() and not (tmp_path / "feeds.db").exists()


def test_preview_of_a_url_beside_a_broken_config_yaml_warns_and_goes_on(tmp_path: Path) -> None:
    """In a site's folder whose config.yaml is half edited, looking at a
    new source's URL failed with the config's error; a config named with
    -c is the operator's choice, and must be right."""
    feed = tmp_path / "news.rss"
    feed.write_text(_rss_of(("A", 10, "books")), encoding="utf-8")
    (tmp_path / "config.yaml").write_text("site:\n  title: [oops\n", encoding="utf-8")
    # Nor is a file where a site's output folder would be any concern of it.
    (tmp_path / "output").write_text("notes", encoding="utf-8")

    done = run_cli("preview", "--type", "feed", "--url", feed.as_uri(), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "Story A" in done.stdout
    assert "warning: config.yaml:2: invalid YAML" in done.stderr
    assert "previewing without config.yaml" in done.stderr
    named = run_cli(
        "preview", "--type", "feed", "--url", feed.as_uri(), "-c", "config.yaml", cwd=tmp_path
    )
    assert named.returncode == 2
    assert "error: config.yaml:2: invalid YAML" in named.stderr and "Story A" not in named.stdout


def test_preview_shows_items_and_empty_fields_and_stores_nothing(
    tmp_path: Path, server: Server
) -> None:
    url = server.add("/ok.rss", RSS)
    config = write_config(tmp_path, f"  - name: s\n    type: feed\n    url: {url}\n")
    table = run_cli("preview", "s", "-c", str(config))
    assert table.returncode == 0, table.stderr
    assert "Выставка в ГЭС-2" in table.stdout and "Роман года" in table.stdout
    assert "2 items from" in table.stdout
    as_json = json.loads(run_cli("preview", "s", "-c", str(config), "--json").stdout)
    assert [i["title"] for i in as_json["items"]] == ["Выставка в ГЭС-2", "Роман года"]
    assert as_json["items"][1]["rubrics"] == ["literature"]
    assert any(note == "item 2: summary: empty; the source gives none" for note in as_json["notes"])
    adhoc = run_cli("preview", "--type", "feed", "--url", url, "-c", str(config), "--json")
    assert len(json.loads(adhoc.stdout)["items"]) == 2
    assert not (tmp_path / "feeds.db").exists() and not (tmp_path / "output").exists()
    unknown = run_cli("preview", "nope", "-c", str(config))
    assert unknown.returncode == 2 and "no source named 'nope'" in unknown.stderr


def test_preview_json_gives_dates_in_the_site_zone_as_the_table_and_feeds_do(
    tmp_path: Path, server: Server
) -> None:
    url = server.add("/ok.rss", RSS)
    config = write_config(tmp_path, f"  - name: s\n    type: feed\n    url: {url}\n")
    table = run_cli("preview", "s", "-c", str(config)).stdout
    as_json = json.loads(run_cli("preview", "s", "-c", str(config), "--json").stdout)
    for item in as_json["items"]:
        published = datetime.fromisoformat(item["published"])
        # Moscow, as config.yaml's site.timezone says, and the same clock
        # time the table prints.
        assert published.utcoffset() == timedelta(hours=3), item["published"]
        assert published.strftime("%Y-%m-%d %H:%M") in table


def test_preview_says_why_a_link_or_a_summary_came_out_empty(tmp_path: Path) -> None:
    # A saved copy of a page: its relative links resolve to files, not to
    # the web; one card's text is nothing but a script.
    (tmp_path / "page.html").write_text(
        "<html><body>"
        '<div class="card"><h2><a href="/news/1.html">First</a></h2>'
        "<p><script>track()</script></p></div>"
        '<div class="card"><h2><a href="https://example.org/2">Second</a></h2>'
        "<p>Words.</p></div>"
        "</body></html>",
        encoding="utf-8",
    )
    config = write_config(
        tmp_path,
        "  - name: saved\n    type: html\n    path: page.html\n    selectors:\n"
        "      item: div.card\n      title: h2\n      link: h2 a\n      summary: p\n",
    )
    done = run_cli("preview", "saved", "-c", str(config), "--json")
    assert done.returncode == 0, done.stderr
    notes = json.loads(done.stdout)["notes"]
    link = next(note for note in notes if note.startswith("item 1: link:"))
    assert "news/1.html" in link and "not a web address a reader can open" in link
    summary = next(note for note in notes if note.startswith("item 1: summary:"))
    assert "removed by clean-up" in summary
    assert not any(note.startswith("item 2:") and "summary" in note for note in notes)


def test_preview_says_an_id_comes_from_the_guid_when_the_link_is_dropped(tmp_path: Path) -> None:
    """It said the id was derived from source, title and date, and showed
    the id the guid gave."""
    (tmp_path / "feed.json").write_text(
        '{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": ['
        '{"id": "1", "url": "javascript:alert(1)", "title": "Guided", "content_text": "x"},'
        '{"url": "javascript:alert(2)", "title": "Bare", "content_text": "y"}]}',
        encoding="utf-8",
    )
    config = write_config(tmp_path, "  - name: js\n    type: feed\n    path: feed.json\n")
    done = run_cli("preview", "js", "-c", str(config), "--json")
    assert done.returncode == 0, done.stderr
    notes = json.loads(done.stdout)["notes"]
    first = next(note for note in notes if note.startswith("item 1: link:"))
    second = next(note for note in notes if note.startswith("item 2: link:"))
    assert first.endswith("the id is the source's guid"), first
    assert second.endswith("the id is derived from source, title and date"), second


def _one_guid_feed(folder: Path) -> None:
    """A feed whose CMS gives every entry the site's address as its guid."""
    (folder / "cms.rss").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>CMS</title>'
        "<link>https://cms.example/</link><description>d</description>"
        + "".join(
            f"<item><title>Story {n}</title><link>https://cms.example/{n}</link>"
            f"<guid>https://cms.example/</guid>"
            f"<pubDate>Mon, 23 Nov 2026 1{n}:00:00 +0300</pubDate></item>"
            for n in (3, 2, 1)
        )
        + "</channel></rss>",
        encoding="utf-8",
    )


def test_a_source_giving_every_entry_one_guid_is_named_and_can_be_read_by_links(
    tmp_path: Path,
) -> None:
    """Its stories collapsed into one without a word: the build said
    "3 items, 1 new". It now says so, and how to read such a source."""
    _one_guid_feed(tmp_path)
    config = write_config(tmp_path, "  - name: cms\n    type: feed\n    path: cms.rss\n")
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert "source 'cms': 3 entries with different links and titles have one id" in done.stderr
    assert "set 'guids: false'" in done.stderr
    assert len(feedparser.parse((tmp_path / "output" / "all.atom").read_bytes()).entries) == 1

    preview = run_cli("preview", "cms", "-c", str(config), "--json")
    assert any("have one id" in note for note in json.loads(preview.stdout)["notes"])

    config.write_text(config.read_text(encoding="utf-8") + "    guids: false\n", encoding="utf-8")
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert "have one id" not in done.stderr
    feed = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    # The story stored under the guid keeps it (ids are for ever), found
    # by its link; the others are stories of their own.
    assert sorted((e.title, e.id) for e in feed.entries) == [
        ("Story 1", "https://cms.example/1"),
        ("Story 2", "https://cms.example/2"),
        ("Story 3", "https://cms.example/"),
    ]


def test_a_build_now_in_the_past_dates_its_empty_feeds_then(tmp_path: Path) -> None:
    """An empty rubric's feed said the machine's time (when the store was
    made), years after every item of a build `--now` in the past, and kept
    it: "updated" never goes back."""
    _one_guid_feed(tmp_path)
    config = write_config(tmp_path, "  - name: cms\n    type: feed\n    path: cms.rss\n")
    done = run_cli("build", "-c", str(config), "--now", "2024-01-02T12:00:00Z")
    assert done.returncode == 0, done.stderr
    empty = feedparser.parse((tmp_path / "output" / "art.atom").read_bytes())
    assert (empty.entries, empty.feed.updated) == ([], "2024-01-02T15:00:00+03:00")


def test_an_empty_feed_is_not_rewritten_by_a_later_build(tmp_path: Path) -> None:
    """A build that started in one second and made its store in the next
    (a loaded machine) dated its empty feeds by its start, to the
    microsecond; the next build that rendered dated them by the store's
    second, rewrote them and pinged the hub for them, with nothing in them
    changed. The first build here starts 1.3 s before its store is made."""
    (tmp_path / "s.rss").write_text(_one_story(1, "art"), encoding="utf-8")
    config = write_config(tmp_path, "  - name: s\n    type: feed\n    path: s.rss\n")
    started = (datetime.now(UTC) - timedelta(seconds=1.3)).isoformat().replace("+00:00", "Z")
    done = run_cli("build", "-c", str(config), "--now", started)
    assert done.returncode == 0, done.stderr
    empty = tmp_path / "output" / "news.atom"
    before = empty.read_bytes()
    assert feedparser.parse(before).entries == []
    (tmp_path / "s.rss").write_text(_one_story(2, "art"), encoding="utf-8")
    done = run_cli("build", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert "Story 2" in (tmp_path / "output" / "art.atom").read_text(encoding="utf-8")
    assert empty.read_bytes() == before


def build_in_own_group(config: Path) -> subprocess.Popen[str]:
    """`feeds build` as a terminal runs it: in a process group of its own,
    which Ctrl-C signals whole."""
    return subprocess.Popen(
        [sys.executable, "-m", "feeds", "build", "-c", str(config)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,
        # Not ignoring SIGINT even when the tests run as a background job
        # (a shell starts those with SIGINT ignored, and exec keeps that).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def interrupt_once_fetched(
    build: subprocess.Popen[str], server: Server, path: str, settle: float
) -> None:
    """Ctrl-C to the build's group `settle` s after `path` was asked for;
    the build must end at once (not after a fetch's 30 s time-out) with
    exit 130, one last line `interrupted` and no traceback."""
    deadline = time.monotonic() + 20
    while not server.hits(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(settle)
    os.killpg(build.pid, signal.SIGINT)
    interrupted = time.monotonic()
    _, stderr = build.communicate(timeout=40)
    assert time.monotonic() - interrupted < 5
    assert build.returncode == 130
    assert stderr.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in stderr


@pytest.mark.parametrize("sources", [2, 60])  # fetched here, or by worker processes
def test_ctrl_c_ends_a_build_at_once_with_one_line(
    tmp_path: Path, server: Server, sources: int
) -> None:
    lines = ""
    for number in range(sources - 1):
        url = server.add(
            f"/f{number}.rss", RSS.replace("openstage.example/", f"s{number}.example/")
        )
        lines += f"  - name: s{number}\n    type: feed\n    url: {url}\n"
    slow = server.add("/slow.rss", RSS, delay=30)  # a server that does not answer
    config = write_config(tmp_path, lines + f"  - name: slow\n    type: feed\n    url: {slow}\n")
    build = build_in_own_group(config)
    interrupt_once_fetched(build, server, "/slow.rss", settle=0.3)
    assert not list(tmp_path.glob("output/**/.feeds-*.tmp"))
    assert group_ends(build.pid)  # no worker process is left


def test_ctrl_c_ends_a_build_connecting_to_a_host_that_drops_packets(
    tmp_path: Path, server: Server, no_handshake: str
) -> None:
    quick = server.add("/quick.rss", RSS)
    config = write_config(
        tmp_path,
        f"  - name: quick\n    type: feed\n    url: {quick}\n"
        f"  - name: dropped\n    type: feed\n    url: {no_handshake}/feed.rss\n",
    )
    build = build_in_own_group(config)
    # The other source is still connecting then, for up to 30 s.
    interrupt_once_fetched(build, server, "/quick.rss", settle=0.5)


def test_ctrl_c_while_the_archive_is_written_leaves_no_temporary_file(tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://x.example/{n}</link>"
        f"<category>art</category><pubDate>Mon, 01 Jan 2024 {n // 3600 % 24:02d}:"
        f"{n // 60 % 60:02d}:{n % 60:02d} GMT</pubDate><description>{'text ' * 40}"
        "</description></item>"
        for n in range(4000)
    )
    (tmp_path / "big.rss").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<link>https://x.example/</link><description>d</description>{items}</channel></rss>",
        encoding="utf-8",
    )
    # One item per archive page: thousands of files, written by helpers.
    base = BASE_CONFIG.replace("  max_items: 50\n", "  max_items: 1\n  archive_page_size: 1\n")
    config = write_config(tmp_path, "  - name: big\n    type: feed\n    path: big.rss\n", base=base)
    build = build_in_own_group(config)
    archive = tmp_path / "output" / "archive"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and build.poll() is None:
        if archive.is_dir() and any(archive.glob("**/.feeds-*.tmp")):
            break
        time.sleep(0.01)
    assert build.poll() is None, "the build ended before its archive was being written"
    os.killpg(build.pid, signal.SIGINT)
    _, stderr = build.communicate(timeout=30)
    assert build.returncode == 130, stderr
    assert not list(tmp_path.glob("output/**/.feeds-*.tmp"))


def test_an_error_that_a_ctrl_c_caused_still_ends_the_build_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Python's own locks can turn a Ctrl-C into "release unlocked lock"
    # raised while handling it: the user still pressed Ctrl-C, and gets the
    # exit code and the one line that says so, not a traceback.
    from feeds import cli

    def build(_config: object, _args: object) -> int:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("release unlocked lock")  # noqa: B904 (as Python does)

    def cleaning_up(_config: object, _args: object) -> int:
        # A clean-up that fails after a Ctrl-C, its error naming its cause.
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            failure = OSError(5, "Input/output error")
            raise PublishError("output/all.atom", "cannot write") from failure

    config = write_config(tmp_path, "  - name: s\n    type: feed\n    path: s.rss\n")
    for command in (build, cleaning_up):
        monkeypatch.setitem(cli._COMMANDS, "build", command)
        assert cli.main(["build", "--config", str(config)]) == 130
        assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted"

    def broken(_config: object, _args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setitem(cli._COMMANDS, "build", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["build", "--config", str(config)])


def test_ctrl_c_on_a_build_waiting_for_another_leaves_the_others_files_alone(
    tmp_path: Path, server: Server
) -> None:
    from feeds.config import load_config
    from feeds.store import RunLock

    url = server.add("/feed.rss", RSS)
    config_path = write_config(tmp_path, f"  - name: s\n    type: feed\n    url: {url}\n")
    config = load_config(config_path)
    # Another build holds the store and is writing a file.
    other = RunLock(config.storage_url, "build")
    other.acquire()
    try:
        config.output_dir.mkdir(parents=True)
        being_written = config.output_dir / ".feeds-other.tmp"
        being_written.write_text("half", encoding="utf-8")
        build = build_in_own_group(config_path)
        assert build.stderr is not None
        assert "waiting for" in build.stderr.readline()
        os.killpg(build.pid, signal.SIGINT)
        _, stderr = build.communicate(timeout=20)
        assert build.returncode == 130, stderr
        assert being_written.exists()
    finally:
        other.release()


def test_items_with_impossible_dates_are_published_as_first_seen(
    tmp_path: Path, server: Server
) -> None:
    """One hostile or careless item (dated year 1, 9999 or 2100) must not
    stop publishing, nor head the feeds for ever."""
    dates = {
        "year-1": "0001-01-01T00:00:00+03:00",
        "year-9999": "9999-12-31T23:59:59Z",
        "year-2100": "2100-01-01T00:00:00Z",
        "ordinary": "2026-11-20T10:00:00Z",
    }
    entries = "".join(
        f"<entry><id>https://odd.example/{name}</id><title>{name}</title>"
        f'<link href="https://odd.example/{name}"/><updated>{when}</updated></entry>'
        for name, when in dates.items()
    )
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>https://odd.example/</id><title>Odd</title><updated>2026-11-20T10:00:00Z</updated>"
        f"{entries}</feed>"
    )
    url = server.add("/odd.atom", atom, content_type="application/atom+xml")
    config = write_config(tmp_path, f"  - name: odd\n    type: feed\n    url: {url}\n")
    done = run_cli("build", "-c", str(config), "--now", "2026-11-26T09:00:00Z")
    assert done.returncode == 0, done.stderr
    feed = feedparser.parse((tmp_path / "output" / "all.atom").read_bytes())
    assert not feed.bozo
    assert {entry.title for entry in feed.entries} == set(dates)
    seen = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    for entry in feed.entries:
        published = datetime.fromisoformat(entry.published)
        assert published == (
            seen if entry.title != "ordinary" else datetime(2026, 11, 20, 10, tzinfo=UTC)
        )
    assert datetime.fromisoformat(feed.feed.updated) == seen


def test_a_feeds_updated_moves_forward_when_its_entries_change(
    tmp_path: Path, server: Server
) -> None:
    """Story B is corrected, then story C (dated before that correction)
    pushes it out of a two-item feed: the feed's updated and lastBuildDate
    went back from B's correction to C's date, and a reader that skips a
    feed whose date has not moved missed C."""

    def item(name: str, day: int, text: str) -> str:
        return (
            f"<item><title>Story {name}</title><link>https://news.example/{name}</link>"
            f"<description>{text}</description>"
            f"<pubDate>{day:02d} Nov 2026 10:00:00 GMT</pubDate></item>"
        )

    def rss(*items: str) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>S</title>'
            f"<link>https://news.example/</link><description>d</description>{''.join(items)}"
            "</channel></rss>"
        )

    path = "/s.rss"
    config = write_config(
        tmp_path,
        f"  - name: s\n    type: feed\n    url: {server.url}{path}\n",
        BASE_CONFIG.replace("max_items: 50", "max_items: 2"),
    )
    runs = [
        ("2026-11-20T12:00:00Z", rss(item("A", 10, "a"), item("B", 9, "b"))),
        ("2026-11-21T12:00:00Z", rss(item("A", 10, "a"), item("B", 9, "b, corrected"))),
        (
            "2026-11-22T12:00:00Z",
            rss(item("C", 11, "c"), item("A", 10, "a"), item("B", 9, "b, corrected")),
        ),
    ]
    assert _feed_after_each_build(server, path, config, "all", runs) == [
        (datetime(2026, 11, 20, 12, tzinfo=UTC), ["Story A", "Story B"]),
        (datetime(2026, 11, 21, 12, tzinfo=UTC), ["Story A", "Story B"]),
        (datetime(2026, 11, 22, 12, tzinfo=UTC), ["Story C", "Story A"]),
    ]


def _feed_after_each_build(
    server: Server, path: str, config: Path, slug: str, runs: list[tuple[str, str]]
) -> list[tuple[datetime, list[str]]]:
    """Serve each (now, RSS text) at `path` and build at `now`: the date the
    feed `slug` then says (Atom and RSS alike) and its entries' titles."""
    output = config.parent / "output"
    seen = []
    for now, body in runs:
        server.add(path, body, content_type="application/rss+xml")
        done = run_cli("build", "-c", str(config), "--now", now)
        assert done.returncode == 0, done.stderr
        atom = feedparser.parse((output / f"{slug}.atom").read_bytes())
        rss_feed = feedparser.parse((output / f"{slug}.rss").read_bytes())
        assert atom.feed.updated_parsed == rss_feed.feed.updated_parsed
        seen.append((datetime.fromisoformat(atom.feed.updated), [e.title for e in atom.entries]))
    return seen


def _rss_of(*items: tuple[str, int, str]) -> str:
    """A feed of stories (name, day of November 2026, category)."""
    entries = "".join(
        f"<item><title>Story {name}</title><link>https://news.example/{name}</link>"
        f"<category>{category}</category><pubDate>{day:02d} Nov 2026 10:00:00 GMT</pubDate></item>"
        for name, day, category in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>S</title>'
        f"<link>https://news.example/</link><description>d</description>{entries}"
        "</channel></rss>"
    )


def test_a_rubric_feed_an_entry_leaves_says_it_changed_then(tmp_path: Path, server: Server) -> None:
    """Story C arrives in Литература on the 21st, then its source files it
    under Искусство: the feed of Литература lost its newest entry, and its
    updated and lastBuildDate went back to the 20th, before C came. A
    reader that skips a feed whose date has not moved, or a partner that
    keeps the latest copy by date, kept C in it."""
    path = "/s.rss"
    config = write_config(tmp_path, f"  - name: s\n    type: feed\n    url: {server.url}{path}\n")
    runs = [
        ("2026-11-20T12:00:00Z", _rss_of(("A", 10, "books"), ("B", 9, "books"))),
        (
            "2026-11-21T12:00:00Z",
            _rss_of(("C", 11, "books"), ("A", 10, "books"), ("B", 9, "books")),
        ),
        ("2026-11-22T12:00:00Z", _rss_of(("C", 11, "art"), ("A", 10, "books"), ("B", 9, "books"))),
        ("2026-11-23T12:00:00Z", _rss_of(("C", 11, "art"), ("A", 10, "books"), ("B", 9, "books"))),
    ]
    assert _feed_after_each_build(server, path, config, "literature", runs) == [
        (datetime(2026, 11, 20, 12, tzinfo=UTC), ["Story A", "Story B"]),
        (datetime(2026, 11, 21, 12, tzinfo=UTC), ["Story C", "Story A", "Story B"]),
        (datetime(2026, 11, 22, 12, tzinfo=UTC), ["Story A", "Story B"]),
        # Nothing changed in it since: the same date.
        (datetime(2026, 11, 22, 12, tzinfo=UTC), ["Story A", "Story B"]),
    ]


def test_a_rubric_taken_out_of_the_config_is_no_category_of_published_items(
    tmp_path: Path, server: Server
) -> None:
    """A story keeps the rubrics it had (the README says so), but its
    entries named one with no feed and no title any more: `<category
    term="art" label="art"/>` in all.atom, `art` in RSS and JSON."""
    path = "/s.rss"
    sources = f"  - name: s\n    type: feed\n    url: {server.url}{path}\n"
    config = write_config(tmp_path, sources)
    server.add(
        path, _rss_of(("A", 10, "art"), ("B", 9, "books")), content_type="application/rss+xml"
    )
    assert run_cli("build", "-c", str(config), "--now", "2026-11-20T12:00:00Z").returncode == 0
    without_art = BASE_CONFIG.replace(
        "  - slug: art\n    title: Искусство\n    aliases: [art]\n", ""
    )
    assert without_art != BASE_CONFIG
    write_config(tmp_path, sources, without_art)
    # The source no longer lists story A: nothing tags it anew.
    server.add(path, _rss_of(("B", 9, "books")), content_type="application/rss+xml")
    done = run_cli("build", "-c", str(config), "--now", "2026-11-21T12:00:00Z")
    assert done.returncode == 0, done.stderr

    output = tmp_path / "output"
    atom = feedparser.parse((output / "all.atom").read_bytes())
    rss_feed = feedparser.parse((output / "all.rss").read_bytes())
    by_title = {entry.title: entry for entry in atom.entries}
    assert [tag.term for tag in by_title["Story B"].tags] == ["literature"]
    assert not by_title["Story A"].get("tags")
    assert not next(e for e in rss_feed.entries if e.title == "Story A").get("tags")
    items = json.loads((output / "all.json").read_text(encoding="utf-8"))["items"]
    (story_a,) = [item for item in items if item["title"] == "Story A"]
    assert "art" not in json.dumps(story_a)
    assert not (output / "art.atom").exists()


def test_forget_takes_a_story_out_of_every_feed_and_archive_page_for_good(
    tmp_path: Path, server: Server
) -> None:
    """A story published by mistake (a text page's label read as a story, a
    takedown) stayed in the feeds and their archive pages for good: a
    stored story could not be taken out, and its source, still listing it,
    would have stored it again."""
    path = "/s.rss"
    base = BASE_CONFIG.replace("  max_items: 50\n", "  max_items: 2\n  archive_page_size: 2\n")
    assert base != BASE_CONFIG
    config = write_config(
        tmp_path, f"  - name: s\n    type: feed\n    url: {server.url}{path}\n", base
    )
    stories = [
        (name, day, "books")
        for name, day in (("E", 14), ("D", 13), ("C", 12), ("B", 11), ("A", 10))
    ]
    server.add(path, _rss_of(*stories), content_type="application/rss+xml")
    assert run_cli("build", "-c", str(config), "--now", "2026-11-20T12:00:00Z").returncode == 0
    output = tmp_path / "output"

    def files_naming(title: str) -> list[str]:
        return sorted(
            str(file.relative_to(output))
            for file in output.rglob("*")
            if file.is_file() and title.encode() in file.read_bytes()
        )

    assert files_naming("Story B") == [
        "archive/all/1.atom",
        "archive/all/1.rss",
        "archive/literature/1.atom",
        "archive/literature/1.rss",
    ]
    pages = sorted(str(p.relative_to(output)) for p in (output / "archive").rglob("*.atom"))

    before = feedparser.parse((output / "archive" / "all" / "1.atom").read_bytes()).feed.updated
    done = run_cli(
        "forget",
        "-c",
        str(config),
        "https://news.example/B",
        "https://news.example/Z",
        "https://news.example/B?utm_source=x",  # the same story again: said once
    )

    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(
        "forgotten: https://news.example/B (Story B); out of all, literature and 2 archive pages\n"
    ), done.stdout
    assert "no stored story has the id or link https://news.example/Z" in done.stderr
    assert "forgotten before" not in done.stdout
    assert files_naming("Story B") == []
    # The pages that held it are there again, without it; the others kept.
    assert sorted(str(p.relative_to(output)) for p in (output / "archive").rglob("*.atom")) == pages
    page = feedparser.parse((output / "archive" / "all" / "1.atom").read_bytes())
    assert [entry.title for entry in page.entries] == ["Story A"]
    # It changed now: its date says so (by its entries' alone, it went back).
    assert datetime.fromisoformat(page.feed.updated) > datetime.fromisoformat(before)
    # Its source still lists it: it stays out, and so does a copy from another source.
    other = server.add("/other.rss", _rss_of(("B", 11, "art")), content_type="application/rss+xml")
    write_config(
        tmp_path,
        f"  - name: s\n    type: feed\n    url: {server.url}{path}\n"
        f"  - name: other\n    type: feed\n    url: {other}\n",
        base,
    )
    assert run_cli("build", "-c", str(config), "--now", "2026-11-21T12:00:00Z").returncode == 0
    assert files_naming("Story B") == []
    assert [e.title for e in feedparser.parse((output / "all.atom").read_bytes()).entries] == [
        "Story E",
        "Story D",
    ]


def test_a_forget_whose_publish_failed_is_published_by_the_next_build(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store had let the story go, the files still listed it, and the
    next build, finding nothing new, published nothing: it stayed out there
    for good (and `feeds forget` again said no such story)."""
    from feeds import pipeline
    from feeds.config import load_config

    path = "/s.rss"
    config = write_config(tmp_path, f"  - name: s\n    type: feed\n    url: {server.url}{path}\n")
    server.add(
        path, _rss_of(("A", 10, "books"), ("B", 9, "books")), content_type="application/rss+xml"
    )
    assert run_cli("build", "-c", str(config), "--now", "2026-11-20T12:00:00Z").returncode == 0
    output = tmp_path / "output"
    assert b"Story B" in (output / "all.atom").read_bytes()

    def fails(*args: object, **kwargs: object) -> None:
        raise PublishError(str(output), "disk full")

    monkeypatch.setattr(pipeline, "publish_feeds", fails)
    with pytest.raises(PublishError):
        pipeline.forget_stories(
            load_config(config), ["https://news.example/B"], now=datetime.now(UTC)
        )
    monkeypatch.undo()
    assert b"Story B" in (output / "all.atom").read_bytes()

    done = run_cli("build", "-c", str(config), "--now", "2026-11-21T12:00:00Z")

    assert done.returncode == 0, done.stderr
    assert not [f.name for f in output.rglob("*") if f.is_file() and b"Story B" in f.read_bytes()]
    again = run_cli("forget", "-c", str(config), "https://news.example/B")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("forgotten before: https://news.example/B (Story B)")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:99999/f.rss", "the port is not a number from 1 to 65535"),
        ("http://x.example:8o8o/f.rss", "the port is not a number from 1 to 65535"),
        ("http://news example.org/f.rss", "the host 'news example.org' has a character"),
        ("http://:8080/f.rss", "no host"),
    ],
)
def test_check_refuses_a_url_whose_host_or_port_cannot_be_fetched(
    tmp_path: Path, url: str, problem: str
) -> None:
    """`feeds check` said ok to these, and every fetch then failed with
    'refused a redirect to a non-HTTP address', though nothing redirected."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "site:\n  title: T\n  base_url: https://x.example/\nsources:\n"
        f"  - name: a\n    type: feed\n    url: {url}\n",
        encoding="utf-8",
    )
    done = run_cli("check", "-c", str(config))
    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith(f"error: {config}:7: sources[0].url (source 'a'): {problem}"), (
        done.stderr
    )
    assert done.stdout == ""
    (tmp_path / "ok").mkdir()
    valid = write_config(tmp_path / "ok", "")
    preview = run_cli("preview", "--type", "feed", "--url", url, "-c", str(valid))
    assert preview.returncode == 2
    assert preview.stderr.startswith(f"error: --url: {problem}"), preview.stderr


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:page.html", "a file URL is file:///absolute/path"),
        ("http://[::1", "expected an http(s) or file URL"),
        ("samples/culture.rss", "expected an http(s) or file URL"),
        ("ftp://x.example/", "expected an http(s) or file URL"),
    ],
)
def test_preview_url_is_checked_as_a_config_url_is(tmp_path: Path, url: str, problem: str) -> None:
    """`preview --url file:page.html` and `--url 'http://[::1'` ended in a
    traceback; a relative path was looked up as a host name, and ftp:
    was reported as 'refused a redirect'."""
    config = write_config(tmp_path, "")
    done = run_cli("preview", "--type", "html", "--url", url, "-c", str(config))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: --url: {problem}")
    assert "Traceback" not in done.stderr


def test_a_build_that_cannot_publish_still_says_how_each_source_went(
    tmp_path: Path, server: Server
) -> None:
    """The sources are stored before publishing fails: the operator sees
    which were read (and the next build publishes them), then the error."""
    config = write_config(tmp_path, sources_block(server))
    (tmp_path / "output" / "all.atom").mkdir(parents=True)  # in the way of the feed

    done = run_cli("build", "-c", str(config), "--now", "2026-11-26T09:00:00+00:00")

    assert done.returncode != 0
    assert "all.atom" in done.stderr
    for name in ("culture", "desk", "colta"):
        assert re.search(rf"^ok +{name}: \d+ items", done.stdout, re.MULTILINE), done.stdout
    assert "not published" in done.stdout


@pytest.mark.parametrize(
    ("name", "body", "kind", "why"),
    [
        (
            "empty.rss",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            "<link>https://x.example/</link><description>d</description></channel></rss>",
            "feed",
            "the feed lists no items",
        ),
        ("empty.txt", "Главная\nО проекте\n", "text", "no story found"),
    ],
)
def test_preview_says_why_it_found_no_items(
    tmp_path: Path, name: str, body: str, kind: str, why: str
) -> None:
    (tmp_path / name).write_text(body, encoding="utf-8")
    config = write_config(tmp_path, f"  - name: s\n    type: {kind}\n    path: {name}\n")

    done = run_cli("preview", "s", "-c", str(config), "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items"] == []
    assert any(why in note for note in json.loads(done.stdout)["notes"]), done.stdout
    assert why in run_cli("preview", "s", "-c", str(config)).stdout


def test_status_gives_no_item_count_before_a_success_and_the_whole_reason_of_a_failure(
    tmp_path: Path, server: Server
) -> None:
    reason = "/a-long-path-that-tells-the-operator-which-feed-it-was/rss.xml"
    config = write_config(
        tmp_path, f"  - name: broken\n    type: feed\n    url: {server.url}{reason}\n"
    )
    run_cli("build", "-c", str(config))

    (row,) = run_cli("status", "-c", str(config)).stdout.splitlines()[1:]

    assert row.split()[:5] == ["broken", "failing", "(1x)", "-", "-"]  # no success, no count
    assert "source 'broken'" not in row  # named once, in its own column
    assert "HTTP 404" in row


def test_build_keeps_to_a_retry_after_until_it_ends_or_the_url_changes(
    server: Server, tmp_path: Path
) -> None:
    """A build run from cron every few minutes asked a server that had
    answered 429 with Retry-After: 3600 again at every run."""
    busy = server.sequence(
        "/busy.rss",
        Server.route("", status=429, Retry_After="3600"),
        Server.route(RSS),
    )
    server.add("/calm.rss", RSS.replace("/a", "/calm-a").replace("/b", "/calm-b"))
    config = write_config(
        tmp_path,
        f"  - name: busy\n    type: feed\n    url: {busy}\n"
        f"  - name: calm\n    type: feed\n    url: {server.url}/calm.rss\n",
    )
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def build(at: datetime) -> subprocess.CompletedProcess[str]:
        return run_cli("build", "-v", "-c", str(config), "--now", at.isoformat(), cwd=tmp_path)

    first = build(now)
    assert first.returncode == 1 and "retry after 3600 s" in first.stderr
    second = build(now + timedelta(minutes=10))
    assert second.returncode == 0, second.stderr
    assert len(server.hits("/busy.rss")) == 1
    assert (
        "wait   busy: not fetched: its server asked for no request before "
        "2026-11-26 16:00:00 MSK (Retry-After)" in second.stdout
    )
    assert "1 of 2 sources ok, 1 waiting" in second.stdout
    # The log says the same, not that it was read ("HTTP 0 ... 0 items").
    assert "source 'busy': not fetched" in second.stderr
    assert "source 'busy': HTTP" not in second.stderr
    assert len(server.hits("/calm.rss")) == 2
    # Once the hour is over, it is asked again.
    third = build(now + timedelta(minutes=61))
    assert third.returncode == 0, third.stderr
    assert len(server.hits("/busy.rss")) == 2 and "ok     busy: 2 items" in third.stdout


def test_a_retry_after_binds_only_the_url_that_sent_it(server: Server, tmp_path: Path) -> None:
    busy = server.add("/busy.rss", "", status=503, Retry_After="3600")
    config = write_config(tmp_path, f"  - name: s\n    type: feed\n    url: {busy}\n")
    assert run_cli("build", "-c", str(config), cwd=tmp_path).returncode == 1
    moved = server.add("/mirror.rss", RSS)
    config.write_text(config.read_text(encoding="utf-8").replace(busy, moved), encoding="utf-8")
    fixed = run_cli("build", "-c", str(config), cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert len(server.hits("/mirror.rss")) == 1 and "ok     s: 2 items" in fixed.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("build", "--now", "9999-12-31T23:30:00Z"), "is out of range"),
        (("build", "--now", "0001-01-01T00:00:00+05:00"), "is out of range"),
        (("serve", "--port", "99999"), "expected a port number 0-65535, got 99999"),
        (("serve", "--port", "-1"), "expected a port number 0-65535, got -1"),
    ],
)
def test_an_option_out_of_range_is_a_usage_error_not_a_traceback(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    config = write_config(tmp_path, "")
    done = run_cli(*args, "-c", str(config))
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
