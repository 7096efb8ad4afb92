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

import os
import tempfile
from pathlib import Path

from feeds.errors import PublishError

_TEMP_PREFIX = ".feeds-"
_TEMP_SUFFIX = ".tmp"


def prepare_dir(directory: Path) -> None:
    """Create the output folder and sweep temporary files a killed run left
    (there and in its subfolders)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.glob(f"**/{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise PublishError(str(directory), exc.strerror or str(exc)) from exc


def publish_file(directory: Path, name: str, data: bytes) -> bool:
    """Put `data` at directory/name unless it is already there.
    True when the file was written. Raises PublishError."""
    target = directory / name
    try:
        if target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise PublishError(str(target), exc.strerror or str(exc)) from exc
    temp = ""
    try:
        handle, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=directory)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
        temp = ""
        _sync_dir(directory)
    except OSError as exc:
        raise PublishError(str(target), exc.strerror or str(exc)) from exc
    finally:
        if temp:
            Path(temp).unlink(missing_ok=True)
    return True


class NewFiles:
    """Files that are written once and never change (archive pages), many
    at a time: `add` puts each in a temporary file beside its target, and
    `commit` makes them all durable with one sync, then renames each into
    place; so none is ever seen half-written or, after a crash, empty. One
    sync for all costs far less than one per file. Names may contain
    folders, created as needed. Raises PublishError; temporary files of a
    failed batch are removed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._pending: list[tuple[str, Path]] = []

    def add(self, name: str, data: bytes) -> None:
        target = self.directory / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(
                prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=target.parent
            )
            self._pending.append((temp, target))
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temp, 0o644)
        except OSError as exc:
            self.abort()
            raise PublishError(str(target), exc.strerror or str(exc)) from exc

    def commit(self) -> int:
        """Put every added file in place; returns how many."""
        count = len(self._pending)
        if not count:
            return 0
        os.sync()
        folders = set()
        try:
            while self._pending:
                temp, target = self._pending[0]
                os.replace(temp, target)
                self._pending.pop(0)
                folders.add(target.parent)
        except OSError as exc:
            self.abort()
            raise PublishError(str(target), exc.strerror or str(exc)) from exc
        for folder in folders:
            _sync_dir(folder)
        return count

    def abort(self) -> None:
        for temp, _target in self._pending:
            Path(temp).unlink(missing_ok=True)
        self._pending.clear()


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
