"""The exception family: every FeedsError names where, what and why.

Classes are discovered with a recursive ``__subclasses__`` walk over every
module of the package, so a new error class fails here until it gets a row in
CASES.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import feeds
from feeds.errors import (
    ConfigError,
    FeedsError,
    FetchError,
    ParseError,
    PublishError,
    ServeError,
    SourceError,
    StoreError,
)


@dataclass(frozen=True)
class Case:
    """One way to build an error, and what an operator must read in it."""

    args: tuple[Any, ...]
    message: str
    #: Attributes whose values must appear in the message.
    fields: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


CASES: dict[type[FeedsError], tuple[Case, ...]] = {
    ConfigError: (
        Case(
            args=("conf/config.yaml", 14, "sources[2].url", "expected an http(s) or file URL"),
            message="conf/config.yaml:14: sources[2].url: expected an http(s) or file URL",
            fields=("path", "line", "key", "detail"),
        ),
        Case(
            args=("conf/config.yaml", 0, "", "no such file"),
            message="conf/config.yaml: no such file",
            fields=("path", "detail"),
        ),
    ),
    SourceError: (
        Case(
            args=("colta-front", "no items found"),
            kwargs={"url": "https://www.colta.ru/"},
            message="source 'colta-front': failed (https://www.colta.ru/): no items found",
            fields=("source", "url", "detail"),
        ),
    ),
    FetchError: (
        Case(
            args=("arts-desk", "HTTP 503 Service Unavailable"),
            kwargs={"url": "https://theartsdesk.example/feed.xml", "status": 503},
            message=(
                "source 'arts-desk': fetch failed (https://theartsdesk.example/feed.xml):"
                " HTTP 503 Service Unavailable"
            ),
            fields=("source", "url", "detail", "status"),
        ),
        Case(
            args=("local", "no such file: samples/missing.rss"),
            message="source 'local': fetch failed: no such file: samples/missing.rss",
            fields=("source", "detail"),
        ),
    ),
    ParseError: (
        Case(
            args=("openstage-culture", "not a feed: <html> at line 1"),
            kwargs={"url": "file:///srv/samples/culture.rss"},
            message=(
                "source 'openstage-culture': parse failed (file:///srv/samples/culture.rss):"
                " not a feed: <html> at line 1"
            ),
            fields=("source", "url", "detail"),
        ),
    ),
    StoreError: (
        Case(
            args=("sqlite:////srv/feeds/feeds.db", "database is locked"),
            message="store sqlite:////srv/feeds/feeds.db: database is locked",
            fields=("url", "detail"),
        ),
    ),
    PublishError: (
        Case(
            args=("/srv/feeds/output/art.atom", "No space left on device"),
            message="output /srv/feeds/output/art.atom: No space left on device",
            fields=("path", "detail"),
        ),
    ),
    ServeError: (
        Case(
            args=("127.0.0.1:8080", "Address already in use"),
            message="serve 127.0.0.1:8080: Address already in use",
            fields=("address", "detail"),
        ),
    ),
}


def _import_all() -> None:
    """Import every module of the package, so error classes defined outside
    feeds.errors are seen too (all but __main__, which would run the CLI)."""
    for module in pkgutil.walk_packages(feeds.__path__, "feeds."):
        if not module.name.endswith(".__main__"):
            importlib.import_module(module.name)


def _subclasses(cls: type[FeedsError]) -> Iterator[type[FeedsError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_import_all()
DISCOVERED: list[type[FeedsError]] = sorted(
    set(_subclasses(FeedsError)), key=lambda c: (c.__module__, c.__qualname__)
)


def test_the_known_classes_are_discovered() -> None:
    known = {
        ConfigError,
        SourceError,
        FetchError,
        ParseError,
        StoreError,
        PublishError,
        ServeError,
    }
    assert known <= set(DISCOVERED)


@pytest.mark.parametrize("cls", DISCOVERED, ids=lambda c: c.__qualname__)
def test_every_error_names_where_what_and_why(cls: type[FeedsError]) -> None:
    assert cls in CASES, f"{cls.__module__}.{cls.__qualname__} has no row in CASES: add one"

    for case in CASES[cls]:
        error = cls(*case.args, **case.kwargs)

        assert str(error) == case.message
        for name in case.fields:
            value = str(getattr(error, name))
            assert value and value in str(error), f"{name}={value!r} missing from {error}"

        # Everything is a FeedsError; only source errors let a run go on.
        with pytest.raises(FeedsError):
            raise error
        if issubclass(cls, SourceError):
            try:
                raise error
            except SourceError as caught:
                assert caught is error
        else:
            assert not isinstance(error, SourceError), "only source errors let a run go on"
