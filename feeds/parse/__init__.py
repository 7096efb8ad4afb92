"""Parse stage: Fetched bytes -> list[Item]. Pure: no network, no files, no clock.

A source type is one module in this package exposing
``parse(fetched, source, context) -> list[Item]`` plus one entry in
`_MODULES`. Optionally it also exposes ``parse_with_notes`` (items and a
line per empty field, for `feeds preview`) and ``follow(fetched, source)``
(the URL of a feed to read instead, such as the one a page advertises).
Modules load on first use, so reading the config stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from feeds.dates import reading_dates
from feeds.errors import ParseError
from feeds.model import (
    MAX_ITEMS_PER_FETCH,
    MAX_TEXT_GROWTH,
    Fetched,
    Item,
    ParseContext,
    Source,
    text_allowed,
)

Parser = Callable[[Fetched, Source, ParseContext], list[Item]]


def too_much_text(items: list[Item], source: Source, fetched: Fetched) -> None:
    """Raises ParseError when the items hold more text than `text_allowed`
    lets a body of this size give (one part of a page repeated in every
    item), before each is cleaned on its own."""
    left = text_allowed(len(fetched.body))
    for item in items:
        left -= len(item.title) + len(item.summary) + len(item.content)
        if left < 0:
            raise text_refused(source.name, fetched.url)


def text_refused(source: str, url: str) -> ParseError:
    return ParseError(
        source,
        f"its items hold over {MAX_TEXT_GROWTH} times the text of the answer (one part of "
        "it repeated in every item): refused",
        url=url,
    )


def too_many(count: int, source: Source, url: str) -> None:
    """Raises ParseError when one answer gives more than MAX_ITEMS_PER_FETCH
    items (or entries, counted before they are read)."""
    if count > MAX_ITEMS_PER_FETCH:
        raise items_refused(count, source.name, url)


def items_refused(count: int, source: str, url: str) -> ParseError:
    return ParseError(
        source,
        f"{count:,} items in one answer, over the {MAX_ITEMS_PER_FETCH:,} a source "
        "may give: refused",
        url=url,
    )


_MODULES: dict[str, str] = {
    "feed": "feeds.parse.feed",
    "text": "feeds.parse.text",
    "html": "feeds.parse.html",
}

#: The `type:` values config.yaml accepts.
SOURCE_TYPES: tuple[str, ...] = tuple(_MODULES)

#: Source keys that only make sense for one type.
TYPE_OPTIONS: dict[str, tuple[str, ...]] = {
    "text": ("news_rubrics",),
    "html": ("selectors",),
}

#: The selectors a `type: html` source may give; `item` is required.
SELECTOR_KEYS: tuple[str, ...] = (
    "item",
    "title",
    "link",
    "date",
    "summary",
    "rubrics",
    "image",
    "author",
)


NotedParser = Callable[[Fetched, Source, ParseContext], tuple[list[Item], list[str]]]
Follower = Callable[[Fetched, Source], str]


def parser_for(source_type: str) -> Parser:
    """The parse function for a source type (KeyError for an unknown one).
    Each call reads one answer, its dates each once (see reading_dates)."""
    parse: Parser = importlib.import_module(_MODULES[source_type]).parse

    def one_answer(fetched: Fetched, source: Source, context: ParseContext) -> list[Item]:
        with reading_dates():
            return parse(fetched, source, context)

    return one_answer


def noted_parser_for(source_type: str) -> NotedParser:
    """A parse function that also explains empty fields (as `parser_for`;
    a type with nothing more to say gives no notes)."""
    module = importlib.import_module(_MODULES[source_type])
    noted: NotedParser | None = getattr(module, "parse_with_notes", None)
    parse = parser_for(source_type)

    def one_answer(
        fetched: Fetched, source: Source, context: ParseContext
    ) -> tuple[list[Item], list[str]]:
        if noted is None:
            return parse(fetched, source, context), []
        with reading_dates():
            return noted(fetched, source, context)

    return one_answer


def follower_for(source_type: str) -> Follower | None:
    """The type's `follow` function, if it has one."""
    follower: Follower | None = getattr(
        importlib.import_module(_MODULES[source_type]), "follow", None
    )
    return follower
