"""The service's parsing workers: what ends them, and what does not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path

import pytest

from feeds.workers import end_workers, parsing_pool, workers_of

from .conftest import descendants


def _wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_that_does_not_end_at_stop_is_killed_and_one_that_ends_is_left_alone() -> None:
    # A worker the pool never told to end (started by a submit racing the
    # pool's break) held the service's exit for ever: the stop kills what
    # is left once its grace is over, and nothing that ended in time.
    pool = parsing_pool()
    try:
        busy = pool.submit(time.sleep, 60)
        _wait_until(lambda: len(workers_of(pool)) >= 1)
        (pid,) = list(workers_of(pool))[:1]
        table = workers_of(pool)
        began = time.monotonic()
        assert end_workers([table], grace=0.3) == 1
        assert 0.3 <= time.monotonic() - began < 5
        _wait_until(lambda: not _running(pid))
        with pytest.raises(BrokenExecutor):
            busy.result(timeout=10)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    idle = parsing_pool()
    idle.submit(os.getpid).result(timeout=30)
    table = workers_of(idle)
    idle.shutdown(wait=False)
    assert end_workers([table], grace=5) == 0


def test_a_worker_ignores_a_sigterm_from_anyone_but_its_service() -> None:
    # A service manager's SIGTERM to the whole group must not end a worker
    # under a parse; the one its own pool sends (to end it) must.
    pool = parsing_pool()
    try:
        pid = pool.submit(os.getpid).result(timeout=30)
        subprocess.run(["kill", "-TERM", str(pid)], check=True)
        time.sleep(0.3)
        assert _running(pid)
        assert pool.submit(os.getpid).result(timeout=30) == pid
        os.kill(pid, signal.SIGTERM)  # as the pool's own terminate() sends it
        _wait_until(lambda: not _running(pid))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _signal_masks(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(value, 16)
        for key, _, value in (line.partition(":\t") for line in status.splitlines())
        if key in ("SigBlk", "SigIgn")
    }


def test_workers_start_with_sigterm_blocked_so_none_sent_while_starting_is_lost() -> None:
    # A worker its pool ends while it is still starting (another died)
    # got SIGTERM before it could look at who sent it; ignored by the fork
    # server, whose state a new worker starts in, the signal was lost, and
    # the pool waited for that worker for ever (7 in 30 tries here).
    pool = parsing_pool()
    try:
        pid = pool.submit(os.getpid).result(timeout=30)
        server = next(
            child
            for child, parent in descendants(os.getpid()).items()
            if parent == os.getpid() and b"forkserver" in _cmdline(child)
        )
        term = 1 << (signal.SIGTERM - 1)
        for process in (server, pid):
            masks = _signal_masks(process)
            assert masks["SigBlk"] & term, process
            assert not masks["SigIgn"] & term, process
    finally:
        pool.shutdown(wait=True)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_importing_the_fork_servers_module_elsewhere_leaves_signals_alone() -> None:
    # Every module of the package is imported to list its errors: done in
    # the test run's own process, it blocked SIGTERM there, and every
    # command the run started inherited that (a service under test never
    # stopped on SIGTERM). The same process with and without the import.
    probe = (
        "import signal{}; "
        "status = open('/proc/self/status').read(); "
        "print([line for line in status.splitlines() if line.startswith(('SigBlk', 'SigIgn'))], "
        "signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))"
    )

    def run(imports: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", probe.format(imports)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    assert run(", feeds._forkserver") == run("")
