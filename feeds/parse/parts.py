"""Cutting one big RSS or Atom document into smaller documents of its
entries, so that several processes can read it at once. Pure.

Each part is the document's own head (everything before its first entry:
the XML declaration, the root and channel elements with their namespaces,
the channel's title...), a run of whole entries, and the document's own
tail (everything after its last entry). Where the document cannot be cut
so that every part reads as the whole would (something between two
entries, entries nested in one another, under a prefix, declaring a
namespace or not those its root holds, a DOCTYPE, a body that is not
ASCII-compatible, a head and tail each part would repeat at length),
`cut_entries` gives None and the document is read whole. Whether the
parts then read as the whole does is for their reader to check: see
`feeds.pipeline._read_in_parts`.

The cuts are found by a scan that skips what may hold a literal `<item`
without it being an element: CDATA sections, comments and processing
instructions (in well-formed XML a `<` can appear nowhere else: not in
text, not in an attribute value). A document that is not well-formed may
be cut wrongly; its parts are then not well-formed either, which the
reader of each part checks (see `feeds.pipeline`), and it is read whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: What the scan stops at: a CDATA section, a comment or a processing
#: instruction (skipped whole), or an entry's start or end tag.
_MARKUP = re.compile(rb"<(?:!\[CDATA\[|!--|\?|(/?)(item|entry)(?=[\s/>]))")
#: The rest of a start tag after its name: attributes (a quoted value may
#: hold a `>`), then `>` or `/>`.
_TAG_REST = re.compile(rb"""(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""")
_SKIP_TO = {b"<![": b"]]>", b"<!-": b"-->", b"<?": b"?>"}
#: An entry's start under any prefix and in any case: counted to make
#: sure the scan saw every one of them.
_ANY_ENTRY_START = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)[\s>/]", re.IGNORECASE)
_HEAD = 4096


@dataclass(frozen=True, slots=True)
class Cut:
    """Where a document is cut: its head ends at `head`, its tail starts
    at `tail`, and part i holds the `counts[i]` entries from `bounds[i]`
    to `bounds[i + 1]`."""

    head: int
    tail: int
    bounds: tuple[int, ...]
    counts: tuple[int, ...]

    @property
    def parts(self) -> int:
        return len(self.bounds) - 1

    @property
    def entries(self) -> int:
        return sum(self.counts)


#: The entries' element under each root: RSS's items in its channel,
#: Atom's entries in its feed (under no prefix, as the fast path reads),
#: with the element they are to be in opened, and not closed, before.
_ROOTS = {
    b"item": (re.compile(rb"<rss[\s>]"), re.compile(rb"<channel[\s>]"), b"</channel"),
    b"entry": (re.compile(rb"<feed[\s>]"), re.compile(rb"<feed[\s>]"), b"</feed"),
}
#: Markup the scan may meet per entry before it gives up (its tags, CDATA
#: sections, comments): a body of millions of comments or processing
#: instructions is read whole rather than scanned at Python's pace.
_MOST_MARKUP_PER_ENTRY = 16
#: The head and tail each part may repeat, in bytes, whatever its size (a
#: channel's title, links, image and the like take a few kilobytes).
_MOST_HEAD_AND_TAIL = 64 * 1024


def cut_entries(body: bytes, size: int) -> Cut | None:
    """Cuts that give parts of about `size` bytes of entries each (at
    least two parts), or None when the document is not to be cut."""
    head = body[:_HEAD]
    if len(body) < 2 * size or b"\x00" in head or b"<!DOCTYPE" in head or b"<!doctype" in head:
        return None
    # Every entry start the document holds, however written, is one the
    # scan is to find: a prefixed or capitalised entry (or one inside a
    # CDATA section) would otherwise land in the head or the tail of every
    # part.
    starts = sum(1 for _ in _ANY_ENTRY_START.finditer(body))
    spans = _entry_spans(body, budget=_MOST_MARKUP_PER_ENTRY * starts + 64)
    if spans is None or len(spans) < 2 or len(spans) != starts:
        return None
    first, last = spans[0][0], spans[-1][1]
    # Each part repeats the head and the tail: a document that is mostly
    # either (5 MB of channel categories) is read whole.
    if first + len(body) - last > max(size // 4, _MOST_HEAD_AND_TAIL):
        return None
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if body[end:start].strip():
            return None  # something of the channel's between two entries
    bounds = [first]
    counts = [0]
    for start, _ in spans:
        if start - bounds[-1] >= size:
            bounds.append(start)
            counts.append(0)
        counts[-1] += 1
    if last - bounds[-1] < size // 2 and len(bounds) > 1:
        bounds.pop()  # a short last part joins the one before it
        short = counts.pop()
        counts[-1] += short
    bounds.append(last)
    if len(bounds) < 3:
        return None
    return Cut(head=first, tail=last, bounds=tuple(bounds), counts=tuple(counts))


def part_bodies(body: bytes, cut: Cut) -> Iterator[bytes]:
    """The parts' documents, one at a time (each is a copy)."""
    head, tail = body[: cut.head], body[cut.tail :]
    for start, end in zip(cut.bounds, cut.bounds[1:], strict=False):
        yield b"".join((head, body[start:end], tail))


def _entry_spans(body: bytes, budget: int) -> list[tuple[int, int]] | None:
    """(start, end) of each `<item>` or `<entry>` element, in order; None
    when the document's entries do not read plainly: nested, unclosed, a
    construct left open, both kinds, the kind its root does not hold, an
    entry declaring a namespace of its own (fastfeedparser would not take
    it for one), or more than `budget` pieces of markup to go through."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    position = 0
    kind = b""
    while True:
        budget -= 1
        if budget < 0:
            return None
        found = _MARKUP.search(body, position)
        if found is None:
            return None if depth else spans
        name = found.group(2)
        if name is None:
            closing = _SKIP_TO[found.group()[:3]]
            end = body.find(closing, found.end())
            if end < 0:
                return None
            position = end + len(closing)
            continue
        if found.group(1):  # an end tag
            close = body.find(b">", found.end())
            if close < 0 or depth == 0 or name != kind or body[found.end() : close].strip():
                return None
            depth -= 1
            position = close + 1
            if depth == 0:
                spans.append((start, position))
            continue
        rest = _TAG_REST.match(body, found.end())
        if rest is None or b"xmlns" in body[found.end() : rest.end()]:
            return None
        position = rest.end()
        if depth:
            return None  # an entry inside an entry: not cut
        if not kind:
            kind = name
            root, parent, closed = _ROOTS[kind]
            before = body[: found.start()]
            if not (root.search(before) and parent.search(before)) or closed in before:
                return None  # entries where the root holds none
        elif name != kind:
            return None
        if body[position - 2 : position - 1] == b"/":
            spans.append((found.start(), position))  # <item/>
            continue
        depth = 1
        start = found.start()
