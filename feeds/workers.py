"""Worker processes: the parsing of many sources and of big feeds' parts,
and the writing of many archive pages, in processes of their own."""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
)
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from feeds.store import RunLock

_T = TypeVar("_T")


#: From this many sources on, parsing runs in worker processes too.
PROCESS_THRESHOLD = 50


@contextmanager
def cpu_pool(sources: int, *, eager: bool = True) -> Iterator[Executor | None]:
    """Worker processes for parsing and clean-up when there is enough work
    to repay starting them (feedparser, fastfeedparser's Python side and
    dataclass building hold the GIL); None means in the fetching thread.
    With fewer sources, workers that read only a big feed's parts
    (`ForParts`). `eager`: bodies are sure to come, so start the workers
    now."""
    if not wants_workers(sources):
        # Forked now for a big feed's parts, should one come: cheap (a few
        # milliseconds), where a fork server started then takes a tenth of
        # a second. Not for a run where every source probably answers 304.
        workers = min(core_count(), MOST_PART_WORKERS)
        forked = forked_pool(workers) if eager and workers >= 2 else None
        if forked is None:
            yield None
            return
        with ForParts(forked) as parts:
            yield parts
        return
    forked = forked_pool(core_count()) if eager else None
    if forked is not None:
        with forked:
            yield forked
        return
    # Every source will probably answer 304: workers start only if a body
    # comes.
    with _OnFirstUse(parsing_pool) as processes:
        yield processes


#: Worker processes a build of fewer than PROCESS_THRESHOLD sources forks
#: for a big feed's parts (it may well have none to read).
MOST_PART_WORKERS = 4


def core_count() -> int:
    return os.cpu_count() or 1


class ForParts(Executor):
    """Worker processes that read only big feed documents, in parts (see
    `_read_in_parts`): with fewer sources than PROCESS_THRESHOLD, other
    bodies are parsed in the fetching threads."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait, cancel_futures=cancel_futures)


class _OnFirstUse(Executor):
    """An executor made by `make` at its first submit. A process pool does
    not start its workers before that, but it does make its queues then,
    and their locks start multiprocessing's resource tracker: one more
    interpreter, for a cycle where every source answers 304."""

    def __init__(self, make: Callable[[], Executor]) -> None:
        self._make = make
        self._made: Executor | None = None
        self._closed = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        with self._lock:
            if self._closed:
                # As an executor says it: no pool is made after the end.
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._made is None:
                self._made = self._make()
        return self._made.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            made = self._made
        if made is not None:
            made.shutdown(wait, cancel_futures=cancel_futures)


def parsing_pool() -> ProcessPoolExecutor:
    """Worker processes for parsing, one per core, started by a forkserver
    when the first body is sent: safe while threads run (the service), and
    none starts if no body ever comes. Use `wants_workers` first."""
    context = _parsing_context()
    return ProcessPoolExecutor(
        max_workers=core_count(),
        mp_context=context,
        initializer=_service_worker,
        initargs=(os.getpid(),),
    )


def workers_of(pool: Executor) -> dict[int, Any]:
    """A process pool's own table of its workers by pid (empty for any
    other executor). The pool goes on adding to it, and its thread keeps
    it after `shutdown`; Python 3.14's `kill_workers()` would do where this
    is read."""
    table = getattr(pool, "_processes", None)
    return table if isinstance(table, dict) else {}


def end_workers(tables: Iterable[dict[int, Any]], grace: float) -> int:
    """Kill (SIGKILL) the workers listed in `tables` that are still running
    `grace` seconds from now; how many. A pool that broke (a worker killed)
    ends the others and waits for them, and a worker it started meanwhile
    (a submit racing the break) is never told to end: the service's exit,
    which waits for the pool, then never came. A worker is known to have
    ended by its pool's own means, not by its pid, which another process
    may have taken since."""
    processes = [process for table in tables for process in list(table.values())]
    deadline = time.monotonic() + grace
    while True:
        running = [process for process in processes if _alive(process)]
        if not running or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    for process in running:
        with suppress(Exception):  # ended meanwhile
            process.kill()
    return len(running)


def any_alive(table: dict[int, Any]) -> bool:
    return any(_alive(process) for process in list(table.values()))


def _alive(process: Any) -> bool:
    try:
        return bool(process.is_alive())
    except (AssertionError, ValueError):  # not this process's, or closed
        return False


def _parsing_context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["feeds._forkserver"])
    return context


def submit(pool: Executor, task: Callable[..., _T], *args: Any) -> Future[_T]:
    """`pool.submit`, with SIGINT and SIGTERM blocked in this thread
    meanwhile. A submit may start a worker, and the fork server with it;
    both inherit the mask, through exec too, so a signal sent to the whole
    group in their first instants waits until they ignore it (see
    `feeds._forkserver` and `_service_worker`) instead of killing them.
    The service's own thread still receives it."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        return pool.submit(task, *args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def start_parsing_server() -> None:
    """Start the server that forks `parsing_pool`'s workers now, deaf to
    SIGINT and SIGTERM from its first instant: a terminal's Ctrl-C or a
    service manager's SIGTERM to the whole group would kill it, and with it
    every worker's link to the pool. Ignored signals stay ignored across
    exec; from the main thread, before the service's own handlers are
    installed. (A server started later, by a reload, ignores them from its
    preload on: `feeds._forkserver`.)"""
    _parsing_context()
    previous = {
        signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _service_worker(service: int) -> None:
    """The service stops its workers itself, after the last publish they
    may help with. Ctrl-C in a terminal signals the whole process group,
    and a service manager's SIGTERM may go to the whole control group:
    either would kill a worker under a parse, with a traceback, and fail
    the runs it served. A service that dies without stopping them (the
    OOM killer's SIGKILL) is noticed, and the worker ends too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _terminated_only_by(service)
    _yield_to_the_writer()
    threading.Thread(
        target=_end_with, args=(service,), name="feeds-watch-service", daemon=True
    ).start()


def _terminated_only_by(service: int) -> None:
    """Ignore SIGTERM, but for one the service itself sends. When a worker
    dies (the OOM killer), its pool ends the others with SIGTERM and waits
    for them: a worker ignoring it outright stayed, blocked for ever on the
    queue's lock the dead one held, and the pool's thread with it; the
    service then never ended, even after "service stopped" (its exit waits
    for that thread). SIGTERM is blocked in every thread of the worker (the
    threads started later inherit that) and taken by one that looks at who
    sent it."""
    if not hasattr(signal, "sigwaitinfo"):  # not POSIX: as before
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    # Never acted on (blocked everywhere); unlike an ignored one, it is
    # kept for the waiting thread, on any system.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(
        target=_wait_for_terminate, args=(service,), name="feeds-watch-sigterm", daemon=True
    ).start()


def _wait_for_terminate(service: int) -> None:
    while True:
        sent = signal.sigwaitinfo({signal.SIGTERM})
        if sent.si_pid == service:
            os._exit(128 + signal.SIGTERM)


#: How often a worker without a pidfd looks whether its service is alive.
SERVICE_WATCH_SECONDS = 1.0


def _end_with(service: int) -> None:
    """Exit this process when the process `service` has ended. A worker
    waits on a queue whose write end it holds itself, and the fork server
    lives as long as any worker does: neither would ever notice."""
    try:
        handle = os.pidfd_open(service)
    except (AttributeError, OSError):  # not Linux 5.3+: look now and then
        while True:
            try:
                os.kill(service, 0)
            except ProcessLookupError:
                os._exit(0)
            except OSError:
                pass
            time.sleep(SERVICE_WATCH_SECONDS)
    select.select([handle], [], [])  # readable once the process has ended
    os._exit(0)


def _build_worker(build: int) -> None:
    """A build's worker ends at once and without a word on Ctrl-C (a
    terminal signals the whole process group): the build, which prints
    `interrupted`, does not wait for the parses it was making. A build
    killed outright (a cron time-out, the OOM killer) is noticed too."""
    RunLock.drop_inherited()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _yield_to_the_writer()
    threading.Thread(target=_end_with, args=(build,), name="feeds-watch-build", daemon=True).start()


#: How much lower a worker process's CPU priority is than the main one's.
WORKER_NICENESS = 10


def _yield_to_the_writer() -> None:
    """Run this worker at a lower priority than the process that stores:
    that one process writes every worker's items, so time it waits for a
    core while workers parse ahead holds the whole run back. A first cycle
    of 1,000 sources on 2 cores: 9.85-9.87 s -> 9.56-9.67 s."""
    with suppress(OSError, AttributeError):  # not permitted, or no nice()
        os.nice(WORKER_NICENESS)


def wants_workers(sources: int) -> bool:
    """Whether this many sources repay worker processes (more than one
    core, enough bodies to parse)."""
    return core_count() >= 2 and sources >= PROCESS_THRESHOLD


def forked_pool(workers: int) -> ProcessPoolExecutor | None:
    """`workers` processes forked from this one, all started now; None
    when other threads run here (a fork could copy a lock they hold).
    Forked, they share this process's imported modules instead of
    importing them again: a third of a second of CPU each, and memory."""
    if threading.active_count() != 1:
        return None
    _give_back_free_memory()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_build_worker,
        initargs=(os.getpid(),),
    )
    # The first submit forks them all, before the pool starts its thread.
    pool.submit(int).result()
    return pool


def _give_back_free_memory() -> None:
    """Return the heap memory freed since parsing to the system before a
    fork (glibc keeps it otherwise): a child's resident size starts as a
    copy of this process's. After a 10,000-item source, 119 -> 64 MB."""
    with suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)
