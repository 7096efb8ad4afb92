"""Hostile feed bodies must not make the fast path's regular expressions
backtrack for hours: each runs in one C call that holds the GIL, so a
source's parse froze the whole service (other sources, `feeds serve`,
even SIGTERM). Run in a subprocess, since a thread cannot interrupt it."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feeds.model import Fetched, ParseContext, Source
from feeds.parse.decode import cyrillic_codec
from feeds.parse.fast import _NOT_PERMALINK, _dates_are_zoned, _guids_not_links
from feeds.parse.feed import parse_with_feedparser

#: Each body parses in milliseconds once the patterns cannot backtrack.
LIMIT = 20.0


def _within_limit(code: str, given: Path, what: str) -> str:
    """`code` run on the file `given` in a fresh interpreter: its output,
    or a failure naming `what` if it took over LIMIT seconds."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(given)], capture_output=True, timeout=LIMIT
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took over {LIMIT:g} s")
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def _reading(content_type: str, then: str, *, context: str = "") -> str:
    """Code for `_within_limit`: the file given, as `fetched` with this
    Content-Type, a fixed `context` (with `context`'s further arguments),
    then `then`."""
    return (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from feeds.model import Fetched, ParseContext, Source\n"
        "body = open(sys.argv[1], 'rb').read()\n"
        "fetched = Fetched(source='s', url='http://x.example/f', body=body,\n"
        f"                  headers={{'content-type': {content_type!r}}})\n"
        "context = ParseContext(now=datetime(2026, 11, 26, tzinfo=UTC), timezone='UTC'"
        f"{context})\n" + then
    )


ITEM = b"<item><title>t</title><link>http://x.example/1</link>"

#: An Atom entry with a media:content, open.
_MEDIA_ENTRY = (
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
    b'xmlns:media="http://search.yahoo.com/mrss/"><title>T</title><id>urn:x</id>'
    b"<updated>2026-11-20T10:00:00Z</updated><entry><title>a</title><id>urn:a</id>"
    b'<updated>2026-11-20T10:00:00Z</updated><link href="https://x.example/a"/>'
    b'<media:content url="https://x.example/v"/>'
)

CASES = {
    # `\s*([^<\]]*?)\s*...\s*</`: whitespace that no `</` follows (quartic:
    # 200 spaces took 10 s, 2,000 hours).
    "date-whitespace": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    + ITEM
    + b"<pubDate>"
    + b" " * 2000
    + b"x<b/></pubDate></item></channel></rss>",
    "guid-whitespace": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title>t</title><link>http://x.example/g</link><guid>http://x.example/g</guid>"
    b'</item><item><title>u</title><guid isPermaLink="false">'
    + b" " * 2000
    + b"x<b/></guid></item></channel></rss>",
    # Many openings that no `>` closes (quadratic: 720 KB took 32 s).
    "date-openings": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    + ITEM
    + b"</item></channel></rss>"
    + b"<pubDate " * 300_000,
    "atom-openings": b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>T</title>" + b"<title " * 300_000,
    "guid-openings": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title>t</title><link>http://x.example/g</link><guid>http://x.example/g</guid>"
    b'</item><!-- isPermaLink="false" ' + b"<guid " * 300_000 + b"--></channel></rss>",
    # The checks added with the prefixed elements and guids marked as no
    # permalink: an opening of a prefixed date, a declaration, a mark and a
    # length attribute, each without its end, in a comment.
    "prefixed-date-openings": b'<?xml version="1.0"?><rss version="2.0" xmlns:a="urn:a">'
    b"<channel><title>T</title>"
    + ITEM
    + b"<a:updated>2026-06-01T10:00:00Z</a:updated></item><!-- "
    + b"<a:updated " * 300_000
    + b"--></channel></rss>",
    "declarations": b'<?xml version="1.0"?><rss version="2.0" xmlns:a="urn:a"><channel>'
    b"<!-- "
    + b'xmlns:a = " ' * 300_000
    + b"--><title>T</title>"
    + ITEM
    + b"<a:category>c</a:category></item></channel></rss>",
    "permalink-marks": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title>t</title><link>http://x.example/g</link><guid>http://x.example/g</guid>"
    b"</item><!-- " + b'isPermaLink = "' * 300_000 + b"--></channel></rss>",
    "length-digits": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    + ITEM
    + b'<enclosure url="http://x.example/a.jpg" type="image/jpeg" length="1"/></item><!-- '
    + b'length="' * 200_000
    + b"1" * 500_000
    + b"--></channel></rss>",
    # In well-formed XML too: a comment holds any number of them.
    "date-openings-in-comment": b'<?xml version="1.0"?><rss version="2.0"><channel>'
    b"<title>T</title>"
    + ITEM
    + b"</item><!-- "
    + b"<pubDate " * 300_000
    + b"--><x/></channel></rss>",
    # Entries' text elements quoted in CDATA, each a search for an element
    # in text that went on to the real end tag (400 KB took 9 s, and each
    # doubling four times as long).
    "text-openings-in-cdata": b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    + ITEM
    + b"<description>"
    + b"<![CDATA[<description>]]>" * 200_000
    + b"</description></item></channel></rss>",
    # Comment openings in a processing instruction: the searches that pass
    # comments over went from each to the document's end (80 KB took 9 s).
    "comment-openings-in-a-pi": b'<?xml version="1.0"?><rss version="2.0" '
    b'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
    + ITEM
    + b"<?x "
    + b"<!--" * 300_000
    + b"?><content:encoded>Body text</content:encoded></item></channel></rss>",
    "comment-openings-in-a-pi-in-atom": b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>T</title><id>urn:x</id><updated>2026-11-20T10:00:00Z</updated><entry><title>a</title>"
    b"<id>urn:a</id><updated>2026-11-20T10:00:00Z</updated><?x "
    + b"<!--" * 300_000
    + b'?><link href="https://x.example/a"/></entry></feed>',
    # Elements in an element that may hold them, and comments and CDATA
    # in one that may not: each element's text is looked through once.
    "children-of-a-media-group": b'<?xml version="1.0"?><rss version="2.0" '
    b'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
    + ITEM
    + b"<media:group>"
    + b"<!-- c --><media:title>t<![CDATA[x]]></media:title>" * 100_000
    + b"</media:group><x>"
    + b"<![CDATA[y]]>" * 100_000
    + b"</x></item></channel></rss>",
    # An item quoted in the channel's CDATA, then constructs opened and
    # never closed in it: every search of the entries started inside the
    # CDATA, and went from each opening to the end (100 KB took over 60 s).
    "openings-after-an-item-quoted-in-cdata": b'<?xml version="1.0"?><rss version="2.0">'
    b"<channel><title>T</title><description><![CDATA[<item> "
    + b"<?" * 150_000
    + b"]]></description>"
    + ITEM
    + b"</item></channel></rss>",
    "cdata-openings-after-an-item-quoted-in-a-comment": b'<?xml version="1.0"?>'
    b'<rss version="2.0"><channel><title>T</title><!-- <item> '
    + b"<![CDATA[" * 100_000
    + b" -->"
    + ITEM
    + b"</item></channel></rss>",
    # Many ":link" in an entry's text: a search back to the "<" for each
    # (6.4 MB took 40 s).
    "colon-links-in-a-description": b'<?xml version="1.0"?><rss version="2.0" '
    b'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>'
    + ITEM
    + b"<description>"
    + b":link" * 1_000_000
    + b'</description></item><atom:link href="http://x.example/f" rel="self"/></channel></rss>',
    # An Atom link's attribute of many spaces (a lazy match before `\s*`:
    # 200,000 took 25 s, and each doubling four times as long).
    "atom-link-attribute-spaces": b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>T</title><id>urn:x</id><updated>2026-11-20T10:00:00Z</updated><entry><title>a</title>"
    b'<id>urn:a</id><updated>2026-11-20T10:00:00Z</updated><link rel="x'
    + b" " * 400_000
    + b'x" href="https://x.example/a"/></entry></feed>',
    # Media RSS read entry by entry: many thumbnails beside a media:content
    # (each address read as XML reads it), and declarations of `media:`
    # left unclosed in text.
    "thumbnails-beside-media-content": _MEDIA_ENTRY
    + b'<media:thumbnail url="https://x.example/t.jpg?a=1&amp;b=2"/>' * 200_000
    + b"</entry></feed>",
    "media-declarations-unclosed-in-text": _MEDIA_ENTRY
    + b'<summary type="html"><![CDATA['
    + b'xmlns:media="x ' * 300_000
    + b"]]></summary></entry></feed>",
}


@pytest.mark.parametrize("opening", [b"<?", b"<!--", b"<![CDATA["], ids=["pi", "comment", "cdata"])
def test_the_facts_of_a_broken_whole_take_linear_time(opening: bytes, tmp_path) -> None:
    """The facts of a whole read in parts are looked for in a body not known
    to be well-formed: constructs opened and never closed after its first
    entry made each a search to the end (100 KB of "<?" took 32 s)."""
    body = tmp_path / "body"
    body.write_bytes(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        + ITEM
        + b"<pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate></item>"
        + opening * (400_000 // len(opening))
        + b"</channel></rss>"
    )
    code = _reading(
        "application/rss+xml",
        "from feeds.parse.fast import document_facts\nprint(document_facts(fetched))\n",
    )
    _within_limit(code, body, f"the facts of a body of {opening!r} openings")


@pytest.mark.parametrize(
    "subset",
    [b"<!-- " * 300_000, b'"' * 300_000, b"<!-- ] -->" * 100_000, b"'<!--" * 200_000],
    ids=["open-comments", "quotes", "closed-comments", "quoted-openings"],
)
def test_a_doctypes_internal_subset_is_read_in_linear_time(subset: bytes, tmp_path) -> None:
    body = tmp_path / "body"
    body.write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [' + subset + b']>\n<rss version="2.0"></rss>'
    )
    code = (
        "import sys\n"
        "from feeds.parse.feed import _declares_entities\n"
        "print(_declares_entities(open(sys.argv[1], 'rb').read()))\n"
    )
    assert _within_limit(code, body, "reading the DOCTYPE").strip() == "False"


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_path_regexes_take_linear_time(name: str, tmp_path) -> None:
    body = tmp_path / "body"
    body.write_bytes(CASES[name])
    code = _reading(
        "application/rss+xml",
        "from feeds.parse.fast import parse_fast\n"
        "parse_fast(fetched, Source(name='s', type='feed', url=fetched.url))\n",
    )
    _within_limit(code, body, f"{name}: the fast path on a {len(CASES[name])}-byte body")


def test_dates_and_not_permalinks_still_read() -> None:
    assert _dates_are_zoned(b"<pubDate> Mon, 01 Jun 2026 10:00:00 +0000 </pubDate>") == "zoned"
    assert _dates_are_zoned(b"<updated><![CDATA[ 2026-06-01T10:00:00Z ]]></updated>") == "zoned"
    # Without a zone: read in the source's zone, never as zoned.
    naive = b"<pubDate>\n  Mon, 01 Jun 2026 10:00:00  \n</pubDate>"
    assert _dates_are_zoned(naive) == "naive"
    assert _dates_are_zoned(b'<dc:date a="b">2026-06-01T10:00</dc:date>') == "naive"
    assert _dates_are_zoned(naive + b"<pubDate>Mon, 01 Jun 2026 10:00:00 GMT</pubDate>") == ""
    guids = (
        b'<guid isPermaLink="false"> <![CDATA[ http://x.example/1 ]]> </guid>',
        b"<GUID ispermalink='false'>http://x.example/2</GUID>",
    )
    assert all(_NOT_PERMALINK.search(guid) for guid in guids)
    body = b"<rss><channel>" + b"".join(b"<item>" + guid + b"</item>" for guid in guids)
    assert _guids_not_links(body + b"</channel></rss>") == [
        {"http://x.example/1"},
        {"http://x.example/2"},
    ]


@pytest.mark.parametrize("opening", [b"<script ", b"<style ", b"<"])
def test_charset_sample_takes_linear_time(opening: bytes, tmp_path) -> None:
    # Non-UTF-8 bytes and no declared charset: the page's text is sampled
    # without its markup.
    body = tmp_path / "body"
    body.write_bytes(b"<html><body>\xff\xfe " + opening * 200_000)
    code = (
        "import sys\n"
        "from feeds.parse.decode import decode_page\n"
        "decode_page(open(sys.argv[1], 'rb').read(), {})\n"
    )
    _within_limit(code, body, f"decoding a page of {opening!r} x 200,000")


@pytest.mark.parametrize(
    "title",
    [
        "<script " * 40_000,  # each opening searched to the end: 45 s
        "<" * 59_999 + "<b>" + "b>" * 59_999 + "Title",  # a pass per level: minutes
    ],
    ids=["open-scripts", "nested-tags"],
)
def test_a_hostile_title_is_cleaned_in_linear_time(title: str, tmp_path) -> None:
    given = tmp_path / "title"
    given.write_text(title, encoding="utf-8")
    code = (
        "import sys\n"
        "from feeds.model import Item\n"
        "from feeds.normalise import normalise_item\n"
        "title = open(sys.argv[1], encoding='utf-8').read()\n"
        "print(normalise_item(Item(source='s', title=title)).title)\n"
    )
    cleaned = _within_limit(code, given, f"cleaning a {len(title)}-character title")
    assert "<" not in cleaned


@pytest.mark.parametrize("comments", [40, 100_000])
def test_comments_before_a_page_take_linear_time(comments: int, tmp_path) -> None:
    """The check that a page is not a feed grouped n empty comments before
    `<html>` in 2^n ways: 26 took 20 s, 40 would take days, holding the GIL
    (the same check runs on full_content's article pages)."""
    body = tmp_path / "body"
    body.write_bytes(b"<!---->" * comments + b"<html><body><article><h2>Story</h2></article>")
    code = _reading(
        "text/html",
        "from feeds.parse.html import parse\n"
        "source = Source(name='s', type='html', url=fetched.url,\n"
        "                selectors=(('item', 'article'), ('title', 'h2')))\n"
        "print(len(parse(fetched, source, context)))\n",
    )
    assert _within_limit(code, body, f"a page after {comments} comments").strip() == "1"


def _one_item_with_categories(count: int, *, after: bytes = b"") -> bytes:
    categories = b"".join(b"<category>c%d</category>" % n for n in range(count))
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        + ITEM
        + categories
        + b"</item>"
        + after
        + b"</channel></rss>"
    )


def test_many_categories_on_an_item_take_linear_time(tmp_path) -> None:
    """Each category was looked for in a list of those before it: 35,000
    on one item took 10 s."""
    body = tmp_path / "body"
    body.write_bytes(_one_item_with_categories(70_000))
    code = _reading(
        "application/rss+xml",
        "from feeds.parse.fast import parse_fast\n"
        "(item,) = parse_fast(fetched, Source(name='s', type='feed', url=fetched.url))\n"
        "print(len(item.categories))\n",
    )
    assert _within_limit(code, body, "70,000 categories on one item").strip() == "70000"


def test_telling_a_large_russian_body_s_encoding_takes_little_memory() -> None:
    """Every non-ASCII byte's position went into a list: a 10 MB
    windows-1251 body took 500 MB (and 3 s) before it was read at all."""
    body = "Съешь ещё этих мягких французских булок. ".encode("cp1251") * 250_000
    tracemalloc.start()
    try:
        codec = cyrillic_codec(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert codec == "cp1251"
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MB for a {len(body) / 2**20:.0f} MB body"


def test_names_glued_together_in_a_text_dump_take_linear_time(tmp_path) -> None:
    """Each rubric name peeled off a line copied (and case-folded) the rest
    of it: 400 KB of names glued together took 13 s."""
    body = tmp_path / "body"
    body.write_bytes(("Литература" * 80_000 + "Заголовок\n1 ноября 2026\n").encode())
    code = _reading(
        "text/plain; charset=utf-8",
        "from feeds.parse.text import parse\n"
        "(item,) = parse(fetched, Source(name='s', type='text', url=fetched.url), context)\n"
        "print(len(item.categories), item.summary)\n",
        context=", rubric_names=('Литература',)",
    )
    found = _within_limit(code, body, "80,000 rubric names glued together")
    assert found.split() == ["1", "Заголовок"]  # the rubric, once


def test_lines_that_look_like_dates_cost_a_bounded_time(tmp_path) -> None:
    """Each one-word line looks like a day heading and was read by
    dateparser (~1 ms each): 50,000 different words took 12 s, and the
    10 MiB a body may have, minutes. Once many different texts have read
    as no date, no more are tried in that answer."""
    body = tmp_path / "body"
    words = (
        f"{chr(97 + n % 26)}{n:06d}".translate(str.maketrans("0123456789", "abcdefghij"))
        for n in range(120_000)
    )
    body.write_text("\n".join(words) + "\n", encoding="utf-8")
    code = _reading(
        "text/plain; charset=utf-8",
        "from feeds.classify import Vocabulary\n"
        "from feeds.pipeline import process_fetched\n"
        "source = Source(name='s', type='text', url=fetched.url)\n"
        "print(process_fetched(fetched, source, context, Vocabulary.of(())))\n",
    )
    _within_limit(code, body, "120,000 one-word lines")


def test_nested_microdata_scopes_take_linear_time(tmp_path) -> None:
    """Each article scope walked up from every property below it: 20 nested
    scopes over 20,000 properties (407 KB) took 27 s."""
    body = tmp_path / "body"
    scope = '<div itemscope itemtype="https://schema.org/NewsArticle">'
    page = (
        "<html><body>"
        + scope * 20
        + "<div>" * 480
        + '<span itemprop="name">x</span>' * 20_000
        + "</div>" * 480
        + '<h2 itemprop="headline">Story</h2><a itemprop="url" href="/s">s</a>'
        + "</div>" * 20
        + "</body></html>"
    )
    body.write_text(page, encoding="utf-8")
    code = _reading(
        "text/html",
        "from feeds.parse.html import parse\n"
        "print(len(parse(fetched, Source(name='s', type='html', url=fetched.url), context)))\n",
    )
    _within_limit(code, body, "20 nested scopes over 20,000 properties")


def test_many_categories_on_an_item_feedparser_reads_are_refused_at_once(tmp_path) -> None:
    """Not well-formed, the feed goes to feedparser, which looks for each
    category among those before it: 35,000 on one item took 60 s."""
    body = tmp_path / "body"
    body.write_bytes(_one_item_with_categories(35_000, after=b"<x>"))  # not well-formed
    code = _reading(
        "application/rss+xml",
        "from feeds.errors import ParseError\n"
        "from feeds.parse.feed import parse\n"
        "try:\n"
        "    parse(fetched, Source(name='s', type='feed', url=fetched.url), context)\n"
        "except ParseError as error:\n"
        "    print(error)\n",
    )
    said = _within_limit(code, body, "35,000 categories on one item, through feedparser")
    assert "an entry with 35,000 categories, over the 500" in said


def test_an_item_with_a_few_dozen_categories_is_still_read_by_feedparser() -> None:
    categories = b"".join(b"<category>c%d</category>" % n for n in range(40))
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        + b"".join(ITEM + categories + b"</item>" for _ in range(50))
        + b"</channel></rss>"
    )
    fetched = Fetched(source="s", url="http://x.example/f", body=body, headers={})
    context = ParseContext(now=datetime(2026, 11, 26, tzinfo=UTC), timezone="UTC")
    items = parse_with_feedparser(fetched, Source(name="s", type="feed", url=fetched.url), context)
    assert len(items) == 50 and all(len(item.categories) == 40 for item in items)


def test_a_reference_of_many_zeros_is_read_in_linear_time(tmp_path) -> None:
    """`&#` and zeros with no `;`: the feedparser path's search for
    references that name no character backtracked over every zero (40,000
    took 4 s, and each doubling four times as long)."""
    body = tmp_path / "body"
    body.write_bytes(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        + ITEM
        + b"<description>&#"
        + b"0" * 150_000
        + b"</description></item></channel></rss>"
    )
    code = _reading(
        "application/rss+xml",
        "from feeds.parse.feed import parse\n"
        "parse(fetched, Source(name='s', type='feed', url=fetched.url), context)\n",
    )
    _within_limit(code, body, "a reference of 150,000 zeros")
