"""When to fetch a source next: pure decisions, `now` always passed in.

Rules (see the README, "Polite fetching"):

- after a success, the source's regular time (its interval or cron);
  a `Cache-Control: max-age` or `Expires` answer only ever pushes that later;
- after a failure, exponential back-off from the interval, doubled per
  consecutive failure, capped at `max_backoff`, with +-10 % jitter, and
  never earlier than a `Retry-After` the server gave; a failing source is
  retried at the cap for ever, never dropped;
- nothing is pushed later than `max_backoff` past the regular time, so a
  bogus year-long max-age cannot silence a source.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from feeds.model import mail_date

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
MAX_RETRY_AFTER = 86400.0
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


#: Runs that try an article page of a `full_content` source that cannot
#: be fetched (its host down, a time-out, an error status) before its item
#: keeps the source's text.
PAGE_TRIES = 3

#: The longest interval, delay or back-off a config may give.
MAX_DURATION = 365 * 86400.0


def parse_duration(value: object) -> float:
    """Seconds in `30`, `45s`, `10m`, `1h30m`, `2d`. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        elif text and _DURATION.sub("", text) == "":
            seconds = sum(float(n) * _UNITS[u.lower()] for n, u in _DURATION.findall(text))
        else:
            raise ValueError(f"not a duration: {value!r} (use e.g. 45s, 10m, 1h30m, 2d)")
    else:
        raise ValueError(f"not a duration: {value!r}")
    if not seconds > 0:  # NaN too
        raise ValueError(f"a duration must be greater than 0, got {value!r}")
    if seconds > MAX_DURATION:
        raise ValueError(f"a duration must be at most a year (365d), got {value!r}")
    return seconds


def retry_after(value: str, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks us to wait (delta or HTTP date)."""
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():  # "²" is a digit to str.isdigit
        return float(text)
    when = mail_date(text)
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def cache_lifetime(headers: dict[str, str], now: datetime) -> float | None:
    """How long the answer says it stays fresh: Cache-Control max-age, else
    Expires. None when it says nothing (or forbids caching)."""
    control = headers.get("cache-control", "").lower()
    if "no-store" in control or "no-cache" in control:
        return None
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", control)
    if match:
        return float(match.group(1))
    expires = headers.get("expires", "")
    if expires:
        when = mail_date(expires)
        if when is not None and when.tzinfo is not None:
            return max(0.0, (when - now).total_seconds())
    return None


def backoff(failures: int, interval: float, max_backoff: float, rand: float) -> float:
    """Seconds to wait after `failures` consecutive failures; `rand` in
    [0, 1) gives the jitter (+-10 %)."""
    cap = max(max_backoff, interval)
    delay = min(cap, interval * 2.0 ** max(0, failures - 1))
    return min(cap, delay * (0.9 + 0.2 * rand))


def next_due(
    *,
    now: datetime,
    regular: datetime,
    interval: float,
    max_backoff: float,
    failures: int = 0,
    wait: float | None = None,
    lifetime: float | None = None,
    rand: float = 0.5,
) -> datetime:
    """When to fetch next. `regular` is the source's own next time (interval
    or cron) counted from `now`; `failures` the consecutive failures so far
    (0 after a success); `wait` a Retry-After in seconds; `lifetime` the
    freshness the last answer declared."""
    limit = regular + timedelta(seconds=max(max_backoff, interval))
    if failures:
        due = now + timedelta(seconds=backoff(failures, interval, max_backoff, rand))
    else:
        due = regular
    if lifetime is not None:
        # Capped before it is added: a max-age of 999999999999 s, or an
        # Expires in the year 9999, is past the calendar's end.
        lifetime = min(lifetime, max(0.0, (limit - now).total_seconds()))
        due = max(due, now + timedelta(seconds=lifetime))
    due = min(due, limit)
    if wait is not None:
        # The server's explicit wish wins over the cap, up to a day.
        due = max(due, retry_ends(now, wait))
    return due


def retry_ends(now: datetime, wait: float) -> datetime:
    """When a Retry-After of `wait` seconds, received at `now`, ends: at
    most MAX_RETRY_AFTER later."""
    return now + timedelta(seconds=min(wait, MAX_RETRY_AFTER))


def regular_due(interval: float, cron: str, timezone: str, after: datetime) -> datetime:
    """A source's own next time after `after`: its cron's next time (in
    the site's `timezone`) when it has one, else `interval` seconds on."""
    if cron:
        from zoneinfo import ZoneInfo

        trigger = _crontab(cron, ZoneInfo(timezone))
        fire = trigger.get_next_fire_time(None, after)
        if fire is not None:
            return fire.astimezone(UTC)  # type: ignore[no-any-return]
    return after + timedelta(seconds=interval)


def cron_problem(cron: str) -> str:
    """What the scheduler finds wrong with a crontab line ('' when
    nothing): read by APScheduler itself, so a schedule that passes here
    is one it will run. Imported here, not at the top: most configs have
    no cron and this module stays light."""
    try:
        trigger = _crontab(cron, UTC)
    except (ValueError, TypeError) as exc:
        return str(exc)
    # 30 February: APScheduler gives no next time, and the source would
    # silently fall back to the interval.
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is None:
        return "it never fires (no such day)"
    return ""


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_DAY_PART = re.compile(r"(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?")


def _crontab(cron: str, timezone: Any) -> Any:
    """APScheduler's CronTrigger for a crontab line. APScheduler 3 counts
    weekday numbers from Monday (0 = Monday, 6 = Sunday) where crontab counts
    from Sunday (0 and 7 = Sunday): a weekday field with numbers is turned
    into day names first, so `1-5` stays Monday to Friday."""
    from apscheduler.triggers.cron import CronTrigger

    fields = cron.split()
    if len(fields) == 5 and re.search(r"\d", fields[4]):
        fields[4] = _crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def _crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0-7, Sunday 0 and 7; names; ranges, lists,
    steps) as a list of day names. Raises ValueError."""

    def day(text: str) -> int:
        if text.isdigit() and int(text) <= 7:
            return int(text)
        if text.lower() in _CRON_DAYS:
            return _CRON_DAYS.index(text.lower())
        raise ValueError(f"{text!r} is not a weekday (0-7 or sun-sat)")

    days: set[int] = set()
    for part in field.split(","):
        match = _CRON_DAY_PART.fullmatch(part)
        if not match:
            raise ValueError(f"unrecognised weekday {part!r}")
        step = int(match[4]) if match[4] else 1
        if step < 1:
            raise ValueError("Increment must be higher than 0")
        if match[1] == "*":
            first, last = 0, 6
        else:
            first = day(match[2])
            last = day(match[3]) if match[3] else (7 if match[4] else first)
        if first > last:
            raise ValueError("The minimum value in a range must not be higher than the maximum")
        days.update(number % 7 for number in range(first, last + 1, step))
    return ",".join(_CRON_DAYS[number] for number in sorted(days))
