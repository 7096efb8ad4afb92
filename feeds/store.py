"""Store stage: the history of every item and the state of every source.

The only module that speaks SQL and imports the database driver (SQLite,
in WAL mode). Items accumulate across runs; `upsert` decides what is new,
what changed and what merely reappeared. The caller wraps a whole cycle in
`transaction()`, so a run commits entirely or not at all.
sqlite3 errors are wrapped in StoreError.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import queue
import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from feeds.errors import PublishError, StoreError
from feeds.model import COMBINED, UNWRITABLE, ArchivePage, ArchiveRow, Item, canonical_link
from feeds.timing import MAX_RETRY_AFTER

SCHEMA_VERSION = 11

#: The page size of a new store. An item's row (its summary and content)
#: is 2-4 KB: with SQLite's 4 KB pages most rows took a page each, half
#: empty. On a first cycle of 50,000 items: 192 -> 165 MB, and a tenth
#: less time storing.
PAGE_SIZE = 8192

_T = TypeVar("_T")

# Each entry migrates from version N to N+1; append, never edit.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE items (
        id TEXT PRIMARY KEY,
        canonical_link TEXT UNIQUE,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        guid TEXT NOT NULL,
        link TEXT NOT NULL,
        summary TEXT NOT NULL,
        content TEXT NOT NULL,
        author TEXT NOT NULL,
        series TEXT NOT NULL,
        views INTEGER,
        categories TEXT NOT NULL,
        published TEXT NOT NULL,
        updated TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        fingerprint TEXT NOT NULL
    );
    CREATE INDEX items_newest ON items (published DESC, id DESC);
    CREATE TABLE item_rubrics (
        item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        rubric TEXT NOT NULL,
        PRIMARY KEY (item_id, source, rubric)
    );
    CREATE INDEX item_rubrics_by_rubric ON item_rubrics (rubric, item_id);
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '',
        last_attempt TEXT,
        last_success TEXT,
        last_error TEXT NOT NULL DEFAULT '',
        failures INTEGER NOT NULL DEFAULT 0,
        last_status INTEGER NOT NULL DEFAULT 0,
        last_items INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: what the service needs to know of a source across restarts, and
    # running totals for /metrics (so they survive restarts and are the same
    # whichever process serves them).
    """
    ALTER TABLE sources ADD COLUMN next_due TEXT;
    ALTER TABLE sources ADD COLUMN health TEXT NOT NULL DEFAULT '';
    ALTER TABLE sources ADD COLUMN moved_to TEXT NOT NULL DEFAULT '';
    ALTER TABLE sources ADD COLUMN gone_url TEXT NOT NULL DEFAULT '';
    ALTER TABLE sources ADD COLUMN fetches INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN failures_total INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN not_modified INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sources ADD COLUMN seconds REAL NOT NULL DEFAULT 0;
    """,
    # 3: articles fetched for full_content sources, so each page is fetched
    # and extracted once.
    """
    CREATE TABLE pages (
        url TEXT PRIMARY KEY,
        content TEXT NOT NULL,
        published TEXT,
        fetched TEXT NOT NULL
    );
    """,
    # 4: an item's picture, kept for enclosures in every format.
    """
    ALTER TABLE items ADD COLUMN image TEXT NOT NULL DEFAULT '';
    ALTER TABLE items ADD COLUMN image_type TEXT NOT NULL DEFAULT '';
    ALTER TABLE items ADD COLUMN image_length INTEGER;
    """,
    # 5: RFC 5005 archives. Every item that enters a feed (the combined one,
    # 'all', or a rubric's) gets the feed's next sequence number; a page is
    # a fixed range of those numbers, recorded once full and never changed.
    # Items already stored join in published order.
    """
    CREATE TABLE feed_members (
        feed TEXT NOT NULL,
        seq INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        PRIMARY KEY (feed, seq),
        UNIQUE (feed, item_id)
    ) WITHOUT ROWID;
    CREATE TABLE archive_pages (
        feed TEXT NOT NULL,
        page INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (feed, page)
    );
    INSERT INTO feed_members (feed, seq, item_id)
        SELECT 'all', row_number() OVER (ORDER BY published, id), id FROM items;
    INSERT INTO feed_members (feed, seq, item_id)
        SELECT r.rubric, row_number() OVER (PARTITION BY r.rubric ORDER BY i.published, i.id),
               i.id
        FROM (SELECT DISTINCT rubric, item_id FROM item_rubrics) r
        JOIN items i ON i.id = r.item_id;
    """,
    # 6: how a source's items were last read (its config and the rubric
    # vocabulary, as a digest): a change makes the next fetch ask for the
    # whole body, so stored items are tagged again.
    """
    ALTER TABLE sources ADD COLUMN read_as TEXT NOT NULL DEFAULT '';
    """,
    # 7: stories with neither link nor guid, by source, title and date: a
    # new one not found by its id is looked for among them (see
    # Store._unlinked_by_date). Many stories may share a date (all those
    # dated by their day alone), and without this each look-up read every
    # story of its dates: a first cycle of 1,000 such sources of 50 stories
    # took 305 s instead of 4 s.
    """
    CREATE INDEX IF NOT EXISTS items_unlinked ON items (source, title, published)
        WHERE link = '' AND guid = '';
    """,
    # 8: a server's Retry-After, and the URL it came from: `feeds build`,
    # which has no schedule of its own, does not ask again before it.
    """
    ALTER TABLE sources ADD COLUMN retry_until TEXT;
    ALTER TABLE sources ADD COLUMN retry_url TEXT NOT NULL DEFAULT '';
    """,
    # 9: HTML stored with a character no feed can carry, which cleaning
    # used to make of a character reference (`&#1;`): each feed listing
    # such an item failed to render. Replaced as cleaning now does. A
    # picture's type holding one (normalising kept it as given) is dropped.
    # (feeds_unwritable and feeds_writable are Python functions, given to
    # SQLite for the upgrade: a GLOB for 63 characters read 9 MB/s.)
    """
    UPDATE items SET summary = feeds_writable(summary), content = feeds_writable(content)
        WHERE feeds_unwritable(summary) OR feeds_unwritable(content);
    UPDATE items SET image_type = '' WHERE feeds_unwritable(image_type);
    UPDATE pages SET content = feeds_writable(content) WHERE feeds_unwritable(content);
    """,
    # 10: stories an operator took out (`feeds forget`), by id, link, and
    # source and title, so that a source still listing one does not bring
    # it back; and when an archive page last lost a story so.
    """
    CREATE TABLE forgotten (
        id TEXT PRIMARY KEY,
        canonical_link TEXT,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        published TEXT NOT NULL,
        unlinked INTEGER NOT NULL,
        forgotten TEXT NOT NULL
    );
    CREATE INDEX forgotten_links ON forgotten (canonical_link);
    CREATE INDEX forgotten_titles ON forgotten (source, title) WHERE unlinked;
    ALTER TABLE archive_pages ADD COLUMN changed TEXT;
    """,
    # 11: article pages of `full_content` that could not be fetched, and
    # how many runs tried: each is tried again on later runs, up to a limit.
    """
    CREATE TABLE page_failures (
        url TEXT PRIMARY KEY,
        tries INTEGER NOT NULL,
        error TEXT NOT NULL,
        last_try TEXT NOT NULL
    );
    """,
)

_ITEM_COLUMNS = (
    "id, source, title, guid, link, summary, content, author, series, views, "
    "categories, published, updated, image, image_type, image_length"
)


@dataclass(frozen=True, slots=True)
class Upserted:
    """What one batch of items did to the store; `rubrics` are the slugs
    whose feeds now read differently."""

    new: int = 0
    updated: int = 0
    reclassified: int = 0
    rubrics: frozenset[str] = frozenset()
    changed: bool = False


@dataclass(frozen=True, slots=True)
class Forgotten:
    """A story `Store.forget` took out: the feeds it was a member of, and
    the archive pages (feed, page number) that listed it. `before`: it was
    forgotten earlier (its feeds are published again all the same)."""

    id: str
    title: str
    feeds: tuple[str, ...]
    pages: tuple[tuple[str, int], ...]
    before: bool = False


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers of a source between runs."""

    name: str
    etag: str = ""
    last_modified: str = ""
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    failures: int = 0
    last_status: int = 0
    last_items: int = 0
    #: When the service should fetch it next (backoff, Retry-After included).
    next_due: datetime | None = None
    #: '' when healthy, else why not: 'failing', 'empty' (used to yield
    #: items, now none), 'gone' (HTTP 410: paused until its URL changes).
    health: str = ""
    #: Where a permanent redirect (301/308) pointed: update the config.
    moved_to: str = ""
    #: The URL that answered 410 Gone; the source is paused while it is used.
    gone_url: str = ""
    fetches: int = 0
    failures_total: int = 0
    not_modified: int = 0
    bytes: int = 0
    seconds: float = 0.0
    #: The digest of how its items were last read (see pipeline.reading_key).
    read_as: str = ""
    #: Until when the server at `retry_url` asked not to be asked again
    #: (Retry-After with a 429 or 503, at most a day).
    retry_until: datetime | None = None
    retry_url: str = ""

    def waiting(self, location: str, now: datetime) -> datetime | None:
        """When a Retry-After for `location` ends, if it has not yet. One
        ending further off than a Retry-After is honoured was set by a
        clock ahead of this one (`ahead`): it is not waited for."""
        if self.retry_until is None or self.retry_url != location or now >= self.retry_until:
            return None
        if self.retry_until > now + timedelta(seconds=MAX_RETRY_AFTER) + CLOCK_SLACK:
            return None
        return self.retry_until

    def ahead(self, now: datetime) -> bool:
        """Whether the source was last fetched after `now`: by a clock set
        back since, or by a `feeds build --now` with a later date. Its times
        derived from then (next due, back-off) would keep it waiting until
        then, fetching nothing and saying nothing."""
        return self.last_attempt is not None and self.last_attempt > now + CLOCK_SLACK


#: How far a stored time may be ahead of the clock before it is taken for
#: one set by a clock ahead of this one.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class FailedPage:
    """An article page of a `full_content` source that could not be
    fetched, and how many runs tried it."""

    source: str
    url: str
    tries: int
    error: str
    last_try: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """The outcome of one fetch of a source, as `record_attempt` stores it.
    Validators and the item count change only when given."""

    now: datetime
    error: str = ""
    status: int = 0
    items: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    bytes: int = 0
    seconds: float = 0.0
    next_due: datetime | None = None
    health: str = ""
    moved_to: str = ""
    gone_url: str | None = None
    read_as: str | None = None
    #: The `read_as` the run started from (None: not known). The run's
    #: validators and `read_as` are written only if it is still stored:
    #: `feeds retry` marks a source to be read whole while a run of it may
    #: be in flight, and that run's validators would put the next run
    #: behind a 304 again.
    read_from: str | None = None
    #: A Retry-After's end and the URL that sent it (a success clears it).
    retry_until: datetime | None = None
    retry_url: str = ""


#: The page cache of `Store.bulk`, in KiB.
BULK_CACHE_KIB = 8192

#: Descriptors of the run locks this process holds.
_held: set[int] = set()


class RunLock:
    """An advisory lock next to the database: one `feeds build` (or one
    `feeds run` service) works on a store at a time. A second build waits
    for the first; a build finding a service exits with a message.
    The lock file names its holder; the operating system releases it when
    the holder exits, however it exits."""

    def __init__(self, url: str, role: str) -> None:
        self.url = url
        self.role = role
        self.path = _lock_path(url)
        self._file: IO[str] | None = None
        self._what = "keeps this store up to date"
        self._raises: type[StoreError | PublishError] = StoreError

    @classmethod
    def for_output(cls, folder: Path, role: str) -> RunLock:
        """The same lock for an output folder, in a file beside it
        (`output.lock`): a build on another store (storage.url edited while
        a service ran) rewrote the service's archive pages with its own
        numbering, and the service wrote them back, again and again.
        Raises PublishError where the store's raises StoreError."""
        lock = cls(str(folder), role)
        lock.path = folder.with_name(folder.name + ".lock")
        lock._what = "publishes to this folder"
        lock._raises = PublishError
        return lock

    def _error(self, detail: str, holder: str = "") -> StoreError | PublishError:
        return self._raises(self.url, detail, held_by=holder)

    def acquire(self, on_wait: Callable[[str], None] | None = None) -> None:
        """Raises StoreError (PublishError for an output folder) when a
        service holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise self._error(f"cannot open the lock file {self.path}: {exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            if holder.startswith("run"):
                handle.close()
                raise self._error(
                    f"in use by {holder}; a feeds run service {self._what} "
                    "itself: stop it first, or let it do the work",
                    holder,
                ) from None
            if self.role == "run":
                handle.close()
                raise self._error(
                    f"in use by {holder}; start the service once it has finished", holder
                ) from None
            if on_wait is not None:
                on_wait(f"waiting for {holder} to finish with {self.url}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{self.role} pid {os.getpid()}\n")
            handle.flush()
        except OSError as exc:  # a full disk: not even room for this line
            with suppress(OSError):
                handle.close()
            raise self._error(
                f"cannot write the lock file {self.path}: {exc.strerror or exc}"
            ) from exc
        self._file = handle
        _held.add(handle.fileno())

    def release(self) -> None:
        if self._file is not None:
            _held.discard(self._file.fileno())
            self._file.close()  # closing releases the flock
            self._file = None

    @staticmethod
    def drop_inherited() -> None:
        """In a process forked from the holder: close its copies of the
        held locks' descriptors, so that only the holder keeps the lock (a
        child outliving a killed holder then keeps no one out)."""
        for fd in list(_held):
            os.close(fd)
        _held.clear()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


#: One lock per database file for the writers of this process. Threads
#: queue on it and each is woken the moment the one before commits;
#: SQLite alone would have them poll its lock with sleeps of up to 100 ms
#: (with sixteen sources storing at once, most of their time). Other
#: processes still meet SQLite's own lock. Reentrant: a thread that opened
#: a second store on the same file inside a transaction meets SQLite's lock
#: (an error after its time-out), as before, rather than waiting for itself
#: for ever.
_writers: dict[str, threading.RLock] = {}
_writers_guard = threading.Lock()


def _forget_writers() -> None:
    # A forked child starts with no writer of its own, whatever lock a
    # thread of its parent held at the fork.
    global _writers_guard
    _writers.clear()
    _writers_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_writers)


def _writer_lock(path: Path) -> threading.RLock:
    key = os.path.abspath(path)
    with _writers_guard:
        return _writers.setdefault(key, threading.RLock())


def _holder_elsewhere(url: str) -> str:
    """Who holds the store's run lock when another process does: its line
    in the lock file ('' when no one does, or this process does)."""
    path = _lock_path(url)
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            here = os.fstat(handle.fileno())
            for fd in _held:
                with suppress(OSError):
                    held = os.fstat(fd)
                    if (held.st_dev, held.st_ino) == (here.st_dev, here.st_ino):
                        return ""
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return handle.read().strip() or "another process"
            return ""  # closing the file lets go of the lock just taken
    except OSError:  # no lock file (no one has held it), or none to lock
        return ""


def no_store_yet(url: str) -> bool:
    """Whether nothing has run yet: no store file, though one could be
    made (a path through a file is a broken store, reported as such).
    Opening would create it, and its folder, where a command that only
    reads (`feeds serve`, `feeds status`) may only be looking."""
    path = _store_path(url)
    try:
        if path.is_file() and path.stat().st_size == 0:
            return True  # made empty (`: > feeds.db`): nothing in it to read
        return not path.exists() and not any(folder.is_file() for folder in path.parents)
    except OSError:  # a folder it may not look into: let the store say so
        return False


#: What every SQLite database file begins with.
_SQLITE_HEADER = b"SQLite format 3\x00"


class StoreWatch:
    """The store's file as a service found it at start, to tell it was
    deleted, replaced, emptied or overwritten while the service ran.

    Holds a descriptor of the file open until `close`: POSIX locks belong to
    the process, so closing any descriptor of the file drops the locks
    SQLite holds on it for this process's connections. Close it only once
    they are closed."""

    def __init__(self, url: str) -> None:
        self._fd: int | None = None
        self._file: tuple[int, int] | None = None
        self._intact = False
        with suppress(OSError):  # none yet: only a replacement can be told
            self._fd = os.open(_store_path(url), os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            info = os.fstat(self._fd)
            self._file = (info.st_dev, info.st_ino)
            self._intact = self._reads_as_database()

    def change(self, url: str) -> str:
        """What happened to the store's file since the start ("" for
        nothing): "deleted or replaced" when the path names another file or
        none, "emptied or overwritten" when the same file no longer begins
        as a database (`: > feeds.db` keeps the file)."""
        if self._file is None:
            return ""
        try:
            info = os.stat(_store_path(url))
        except OSError:
            return "deleted or replaced"
        if (info.st_dev, info.st_ino) != self._file:
            return "deleted or replaced"
        if self._intact and not self._reads_as_database():
            return "emptied or overwritten"
        return ""

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _reads_as_database(self) -> bool:
        try:
            return self._fd is not None and os.pread(self._fd, 16, 0) == _SQLITE_HEADER
        except OSError:
            return False


def _store_path(url: str) -> Path:
    """The database file a `sqlite:///` URL names."""
    return Path(url.removeprefix("sqlite:///"))


def _lock_path(url: str) -> Path:
    """The run lock's file, beside the database."""
    return Path(f"{_store_path(url)}.lock")


def _too_new(url: str, version: int) -> StoreError:
    return StoreError(
        url, f"schema version {version} is newer than this feeds knows ({SCHEMA_VERSION})"
    )


#: Seconds a store held by another process (a long write) is waited for.
LOCK_WAIT = 30.0


class Store:
    """One open database. Not shared between threads."""

    def __init__(self, url: str, *, wait: float = LOCK_WAIT, read_only: bool = False) -> None:
        """`wait`: seconds to wait for a store another process holds.
        `read_only`: for commands that only look (`feeds status`, /healthz):
        nothing is written, not even a new schema, and a store the user may
        only read (the service's, to its operator) opens."""
        self.url = url
        path = _store_path(url)
        self._writer = _writer_lock(path)
        #: Whether any story was forgotten (None: not looked yet).
        self._forgets: bool | None = None
        if read_only:
            self._open_read_only(path, wait)
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=wait, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            # Before anything is written: a store that exists keeps its own.
            self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                # A new database, turned to WAL by one thread of this
                # process at a time: threads opening it together got
                # "database is locked" at once (SQLite does not wait there),
                # and their sources failed.
                with self._writer:
                    self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            # CAST(text AS BLOB) gives the text in the database's encoding:
            # UTF-8 unless the file was made by a UTF-16 client.
            self._utf8 = self._db.execute("PRAGMA encoding").fetchone()[0] == "UTF-8"
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(url, f"cannot open: {exc}") from exc

    def _open_read_only(self, path: Path, wait: float) -> None:
        try:
            try:
                version = self._connect_read_only(path, wait, "mode=ro")
            except sqlite3.OperationalError:
                if Path(f"{path}-wal").exists():
                    raise
                # No writer at work, and a folder this user may not write
                # in: SQLite cannot make the files it reads a WAL store
                # with, and may read the file as it is.
                version = self._connect_read_only(path, wait, "mode=ro&immutable=1")
        except (sqlite3.Error, OSError, ValueError) as exc:
            raise StoreError(self.url, f"cannot open: {exc}") from exc
        if version != SCHEMA_VERSION:
            self._db.close()
            if version > SCHEMA_VERSION:
                raise _too_new(self.url, version)
            raise StoreError(
                self.url,
                f"schema version {version} is older than this feeds reads ({SCHEMA_VERSION}): "
                "`feeds build` or the service upgrades it",
            )

    def _connect_read_only(self, path: Path, wait: float, mode: str) -> int:
        """Open `path` with the URI parameters `mode`; its schema version."""
        address = f"{path.resolve().as_uri()}?{mode}"
        self._db = sqlite3.connect(address, uri=True, timeout=wait, isolation_level=None)
        try:
            self._db.row_factory = sqlite3.Row
            version: int = self._db.execute("PRAGMA user_version").fetchone()[0]
            self._utf8 = self._db.execute("PRAGMA encoding").fetchone()[0] == "UTF-8"
        except BaseException:
            self._db.close()
            raise
        return version

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return  # the usual case, and no write
        if version > SCHEMA_VERSION:
            # Said at once, without the write lock another process may hold.
            raise _too_new(self.url, version)
        # The version is read again inside the write transaction, so two
        # processes opening a new database at once never both migrate it.
        with self._writer:
            self._migrate_locked()

    def _migrate_locked(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _too_new(self.url, version)
            holder = _holder_elsewhere(self.url) if 0 < version < SCHEMA_VERSION else ""
            if holder:
                # Most likely the release before this one, still running:
                # upgraded under it, the store would fail its every publish.
                raise StoreError(
                    self.url,
                    f"schema version {version} needs upgrading to {SCHEMA_VERSION}, but the "
                    f"store is in use by {holder}: stop it first, then run this again",
                )
            if version < 0:
                raise StoreError(self.url, f"schema version {version} is not one feeds writes")
            self._db.create_function("feeds_unwritable", 1, _unwritable, deterministic=True)
            self._db.create_function("feeds_writable", 1, _writable_text, deterministic=True)
            for number in range(version, SCHEMA_VERSION):
                try:
                    for statement in _MIGRATIONS[number].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                except sqlite3.Error as exc:
                    # Most likely a version set by hand: the tables say
                    # otherwise. Nothing of the upgrade is kept.
                    raise StoreError(
                        self.url,
                        f"cannot upgrade its schema from version {number} to {number + 1} "
                        f"({exc}): is {version} really the version it has?",
                    ) from exc
                if number == 0:
                    self._db.execute(
                        "INSERT INTO meta (key, value) VALUES ('created', ?)",
                        (_text(datetime.now(UTC)),),
                    )
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all. Raises StoreError."""
        with self._writer:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(self.url, f"cannot start a transaction: {exc}") from exc
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(self.url, f"commit failed: {exc}") from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside `transaction`: writes that are undone alone if they raise
        (one source's items), leaving the transaction's others in place."""
        self._execute("SAVEPOINT part")
        try:
            yield
        except BaseException:
            # If even that fails (a full disk), the error raised says more.
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK TO part")
                self._db.execute("RELEASE part")
            raise
        self._execute("RELEASE part")

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """A long run of writes (a first cycle: tens of thousands of items)
        with a bigger page cache, given back to the system when it ends.
        Its indexes take random inserts; with SQLite's 2 MB default most
        of those miss the cache, and dirty pages are spilled to the log
        again and again: on 50,000 items, 1.4 GB written for a 190 MB
        database, against 1.0 GB with this. Each source's savepoint keeps
        its undo pages in memory, not in a temporary file: on a first cycle
        of 1,000 sources the files cost 0.8 s of system time."""
        default = self._execute("PRAGMA cache_size").fetchone()[0]
        temp_store = self._execute("PRAGMA temp_store").fetchone()[0]
        self._execute(f"PRAGMA cache_size = -{int(BULK_CACHE_KIB)}")
        self._execute("PRAGMA temp_store = MEMORY")
        try:
            yield
        finally:
            with suppress(sqlite3.Error):
                self._db.execute(f"PRAGMA cache_size = {int(default)}")
                self._db.execute(f"PRAGMA temp_store = {int(temp_store)}")
                self._db.execute("PRAGMA shrink_memory")

    def in_transaction(self) -> bool:
        """Whether a transaction is open (an error may have ended it)."""
        return self._db.in_transaction

    def _rollback(self) -> None:
        # A failed COMMIT (a full disk) may have ended the transaction.
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def commit_so_far(self) -> None:
        """Inside `transaction`: commit what is written so far and go on in
        a new transaction (which `transaction` commits or rolls back)."""
        try:
            self._db.execute("COMMIT")
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(self.url, f"commit failed: {exc}") from exc

    # -- sources --------------------------------------------------------

    def source_state(self, name: str) -> SourceState:
        row = self._execute("SELECT * FROM sources WHERE name = ?", (name,)).fetchone()
        return SourceState(name=name) if row is None else _state(row)

    def source_states(self) -> list[SourceState]:
        """Every source the store has seen, by name."""
        rows = self._execute("SELECT * FROM sources ORDER BY name").fetchall()
        return [_state(row) for row in rows]

    def record_attempt(self, name: str, attempt: Attempt) -> None:
        """Remember how a fetch of `name` went; a failure keeps the last good
        validators and item count. One statement, which reads the stored
        row itself: a first cycle's or an unchanged cycle's 1,000 sources
        cost 1,000 statements, not 2,000."""
        ok = not attempt.error
        self._execute(
            """
            INSERT INTO sources (name, etag, last_modified, last_attempt, last_success,
                                 last_error, failures, last_status, last_items, next_due,
                                 health, moved_to, gone_url, fetches, failures_total,
                                 not_modified, bytes, seconds, read_as, retry_until, retry_url)
            VALUES (:name, coalesce(:etag, ''), coalesce(:last_modified, ''), :now,
                    CASE WHEN :ok THEN :now END, :error, CASE WHEN :ok THEN 0 ELSE 1 END,
                    :status, coalesce(:items, 0), :next_due, :health, :moved_to,
                    coalesce(:gone_url, ''), 1, :failed, :not_modified, :bytes, :seconds,
                    coalesce(:read_as, ''), :retry_until, :retry_url)
            ON CONFLICT (name) DO UPDATE SET
                etag = CASE WHEN :read_from IS NULL OR read_as = :read_from
                            THEN coalesce(:etag, etag) ELSE etag END,
                last_modified = CASE WHEN :read_from IS NULL OR read_as = :read_from
                                     THEN coalesce(:last_modified, last_modified)
                                     ELSE last_modified END,
                last_attempt = :now,
                last_success = CASE WHEN :ok THEN :now ELSE last_success END,
                last_error = :error,
                failures = CASE WHEN :ok THEN 0 ELSE failures + 1 END,
                last_status = :status, last_items = coalesce(:items, last_items),
                next_due = :next_due, health = :health, moved_to = :moved_to,
                gone_url = coalesce(:gone_url, gone_url),
                fetches = fetches + 1, failures_total = failures_total + :failed,
                not_modified = not_modified + :not_modified, bytes = bytes + :bytes,
                seconds = seconds + :seconds,
                read_as = CASE WHEN :read_from IS NULL OR read_as = :read_from
                               THEN coalesce(:read_as, read_as) ELSE read_as END,
                retry_until = :retry_until, retry_url = :retry_url
            """,
            {
                "name": name,
                "ok": ok,
                "etag": attempt.etag,
                "last_modified": attempt.last_modified,
                "now": _text(attempt.now),
                "error": attempt.error,
                "status": attempt.status,
                "items": attempt.items,
                "read_as": attempt.read_as,
                "read_from": attempt.read_from,
                "next_due": _text(attempt.next_due),
                "health": attempt.health,
                "moved_to": attempt.moved_to,
                "gone_url": attempt.gone_url,
                "failed": 0 if ok else 1,
                "not_modified": 1 if attempt.not_modified else 0,
                "bytes": attempt.bytes,
                "seconds": attempt.seconds,
                "retry_until": _text(attempt.retry_until),
                "retry_url": attempt.retry_url,
            },
        )

    def set_next_due(self, name: str, due: datetime) -> None:
        """Move a source's next fetch (a config edit, a manual run)."""
        self._execute(
            "INSERT INTO sources (name, next_due) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET next_due = excluded.next_due",
            (name, _text(due)),
        )

    def rubric_counts(self) -> dict[str, int]:
        """How many items each rubric holds."""
        rows = self._execute(
            "SELECT rubric, count(DISTINCT item_id) FROM item_rubrics GROUP BY rubric"
        )
        return {row[0]: int(row[1]) for row in rows}

    # -- items ----------------------------------------------------------

    def forget(self, keys: Sequence[str], now: datetime) -> tuple[list[Forgotten], list[str]]:
        """Take stories out for good, each given by its id or its link: out
        of every feed and archive page, and kept out when a source lists it
        again (see `_not_forgotten`). Its member numbers stay taken: the
        pages that held it keep their ranges, with one entry fewer, and no
        later story is numbered into a page already written. Returns the
        stories taken out (and those taken out before: named again, their
        feeds are published again) and the keys that named none."""
        done: list[Forgotten] = []
        missing: list[str] = []
        every_feed: list[str] | None = None
        for key in dict.fromkeys(keys):
            link = canonical_link(key)
            columns = "id, title, canonical_link, link, guid, source, published"
            row = self._execute(
                f"SELECT {columns} FROM items "
                "WHERE id = ?1 OR (?2 != '' AND canonical_link = ?2) ORDER BY id = ?1 DESC LIMIT 1",
                (key, link),
            ).fetchone()
            if row is None and link:
                # A story whose link was seen shared keeps no canonical one
                # (see `_same_story`); its link as written still names it,
                # if it names no other story.
                alike = self._execute(
                    f"SELECT {columns} FROM items WHERE link = ? LIMIT 2", (key,)
                ).fetchall()
                row = alike[0] if len(alike) == 1 else None
            if row is None:
                before = self._execute(
                    "SELECT id, title FROM forgotten WHERE id = ?1 "
                    "OR (?2 != '' AND canonical_link = ?2) LIMIT 1",
                    (key, link),
                ).fetchone()
                if before is None:
                    missing.append(key)
                elif all(story.id != before["id"] for story in done):  # not named twice now
                    done.append(Forgotten(before["id"], before["title"], (), (), before=True))
                continue
            item_id = row["id"]
            if every_feed is None:
                # Found by the index of (feed, item): one by item alone read
                # the whole membership table for each story (4 ms a story
                # of 50,000).
                every_feed = [
                    str(f[0]) for f in self._execute("SELECT DISTINCT feed FROM feed_members")
                ]
            marks = ",".join("?" * len(every_feed))
            members = self._execute(
                f"SELECT feed, seq FROM feed_members WHERE item_id = ? AND feed IN ({marks}) "
                "ORDER BY feed",
                (item_id, *every_feed),
            ).fetchall()
            feeds = tuple(str(member[0]) for member in members)
            pages = tuple(
                (str(member[0]), int(page[0]))
                for member in members
                for page in self._execute(
                    "SELECT page FROM archive_pages WHERE feed = ? AND ? BETWEEN first_seq "
                    "AND last_seq ORDER BY page",
                    (member[0], member[1]),
                )
            )
            # Its pages changed now: written again, they say so (by their
            # entries' dates alone, one whose newest story left went back).
            changed = _text(now.replace(microsecond=0))
            self._executemany(
                "UPDATE archive_pages SET changed = ? WHERE feed = ? AND page = ?",
                [(changed, feed, number) for feed, number in pages],
            )
            self._execute("DELETE FROM item_rubrics WHERE item_id = ?", (item_id,))
            self._execute("DELETE FROM items WHERE id = ?", (item_id,))
            if row["link"]:
                # Its article, fetched for full_content: not kept either.
                self._execute("DELETE FROM pages WHERE url = ?", (row["link"],))
                self._execute("DELETE FROM page_failures WHERE url = ?", (row["link"],))
            self._execute(
                "INSERT INTO forgotten (id, canonical_link, source, title, published, unlinked, "
                "forgotten) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET forgotten = excluded.forgotten",
                (
                    item_id,
                    row["canonical_link"],
                    row["source"],
                    row["title"],
                    row["published"],
                    int(not row["link"] and not row["guid"]),
                    _text(now),
                ),
            )
            done.append(Forgotten(item_id, row["title"], feeds, pages))
        if done:
            self._forgets = True
        return done, missing

    def _stored(self, ids: Sequence[str]) -> list[str]:
        """Those of these ids that name a stored item."""
        marks = ",".join("?" * len(ids))
        return [
            str(row[0])
            for row in self._execute(f"SELECT id FROM items WHERE id IN ({marks})", list(ids))
        ]

    def without_forgotten(self, items: Sequence[Item]) -> list[Item]:
        """The items but those `forget` took out (see `_not_forgotten`)."""
        kept = {entry.item.id for entry in self._not_forgotten(_dedupe(list(items)))}
        return [item for item in items if item.id in kept]

    def _not_forgotten(self, batch: list[_Entry]) -> list[_Entry]:
        """The entries but those naming a story `forget` took out, found as
        upsert finds a stored story: by its id; by its link, when upsert
        would take it for the same story (`_same_story`: not an episode of
        a podcast whose page is every episode's link); and a story with
        neither link nor guid by its source and title within
        FORGOTTEN_TITLE_DAYS of its date (a text page's headline takes
        another id once the page prints its date)."""
        if self._forgets is None:
            self._forgets = self._execute("SELECT 1 FROM forgotten LIMIT 1").fetchone() is not None
        if not self._forgets:
            return batch
        listed = {entry.item.id for entry in batch}
        kept: list[_Entry] = []
        for chunk in _chunks(batch, 300):
            ids = [entry.item.id for entry in chunk]
            links = [entry.canonical for entry in chunk if entry.canonical]
            unlinked = [(e.item.source, e.item.title) for e in chunk if _no_link(e.item)]
            # Each look-up on its own index (ORed together, SQLite read
            # the whole table for each batch).
            rows = self._execute(
                f"SELECT * FROM forgotten WHERE id IN ({','.join('?' * len(ids))})", ids
            ).fetchall()
            if links:
                rows += self._execute(
                    "SELECT * FROM forgotten WHERE canonical_link IN "
                    f"({','.join('?' * len(links))})",
                    links,
                ).fetchall()
            for source, title in unlinked:
                rows += self._execute(
                    "SELECT * FROM forgotten WHERE unlinked AND source = ? AND title = ?",
                    (source, title),
                ).fetchall()
            by_id = {row["id"]: row for row in rows}
            by_link = {row["canonical_link"]: row for row in rows if row["canonical_link"]}
            by_title: dict[tuple[str, str], list[datetime | None]] = {}
            for row in rows:
                if row["unlinked"]:
                    by_title.setdefault((row["source"], row["title"]), []).append(
                        _date(row["published"])
                    )
            for entry in chunk:
                item = entry.item
                row = by_link.get(entry.canonical) if entry.canonical else None
                if (
                    item.id in by_id
                    or (row is not None and _same_story(entry, row, listed))
                    or (
                        _no_link(item)
                        and _near_any(item.published, by_title.get((item.source, item.title)))
                    )
                ):
                    continue
                kept.append(entry)
        return kept

    def upsert(
        self, items: list[Item], *, now: datetime, live: Container[str] | None = None
    ) -> Upserted:
        """Add new items, update changed ones, merge a story already known
        under another source's id (same canonical link): it keeps its first
        id and gains this source's rubrics. A story first brought by a
        source not in `live` (the sources configured now: it was renamed,
        or removed) is this source's from now on: its edits and rubrics
        count. Batched: a few statements per call, not per item."""
        batch = self._not_forgotten(_dedupe(items))
        if not batch:
            return Upserted()
        stamp = _text(now)
        rows = self._rows_by("id", [entry.item.id for entry in batch])
        missing = [e.canonical for e in batch if e.item.id not in rows and e.canonical]
        by_link = self._rows_by("canonical_link", missing) if missing else {}
        unlinked = [e for e in batch if e.item.id not in rows and _unlinked(e.item)]
        by_date = self._unlinked_by_date(unlinked) if unlinked else {}
        listed = {entry.item.id for entry in batch}
        new: list[_Entry] = []
        known: list[tuple[_Entry, sqlite3.Row]] = []
        claimed: dict[str, _Entry] = {}
        for entry in batch:
            row = rows.get(entry.item.id)
            by_id = row is not None
            if row is None and entry.canonical:
                row = by_link.get(entry.canonical)
                if row is not None and not _same_story(entry, row, listed):
                    row = None
                if row is None and (entry.generic or entry.canonical in by_link):
                    # Kept apart from the story that holds this link, and
                    # not found by it later: it identifies neither.
                    entry.canonical = None
            if row is None and _unlinked(entry.item):
                row = by_date.get(_date_key(entry.item))
                if row is not None and row["id"] in listed:
                    row = None  # a story the source still lists is another one
                if row is not None:
                    row = self._dated_now(row, entry)
            if row is None:
                new.append(entry)
                # A later item of the batch with the same link merges into it.
                if entry.canonical:
                    by_link[entry.canonical] = _Placeholder(entry)  # type: ignore[assignment]
                continue
            first = claimed.get(row["id"])
            if first is not None:
                # Two copies found the same stored story (one by its id, one
                # by the link it had): one story, both copies' rubrics.
                first.rubrics = tuple(sorted(set(first.rubrics) | set(entry.rubrics)))
                continue
            claimed[row["id"]] = entry
            owner = row["source"]
            if by_id and live is not None and owner != entry.item.source and owner not in live:
                # The same story under the same id from a source configured
                # under another name now (renamed): this source's from now on.
                # A copy found only by its link adopts nothing.
                row = self._adopt(row, entry.item.source)
            known.append((entry, row))
        touched: set[str] = set()
        self._insert_many(new, stamp)
        for entry in new:
            touched.update(entry.rubrics)
        self._join_new(new)
        joined: list[str] = []
        reclassified = self._reclassify(known, touched, joined)
        self._join_feeds(joined)
        updated, recounted = self._update_changed(known, touched, now, stamp)
        # An edit shows in the combined feed even when the item has no rubric.
        changed = bool(new) or reclassified > 0 or updated > 0 or recounted > 0 or bool(touched)
        return Upserted(
            new=len(new),
            updated=updated,
            reclassified=reclassified,
            rubrics=frozenset(touched),
            changed=changed,
        )

    def _reordered_only(self, entry: _Entry, row: sqlite3.Row) -> str | None:
        """If the item reads as stored but for the order of attributes in
        its markup, the fingerprint to store with its texts as they are
        now: the feedparser path used to write every tag with its
        attributes sorted, the fast path as the source does, and a feed can
        move between them. (Looked up only for an item whose fingerprint
        changed and whose markup has tags with several attributes.)"""
        item = entry.item
        if not any(_ATTRIBUTES.search(text) for text in _texts(item)):
            return None
        stored = self._execute(
            "SELECT summary, content FROM items WHERE id = ?", (row["id"],)
        ).fetchone()
        if stored is None or (stored[0], stored[1]) == _texts(item):
            return None
        # The texts as stored, and the date as stored (see _date_moved_only).
        first = _date(row["published"])
        dated = {"published": first} if first is not None and item.published is not None else {}
        as_stored = item.evolve(summary=stored[0], content=stored[1], **dated)
        if as_stored.fingerprint() != row["fingerprint"]:
            return None  # something else changed too
        if not all(
            _attributes_sorted(old) == _attributes_sorted(new)
            for old, new in zip(stored, _texts(item), strict=True)
        ):
            return None
        # With the date as stored too: a date that moves with every fetch
        # must still find it the same (_date_moved_only), or the next fetch
        # would be an update.
        return item.evolve(**dated).fingerprint()

    def _adopt(self, row: sqlite3.Row, source: str) -> sqlite3.Row:
        """Make a stored story `source`'s, with the rubrics its old source
        gave it; returns the row as it now reads."""
        old, item_id = row["source"], row["id"]
        self._execute("UPDATE items SET source = ? WHERE id = ?", (source, item_id))
        self._execute(
            "DELETE FROM item_rubrics WHERE item_id = ?1 AND source = ?2 AND rubric IN "
            "(SELECT rubric FROM item_rubrics WHERE item_id = ?1 AND source = ?3)",
            (item_id, old, source),
        )
        self._execute(
            "UPDATE item_rubrics SET source = ? WHERE item_id = ? AND source = ?",
            (source, item_id, old),
        )
        return self._rows_by("id", [item_id])[item_id]

    def _unlinked_by_date(self, entries: list[_Entry]) -> dict[tuple[str, str, str], sqlite3.Row]:
        """Stored stories with neither link nor guid, by source, title and
        date. An item without either, not found by its id, may be one of
        them under another id: a headline read first with a time of day and
        no date (its id made from the time), now under its date heading.
        Each key is one look-up in the items_unlinked index: many stories
        may share a date, and reading them all would be slow."""
        found: dict[tuple[str, str, str], sqlite3.Row] = {}
        keys = list(dict.fromkeys(_date_key(entry.item) for entry in entries))
        columns = ", ".join(
            f"i.{column}"
            for column in ("id", "canonical_link", "source", "fingerprint", "published")
            + tuple(_STORY_COLUMNS.split(", "))
        )
        for chunk in _chunks(keys, 300):
            # CROSS JOIN keeps the wanted keys outside: SQLite would
            # otherwise build an automatic index over all of items.
            rows = self._execute(
                f"WITH wanted (source, title, published) AS "
                f"(VALUES {','.join(['(?, ?, ?)'] * len(chunk))}) "
                f"SELECT {columns} FROM wanted w CROSS JOIN items i INDEXED BY items_unlinked "
                f"WHERE i.title = w.title AND i.published = w.published "
                f"AND i.source = w.source AND i.link = '' AND i.guid = ''",
                [value for key in chunk for value in key],
            )
            for row in rows:
                found.setdefault((row["source"], row["title"], row["published"]), row)
        return found

    def _dated_now(self, row: sqlite3.Row, entry: _Entry) -> sqlite3.Row:
        """A stored story found by its source, title and date, as `entry`
        (the same story now under its date) reads it. When the reader sees
        the same text (the stored date is the one the source prints now),
        it takes the entry's fingerprint: no update. Returns the row as it
        now reads."""
        if row["fingerprint"] != entry.fingerprint and _shown(row) == _shown(entry.item):
            self._execute(
                "UPDATE items SET fingerprint = ? WHERE id = ?", (entry.fingerprint, row["id"])
            )
            return self._rows_by("id", [row["id"]])[row["id"]]
        return row

    def _rows_by(self, column: str, keys: list[str]) -> dict[str, sqlite3.Row]:
        found: dict[str, sqlite3.Row] = {}
        for chunk in _chunks(list(dict.fromkeys(keys)), 500):
            marks = ",".join("?" * len(chunk))
            for row in self._execute(
                f"SELECT id, canonical_link, source, title, fingerprint, views, categories, "
                f"published FROM items "
                f"WHERE {column} IN ({marks})",
                chunk,
            ):
                found[row[column]] = row
        return found

    def _insert_many(self, entries: list[_Entry], stamp: str | None) -> None:
        if not entries:
            return
        self._executemany(
            f"""
            INSERT INTO items ({_STORY_COLUMNS}, id, canonical_link, source, published,
                               updated, first_seen, last_seen, fingerprint)
            VALUES ({", ".join("?" * (_STORY_WIDTH + 8))})
            """,
            [
                (
                    *_story(e.item),
                    e.item.id,
                    e.canonical,
                    e.item.source,
                    # An item its source left undated is dated when first seen.
                    _text(e.item.published) or stamp,
                    _text(e.item.updated),
                    stamp,
                    stamp,
                    e.fingerprint,
                )
                for e in entries
            ],
        )
        self._executemany(
            "INSERT INTO item_rubrics (item_id, source, rubric) VALUES (?, ?, ?)",
            [(e.item.id, e.item.source, rubric) for e in entries for rubric in e.rubrics],
        )

    def _reclassify(
        self, known: list[tuple[_Entry, sqlite3.Row]], touched: set[str], joined: list[str]
    ) -> int:
        """Replace what each source says of an item's rubrics, where that
        changed; the rubrics before and after count as touched, and the
        items go to `joined` (they may have entered a feed)."""
        if not known:
            return 0
        source = known[0][0].item.source
        targets = [row["id"] for _entry, row in known]
        before: dict[str, set[str]] = {}
        for chunk in _chunks(targets, 500):
            marks = ",".join("?" * len(chunk))
            for item_id, rubric in self._execute(
                f"SELECT item_id, rubric FROM item_rubrics WHERE source = ? "
                f"AND item_id IN ({marks})",
                [source, *chunk],
            ):
                before.setdefault(item_id, set()).add(rubric)
        changed = [
            (row["id"], entry)
            for entry, row in known
            if before.get(row["id"], set()) != set(entry.rubrics)
        ]
        for target, entry in changed:
            touched.update(before.get(target, set()), entry.rubrics, self._rubrics_of(target))
            joined.append(target)
        self._executemany(
            "DELETE FROM item_rubrics WHERE item_id = ? AND source = ?",
            [(target, source) for target, _entry in changed],
        )
        self._executemany(
            "INSERT INTO item_rubrics (item_id, source, rubric) VALUES (?, ?, ?)",
            [(target, source, rubric) for target, entry in changed for rubric in entry.rubrics],
        )
        return len(changed)

    def _update_changed(
        self,
        known: list[tuple[_Entry, sqlite3.Row]],
        touched: set[str],
        now: datetime,
        stamp: str | None,
    ) -> tuple[int, int]:
        """New text from the source that first brought an item: keep id and
        published date, set updated. A new view count alone is no update.
        Returns how many items took new text, and how many a new count."""
        texts = []
        views = []
        moved = []
        tagged = []
        reordered = []
        for entry, row in known:
            item = entry.item
            if row["source"] != item.source:
                continue
            # Found by its link as it is now; by none that several of the
            # source's stories share, but for a story stored under that
            # link's id, which its title and date found (see _same_story):
            # found so again at the next fetch, or stored twice.
            wanted = entry.canonical
            if entry.generic:
                wanted = row["canonical_link"] if row["id"] != item.id else None
            if wanted != row["canonical_link"]:
                moved.append((wanted, row["id"]))
            changed = row["fingerprint"] != entry.fingerprint and not _date_moved_only(entry, row)
            if changed and (fingerprint := self._reordered_only(entry, row)) is not None:
                # Reads as before, its markup written with its attributes in
                # another order: no update, but the text as it is now.
                reordered.append((*_texts(item), fingerprint, row["id"]))
                changed = False
            if changed:
                texts.append((entry, row["id"], _stored_fingerprint(entry, row)))
            else:
                categories = _json_list(list(item.categories))
                if categories != row["categories"]:
                    # Not in the fingerprint (readers see rubrics), but what
                    # `feeds rubrics` reports: the source's categories now.
                    tagged.append((categories, row["id"]))
                if item.views is None or item.views == row["views"]:
                    continue
                views.append((item.views, stamp, row["id"]))
            touched.update(self._rubrics_of(row["id"]))
        assignments = ", ".join(f"{column} = ?" for column in _STORY_COLUMNS.split(", "))
        self._executemany(
            f"""
            UPDATE items SET {assignments}, updated = ?, last_seen = ?, fingerprint = ?
            WHERE id = ?
            """,
            [
                (*_story(e.item), _text(e.item.updated or now), stamp, fingerprint, target)
                for e, target, fingerprint in texts
            ],
        )
        self._executemany("UPDATE items SET views = ?, last_seen = ? WHERE id = ?", views)
        self._executemany(
            "UPDATE items SET summary = ?, content = ?, fingerprint = ? WHERE id = ?", reordered
        )
        self._executemany("UPDATE items SET categories = ? WHERE id = ?", tagged)
        # A story is found by its link as it is now, not as it first was
        # (unless another stored story has that link already).
        self._executemany(
            """
            UPDATE items SET canonical_link = CASE
                WHEN EXISTS (SELECT 1 FROM items o WHERE o.canonical_link = ?1 AND o.id <> ?2)
                THEN NULL ELSE ?1 END
            WHERE id = ?2
            """,
            moved,
        )
        return len(texts), len(views)

    def _join_new(self, entries: list[_Entry]) -> None:
        """New items join the combined feed and their rubrics' feeds; none
        can be a member of any yet."""
        ordered = sorted(entries, key=lambda e: (e.item.published or _LATEST, e.item.id))
        self._number(
            (feed, entry.item.id)
            for entry in ordered
            for feed in dict.fromkeys((COMBINED, *entry.rubrics))
        )

    def _join_feeds(self, item_ids: list[str]) -> None:
        """Known items join every feed they are now in and were never in
        before (they gained a rubric). Leaving a rubric does not take an
        item out of the feed's archive."""
        for chunk in _chunks(item_ids, 400):
            marks = ",".join("?" * len(chunk))
            rows = self._execute(
                f"""
                WITH joining AS (
                    SELECT ? AS feed, id, published FROM items WHERE id IN ({marks})
                    UNION
                    SELECT r.rubric, i.id, i.published
                    FROM item_rubrics r JOIN items i ON i.id = r.item_id
                    WHERE r.item_id IN ({marks})
                )
                SELECT feed, id FROM joining j WHERE NOT EXISTS (
                    SELECT 1 FROM feed_members m WHERE m.feed = j.feed AND m.item_id = j.id)
                ORDER BY published, id
                """,
                [COMBINED, *chunk, *chunk],
            ).fetchall()
            self._number((row[0], row[1]) for row in rows)

    def _number(self, joining: Iterable[tuple[str, str]]) -> None:
        """Give each (feed, item id), in the order given (published, then
        id), the feed's next member number."""
        rows: list[tuple[str, int, str]] = []
        tops: dict[str, int] = {}
        for feed, item_id in joining:
            top = tops[feed] if feed in tops else self._top(feed)
            tops[feed] = top + 1
            rows.append((feed, top + 1, item_id))
        self._executemany("INSERT INTO feed_members (feed, seq, item_id) VALUES (?, ?, ?)", rows)

    def _top(self, feed: str) -> int:
        """The highest member number of a feed (0: none yet)."""
        row = self._execute(
            "SELECT seq FROM feed_members WHERE feed = ? ORDER BY seq DESC LIMIT 1", (feed,)
        ).fetchone()
        return int(row[0]) if row else 0

    def archive_pages(self, slug: str, size: int, current: set[str]) -> list[ArchivePage]:
        """Every archive page of a feed, oldest first, after recording the
        new ones: each run of `size` members is a page, and so are the
        members left over when one of them is not in the feed's `current`
        document (it came late with an old date, or left the rubric): no
        member is ever out of both the archive and the current document.
        A page recorded earlier keeps its range whatever the sizes are now;
        with `size` 0 no page is added."""
        pages = [
            ArchivePage(slug, int(row[0]), int(row[1]), int(row[2]), _date(row[3]))
            for row in self._execute(
                "SELECT page, first_seq, last_seq, changed FROM archive_pages WHERE feed = ? "
                "ORDER BY page",
                (slug,),
            )
        ]
        if size <= 0:
            return pages
        end = pages[-1].last if pages else 0
        tail = [
            str(row[0])
            for row in self._execute(
                "SELECT item_id FROM feed_members WHERE feed = ? AND seq > ? ORDER BY seq",
                (slug, end),
            )
        ]
        ranges = [(end + n + 1, end + n + size) for n in range(0, len(tail) - size + 1, size)]
        rest = len(tail) % size
        if rest and not current.issuperset(self._stored(tail[-rest:])):
            # (A story taken out by `forget` keeps its number, but is in no
            # document: it seals no page early.)
            ranges.append((end + len(tail) - rest + 1, end + len(tail)))
        fresh = [
            ArchivePage(slug, len(pages) + number, first, last)
            for number, (first, last) in enumerate(ranges, 1)
        ]
        self._executemany(
            "INSERT INTO archive_pages (feed, page, first_seq, last_seq) VALUES (?, ?, ?, ?)",
            [(page.slug, page.number, page.first, page.last) for page in fresh],
        )
        return pages + fresh

    def archive_page_counts(self) -> dict[str, int]:
        """Feed slug -> how many archive pages are recorded for it."""
        return {
            str(row[0]): int(row[1])
            for row in self._execute("SELECT feed, MAX(page) FROM archive_pages GROUP BY feed")
        }

    def archived_ids(self, page: ArchivePage) -> list[str]:
        """The ids of one archive page's items, newest member first."""
        rows = self._execute(
            "SELECT item_id FROM feed_members WHERE feed = ? AND seq BETWEEN ? AND ? "
            "ORDER BY seq DESC",
            (page.slug, page.first, page.last),
        )
        return [str(row[0]) for row in rows]

    def archive_rows(self, ids: list[str]) -> dict[str, ArchiveRow]:
        """The stored items with these ids as archive pages write them."""
        found: dict[str, ArchiveRow] = {}
        for chunk in _chunks(list(dict.fromkeys(ids)), 500):
            marks = ",".join("?" * len(chunk))
            select = _ARCHIVE_SELECT if self._utf8 else _ARCHIVE_TEXT_SELECT
            cursor = self._tuples(f"SELECT {select} FROM items i WHERE i.id IN ({marks})", chunk)
            rows: Iterable[Sequence[Any]] = (
                cursor if self._utf8 else [_utf8_texts(row) for row in cursor]
            )
            for row in rows:
                published, updated, rubrics = row[6:9]
                # Built from the row as it comes: keywords cost a fifth of
                # reading it.
                found[row[0]] = ArchiveRow._make(
                    (
                        *row[:6],
                        datetime.fromisoformat(published),
                        datetime.fromisoformat(updated) if updated else None,
                        tuple(sorted(rubrics.split(","))) if rubrics else (),
                        *row[9:],
                    )
                )
        return found

    def _rubrics_of(self, item_id: str) -> set[str]:
        rows = self._execute(
            "SELECT DISTINCT rubric FROM item_rubrics WHERE item_id = ?", (item_id,)
        )
        return {row[0] for row in rows}

    def latest(
        self, rubric: str | None = None, limit: int = 50, *, members: int | None = None
    ) -> list[Item]:
        """The newest items, newest first (ties broken by id), of one rubric
        or of all. `members`: the rubric's count, when the caller has it."""
        where = ""
        params: list[object] = [limit]
        if rubric is not None:
            # Walking the newest items and keeping the rubric's takes about
            # limit * all / members probes; gathering and sorting every
            # member, about members. 25x faster for a rubric of a sixth of
            # 50,000 items; the set stays the choice for a rare rubric.
            if members is None:
                members = self.count(rubric)
            if limit * self.count() < members * members:
                where = (
                    "WHERE EXISTS (SELECT 1 FROM item_rubrics r "
                    "WHERE r.rubric = ? AND r.item_id = i.id)"
                )
            else:
                where = "WHERE i.id IN (SELECT item_id FROM item_rubrics WHERE rubric = ?)"
            params.insert(0, rubric)
        rows = self._tuples(
            f"SELECT {_ITEM_SELECT} FROM items i {where} "
            "ORDER BY i.published DESC, i.id DESC LIMIT ?",
            params,
        ).fetchall()
        return [_item(row) for row in rows]

    def count(self, rubric: str | None = None) -> int:
        if rubric is None:
            return int(self._execute("SELECT count(*) FROM items").fetchone()[0])
        return int(
            self._execute(
                "SELECT count(DISTINCT item_id) FROM item_rubrics WHERE rubric = ?", (rubric,)
            ).fetchone()[0]
        )

    def meta(self, key: str) -> str:
        """A value the application keeps in the store ('' when unset)."""
        row = self._execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def set_meta(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def pages(self, urls: list[str]) -> dict[str, tuple[str, datetime | None]]:
        """Cached article pages: url -> (content, published)."""
        found: dict[str, tuple[str, datetime | None]] = {}
        for chunk in _chunks(list(dict.fromkeys(urls)), 500):
            marks = ",".join("?" * len(chunk))
            for row in self._execute(
                f"SELECT url, content, published FROM pages WHERE url IN ({marks})", chunk
            ):
                found[row[0]] = (row[1], _date(row[2]))
        return found

    def save_page(self, url: str, content: str, published: datetime | None, now: datetime) -> None:
        self._execute(
            "INSERT INTO pages (url, content, published, fetched) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET content = excluded.content, "
            "published = excluded.published, fetched = excluded.fetched",
            (url, content, _text(published), _text(now)),
        )
        self._execute("DELETE FROM page_failures WHERE url = ?", (url,))

    def page_tries(self, urls: list[str]) -> dict[str, int]:
        """Article pages that could not be fetched: url -> how many runs
        tried (only those tried at all)."""
        found: dict[str, int] = {}
        for chunk in _chunks(list(dict.fromkeys(urls)), 500):
            marks = ",".join("?" * len(chunk))
            for url, tries in self._tuples(
                f"SELECT url, tries FROM page_failures WHERE url IN ({marks})", chunk
            ):
                found[url] = tries
        return found

    def failed_pages(self) -> list[FailedPage]:
        """Article pages that could not be fetched, with the source of the
        stored story each is the page of ("" when none holds it now), by
        source, then page."""
        found = []
        for url, tries, error, last_try in self._tuples(
            "SELECT url, tries, error, last_try FROM page_failures"
        ):
            link = canonical_link(url)
            row = (
                self._execute(
                    "SELECT source FROM items WHERE canonical_link = ?", (link,)
                ).fetchone()
                if link
                else None
            )
            source = row[0] if row is not None else ""
            found.append(FailedPage(source, url, tries, error, datetime.fromisoformat(last_try)))
        return sorted(found, key=lambda page: (page.source, page.url))

    def retry_pages(self, keys: Collection[str] = ()) -> list[FailedPage]:
        """Forget the failed tries at the article pages named in `keys`, or
        at those of the sources named there (at every one, when `keys` is
        empty), so that each is tried again; and have the next fetch of
        their sources ask for the whole body (behind a 304 no item is read,
        nor its page fetched). Returns those pages, as they were."""
        chosen = [
            page
            for page in self.failed_pages()
            if not keys or page.source in keys or page.url in keys
        ]
        for chunk in _chunks([page.url for page in chosen], 500):
            marks = ",".join("?" * len(chunk))
            self._execute(f"DELETE FROM page_failures WHERE url IN ({marks})", chunk)
        for chunk in _chunks(sorted({page.source for page in chosen if page.source}), 500):
            marks = ",".join("?" * len(chunk))
            # Marked as read otherwise than now (a `read_as` no reading
            # gives): a run of the source in flight, which started from the
            # old one, then writes back neither its validators nor its
            # reading (see `Attempt.read_from`).
            self._execute(
                f"UPDATE sources SET etag = '', last_modified = '', read_as = '-' || read_as "
                f"WHERE name IN ({marks})",
                chunk,
            )
        return chosen

    def page_failed(self, url: str, error: str, now: datetime) -> None:
        """Count a failed try at an article page (see `page_tries`)."""
        self._execute(
            "INSERT INTO page_failures (url, tries, error, last_try) VALUES (?, 1, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET tries = tries + 1, error = excluded.error, "
            "last_try = excluded.last_try",
            (url, error, _text(now)),
        )

    def category_counts(self, key: Callable[[str], str] | None = None) -> dict[str, int]:
        """How many stored items carry each source category, as written;
        with `key`, spellings with the same key (the vocabulary's folding:
        `Fashion`, `FASHION`, ` fashion `) are one category, named by its
        most frequent spelling, and an item carrying two of them counts once."""
        items: dict[str, set[str]] = {}
        spellings: dict[str, Counter[str]] = {}
        for item_id, name in self._item_categories():
            group = key(name) if key else name
            items.setdefault(group, set()).add(item_id)
            spellings.setdefault(group, Counter())[name] += 1
        return {spellings[group].most_common(1)[0][0]: len(ids) for group, ids in items.items()}

    def waiting_for_rubrics(self, slugs_for: Callable[[str], tuple[str, ...]]) -> dict[str, int]:
        """For each rubric, how many stored items carry a category that
        maps to it (`slugs_for`, the config's vocabulary now) but are not in
        it: they were stored before the rubric or alias was added, and join
        it when their source is next read."""
        tagged = {
            (str(row[0]), str(row[1]))
            for row in self._execute("SELECT item_id, rubric FROM item_rubrics")
        }
        waiting: dict[str, set[str]] = {}
        for item_id, category in self._item_categories():
            for slug in slugs_for(category):
                if (item_id, slug) not in tagged:
                    waiting.setdefault(slug, set()).add(item_id)
        return {slug: len(ids) for slug, ids in waiting.items()}

    def _item_categories(self) -> Iterator[tuple[str, str]]:
        """(item id, source category) for every category of every item."""
        for item_id, category in self._execute(
            "SELECT items.id, value FROM items, json_each(items.categories)"
        ):
            yield str(item_id), str(category)

    def identity(self) -> str:
        """A random name for this store, made on first use: tells its
        files from those another store wrote (one rebuilt after a loss)."""
        found = self.meta("identity")
        if not found:
            with self.transaction():
                found = self.meta("identity") or uuid.uuid4().hex
                self.set_meta("identity", found)
        return found

    def steady_updated(
        self, feed: str, updated: datetime, entries: Sequence[str], now: datetime
    ) -> datetime:
        """A feed's `updated` to publish, from `updated` (from its entries'
        dates) and what it said last time: never earlier. An entry that
        leaves the feed (a story retagged out of its rubric) can leave only
        older ones, and the feed said a later date than they have; changed,
        it now says `now`. Kept per feed with a digest of its entries (the
        ids, in order), so that a feed whose entries did not change says
        the same as before."""
        key = f"updated:{feed}"
        digest = hashlib.sha256("\x1f".join(entries).encode()).hexdigest()[:16]
        stamp, _space, before = self.meta(key).partition(" ")
        last = _date(stamp) if stamp else None
        if last is not None and not entries and before == digest:
            # Empty then and now: nothing in it changed, whatever `now` the
            # build has (a first build that made its store in the second
            # after it started said that second before, and the next build
            # the one after: the empty feed was rewritten, and its hub pinged).
            updated = last
        elif last is not None and updated <= last:
            changed = before != digest
            updated = max(last, now.replace(microsecond=0)) if changed else last
        value = f"{_text(updated)} {digest}"
        if before != digest or stamp != _text(updated):
            self.set_meta(key, value)
        return updated

    def first_stored(self, ids: Sequence[str]) -> datetime | None:
        """When the last of these items was first stored (None for none)."""
        if not ids:
            return None
        marks = ",".join("?" * len(ids))
        row = self._execute(
            f"SELECT max(first_seen) FROM items WHERE id IN ({marks})", list(ids)
        ).fetchone()
        return _date(row[0]) if row and row[0] else None

    def created(self) -> datetime:
        """When this store was made: the stable `updated` of an empty feed."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
        created = _date(row[0]) if row else None
        return created or datetime(1970, 1, 1, tzinfo=UTC)

    def _executemany(self, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        if not rows:
            return
        try:
            self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StoreError(self.url, str(exc)) from exc

    def _tuples(self, sql: str, params: object = ()) -> sqlite3.Cursor:
        """`_execute` with rows as plain tuples (no sqlite3.Row to build)."""
        try:
            cursor = self._db.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            raise StoreError(self.url, str(exc)) from exc

    def _execute(self, sql: str, params: object = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            raise StoreError(self.url, str(exc)) from exc


#: An item row and its rubrics, as `_item` reads them (items aliased `i`).
_ITEM_SELECT = (
    ", ".join("i." + column.strip() for column in _ITEM_COLUMNS.split(","))
    + ", (SELECT group_concat(DISTINCT r.rubric) FROM item_rubrics r"
    " WHERE r.item_id = i.id) AS rubrics"
)

#: What archive_rows reads: texts as their stored UTF-8 bytes.
_ARCHIVE_SELECT = (
    "i.id, CAST(i.title AS BLOB), i.link, CAST(i.summary AS BLOB), CAST(i.content AS BLOB), "
    "CAST(i.author AS BLOB), i.published, i.updated, (SELECT group_concat(DISTINCT r.rubric) "
    "FROM item_rubrics r WHERE r.item_id = i.id), i.image, i.image_type, i.image_length"
)

#: _ARCHIVE_SELECT with the texts as text, for a store not in UTF-8.
_ARCHIVE_TEXT_SELECT = _ARCHIVE_SELECT.replace("CAST(", "").replace(" AS BLOB)", "")


def _utf8_texts(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row of _ARCHIVE_TEXT_SELECT with its texts as UTF-8, as
    _ARCHIVE_SELECT reads them from a UTF-8 store."""
    item_id, title, link, summary, content, author, *rest = row
    texts = (title.encode(), link, summary.encode(), content.encode(), author.encode())
    return (item_id, *texts, *rest)


#: What the source says of a story, written alike by insert and update.
_STORY_COLUMNS = (
    "title, guid, link, summary, content, author, series, views, categories, "
    "image, image_type, image_length"
)
_STORY_WIDTH = len(_STORY_COLUMNS.split(", "))


#: json.dumps(..., ensure_ascii=False) without building an encoder per call.
_json_list = json.JSONEncoder(ensure_ascii=False).encode


def _story(item: Item) -> tuple[object, ...]:
    return (
        item.title,
        item.guid,
        item.link,
        item.summary,
        item.content,
        item.author,
        item.series,
        item.views,
        _json_list(list(item.categories)),
        item.image,
        item.image_type,
        item.image_length,
    )


#: How far from a forgotten story's date one of the same source and title,
#: with neither link nor guid, is taken for it: a text page's headline is
#: dated anew once the page prints its day (by a day at most), and a story
#: of the same title some days later (a weekly column) is another one.
FORGOTTEN_TITLE_DAYS = 2


def _near_any(published: datetime | None, forgotten: list[datetime | None] | None) -> bool:
    """Whether a link-less story of a forgotten one's source and title is
    that story: dated within FORGOTTEN_TITLE_DAYS of it (or either undated)."""
    if not forgotten:
        return False
    reach = timedelta(days=FORGOTTEN_TITLE_DAYS)
    return any(
        published is None or date is None or abs(published - date) <= reach for date in forgotten
    )


def _no_link(item: Item) -> bool:
    return not item.link and not item.guid


def _unlinked(item: Item) -> bool:
    """An item known only by its title and date: no link, no guid."""
    return not item.link and not item.guid and item.published is not None


def _texts(item: Item) -> tuple[str, str]:
    return item.summary, item.content


#: A start tag with more than one attribute, as cleaned HTML writes it.
_ATTRIBUTES = re.compile(r'<([a-zA-Z][\w:-]*)((?: [^\s="<>/]+(?:="[^"]*")?){2,})(\s*/?)>')
_ATTRIBUTE = re.compile(r' [^\s="<>/]+(?:="[^"]*")?')


def _attributes_sorted(markup: str) -> str:
    """`markup` with the attributes of each tag in sorted order."""

    def sort(found: re.Match[str]) -> str:
        attributes = sorted(_ATTRIBUTE.findall(found.group(2)))
        return f"<{found.group(1)}{''.join(attributes)}{found.group(3)}>"

    return _ATTRIBUTES.sub(sort, markup)


def _date_key(item: Item) -> tuple[str, str, str]:
    return (item.source, item.title, _text(item.published) or "")


#: The story columns a reader sees (views are not a change).
_SHOWN = tuple(column for column in _STORY_COLUMNS.split(", ") if column != "views")


def _date_moved_only(entry: _Entry, row: sqlite3.Row) -> bool:
    """Whether the item reads as stored but for its published date, which
    the store keeps as first given: a date that moves with the fetch
    ("3 часа назад", "just now") is then no update (a reader would see a
    new `updated` and nothing else, at every fetch)."""
    item = entry.item
    first = _date(row["published"])
    if item.published is None or first is None or item.published == first:
        return False
    return bool(item.evolve(published=first).fingerprint() == row["fingerprint"])


def _stored_fingerprint(entry: _Entry, row: sqlite3.Row) -> str:
    """The fingerprint of an updated story as stored: with the published
    date it keeps (the first given), so that a date which moves with the
    fetch is found the same at the next one (_date_moved_only)."""
    item = entry.item
    first = _date(row["published"])
    if item.published is None or first is None or item.published == first:
        return entry.fingerprint
    return item.evolve(published=first).fingerprint()


def _shown(story: Item | sqlite3.Row) -> tuple[object, ...]:
    if isinstance(story, Item):
        values = dict(zip(_STORY_COLUMNS.split(", "), _story(story), strict=True))
        return tuple(values[column] for column in _SHOWN)
    return tuple(story[column] for column in _SHOWN)


#: Most source runs a Writer commits together.
WRITES_PER_COMMIT = 32
#: How long a Writer keeps its transaction open for one more run's write
#: after the last (seconds), and how long at most in all.
COMMIT_LINGER = 0.05
COMMIT_WITHIN = 0.5


class Writer:
    """One thread that stores for many: the service's source runs hand it
    their writes and wait for their commit. Each write is made in a
    savepoint of its own (one that fails is undone alone; a commit that
    fails fails them all), and writes share a transaction and its commit:
    after each, the transaction stays open `linger` seconds for another,
    up to `most` writes or `within` seconds in all.
    Each commit writes every index page its writes touched to the
    write-ahead log, again for every commit: for a first pass over 1,000
    sources of 50 items, 1.08 GB of log with a commit per source, 1.86 GB
    written in all with a commit per run of writes that came while others
    were stored (271 commits), 0.91-0.93 GB now (33 commits); and the
    checkpoints that copy the log back came as often."""

    def __init__(
        self,
        url: str,
        *,
        most: int = WRITES_PER_COMMIT,
        linger: float = COMMIT_LINGER,
        within: float = COMMIT_WITHIN,
    ) -> None:
        self.url = url
        self._most = most
        self._linger = linger
        self._within = within
        self._jobs: queue.SimpleQueue[_Write[Any] | None] = queue.SimpleQueue()
        self._closed = False
        #: close() has been seen by the thread: nothing more will come.
        self._ended = False
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="feeds-store", daemon=True)
        self._thread.start()

    def write(self, work: Callable[[Store], _T]) -> _T:
        """`work(store)` done and committed; raises what it raised, or
        StoreError when the commit failed (then nothing of it is stored)."""
        job = _Write(work)
        with self._guard:
            if self._closed:
                raise StoreError(self.url, "the store's writer has stopped")
            self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def close(self) -> None:
        """Store what was handed over already, then stop."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            with Store(self.url) as store, store.bulk():
                while self._store_next(store):
                    pass
        except Exception as exc:
            # A store that cannot be opened, or a fault: the writes handed
            # over from now on fail with it (none waits for ever) until
            # close(), unless that came already.
            failure = exc if isinstance(exc, StoreError) else StoreError(self.url, repr(exc))
            while not self._ended and (job := self._jobs.get()) is not None:
                job.error = failure
                job.done.set()

    def _store_next(self, store: Store) -> bool:
        """Store the next write and those that come soon after it, in one
        transaction; False once close() has been called."""
        job = self._jobs.get()
        if job is None:
            self._ended = True
            return False
        batch = [job]
        try:
            with store.transaction():
                self._store_coming(store, batch)
                if not store.in_transaction():
                    # An error (a full disk) made SQLite roll back the whole
                    # transaction, not just its savepoint: the writes before
                    # it are undone, and none is taken after it.
                    raise StoreError(self.url, "an error rolled the transaction back")
        except BaseException as exc:  # no transaction, or no commit: none stored
            for taken in batch:
                if taken.error is None:
                    taken.error = exc
            if not isinstance(exc, StoreError):
                raise
        finally:
            for taken in batch:
                taken.done.set()
        return not self._ended

    def _store_coming(self, store: Store, batch: list[_Write[Any]]) -> None:
        """Make the writes of `batch` (one so far), then of those handed
        over meanwhile or within `linger` of the last, into `batch`."""
        until = time.monotonic() + self._within
        job = batch[0]
        while True:
            try:
                with store.savepoint():
                    job.result = job.work(store)
            except BaseException as exc:  # the caller's to handle
                job.error = exc
            if len(batch) >= self._most or not store.in_transaction():
                return
            wait = min(self._linger, until - time.monotonic())
            try:
                following = self._jobs.get(timeout=wait) if wait > 0 else self._jobs.get_nowait()
            except queue.Empty:
                return
            if following is None:
                self._ended = True
                return
            batch.append(following)
            job = following


class _Write(Generic[_T]):
    """One piece of work handed to a Writer, and what came of it."""

    def __init__(self, work: Callable[[Store], _T]) -> None:
        self.work = work
        self.result: _T | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


@dataclass(slots=True)
class _Entry:
    """One item of an upsert batch, with what the store derives from it.
    `rubrics` is the union over the batch's copies of the same story."""

    item: Item
    canonical: str | None
    fingerprint: str
    rubrics: tuple[str, ...]
    #: The batch gives its link to stories with different titles.
    generic: bool = False


class _Placeholder(dict):  # type: ignore[type-arg]
    """Stands for a row inserted earlier in the same batch. Its columns are
    filled in when one is first read: one is made for every new story with
    a link, and most are never read (a first cycle of 50,000 stories)."""

    def __init__(self, entry: _Entry) -> None:
        super().__init__()
        self._entry = entry

    def __missing__(self, column: str) -> object:
        entry = self._entry
        self.update(
            id=entry.item.id,
            source=entry.item.source,
            title=entry.item.title,
            canonical_link=entry.canonical,
            fingerprint=entry.fingerprint,
            views=entry.item.views,
            published=_text(entry.item.published),
        )
        if column not in self:
            raise KeyError(column)  # a column a stored row has and this one not
        return dict.get(self, column)


def _same_story(entry: _Entry, row: Any, listed: set[str]) -> bool:
    """Whether a stored story found by the entry's link (or one stored
    earlier in the batch) is the entry's story.

    - A link the batch gives to several titles (a podcast's page, a
      ticker's front page): a copy with the same title from another
      source; from the same source, the story with the same title and date
      stored under that link's id while the source listed it alone (its
      entries then took ids of their own, see `shared_links`; it would be
      stored and published twice).
    - Else a copy from another source always is (syndicators retitle).
    - From the same source under another id: when the source no longer
      lists that id (it revised the guid); a story it still lists is
      another story, whatever its title. (Two entries of one fetch with
      one link and one title were merged before.)"""
    other = row["source"] != entry.item.source
    if entry.generic:
        if isinstance(row, _Placeholder) or row["title"] != entry.item.title:
            return False
        return bool(
            other or (row["id"] not in listed and row["published"] == _text(entry.item.published))
        )
    return bool(other or row["id"] not in listed)


def _dedupe(items: list[Item]) -> list[_Entry]:
    """One entry per story: a source listing a story twice, under one id or
    under two with the same link, merges the copies' rubrics; the first
    copy's text wins. (Were both copies kept, the stored story would take
    each one's text in turn: an update at every run.) A link the batch
    gives to stories with different titles (a podcast's page for every
    episode, a ticker's front page) identifies none of them."""
    links = [canonical_link(item.link) or None for item in items]
    titles: dict[str, str] = {}
    generic: set[str] = set()
    for item, link in zip(items, links, strict=True):
        if link and titles.setdefault(link, item.title) != item.title:
            generic.add(link)
    entries: dict[str, _Entry] = {}
    by_link: dict[str, _Entry] = {}
    for item, link in zip(items, links, strict=True):
        if not item.id:
            raise ValueError(f"item from {item.source!r} reached the store without an id")
        shared = link in generic
        seen = entries.get(item.id) or (by_link.get(link) if link and not shared else None)
        if seen is not None:
            seen.rubrics = tuple(sorted(set(seen.rubrics) | set(item.rubrics)))
            continue
        entry = entries[item.id] = _Entry(
            item=item,
            canonical=link,
            fingerprint=item.fingerprint(),
            rubrics=item.rubrics,
            generic=shared,
        )
        if link and not shared:
            by_link[link] = entry
    return list(entries.values())


#: Sorts an undated item (the store dates it "now") after every dated one.
_LATEST = datetime.max.replace(tzinfo=UTC)


def _unwritable(text: str | None) -> bool:
    """Whether stored text holds a character no feed can carry."""
    return text is not None and UNWRITABLE.search(text) is not None


def _writable_text(text: str | None) -> str | None:
    """Stored HTML with each such character replaced, as cleaning does."""
    return UNWRITABLE.sub("\ufffd", text) if text else text


def _chunks(values: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value)


def _state(row: sqlite3.Row) -> SourceState:
    return SourceState(
        name=row["name"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_attempt=_date(row["last_attempt"]),
        last_success=_date(row["last_success"]),
        last_error=row["last_error"],
        failures=row["failures"],
        last_status=row["last_status"],
        last_items=row["last_items"],
        next_due=_date(row["next_due"]),
        health=row["health"],
        moved_to=row["moved_to"],
        gone_url=row["gone_url"],
        fetches=row["fetches"],
        failures_total=row["failures_total"],
        not_modified=row["not_modified"],
        bytes=row["bytes"],
        seconds=row["seconds"],
        read_as=row["read_as"],
        retry_until=_date(row["retry_until"]),
        retry_url=row["retry_url"],
    )


def _item(row: Sequence[Any]) -> Item:
    """An Item from a row of _ITEM_SELECT, read by position (by name, the
    lookups cost a third of building the item)."""
    (
        item_id,
        source,
        title,
        guid,
        link,
        summary,
        content,
        author,
        series,
        views,
        categories,
        published,
        updated,
        image,
        image_type,
        image_length,
        rubrics,
    ) = row
    return Item(
        id=item_id,
        source=source,
        title=title,
        guid=guid,
        link=link,
        summary=summary,
        content=content,
        author=author,
        series=series,
        views=views,
        categories=tuple(json.loads(categories)),
        published=_date(published),
        updated=_date(updated),
        rubrics=tuple(sorted(rubrics.split(","))) if rubrics else (),
        image=image,
        image_type=image_type,
        image_length=image_length,
    )
