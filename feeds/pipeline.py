"""The pipeline: runs the stages in order.

    per source (worker threads):   fetch -> parse -> normalise -> classify
    in transactions:               store (items, rubrics, source state)
    then:                          render -> publish (`feeds.output`)

Parsing runs in worker processes when there is enough of it
(`feeds.workers`); a big feed's body is cut into parts read at once there
(`_read_in_parts`). `run_once` is one full cycle over every source (`feeds build`);
`run_source` is one source's turn in the service, and `publish_pending`
re-renders only the feeds such turns changed. A `SourceError` is recorded
in the result and logged with the source's name; the other sources go on.
Any other exception is a bug and propagates.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import (
    BrokenExecutor,
    CancelledError,
    Executor,
    Future,
    ThreadPoolExecutor,
)
from contextlib import closing, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, TypeVar

from feeds.classify import Vocabulary, classify_item, keep_item
from feeds.errors import (
    FeedsError,
    FetchError,
    ParseError,
    SourceError,
    StoreError,
    describe_bug,
)
from feeds.fetch import Fetcher, Validators
from feeds.model import (
    MAX_ITEMS_PER_FETCH,
    Config,
    Fetched,
    Item,
    ParseContext,
    Rubric,
    Rule,
    RunReport,
    Source,
    SourceResult,
    text_allowed,
)
from feeds.normalise import (
    LinkTitles,
    link_titles,
    normalise_item,
    plausible_date,
    sanitise_html,
    shared_across,
    shared_links,
)
from feeds.parse import follower_for, noted_parser_for, parser_for, too_many, too_much_text
from feeds.publish import prepare_dir
from feeds.render import (
    ARCHIVE_FORMATS,
    archive_name,
)
from feeds.store import (
    Attempt,
    Forgotten,
    RunLock,
    SourceState,
    Store,
    Upserted,
    Writer,
    no_store_yet,
)
from feeds.timing import PAGE_TRIES, cache_lifetime, next_due, regular_due, retry_ends

if TYPE_CHECKING:
    from feeds.parse.fast import Facts
    from feeds.parse.feed import OfWhole

from feeds.output import Announce, all_published, file_names, publish_feeds, render_key
from feeds.workers import ForParts, cpu_pool, submit

_T = TypeVar("_T")

log = logging.getLogger("feeds")

#: A full run commits after about this many items (and at its end).
COMMIT_EVERY_ITEMS = 5000


@dataclass(frozen=True, slots=True)
class _Collected:
    """What a worker brings back for one source."""

    source: Source
    items: tuple[Item, ...] = ()
    error: str = ""
    status: int = 0
    not_modified: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    size: int = 0
    moved_to: str = ""
    retry_after: float | None = None
    #: The feed read instead of the page, when the page advertised one.
    followed: str = ""
    seconds: float = 0.0
    #: Article pages fetched for `full_content`, to keep in the store:
    #: (url, sanitised content, published).
    pages: tuple[tuple[str, str, datetime | None], ...] = ()
    #: Not fetched: its server asked for no request before then.
    waiting_until: datetime | None = None
    #: Article pages of `full_content` that could not be fetched: (url,
    #: what went wrong), counted in the store as tried.
    failed_pages: tuple[tuple[str, str], ...] = ()
    #: Article pages of `full_content` left for the next run (out of the
    #: run's share or its time-out, or failed with tries left): its next
    #: fetch asks for the whole feed, since a 304 would give no items to
    #: find them from.
    pages_left: bool = False


def run_once(
    config: Config, *, now: datetime, on_result: Callable[[SourceResult], None] | None = None
) -> RunReport:
    """One full cycle over every source, then render and publish every feed.
    Raises StoreError and PublishError; a failing source does not raise."""
    lock = RunLock(config.storage_url, "build")
    lock.acquire(on_wait=log.warning)
    output = RunLock.for_output(config.output_dir, "build")
    try:
        output.acquire(on_wait=log.warning)
        return _run_once_locked(config, now=now, on_result=on_result)
    except KeyboardInterrupt:
        # Ctrl-C ends the helpers writing archive pages before they clean
        # up: their temporaries go now, while this run holds the lock.
        with suppress(FeedsError):
            prepare_dir(config.output_dir)
        raise
    finally:
        output.release()
        lock.release()


def _run_once_locked(
    config: Config, *, now: datetime, on_result: Callable[[SourceResult], None] | None
) -> RunReport:
    prepare_dir(config.output_dir)
    results: list[SourceResult] = []
    with Store(config.storage_url) as store:
        # One query for all: 1,000 look-ups cost an unchanged cycle 0.1 s.
        known = {state.name: state for state in store.source_states()}
        states = {
            source.name: known.get(source.name) or SourceState(name=source.name)
            for source in config.sources
        }
        # Sources never read yet will send a body for sure; the others
        # probably answer 304 and need no worker.
        unread = sum(1 for s in states.values() if not (s.etag or s.last_modified))
        changed = False
        # The fetcher and the worker processes are gone before publishing,
        # which forks its own helpers when there is much to write.
        with (
            Fetcher(
                config.site.base_url,
                per_host=config.per_host,
                host_delay=config.host_delay,
                allow_private=config.allow_private,
            ) as fetcher,
            cpu_pool(len(config.sources), eager=unread > 0) as cpu,
            store.bulk(),
            store.transaction(),
            # Closed here, not when collected: an interrupt while storing
            # calls off the fetches in flight (see _collect_all) at once.
            closing(_collect_all(config, fetcher, states, now, cpu)) as collecting,
        ):
            # Each source's items live only while stored: none is left in
            # memory when publishing forks its helpers.
            recorded = (
                (
                    collected.source,
                    _record(
                        store,
                        config,
                        _with_full_content(config, collected, store, fetcher, now),
                        states[collected.source.name],
                        now,
                    ),
                )
                for collected in collecting
            )
            stored = 0
            for source, (result, touched) in recorded:
                # Logged as stored, before the commit of every few thousand
                # items: one that fails ends the build with its error.
                _log_stored(source, result)
                if touched is not None and not changed:
                    # Forget the key with the first change, in its
                    # transaction: if this run dies before publishing, the
                    # next one renders.
                    store.set_meta("render_key", "")
                changed = changed or touched is not None
                results.append(result)
                if on_result is not None:
                    on_result(result)
                stored += result.items
                if stored >= COMMIT_EVERY_ITEMS:
                    # A run killed half-way keeps what it stored; and a
                    # write-ahead log kept short is cheaper to search.
                    store.commit_so_far()
                    stored = 0
            key = render_key(config)
        # Nothing new, the same feeds configured, every file in place:
        # rendering would only prove the files are already right.
        if changed or store.meta("render_key") != key or not all_published(config, store):
            written, unchanged = publish_feeds(config, store, parallel=True, now=now)
            with store.transaction():
                store.set_meta("render_key", key)
                store.set_meta("pending_rubrics", "")
        else:
            written, unchanged = (), len(file_names(config))
    return RunReport(
        started=now,
        results=in_config_order(config, results),
        written=written,
        unchanged=unchanged,
    )


def forget_stories(
    config: Config, keys: list[str], *, now: datetime
) -> tuple[list[Forgotten], list[str], tuple[str, ...]]:
    """Take stories out of the store for good (`feeds forget`), each named
    by its id or link, and rewrite what listed them: the current documents,
    and the archive pages that held them (a page on disk is otherwise never
    rewritten). Takes the locks a build takes: with a service running, it
    raises and changes nothing. Returns (forgotten, keys that named no
    story, files written)."""
    if no_store_yet(config.storage_url):
        return [], list(keys), ()
    lock = RunLock(config.storage_url, "forget")
    lock.acquire(on_wait=log.warning)
    output = RunLock.for_output(config.output_dir, "forget")
    try:
        output.acquire(on_wait=log.warning)
        prepare_dir(config.output_dir)
        with Store(config.storage_url) as store:
            with store.transaction():
                forgotten, missing = store.forget(keys, now)
                if forgotten:
                    # Until a publish succeeds, the next build renders every
                    # feed (the files on disk still list the story).
                    store.set_meta("render_key", "")
                # Removed before the commit: a crash in between leaves pages
                # that the next publish writes again, never a page still
                # listing a story the store no longer holds. (Pages of a
                # rubric no longer configured are removed, not written.)
                for story in forgotten:
                    for slug, number in story.pages:
                        for suffix in ARCHIVE_FORMATS:
                            page = config.output_dir / archive_name(slug, number, suffix)
                            page.unlink(missing_ok=True)
            written: tuple[str, ...] = ()
            if forgotten:
                written, _unchanged = publish_feeds(config, store, now=now)
                with store.transaction():
                    store.set_meta("render_key", render_key(config))
    finally:
        output.release()
        lock.release()
    return forgotten, missing, written


def in_config_order(config: Config, results: Iterable[SourceResult]) -> tuple[SourceResult, ...]:
    """Results in the order their sources are configured (they come in the
    order the sources finished)."""
    order = {source.name: index for index, source in enumerate(config.sources)}
    return tuple(sorted(results, key=lambda result: order[result.source]))


def run_source(
    config: Config,
    source: Source,
    *,
    store: Store,
    fetcher: Fetcher,
    now: datetime,
    stopped: threading.Event | None = None,
    cpu: Executor | None = None,
    writer: Writer | None = None,
    fetched: Callable[[], None] | None = None,
) -> SourceResult:
    """One source's turn in the service: fetch, then store in one
    transaction, noting which rubric feeds changed; `publish_pending`
    renders them (the service does it once for a burst of sources). A 304
    costs no parsing. With `cpu`, a worker process parses the body; the
    fetch stays here, where `fetcher.stop()` can end it. With `writer`,
    that thread stores it (with the other runs that end meanwhile), else
    `store`, which reads the source's state in any case. When `stopped` is
    set by the time the fetch ends, nothing is stored: the run never
    happened. `fetched` is called once the source is fetched and parsed,
    before its items are stored."""
    state = store.source_state(source.name)
    context = _context(config, source, now)
    collected = collect_source(source, fetcher, state, context, config, cpu)
    if stopped is not None and stopped.is_set():
        return SourceResult(source=source.name, error="stopped before storing")
    # Article pages are fetched before the transaction: other sources'
    # runs store meanwhile. Stopping aborts those fetches too, and items
    # without the text they wait for are not stored either.
    collected = _with_full_content(config, collected, store, fetcher, now)
    if fetched is not None:
        fetched()
    if stopped is not None and stopped.is_set():
        return SourceResult(source=source.name, error="stopped before storing")

    def stored(target: Store) -> SourceResult:
        nonlocal collected
        result, changed = _record(target, config, collected, state, now)
        # Its items are in the store's transaction now: not kept in memory
        # while the commit waits for other runs' writes.
        collected = replace(collected, items=(), pages=(), failed_pages=())
        if changed is not None:
            # Remembered with the change, until a publish of them succeeds.
            _add_pending(target, changed)
            target.set_meta("render_key", "")
        return result

    if writer is not None:
        result = writer.write(stored)
    else:
        with store.transaction():
            result = stored(store)
    _log_stored(source, result)
    return result


def record_failure(
    config: Config,
    source: Source,
    error: str,
    *,
    store: Store,
    now: datetime,
) -> SourceResult:
    """Record a failed run that is not the fetch's (its parsing worker kept
    dying) as a source's failure, with its back-off."""
    state = store.source_state(source.name)
    with store.transaction():
        result, _changed = _record(
            store, config, _Collected(source=source, error=error), state, now
        )
    _log_stored(source, result)
    return result


def publish_pending(
    config: Config,
    store: Store,
    helpers: Executor | None = None,
    *,
    everything: bool = False,
    stopping: threading.Event | None = None,
    announce: Announce | None = None,
) -> tuple[tuple[str, ...], int] | None:
    """Render the feeds that stored changes touched since the last time
    (their rubrics' feeds and the combined one), or with `everything` all
    of them, as `publish_feeds` does; None when there were none. They stay
    pending until a publish of them has succeeded: one that raises
    (PublishError, StoreError) or is killed leaves them for the next. Once
    `stopping` is set, the WebSub hub gets one short try per feed."""
    with store.transaction():
        pending = _pending(store)
        serial = store.meta("pending_serial")
    if pending is None and not everything:
        return None
    published = publish_feeds(
        config,
        store,
        only=None if everything else pending,
        helpers=helpers,
        stopping=stopping,
        announce=announce,
    )
    with store.transaction():
        # Cleared only if no run noted a change since they were read: that
        # change may have come after its feed was rendered. Publishing a
        # feed twice costs a render; missing a change would cost a story.
        if store.meta("pending_serial") == serial:
            store.set_meta("pending_rubrics", "")
    return published


def _pending(store: Store) -> frozenset[str] | None:
    """Rubric feeds changed in the store and not yet published (None: none)."""
    text = store.meta("pending_rubrics")
    return frozenset(json.loads(text)) if text else None


def _add_pending(store: Store, rubrics: frozenset[str]) -> None:
    """Note a stored change to these rubrics' feeds, in its transaction."""
    known = _pending(store) or frozenset()
    store.set_meta("pending_rubrics", json.dumps(sorted(known | rubrics)))
    store.set_meta("pending_serial", str(int(store.meta("pending_serial") or 0) + 1))


@dataclass(frozen=True, slots=True)
class Preview:
    """What one source would yield now, and why fields came out empty."""

    source: Source
    items: tuple[Item, ...] = ()
    notes: tuple[str, ...] = ()
    dropped: int = 0
    error: str = ""
    #: Each item's place on the source, counting items the filters dropped:
    #: the number the notes call it by.
    numbers: tuple[int, ...] = ()


def preview_source(config: Config, source: Source, *, now: datetime) -> Preview:
    """Fetch one source and run it through every stage but the store:
    nothing is written. For writing selectors and rules without guessing."""
    vocabulary = _vocabulary(config)
    with Fetcher(
        config.site.base_url,
        per_host=config.per_host,
        host_delay=0,
        allow_private=config.allow_private,
    ) as fetcher:
        try:
            fetched, parsed_as = _follow(fetcher.fetch, source, fetcher.fetch(source))
            parse = noted_parser_for(parsed_as.type)
            parsed, parser_notes = parse(fetched, parsed_as, _context(config, source, now))
            parsed = _guids_dropped(parsed, source)
            shared = shared_links(parsed)
            pairs = [
                (item, classify_item(normalise_item(item, now, shared), vocabulary, source.rubrics))
                for item in parsed
            ]
        except SourceError as exc:
            return Preview(source=source, error=str(exc))
        except Exception as exc:  # a bug met on this source: said as such
            return Preview(source=source, error=str(SourceError(source.name, describe_bug(exc))))
    # Numbered as parsed, as the parser's notes number them, before the
    # filters drop any.
    kept = [
        (number, raw, item)
        for number, (raw, item) in enumerate(pairs, 1)
        if keep_item(item, source.include, source.exclude)
    ]
    notes = list(parser_notes)
    if not parsed and not notes:
        notes.append(_NOTHING_FOUND[parsed_as.type])
    if parsed_as is not source:
        notes.insert(0, f"the page advertises its own feed; read {parsed_as.url} instead")
    notes += [note for number, raw, item in kept for note in _empty_fields(number, raw, item)]
    collapsed = one_id_for_many(item for _number, _raw, item in kept)
    if collapsed is not None:
        notes.append(_collapsed_note(*collapsed))
    return Preview(
        source=source,
        items=tuple(item for _number, _raw, item in kept),
        notes=tuple(notes),
        dropped=len(pairs) - len(kept),
        numbers=tuple(number for number, _raw, _item in kept),
    )


#: Why a source gave no item at all, by type, where its parser says nothing.
_NOTHING_FOUND = {
    "feed": "the feed lists no items (no <item> or <entry> in it)",
    "text": "no story found: no date heading with timed headlines, no card ending in a "
    "date, no rubric glued to a headline (see 'type: text' in the README)",
    "html": "no item found on the page",
}


def _empty_fields(number: int, raw: Item, item: Item) -> list[str]:
    """A line for each field of `item` that came out empty, and why; `raw`
    is the item as parsed, before normalising."""
    notes = []
    if item.published is None:
        notes.append(f"item {number}: date: none on the source; dated when first seen")
    elif item.time_only:
        notes.append(
            f"item {number}: date: the source gives the time only ({item.time_only}); "
            "the day is the latest it can be"
        )
    if not item.link:
        basis = "time" if item.time_only else "date"
        given = raw.link.strip()
        why = (
            f"{given!r} is not a web address a reader can open (http/https, a valid host and port)"
            if given
            else "none"
        )
        identity = (
            "the id is the source's guid"
            if item.guid
            else f"the id is derived from source, title and {basis}"
        )
        notes.append(f"item {number}: link: {why}; {identity}")
    if not item.summary and not item.content:
        if raw.summary.strip() or raw.content.strip():
            why = "what the source gives is all script, style or markup, removed by clean-up"
        else:
            why = "the source gives none"
        notes.append(f"item {number}: summary: empty; {why}")
    if not item.rubrics:
        categories = ", ".join(repr(c) for c in item.categories) or "none"
        notes.append(f"item {number}: rubrics: none (categories: {categories})")
    return notes


def reading_key(config: Config, source: Source) -> str:
    """A digest of what decides how a source's items come out: the settings
    of it that shape items (not its schedule or limits), the rubrics' names,
    the rules and the series. When it changes, the next
    fetch asks for the whole body (no validators) and the items the source
    still lists are stored, and tagged, anew. Its last half is the source's
    own part (`source_key`)."""
    return _vocabulary_key(config.rubrics, config.rules, config.series) + source_key(source)


def source_key(source: Source) -> str:
    """The source's own part of its `reading_key`: its settings that shape
    items, without the vocabulary (which every source shares)."""
    shaping = (
        source.name,
        source.type,
        source.location,
        source.rubrics,
        source.news_rubrics,
        source.timezone,
        source.language,
        source.include,
        source.exclude,
        source.selectors,
        source.full_content,
        source.guids,
    )
    return hashlib.sha256(repr(shaping).encode()).hexdigest()[:12]


@lru_cache(maxsize=4)
def _vocabulary_key(
    rubrics: tuple[Rubric, ...], rules: tuple[Rule, ...], series: tuple[str, ...]
) -> str:
    """A digest of what of the vocabulary tags items (not descriptions,
    limits or formats), once per config rather than once per source."""
    names = tuple((rubric.slug, rubric.title, rubric.aliases) for rubric in rubrics)
    return hashlib.sha256(repr((names, rules, series)).encode()).hexdigest()[:12]


def _vocabulary(config: Config) -> Vocabulary:
    # Built once per run, not cached by config: hashing a config of a
    # thousand sources once per source made a cycle quadratic.
    return Vocabulary.of(config.rubrics, config.rules)


def _context(config: Config, source: Source, now: datetime) -> ParseContext:
    return ParseContext(
        now=now,
        timezone=source.timezone or config.site.timezone,
        rubric_names=tuple(name for rubric in config.rubrics for name in rubric.names),
        series_names=config.series,
        language=source.language or config.site.language,
    )


def _collect_all(
    config: Config,
    fetcher: Fetcher,
    states: dict[str, SourceState],
    now: datetime,
    cpu: Executor | None,
) -> Generator[_Collected, None, None]:
    """Every source's outcome, in config order, with at most a window of
    them fetched and not yet handed on: memory stays flat however many
    sources there are. When the first is not done and the window is full,
    those done behind it go first."""
    workers = max(1, min(config.concurrency, len(config.sources)))
    window = max(4 * workers, 32)
    vocabulary = _vocabulary(config)
    dispatch = _ByHost(workers, config.per_host, config.host_delay, room=window)
    pending: deque[Future[_Collected]] = deque()
    # Ctrl-C or an error while the sources are still being submitted ends
    # the threads too: they have started on the first ones already.
    try:
        for source in config.sources:
            until = states[source.name].waiting(source.location, now)
            if until is not None:
                # A build has no schedule to put the source off with: it
                # keeps to the server's Retry-After by not asking.
                waiting: Future[_Collected] = Future()
                waiting.set_result(_Collected(source=source, waiting_until=until))
                pending.append(waiting)
                continue
            job = partial(
                collect_source,
                source,
                fetcher,
                states[source.name],
                _context(config, source, now),
                config,
                cpu,
                vocabulary,
            )
            pending.append(dispatch.submit(Fetcher.host_of(source), job))
        # Results are stored in config order, not completion order: when two
        # sources bring the same story in the same run, the first source in
        # config.yaml gives it its id. Unless waiting for one would stop the
        # fetching: a slow server, or one that never answers, held every
        # source `window` places behind it until its time-out, and a thousand
        # sources with a few such took the sum of their time-outs.
        while pending:
            head = pending[0]
            ready = deque([head] if head.done() else ())
            if not ready and dispatch.starved():
                # All of them: each one handed on lets the threads fetch
                # another while these are stored.
                ready = deque(future for future in pending if future.done())
            if not ready:
                with suppress(TimeoutError):
                    head.result(timeout=0.1)
                continue
            # Each one let go of as it is handed on: the threads fetch its
            # replacement while the rest of `ready` is stored.
            while ready:
                future = ready.popleft()
                pending.remove(future)
                dispatch.hand_on(future)
                collected = future.result()
                del future
                if not pending and cpu is not None:
                    # The last source is in: the workers end now, not once
                    # it is stored (each holds tens of megabytes).
                    cpu.shutdown(wait=False)
                yield collected
    except BaseException:
        # Ctrl-C, or the store failing (then the consumer closes this): the
        # fetches in flight end now, not at their time-outs, and the waiting
        # ones never start.
        fetcher.stop()
        raise
    finally:
        dispatch.close()


class _ByHost:
    """A build's fetch threads. Each takes the first job, in the order
    given, whose host has a turn now: fewer than `per_host` of its jobs
    under way and `delay` past the last start. A thread never waits out one
    host's turn while another host's source could go: with each host's
    sources listed together (a site's section feeds), threads queued up
    behind one host: 200 sources on 50 hosts, 1 s apart on each, took 46 s;
    11 s now. (The fetcher's own per-host gate still holds.) The threads
    take no more than `room` jobs whose outcomes are not handed on."""

    def __init__(self, threads: int, per_host: int, delay: float, *, room: int) -> None:
        self._per_host = max(1, per_host)
        self._delay = max(0.0, delay)
        # At least one per thread, or an idle thread could find none done.
        self._room = max(threads, room)
        self._cond = threading.Condition()
        self._waiting: list[tuple[str, Callable[[], _Collected], Future[_Collected]]] = []
        self._taken: set[Future[_Collected]] = set()
        self._busy: dict[str, int] = {}
        self._next_start: dict[str, float] = {}
        self._closed = False
        #: Threads waiting with no job they may take now.
        self._idle = 0
        self._threads = [
            threading.Thread(target=self._run, name=f"feeds-source_{number}", daemon=True)
            for number in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, host: str, job: Callable[[], _Collected]) -> Future[_Collected]:
        """`job`'s outcome, once a thread has run it in `host`'s turn
        ('' for none: a local file)."""
        future: Future[_Collected] = Future()
        with self._cond:
            self._waiting.append((host, job, future))
            self._cond.notify()
        return future

    def hand_on(self, future: Future[_Collected]) -> None:
        """`future`'s outcome is taken out: room for another job."""
        with self._cond:
            if future in self._taken:
                self._taken.remove(future)
                self._room += 1
                self._cond.notify()

    def starved(self) -> bool:
        """Whether jobs wait only for outcomes to be handed on: a thread is
        idle, with jobs queued and no room to take one."""
        with self._cond:
            return self._room <= 0 and self._idle > 0 and bool(self._waiting)

    def close(self) -> None:
        """Cancel what no thread has taken, and wait for the threads to end
        what they took (`Fetcher.stop` first ends it at once)."""
        with self._cond:
            self._closed = True
            for _host, _job, future in self._waiting:
                future.cancel()
            self._waiting.clear()
            self._cond.notify_all()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()

    def _take(self) -> tuple[str, Callable[[], _Collected], Future[_Collected]] | None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                soonest = float("inf")
                for index, (host, job, future) in enumerate(self._waiting if self._room else ()):
                    if host and self._busy.get(host, 0) >= self._per_host:
                        continue
                    start = self._next_start.get(host, 0.0) if host else 0.0
                    if start > now:
                        soonest = min(soonest, start)
                        continue
                    del self._waiting[index]
                    self._room -= 1
                    self._taken.add(future)
                    if host:
                        self._busy[host] = self._busy.get(host, 0) + 1
                        self._next_start[host] = now + self._delay
                    return host, job, future
                self._idle += 1
                try:
                    self._cond.wait(None if soonest == float("inf") else soonest - now)
                finally:
                    self._idle -= 1
            return None

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            host, job, future = taken
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(job())
                    except BaseException as exc:
                        future.set_exception(exc)
            finally:
                if host:
                    # The turn it frees is this thread's to use next (its
                    # next take): no other thread need wake for it.
                    with self._cond:
                        self._busy[host] -= 1


def process_fetched(
    fetched: Fetched, source: Source, context: ParseContext, vocabulary: Vocabulary
) -> tuple[tuple[Item, ...], str]:
    """Parse, normalise, classify and filter one fetched body: (items, error).
    An error nothing expected (a bug met on this body) fails this source
    alone, and says so."""
    try:
        parsed = _guids_dropped(parser_for(source.type)(fetched, source, context), source)
        too_many(len(parsed), source, fetched.url)
        too_much_text(parsed, source, fetched)
        kept = _finished(parsed, source, context, vocabulary, shared_links(parsed))
    except SourceError as exc:
        return (), str(exc)
    except Exception as exc:
        return (), str(ParseError(source.name, describe_bug(exc)))
    return kept, ""


def _guids_dropped(parsed: list[Item], source: Source) -> list[Item]:
    """The items of a source whose guids are no ids (`guids: false`) as if
    it gave none."""
    if source.guids:
        return parsed
    return [item.evolve(guid="") if item.guid else item for item in parsed]


def one_id_for_many(items: Iterable[Item]) -> tuple[str, int] | None:
    """The id a fetch gives most often to entries with other links and
    titles, and to how many (None when it gives none so): the store keeps
    the first of them, and a source that gives every entry one guid (the
    site's address) loses all its other stories."""
    firsts: dict[str, Item] = {}
    counts: dict[str, int] = {}
    for item in items:
        first = firsts.setdefault(item.id, item)
        if first is not item and first.link != item.link and first.title != item.title:
            counts[item.id] = counts.get(item.id, 1) + 1
    if not counts:
        return None
    top = max(counts, key=counts.__getitem__)
    return top, counts[top]


def _collapsed_note(item_id: str, count: int) -> str:
    return (
        f"{count} entries with different links and titles have one id ({item_id}): "
        "only the first is stored; if the source gives every entry the same guid, "
        "set 'guids: false' for it in config.yaml"
    )


def _finished(
    parsed: list[Item],
    source: Source,
    context: ParseContext,
    vocabulary: Vocabulary,
    shared: frozenset[str],
) -> tuple[Item, ...]:
    """Parsed items normalised, classified and filtered."""
    items = (
        classify_item(normalise_item(item, context.now, shared), vocabulary, source.rubrics)
        for item in parsed
    )
    if source.include or source.exclude:
        items = (item for item in items if keep_item(item, source.include, source.exclude))
    kept = tuple(items)
    for item in kept:
        item.fingerprint()  # here, in the worker, rather than in the store
    return kept


#: A feed body from this size on is cut into parts of about PART_BYTES of
#: entries each, which the worker processes read at once (see
#: `_read_in_parts`).
PARTS_FROM = 2 << 20
PART_BYTES = 1 << 19
#: Parts handed to the workers ahead of the one waited for.
PARTS_AHEAD = 4


@dataclass(frozen=True, slots=True)
class _PartRead:
    """What a worker brings back for one part of a document."""

    items: tuple[Item, ...]
    #: Characters of text in its entries as parsed (see `too_much_text`).
    text: int
    links: LinkTitles
    facts: Facts


def process_part(
    fetched: Fetched,
    source: Source,
    context: ParseContext,
    vocabulary: Vocabulary,
    whole: OfWhole,
    entries: int,
) -> _PartRead | None:
    """`process_fetched` for one part of a document cut by `cut_in_parts`,
    which holds `entries` entries; None when the part is not read as the
    whole would be (the fast path declines it) or cannot be read: the
    whole document decides, and gives the error."""
    from feeds.parse.feed import parse_part  # loaded with the first feed

    try:
        read = parse_part(fetched, source, context, whole, entries)
        if read is None:
            return None
        parsed, facts = read
        parsed = _guids_dropped(parsed, source)
        too_much_text(parsed, source, fetched)
        links = link_titles(parsed)
        items = _finished(parsed, source, context, vocabulary, links.shared)
    except Exception:
        return None
    text = sum(len(item.title) + len(item.summary) + len(item.content) for item in parsed)
    return _PartRead(items, text, links, facts)


def _read_in_parts(
    pool: Executor,
    fetched: Fetched,
    source: Source,
    context: ParseContext,
    vocabulary: Vocabulary,
) -> tuple[Item, ...] | None:
    """A big feed document's items, read by the worker processes a part at
    a time, all of them at once: 10,000 entries in 20 MB took 0.85 s in
    one process. The same items as `process_fetched` gives, in the same
    order; None when the document is to be read whole: it cannot be cut,
    a part does not read as the whole would (the fast path declines it,
    or the parts' document facts differ, which the whole's reading hangs
    on), or the parts together break a limit of the whole or give a link
    to stories of two parts (which `shared_links` of the whole would
    see). The parts are made as they are handed on: a few of them exist
    at a time."""
    from feeds.parse.fast import (  # loaded with the first feed
        document_facts,
        guids_read_alike,
        ids_missing,
    )
    from feeds.parse.feed import cut_in_parts
    from feeds.parse.parts import part_bodies

    if source.type != "feed" or len(fetched.body) < PARTS_FROM:
        return None
    try:
        cutting = cut_in_parts(fetched, PART_BYTES)
    except Exception:
        return None  # a body the whole's reading will say what is wrong with
    if cutting is None or cutting.cut.entries > MAX_ITEMS_PER_FETCH:
        return None
    cut = cutting.cut
    bodies = zip(part_bodies(cutting.fetched.body, cut), cut.counts, strict=True)
    ahead: deque[Future[_PartRead | None]] = deque()

    def hand_on() -> None:
        body, entries = next(bodies, (b"", 0))
        if body:
            part = replace(cutting.fetched, body=body)
            ahead.append(
                submit(
                    pool, process_part, part, source, context, vocabulary, cutting.whole, entries
                )
            )

    for _ in range(PARTS_AHEAD):
        hand_on()
    # The facts of the whole, found here while the workers read the first
    # parts: each part's reading hangs on its own, which are the whole's
    # in a feed whose entries are alike (and where they are not, the
    # whole may be read otherwise: it is read whole).
    try:
        whole = document_facts(cutting.fetched, context.timezone)
    except Exception:
        whole = None  # the whole's reading will say what is wrong with it
    reads: list[_PartRead] = []
    while ahead:
        read = ahead.popleft().result()
        if whole is None or read is None or not read.facts.read_as(whole):
            for future in ahead:
                future.cancel()
            return None
        reads.append(read)
        hand_on()
    if sum(read.text for read in reads) > text_allowed(len(fetched.body)):
        return None
    linked = [read.facts.linked_ids for read in reads]
    if cutting.whole.has_ids and any(linked) and ids_missing(cutting.fetched.body, cut.entries):
        # Entries without ids beside others with ids: whether their links
        # are shared is the whole's to say (`_guid_less_share_links`).
        return None
    if cutting.whole.marked and any(linked) and not all(linked):
        # The whole's guids are looked into (for an entry of one part), and
        # those of a part whose own were not may have the whole declined.
        try:
            if not guids_read_alike(cutting.fetched.body, cut.entries):
                return None
        except Exception:
            return None
    # Each part's items took their ids by its own shared links: they must
    # be the whole's (a link two stories of one part share, and a story of
    # another part has too).
    shared = shared_across(read.links for read in reads)
    if any(shared.intersection(read.links.titles) != read.links.shared for read in reads):
        return None
    log.debug("source '%s': %d entries read in %d parts", source.name, cut.entries, cut.parts)
    return tuple(item for read in reads for item in read.items)


def collect_source(
    source: Source,
    fetcher: Fetcher,
    state: SourceState,
    context: ParseContext,
    config: Config,
    cpu: Executor | None = None,
    vocabulary: Vocabulary | None = None,
) -> _Collected:
    """Fetch, parse, normalise and classify one source; a SourceError becomes
    an error in the result. The fetch is made here, by this thread, so that
    a run fetches `fetch.concurrency` sources at once however many cores
    parse; with `cpu`, a worker process parses the body that came."""
    if state.gone_url and state.gone_url == source.location:
        return _Collected(
            source=source,
            status=410,
            error=f"source '{source.name}': paused: {source.location} answered 410 Gone; "
            "change its url in config.yaml to resume",
        )
    validators = Validators(etag=state.etag, last_modified=state.last_modified)
    if state.read_as != reading_key(config, source):
        # Read last under another config or vocabulary: the whole body, so
        # that items still on the source are tagged as configured now.
        validators = Validators()
    if vocabulary is None:
        vocabulary = _vocabulary(config)
    try:
        return _fetch_and_process(fetcher.fetch, source, validators, context, vocabulary, cpu=cpu)
    except (BrokenExecutor, CancelledError):
        raise  # the workers died, or the service is stopping: not the source's doing
    except Exception as exc:
        # A bug met on this source's answer: it fails alone, and says so.
        return _Collected(source=source, error=str(SourceError(source.name, describe_bug(exc))))


def _fetch_and_process(
    fetch: Callable[[Source, Validators], Fetched],
    source: Source,
    validators: Validators,
    context: ParseContext,
    vocabulary: Vocabulary,
    cpu: Executor | None = None,
) -> _Collected:
    started = time.monotonic()
    try:
        fetched = fetch(source, validators)
    except FetchError as exc:
        return _Collected(
            source=source,
            error=str(exc),
            status=exc.status,
            retry_after=exc.retry_after,
            seconds=time.monotonic() - started,
        )
    if fetched.not_modified:
        return _Collected(
            source=source,
            status=fetched.status,
            not_modified=True,
            headers=tuple(fetched.headers.items()),
            moved_to=fetched.moved_to,
            seconds=time.monotonic() - started,
        )
    page = fetched
    parsed_as = source
    try:
        fetched, parsed_as = _follow(fetch, source, fetched)
    except SourceError as exc:
        return _Collected(source=source, error=str(exc), seconds=time.monotonic() - started)
    parts = None if cpu is None else _read_in_parts(cpu, fetched, parsed_as, context, vocabulary)
    if parts is not None:
        items, error = parts, ""
    elif cpu is None or (isinstance(cpu, ForParts) and len(fetched.body) < PARTS_FROM):
        items, error = process_fetched(fetched, parsed_as, context, vocabulary)
    else:
        parsing = submit(cpu, process_fetched, fetched, parsed_as, context, vocabulary)
        items, error = parsing.result()
    return _Collected(
        source=source,
        items=items,
        error=error,
        status=page.status,
        # The page's validators, so an unchanged page still costs a 304.
        headers=tuple(page.headers.items()),
        size=len(page.body) + (len(fetched.body) if fetched is not page else 0),
        moved_to=page.moved_to,
        followed=parsed_as.url if parsed_as is not source else "",
        seconds=time.monotonic() - started,
    )


#: Article pages fetched per source and run, and at once, for full_content.
FULL_CONTENT_PER_RUN = 25
FULL_CONTENT_AT_ONCE = 4


def _with_full_content(
    config: Config, collected: _Collected, store: Store, fetcher: Fetcher, now: datetime
) -> _Collected:
    """For a `full_content` source: each item's own page, fetched once and
    kept in the store (by `_record`, with the items), gives the item its
    whole text (and its date, if the source gave none). A page that fails
    is tried again on the next runs, `PAGE_TRIES` in all. Writes nothing."""
    source = collected.source
    if not source.full_content or not collected.items:
        return collected
    # Loaded only when a source wants whole articles: trafilatura and
    # htmldate take a fifth of a second to import, on every run.
    from feeds.extract import Article, extract_article

    # Not for a story taken out with `feeds forget`: upsert leaves it out.
    links = [item.link for item in store.without_forgotten(collected.items) if item.link]
    pages = store.pages(links)
    unread = [link for link in dict.fromkeys(links) if link not in pages]
    tried = store.page_tries(unread)
    # A page that failed on every run allowed is not asked for again.
    missing = [link for link in unread if tried.get(link, 0) < PAGE_TRIES]
    context = _context(config, source, now)
    # The pages of one run share the source's time-out, plus the spacing
    # its host asks between them: 25 pages that never answer, four at a
    # time, held a build (and the sources stored after this one) six times
    # that long. Those left are fetched next run.
    todo = missing[:FULL_CONTENT_PER_RUN]
    deadline = time.monotonic() + source.timeout + config.host_delay * len(todo)
    late: list[str] = []
    failed: list[tuple[str, str]] = []

    def article(link: str) -> tuple[str, Article | None]:
        if time.monotonic() >= deadline:
            late.append(link)
            return link, None
        page = replace(source, type="html", url=link, path=None, selectors=())
        try:
            found = extract_article(fetcher.fetch(page, until=deadline), context)
        except Exception as exc:
            error = exc.detail if isinstance(exc, SourceError) else describe_bug(exc)
            failed.append((link, error))
            tries = tried.get(link, 0) + 1
            log.warning(
                "source '%s': article %s: %s; %s",
                source.name,
                link,
                error,
                f"tried again next run ({tries} of {PAGE_TRIES} tries)"
                if tries < PAGE_TRIES
                else f"given up after {PAGE_TRIES} tries: the item keeps the source's text",
            )
        else:
            if found.refused:
                # Kept as read, with nothing in it: not fetched again, and
                # the item keeps its source's text.
                log.warning(
                    "source '%s': article %s: not read: %s; the item keeps the source's text",
                    source.name,
                    link,
                    found.refused,
                )
            return link, found
        return link, None

    fetched = []
    with ThreadPoolExecutor(FULL_CONTENT_AT_ONCE, thread_name_prefix="feeds-article") as pool:
        for link, found in pool.map(article, todo):
            if found is None:
                continue
            content = sanitise_html(found.content, link)
            # A page's date is kept only if it could be an item's: the store
            # keeps it, and one at the calendar's end cannot even be stored.
            published = plausible_date(found.published, now)
            fetched.append((link, content, published))
            pages[link] = (content, published)
    if late:
        log.warning(
            "source '%s': %d article pages left for the next run: out of its time-out",
            source.name,
            len(late),
        )
    retried = any(tried.get(link, 0) + 1 < PAGE_TRIES for link, _error in failed)
    left = bool(late) or len(missing) > len(todo) or retried
    items = []
    for item in collected.items:
        content, published = pages.get(item.link, ("", None))
        items.append(
            item.evolve(
                content=content or item.content,
                published=item.published or plausible_date(published, now),
            )
        )
    return replace(
        collected,
        items=tuple(items),
        pages=tuple(fetched),
        failed_pages=tuple(failed),
        pages_left=left,
    )


def _follow(
    fetch: Callable[[Source, Validators], Fetched], source: Source, fetched: Fetched
) -> tuple[Fetched, Source]:
    """A page that advertises its own feed is read through that feed (for
    source types that say so, such as `html` without selectors).
    Raises SourceError."""
    follow = follower_for(source.type)
    url = follow(fetched, source) if follow is not None else ""
    if not url:
        return fetched, source
    feed = replace(source, type="feed", url=url, path=None)
    return fetch(feed, Validators()), feed


def _record(
    store: Store,
    config: Config,
    collected: _Collected,
    state: SourceState,
    now: datetime,
) -> tuple[SourceResult, frozenset[str] | None]:
    """Store one source's outcome. Returns its result and the rubric slugs
    whose feeds changed (None when nothing changed). An error nothing
    expected, met on what this source sent (its headers, its items),
    makes it a failing source, and says so: the run goes on without its
    items (it ended the whole build, with nothing published)."""
    try:
        return _record_outcome(store, config, collected, state, now)
    except StoreError:
        raise
    except Exception as exc:
        if collected.error and not collected.headers and collected.retry_after is None:
            raise  # nothing of the source's own is left to blame
        error = SourceError(collected.source.name, describe_bug(exc))
        failed = replace(
            collected, items=(), pages=(), failed_pages=(), headers=(), retry_after=None
        )
        return _record_outcome(store, config, replace(failed, error=str(error)), state, now)


def _record_outcome(
    store: Store,
    config: Config,
    collected: _Collected,
    state: SourceState,
    now: datetime,
) -> tuple[SourceResult, frozenset[str] | None]:
    source = collected.source
    if collected.waiting_until is not None:
        return SourceResult(source=source.name, waiting_until=collected.waiting_until), None
    headers = dict(collected.headers)
    failures = 0 if not collected.error else state.failures + 1
    due = next_due(
        now=now,
        regular=regular_due(source.interval, source.cron, config.site.timezone, now),
        interval=source.interval,
        max_backoff=config.schedule.max_backoff,
        failures=failures,
        wait=collected.retry_after,
        lifetime=None if collected.error else cache_lifetime(headers, now),
        rand=random.random(),
    )
    if collected.error:
        gone = collected.status == 410
        health = "gone" if gone else "failing"
        store.record_attempt(
            source.name,
            Attempt(
                now=now,
                error=collected.error,
                status=collected.status,
                seconds=collected.seconds,
                next_due=due,
                health=health,
                gone_url=source.location if gone else "",
                retry_until=None
                if collected.retry_after is None
                else retry_ends(now, collected.retry_after),
                retry_url=source.location if collected.retry_after is not None else "",
            ),
        )
        result = SourceResult(
            source=source.name,
            error=collected.error,
            status=collected.status,
            seconds=collected.seconds,
            health=health,
            next_due=due,
        )
        return result, None

    health = ""
    if collected.not_modified:
        health = "" if state.health in ("failing", "gone") else state.health
    elif not collected.items and (state.last_items or state.health == "empty"):
        # Flagged until it lists items again: it went back to "ok" at the
        # next fetch, one interval after monitoring could first see it.
        health = "empty"
        if state.last_items:
            log.warning(
                "source '%s': no items this time (%d last time): has the page or feed changed?",
                source.name,
                state.last_items,
            )
    if collected.followed:
        log.info(
            "source '%s': the page advertises its own feed; read %s instead",
            source.name,
            collected.followed,
        )
    if collected.moved_to:
        log.warning(
            "source '%s': permanent redirect to %s; update its url in config.yaml",
            source.name,
            collected.moved_to,
        )
    collapsed = one_id_for_many(collected.items)
    if collapsed is not None:
        log.warning("source '%s': %s", source.name, _collapsed_note(*collapsed))
    try:
        upserted = Upserted()  # a 304, or nothing listed: nothing to store
        if collected.items or collected.pages or collected.failed_pages:
            with store.savepoint():
                for url, content, published in collected.pages:
                    store.save_page(url, content, published, now)
                for url, problem in collected.failed_pages:
                    store.page_failed(url, problem, now)
                if collected.items:
                    upserted = store.upsert(list(collected.items), now=now, live=_names(config))
    except Exception as exc:
        # Undone alone: the other sources of the run keep what they stored,
        # and this one is a failing source, with its back-off. (If the
        # store cannot record even that, the run fails as it would have.)
        # An error nothing expected (a bug met on these items) says so.
        reason = str(exc) if isinstance(exc, StoreError) else describe_bug(exc)
        error = SourceError(source.name, f"could not store its items: {reason}")
        failed = replace(collected, items=(), pages=(), failed_pages=(), error=str(error))
        return _record_outcome(store, config, failed, state, now)
    etag, last_modified = _validators_kept(collected, headers)
    store.record_attempt(
        source.name,
        Attempt(
            now=now,
            status=collected.status,
            items=None if collected.not_modified else len(collected.items),
            etag=etag,
            last_modified=last_modified,
            not_modified=collected.not_modified,
            bytes=collected.size,
            seconds=collected.seconds,
            next_due=due,
            health=health,
            moved_to=collected.moved_to,
            read_as=reading_key(config, source),
            read_from=state.read_as,
        ),
    )
    result = SourceResult(
        source=source.name,
        status=collected.status,
        not_modified=collected.not_modified,
        items=len(collected.items),
        new=upserted.new,
        updated=upserted.updated,
        seconds=collected.seconds,
        health=health,
        moved_to=collected.moved_to,
        next_due=due,
    )
    return result, upserted.rubrics if upserted.changed else None


def _validators_kept(
    collected: _Collected, headers: dict[str, str]
) -> tuple[str | None, str | None]:
    """The validators the next fetch sends (ETag, Last-Modified). A 304
    that carries some replaces the stored ones (RFC 9111 4.3.4): a server
    whose tag changed then matches only the new one; one that carries none
    keeps them (None). None (""), when article pages are left for the next
    run."""
    if collected.pages_left:
        return "", ""
    if collected.not_modified:
        return headers.get("etag"), headers.get("last-modified")
    return headers.get("etag", ""), headers.get("last-modified", "")


def _log_stored(source: Source, result: SourceResult) -> None:
    """The line a stored run gets in the log: once it is committed (a run
    whose commit fails says so instead)."""
    if not result.ok:
        log.warning("%s", result.error)
        return
    if result.waiting_until is not None:
        log.info(
            "source '%s': not fetched: its server asked for no request before %s (Retry-After)",
            source.name,
            result.waiting_until.isoformat(),
            extra={"source": source.name},
        )
        return
    if result.not_modified:
        # Its items are as they were: "0 items" read as if it had none.
        log.info(
            "source '%s': not modified in %.2f s",
            source.name,
            result.seconds,
            extra={"source": source.name, "status": result.status, "new": 0},
        )
        return
    log.info(
        "source '%s': %s in %.2f s, %d items, %d new, %d updated",
        source.name,
        f"HTTP {result.status}" if source.url.startswith("http") else "read",
        result.seconds,
        result.items,
        result.new,
        result.updated,
        extra={"source": source.name, "status": result.status, "new": result.new},
    )


_named: tuple[tuple[Source, ...], frozenset[str]] = ((), frozenset())


def _names(config: Config) -> frozenset[str]:
    """The names of the sources configured, made once per config (not
    once per source: a thousand sources a cycle)."""
    global _named
    if _named[0] is not config.sources:
        _named = (config.sources, frozenset(source.name for source in config.sources))
    return _named[1]
