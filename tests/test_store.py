"""The SQLite store: accumulation, updates, merging, ordering, source state."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.classify import Vocabulary
from feeds.errors import StoreError
from feeds.model import Item, Rubric
from feeds.normalise import normalise_item, shared_links
from feeds.store import (
    BULK_CACHE_KIB,
    SCHEMA_VERSION,
    Attempt,
    RunLock,
    SourceState,
    Store,
    Writer,
)

from .conftest import downgrade_store

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def item(n: int, source: str = "a", **fields: object) -> Item:
    base = Item(
        source=source,
        title=f"Story {n}",
        link=f"https://news.example/{n}",
        summary=f"<p>Lead {n}</p>",
        published=T0 - timedelta(hours=n),
        rubrics=("art",),
    )
    return normalise_item(replace(base, **fields))  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    yield opened
    opened.close()


def test_items_accumulate_after_they_leave_their_source(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1), item(2)], now=T0)
    with store.transaction():
        result = store.upsert([item(3)], now=T0 + timedelta(hours=1))
    assert result.new == 1
    assert [i.title for i in store.latest()] == ["Story 1", "Story 2", "Story 3"]


def test_latest_is_newest_first_and_capped(store: Store) -> None:
    with store.transaction():
        store.upsert([item(n) for n in (5, 1, 3, 2, 4)], now=T0)
    assert [i.title for i in store.latest(limit=3)] == ["Story 1", "Story 2", "Story 3"]
    assert store.count() == 5


def test_a_rubric_feed_holds_its_newest_items_whether_common_or_rare(store: Store) -> None:
    """`latest` walks the newest items for a common rubric and gathers the
    members of a rare one; both give the rubric's newest, ties by id."""
    rubrics = {"common": range(0, 400, 2), "rare": range(5, 400, 97)}
    items = [
        item(
            n % 150, rubrics=tuple(r for r, ns in rubrics.items() if n in ns), link=f"https://x/{n}"
        )
        for n in range(400)
    ]
    with store.transaction():
        store.upsert(items, now=T0)
    for rubric in rubrics:
        members = sorted(
            (i for i in items if i.rubrics and rubric in i.rubrics),
            key=lambda i: (i.published, i.id),
            reverse=True,
        )
        for limit in (3, 50, 1000):
            got = [i.id for i in store.latest(rubric, limit)]
            assert got == [i.id for i in members[:limit]], (rubric, limit)
    assert len(store.latest("common", 50)) == 50
    assert len(store.latest("rare", 50)) == len(rubrics["rare"])


def test_same_item_again_is_neither_new_nor_updated(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1)], now=T0)
    with store.transaction():
        result = store.upsert([item(1)], now=T0 + timedelta(days=1))
    assert (result.new, result.updated) == (0, 0)
    (stored,) = store.latest()
    assert stored.updated is None


def test_changed_text_keeps_id_and_published_and_sets_updated(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1)], now=T0)
    later = T0 + timedelta(hours=5)
    changed = item(1, title="Story 1, corrected", published=T0 - timedelta(minutes=3))
    with store.transaction():
        result = store.upsert([changed], now=later)
    assert result.updated == 1
    (stored,) = store.latest()
    assert stored.id == "https://news.example/1"
    assert stored.title == "Story 1, corrected"
    assert stored.published == T0 - timedelta(hours=1)
    assert stored.updated == later


def test_a_date_that_moves_with_the_fetch_alone_is_not_an_update(store: Store) -> None:
    """A date such as "3 часа назад" read an hour later is a date an hour later; the store
    keeps the first one, so a reader would see nothing new but `updated`."""
    with store.transaction():
        store.upsert([item(1, published=T0 - timedelta(hours=3))], now=T0)
    later = T0 + timedelta(hours=1)
    with store.transaction():
        result = store.upsert([item(1, published=later - timedelta(hours=3))], now=later)
    assert (result.new, result.updated, result.changed) == (0, 0, False)
    (stored,) = store.latest()
    assert (stored.published, stored.updated) == (T0 - timedelta(hours=3), None)
    with store.transaction():
        edited = item(1, title="Story 1, corrected", published=later - timedelta(hours=2))
        result = store.upsert([edited], now=later)
    assert result.updated == 1  # new text with the moved date is still an update


def test_view_count_alone_is_not_an_update(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1, views=10)], now=T0)
    with store.transaction():
        result = store.upsert([item(1, views=99)], now=T0 + timedelta(hours=1))
    assert result.updated == 0
    (stored,) = store.latest()
    assert (stored.views, stored.updated) == (99, None)


def test_undated_item_is_dated_when_first_seen(store: Store) -> None:
    undated = item(1, published=None, link="")
    with store.transaction():
        store.upsert([undated], now=T0)
    with store.transaction():
        store.upsert([undated], now=T0 + timedelta(days=2))
    (stored,) = store.latest()
    assert stored.published == T0


def test_same_story_from_two_sources_appears_once_with_both_rubrics(store: Store) -> None:
    first = item(1, source="a", rubrics=("art",))
    second = item(
        1,
        source="b",
        guid="tag:b.example,2026:1",
        link="http://NEWS.example:80/1?utm_source=b#top",
        rubrics=("literature",),
    )
    with store.transaction():
        store.upsert([first], now=T0)
        result = store.upsert([second], now=T0)
    assert result.new == 0
    (stored,) = store.latest()
    assert stored.id == first.id
    assert stored.rubrics == ("art", "literature")
    assert [i.id for i in store.latest("literature")] == [first.id]


def test_a_source_listing_one_link_under_two_guids_is_stable_run_after_run(
    store: Store,
) -> None:
    """One story (same title) listed twice: the first copy's text, both
    copies' rubrics, and nothing to update when the source has not changed
    (else partners never get a 304)."""
    copies = [
        item(1, guid="dup-a", title="Copy", summary="<p>A</p>", rubrics=("art",)),
        item(
            1,
            guid="dup-b",
            title="Copy",
            summary="<p>B</p>",
            link="https://news.example/1?utm_source=x",
            rubrics=("news",),
        ),
    ]
    with store.transaction():
        first = store.upsert(copies, now=T0)
    assert (first.new, first.updated) == (1, 0)
    for run in range(1, 4):
        with store.transaction():
            again = store.upsert(copies, now=T0 + timedelta(hours=run))
        assert (again.new, again.updated, again.changed) == (0, 0, False)
    (stored,) = store.latest()
    assert (stored.id, stored.summary) == (copies[0].id, "<p>A</p>")
    assert stored.rubrics == ("art", "news")
    assert stored.updated is None


def test_stories_sharing_one_link_under_their_own_guids_stay_apart(store: Store) -> None:
    """A podcast or a ticker links every entry to one page: entries with
    their own guids and titles are distinct stories, stable run after run,
    and a later one alone is not taken for an earlier one."""
    show = "https://news.example/podcast"
    episodes = [item(n, guid=f"ep-{n}", title=f"Episode {n}", link=show) for n in (1, 2, 3)]
    with store.transaction():
        first = store.upsert(episodes, now=T0)
    assert first.new == 3
    for run in range(1, 3):
        with store.transaction():
            again = store.upsert(episodes, now=T0 + timedelta(hours=run))
        assert (again.new, again.updated, again.changed) == (0, 0, False)
    with store.transaction():
        alone = store.upsert([item(0, guid="ep-4", title="Episode 4", link=show)], now=T0)
    assert alone.new == 1
    assert sorted(i.title for i in store.latest()) == [f"Episode {n}" for n in (1, 2, 3, 4)]


# ---------------------------------------------------------------- forget


def test_a_forgotten_story_stays_out_by_its_id_and_by_its_link(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1), item(2)], now=T0)
        (story,), missing = store.forget(["https://news.example/1", "nothing-here"], T0)
    assert (story.id, story.title, story.feeds, missing) == (
        item(1).id,
        "Story 1",
        ("all", "art"),
        ["nothing-here"],
    )
    assert [i.title for i in store.latest()] == ["Story 2"]
    with store.transaction():
        # Its source lists it again; another source brings a copy.
        again = store.upsert([item(1), item(1, source="b", guid="b-1"), item(2)], now=T0)
    assert (again.new, [i.title for i in store.latest()]) == (0, ["Story 2"])
    with store.transaction():
        (before,), _ = store.forget([item(1).id], T0)
    assert before.before and before.id == item(1).id


def test_a_forgotten_story_takes_its_article_page_and_its_failed_tries_along(
    store: Store,
) -> None:
    """`feeds forget` takes a story's cached article out with it: its page,
    or the failed tries counted at it; another story's are kept."""
    kept, failing = "https://news.example/1", "https://news.example/2"
    with store.transaction():
        store.upsert([item(1), item(2), item(3)], now=T0)
        store.save_page(kept, "<p>Текст</p>", None, T0)
        store.page_failed(failing, "HTTP 500", T0)
        store.page_failed("https://news.example/3", "HTTP 500", T0)
        store.forget([kept, failing], T0)
    assert store.pages([kept]) == {}
    assert store.page_tries([failing, "https://news.example/3"]) == {"https://news.example/3": 1}


def test_a_forgotten_member_keeps_its_number(store: Store) -> None:
    """The newest member taken out gave its number to the next story: a
    number inside an archive page already written, so that story was on
    no page at all once it left the current document."""
    with store.transaction():
        store.upsert([item(n) for n in (3, 2, 1)], now=T0)
        store.archive_pages("all", 3, set())
        store.forget([item(1).id], T0)
        store.upsert([item(0)], now=T0)
    (page,) = store.archive_pages("all", 3, {item(0).id})
    assert (page.first, page.last) == (1, 3)
    assert store.archived_ids(page) == [item(1).id, item(2).id, item(3).id]
    assert store.archive_rows(store.archived_ids(page)).keys() == {item(2).id, item(3).id}
    assert store._top("all") == 4


def test_a_forgotten_member_seals_no_page_and_its_pages_say_when_it_left(store: Store) -> None:
    """The newest story taken out, still in no page, sealed the rest into
    a page of its own at once (an empty page, kept for good); and a page
    rewritten without its newest story said an earlier date than before."""
    with store.transaction():
        store.upsert([item(n) for n in (4, 3, 2, 1)], now=T0)
        (page,) = store.archive_pages("all", 3, {item(1).id})
        assert page.changed is None
        later = T0 + timedelta(days=1, microseconds=5)
        store.forget([item(1).id, item(3).id, item(3).link], later)
    # Story 1 (number 4) is in no document now, and seals nothing.
    (page,) = store.archive_pages("all", 3, set())
    assert (page.first, page.last, page.changed) == (1, 3, later.replace(microsecond=0))
    assert store.without_forgotten([item(1), item(2), item(5)]) == [item(2), item(5)]


def test_a_forgotten_episode_keeps_out_no_other_at_its_podcasts_link(store: Store) -> None:
    show = "https://news.example/podcast"
    episodes = [item(n, guid=f"ep-{n}", title=f"Episode {n}", link=show) for n in (1, 2)]
    with store.transaction():
        store.upsert(episodes, now=T0)
        store.forget([episodes[0].id], T0)
        later = [*episodes, item(0, guid="ep-3", title="Episode 3", link=show)]
        store.upsert(later, now=T0 + timedelta(hours=1))
    assert sorted(i.title for i in store.latest()) == ["Episode 2", "Episode 3"]


def test_a_story_whose_link_was_seen_shared_is_forgotten_by_that_link(store: Store) -> None:
    """Episodes given one link keep no canonical link (it identifies none of
    them): once only one is left at it, forgetting it by that link, as the
    feeds show it, said there was no such story."""
    link = "https://news.example/podcast"
    episodes = [item(n, guid=f"ep-{n}", title=f"Episode {n}", link=link) for n in (1, 2)]
    with store.transaction():
        store.upsert(episodes, now=T0)
        done, missing = store.forget([link], T0)
        assert (done, missing) == ([], [link])  # two stories have it: it names none
        store.forget([episodes[0].id], T0)
        (story,), missing = store.forget([link], T0)
    assert (story.title, missing) == ("Episode 2", [])


def test_a_forgotten_story_with_no_link_stays_out_under_another_id(store: Store) -> None:
    """A text page's headline with no date heading above it takes its id
    from its time; under the heading that the next day's page prints, it
    takes another id. Forgotten, it came back so."""
    undated = item(1, link="", title="Фонд объявил шорт-лист", time_only="16:40")
    with store.transaction():
        store.upsert([undated], now=T0)
        store.forget([undated.id], T0)
        dated = item(1, link="", title="Фонд объявил шорт-лист")
        assert dated.id != undated.id
        store.upsert([dated, item(2, link="", title="Другая новость")], now=T0)
    assert [i.title for i in store.latest()] == ["Другая новость"]


def test_a_forgotten_story_with_no_link_keeps_out_no_later_one_of_its_title(
    store: Store,
) -> None:
    """A weekly column with neither link nor guid ("Погода на выходные"):
    forgetting this week's kept every later week's out for good."""
    week = timedelta(days=7)
    this_week = item(1, link="", title="Погода на выходные")
    with store.transaction():
        store.upsert([this_week], now=T0)
        store.forget([this_week.id], T0)
        # The same story, dated anew by a day (its page printed its day).
        again = this_week.evolve(published=this_week.published + timedelta(days=1), id="")
        next_week = this_week.evolve(published=this_week.published + week, id="")
        store.upsert([normalise_item(again), normalise_item(next_week)], now=T0 + week)
    assert [(i.title, i.published) for i in store.latest()] == [
        ("Погода на выходные", next_week.published)
    ]


def test_items_waiting_for_rubrics_count_each_rubric_of_a_joined_category(
    store: Store,
) -> None:
    """`feeds rubrics` says what a new rubric gets at the next read: a
    story filed under "Театр/Кино" joins both."""
    vocabulary = Vocabulary.of(
        (Rubric(slug="theatre", title="Театр"), Rubric(slug="cinema", title="Кино"))
    )
    with store.transaction():
        store.upsert([item(1, categories=("Театр/Кино",), rubrics=())], now=T0)
    assert store.waiting_for_rubrics(vocabulary.slugs_for) == {"theatre": 1, "cinema": 1}


def test_a_shared_link_still_finds_another_sources_copy_with_its_title(store: Store) -> None:
    """Source b lists one link twice under two titles: the copy titled as
    a's stored story is that story; the other is a story of its own."""
    link = "https://news.example/minister"
    with store.transaction():
        store.upsert([item(1, source="a", title="Minister resigns", link=link)], now=T0)
        both = [
            item(2, source="b", guid="b1", title="Minister resigns", link=link),
            item(3, source="b", guid="b2", title="UPDATE: Minister resigns after vote", link=link),
        ]
        result = store.upsert(both, now=T0)
    assert result.new == 1
    assert sorted(i.title for i in store.latest()) == [
        "Minister resigns",
        "UPDATE: Minister resigns after vote",
    ]


def test_a_revised_guid_with_an_edited_title_is_the_same_story(store: Store) -> None:
    """The source no longer lists the old guid: a revision, not a new story."""
    link = "https://news.example/post-7"
    with store.transaction():
        store.upsert([item(7, guid="post-7-rev1", title="Draft", link=link)], now=T0)
    with store.transaction():
        result = store.upsert([item(7, guid="post-7-rev2", title="Final", link=link)], now=T0)
    assert (result.new, result.updated) == (0, 1)
    assert [i.title for i in store.latest()] == ["Final"]


def test_a_new_story_at_a_listed_storys_old_link_is_stored_at_once(store: Store) -> None:
    """g1 moves to /b and g2 takes /a, both titled alike: g2 was folded
    into g1 (and, behind a 304, never stored) because the titles agreed."""
    with store.transaction():
        store.upsert([item(1, guid="g1", title="Daily briefing", rubrics=("art",))], now=T0)
    batch = [
        item(1, guid="g1", title="Daily briefing", link="https://news.example/b"),
        item(2, guid="g2", title="Daily briefing", link=item(1).link, rubrics=("news",)),
    ]
    with store.transaction():
        first = store.upsert(batch, now=T0 + timedelta(hours=1))
    assert (first.new, first.updated) == (1, 1)
    with store.transaction():
        again = store.upsert(batch, now=T0 + timedelta(hours=2))
    assert (again.new, again.updated, again.changed) == (0, 0, False)
    assert sorted((i.guid, i.rubrics) for i in store.latest()) == [
        ("g1", ("art",)),
        ("g2", ("news",)),
    ]


def test_a_link_seen_shared_stops_finding_the_story_that_held_it(store: Store) -> None:
    """Episode 1 was stored alone, holding the show's link; once the feed
    shows the link shared, a later episode alone is no revision of it."""
    show = "https://news.example/podcast"
    with store.transaction():
        store.upsert([item(1, guid="ep-1", title="Episode 1", link=show)], now=T0)
    with store.transaction():
        two = [item(n, guid=f"ep-{n}", title=f"Episode {n}", link=show) for n in (1, 2)]
        store.upsert(two, now=T0)
    with store.transaction():
        alone = store.upsert([item(3, guid="ep-3", title="Episode 3", link=show)], now=T0)
    assert alone.new == 1
    assert sorted(i.title for i in store.latest()) == ["Episode 1", "Episode 2", "Episode 3"]


def _fetch(*episodes: int) -> list[Item]:
    """One fetch of a feed whose entries have no guid and all link to the
    show's page, normalised as a worker does it."""
    raw = [
        Item(
            source="a",
            title=f"Episode {n}",
            link="https://news.example/show",
            published=T0 + timedelta(days=n),
        )
        for n in episodes
    ]
    shared = shared_links(raw)
    return [normalise_item(entry, None, shared) for entry in raw]


def test_entries_sharing_one_link_with_no_guid_are_each_a_story(store: Store) -> None:
    """Each took the link for its id, and the store kept the last one:
    episode 1 was never published, and the next episode alone replaced
    episode 2 as an edit."""
    with store.transaction():
        first = store.upsert(_fetch(2, 1), now=T0)
    assert first.new == 2
    with store.transaction():
        again = store.upsert(_fetch(2, 1), now=T0 + timedelta(hours=1))
    assert (again.new, again.updated, again.changed) == (0, 0, False)
    assert sorted(i.title for i in store.latest()) == ["Episode 1", "Episode 2"]
    assert len({i.id for i in store.latest()}) == 2


def test_an_entry_stored_alone_at_a_link_is_found_again_once_the_link_is_shared(
    store: Store,
) -> None:
    """Alone, episode 3 takes the link for its id; listed with episode 2,
    it takes an id of its own, and was stored and published twice."""
    with store.transaction():
        store.upsert(_fetch(3), now=T0)
    (alone,) = store.latest()
    with store.transaction():
        both = store.upsert(_fetch(3, 2), now=T0 + timedelta(hours=1))
    assert (both.new, both.updated) == (1, 0)
    with store.transaction():
        again = store.upsert(_fetch(3, 2), now=T0 + timedelta(hours=2))
    assert (again.new, again.updated, again.changed) == (0, 0, False)
    assert sorted((i.title, i.id == alone.id) for i in store.latest()) == [
        ("Episode 2", False),
        ("Episode 3", True),
    ]


def test_a_removed_sources_story_is_not_taken_over_by_a_copy(store: Store) -> None:
    """Source a is taken out of config.yaml; c carries the story under its
    own id: the story keeps a's text and rubrics (a rename keeps ids)."""
    with store.transaction():
        store.upsert([item(1, source="a", guid="tag:a,1", rubrics=("art",))], now=T0)
        copy = item(1, source="c", guid="c-1", title="Syndicated", rubrics=("news",))
        store.upsert([copy], now=T0, live={"a", "c"})
    with store.transaction():
        edited = replace(copy, summary="<p>Changed</p>")
        result = store.upsert([edited], now=T0 + timedelta(hours=1), live={"c"})
    assert result.updated == 0
    (stored,) = store.latest()
    assert (stored.source, stored.title, stored.rubrics) == ("a", "Story 1", ("art", "news"))


def test_a_moved_link_finds_its_story_by_the_new_link_only(store: Store) -> None:
    """The source moves a story to a new address: another source's copy at
    the new address merges into it, and another story at the old address
    is a story of its own."""
    with store.transaction():
        store.upsert([item(1, source="a", guid="tag:a,1")], now=T0)
    moved = "https://news.example/1-renamed"
    with store.transaction():
        store.upsert([item(1, source="a", guid="tag:a,1", link=moved)], now=T0)
    with store.transaction():
        copy = store.upsert([item(1, source="c", guid="c-1", link=moved)], now=T0)
        other = store.upsert([item(9, source="d", guid="d-1", link=item(1).link)], now=T0)
    assert (copy.new, other.new) == (0, 1)
    assert sorted(i.title for i in store.latest()) == ["Story 1", "Story 9"]


def test_a_story_moved_and_a_new_one_at_its_old_link_in_one_batch(store: Store) -> None:
    """Both copies of the batch once found the same stored row (one by id,
    one by the old link), and the build failed on a constraint for good."""
    with store.transaction():
        store.upsert([item(1, guid="e1", rubrics=("news",))], now=T0)
    batch = [
        item(1, guid="e1", link="https://news.example/1-moved", rubrics=("art",)),
        item(2, guid="e2", link=item(1).link, rubrics=("art",)),
    ]
    with store.transaction():
        result = store.upsert(batch, now=T0 + timedelta(hours=1))
    assert (result.new, result.updated) == (1, 1)
    by_title = {i.title: i for i in store.latest()}
    assert by_title["Story 1"].link == "https://news.example/1-moved"
    assert by_title["Story 1"].rubrics == ("art",)
    assert by_title["Story 2"].link == "https://news.example/1"


def test_a_renamed_source_keeps_its_stories_edits_and_rubrics(store: Store) -> None:
    """Renamed in config.yaml, a source's stories were still its old name's:
    its edits were never taken, and rubrics it dropped stayed for good."""
    with store.transaction():
        store.upsert([item(1, source="plain", rubrics=("art",))], now=T0, live={"plain"})
    edited = item(1, source="plain-renamed", title="Story 1 (corrected)", rubrics=("society",))
    with store.transaction():
        result = store.upsert([edited], now=T0 + timedelta(hours=1), live={"plain-renamed"})
    assert (result.new, result.updated) == (0, 1)
    (stored,) = store.latest()
    assert (stored.source, stored.title, stored.rubrics) == (
        "plain-renamed",
        "Story 1 (corrected)",
        ("society",),
    )


def test_a_copy_from_another_configured_source_is_no_edit(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1, source="a", rubrics=("art",))], now=T0, live={"a", "b"})
        copy = item(1, source="b", guid="b-1", title="Other title", rubrics=("news",))
        result = store.upsert([copy], now=T0, live={"a", "b"})
    assert (result.new, result.updated) == (0, 0)
    (stored,) = store.latest()
    assert (stored.source, stored.title, stored.rubrics) == ("a", "Story 1", ("art", "news"))


def test_an_edit_to_an_item_without_rubrics_is_a_change(store: Store) -> None:
    """The combined feed shows every item: its edit must be published."""
    with store.transaction():
        store.upsert([item(1, rubrics=())], now=T0)
    with store.transaction():
        edited = store.upsert([item(1, title="Story 1 (corrected)", rubrics=())], now=T0)
        counted = store.upsert([item(1, title="Story 1 (corrected)", views=5, rubrics=())], now=T0)
    assert (edited.updated, edited.changed) == (1, True)
    assert counted.changed


def test_source_reclassifying_an_item_replaces_only_its_own_rubrics(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1, source="a", rubrics=("art",))], now=T0)
        store.upsert([item(1, source="b", guid="x:1", rubrics=("news",))], now=T0)
    with store.transaction():
        store.upsert([item(1, source="a", rubrics=("society",))], now=T0)
    (stored,) = store.latest()
    assert stored.rubrics == ("news", "society")


def test_rubric_query_and_count(store: Store) -> None:
    with store.transaction():
        store.upsert([item(1, rubrics=("art",)), item(2, rubrics=("art", "news"))], now=T0)
    assert [i.title for i in store.latest("news")] == ["Story 2"]
    assert (store.count("art"), store.count("news"), store.count("missing")) == (2, 1, 0)


def test_a_failed_transaction_commits_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert([item(1)], now=T0)
        raise RuntimeError("crash mid-cycle")
    assert store.latest() == []


def test_history_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    with Store(url) as first, first.transaction():
        first.upsert([item(1)], now=T0)
        first.record_attempt(
            "a", Attempt(now=T0, status=200, items=1, etag='"e1"', last_modified="x")
        )
    with Store(url) as again:
        assert [i.title for i in again.latest()] == ["Story 1"]
        state = again.source_state("a")
        assert (state.etag, state.last_modified, state.last_success) == ('"e1"', "x", T0)


def test_failures_count_up_and_keep_the_last_validators(store: Store) -> None:
    with store.transaction():
        store.record_attempt("a", Attempt(now=T0, status=200, items=3, etag='"e1"'))
        store.record_attempt(
            "a", Attempt(now=T0 + timedelta(hours=1), error="HTTP 503", status=503)
        )
        store.record_attempt(
            "a", Attempt(now=T0 + timedelta(hours=2), error="HTTP 503", status=503)
        )
    state = store.source_state("a")
    assert (state.failures, state.etag, state.last_items) == (2, '"e1"', 3)
    assert state.last_success == T0
    assert state.last_error == "HTTP 503"
    with store.transaction():
        store.record_attempt("a", Attempt(now=T0 + timedelta(hours=3), status=200, items=4))
    assert store.source_state("a").failures == 0


def test_schema_version_is_recorded_and_a_newer_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        Store(f"sqlite:///{path}")


def test_a_newer_store_is_refused_at_once_while_another_process_writes_it(
    tmp_path: Path,
) -> None:
    """The version was read only under the write lock: with a transaction
    open elsewhere, `feeds status` waited 30 s and then said "database is
    locked" instead."""
    path = tmp_path / "feeds.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="newer than this feeds knows"):
            Store(f"sqlite:///{path}", wait=5)
    finally:
        writer.close()


def test_a_version_5_store_is_migrated_and_its_sources_read_in_full_once(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    with Store(f"sqlite:///{path}") as store, store.transaction():
        store.record_attempt("a", Attempt(now=T0, status=200, items=3, etag='"v1"'))
    downgrade_store(path, 5)
    with Store(f"sqlite:///{path}") as store:
        state = store.source_state("a")
        assert (state.etag, state.last_items, state.read_as) == ('"v1"', 3, "")
        with store.transaction():
            store.record_attempt("a", Attempt(now=T0, status=200, read_as="k1"))
        assert store.source_state("a").read_as == "k1"
        with store.transaction():  # a failure or a 304 keeps it
            store.record_attempt("a", Attempt(now=T0, error="HTTP 503", status=503))
        assert store.source_state("a").read_as == "k1"


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=str(path)):
        Store(f"sqlite:///{path}")


def _forked_child(ready: Any, drop: bool) -> None:
    from feeds.store import RunLock

    if drop:
        RunLock.drop_inherited()
    ready.set()
    time.sleep(30)


@pytest.mark.parametrize("drop", [True, False], ids=["dropped", "kept"])
def test_a_forked_worker_does_not_keep_the_run_lock(tmp_path: Path, drop: bool) -> None:
    """Worker processes are forked while a build holds the store's lock; a
    worker that lets go of its copy keeps no one out once the build has
    ended (or was killed), however long it lives on. (`kept` shows the
    test can tell.)"""
    from feeds.store import RunLock

    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    build = RunLock(url, "build")
    build.acquire()
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_forked_child, args=(ready, drop))
    child.start()
    try:
        assert ready.wait(10)
        build.release()
        service = RunLock(url, "run")
        if drop:
            service.acquire()
            service.release()
        else:
            with pytest.raises(StoreError, match="in use"):
                service.acquire()
    finally:
        child.kill()
        child.join()


def test_a_bulk_run_has_a_bigger_cache_and_gives_it_back(store: Store) -> None:
    """A first cycle writes tens of thousands of items with a bigger page
    cache; publishing forks helpers after it, so the cache must be back to
    SQLite's default by then, even when the run failed."""

    def cache() -> int:
        return int(store._db.execute("PRAGMA cache_size").fetchone()[0])

    default = cache()
    with store.bulk(), store.transaction():
        assert cache() == -BULK_CACHE_KIB
        store.upsert([item(1)], now=T0)
    assert cache() == default
    with pytest.raises(RuntimeError), store.bulk():
        raise RuntimeError("a source broke the run")
    assert cache() == default
    assert [i.title for i in store.latest()] == ["Story 1"]


def test_threads_writing_at_once_queue_in_this_process(
    tmp_path: Path, impatient_sqlite: None
) -> None:
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    Store(url).close()
    failures: list[BaseException] = []
    # Opened one at a time, then all write at once: what is tested is the
    # writing (a connection being opened may meet a lock for a moment, which
    # the real 30 s time-out rides out).
    opening = threading.Lock()
    ready = threading.Barrier(8)

    def write(number: int) -> None:
        try:
            with opening:
                store = Store(url)
            ready.wait()
            with store:
                for round_ in range(20):
                    with store.transaction():
                        store.set_meta(f"thread-{number}", str(round_))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Store(url) as store:
        assert [store.meta(f"thread-{n}") for n in range(8)] == ["19"] * 8


def test_opening_the_store_does_not_wait_for_another_writer(
    tmp_path: Path, impatient_sqlite: None
) -> None:
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    Store(url).close()
    other = sqlite3.connect(tmp_path / "feeds.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing a long batch
    try:
        with Store(url) as store:
            assert store.meta("created")
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.parametrize(
    ("holder", "comer", "message"),
    [
        ("build", "run", "start the service once it has finished"),
        ("run", "build", "stop it first, or let it do the work"),
    ],
    ids=["service-meets-build", "build-meets-service"],
)
def test_a_process_meeting_another_on_the_store_is_told_what_to_do(
    tmp_path: Path, holder: str, comer: str, message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    held = RunLock(url, holder)
    held.acquire()
    try:
        with pytest.raises(StoreError, match=message):
            RunLock(url, comer).acquire()
    finally:
        held.release()


def test_a_linkless_story_under_a_new_id_is_found_by_source_title_and_date(
    store: Store,
) -> None:
    # A story with no link and no guid, stored under one id (a headline
    # first read with a time and no date), read under another once its
    # source prints its date: the same story, and no update.
    def story(item_id: str, source: str = "a") -> Item:
        return normalise_item(Item(source=source, title="Story", id=item_id, published=T0))

    with store.transaction():
        store.upsert([story("first")], now=T0)
    with store.transaction():
        result = store.upsert([story("later")], now=T0 + timedelta(days=1))
    assert (result.new, result.updated) == (0, 0)
    assert [(i.id, i.updated) for i in store.latest()] == [("first", None)]
    # Not a story its source still lists, nor another source's.
    with store.transaction():
        result = store.upsert([story("first"), story("twin")], now=T0 + timedelta(days=2))
    with store.transaction():
        result2 = store.upsert([story("copy", source="b")], now=T0 + timedelta(days=2))
    assert (result.new, result2.new) == (1, 1)
    assert sorted(i.id for i in store.latest()) == ["copy", "first", "twin"]


def test_new_linkless_stories_do_not_read_every_story_of_their_day(tmp_path: Path) -> None:
    # Stories with no link and no guid dated by their day alone all share
    # one published moment (midnight). A new one is looked for among the
    # stored ones of its source, title and date; that look-up must not
    # read every story of the day: a first cycle of 1,000 such sources took
    # minutes instead of seconds. Counted in SQLite steps, not seconds.
    day = T0.replace(hour=0)
    lead = "<p>" + "word " * 400 + "</p>"

    def dated(n: int, source: str) -> Item:
        return normalise_item(Item(source=source, title=f"Story {n}", summary=lead, published=day))

    def steps(store: Store) -> int:
        count = [0]

        def tick() -> int:
            count[0] += 1
            return 0

        store._db.set_progress_handler(tick, 100)
        with store.transaction():
            result = store.upsert([dated(n, "new") for n in range(50)], now=T0)
        store._db.set_progress_handler(None, 0)
        assert result.new == 50
        return count[0]

    with Store(f"sqlite:///{tmp_path / 'small.db'}") as small:
        alone = steps(small)
    with Store(f"sqlite:///{tmp_path / 'big.db'}") as big:
        with big.transaction():
            for source in range(40):
                big.upsert([dated(n, f"s{source}") for n in range(500)], now=T0)
        among_20000 = steps(big)
    assert among_20000 < 3 * alone


def _holding_the_lock(url: str, ready: Any) -> None:
    from feeds.store import RunLock

    lock = RunLock(url, "run")
    lock.acquire()
    ready.set()
    time.sleep(30)
    lock.release()


def test_a_store_in_use_by_another_process_is_not_upgraded_under_it(tmp_path: Path) -> None:
    """An older release's service holds the store; the new release's first
    command (`feeds status`, say) must not upgrade the schema under it: the
    service would fail every publish from then on ("schema version 7 is
    newer than this feeds knows"). It is refused, saying who holds it;
    once the holder has gone, the same command upgrades the store."""
    path = tmp_path / "feeds.db"
    url = f"sqlite:///{path}"
    with Store(url) as store, store.transaction():
        store.upsert([item(1), item(2, link="", guid="")], now=T0)
    downgrade_store(path, 6)
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    holder = context.Process(target=_holding_the_lock, args=(url, ready))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(StoreError, match=rf"in use by run pid {holder.pid}") as refused:
            Store(url)
        assert str(path) in str(refused.value)
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == 6
    finally:
        holder.kill()
        holder.join()
    with Store(url) as store:
        assert [i.title for i in store.latest()] == ["Story 1", "Story 2"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_process_holding_the_run_lock_upgrades_the_store_itself(tmp_path: Path) -> None:
    path = tmp_path / "feeds.db"
    url = f"sqlite:///{path}"
    Store(url).close()
    downgrade_store(path, SCHEMA_VERSION - 1)
    with RunLock(url, "build"), Store(url):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_upgrading_scrubs_stored_html_of_characters_no_feed_can_carry(tmp_path: Path) -> None:
    """Cleaning used to turn `&#1;` in an item's HTML into the character
    itself, and the store kept it: every feed listing that item failed to
    render, on every build after. Upgrading the store replaces each such
    character, in items and in cached article pages, drops a picture type
    holding one, and leaves the rest."""
    path = tmp_path / "feeds.db"
    url = f"sqlite:///{path}"
    with Store(url) as store, store.transaction():
        store.upsert([item(1, summary="<p>ok</p>"), item(2, summary="<p>fine</p>")], now=T0)
        store.save_page("https://x.example/page", "<p>page</p>", None, T0)
    broken = "<p>a\x01b\x85c\ufffed</p>"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE items SET summary = ?, content = ?, image_type = 'image/\x01x' "
            "WHERE title = 'Story 1'",
            (broken, broken),
        )
        db.execute("UPDATE pages SET content = ?", (broken,))
    downgrade_store(path, 8)
    with Store(url) as store:
        by_title = {i.title: i for i in store.latest()}
        page, _published = store.pages(["https://x.example/page"])["https://x.example/page"]
    expected = "<p>a\ufffdb\ufffdc\ufffdd</p>"
    assert (by_title["Story 1"].summary, by_title["Story 1"].content) == (expected, expected)
    assert by_title["Story 1"].image_type == ""
    assert by_title["Story 2"].summary == "<p>fine</p>"
    assert page == expected
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_article_page_counts_its_failed_tries_until_it_is_fetched(store: Store) -> None:
    """The runs that failed to fetch a full_content page are counted, so
    that later runs try it again up to a limit; once fetched, it is a page
    like any other."""
    url, other = "https://x.example/a/1", "https://x.example/a/2"
    with store.transaction():
        store.page_failed(url, "HTTP 500", T0)
        assert store.page_tries([url]) == {url: 1}
        store.page_failed(url, "timed out", T0 + timedelta(hours=1))
    assert store.page_tries([url, other]) == {url: 2}
    with store.transaction():
        store.save_page(url, "<p>Текст</p>", None, T0 + timedelta(hours=2))
    assert store.page_tries([url]) == {}
    assert store.pages([url]) == {url: ("<p>Текст</p>", None)}


@pytest.mark.parametrize(
    ("version", "said"),
    [
        (-1, "schema version -1 is not one feeds writes"),
        (1, "cannot upgrade its schema from version 1 to 2 (duplicate column name: next_due)"),
    ],
)
def test_a_store_whose_version_was_set_by_hand_is_refused_with_that_said(
    tmp_path: Path, version: int, said: str
) -> None:
    path = tmp_path / "feeds.db"
    url = f"sqlite:///{path}"
    with Store(url) as store, store.transaction():
        store.upsert([item(1)], now=T0)
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {version}")
    with pytest.raises(StoreError, match=re.escape(said)):
        Store(url)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == version  # untouched
        assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 1


def test_categories_the_source_gives_now_are_the_ones_kept(store: Store) -> None:
    """`feeds rubrics` reports categories from the store: a story its source
    re-tagged (its text unchanged, so no update) kept its first ones, and a
    category the source dropped was still reported as unmatched."""
    with store.transaction():
        store.upsert([item(1, categories=("Old tag",))], now=T0)
    retagged = item(1, categories=("New tag",), rubrics=("music",))
    assert retagged.fingerprint() == item(1, categories=("Old tag",)).fingerprint()
    with store.transaction():
        result = store.upsert([retagged], now=T0 + timedelta(hours=1))

    assert store.category_counts() == {"New tag": 1}
    assert result.updated == 0  # readers see nothing new: no updated stamp
    (kept,) = store.latest()
    assert kept.categories == ("New tag",)
    assert kept.updated is None
    # Another source's copy of the story does not re-tag it.
    with store.transaction():
        store.upsert([item(1, source="b", categories=("Other",))], now=T0 + timedelta(hours=2))
    assert store.category_counts() == {"New tag": 1}


def _noted(key: str, fail: bool = False) -> Any:
    def work(target: Store) -> str:
        target.set_meta(key, "stored")
        if fail:
            raise ValueError(f"{key} failed")
        return key

    return work


def _written_at_once(writer: Writer, works: dict[str, Any]) -> dict[str, object]:
    """Each work handed to `writer` from a thread of its own, all at once:
    by key, what write() returned or the exception it raised."""
    outcomes: dict[str, object] = {}
    start = threading.Barrier(len(works))

    def run(key: str, work: Any) -> None:
        start.wait()
        try:
            outcomes[key] = writer.write(work)
        except Exception as exc:
            outcomes[key] = exc

    threads = [threading.Thread(target=run, args=item) for item in works.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_writer_stores_what_many_threads_hand_it_and_undoes_a_failure_alone(
    tmp_path: Path,
) -> None:
    """The service's runs store through one Writer: runs that end together
    share a commit, but each stands alone: one that fails leaves nothing,
    the others keep everything, and each caller learns its own outcome."""
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    writer = Writer(url)
    outcomes = _written_at_once(
        writer, {f"k{n}": _noted(f"k{n}", fail=n % 5 == 0) for n in range(24)}
    )
    writer.close()

    with Store(url) as store:
        for n in range(24):
            key = f"k{n}"
            if n % 5 == 0:
                assert isinstance(outcomes[key], ValueError)
                assert store.meta(key) == ""
            else:
                assert outcomes[key] == key
                assert store.meta(key) == "stored"
    with pytest.raises(StoreError, match="stopped"):
        writer.write(_noted("late"))


@pytest.mark.parametrize("linger", [0.0, 0.5])
def test_a_writer_commits_writes_that_come_close_together_once_and_each_only_when_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linger: float
) -> None:
    """Runs that end a little apart (a first pass's) share one commit: the
    writer holds its transaction open `linger` seconds for the next write,
    where each commit wrote every index page again. A caller still hears
    back only once its write is committed: another connection sees it."""
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    transactions: list[int] = []
    opened = Store.transaction

    def counted(self: Store) -> Any:
        transactions.append(1)
        return opened(self)

    monkeypatch.setattr(Store, "transaction", counted)
    writer = Writer(url, linger=linger, within=5)
    # The writer's store made and opened before the runs come (this write
    # returns once committed): on a loaded machine that took it past all
    # three, which then came together.
    writer.write(_noted("k0"))
    transactions.clear()
    seen: dict[str, str] = {}

    def run(key: str) -> None:
        writer.write(_noted(key))
        with closing(sqlite3.connect(tmp_path / "feeds.db")) as other:
            row = other.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            seen[key] = row[0] if row else ""

    threads = []
    for key in ("k1", "k2", "k3"):
        threads.append(threading.Thread(target=run, args=(key,)))
        threads[-1].start()
        time.sleep(0.1 if linger else 0.25)
    for thread in threads:
        thread.join(10)
    writer.close()

    assert seen == {"k1": "stored", "k2": "stored", "k3": "stored"}
    assert len(transactions) == (1 if linger else 3)


def test_a_writer_commit_that_fails_stores_none_of_its_runs_and_tells_each(
    tmp_path: Path,
) -> None:
    """Whatever shared the failed commit is reported failed, never stored
    in part: no caller is told 'stored' for writes that are not there."""
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    writer = Writer(url)

    def breaks_the_commit(target: Store) -> str:
        # A reference checked only at commit, to a story that is not there.
        target._execute("PRAGMA defer_foreign_keys = ON")
        target._execute(
            "INSERT INTO item_rubrics (item_id, source, rubric) VALUES ('nowhere', 's', 'art')"
        )
        return "broken"

    works = {f"k{n}": breaks_the_commit if n == 0 else _noted(f"k{n}") for n in range(12)}
    outcomes = _written_at_once(writer, works)
    writer.close()

    assert isinstance(outcomes["k0"], StoreError)
    with Store(url) as store:
        for n in range(1, 12):
            key = f"k{n}"
            stored = store.meta(key) == "stored"
            assert stored == (outcomes[key] == key), (key, outcomes[key])
        assert store.count() == 0


def test_a_writer_whose_store_cannot_open_fails_each_write_and_closes(tmp_path: Path) -> None:
    """No run waits for ever on a writer that could not start."""
    (tmp_path / "a-file").write_text("in the way")
    writer = Writer(f"sqlite:///{tmp_path / 'a-file' / 'feeds.db'}")
    failures: list[BaseException] = []

    def run() -> None:
        try:
            writer.write(_noted("k"))
        except StoreError as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert len(failures) == 1 and "a-file" in str(failures[0])
    closing = threading.Thread(target=writer.close)
    closing.start()
    closing.join(10)
    assert not closing.is_alive()


def test_a_writer_whose_transaction_an_error_rolled_back_reports_every_run_failed(
    tmp_path: Path,
) -> None:
    """A full disk during a run's writes (here: the page limit) makes SQLite
    roll back the whole shared transaction, not just that run's savepoint.
    The runs before it are undone with it, and the runs after it must not
    be written outside any transaction: each caller learns it failed, and
    what is in the store matches what they were told."""
    url = f"sqlite:///{tmp_path / 'feeds.db'}"
    writer = Writer(url)
    gate = threading.Event()
    outcomes: dict[str, object] = {}

    def held(target: Store) -> str:
        gate.wait(10)
        return "held"

    def fills_the_disk(target: Store) -> str:
        pages = target._execute("PRAGMA page_count").fetchone()[0]
        target._execute(f"PRAGMA max_page_count = {pages + 1}")
        try:
            target.set_meta("big", "x" * 200_000)
        finally:
            target._execute("PRAGMA max_page_count = 1073741823")
        return "full"

    def run(key: str, work: Any) -> None:
        try:
            outcomes[key] = writer.write(work)
        except StoreError as exc:
            outcomes[key] = exc

    first = threading.Thread(target=run, args=("held", held))
    first.start()
    deadline = time.monotonic() + 10
    while writer._jobs.qsize() and time.monotonic() < deadline:
        time.sleep(0.01)  # the writer has taken it, and waits inside it
    threads = []
    for key, work in (
        ("k1", _noted("k1")),
        ("full", fills_the_disk),
        ("k2", _noted("k2")),
        ("k3", _noted("k3")),
    ):
        threads.append(threading.Thread(target=run, args=(key, work)))
        threads[-1].start()
        while writer._jobs.qsize() < len(threads) and time.monotonic() < deadline:
            time.sleep(0.01)  # queued in this order, to share one commit
    gate.set()
    for thread in (first, *threads):
        thread.join(10)
    writer.close()

    assert isinstance(outcomes["full"], StoreError)
    with Store(url) as store:
        for key in ("k1", "k2", "k3"):
            stored = store.meta(key) == "stored"
            assert stored == (outcomes[key] == key), (key, outcomes[key])
        assert store.meta("big") == ""


def test_a_writer_whose_thread_fails_tells_its_callers_instead_of_leaving_them_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer thread that dies of an error it did not expect (here its
    connection cannot be set up for bulk writes) must not leave the runs
    that hand it their writes waiting for ever: each is told it failed."""
    url = f"sqlite:///{tmp_path / 'feeds.db'}"

    def broken(self: Store) -> Any:
        raise StoreError(self.url, "cannot set the page cache")

    monkeypatch.setattr(Store, "bulk", broken)
    writer = Writer(url)
    outcomes: list[object] = []

    def run() -> None:
        try:
            outcomes.append(writer.write(_noted("k")))
        except StoreError as exc:
            outcomes.append(exc)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    caller.join(5)
    assert not caller.is_alive(), "the write is still waiting"
    assert len(outcomes) == 1 and isinstance(outcomes[0], StoreError)
    with pytest.raises(StoreError):
        writer.write(_noted("later"))
    writer.close()
    with Store(url) as store:
        assert store.meta("k") == ""


def test_a_story_stored_with_a_control_character_in_its_id_is_found_again(
    store: Store,
) -> None:
    """A store may hold a story whose id and link carry a control character
    (stored so before normalising percent-encoded links; render encodes it
    as it writes). Read again, the story must find that row: under an id
    made anew it was stored a second time, and every feed carried it twice
    under one written id."""
    raw = "https://news.example/a\x01b"
    with store.transaction():
        store.upsert([replace(item(1), id=raw, link=raw)], now=T0)
    with store.transaction():
        result = store.upsert([item(1, link=raw)], now=T0 + timedelta(hours=1))

    assert result.new == 0
    assert [story.id for story in store.latest()] == [raw]


def test_attributes_written_in_another_order_alone_are_not_an_update(store: Store) -> None:
    """The feedparser path used to write every tag with its attributes
    sorted; the same story read with them in the source's order reads the
    same, and must not come out as updated (for every story of a feed, at
    once, after an upgrade or when a feed moves to the fast path)."""
    sorted_markup = '<p><img alt="Обложка" src="https://news.example/1.jpg"> Lead 1</p>'
    as_given = '<p><img src="https://news.example/1.jpg" alt="Обложка"> Lead 1</p>'
    with store.transaction():
        store.upsert([item(1, summary=sorted_markup)], now=T0)
    later = T0 + timedelta(hours=1)
    with store.transaction():
        result = store.upsert([item(1, summary=as_given)], now=later)
    assert (result.updated, result.changed) == (0, False)
    (stored,) = store.latest()
    assert (stored.summary, stored.updated) == (as_given, None)
    with store.transaction():
        # Stored as given now: the next fetch finds nothing to look into.
        assert store.upsert([item(1, summary=as_given)], now=later).updated == 0
        # A real edit beside the new order is still an update.
        edited = as_given.replace("Lead 1", "Lead 1, corrected")
        assert store.upsert([item(1, summary=edited)], now=later).updated == 1


def test_a_moved_attribute_value_is_an_update(store: Store) -> None:
    with store.transaction():
        store.upsert(
            [item(1, summary='<p><a href="https://a.example/" title="x">l</a></p>')], now=T0
        )
    with store.transaction():
        result = store.upsert(
            [item(1, summary='<p><a title="https://a.example/" href="x">l</a></p>')], now=T0
        )
    assert result.updated == 1


def test_attributes_in_another_order_and_a_date_that_moves_are_not_an_update(
    store: Store,
) -> None:
    """A story dated "3 часа назад" whose markup came back with its
    attributes in another order: no update then, nor at the fetches after
    it, when only the date moves again."""
    sorted_markup = '<p><img alt="Обложка" src="https://news.example/1.jpg"> Lead 1</p>'
    as_given = '<p><img src="https://news.example/1.jpg" alt="Обложка"> Lead 1</p>'
    with store.transaction():
        store.upsert([item(1, summary=sorted_markup, published=T0 - timedelta(hours=3))], now=T0)
    for hours in (1, 2, 3):
        later = T0 + timedelta(hours=hours)
        moved = item(1, summary=as_given, published=later - timedelta(hours=3))
        with store.transaction():
            result = store.upsert([moved], now=later)
        assert (result.updated, result.changed) == (0, False), hours
    (stored,) = store.latest()
    assert (stored.summary, stored.published, stored.updated) == (
        as_given,
        T0 - timedelta(hours=3),
        None,
    )


def test_a_story_edited_once_whose_date_moves_is_updated_once(store: Store) -> None:
    """The store keeps a story's first date; after a real edit, the fetches
    that only move a date such as "3 часа назад" again are no updates."""
    with store.transaction():
        store.upsert([item(1, published=T0 - timedelta(hours=3))], now=T0)
    results = []
    for hours in (1, 2, 3):
        later = T0 + timedelta(hours=hours)
        edited = item(1, title="Story 1, corrected", published=later - timedelta(hours=3))
        with store.transaction():
            results.append(store.upsert([edited], now=later).updated)
    assert results == [1, 0, 0]
    (stored,) = store.latest()
    assert (stored.title, stored.published, stored.updated) == (
        "Story 1, corrected",
        T0 - timedelta(hours=3),
        T0 + timedelta(hours=1),
    )


def test_a_retry_after_set_by_a_clock_ahead_is_not_waited_for() -> None:
    """A Retry-After is honoured for a day at most: one ending a year from
    now was stored by a clock (or a `--now`) ahead of this one, and kept
    the source unfetched for that year."""
    url = "https://news.example/feed"
    soon = SourceState(name="a", retry_until=T0 + timedelta(hours=3), retry_url=url)
    far = SourceState(name="a", retry_until=T0 + timedelta(days=365), retry_url=url)
    assert soon.waiting(url, T0) == T0 + timedelta(hours=3)
    assert far.waiting(url, T0) is None


def test_threads_opening_a_new_store_together_all_open_it(tmp_path: Path) -> None:
    """Turning a new database to WAL failed at once with "database is
    locked" in all but one of the threads doing it together (a service's
    first runs on an empty store): their sources failed. A race, so tried
    many times."""
    failed: list[str] = []
    for trial in range(100):
        url = f"sqlite:///{tmp_path / f'{trial}.db'}"
        together = threading.Barrier(8)

        def open_it(url: str = url, together: threading.Barrier = together) -> None:
            together.wait()
            try:
                Store(url).close()
            except StoreError as error:
                failed.append(str(error))

        threads = [threading.Thread(target=open_it) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failed == []


def test_a_row_stored_earlier_in_the_batch_reads_as_a_stored_row() -> None:
    """A placeholder fills its columns when one is first read; a column it
    does not have is a KeyError, as for a stored row, not endless lookups."""
    from feeds.store import _Entry, _Placeholder

    entry = _Entry(item=item(1), canonical="https://news.example/1", fingerprint="f", rubrics=())
    row = _Placeholder(entry)
    assert (row["id"], row["source"], row["canonical_link"]) == (
        "https://news.example/1",
        "a",
        "https://news.example/1",
    )
    with pytest.raises(KeyError):
        row["categories"]
