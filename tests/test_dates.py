"""Dates written for people, resolved against a fixed fetch time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from feeds.dates import parse_human_date

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("22 ноября", ("ru",), datetime(2026, 11, 22, tzinfo=MSK)),
        ("27 ноября", ("ru",), datetime(2025, 11, 27, tzinfo=MSK)),  # most recent past one
        ("11 марта 2022", ("ru",), datetime(2022, 3, 11, tzinfo=MSK)),
        ("Сегодня, 11:05", ("ru",), datetime(2026, 11, 26, 11, 5, tzinfo=MSK)),
        ("вчера, 09:30", ("ru",), datetime(2026, 11, 25, 9, 30, tzinfo=MSK)),
        # A day with no time starts at midnight, whatever the fetch time.
        ("Вчера", ("ru",), datetime(2026, 11, 25, tzinfo=MSK)),
        ("3 часа назад", ("ru",), datetime(2026, 11, 26, 9, 0, tzinfo=MSK)),
        ("Сегодня, 22 ноября", ("ru",), datetime(2026, 11, 22, tzinfo=MSK)),
        ("2 days ago", ("en",), datetime(2026, 11, 24, tzinfo=MSK)),
        # Short forms too: "3d ago" moved with the fetch, and its id with it.
        ("2d ago", ("en",), datetime(2026, 11, 24, tzinfo=MSK)),
        ("1w ago", ("en",), datetime(2026, 11, 19, tzinfo=MSK)),
        ("Nov 22, 2026", ("en",), datetime(2026, 11, 22, tzinfo=MSK)),
        ("yesterday, 9:30 AM", ("en",), datetime(2026, 11, 25, 9, 30, tzinfo=MSK)),
        # Hours alone on the 12-hour clock were read as a day, at midnight.
        ("yesterday at 11pm", ("en",), datetime(2026, 11, 25, 23, 0, tzinfo=MSK)),
        ("Yesterday 9 a.m.", ("en",), datetime(2026, 11, 25, 9, 0, tzinfo=MSK)),
        ("2 days ago at 5pm", ("en",), datetime(2026, 11, 24, 17, 0, tzinfo=MSK)),
        ("22 ноября, 18:40", (), datetime(2026, 11, 22, 18, 40, tzinfo=MSK)),
    ],
)
def test_dates_for_people(text: str, languages: tuple[str, ...], expected: datetime) -> None:
    assert (
        parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=languages) == expected
    )


@pytest.mark.parametrize(
    "text", ["Updated Nov 24, 2026, 9:15 a.m. EST", "Обновлено 24 ноября, 2026, 14:05"]
)
def test_a_part_that_names_no_day_does_not_date_the_whole(text: str) -> None:
    """Read by its parts, "2026, 9:15 a.m. EST" was today at 9:15: two days
    off, with nothing to tell the operator. A part stands in for the whole
    only when it gives the day."""
    found = parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("en", "ru"))
    assert found is None or found.date() == datetime(2026, 11, 24).date()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Опубликовано: 22 ноября 2026, 14:05", datetime(2026, 11, 22, 14, 5, tzinfo=MSK)),
        ("Обновлено 22.11.2026 в 14:05", datetime(2026, 11, 22, 14, 5, tzinfo=MSK)),
        ("Дата публикации: 22.11.2026", datetime(2026, 11, 22, tzinfo=MSK)),
        ("Updated Nov 22, 2026", datetime(2026, 11, 22, tzinfo=MSK)),
        ("Last updated: 22 November 2026", datetime(2026, 11, 22, tzinfo=MSK)),
        ("Posted on November 22, 2026", datetime(2026, 11, 22, tzinfo=MSK)),
        ("Published 3 hours ago", datetime(2026, 11, 26, 9, 0, tzinfo=MSK)),
    ],
)
def test_a_bylines_word_before_its_date_is_read_past(text: str, expected: datetime) -> None:
    # WordPress and Bitrix bylines put the word and the date in one text,
    # which no selector can split: such stories were dated when first seen.
    found = parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("ru", "en"))
    assert found == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Обновлено 25.11.2026, опубликовано 24.11.2026", datetime(2026, 11, 24, tzinfo=MSK)),
        (
            "Опубликовано: 24 ноября 2026, 14:05 · Обновлено: 25 ноября 2026, 10:00",
            datetime(2026, 11, 24, 14, 5, tzinfo=MSK),
        ),
        ("Updated Nov 25, 2026 · Published Nov 24, 2026", datetime(2026, 11, 24, tzinfo=MSK)),
        ("Published: Nov 24, 2026. Updated: Nov 25, 2026", datetime(2026, 11, 24, tzinfo=MSK)),
        (
            "Posted on November 24, 2026 | Last updated November 25, 2026",
            datetime(2026, 11, 24, tzinfo=MSK),
        ),
        # No word for the first: the other is the update.
        (
            "24.11.2026 14:05 (обновлено 25.11.2026 10:00)",
            datetime(2026, 11, 24, 14, 5, tzinfo=MSK),
        ),
        ("2 days ago · updated 3 hours ago", datetime(2026, 11, 24, tzinfo=MSK)),
        # The publication gives only its time: the day is the lead's.
        (
            "Nov 25, 2026 · Published 10:00 am · Updated 12:30 pm",
            datetime(2026, 11, 25, 10, 0, tzinfo=MSK),
        ),
        (
            "25.11.2026, опубликовано в 10:00, обновлено в 12:00",
            datetime(2026, 11, 25, 10, 0, tzinfo=MSK),
        ),
    ],
)
def test_a_byline_with_an_update_is_dated_when_the_story_came_out(
    text: str, expected: datetime
) -> None:
    # Dated by its update, a story moved up its feeds at every edit.
    found = parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("ru", "en"))
    assert found == expected


@pytest.mark.parametrize("text", ["Updated", "Опубликовано:", "Дата"])
def test_a_bylines_word_alone_is_no_date(text: str) -> None:
    assert parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("ru", "en")) is None


@pytest.mark.parametrize("text", ["", "Литература", "Все новости", "Colta Specials"])
def test_words_that_are_not_dates(text: str) -> None:
    assert parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("ru",)) is None


@pytest.mark.parametrize("tag", ["uk", "uk-UA", "UK"])
def test_a_language_tag_hints_by_its_language_whatever_its_region_or_case(tag: str) -> None:
    # "листопада" is November in Ukrainian, and no month in the languages
    # tried by default: the hint must reach the date parser as "uk".
    got = parse_human_date("22 листопада 2026", now=NOW, timezone="Europe/Kyiv", languages=(tag,))
    assert got == datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Kyiv"))


def test_an_unknown_language_hint_is_ignored_not_fatal() -> None:
    got = parse_human_date("22 ноября", now=NOW, timezone="Europe/Moscow", languages=("xx",))
    assert got == datetime(2026, 11, 22, tzinfo=MSK)


@pytest.mark.parametrize("text", ["26 ноября, 12:01", "26 ноября 23:59", "Nov 26, 12:01"])
def test_a_day_without_a_year_is_today_even_at_a_later_hour(text: str) -> None:
    """The most recent such day: today, even if its time is a little ahead
    of ours (a skewed clock, a zone one hour off), never a year ago."""
    found = parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("ru", "en"))
    assert found is not None and found.date() == datetime(2026, 11, 26).date()


@pytest.mark.parametrize("text", ["вчера", "Сегодня", "2 дня назад", "yesterday"])
def test_a_relative_day_reads_the_same_at_any_hour(text: str) -> None:
    """Ids of link-less items derive from the printed date: it must not
    carry the time of the fetch."""
    readings = {
        parse_human_date(text, now=NOW.replace(hour=hour), timezone="Europe/Moscow")
        for hour in (5, 9, 14)
    }
    assert len(readings) == 1


@pytest.mark.parametrize(
    "text", ["just now", "сейчас", "0 минут назад", "24 часа назад", "только что", "Только что"]
)
def test_a_time_relative_to_now_keeps_its_time(text: str) -> None:
    """Only a day without a time starts at midnight: 'just now' is now."""
    found = parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("ru", "en"))
    assert found is not None and (found.hour, found.minute) == (12, 0)


NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("text", "zone", "now", "expected"),
    [
        # The clocks go back at 02:00: 01:30 happens twice. The first one,
        # as zoneinfo reads a wall-clock time (fold 0).
        (
            "01:30",
            "America/New_York",
            datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
            datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK),
        ),
        (
            "01:30",
            "Europe/London",
            datetime(2026, 10, 25, 12, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 30, tzinfo=LONDON),
        ),
    ],
)
def test_a_time_the_clock_shows_twice_is_read_not_fatal(
    text: str, zone: str, now: datetime, expected: datetime
) -> None:
    """dateparser (through pytz) raised AmbiguousTimeError, and the whole
    build stopped with a traceback on the day the clocks went back."""
    found = parse_human_date(text, now=now, timezone=zone, languages=("en",))
    assert found == expected
    assert found is not None and found.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("text", "now", "expected_day"),
    [
        # 08:00 EDT on the day the clocks went forward.
        ("yesterday", datetime(2026, 3, 8, 12, 0, tzinfo=UTC), (2026, 3, 7)),
        ("2 days ago", datetime(2026, 3, 8, 12, 0, tzinfo=UTC), (2026, 3, 6)),
        # 00:30 EDT the day after: yesterday is 8 March, not 7 March.
        ("yesterday", datetime(2026, 3, 9, 4, 30, tzinfo=UTC), (2026, 3, 8)),
        ("1 day ago", datetime(2026, 3, 9, 4, 30, tzinfo=UTC), (2026, 3, 8)),
        # 23:30 EST on the day the clocks went back: still 1 November.
        ("today", datetime(2026, 11, 2, 4, 30, tzinfo=UTC), (2026, 11, 1)),
        ("yesterday", datetime(2026, 11, 2, 4, 30, tzinfo=UTC), (2026, 10, 31)),
    ],
)
def test_a_relative_day_across_a_clock_change_is_that_calendar_day_at_midnight(
    text: str, now: datetime, expected_day: tuple[int, int, int]
) -> None:
    """A day counted back over a clock change is a calendar day, not 24
    hours: it was read as 07:00 the day before (an hour off the fetch
    time, so not reset to midnight, and differing at every fetch), or as
    23:30 two days before, a reader showing the wrong day."""
    found = parse_human_date(text, now=now, timezone="America/New_York", languages=("en",))
    assert found == datetime(*expected_day, tzinfo=NEW_YORK)


#: Five minutes after midnight in Moscow.
JUST_AFTER_MIDNIGHT = datetime(2026, 11, 26, 21, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A page made before midnight and read after it (a cache, a dump
        # saved late): "today" was yesterday, not a time still to come.
        ("Сегодня, 23:50", datetime(2026, 11, 26, 23, 50, tzinfo=MSK)),
        ("сегодня в 14:00", datetime(2026, 11, 26, 14, 0, tzinfo=MSK)),
        ("14:00", datetime(2026, 11, 26, 14, 0, tzinfo=MSK)),
        ("Today 2:00 PM", datetime(2026, 11, 26, 14, 0, tzinfo=MSK)),
        # A site's clock a few minutes ahead of ours: still today.
        ("Сегодня, 00:20", datetime(2026, 11, 27, 0, 20, tzinfo=MSK)),
        # A date given in full may be ahead (an event's announcement).
        ("27 ноября 2026, 19:00", datetime(2026, 11, 27, 19, 0, tzinfo=MSK)),
    ],
)
def test_today_at_a_time_not_yet_come_is_the_day_before(text: str, expected: datetime) -> None:
    assert (
        parse_human_date(text, now=JUST_AFTER_MIDNIGHT, timezone="Europe/Moscow", languages=())
        == expected
    )


#: 13:00 EDT on the day the clocks went forward; noon EST on the day they
#: went back.
SPRING_DAY = datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
AUTUMN_DAY = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("Today 1:30", SPRING_DAY, datetime(2026, 3, 8, 1, 30)),
        ("Yesterday 11:00", SPRING_DAY, datetime(2026, 3, 7, 11, 0)),
        ("вчера, 11:00", SPRING_DAY, datetime(2026, 3, 7, 11, 0)),
        # A time the clocks skipped reads as a full date with it does.
        ("Today, 02:30", SPRING_DAY, datetime(2026, 3, 8, 3, 30)),
        ("8 March 2026, 02:30", SPRING_DAY, datetime(2026, 3, 8, 3, 30)),
        ("Yesterday 11:00", AUTUMN_DAY, datetime(2026, 10, 31, 11, 0)),
    ],
)
def test_a_time_on_a_relative_day_across_a_clock_change_is_the_time_printed(
    text: str, now: datetime, expected: datetime
) -> None:
    """dateparser counts "yesterday, 11:00" back from the fetch in the
    fetch's UTC offset: the day after a clock change it read 10:00 (or
    12:00), and "today, 1:30" on the day itself 00:30."""
    _assert_read_in_new_york_as(text, now, expected)


#: 13:00 EDT, the day after the clocks went forward.
DAY_AFTER_SPRING = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
#: Noon EDT in July: every March date below is in the other offset.
SUMMER = datetime(2026, 7, 10, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        # A date printed whole with a day word in it ("года", a weekday):
        # taken for a relative day, it was moved into the fetch's offset.
        ("Monday, March 2, 2026 11:00", SUMMER, datetime(2026, 3, 2, 11, 0)),
        ("Sunday 1 March 2026 11:00", SUMMER, datetime(2026, 3, 1, 11, 0)),
        ("2 марта 2026 года, 11:00", SUMMER, datetime(2026, 3, 2, 11, 0)),
        # A weekday: dateparser reads its time on the clock already.
        ("Monday 11:00", DAY_AFTER_SPRING, datetime(2026, 3, 2, 11, 0)),
        ("Friday 11:00", DAY_AFTER_SPRING, datetime(2026, 3, 6, 11, 0)),
        # Days counted back are relative, digits or not.
        ("2 дня назад, 11:00", DAY_AFTER_SPRING, datetime(2026, 3, 7, 11, 0)),
        ("2 days ago 11:00", DAY_AFTER_SPRING, datetime(2026, 3, 7, 11, 0)),
    ],
)
def test_a_date_or_weekday_with_a_day_word_keeps_the_time_printed(
    text: str, now: datetime, expected: datetime
) -> None:
    """A date in March printed with its weekday ("Monday, March 2, 2026
    11:00") and read in July came out as 12:00."""
    _assert_read_in_new_york_as(text, now, expected)


def _assert_read_in_new_york_as(text: str, now: datetime, wall_time: datetime) -> None:
    """`text`, read at `now` in New York, is that wall time, in the offset
    New York has then."""
    found = parse_human_date(text, now=now, timezone="America/New_York", languages=("en", "ru"))
    assert found is not None
    assert found.replace(tzinfo=None) == wall_time
    assert found.utcoffset() == wall_time.replace(tzinfo=NEW_YORK).astimezone(NEW_YORK).utcoffset()


@pytest.mark.parametrize(
    ("text", "timezone"),
    [
        ("1 января 0001", "Europe/Moscow"),
        ("0001-01-01", "Europe/Moscow"),
        ("12/31/9999", "America/New_York"),
    ],
)
def test_a_date_at_the_calendars_ends_is_no_date(text: str, timezone: str) -> None:
    """Moved past year 1 or 9999 by a zone: OverflowError failed the whole
    source (text headings and cards, page dates, a feed's pubDate) as a bug
    in feeds. Read as a person would: no date, and the item kept."""
    found = parse_human_date(text, now=NOW, timezone=timezone, languages=("ru", "en"))
    assert found is None or found.tzinfo is not None  # and no error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17 ноября 2026 г., 09:30 МСК", datetime(2026, 11, 17, 9, 30)),
        ("17 ноября 2026, 09:30 (МСК)", datetime(2026, 11, 17, 9, 30)),
        ("17 ноября 2026, 09:30 мск", datetime(2026, 11, 17, 9, 30)),
        ("09:30 МСК, 17 ноября 2026", datetime(2026, 11, 17, 9, 30)),
        ("17 ноября 2026 09:30 МСК", datetime(2026, 11, 17, 9, 30)),
        ("17.11.2026 09:30 МСК", datetime(2026, 11, 17, 9, 30)),
        ("Сегодня, 09:30 МСК", datetime(2026, 11, 26, 9, 30)),
        ("вчера в 09:30 (мск)", datetime(2026, 11, 25, 9, 30)),
        ("17 ноября 2026 в 09:30 по московскому времени", datetime(2026, 11, 17, 9, 30)),
    ],
)
def test_moscow_time_written_in_russian_is_read_with_its_time(
    text: str, expected: datetime
) -> None:
    """ "09:30 МСК" is how Russian sites print the time; dateparser does not
    know МСК: the time was dropped (midnight) or the whole date was (the
    fetch's time). Read in Moscow time, whatever the source's zone."""
    found = parse_human_date(text, now=NOW, timezone="Asia/Yekaterinburg", languages=("ru",))
    assert found == expected.replace(tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.mark.parametrize("text", ["МСК 24", "Новости МСК", "Прогулки по Москве"])
def test_moscow_without_a_time_of_day_is_no_date(text: str) -> None:
    """Only a time of day is marked as Moscow time: "МСК 24" read as the
    24th once the mark was taken for one."""
    assert parse_human_date(text, now=NOW, timezone="Europe/Moscow", languages=("ru",)) is None
