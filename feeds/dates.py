"""Dates written for people, in any language: pure, no clock of its own.

The one module that imports dateparser (on first use). Absolute dates (``11 марта 2022``),
dates without a year (``22 ноября``: the most recent such day not after
`now`) and relative ones (``Сегодня``, ``вчера``, ``3 часа назад``,
``2 days ago``) are resolved against the `now` the caller passes, in the
source's time zone, and come back time-zone aware.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from datetime import timezone as utc_offset
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from feeds.model import ParseContext

#: Languages tried when the caller gives no hint.
DEFAULT_LANGUAGES = ("ru", "en")


#: Different texts that read as no date before the rest of one answer is
#: no longer tried (see `reading_dates`).
MOST_UNREAD_DATES = 1_000


class _Reading(threading.local):
    #: Texts read in this answer, and what they read as.
    seen: dict[tuple[str, datetime, str, tuple[str, ...], bool], datetime | None] | None = None
    unread = 0


_reading = _Reading()


@contextmanager
def reading_dates() -> Iterator[None]:
    """While one answer is read: each text is read once (a page prints the
    same rubric line, heading or date many times), and once
    MOST_UNREAD_DATES different texts have read as no date, no more are
    tried. dateparser takes 0.5-3 ms a text: 450 KB of one-word lines,
    each looking like a heading, took 12 s, and a 10 MiB body minutes."""
    previous = _reading.seen, _reading.unread
    _reading.seen, _reading.unread = {}, 0
    try:
        yield
    finally:
        _reading.seen, _reading.unread = previous


def parse_human_date(
    text: str,
    *,
    now: datetime,
    timezone: str,
    languages: tuple[str, ...] = (),
    month_first: bool = False,
) -> datetime | None:
    """Read a date as a person would, or None when `text` is not one.

    A combined form such as ``Сегодня, 22 ноября`` that does not read as a
    whole is read by its more precise part (the day and month). A date of
    numbers alone is read day first (``3/11/2026`` is 3 November), or with
    `month_first` as in the United States (11 March; a dotted 11.03.2026 stays
    day first): see `writes_month_first`.
    """
    text = " ".join(text.split())
    if not text:
        return None
    seen = _reading.seen
    if seen is None:
        return _read(text, now, timezone, languages, month_first)
    key = (text, now, timezone, languages, month_first)
    if key in seen:
        return seen[key]
    if _reading.unread >= MOST_UNREAD_DATES:
        return None
    found = seen[key] = _read(text, now, timezone, languages, month_first)
    _reading.unread += found is None
    return found


def read_for(
    text: str, context: ParseContext, *, month_first: bool | None = None
) -> datetime | None:
    """`parse_human_date` as a source reads a date: at its fetch's time, in
    its zone and language, a date of numbers month first where that
    language says so (`month_first`, when given, decides instead: an HTML
    page's own language may)."""
    return parse_human_date(
        text,
        now=context.now,
        timezone=context.timezone,
        languages=(context.language,) if context.language else (),
        month_first=writes_month_first(context.language) if month_first is None else month_first,
    )


@lru_cache(maxsize=256)
def writes_month_first(*tags: str) -> bool:
    """Whether dates of numbers are written month first (CLDR's M/d/y) where
    the first of these language tags that names a region is spoken: the
    United States and its territories, the Philippines, Micronesia, the
    Marshall Islands and Palau ('en-US', 'es-US', 'en-PH'). A language
    alone ('en') says nothing of it: the next tag decides."""
    for tag in tags:
        regions = [
            part.upper()
            for part in tag.strip().replace("_", "-").split("-")[1:]
            if len(part) == 2 and part.isalpha()
        ]
        if regions:
            return regions[0] in _MONTH_FIRST
    return False


_MONTH_FIRST = frozenset({"US", "AS", "GU", "MP", "PR", "UM", "VI", "PH", "FM", "MH", "PW"})
#: A date of numbers as the United States writes one: with slashes (a
#: dotted 11.03.2026 is day first wherever it is written).
_SLASHED = re.compile(r"(?<!\d)\d{1,2}/\d{1,2}/\d{2,4}(?!\d)")


def _read(
    text: str, now: datetime, timezone: str, languages: tuple[str, ...], mdy: bool
) -> datetime | None:
    text = _published_part(text)
    text = _JUST_NOW.sub("сейчас", _LABEL.sub("", text, count=1) or text)
    moscow = _MOSCOW_TIME.sub(" ", text)
    if moscow != text and _CLOCK.search(moscow):
        # "09:30 МСК", which dateparser does not know: the time was dropped
        # ("17 ноября 2025 г., 09:30 МСК" read as midnight) or the whole
        # date was (read as the fetch's time).
        text, timezone = " ".join(moscow.split()), "Europe/Moscow"
    mdy = mdy and _SLASHED.search(text) is not None
    local_now = now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)
    langs = tuple(dict.fromkeys(lang for lang in (*languages, *DEFAULT_LANGUAGES) if lang))
    candidates = [(text, False)]
    if "," in text:
        # "вчера, 09:30" and "Nov 22, 2026" read whole once the comma is a
        # space; "Сегодня, 22 ноября" only by its more precise part. A part
        # must give the day: "2026, 9:15 a.m." of "Updated Nov 24, 2026,
        # 9:15 a.m." read as today at 9:15, a wrong day nothing flagged.
        head, _, tail = text.partition(",")
        whole = " ".join(text.replace(",", " ").split())
        candidates = [(whole, False), (text, False), (tail.strip(), True), (head.strip(), True)]
    for candidate, part in candidates:
        found = _parse(candidate, local_now, timezone, langs, with_day=part, mdy=mdy)
        if found is not None:
            return _as_printed(candidate, found, local_now, timezone, langs, mdy)
    return None


#: The word a byline puts before its date, in the same text (WordPress's
#: "Updated", Bitrix's "Дата публикации:"): no date was read with it, and
#: every story so labelled was dated when first seen.
_LABEL = re.compile(
    r"^(?:(?:last\s+)?(?:updated|modified|published|posted|created)(?:\s+on)?|date"
    r"|опубликовано|обновлено|изменено|размещено|добавлено|создано|публикация"
    r"|дата(?:\s+(?:публикации|обновления|изменения|создания))?)(?:\s*:\s*|\s+)(?=\S)",
    re.IGNORECASE,
)
#: A byline's word for when the story was changed, and for when it came
#: out, anywhere in its text.
_UPDATED_WORD = (
    r"(?:last\s+)?(?:updated|modified|edited)|обновлено|изменено|отредактировано"
    r"|дата\s+(?:обновления|изменения)"
)
_PUBLISHED_WORD = (
    r"published|posted|created|опубликовано|размещено|добавлено|создано|публикация"
    r"|дата\s+(?:публикации|создания)"
)
_WORDS = re.compile(
    rf"(?<!\w)(?:(?P<updated>{_UPDATED_WORD})|{_PUBLISHED_WORD})(?!\w)", re.IGNORECASE
)
#: What separates a byline's dates ("·", "|", brackets...), around a part.
_SEPARATORS = " \t\n,;.·|—–-()[]"


def _published_part(text: str) -> str:
    """The part of a byline that dates the story when it gives two dates,
    one of them its update ("Обновлено 25.11.2026, опубликовано 24.11.2026",
    "24.11.2026 14:05 (обновлено 25.11 10:00)", "Updated Nov 25 · Published
    Nov 24"): the one labelled as published, or else the one without a
    word. Dated by the update, a story moved up its feeds at every edit.
    Other texts are given back whole."""
    words = list(_WORDS.finditer(text))
    if not any(word.group("updated") for word in words):
        return text
    parts = [("", text[: words[0].start()])] if words[0].start() else []
    for word, following in zip(words, [*words[1:], None], strict=True):
        end = following.start() if following is not None else len(text)
        parts.append(
            ("updated" if word.group("updated") else "published", text[word.start() : end])
        )
    lead = parts[0][1].strip(_SEPARATORS) if parts[0][0] == "" else ""
    for found, part in parts:
        if found == "published" and any(c.isdigit() for c in part):
            part = part.strip(_SEPARATORS)
            if _gives_a_day(part):
                return part
            # "Nov 25, 2026 · Published 10:00 am · Updated 12:30 pm": the
            # day is the unlabelled lead's, the time the publication's.
            time = _WORDS.sub("", part, count=1).strip(_SEPARATORS + ":")
            return f"{lead} {time}" if _gives_a_day(lead) else text
    return lead if _gives_a_day(lead) else text


def _gives_a_day(text: str) -> bool:
    """Whether a byline's part gives a day, not just a time of day."""
    rest = _CLOCK.sub("", text)
    return any(c.isdigit() for c in rest) or _DAY_WORDS.search(rest) is not None


#: Moscow time as Russian sites write it after a time ("09:30 МСК",
#: "(мск)", "по московскому времени", "по Москве"); only beside a time
#: of day ("МСК 24" is a channel's name, not the 24th).
_MOSCOW_TIME = re.compile(
    r"\(?\s*(?<!\w)(?:мск|по\s+московскому\s+времени|по\s+москве)(?!\w)\s*\)?",
    re.IGNORECASE,
)
#: "Just now" in Russian, which dateparser does not know; "сейчас" it does.
_JUST_NOW = re.compile(r"\bтолько что\b", re.IGNORECASE)
#: A time of day as pages print one ("12:30", "9.05", "11pm", "9 a.m.").
#: Only "HH:MM" was known: "yesterday at 11pm" was read as a day, at
#: midnight.
_CLOCK = re.compile(
    r"\d{1,2}[:.]\d{2}(?!\d)(?:\s*[ap]\.?\s?m\b\.?)?|(?<![\d:.])\d{1,2}\s*[ap]\.?\s?m\b\.?",
    re.IGNORECASE,
)
#: How far ahead of the fetch a time of day "today" may be (a site's clock,
#: or its zone, a little off) before it is read as yesterday's.
CLOCK_LEAD = timedelta(hours=3)
#: Words that give a day, or days, relative to today...
_DAY_WORDS = re.compile(
    r"вчера|сегодня|позавчера|дн|день|недел|месяц|год|лет|today|yesterday|day|week|month|year"
    r"|\d\s*[dw]\b",  # "3d ago", "2w ago"
    re.IGNORECASE,
)
#: A count of days back ("2 дня назад, 11:00"): relative, though it has digits.
_AGO = re.compile(r"\bназад\b|\bago\b", re.IGNORECASE)
#: Weekdays, which hold a day word ("Monday", "понедельник") but which
#: dateparser reads on the clock already.
_WEEKDAYS = re.compile(r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|понедельник", re.IGNORECASE)
#: ... and words that give a time: "3 часа назад" and "just now" move with it.
_TIME_WORDS = re.compile(r"час|мин|сек|сейчас|hour|min|sec|now|moment", re.IGNORECASE)


def _as_printed(
    text: str,
    found: datetime,
    local_now: datetime,
    timezone: str,
    langs: tuple[str, ...],
    mdy: bool = False,
) -> datetime:
    """Correct what dateparser makes of `now` where the text says less:

    - a date without a year is the most recent such *day*: "22 ноября,
      12:01" read at 12:00 that day is today, not a year ago;
    - a day given relative to today with no time ("вчера", "2 дня назад")
      starts at midnight, not at the time of the fetch, which would make it
      (and an id derived from it) differ at every fetch. The day is counted
      from noon: dateparser counts days of 24 hours, and over a clock change
      "yesterday" read just after midnight fell on the day before it;
    - a time of day with no date ("Сегодня, 23:50", "14:00") more than
      CLOCK_LEAD ahead of the fetch is the day before's: the page was made
      before midnight and read after it;
    - a time on a day relative to today ("вчера, 11:00") is the time
      printed, on either side of a clock change."""
    clock = _CLOCK.search(text)
    # Digits besides the time give the date itself ("2 марта 2026 года",
    # "March 2, 2026"): dateparser reads it on the clock, and a day word in
    # it ("года") does not make it relative.
    dateless = clock is not None and not any(
        c.isdigit() for c in text[: clock.start()] + text[clock.end() :]
    )
    if (
        clock
        and (dateless or _AGO.search(text))
        and _DAY_WORDS.search(_WEEKDAYS.sub(" ", text))
        and not _TIME_WORDS.search(text)
    ):
        found = _as_on_the_clock(found, local_now, ZoneInfo(timezone))
    local = found.replace(tzinfo=None)
    try:
        year_ago = local_now.date().replace(year=local_now.year - 1)
    except ValueError:  # 29 February
        year_ago = None
    if local.date() == year_ago:
        later = _parse(
            text, local_now.replace(hour=23, minute=59, second=59), timezone, langs, mdy=mdy
        )
        if later is not None and later.year == local_now.year:
            return later
    if clock and local.date() == local_now.date() and local - local_now > CLOCK_LEAD and dateless:
        # A date printed whole may be ahead (an announcement): not here.
        return found - timedelta(days=1)
    if _DAY_WORDS.search(text) and not (clock or _TIME_WORDS.search(text)):
        noon = local_now.replace(hour=12, minute=0, second=0)
        at_noon = found if local_now == noon else _parse(text, noon, timezone, langs, mdy=mdy)
        # A day that moves with the clock is counted from today; one that
        # stays at midnight is a date.
        if at_noon is not None and (local.time() == local_now.time() or at_noon.time() != time()):
            return datetime.combine(at_noon.date(), time(), tzinfo=ZoneInfo(timezone))
    return found


def _as_on_the_clock(found: datetime, local_now: datetime, zone: ZoneInfo) -> datetime:
    """dateparser counts a relative day from `local_now` in its UTC offset:
    across a clock change, "yesterday, 11:00" came back as 10:00 or 12:00.
    The wall time it meant, read in the zone (a time the clocks skipped
    as zoneinfo reads one, like a date printed whole)."""
    offset = local_now.replace(tzinfo=zone).utcoffset()
    if offset is None or found.utcoffset() == offset:
        return found
    meant = found.astimezone(utc_offset(offset)).replace(tzinfo=zone)
    return meant.astimezone(UTC).astimezone(zone)


@lru_cache(maxsize=4096)
def _parse(
    text: str,
    local_now: datetime,
    timezone: str,
    langs: tuple[str, ...],
    *,
    with_day: bool = False,
    mdy: bool = False,
) -> datetime | None:
    """dateparser's reading of `text`; with `with_day`, only one that names
    the day and month (or a day relative to today), none taken from now;
    with `mdy`, numbers the month first."""
    settings: dict[str, Any] = {
        "TIMEZONE": timezone,
        "TO_TIMEZONE": timezone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RELATIVE_BASE": local_now,
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "MDY" if mdy else "DMY",
    }
    if with_day:
        settings["REQUIRE_PARTS"] = ["day", "month"]
    found_in = (_dateparser_language(lang) for lang in langs)
    languages = list(dict.fromkeys(known for known in found_in if known))
    # Imported on first use: most feeds never need it, and it costs their
    # processes ~0.1 s and megabytes (`reading_dates` is used everywhere).
    import dateparser
    from pytz.exceptions import InvalidTimeError

    found: datetime | None
    try:
        try:
            found = dateparser.parse(text, languages=languages or None, settings=settings)
        except InvalidTimeError:
            # A time the clocks skip or show twice on the day they change
            # ("01:30" when they go back): pytz refuses it, and the error ended
            # the whole build. Read on the wall clock, then in the zone as
            # zoneinfo reads such a time (the offset before the change).
            settings.update(TIMEZONE="UTC", TO_TIMEZONE="UTC", RETURN_AS_TIMEZONE_AWARE=False)
            found = dateparser.parse(text, languages=languages or None, settings=settings)
            if found is not None and found.tzinfo is None:
                found = found.replace(tzinfo=ZoneInfo(timezone))
        if found is None:
            return None
        return found.astimezone(ZoneInfo(timezone))
    except OverflowError:
        # A date at the calendar's ends ("1 января 0001", "12/31/9999" west
        # of UTC) moved past it by a zone: no date, as a reader would take
        # it; the error failed the whole source as a bug.
        return None


@lru_cache(maxsize=1)
def _dateparser_locales() -> dict[str, str]:
    """dateparser's locales, by their names case-folded."""
    from dateparser.languages import default_loader

    return {name.casefold(): name for name in default_loader.get_locale_map()}


@lru_cache(maxsize=64)
def _dateparser_language(tag: str) -> str:
    """The dateparser locale for a language tag: the tag itself, else the
    longest part of it dateparser knows, in any case ('ru-RU' and 'RU' are
    read as 'ru', 'sr-Latn-RS' as 'sr-Latn'); '' when none."""
    known = _dateparser_locales()
    parts = tag.split("-")
    while parts:
        found = known.get("-".join(parts).casefold())
        if found:
            return found
        parts.pop()
    return ""
