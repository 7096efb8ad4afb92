"""The files a run writes: the feeds' specs read from the store, rendered
and published when they changed, archive pages, hub pings."""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import (
    Executor,
    Future,
)
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from feeds import __version__
from feeds.errors import (
    PublishError,
)
from feeds.fetch import notify_hub
from feeds.model import (
    ARCHIVE_DIR,
    COMBINED,
    FEED_FORMATS,
    ArchivePage,
    Config,
    Item,
)
from feeds.publish import NewFiles, publish_file
from feeds.render import (
    ARCHIVE_FORMATS,
    STYLESHEET,
    ArchiveEntry,
    FeedSpec,
    archive_formats,
    archive_name,
    archive_row_entry,
    render_archive,
    render_feed,
    render_index,
    render_opml,
    stylesheet,
)
from feeds.store import Store
from feeds.words import words_for
from feeds.workers import core_count, forked_pool, submit

log = logging.getLogger("feeds")


#: Items a feed's arrival time is read from: SQLite takes up to 32,766
#: parameters in one statement.
_MOST_PARAMETERS = 30_000


def feed_specs(config: Config, store: Store, now: datetime | None = None) -> list[FeedSpec]:
    """The combined feed and one feed per rubric, with their newest items.
    `now` (else the clock's) is when a feed an entry left says it changed."""
    now = now or datetime.now(UTC)
    labels = {rubric.slug: rubric.title for rubric in config.rubrics}
    created = store.created()
    site = config.site

    def spec(
        rubric: str | None, slug: str, title: str, description: str, limit: int, **extra: Any
    ) -> FeedSpec:
        total = store.count(rubric)
        items = tuple(
            _rubrics_configured(item, labels) for item in store.latest(rubric, limit, members=total)
        )
        # The last change a reader can see: an item's edit or date, or the
        # arrival of the newest one. By dates alone it went backwards when a
        # new story with an older date pushed out a recently edited one.
        stamps = [item.updated or item.published for item in items]
        stamps.append(store.first_stored([item.id for item in items[:_MOST_PARAMETERS]]))
        # An empty feed's is when the store was made, or `now` where that
        # is earlier (a build `--now` in the past, reproducible; or a build
        # that made its store in the second after it started). In whole
        # seconds, as the store keeps it (see `steady_updated`).
        updated = max(
            (stamp for stamp in stamps if stamp is not None),
            default=min(created, now.replace(microsecond=0)),
        )
        return FeedSpec(
            slug=slug,
            title=title,
            description=description,
            items=items,
            updated=store.steady_updated(slug, updated, [item.id for item in items], now),
            total=total,
            labels=labels,
            **extra,
        )

    specs = [
        spec(
            None,
            COMBINED,
            site.title,
            # No description: the feed's title stands in, in the site's own
            # language (a made-up English one read oddly on a Russian site).
            site.description,
            config.max_items,
        )
    ]
    for rubric in config.rubrics:
        specs.append(
            spec(
                rubric.slug,
                rubric.slug,
                f"{rubric.title} — {site.title}",
                rubric.description,
                rubric.max_items or config.max_items,
                formats=rubric.formats,
            )
        )
    return specs


def _rubrics_configured(item: Item, labels: dict[str, str]) -> Item:
    """The item with only the rubrics config.yaml has now: a story keeps a
    rubric removed or renamed since (see the README), but a category
    naming a rubric with no feed, and no title, is not published."""
    if all(slug in labels for slug in item.rubrics):
        return item
    return item.evolve(rubrics=tuple(slug for slug in item.rubrics if slug in labels))


def render_key(config: Config) -> str:
    """A digest of everything that shows in the files: the config's part,
    and the code that renders them (an upgrade that changes what a file
    says re-renders every file once, even with nothing new)."""
    shown = (
        __version__,
        _renderer(),
        config.site,
        config.rubrics,
        config.max_items,
        config.archive_page_size,
        str(config.output_dir),
    )
    return hashlib.sha256(repr(shown).encode()).hexdigest()


@lru_cache(maxsize=1)
def _renderer() -> str:
    """A digest of the code and the stylesheet that make the files."""
    digest = hashlib.sha256(stylesheet())
    for module in (render_feed, feed_specs, words_for):
        with suppress(OSError):  # installed without sources: the version counts
            digest.update(Path(inspect.getfile(module)).read_bytes())
    return digest.hexdigest()


def file_names(config: Config) -> list[str]:
    names = [f"{COMBINED}.{suffix}" for suffix in FEED_FORMATS]
    names += [f"{r.slug}.{suffix}" for r in config.rubrics for suffix in (*r.formats, "opml")]
    return [*names, "feeds.opml", "index.html", STYLESHEET]


def all_published(config: Config, store: Store) -> bool:
    """Every file of the feeds in place, archive pages included (a page
    lost on its own is written again at the next build, not only when
    something changes)."""
    if not all((config.output_dir / name).is_file() for name in file_names(config)):
        return False
    formats = {COMBINED: FEED_FORMATS} | {rubric.slug: rubric.formats for rubric in config.rubrics}
    for slug, count in store.archive_page_counts().items():
        suffixes = archive_formats(formats.get(slug, ()))
        if not suffixes:
            continue  # a feed no longer published, or one without pages
        try:
            present = set(os.listdir(config.output_dir / ARCHIVE_DIR / slug))
        except OSError:
            return False
        if any(f"{n}.{s}" not in present for n in range(1, count + 1) for s in suffixes):
            return False
    return True


def publish_feeds(
    config: Config,
    store: Store,
    only: frozenset[str] | None = None,
    *,
    parallel: bool = False,
    helpers: Executor | None = None,
    stopping: threading.Event | None = None,
    announce: Announce | None = None,
    now: datetime | None = None,
) -> tuple[tuple[str, ...], int]:
    """Render the combined feed, the rubric feeds (all, or those in `only`),
    their new archive pages, the OPML list and the index; write the files
    whose bytes changed, and ping the WebSub hub for them (through
    `announce`, such as a `Pinger`, else here and now).
    When there are many archive pages, `helpers` (worker processes of the
    caller's) write them all, or with `parallel` this process shares them
    with helpers it forks. Returns (names written, number left untouched).
    Raises PublishError."""
    site = config.site
    with store.transaction():
        # Every spec once: the OPML list and the index need them all,
        # whatever feeds are rewritten. Pages that filled up are recorded
        # before anything is written: a run that dies below writes them
        # next time (files are checked).
        everything = feed_specs(config, store, now)
        archives = {
            spec.slug: store.archive_pages(
                spec.slug, config.archive_page_size, {item.id for item in spec.items}
            )
            for spec in everything
        }
    everything = [replace(spec, archived=len(archives[spec.slug])) for spec in everything]
    specs = [s for s in everything if only is None or s.slug == COMBINED or s.slug in only]
    # New archive pages first, the current documents link them (when there
    # are many, helpers finish theirs while this process renders the rest).
    archived = _publish_archives(config, store, specs, archives, parallel, helpers)
    # The current documents are rendered while this process's pages are
    # still being written out (and the helpers' synced); they are put in
    # place only after every page is.
    files: list[tuple[str, bytes]] = []
    try:
        for spec in specs:
            for suffix in spec.formats:
                files.append((spec.filename(suffix), render_feed(site, spec, suffix)))
            if spec.slug != COMBINED:
                # One rubric's feeds as OPML, for a partner who takes just that.
                files.append((spec.filename("opml"), render_opml(site, [spec], spec.title)))
        files.append(("feeds.opml", render_opml(site, everything)))
        files.append(("index.html", render_index(site, everything)))
        files.append((STYLESHEET, stylesheet(site.language)))
    except BaseException:
        archived.abort()
        raise
    names = archived.wait()
    if announce is None:
        announce = partial(_announce, stopping=stopping)
    if any(archives.values()) and (only is None or not _archive_owner(config)):
        # The pages on disk are this store's from now on. A publish of some
        # feeds says so too when nothing did yet: a service started on a new
        # store writes its first pages so, and never said whose they were
        # (a store rebuilt after a loss then took them for its own).
        _claim_archive(config, store)
    written: list[str] = []
    try:
        for name, data in files:
            if publish_file(config.output_dir, name, data):
                written.append(name)
    except PublishError:
        # The feeds written so far are out: their subscribers must hear of
        # them now, as the next publish finds them unchanged.
        announce(config, written)
        raise
    if only is None:
        _retire_files(config, store, [name for name, _data in files])
    announce(config, written)
    return (*names, *written), len(files) - len(written)


#: What takes the names of files just written, to ping the hub for them.
Announce = Callable[[Config, list[str]], None]


class Pinger:
    """The service's WebSub pings, sent in order from a thread of their
    own: a hub that is slow or down (three tries of up to 5 s per feed)
    holds up no publish. Pings that queue up meanwhile go out together,
    each feed once. Once `stopping` is set, what is still due gets one
    short try per feed."""

    def __init__(self, stopping: threading.Event) -> None:
        self._stopping = stopping
        self._queue: deque[tuple[Config, list[str]] | None] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def __call__(self, config: Config, written: list[str]) -> None:
        if not config.site.hub or not written:
            return
        with self._ready:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="feeds-ping", daemon=True)
                self._thread.start()
            self._queue.append((config, list(written)))
            self._ready.notify()

    def close(self, timeout: float) -> bool:
        """Send what is due, then end; False if that took over `timeout`
        seconds (the thread is left to the process's exit)."""
        with self._ready:
            thread = self._thread
            self._queue.append(None)
            self._ready.notify()
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                jobs = list(self._queue)
                self._queue.clear()
            due = [job for job in jobs if job is not None]
            if due:
                config = due[-1][0]  # the newest: the hub may have changed
                names = list(dict.fromkeys(name for _config, written in due for name in written))
                try:
                    _announce(config, names, self._stopping)
                except Exception:  # a bug: logged, and the pings go on
                    log.exception("WebSub pings failed")
            if len(due) < len(jobs):
                return


def _retire_files(config: Config, store: Store, published: list[str]) -> None:
    """Remove the feeds, OPML lists... that an earlier publish wrote and
    config.yaml no longer names (a rubric or a format taken out): served
    unchanged for ever, they would look alive to their subscribers. Only
    names this store recorded as published go; archive pages stay."""
    folder = str(config.output_dir)
    recorded = json.loads(store.meta("published_files") or "{}")
    # Per folder: names recorded for another output folder say nothing of
    # this one, and a folder returned to (output.dir moved and moved back)
    # still has what was published there before; those files were served
    # unchanged for ever. (Stores before this kept one folder's.)
    folders: dict[str, list[str]] = recorded.get("folders") or (
        {recorded["dir"]: recorded.get("files", [])} if "dir" in recorded else {}
    )
    before = folders.pop(folder, [])
    for name in sorted(set(before) - set(published)):
        try:
            (config.output_dir / name).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("%s: cannot remove this file, no longer published: %s", name, exc)
        else:
            log.info("%s: removed, config.yaml no longer publishes it", name)
    folders[folder] = sorted(published)  # the newest last
    kept = dict(list(folders.items())[-PUBLISHED_FOLDERS_KEPT:])
    with store.transaction():
        store.set_meta("published_files", json.dumps({"folders": kept}))


#: Output folders whose published names the store keeps (a release swapped
#: in with each deploy makes a new one every time).
PUBLISHED_FOLDERS_KEPT = 16


#: Rendered archive entries kept while writing pages: an item is on a page
#: of the combined feed and of each of its rubrics, written close together.
ARCHIVE_CACHE_ITEMS = 1000
#: From this many pages to write on, worker processes share the work.
ARCHIVE_PARALLEL_PAGES = 100

#: One archive page to write: the feed (without its items), the page, and
#: the formats missing on disk.
_PageTask = tuple[FeedSpec, ArchivePage, tuple[str, ...]]


class _ArchiveWrite:
    """Archive pages being written: this process's in `own` (written, not
    yet in place), the helpers' in `runs`. `wait` puts this process's in
    place and returns every page's file names once all are, or raises what
    went wrong (after every run ended); `abort` drops this process's."""

    def __init__(
        self,
        names: list[str],
        started: float,
        pages: int,
        own: NewFiles,
        runs: list[Future[None]] | None = None,
        helpers: Executor | None = None,
    ) -> None:
        self._names = names
        self._own = own
        self._runs = runs or []
        self._helpers = helpers
        self._started = started
        self._pages = pages

    def wait(self) -> list[str]:
        try:
            self._own.commit()
        except BaseException:
            self.abort()
            raise
        failures = self._end_runs()
        for failure in failures:
            if failure is not None:
                raise failure
        if self._names:
            took = time.monotonic() - self._started
            log.info(
                "archive: %d pages written (%d files) in %.2f s",
                self._pages,
                len(self._names),
                took,
            )
        return self._names

    def abort(self) -> None:
        self._own.abort()
        self._end_runs()

    def _end_runs(self) -> list[BaseException | None]:
        failures = [run.exception() for run in self._runs]
        if self._helpers is not None:
            self._helpers.shutdown()
        return failures


def _publish_archives(
    config: Config,
    store: Store,
    specs: list[FeedSpec],
    archives: dict[str, list[ArchivePage]],
    parallel: bool,
    helpers: Executor | None = None,
) -> _ArchiveWrite:
    """Write every archive page of these feeds that is not on disk yet (a
    page on disk is never rewritten: partners may keep it for ever).

    Pages of all feeds are written in step (by how far into its feed each
    page is), so an item's pages in several feeds come close together and
    its entries are rendered once, from a bounded cache. Many pages (a
    first run) are split in runs between this process and helpers forked
    for them, one per other core; the helpers' runs are still going when
    this returns."""
    todo: list[tuple[float, _PageTask]] = []
    # Pages on disk written from another store (this one rebuilt after a
    # loss, or pointed at an old output/) hold other items under the same
    # numbers: this store's pages are written over them.
    foreign = _archive_owner(config) not in ("", store.identity())
    if foreign:
        log.warning(
            "%s holds archive pages written from another store: writing this store's over them",
            config.output_dir / ARCHIVE_DIR,
        )
        _drop_foreign_pages(config, {slug: len(pages) for slug, pages in archives.items()})
        if not any(archives.values()):
            # None of the other store's pages is left, and this store has
            # none to write yet: the folder is this store's now. (Else the
            # warning came at every publish until its first page filled.)
            _claim_archive(config, store)
    for spec in specs:
        pages = archives.get(spec.slug, [])
        suffixes = archive_formats(spec.formats)
        folder = config.output_dir / ARCHIVE_DIR / spec.slug
        present = set(os.listdir(folder)) if pages and folder.is_dir() and not foreign else set()
        bare = replace(spec, items=())
        for page in pages:
            missing = tuple(s for s in suffixes if f"{page.number}.{s}" not in present)
            if missing:
                todo.append((page.last / pages[-1].last, (bare, page, missing)))
    todo.sort(key=lambda task: (task[0], task[1][0].slug, task[1][1].number))
    tasks = [task for _position, task in todo]
    names = [archive_name(spec.slug, page.number, s) for spec, page, kinds in tasks for s in kinds]
    started = time.monotonic()
    cores = core_count()
    many = cores > 1 and len(tasks) >= ARCHIVE_PARALLEL_PAGES
    forked = None
    if many and helpers is None and parallel:
        # Forked now, not kept from parsing: they start as a copy of this
        # process, and nothing of the parsing is left in them.
        forked = forked_pool(cores - 1)
    own = NewFiles(config.output_dir)
    runner = forked or helpers
    if not many or runner is None:
        pending = _ArchiveWrite(names, started, len(tasks), own)
        mine = tasks
    else:
        size = -(-len(tasks) // cores)
        # The caller's helpers take every run (this process has other
        # work: the service's storing); forked ones leave it the first.
        first = 0 if forked is None else size
        runs = [
            submit(runner, _archive_pages_in_worker, config, tasks[start : start + size])
            for start in range(first, len(tasks), size)
        ]
        pending = _ArchiveWrite(names, started, len(tasks), own, runs, forked)
        mine = tasks[:first]
    try:
        _write_archive_pages(config, store, mine, own)
    except BaseException:
        with suppress(Exception):
            pending.abort()
        raise
    return pending


#: Names the store the archive pages were written from (its identity).
ARCHIVE_OWNER = f"{ARCHIVE_DIR}/.store"


def _claim_archive(config: Config, store: Store) -> None:
    """Record the archive pages on disk as this store's."""
    publish_file(config.output_dir, ARCHIVE_OWNER, (store.identity() + "\n").encode())


def _archive_owner(config: Config) -> str:
    """The store the archive pages on disk were written from ('' when
    unknown: no pages yet, or written before this was recorded)."""
    try:
        return (config.output_dir / ARCHIVE_OWNER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _drop_foreign_pages(config: Config, counts: dict[str, int]) -> None:
    """Remove another store's pages numbered past this store's last page of
    their feed (all of them for a feed it has no pages of): left, they
    would later pass for this store's own."""
    top = config.output_dir / ARCHIVE_DIR
    for folder in top.iterdir() if top.is_dir() else ():
        if not folder.is_dir():
            continue
        for page in folder.iterdir():
            number, _dot, suffix = page.name.partition(".")
            past = number.isdigit() and int(number) > counts.get(folder.name, 0)
            if suffix in ARCHIVE_FORMATS and past:
                page.unlink(missing_ok=True)


def _archive_pages_in_worker(config: Config, tasks: list[_PageTask]) -> None:
    """A worker process's run of archive pages, each put in place by the
    worker itself (pages stand alone: one run failing spoils no other)."""
    batch = NewFiles(config.output_dir)
    try:
        with Store(config.storage_url) as store:
            _write_archive_pages(config, store, tasks, batch)
        batch.commit()
    except BaseException:
        batch.abort()
        raise


def _write_archive_pages(
    config: Config, store: Store, tasks: list[_PageTask], batch: NewFiles
) -> None:
    labels = {rubric.slug: rubric.title for rubric in config.rubrics}
    cache: OrderedDict[str, ArchiveEntry] = OrderedDict()
    for spec, page, suffixes in tasks:
        ids = store.archived_ids(page)
        found = {}
        for item_id in ids:
            if item_id in cache:
                cache.move_to_end(item_id)
                found[item_id] = cache[item_id]
        for item_id, row in store.archive_rows([i for i in ids if i not in found]).items():
            found[item_id] = cache[item_id] = archive_row_entry(config.site, labels, row)
        while len(cache) > ARCHIVE_CACHE_ITEMS:
            cache.popitem(last=False)
        # A story taken out with `feeds forget` keeps its number: no entry.
        entries = [found[item_id] for item_id in ids if item_id in found]
        for suffix in suffixes:
            name = archive_name(spec.slug, page.number, suffix)
            batch.add(name, render_archive(config.site, spec, page, entries, suffix))


def _announce(config: Config, written: list[str], stopping: threading.Event | None) -> None:
    """Ping the WebSub hub for exactly the feeds that changed; failures are
    logged, never raised: the files are out whatever the hub says."""
    hub = config.site.hub
    topics = [
        config.site.base_url + name for name in written if name.rsplit(".", 1)[-1] in FEED_FORMATS
    ]
    if not hub or not topics:
        return
    for failure in notify_hub(hub, topics, config.site.base_url, stopping=stopping):
        log.warning("%s", failure)
