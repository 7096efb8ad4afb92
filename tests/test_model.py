"""The one item type: copies and pickled copies (what crosses from the
parsing processes) are the item, and are checked like a new one."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.model import (
    Item,
    canonical_link,
    first_image,
    joined,
    nested_too_deep,
    usable_link,
)

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


@pytest.mark.parametrize(
    ("length", "kept"),
    [("1234", 1234), ("²", None), ("7" * 5000, None), ("99999999999999999999", None), ("", None)],
)
def test_an_enclosure_length_is_kept_only_as_a_plain_storable_number(
    length: str, kept: int | None
) -> None:
    """'²' passes isdigit() and int() refused it; 5,000 digits passed
    int()'s limit; 20 digits passed both and SQLite refused them."""
    image = first_image([("https://x.example/p.jpg", "image/jpeg", length)], [], "")
    assert image == ("https://x.example/p.jpg", "image/jpeg", kept)


def test_an_address_no_parser_can_read_is_no_address() -> None:
    assert joined("https://x.example/a/", "http://[x/p") == ""
    assert joined("https://x.example/a/", "p") == "https://x.example/a/p"
    assert canonical_link("http://x.example:99999/a") == ""
    assert canonical_link("http://x.example:abc/a") == ""
    assert not usable_link("http://x.example:99999/a") and not usable_link("http://[x/a")
    assert usable_link("http://x.example:8080/a?b=1") and usable_link("https://x.example/a")


def test_nesting_counts_what_parsers_keep_open() -> None:
    assert nested_too_deep("<div>" * 600)
    assert not nested_too_deep("<div>" * 500)
    assert not nested_too_deep("<div>x</div>" * 5000)
    # HTML ignores the slash: each of these is one more open element.
    assert nested_too_deep("<DIV/>" * 600) and nested_too_deep("<x/>" * 600)
    # An end tag closes only an open element of its name; any element
    # open counts (each stray </p> or new <div> looks through them all).
    assert nested_too_deep("<div></ul>" * 600)
    assert nested_too_deep("<i>" * 600 + "</p>" * 600)
    assert nested_too_deep("<span>" * 600 + "<div></div>" * 600)
    assert not nested_too_deep("<b>x</b> <a href=x>y</a>" * 3000)
    # Nor does checking cost n² when no tag ends ("<a <a <a...": 90 KB took 13 s).
    assert not nested_too_deep("<a " * 100_000 + "<div <" * 100_000)
    # Scripts and comments hold no elements, whatever they spell.
    assert not nested_too_deep("<script>" + '"<div>"+' * 3000 + "</script><!--" + "<div>" * 3000)
    # Left unclosed, these end one another: a flat page, not a deep one.
    assert not nested_too_deep("<p>para<li>item<br><img src=x>" * 2000)
    # Nor does inline SVG, however many shapes it closes with "/>".
    assert not nested_too_deep("<svg>" + '<path d="M0 0"/>' * 2000 + "</svg>")
