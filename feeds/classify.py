"""Classify stage: Item -> Item with its rubrics; filters. Pure.

An item's rubrics come from:

- its categories (as its source wrote them), matched against every
  rubric's title, slug and aliases, case-insensitively;
- the source's own `rubrics:`, added to every item it yields;
- `rules:` from config.yaml, each a regular expression or keywords looked
  for in the item's title, summary, content, link path, categories or
  author.

A source's `include:` and `exclude:` filters drop items before they are
stored (adverts, "Все новости" and the like).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from feeds.model import Item, Match, Rubric, Rule, category_key


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every spelling of every rubric, folded, mapped to the rubric's slug;
    and the rules that assign rubrics by content."""

    names: dict[str, str]
    rules: tuple[Rule, ...] = ()

    @classmethod
    def of(cls, rubrics: Iterable[Rubric], rules: tuple[Rule, ...] = ()) -> Vocabulary:
        names: dict[str, str] = {}
        for rubric in rubrics:
            for name in rubric.names:
                names.setdefault(category_key(name), rubric.slug)
        return cls(names, rules)

    def slug_for(self, category: str) -> str | None:
        """The slug a source category maps to, or None (the last of
        `slugs_for`)."""
        slugs = self.slugs_for(category)
        return slugs[-1] if slugs else None

    def slugs_for(self, category: str) -> tuple[str, ...]:
        """The slugs a source category maps to. A category written as a
        path of them, as CMSs print nested ones ("Культура / Кино", "Arts >
        Film", "News » World"), that does not map as a whole maps as its
        most specific level that does ("Культура / Интервью" as "Культура"
        when no rubric is called "Интервью"). A slash, bar or backslash
        with no space around it joins names as often as it separates
        levels ("AC/DC", "24/7", "Science/Tech"): such a category maps to
        its parts only when every part is a rubric, and then to each."""
        if _NESTED.search(category) and self.names.get(_folded(category)) is None:
            for level in reversed(_levels(category)):
                slugs = self._level_slugs(level)
                if slugs:
                    return slugs
            return ()
        return self._level_slugs(category)

    def _level_slugs(self, name: str) -> tuple[str, ...]:
        """The slugs of one name, or of one level of a nested category: as
        a whole, or joined ("Science/Tech": each part, when all are)."""
        slug = self.names.get(_folded(name))
        if slug is not None:
            return (slug,)
        if _JOINED.search(name):
            parts = [part for part in _JOINED.split(name) if part.strip()]
            slugs = [self.names.get(_folded(part)) for part in parts]
            if slugs and all(slugs):
                return tuple(dict.fromkeys(slug for slug in slugs if slug))
        return ()

    def finer_levels(self, category: str) -> tuple[str, ...]:
        """The levels of a nested category more specific than the one it
        maps by, none of which is a rubric (`Интервью` of "Культура /
        Интервью"): an alias or a rubric an operator may want for them."""
        if self.names.get(_folded(category)) is not None or not _NESTED.search(category):
            return ()
        levels = _levels(category)
        for depth in range(len(levels) - 1, -1, -1):
            if self._level_slugs(levels[depth]):
                return tuple(levels[depth + 1 :])
        return ()


def _levels(category: str) -> list[str]:
    """The levels of a nested category, with none left empty ("Культура /
    / Интервью" has two)."""
    levels = (part.strip().strip("/|\\>»→").strip() for part in _NESTED.split(category))
    return [level for level in levels if level]


#: What separates the levels of a nested category: an arrow, or a slash,
#: bar or backslash with spaces around it...
_NESTED = re.compile(r"\s*[>»→]\s*|\s+[/|\\]\s+")
#: ... and what may: a slash, bar or backslash with no space around it.
_JOINED = re.compile(r"[/|\\]")

#: `category_key` of the categories met lately: a site uses the same few
#: again and again, and folding a Cyrillic one takes 1-3 us.
_folded = lru_cache(maxsize=4096)(category_key)


def classify_item(item: Item, vocabulary: Vocabulary, source_rubrics: tuple[str, ...]) -> Item:
    """The item with its rubric slugs: sorted, no repeats."""
    slugs = set(source_rubrics)
    for category in item.categories:
        slugs.update(vocabulary.slugs_for(category))
    for rule in vocabulary.rules:
        if rule.rubric not in slugs and matches(rule.match, item):
            slugs.add(rule.rubric)
    return item.evolve(rubrics=tuple(sorted(slugs)))


def keep_item(item: Item, include: tuple[Match, ...], exclude: tuple[Match, ...]) -> bool:
    """Whether a source's filters let the item through."""
    if include and not any(matches(match, item) for match in include):
        return False
    return not any(matches(match, item) for match in exclude)


def matches(match: Match, item: Item) -> bool:
    """Whether the match's pattern or keywords occur in the chosen fields."""
    search = _regex(match.pattern, match.keywords).search
    return any(search(text) for text in _texts(item, match.fields))


@lru_cache(maxsize=1024)
def _regex(pattern: str, keywords: tuple[str, ...]) -> re.Pattern[str]:
    if pattern:
        return re.compile(pattern)
    # Whole words in any case: "art" finds "Art" but not "party"; and the
    # spaces of a phrase are any white space ("в\xa0Каннах", a line break).
    words = "|".join(
        r"\s+".join(map(re.escape, word.split()))
        for word in sorted(keywords, key=len, reverse=True)
    )
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)


def _texts(item: Item, fields: tuple[str, ...]) -> list[str]:
    texts: list[str] = []
    for field in fields:
        if field == "title":
            texts.append(item.title)
        elif field in ("summary", "content"):
            # The text a reader sees: a phrase split by a tag or a line
            # break, or spaced with no-break spaces, reads as one.
            texts.append(" ".join(html.unescape(_TAGS.sub(" ", getattr(item, field))).split()))
        elif field == "link":
            # As written, and as a browser shows it: /кино/ for
            # /%D0%BA%D0%B8%D0%BD%D0%BE/ (a rule may be written either way).
            path = urlsplit(item.link).path if item.link else ""
            texts.append(path)
            if "%" in path:
                texts.append(unquote(path))
        elif field == "category":
            texts.extend(item.categories)
        elif field == "author":
            texts.append(item.author)
    return texts


_TAGS = re.compile(r"<[^>]*>")
