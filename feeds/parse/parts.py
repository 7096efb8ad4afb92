"""Cutting one big RSS or Atom document into smaller documents of its
entries, so that several processes can read it at once. Pure.

Each part is the document's own head (everything before its first entry:
the XML declaration, the root and channel elements with their namespaces,
the channel's title...), a run of whole entries, and the document's own
tail (everything after its last entry). Where the document cannot be cut
so that every part reads as the whole would (something between two
entries, entries nested in one another or under a prefix, a DOCTYPE, a
body that is not ASCII-compatible), `cut_entries` gives None and the
document is read whole.

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
    at `tail`, and part i holds the entries from `bounds[i]` to
    `bounds[i + 1]`."""

    head: int
    tail: int
    bounds: tuple[int, ...]
    entries: int

    @property
    def parts(self) -> int:
        return len(self.bounds) - 1


def cut_entries(body: bytes, size: int) -> Cut | None:
    """Cuts that give parts of about `size` bytes of entries each (at
    least two parts), or None when the document is not to be cut."""
    head = body[:_HEAD]
    if len(body) < 2 * size or b"\x00" in head or b"<!DOCTYPE" in head or b"<!doctype" in head:
        return None
    spans = _entry_spans(body)
    if spans is None or len(spans) < 2:
        return None
    # Every entry start the document holds, however written, is one the
    # scan found: a prefixed or capitalised entry (or one inside a CDATA
    # section) would otherwise land in the head or the tail of every part.
    if sum(1 for _ in _ANY_ENTRY_START.finditer(body)) != len(spans):
        return None
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if body[end:start].strip():
            return None  # something of the channel's between two entries
    bounds = [spans[0][0]]
    for start, _ in spans[1:]:
        if start - bounds[-1] >= size:
            bounds.append(start)
    last = spans[-1][1]
    if last - bounds[-1] < size // 2 and len(bounds) > 1:
        bounds.pop()  # a short last part joins the one before it
    bounds.append(last)
    if len(bounds) < 3:
        return None
    return Cut(head=spans[0][0], tail=last, bounds=tuple(bounds), entries=len(spans))


def part_bodies(body: bytes, cut: Cut) -> Iterator[bytes]:
    """The parts' documents, one at a time (each is a copy)."""
    head, tail = body[: cut.head], body[cut.tail :]
    for start, end in zip(cut.bounds, cut.bounds[1:], strict=False):
        yield b"".join((head, body[start:end], tail))


def _entry_spans(body: bytes) -> list[tuple[int, int]] | None:
    """(start, end) of each outermost `<item>` or `<entry>` element, in
    order; None when the document's entries do not read plainly (nested,
    unclosed, or a construct left open)."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    position = 0
    while True:
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
            if close < 0 or depth == 0 or body[found.end() : close].strip():
                return None
            depth -= 1
            position = close + 1
            if depth == 0:
                spans.append((start, position))
            continue
        rest = _TAG_REST.match(body, found.end())
        if rest is None:
            return None
        position = rest.end()
        if depth:
            return None  # an entry inside an entry: not cut
        if body[position - 2 : position - 1] == b"/":
            spans.append((found.start(), position))  # <item/>
            continue
        depth = 1
        start = found.start()
