"""Pictures travel from source to every format: enclosures and images."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import pytest

from feeds.model import Fetched, Item, ParseContext, Site, Source
from feeds.normalise import normalise_item
from feeds.parse.feed import parse, parse_with_feedparser
from feeds.render import FeedSpec, render_feed

SITE = Site(title="T", base_url="https://feeds.example.org/", language="ru", timezone="UTC")
SOURCE = Source(name="s", type="feed", url="https://x.example/feed")
CONTEXT = ParseContext(now=datetime(2026, 11, 26, tzinfo=UTC), timezone="UTC")

RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>t</title><link>https://x.example/</link><description>d</description>
<item><title>A</title><link>https://x.example/1</link>
<pubDate>Wed, 25 Nov 2026 10:00:00 +0000</pubDate>
<enclosure url="https://x.example/a.jpg" length="1234" type="image/jpeg"/></item>
<item><title>B</title><link>https://x.example/2</link>
<pubDate>Wed, 25 Nov 2026 09:00:00 +0000</pubDate>
<media:content url="/img/b.png" medium="image"/></item>
<item><title>C</title><link>https://x.example/3</link>
<pubDate>Wed, 25 Nov 2026 08:00:00 +0000</pubDate>
<enclosure url="https://x.example/c.mp3" length="99" type="audio/mpeg"/></item>
<item><title>D</title><link>https://x.example/4</link>
<pubDate>Wed, 25 Nov 2026 07:00:00 +0000</pubDate>
<media:content url="javascript:alert(1)" medium="image"/></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><id>tag:x,2026:f</id><updated>2026-11-25T10:00:00Z</updated>
<entry><id>tag:x,2026:1</id><title>A</title><link href="https://x.example/1"/>
<link rel="enclosure" href="https://x.example/a.webp" type="image/webp" length="77"/>
<updated>2026-11-25T10:00:00Z</updated></entry></feed>"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [
            {
                "id": "1",
                "url": "https://x.example/1",
                "title": "A",
                "image": "https://x.example/j.png",
                "content_text": "x",
            }
        ],
    }
).encode()

EXPECTED = [
    ("https://x.example/a.jpg", "image/jpeg", 1234),
    ("https://x.example/img/b.png", "image/png", None),
    ("", "", None),  # audio is not a picture
    ("", "", None),  # and a script is not an address
]


def images(items: list[Item]) -> list[tuple[str, str, int | None]]:
    normalised = [normalise_item(item) for item in items]
    return [(i.image, i.image_type, i.image_length) for i in normalised]


@pytest.mark.parametrize("reader", [parse, parse_with_feedparser])
def test_rss_enclosures_and_media(reader) -> None:  # type: ignore[no-untyped-def]
    fetched = Fetched(source="s", url=SOURCE.url, body=RSS)
    assert images(reader(fetched, SOURCE, CONTEXT)) == EXPECTED


def test_atom_enclosure_and_json_feed_image() -> None:
    atom = parse(Fetched(source="s", url=SOURCE.url, body=ATOM), SOURCE, CONTEXT)
    assert images(atom) == [("https://x.example/a.webp", "image/webp", 77)]
    as_json = parse(Fetched(source="s", url=SOURCE.url, body=JSON_FEED), SOURCE, CONTEXT)
    assert images(as_json) == [("https://x.example/j.png", "image/png", None)]


def test_every_format_carries_the_picture() -> None:
    item = normalise_item(
        Item(
            source="s",
            title="A",
            link="https://x.example/1",
            published=datetime(2026, 11, 25, tzinfo=UTC),
            image="https://x.example/a.jpg",
            image_type="image/jpeg",
            image_length=1234,
        )
    )
    spec = FeedSpec(
        slug="all",
        title="T",
        description="d",
        items=(item,),
        updated=datetime(2026, 11, 25, tzinfo=UTC),
    )
    for suffix in ("atom", "rss"):
        entry = feedparser.parse(render_feed(SITE, spec, suffix)).entries[0]
        (enclosure,) = entry.enclosures
        assert enclosure.href == "https://x.example/a.jpg"
        assert enclosure.type == "image/jpeg" and enclosure.length == "1234"
        assert entry.link == "https://x.example/1"
    document = json.loads(render_feed(SITE, spec, "json"))
    assert document["items"][0]["image"] == "https://x.example/a.jpg"
