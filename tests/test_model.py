"""The one item type: copies and pickled copies (what crosses from the
parsing processes) are the item, and are checked like a new one."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.model import Item

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

texts = st.text(max_size=30)
moments = st.none() | st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
changes = st.fixed_dictionaries(
    {},
    optional={
        "title": texts,
        "id": texts,
        "link": texts,
        "summary": texts,
        "author": texts,
        "published": moments,
        "updated": moments,
        "categories": st.lists(texts, max_size=3).map(tuple),
        "rubrics": st.lists(texts, max_size=3).map(tuple),
        "views": st.none() | st.integers(min_value=0),
        "image_length": st.none() | st.integers(min_value=0),
    },
)


def story() -> Item:
    return Item(
        source="wire",
        title="A story",
        link="https://news.example/1",
        summary="<p>Lead</p>",
        published=T0.astimezone(timezone(timedelta(hours=3))),
        categories=("Art",),
        rubrics=("art",),
        views=7,
    )


@settings(max_examples=100, deadline=None)
@given(changes)
def test_evolve_is_replace(fields: dict[str, object]) -> None:
    item = story()
    assert item.evolve(**fields) == dataclasses.replace(item, **fields)  # type: ignore[arg-type]
    assert item == story()  # the original is untouched


def test_evolve_checks_like_a_new_item() -> None:
    with pytest.raises(TypeError, match="no field 'colour'"):
        story().evolve(colour="red")
    with pytest.raises(ValueError, match="time-zone aware"):
        story().evolve(published=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="negative"):
        story().evolve(views=-1)


def test_a_copy_does_not_keep_the_old_fingerprint() -> None:
    item = story()
    before = item.fingerprint()
    changed = item.evolve(title="Another story")
    assert changed.fingerprint() != before
    assert changed.evolve(title="A story").fingerprint() == before


def test_a_pickled_item_comes_back_whole_with_its_fingerprint() -> None:
    item = story()
    digest = item.fingerprint()
    back = pickle.loads(pickle.dumps(item))
    assert back == item
    assert back.published == item.published and back.published.utcoffset() == timedelta(hours=3)
    assert back._digest == digest  # not hashed again in the store
