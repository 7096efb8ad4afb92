"""Classify stage: Item -> Item with its rubrics. Pure.

An item's categories (as its source wrote them) are matched against every
rubric's title, slug and aliases, case-insensitively; the source's own
`rubrics:` are added to every item it yields.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from feeds.model import Item, Rubric


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every spelling of every rubric, folded, mapped to the rubric's slug."""

    names: dict[str, str]

    @classmethod
    def of(cls, rubrics: Iterable[Rubric]) -> Vocabulary:
        names: dict[str, str] = {}
        for rubric in rubrics:
            for name in rubric.names:
                names.setdefault(_fold(name), rubric.slug)
        return cls(names)

    def slug_for(self, category: str) -> str | None:
        """The slug a source category maps to, or None."""
        return self.names.get(_fold(category))


def classify_item(item: Item, vocabulary: Vocabulary, source_rubrics: tuple[str, ...]) -> Item:
    """The item with its rubric slugs: sorted, no repeats."""
    slugs = set(source_rubrics)
    for category in item.categories:
        slug = vocabulary.slug_for(category)
        if slug is not None:
            slugs.add(slug)
    return item.evolve(rubrics=tuple(sorted(slugs)))


def unmatched_categories(item: Item, vocabulary: Vocabulary) -> tuple[str, ...]:
    """The item's categories that name no rubric (for operators' reports)."""
    return tuple(c for c in item.categories if vocabulary.slug_for(c) is None)


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())
