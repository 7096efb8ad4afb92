"""Dates written for people, in any language: pure, no clock of its own.

The one module that imports dateparser. Absolute dates (``11 марта 2022``),
dates without a year (``22 ноября``: the most recent such day not after
`now`) and relative ones (``Сегодня``, ``вчера``, ``3 часа назад``,
``2 days ago``) are resolved against the `now` the caller passes, in the
source's time zone, and come back time-zone aware.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import dateparser

#: Languages tried when the caller gives no hint.
DEFAULT_LANGUAGES = ("ru", "en")


def parse_human_date(
    text: str, *, now: datetime, timezone: str, languages: tuple[str, ...] = ()
) -> datetime | None:
    """Read a date as a person would, or None when `text` is not one.

    A combined form such as ``Сегодня, 22 ноября`` that does not read as a
    whole is read by its more precise part (the day and month).
    """
    text = " ".join(text.split())
    if not text:
        return None
    local_now = now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)
    langs = tuple(dict.fromkeys(lang for lang in (*languages, *DEFAULT_LANGUAGES) if lang))
    candidates = [text]
    if "," in text:
        # "вчера, 09:30" and "Nov 22, 2026" read whole once the comma is a
        # space; "Сегодня, 22 ноября" only by its more precise part.
        head, _, tail = text.partition(",")
        candidates = [" ".join(text.replace(",", " ").split()), text, tail.strip(), head.strip()]
    for candidate in candidates:
        found = _parse(candidate, local_now, timezone, langs)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=4096)
def _parse(
    text: str, local_now: datetime, timezone: str, langs: tuple[str, ...]
) -> datetime | None:
    settings = {
        "TIMEZONE": timezone,
        "TO_TIMEZONE": timezone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": local_now,
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
    }
    languages = [lang for lang in langs if _known_language(lang)]
    found = dateparser.parse(text, languages=languages or None, settings=settings)
    if found is None:
        return None
    return found.astimezone(ZoneInfo(timezone))


@lru_cache(maxsize=64)
def _known_language(code: str) -> bool:
    from dateparser.languages import default_loader

    return code in default_loader.get_locale_map()
