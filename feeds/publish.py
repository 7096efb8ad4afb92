"""Publish stage: files into output/, atomically. The only module that writes
there.

A file is written to a temporary file in the same folder, flushed to disk
and renamed over the old one, so a reader (or a web server) sees either the
old file or the new one, never half of one. A file whose bytes did not
change is not touched at all: its modification time stays, and partners'
conditional requests keep getting "304 Not Modified". OSError becomes
PublishError.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import queue
import tempfile
import threading
import time
from pathlib import Path

from feeds.errors import PublishError
from feeds.model import ARCHIVE_DIR

_TEMP_PREFIX = ".feeds-"
_TEMP_SUFFIX = ".tmp"
#: How far ahead of the clock a file's mtime (its Last-Modified) may be put
#: so that versions written within one second still read as newer.
MAX_LEAD = 2


def prepare_dir(directory: Path) -> None:
    """Create the output folder and sweep temporary files a killed run left
    where feeds writes: there and in the archive's folders, not in any
    other folder below (another site's output may live there)."""
    pattern = f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in [*directory.glob(pattern), *directory.glob(f"{ARCHIVE_DIR}/*/{pattern}")]:
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise PublishError(str(directory), exc.strerror or str(exc)) from exc


def publish_file(directory: Path, name: str, data: bytes) -> bool:
    """Put `data` at directory/name unless it is already there.
    True when the file was written. Raises PublishError."""
    target = directory / name
    previous: float | None = None
    try:
        previous = target.stat().st_mtime
        if target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _failure(target, exc) from exc
    temp = ""
    try:
        handle, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            now = int(time.time())
            if previous is not None and int(previous) >= now:
                # Replacing a version written this same second: the new
                # Last-Modified (whole seconds) must still be later, or a
                # poller sending only If-Modified-Since gets a 304 for it.
                # Never more than MAX_LEAD ahead of the clock, though: a
                # feed the service rewrites more often than once a second
                # would otherwise run a second ahead per rewrite, for days.
                later = min(int(previous) + 1, now + MAX_LEAD)
                os.utime(stream.fileno(), (later, later))
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
        temp = ""
        _sync_dir(directory)
    except OSError as exc:
        raise _failure(target, exc) from exc
    finally:
        if temp:
            _remove(temp)
    return True


def _remove(temp: str) -> None:
    """Remove a temporary file of a write that failed. A folder that took
    the file but refuses its rename (made immutable, or moved away, while
    it was written) refuses this too: the file is left for the next
    run's `prepare_dir`, and the write's own error is the one raised (this
    one, raised instead, was logged as a bug with its traceback)."""
    with contextlib.suppress(OSError):
        Path(temp).unlink(missing_ok=True)


def _failure(target: Path, exc: OSError) -> PublishError:
    """The error of writing `target`, naming the file in the way when one
    of its folders is a file: the system names only the target ("Not a
    directory"), an archive page for `output/` replaced by a file."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        for folder in target.parents:
            if folder.is_dir():
                break
            if os.path.lexists(folder):
                return PublishError(str(folder), "a file is in the way: a folder is needed here")
    return PublishError(str(target), exc.strerror or str(exc))


class NewFiles:
    """Files that are written once and never change (archive pages), many
    at a time: `add` hands each to a writer thread, which puts it in a
    temporary file beside its target while the caller renders the next;
    `commit` makes them all durable with one sync, then renames each into
    place. So none is ever seen half-written or, after a crash, empty, and
    one sync for all costs far less than one per file. Names may contain
    folders, created as needed. Raises PublishError; the temporary files of
    a failed batch are removed."""

    def __init__(self, directory: Path, backlog: int = 4) -> None:
        self.directory = directory
        self._written: list[tuple[str, Path]] = []
        # Two C-level queues, not a queue.Queue: the caller is a process's
        # main thread, where Ctrl-C may land anywhere, and a Ctrl-C inside
        # a Python-level Condition can leave its lock released twice or
        # held for ever (then abort() would hang). `_room` holds one token
        # per file the writer may have waiting.
        self._queue: queue.SimpleQueue[tuple[Path, bytes] | None] = queue.SimpleQueue()
        self._room: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(backlog):
            self._room.put(None)
        self._error: PublishError | None = None
        self._thread: threading.Thread | None = None
        # Files written and on their way to the disk: see _let_go.
        self._flushing: collections.deque[str] = collections.deque()

    def add(self, name: str, data: bytes) -> None:
        if self._error is not None:
            self.abort()
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(target=self._write_all, name="feeds-newfiles")
            self._thread.daemon = True
            self._thread.start()
        self._room.get()
        self._queue.put((self.directory / name, data))

    def _write_all(self) -> None:
        while (job := self._queue.get()) is not None:
            self._room.put(None)
            if self._error is not None:
                continue  # drain: the batch has failed
            target, data = job
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                handle, temp = tempfile.mkstemp(
                    prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=target.parent
                )
                self._written.append((temp, target))
                with os.fdopen(handle, "wb") as stream:
                    os.fchmod(stream.fileno(), 0o644)
                    stream.write(data)
                    stream.flush()
                    _drop_cached(stream.fileno())  # starts writing it out, now
                self._let_go(temp)
            except OSError as exc:
                self._error = _failure(target, exc)
            except Exception as exc:  # never leave add() blocked on a dead writer
                self._error = PublishError(str(target), f"cannot write: {exc!r}")

    def _let_go(self, temp: str) -> None:
        """Take out of the page cache the files written a while ago, whose
        writing out to the disk started when they were written and is done
        by then. Archive pages are written once and seldom read, so holding
        them in memory helps no reader; and the memory they give back is
        where the next pages go. Memory the system has not touched yet
        costs several times more to write into: on a virtual machine
        whose memory its host hands over page by page, 546 MB of new
        pages took 1.2-1.4 s of CPU to write, 0.3 s so."""
        self._flushing.append(temp)
        while len(self._flushing) > _FLUSHING:
            _drop_file(self._flushing.popleft())

    def _drop_flushing(self) -> None:
        while self._flushing:
            _drop_file(self._flushing.popleft())

    def _finish(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def commit(self) -> int:
        """Put every added file in place; returns how many."""
        self._finish()
        if self._error is not None:
            self.abort()
            raise self._error
        if not self._written:
            return 0
        os.sync()
        self._drop_flushing()  # on disk now: all of them
        folders = set()
        for done, (temp, target) in enumerate(self._written):
            try:
                os.replace(temp, target)
            except OSError as exc:
                del self._written[:done]
                self.abort()
                raise PublishError(str(target), exc.strerror or str(exc)) from exc
            folders.add(target.parent)
        for folder in folders:
            _sync_dir(folder)
        count = len(self._written)
        self._written.clear()
        return count

    def abort(self) -> None:
        """Forget the batch: its temporary files are removed."""
        self._finish()
        self._flushing.clear()
        for temp, _target in self._written:
            _remove(temp)
        self._written.clear()


#: New files on their way to the disk at a time, before they are dropped
#: from the page cache (a few MB: written out by then).
_FLUSHING = 32


def _drop_cached(handle: int) -> None:
    """Write the file's dirty pages out (without waiting for them) and drop
    those already clean from the page cache. Advice only: it never fails a
    write, and where there is no such call it does nothing."""
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):
            os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_DONTNEED)


def _drop_file(path: str) -> None:
    """`_drop_cached` for a file written and closed before (opened to read
    only: no error of its writing can surface here)."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        _drop_cached(handle)
    finally:
        with contextlib.suppress(OSError):
            os.close(handle)


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
