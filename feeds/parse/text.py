"""Parse stage for `type: text`: the visible text of a news page, one line per
block, neighbouring inline elements glued together with no space (the layout
of a crawler's text dump). Pure.

Three shapes on such a page make items; everything else is noise (photo
credits, the page's own body text, navigation such as "Все новости"):

- a news list: a date heading (``11 марта 2022``, ``Сегодня``) followed by
  headlines with the time glued in front (``14:52COLTA.RU заблокирована``);
  a headline with no heading above it has a time and no day (`_latest_at`);
- article cards: rubric lines, then the lead (a rubric or series name may be
  glued in front of it), then the date glued to the view count
  (``20 января 202212300`` is 20 January 2022 and 12,300 views);
- a featured headline: a rubric or series name glued in front of a headline,
  or rubric lines followed by one, with no date after it.

Rubric and series names come from config.yaml through the ParseContext; the
news list's rubrics from the source's `news_rubrics`.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feeds.dates import CLOCK_LEAD, read_for
from feeds.errors import ParseError
from feeds.model import Fetched, Item, ParseContext, Source, category_key
from feeds.parse.decode import cyrillic_codec, document_kind, text_codec

_TIMED = re.compile(r"^(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d) ?(?P<rest>\S.*)$")
#: The same on the 12-hour clock ("2:52 PMCOLTA.RU ..."): read so on a page
#: in English whose every headline's time is written so (`_twelve_hour_page`).
_TIMED_12 = re.compile(
    r"^(?P<hour>0?[1-9]|1[0-2]):(?P<minute>[0-5]\d) (?P<half>[AaPp]\.?[Mm]\.?)(?![a-z])"
    r" ?(?P<rest>\S.*)$"
)
# A year is four digits, so whatever follows it on a card's last line is the
# view count: "20 января 202212300" -> 2022 and 12300.
#: A day and month, either way round: "20 января", "January 20,".
_DAY_MONTH = r"(?:\d{1,2}\s+[^\W\d_]+\.?|[^\W\d_]+\.?\s+\d{1,2},?)"
#: The view count after the year: glued to it, or after a space, when it
#: may be written in groups of three ("12 300").
_VIEWS = r"(?:\d{1,9}|[ \xa0](?:\d{1,3}(?:[ \xa0\u202f]\d{3})+|\d{1,9}))"
_DATED_VIEWS = re.compile(rf"^(?P<date>{_DAY_MONTH}\s+(?P<year>\d{{4}}))(?P<views>{_VIEWS})$")
#: A card's date when it has no view count: a day, with its year or not
#: (a page of this year's cards prints none).
_CARD_DATE = re.compile(rf"^(?P<date>{_DAY_MONTH}(?:\s+(?P<year>\d{{4}}))?)(?:\s*(?:г\.?|года))?$")
# "11 марта 2022", "11 марта 2022 года", "11.03.2022", "March 11, 2022",
# each maybe followed by its weekday ("11 марта 2022, пятница"); "11/03/2022",
# "11.03.22", "2022-03-11".
_DAY_HEADING = re.compile(
    r"^(?:(?:\d{1,2}\s+[^\W\d_]+\.?(?:\s+\d{4})?(?:\s*(?:г\.?|года))?"
    r"|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|[^\W\d_]+\.?\s+\d{1,2}(?:,?\s+\d{4})?)(?:,\s*[^\W\d_]+)?"
    r"|\d{1,2}([./])\d{1,2}\1(?:\d{4}|\d{2})"
    r"|\d{4}-\d{2}-\d{2})$"
)
_WORD_HEADING = re.compile(
    r"^[^\W\d_]+(?:,\s*\d{1,2}\s+[^\W\d_]+\.?(?:\s+\d{4})?)?$"
    # "Friday, March 4, 2022": the month first after a weekday only ("Москва,
    # Май 9" is a dateline, not a day heading).
    r"|^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
    r",\s*[^\W\d_]+\.?\s+\d{1,2}(?:,?\s+\d{4})?$",
    re.IGNORECASE,
)
#: A card's date line cut short: "13", "13 янв", "13 января 20", "13 января 20221".
_CUT_DATE = re.compile(r"^\d{1,2}(?:\s+[^\W\d_]+\.?(?:\s+\d*(?:\s*[^\W\d_]+\.?)?)?)?$")
_CREDIT = re.compile(r"^(©|\(c\)|Фото:|Photo:)", re.IGNORECASE)
#: What may start the next word when two inline elements were glued: a
#: capital, a digit or an opening quote ("ИскусствоКуратор", "Specials«...").
_GLUE_NEXT = re.compile(r"[^\W_a-zа-яё]|[«\"'„“(\[]")
_MAX_HEADING = 40
#: A label: a name of one to five words, letters only ("Театр", "Arts & Design").
_LABEL = re.compile(r"^(?=.{1,40}$)[^\W\d_]+(?:[ '’&.-]+[^\W\d_]+){0,4}$")
#: Labels a card may have, past which a short line is read as no label.
_MOST_LABELS = 6
#: What names a day by its distance from today, and today itself.
_RELATIVE_DAY = re.compile(r"сегодня|вчера|позавчера|today|yesterday", re.IGNORECASE)
_TODAY = re.compile(r"сегодня|today", re.IGNORECASE)
#: What names a day with no digit in it: today, yesterday, a weekday.
_DAY_NAME = re.compile(
    r"сегодня|вчера|позавчера|today|yesterday"
    r"|понедельник|вторник|сред[аы]|четверг|пятниц|суббот|воскресень"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Vocabulary:
    """Rubric and series names, longest first so "Академическая музыка"
    wins over a shorter name it starts with."""

    #: A line that is a name alone, by `category_key` (as categories are
    #: matched: "Всё о кино" for "Все о кино"); glued names are peeled by
    #: their letters, case aside (`ordered`).
    rubrics: dict[str, str]
    series: dict[str, str]
    ordered: list[tuple[str, str, bool]] = field(default_factory=list)

    @classmethod
    def build(cls, rubric_names: tuple[str, ...], series_names: tuple[str, ...]) -> _Vocabulary:
        rubrics = {category_key(name): name for name in rubric_names if name}
        series = {category_key(name): name for name in series_names if name}
        ordered = [(name.casefold(), name, False) for name in rubric_names if name]
        ordered += [(name.casefold(), name, True) for name in series_names if name]
        ordered.sort(key=lambda entry: -len(entry[0]))
        return cls(rubrics, series, ordered)

    def split_glued(self, line: str) -> tuple[list[str], str, str]:
        """Peel known names glued to the front of `line`: (rubrics, series, rest)."""
        rubrics: list[str] = []
        series = ""
        start = 0  # of the rest: read in place (a copy of the rest for
        # every name peeled made 400 KB of glued names take 13 s)
        peeled = True
        while peeled:
            peeled = False
            for key, name, is_series in self.ordered:
                end = start + len(key)
                if line[start:end].casefold() != key:
                    continue
                if end == len(line):
                    # The last of several names glued together: a line of
                    # rubrics ("ЛитератураОбщество").
                    if not (rubrics or series):
                        continue
                elif not _glued(line[start:end], line[end : end + 2]):
                    continue
                if is_series:
                    series = series or name
                else:
                    rubrics.append(name)
                start = end
                peeled = True
                break
        return rubrics, series, line[start:]


def _glued(name: str, rest: str) -> bool:
    """Whether `name`, found at the start of a word, is a label glued to the
    next element rather than the start of a longer word: a label is printed
    with a capital, and a name in capitals followed by more capitals is one
    word in capitals ("КИНОТАВР", "ARTPLAY"), like "musicAeterna" is one."""
    if not _GLUE_NEXT.match(rest[0]) or name[0].islower():
        return False
    return not (name.isupper() and rest[:2].isupper() and rest[:2].isalpha())


@dataclass(slots=True)
class _Pending:
    """Rubric and series lines seen since the last item."""

    rubrics: list[str] = field(default_factory=list)
    series: str = ""

    def clear(self) -> None:
        self.rubrics.clear()
        self.series = ""


def parse(fetched: Fetched, source: Source, context: ParseContext) -> list[Item]:
    """Items from a page-text dump. Raises ParseError for a body that is not text."""
    text = _decode(fetched, source)
    kind = document_kind(text)
    if kind:
        # Read as text, its markup made no item, and the source said "ok,
        # 0 items" at every fetch: the wrong type went unnoticed for ever.
        reads = {
            "feed": "an RSS or Atom feed (type: feed",
            "json feed": "a JSON Feed (type: feed",
            "html": "an HTML page (type: html",
        }[kind]
        raise ParseError(source.name, f"not a page's text but {reads} reads it)", url=fetched.url)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    vocabulary = _Vocabulary.build(context.rubric_names, context.series_names)
    # Pages in English write the 12-hour clock; elsewhere capitals after a
    # time are a headline's ("10:30 PMI Германии").
    english = (context.language or "en").lower().startswith("en")
    clock = _TIMED_12 if english and _twelve_hour_page(lines) else _TIMED
    zone = ZoneInfo(context.timezone)
    news_categories = tuple(source.news_rubrics)

    items: list[Item] = []
    #: (title, time) of the headlines under a date heading.
    headed: set[tuple[str, str]] = set()
    pending = _Pending()
    day: date | None = None
    #: Whether `day` is named relative to the page's today (`Вчера`), and
    #: whether it is that today (`Сегодня`).
    relative = today = False
    #: Where in `items` the headlines under such a heading are.
    under_relative: list[int] = []
    under_today: list[int] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        index += 1
        folded = category_key(line)

        if folded in vocabulary.rubrics:
            pending.rubrics.append(vocabulary.rubrics[folded])
            day = None
            continue
        if folded in vocabulary.series:
            pending.series = vocabulary.series[folded]
            day = None
            continue

        timed = clock.match(line)
        if timed and not _DATED_VIEWS.match(line):
            at = _clock(timed)
            if day:
                headed.add((timed["rest"], f"{at:%H:%M}"))
                if relative:
                    under_relative.append(len(items))
                if today:
                    under_today.append(len(items))
            # With no date heading above it, the page gives the time only:
            # the date is a guess, and the id is made from the time instead.
            items.append(
                Item(
                    source=source.name,
                    title=timed["rest"],
                    published=(
                        datetime.combine(day, at, tzinfo=zone)
                        if day
                        else _latest_at(at, context.now, zone)
                    ),
                    time_only="" if day else f"{at:%H:%M}",
                    categories=news_categories,
                )
            )
            pending.clear()
            continue

        heading = _heading_date(line, context)
        if heading is not None:
            day = heading
            relative = not any(c.isdigit() for c in line) and bool(_RELATIVE_DAY.search(line))
            today = relative and bool(_TODAY.search(line))
            pending.clear()
            continue

        if _CREDIT.match(line):
            continue
        if _DATED_VIEWS.match(line):
            # The date line of a card with no lead (a picture's): the card
            # ends here, and its rubrics with it; they went to the next card.
            pending.clear()
            continue

        glued_rubrics, glued_series, rest = vocabulary.split_glued(line)
        if not rest:  # names only: the card's rubric line(s), glued together
            pending.rubrics.extend(glued_rubrics)
            pending.series = glued_series or pending.series
            day = None
            continue
        rubrics = list(dict.fromkeys([*pending.rubrics, *glued_rubrics]))
        series = glued_series or pending.series
        card = _DATED_VIEWS.match(following)
        dated = None if card else _CARD_DATE.match(following)
        if dated and (rubrics or series or dated["year"]):
            # A card with no view count: its date alone, unless it heads a
            # news list (a timed headline follows). With no rubric either,
            # a whole date (its year too) still makes it a card.
            # A day with no year on the dump's last line may be a date cut
            # before its year: left for the next, whole dump.
            last = index + 1 >= len(lines)
            after = "" if last else lines[index + 1]
            card = _CARD_DATE.match(following)
            if _TIMED.match(after) or (card and last and not card["year"]):
                card = None
        if card:
            index += 1
            published = _card_date(card["date"], context)
            views = card.groupdict().get("views")
            items.append(
                Item(
                    source=source.name,
                    title="",
                    summary=html.escape(rest, quote=False),
                    published=published,
                    categories=tuple(rubrics),
                    series=series,
                    views=int("".join(views.split())) if views else None,
                )
            )
        elif rubrics or series:
            if (pending.rubrics or pending.series) and _ends_here(lines, index):
                # The dump was cut inside its last card (no date line, or one
                # cut short): not a story yet; the next, whole dump has it.
                pending.clear()
                continue
            unglued = not (glued_rubrics or glued_series)
            if unglued and _one_more_label(line, lines, index, vocabulary):
                # A label among the card's that config.yaml names no rubric
                # after (yet): a category of the card, which `feeds rubrics`
                # lists as matched by none. It was a story of its own.
                pending.rubrics.append(line)
                continue
            items.append(
                Item(source=source.name, title=rest, categories=tuple(rubrics), series=series)
            )
        pending.clear()
        day = None if (rubrics or series) else day
    _page_of_the_day_before(items, under_relative, under_today, context.now, zone)
    # A headline of the same title and time under a date heading is an
    # earlier day's (a bulletin printed every day at 09:00): the one with no
    # heading is another story, so its id cannot be made from the time
    # alone; it takes the guessed day, as the next day's page will print.
    return [
        item.evolve(time_only="") if (item.title, item.time_only) in headed else item
        for item in items
    ]


def _one_more_label(line: str, lines: list[str], index: int, vocabulary: _Vocabulary) -> bool:
    """Whether `line` (not followed by a date), met after a card's label
    lines, is one more of them: a name of a few words, followed by at most
    a few more labels and then the card's lead with its date under it."""
    if not _label_like(line):
        return False
    for at in range(index, min(index + _MOST_LABELS, len(lines))):
        under = lines[at + 1] if at + 1 < len(lines) else ""
        if _DATED_VIEWS.match(under) or _CARD_DATE.match(under):
            return True  # lines[at] is the card's lead
        folded = category_key(lines[at])
        known = folded in vocabulary.rubrics or folded in vocabulary.series
        if not (known or _label_like(lines[at]) or not vocabulary.split_glued(lines[at])[2]):
            return False
    return False


def _label_like(line: str) -> bool:
    """A rubric's name, as a page prints one: a few words of letters, in
    sentence case ("Академическая музыка", "Кино и ТВ"). A name of several
    capitalised words ("Яков Друскин") is a short headline's."""
    if not _LABEL.match(line):
        return False
    later = line.split()[1:]
    return not any(word[:1].isupper() and not word.isupper() for word in later)


def _clock(timed: re.Match[str]) -> time:
    hour, half = int(timed["hour"]), timed.groupdict().get("half")
    if half:
        hour = hour % 12 + (12 if half[0] in "Pp" else 0)
    return time(hour, int(timed["minute"]))


def _twelve_hour_page(lines: list[str]) -> bool:
    """Whether the page writes its headlines' times on the 12-hour clock:
    two or more, and every one with its AM or PM. One line's capitals
    after a time are a headline's ("10:00 PMI в еврозоне", "9:30 AMD
    представила"): read as PM or AM, the headline lost its first letters
    and its time moved twelve hours."""
    timed = [line for line in lines if _TIMED.match(line) and not _DATED_VIEWS.match(line)]
    return len(timed) >= 2 and all(_TIMED_12.match(line) for line in timed)


def _page_of_the_day_before(
    items: list[Item],
    under_relative: list[int],
    under_today: list[int],
    now: datetime,
    zone: ZoneInfo,
) -> None:
    """A page made before midnight and read after it (a saved dump, a
    cache): its today is the fetch's yesterday, and every day it names
    relative to today is a day earlier too. Read as the fetch's today, its
    stories were dated up to a day ahead, and published again under new
    ids once the next day's page printed them under `Вчера`. Such a page's
    `Сегодня` lists two headlines or more, every one still to come at the
    fetch and the newest more than CLOCK_LEAD ahead. One headline ahead
    among others already past (an evening broadcast announced in the
    morning), or alone, is not that."""
    stamps = [_stamp(items[i].published) for i in under_today]
    if len(stamps) < 2 or min(stamps) <= now.timestamp():
        return
    if max(stamps) <= now.timestamp() + CLOCK_LEAD.total_seconds():
        return
    for i in under_relative:
        moment = items[i].published
        if moment is not None:
            local = moment.astimezone(zone)
            earlier = datetime.combine(local.date() - timedelta(days=1), local.time(), tzinfo=zone)
            items[i] = items[i].evolve(published=earlier)


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def _ends_here(lines: list[str], index: int) -> bool:
    """Whether nothing follows `lines[index - 1]` but, at most, a last line
    that is the start of a card's date. A footer line that merely starts
    with a digit ("18+", "2007–2024 © COLTA.RU") ends a whole page: the
    headline before it is a story."""
    rest = lines[index:]
    return not rest or (len(rest) == 1 and bool(_CUT_DATE.match(rest[0])))


def _latest_at(at: time, now: datetime, zone: ZoneInfo) -> datetime:
    """The last moment up to `now` when the clock in `zone` read `at`: the
    date of a headline with a time and no date heading above it. A news
    list runs newest first, so such a headline tops the list, with what
    came since the latest heading: today's news, or last night's when its
    time is still to come today. Never ahead of the fetch, and the day it
    was published when it is less than a day old; the date it would get
    under its heading on the next day's page."""
    here = now.astimezone(zone)
    moment = datetime.combine(here.date(), at, tzinfo=zone)
    # As moments: two datetimes of one zone compare as clock faces, which
    # on a day the clocks change is up to an hour off.
    if moment.timestamp() > now.timestamp():
        moment = datetime.combine(here.date() - timedelta(days=1), at, tzinfo=zone)
    return moment


def _heading_date(line: str, context: ParseContext) -> date | None:
    if len(line) > _MAX_HEADING:
        return None
    if not (_DAY_HEADING.match(line) or _WORD_HEADING.match(line)):
        return None
    if not any(c.isdigit() for c in line) and not _DAY_NAME.search(line):
        # A month ("Май") or another word alone names no day: dateparser
        # gave it today's day of that month, a date that moved every day,
        # and with it the ids of the headlines under it.
        return None
    found = read_for(line, context)
    return found.date() if found else None


def _card_date(text: str, context: ParseContext) -> datetime | None:
    found = read_for(text, context)
    if found is None:
        return None
    # A card gives the day only: its start in the source's time zone.
    return datetime.combine(found.date(), time(), tzinfo=ZoneInfo(context.timezone))


def _decode(fetched: Fetched, source: Source) -> str:
    body = fetched.body
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    for mark, codec in _UTF16_MARKS:
        # As Windows tools save text: the mark says which, beyond doubt.
        if body.startswith(mark):
            return body[len(mark) :].decode(codec, errors="replace").replace("\x00", "")
    match = re.search(r"charset=([\w.:-]+)", fetched.headers.get("content-type", ""), re.I)
    declared = text_codec(match.group(1)) if match else None
    # Letters beyond ASCII in valid UTF-8 do not happen by chance: they
    # outrank the header, as on HTML pages (a host moved to UTF-8 whose
    # server still says windows-1251 made every title mojibake).
    encodings = ["utf-8"] if not body.isascii() else []
    encodings += [declared] if declared else []
    # Russian text not in UTF-8: windows-1251 or KOI8-R, by its letters
    # (told only when needed: the test reads every byte).
    encodings += ["utf-8", ""]
    for encoding in encodings:
        try:
            text = _damaged_utf8(body) if not encoding else None
            text = text or body.decode(encoding or cyrillic_codec(body) or "cp1251")
        except UnicodeDecodeError:
            continue
        nuls = text.count("\x00")
        if nuls:
            if nuls * 100 > len(text):
                break  # binary, or UTF-16: not a text dump in this encoding
            text = text.replace("\x00", "")  # a stray one costs nothing else
        return text
    raise ParseError(
        source.name,
        "the body is not text in a known encoding (binary, or UTF-16 without a byte-order mark)",
        url=fetched.url,
    )


_UTF16_MARKS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _damaged_utf8(body: bytes) -> str | None:
    """`body` as UTF-8 when it is UTF-8 but for a few bytes (a dump cut
    inside a letter, a stray windows-1251 quote pasted in), else None. Read
    in a single-byte encoding such a page is mojibake from end to end, or
    fails on a byte windows-1251 lacks. Text in a single-byte encoding is
    seldom valid UTF-8 at all: one bad sequence in ten letters is a safe
    margin. A letter cut in half at the very end is dropped."""
    # Not final: a sequence cut short at the end is held back, not replaced.
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(body, final=False)
    bad = text.count("\ufffd")
    good = sum(1 for char in text if char > "\x7f") - bad
    # Called once strict UTF-8 has failed: something is damaged.
    return text if good >= 10 * max(bad, 1) else None
