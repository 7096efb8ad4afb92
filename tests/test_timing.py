"""When to fetch next: durations, back-off, Retry-After, cache lifetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.timing import (
    backoff,
    cache_lifetime,
    cron_problem,
    next_due,
    parse_duration,
    regular_due,
    retry_after,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOUR = 3600.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (30, 30.0),
        ("45s", 45.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        ("0.5s", 0.5),
        ("1w", 604800.0),
        ("90", 90.0),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten minutes", "10x", "-5s", "0", True, None, "1h 30"])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_retry_after_as_seconds_and_as_date() -> None:
    assert retry_after("120", NOW) == 120.0
    assert retry_after("Thu, 26 Nov 2026 09:10:00 GMT", NOW) == 600.0
    assert retry_after("Thu, 26 Nov 2026 08:00:00 GMT", NOW) == 0.0
    assert retry_after("soon", NOW) is None
    # Numbers too big for the standard library's C types: no date, as
    # any other unreadable one (it raised OverflowError in the fetch).
    assert retry_after("Thu, 26 Nov 2026 09:10:00 +99999999999999", NOW) is None
    assert retry_after("Thu, 26 Nov 99999999999 09:10:00 GMT", NOW) is None


@pytest.mark.parametrize(
    ("headers", "lifetime"),
    [
        ({"cache-control": "public, max-age=900"}, 900.0),
        ({"cache-control": "max-age=60, must-revalidate"}, 60.0),
        ({"expires": "Thu, 26 Nov 2026 10:00:00 GMT"}, 3600.0),
        ({"cache-control": "no-cache", "expires": "Thu, 26 Nov 2026 10:00:00 GMT"}, None),
        ({"expires": "Thu, 26 Nov 2026 10:00:00 +99999999999999"}, None),
        ({}, None),
    ],
)
def test_cache_lifetime(headers: dict[str, str], lifetime: float | None) -> None:
    assert cache_lifetime(headers, NOW) == lifetime


def test_backoff_doubles_from_the_interval_up_to_the_cap() -> None:
    delays = [backoff(n, 600, 6 * HOUR, rand=0.5) for n in range(1, 10)]
    assert delays[:4] == [600, 1200, 2400, 4800]
    assert delays[-1] == 6 * HOUR
    assert delays == sorted(delays)


def test_backoff_jitter_stays_within_ten_percent() -> None:
    assert backoff(2, 600, 6 * HOUR, rand=0.0) == pytest.approx(1080)
    assert backoff(2, 600, 6 * HOUR, rand=0.999) == pytest.approx(1320, abs=1)


def test_success_goes_to_the_regular_time() -> None:
    regular = NOW + timedelta(minutes=10)
    assert next_due(now=NOW, regular=regular, interval=600, max_backoff=6 * HOUR) == regular


def test_cache_lifetime_only_pushes_later() -> None:
    regular = NOW + timedelta(minutes=10)
    later = next_due(now=NOW, regular=regular, interval=600, max_backoff=6 * HOUR, lifetime=3600)
    assert later == NOW + timedelta(hours=1)
    sooner = next_due(now=NOW, regular=regular, interval=600, max_backoff=6 * HOUR, lifetime=60)
    assert sooner == regular


@pytest.mark.parametrize(
    "lifetime",
    # A year; past the calendar's end (max-age=999999999999, an Expires in
    # 9999), which raised OverflowError and ended the build; 5,000 digits.
    [365 * 86400, 999999999999.0, float("9" * 5000)],
)
def test_absurd_cache_lifetime_is_capped(lifetime: float) -> None:
    regular = NOW + timedelta(minutes=10)
    due = next_due(now=NOW, regular=regular, interval=600, max_backoff=6 * HOUR, lifetime=lifetime)
    assert due == regular + timedelta(hours=6)


def test_retry_after_is_honoured_even_past_the_cap_up_to_a_day() -> None:
    regular = NOW + timedelta(minutes=10)
    due = next_due(
        now=NOW, regular=regular, interval=600, max_backoff=HOUR, failures=1, wait=5 * HOUR
    )
    assert due == NOW + timedelta(hours=5)
    huge = next_due(
        now=NOW, regular=regular, interval=600, max_backoff=HOUR, failures=1, wait=30 * 86400
    )
    assert huge == NOW + timedelta(days=1)


def test_failing_source_is_retried_at_the_cap_for_ever() -> None:
    regular = NOW + timedelta(minutes=10)
    due = next_due(
        now=NOW, regular=regular, interval=600, max_backoff=6 * HOUR, failures=50, rand=0.5
    )
    assert due == NOW + timedelta(hours=6)


def test_a_cron_source_is_next_due_at_its_cron_time_in_the_site_zone() -> None:
    """Every two hours on the hour, Moscow time: after 17:16 there (14:16
    UTC) comes 18:00 there, whatever the interval says."""
    after = datetime(2026, 11, 26, 14, 16, 4, tzinfo=UTC)
    due = regular_due(600, "0 */2 * * *", "Europe/Moscow", after)
    assert due == datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    assert regular_due(600, "", "Europe/Moscow", after) == after + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("weekdays", "expected"),
    [
        ("0", {"Sunday"}),
        ("7", {"Sunday"}),
        ("1", {"Monday"}),
        ("1-5", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
        ("6,0", {"Saturday", "Sunday"}),
        ("5-7", {"Friday", "Saturday", "Sunday"}),
        ("*/2", {"Sunday", "Tuesday", "Thursday", "Saturday"}),
        ("sun", {"Sunday"}),
        ("mon-fri", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
    ],
)
def test_a_cron_weekday_counts_from_sunday_as_crontab_does(
    weekdays: str, expected: set[str]
) -> None:
    """crontab(5): 0 and 7 are Sunday, 1 is Monday. APScheduler 3 counts
    from Monday, so `1-5` (working days) ran Tuesday to Saturday and `0`
    (Sunday) on Monday, while `7` was refused."""
    cron = f"0 12 * * {weekdays}"
    assert cron_problem(cron) == ""
    days = set()
    after = NOW
    for _ in range(14):
        after = regular_due(600, cron, "UTC", after + timedelta(minutes=1))
        days.add(after.strftime("%A"))
    assert days == expected


def test_a_cron_line_that_never_fires_is_refused() -> None:
    """30 February has no next time: the source fell back to its interval
    without a word."""
    assert "never" in cron_problem("0 0 30 2 *")
    assert cron_problem("0 0 29 2 *") == ""  # a leap day does come
