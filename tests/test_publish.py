"""Publish stage: files land in output/ whole or not at all, and an
unchanged file is never touched (its mtime stays, so conditional requests
keep getting 304)."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import PublishError
from feeds.publish import NewFiles, prepare_dir, publish_file

from .conftest import Unwritable

OLD_MTIME_NS = 1_600_000_000_000_000_000  # 2020-09-13, long before this test


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".feeds-"))


def age(path: Path) -> None:
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    assert path.stat().st_mtime_ns == OLD_MTIME_NS


# --------------------------------------------------------------------------
# prepare_dir


def test_prepare_dir_creates_missing_folders(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "output"
    prepare_dir(out)
    assert out.is_dir()


def test_prepare_dir_accepts_an_existing_folder(tmp_path: Path) -> None:
    (tmp_path / "all.atom").write_bytes(b"<feed/>")
    prepare_dir(tmp_path)
    prepare_dir(tmp_path)
    assert (tmp_path / "all.atom").read_bytes() == b"<feed/>"


def test_prepare_dir_sweeps_leftover_temporary_files_only(tmp_path: Path) -> None:
    (tmp_path / ".feeds-abc123.tmp").write_bytes(b"half a fee")
    (tmp_path / ".feeds-x.tmp").write_bytes(b"")
    keep = {
        "all.atom": b"<feed/>",
        "index.html": b"<html></html>",
        ".feeds-notes.txt": b"not ours to delete",
        "feeds-abc.tmp": b"no leading dot",
    }
    for name, data in keep.items():
        (tmp_path / name).write_bytes(data)

    prepare_dir(tmp_path)

    assert not (tmp_path / ".feeds-abc123.tmp").exists()
    assert not (tmp_path / ".feeds-x.tmp").exists()
    for name, data in keep.items():
        assert (tmp_path / name).read_bytes() == data


def test_prepare_dir_sweeps_the_archive_but_no_other_folder_below(tmp_path: Path) -> None:
    """An output folder may hold another site's output below it: its
    temporaries are its own writer's, perhaps mid-write."""
    ours = tmp_path / "archive" / "art" / ".feeds-1.tmp"
    theirs = tmp_path / "other-site" / "output" / ".feeds-abc.tmp"
    for path in (ours, theirs):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"half")

    prepare_dir(tmp_path)

    assert not ours.exists()
    assert theirs.read_bytes() == b"half"


def test_prepare_dir_on_a_file_raises_publish_error(tmp_path: Path) -> None:
    blocker = tmp_path / "output"
    blocker.write_bytes(b"not a folder")
    with pytest.raises(PublishError) as caught:
        prepare_dir(blocker)
    assert caught.value.path == str(blocker)
    assert str(blocker) in str(caught.value)


# --------------------------------------------------------------------------
# publish_file


def test_publish_writes_a_new_file(tmp_path: Path) -> None:
    data = "<feed>Искусство</feed>\n".encode()
    assert publish_file(tmp_path, "art.atom", data) is True
    assert (tmp_path / "art.atom").read_bytes() == data
    assert temp_files(tmp_path) == []


def test_published_file_is_readable_by_the_web_server(tmp_path: Path) -> None:
    """A temporary file starts private (0600); the published one must be
    world-readable, or the web server serves 403."""
    publish_file(tmp_path, "all.rss", b"<rss/>")
    mode = stat.S_IMODE((tmp_path / "all.rss").stat().st_mode)
    assert mode & 0o444 == 0o444
    assert mode & 0o022 == 0


def test_unchanged_bytes_leave_the_file_untouched(tmp_path: Path) -> None:
    data = b'{"version": "https://jsonfeed.org/version/1.1"}\n'
    target = tmp_path / "all.json"
    assert publish_file(tmp_path, "all.json", data) is True
    age(target)
    inode = target.stat().st_ino

    assert publish_file(tmp_path, "all.json", data) is False

    assert target.stat().st_mtime_ns == OLD_MTIME_NS
    assert target.stat().st_ino == inode
    assert target.read_bytes() == data
    assert temp_files(tmp_path) == []


def test_changed_bytes_replace_the_file(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    assert publish_file(tmp_path, "index.html", b"old page") is True
    age(target)

    assert publish_file(tmp_path, "index.html", b"new page") is True

    assert target.read_bytes() == b"new page"
    assert target.stat().st_mtime_ns != OLD_MTIME_NS
    assert temp_files(tmp_path) == []


def test_a_file_replaced_within_the_same_second_gets_a_later_last_modified(
    tmp_path: Path,
) -> None:
    """HTTP dates have whole seconds: a poller that sends only
    If-Modified-Since must see the second version as newer."""
    versions = [b"<feed>1</feed>", b"<feed>2</feed>", b"<feed>3</feed>"]
    seconds = []
    for data in versions:
        assert publish_file(tmp_path, "all.atom", data)
        seconds.append(int((tmp_path / "all.atom").stat().st_mtime))
    assert seconds[0] < seconds[1] < seconds[2]
    assert seconds[2] <= int(time.time()) + 2  # at most a second ahead per rewrite
    assert (tmp_path / "all.atom").read_bytes() == versions[2]


def test_a_file_replaced_many_times_a_second_keeps_last_modified_near_the_clock(
    tmp_path: Path,
) -> None:
    """The service publishes a busy feed more often than once a second, for
    days: its Last-Modified must not run ahead of the clock a second per
    rewrite (after a day it would be weeks in the future, later than any
    Date a server sends with it)."""
    started = time.time()
    for n in range(12):
        assert publish_file(tmp_path, "all.atom", b"<feed>%d</feed>" % n)
    written = (tmp_path / "all.atom").stat().st_mtime
    assert time.time() - started < 2  # the rewrites came faster than one a second
    assert written <= time.time() + 2


def test_shorter_and_empty_bytes_replace_the_file(tmp_path: Path) -> None:
    target = tmp_path / "feeds.opml"
    publish_file(tmp_path, "feeds.opml", b"a much longer first version")
    assert publish_file(tmp_path, "feeds.opml", b"short") is True
    assert target.read_bytes() == b"short"
    assert publish_file(tmp_path, "feeds.opml", b"") is True
    assert target.read_bytes() == b""
    assert publish_file(tmp_path, "feeds.opml", b"") is False


def test_failed_rename_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "all.atom"
    publish_file(tmp_path, "all.atom", b"old feed")
    age(target)

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)

    with pytest.raises(PublishError) as caught:
        publish_file(tmp_path, "all.atom", b"new feed")

    assert caught.value.path == str(target)
    assert str(target) in str(caught.value)
    assert target.read_bytes() == b"old feed"
    assert target.stat().st_mtime_ns == OLD_MTIME_NS
    assert temp_files(tmp_path) == []


def test_failed_rename_of_a_new_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_replace)

    with pytest.raises(PublishError) as caught:
        publish_file(tmp_path, "art.rss", b"<rss/>")

    assert caught.value.path == str(tmp_path / "art.rss")
    assert list(tmp_path.iterdir()) == []


def _unwritable_once_written(
    folder: Path, unwritable: Callable[[Path], Unwritable], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The folder made unwritable (immutable, or a file put in its place)
    between a file's writing and its rename: the rename fails, and so does
    removing the temporary file. Returns the modes it was made so in."""
    blocked = unwritable(folder)
    real_replace = os.replace
    modes: list[str] = []

    def replace_once_blocked(src: Any, dst: Any) -> None:
        if not blocked.how:
            modes.append(blocked.apply())
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_once_blocked)
    return modes


def test_a_folder_made_unwritable_mid_write_fails_with_the_writes_error(
    tmp_path: Path, unwritable: Callable[[Path], Unwritable], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its temporary file could not be removed either: that error, raised
    in its place, reached the service as a bug, with a traceback."""
    out = tmp_path / "output"
    out.mkdir()
    modes = _unwritable_once_written(out, unwritable, monkeypatch)
    with pytest.raises(PublishError) as caught:
        publish_file(out, "all.atom", b"<feed/>")
    assert modes in (["immutable"], ["file"])
    assert str(out) in str(caught.value)


def test_a_batch_whose_folder_is_made_unwritable_fails_with_the_renames_error(
    tmp_path: Path, unwritable: Callable[[Path], Unwritable], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "output"
    out.mkdir()
    batch = NewFiles(out)
    for number in range(3):
        batch.add(f"archive/all/{number + 1}.atom", b"<feed/>")
    modes = _unwritable_once_written(out / "archive" / "all", unwritable, monkeypatch)
    with pytest.raises(PublishError) as caught:
        batch.commit()
    assert modes in (["immutable"], ["file"])
    assert str(out / "archive" / "all") in str(caught.value)


def test_failed_write_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "art.json"
    publish_file(tmp_path, "art.json", b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)

    with pytest.raises(PublishError) as caught:
        publish_file(tmp_path, "art.json", b"new")

    assert caught.value.path == str(target)
    assert target.read_bytes() == b"old"
    assert temp_files(tmp_path) == []


def test_missing_directory_raises_publish_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(PublishError) as caught:
        publish_file(missing, "all.atom", b"<feed/>")
    assert caught.value.path == str(missing / "all.atom")
    assert not missing.exists()


def test_target_that_is_a_directory_raises_publish_error(tmp_path: Path) -> None:
    (tmp_path / "all.atom").mkdir()
    with pytest.raises(PublishError) as caught:
        publish_file(tmp_path, "all.atom", b"<feed/>")
    assert caught.value.path == str(tmp_path / "all.atom")
    assert (tmp_path / "all.atom").is_dir()
    assert temp_files(tmp_path) == []


def test_read_only_directory_raises_publish_error(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    out.chmod(0o555)
    try:
        if os.access(out, os.W_OK):
            pytest.skip("running with privileges that ignore directory permissions")
        with pytest.raises(PublishError) as caught:
            publish_file(out, "all.atom", b"<feed/>")
        assert caught.value.path == str(out / "all.atom")
        assert str(out / "all.atom") in str(caught.value)
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


class _Interrupted(Exception):
    """What the test's timer raises in the main thread, as Ctrl-C would."""


def _interrupt(_signum: int, _frame: object) -> None:
    raise _Interrupted


def test_a_batch_interrupted_while_handing_over_files_aborts_leaving_no_temporary_file(
    tmp_path: Path,
) -> None:
    # The timer lands at a different point of add() each round: waiting for
    # the writer, taking its turn, or handing over; abort() must always
    # finish and remove what the writer had started.
    data = b"<html>" + b"x" * 200_000 + b"</html>"
    previous = signal.signal(signal.SIGALRM, _interrupt)
    try:
        for round_ in range(300):
            batch = NewFiles(tmp_path / str(round_), backlog=1)
            batch.add("first.html", data)  # its writer thread started, before the timer
            with pytest.raises(_Interrupted):
                signal.setitimer(signal.ITIMER_REAL, 0.001 + round_ % 30 * 0.0003)
                for n in range(100_000):
                    batch.add(f"page/{n}.html", data)
            # In a thread of its own: a lock left held would hang it.
            aborting = threading.Thread(target=batch.abort, daemon=True)
            aborting.start()
            aborting.join(10)
            assert not aborting.is_alive(), "abort() hangs after an interrupted add()"
            assert not list(tmp_path.glob(f"{round_}/**/.feeds-*.tmp"))
            assert not list(tmp_path.glob(f"{round_}/**/*.html"))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------
# NewFiles: archive pages leave neither open files nor cached pages behind


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def resident_pages(path: Path) -> int:
    """How many of the file's pages are in the page cache (mincore)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t] + [ctypes.c_int] * 3 + [ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    with path.open("rb") as stream:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, stream.fileno(), 0)
    assert address not in (None, ctypes.c_void_p(-1).value)
    try:
        vector = ctypes.create_string_buffer(pages)
        assert libc.mincore(address, size, vector) == 0, os.strerror(ctypes.get_errno())
        return sum(byte & 1 for byte in vector.raw[:pages])
    finally:
        libc.munmap(address, size)


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")


@needs_proc
def test_a_batch_of_many_pages_puts_each_in_place_whole_and_keeps_no_file_open(
    tmp_path: Path,
) -> None:
    before = open_descriptors()
    pages = {
        f"archive/{feed}/{n}.atom": f"<feed>{feed} {n}</feed>".encode() * (n * 50 + 1)
        for feed in ("all", "art")
        for n in range(1, 61)
    }
    batch = NewFiles(tmp_path)
    for name, data in pages.items():
        batch.add(name, data)
    assert batch.commit() == len(pages)
    for name, data in pages.items():
        assert (tmp_path / name).read_bytes() == data
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    assert not list(tmp_path.rglob(".feeds-*"))
    assert open_descriptors() == before


@needs_proc
def test_a_batch_failing_after_many_pages_keeps_no_file_open_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "art").write_text("a file where a folder is needed")
    before = open_descriptors()
    batch = NewFiles(tmp_path)
    with pytest.raises(PublishError, match="a file is in the way"):
        for n in range(1, 80):
            batch.add(f"archive/all/{n}.atom", b"<feed/>" * 1000)
        batch.add("archive/art/1.atom", b"<feed/>")
        for n in range(80, 100):
            batch.add(f"archive/all/{n}.atom", b"<feed/>" * 1000)
        batch.commit()
    assert not list(tmp_path.rglob(".feeds-*"))
    assert not list(tmp_path.glob("archive/all/*.atom"))
    assert open_descriptors() == before


@needs_proc
def test_a_page_whose_closing_fails_fails_the_batch_by_its_name_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NFS and other network file systems report a failed write (a full
    quota) when the file is closed: that page's name, not another's, and
    no temporary file or open file left behind."""
    real_fdopen = os.fdopen

    class ClosingFails:
        def __init__(self, stream: Any) -> None:
            self.stream = stream

        def __getattr__(self, name: str) -> Any:
            return getattr(self.stream, name)

        def __enter__(self) -> ClosingFails:
            return self

        def __exit__(self, *exc: object) -> None:
            self.stream.close()
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    def bad_for_writing(handle: int) -> bool:
        writable = fcntl.fcntl(handle, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY
        return writable and f"{os.sep}bad{os.sep}" in os.readlink(f"/proc/self/fd/{handle}")

    def fdopen(handle: int, *args: Any, **kwargs: Any) -> Any:
        stream = real_fdopen(handle, *args, **kwargs)
        if bad_for_writing(handle) and kwargs.get("closefd", True):
            return ClosingFails(stream)
        return stream

    real_close = os.close

    def close(handle: int) -> None:
        failing = bad_for_writing(handle)
        real_close(handle)
        if failing:
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    # A stream's close, or a close of the descriptor itself.
    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(os, "close", close)
    before = open_descriptors()
    batch = NewFiles(tmp_path)
    with pytest.raises(PublishError) as failed:
        for n in range(1, 41):
            batch.add(f"archive/all/{n}.atom", b"<feed/>" * 1000)
        batch.add("archive/bad/1.atom", b"<feed/>" * 1000)
        for n in range(41, 60):
            batch.add(f"archive/all/{n}.atom", b"<feed/>" * 1000)
        batch.commit()
    assert str(failed.value) == (
        f"output {tmp_path / 'archive' / 'bad' / '1.atom'}: {os.strerror(errno.EDQUOT)}"
    )
    assert not list(tmp_path.rglob(".feeds-*"))
    assert not list(tmp_path.rglob("*.atom"))
    assert open_descriptors() == before


@pytest.mark.skipif(sys.platform != "linux", reason="mincore and posix_fadvise as on Linux")
def test_archive_pages_once_written_are_not_held_in_memory(tmp_path: Path) -> None:
    # A first run writes hundreds of MB of pages that readers seldom ask
    # for; kept in the page cache they would crowd out what is read.
    probe = tmp_path / "probe"
    probe.write_bytes(b"x" * 200_000)
    with probe.open("rb") as stream:
        os.fsync(stream.fileno())
        os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    if resident_pages(probe):
        pytest.skip("this file system keeps written pages in memory whatever it is told")
    pages = {f"archive/all/{n}.atom": b"<feed>" + b"y" * 300_000 + b"</feed>" for n in range(8)}
    batch = NewFiles(tmp_path)
    for name, data in pages.items():
        batch.add(name, data)
    batch.commit()
    published = tmp_path / "current.atom"
    publish_file(tmp_path, "current.atom", b"<feed>" + b"z" * 300_000 + b"</feed>")
    assert [resident_pages(tmp_path / name) for name in pages] == [0] * len(pages)
    # The current documents, read all the time, stay where readers find them.
    assert resident_pages(published) > 0
