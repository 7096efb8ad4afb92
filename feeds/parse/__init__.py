"""Parse stage: Fetched bytes -> list[Item]. Pure: no network, no files, no clock.

A source type is one module in this package exposing
``parse(fetched, source, context) -> list[Item]`` plus one entry in
`_MODULES`. Modules load on first use, so reading the config stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from feeds.model import Fetched, Item, ParseContext, Source

Parser = Callable[[Fetched, Source, ParseContext], list[Item]]

_MODULES: dict[str, str] = {
    "feed": "feeds.parse.feed",
    "text": "feeds.parse.text",
}

#: The `type:` values config.yaml accepts.
SOURCE_TYPES: tuple[str, ...] = tuple(_MODULES)

#: Source keys that only make sense for one type.
TYPE_OPTIONS: dict[str, tuple[str, ...]] = {
    "text": ("news_rubrics",),
}


def parser_for(source_type: str) -> Parser:
    """The parse function for a source type (KeyError for an unknown one)."""
    module = importlib.import_module(_MODULES[source_type])
    parse: Parser = module.parse
    return parse
