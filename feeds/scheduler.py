"""The service shell: APScheduler wiring around `pipeline.run_source`.

The only module that imports APScheduler. One job per source, each run
scheduling the next at the time `timing` decided (interval or cron,
back-off, Retry-After, cache lifetime) plus jitter, so runs of one source
never overlap. config.yaml is watched and re-read on change or SIGHUP; an
invalid edit is logged and the running config stays. SIGTERM/SIGINT stop
in-flight fetches and exit cleanly: a source interrupted mid-fetch commits
nothing, and files are only ever replaced whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Executor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from feeds.config import changes, load_config
from feeds.errors import ConfigError, FeedsError, PublishError, StoreError
from feeds.fetch import Fetcher
from feeds.model import Config, Source
from feeds.output import Pinger, all_published, publish_feeds
from feeds.pipeline import publish_pending, record_failure, run_source, source_key
from feeds.publish import prepare_dir
from feeds.store import WRITES_PER_COMMIT, RunLock, Store, StoreWatch, Writer
from feeds.timing import regular_due
from feeds.workers import (
    any_alive,
    end_workers,
    parsing_pool,
    start_parsing_server,
    wants_workers,
    workers_of,
)

log = logging.getLogger("feeds")

WATCH_SECONDS = 1.0
#: How often the service looks for files of the feeds missing from output/.
OUTPUT_CHECK_SECONDS = 5.0
STOP_GRACE_SECONDS = 2.0
FIRST_RUN_SPREAD = 5.0
#: Changes are published once none has come for this long: the sources
#: that finish close together share the publish.
PUBLISH_DELAY = 0.5
#: While changes keep coming (the first pass over a thousand sources),
#: publishing takes up to this share of the time: after a publish that took
#: t seconds, the next one comes at most 2t later (sooner if the changes
#: pause for PUBLISH_DELAY).
PUBLISH_SHARE = 1 / 3
#: A publish that failed (a full disk, a store locked by another process)
#: is tried again after this long, even if no new change comes.
PUBLISH_RETRY = 60.0
#: A source whose parse a dying worker process cut short this many times
#: in a row is recorded as failing (and backs off).
WORKER_DEATHS_TO_FAIL = 3
#: A source whose host has no free turn runs when a run at that host
#: ends, or after this long if none does first.
HOST_BUSY_RETRY = 5.0
#: How long a run holds its fetch slot before it gives its place to a
#: waiting run and goes on without one (see _FetchSlots).
SLOW_FETCH_SECONDS = 5.0
#: At stop, the last publish (what the finished runs stored) may take this
#: long; past it, it is abandoned like a stuck fetch, and the next start
#: renders every feed.
STOP_PUBLISH_SECONDS = 10.0
#: At stop, the WebSub pings still due (one short try each) may take this long.
STOP_PING_SECONDS = 5.0
#: At stop, the parsing workers have this long to end before they are killed.
STOP_WORKERS_SECONDS = 1.0


class Service:
    """`feeds run`: keeps every source fresh until stopped."""

    def __init__(
        self,
        config_path: Path,
        config: Config,
        *,
        on_serving: Callable[[str], None] | None = None,
    ) -> None:
        self.config_path = config_path
        self.config = config
        self._on_serving = on_serving
        self._stop = threading.Event()
        # Signals only leave a note here and wake the main loop through the
        # socket pair: a handler that took a lock could deadlock on the
        # very lock its own thread held when the signal came.
        self._signalled: list[int] = []
        self._wake_up, self._waker = socket.socketpair()
        self._wake_up.setblocking(False)
        self._waker.setblocking(False)
        self._publish_lock = threading.Lock()
        self._config_lock = threading.Lock()
        #: Per host: sources that found it busy, in the order they came.
        self._host_queues: dict[str, deque[str]] = {}
        self._fetcher = self._new_fetcher(config)
        # `concurrency` runs fetch and parse at once (see _FetchSlots); the
        # other threads are for runs waiting for their write's commit, which
        # the store's writer holds open a little for the next one.
        self._fetching = _FetchSlots(config.concurrency, self._stop)
        # Twice `concurrency`: as many runs again may go on after giving
        # their slots to others (see _FetchSlots).
        self._runs = _Runs(2 * config.concurrency + WRITES_PER_COMMIT, self._run_starting)
        self._scheduler = BackgroundScheduler(
            executors={"default": self._runs},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        # A source's next turn booked while it runs is added when the run
        # has ended, for the scheduler as well (see `_schedule`).
        self._scheduler.add_listener(self._run_ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._scheduler.add_listener(self._run_handed_over, EVENT_JOB_SUBMITTED)
        #: Sources whose run is under way, and the next turn booked for
        #: each meanwhile (None: none yet).
        self._running: dict[str, datetime | None] = {}
        #: Sources whose run ended before the scheduler had finished
        #: handing it to the pool (see `_run_ended`).
        self._ended_early: set[str] = set()
        self._stamp = _stamp(config_path)
        #: A changed stamp, seen once: applied if the next look finds it again.
        self._settling: tuple[int, int] | None = None
        self._server: Any = None
        self._active = 0
        self._lock = RunLock(config.storage_url, "run")
        self._output_lock = RunLock.for_output(config.output_dir, "run")
        self._publisher = _Publisher(self._publish_pending)
        self._pinger = Pinger(self._stop)
        #: Worker processes that parse bodies (with enough sources), made
        #: when first wanted and again if one died.
        self._parsing: Executor | None = None
        self._parsing_lock = threading.Lock()
        #: The workers of every pool made (see `workers.end_workers`).
        self._workers: list[dict[int, Any]] = []
        self._stores = threading.local()
        #: The one thread that stores what the source runs bring (see
        #: Writer), from `run` until the runs have ended.
        self._writer: Writer | None = None
        #: Sources whose parse a dying worker cut short, and how many times
        #: in a row.
        self._worker_deaths: dict[str, int] = {}
        #: A reload's re-render failed, or files went missing from output/:
        #: the publisher renders every feed (under the publish lock) until
        #: one succeeds.
        self._render_all = False
        #: When output/ was last checked for missing files (monotonic).
        self._output_checked = time.monotonic()
        #: The store's file when the service started.
        self._store_watch: StoreWatch | None = None
        #: The store's file was emptied or overwritten: closing its
        #: connections would write their pages into it (see `_shutdown`).
        self._store_lost = False
        self._exit_code = 0
        #: The folder the server serves: a new output.dir only once the
        #: feeds are published there (until then, every request was a 404).
        self._served_dir = config.output_dir

    # -- life cycle -----------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (or `stop()`); returns the exit code."""
        if wants_workers(len(self.config.sources)) and (
            threading.current_thread() is threading.main_thread()
        ):
            start_parsing_server()
        self._install_signals()
        self._lock.acquire()
        try:
            self._output_lock.acquire()
            self._start()
        except BaseException:
            self._abandon_start()
            raise
        log.info("service started with %d sources", len(self.config.sources))
        while not self._stop.is_set():
            select.select([self._wake_up], [], [], WATCH_SECONDS)
            with contextlib.suppress(BlockingIOError):
                self._wake_up.recv(4096)
            asked = self._handle_signals()
            if self._stop.is_set():
                break
            if asked or self._config_changed():
                self.reload()
            self._look_at_files()
        self._shutdown()
        self._wake_up.close()
        self._waker.close()
        return self._exit_code

    def _start(self) -> None:
        # The address first: a port in use ended the start only once the
        # runs already booked had ended (up to their time-out), holding the
        # store, so that a service manager's restart was refused meanwhile.
        self._bind_server()
        self._publish_at_start()
        self._store_watch = StoreWatch(self.config.storage_url)
        self._writer = Writer(self.config.storage_url)
        self._publisher.start()
        if self._render_all:
            self._publisher.poke()  # the start's publish failed: from now on, again
        self._scheduler.start()
        now = datetime.now(UTC)
        with Store(self.config.storage_url) as store:
            for source in self.config.sources:
                self._schedule_first(source, store, now)
        self._start_server()

    def _publish_at_start(self) -> None:
        """Publish what the store holds. A folder that cannot be written
        (a full disk, a read-only mount) does not keep the service from
        starting: its runs store what they fetch, and the publisher tries
        again, as it does for a publish that fails later on. A store that
        cannot be read ends the start (StoreError)."""
        try:
            prepare_dir(self.config.output_dir)
            with Store(self.config.storage_url) as store, self._publish_lock:
                # Its pings go aside: a hub that hangs must not hold up the start.
                publish_feeds(self.config, store, stopping=self._stop, announce=self._pinger)
        except PublishError as exc:
            log.error("publishing at start failed: %s; tried again while the service runs", exc)
            self._render_all = True

    def _abandon_start(self) -> None:
        """Undo what a start that failed began, so the process can end now
        and the store is free for the next start."""
        self._fetcher.stop()
        end_scheduler(self._scheduler)
        if self._server is not None:
            self._server.stop()
        if self._writer is not None:
            self._writer.close()
        self._output_lock.release()
        self._lock.release()

    def stop(self) -> None:
        self._stop.set()
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full: the loop is awake anyway
            self._waker.send(b"\0")

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def note(signum: int, frame: FrameType | None) -> None:
            self._signalled.append(signum)
            self._wake()

        signal.signal(signal.SIGTERM, note)
        signal.signal(signal.SIGINT, note)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, note)

    def _handle_signals(self) -> bool:
        """Act on the signals noted since the last look; True when one asked
        for the config to be read again."""
        reload = False
        while self._signalled:
            signum = self._signalled.pop(0)
            if signum == getattr(signal, "SIGHUP", None):
                reload = True
            elif not self._stop.is_set():
                log.info("signal %s: stopping", signal.Signals(signum).name)
                self.stop()
        return reload

    def _shutdown(self) -> None:
        """Abort waiting and streaming fetches, give running jobs a moment,
        then leave. A job still blocked on a silent server is abandoned: it
        has committed nothing (the store's transaction is atomic) and
        published nothing half-written (files are renamed into place)."""
        self._fetcher.stop()
        end_scheduler(self._scheduler)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self._active and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._store_lost:
            # Closing the last connection would copy the write-ahead log's
            # pages into the emptied file, which a restart would then find
            # malformed; left alone, SQLite drops that log and starts anew.
            if self._server is not None:
                self._server.stop()
            log.info("service stopped without closing the store")
            logging.shutdown()
            os._exit(self._exit_code)
        # What the finished runs stored goes out now, not at the next start
        # (with the worker processes' help, so before they are let go).
        published = self._publisher.stop(STOP_PUBLISH_SECONDS)
        if not published:
            log.warning(
                "publishing at stop took over %.0f s: abandoned; the next start publishes",
                STOP_PUBLISH_SECONDS,
            )
        if not self._pinger.close(STOP_PING_SECONDS):
            log.warning(
                "WebSub pings still going at stop after %.0f s: abandoned", STOP_PING_SECONDS
            )
        with self._parsing_lock:
            parsing, self._parsing = self._parsing, None
        if parsing is not None:
            parsing.shutdown(wait=False, cancel_futures=True)
        killed = end_workers(self._workers, STOP_WORKERS_SECONDS)
        if killed:
            log.warning("%d parsing worker process(es) had not ended at stop: killed", killed)
        if self._server is not None:
            self._server.stop()
        abandoned = self._active
        log.info(
            "service stopped%s",
            f"; {abandoned} fetch(es) abandoned mid-request" if abandoned else "",
        )
        if abandoned or not published:
            # Threads blocked in a read would hold the interpreter's exit
            # for up to their time-out.
            logging.shutdown()
            os._exit(0)
        if self._writer is not None:
            # Every run has ended: what it handed over is committed.
            self._writer.close()
        if self._store_watch is not None:
            self._store_watch.close()  # after every connection: see StoreWatch
        self._fetcher.close()
        self._output_lock.release()
        self._lock.release()

    def _bind_server(self) -> None:
        server = self.config.server
        if server is None:
            return
        from feeds.serve import ServerThread, create_app

        self._server = ServerThread(
            create_app(lambda: serve_settings(self.config, self._served_dir)),
            server.host,
            server.port,
        )
        self._server.bind()

    def _start_server(self) -> None:
        server = self.config.server
        if self._server is None or server is None:
            return
        self._server.start()
        url = f"http://{server.host}:{self._server.port}/"
        log.info("serving %s at %s", self.config.output_dir, url)
        if self._on_serving is not None:
            self._on_serving(url)

    # -- jobs -----------------------------------------------------------

    def _schedule_first(
        self,
        source: Source,
        store: Store,
        now: datetime,
        *,
        edited: bool = False,
        refetch_failing: bool = False,
    ) -> None:
        """At start-up, or when a reload added or changed the source: now
        (with jitter), unless the store says the source was fetched
        recently, is backing off or is paused. `edited`: a reload changed
        its url or item settings, so it is read now all the same;
        `refetch_failing`: its fetch settings, so it is read now if it is
        failing (a time-out or a size limit raised to let it through).
        Never before a Retry-After its server sent, nor when paused at
        that url."""
        state = store.source_state(source.name)
        if state.gone_url and state.gone_url == source.location:
            log.warning(
                "source '%s' is paused: %s answered 410 Gone; change its url to resume",
                source.name,
                source.location,
            )
            return
        due = self._soon(now)
        timezone = self.config.site.timezone
        stored = state.next_due
        ahead = state.ahead(now)
        if ahead:
            log.warning(
                "source '%s': the store says it was last fetched at %s, later than now: "
                "a clock set back, or a build run with --now; fetched now",
                source.name,
                f"{state.last_attempt:%Y-%m-%d %H:%M:%S %Z}",
            )
        # Only the source's own settings: a rubric or rule edited (a reload
        # does not refetch for that) must not cut a back-off or a
        # Retry-After short, at this and every later restart.
        changed = (
            edited
            or ahead
            or bool(refetch_failing and state.failures)
            or bool(state.failures and state.read_as and state.read_as[-12:] != source_key(source))
        )
        if changed:
            # Backing off under other settings (its url fixed while the
            # service was stopped): read it now, as a reload would.
            stored = None
        elif stored is not None and state.last_attempt is not None and not state.failures:
            # Decided under the interval it had then: a shorter one set
            # while the service was stopped applies now.
            stored = min(
                stored, regular_due(source.interval, source.cron, timezone, state.last_attempt)
            )
        if stored is not None and stored > now:
            due = stored
        elif state.last_attempt is not None and not changed:
            # A cron source's next time after it last ran (one `feeds build`
            # may have run it), not an interval's.
            due = max(due, regular_due(source.interval, source.cron, timezone, state.last_attempt))
        waiting = state.waiting(source.location, now)
        if waiting is not None:
            due = max(due, waiting)
        self._schedule(source.name, due)

    def _soon(self, now: datetime) -> datetime:
        """A first turn's time: now, spread over a few seconds (at start-up
        an operator should not wait a whole jitter for the first feeds)."""
        spread = min(self.config.schedule.jitter, FIRST_RUN_SPREAD)
        return now + timedelta(seconds=random.uniform(0, spread))

    def _schedule(self, name: str, due: datetime) -> None:
        with self._config_lock:
            if name in self._running:
                # Its run is under way. A turn added now, if due already (a
                # run that outlasted its interval, a reload asking for it at
                # once), would fire before the scheduler counts the run as
                # ended: it would be skipped, never to come again. It is
                # added once the run has ended (the earliest one asked for).
                booked = self._running[name]
                self._running[name] = due if booked is None else min(booked, due)
                return
        self._add_job(name, due)

    def _add_job(self, name: str, due: datetime) -> None:
        self._scheduler.add_job(
            self._run_job,
            trigger=DateTrigger(run_date=due, timezone=UTC),
            args=[name],
            id=name,
            name=name,
            replace_existing=True,
        )

    def _run_starting(self, name: str) -> None:
        """The scheduler hands a run of `name` to the pool, where it may
        wait for a free thread: from now on its run is under way."""
        with self._config_lock:
            self._running.setdefault(name, None)

    def _run_ended(self, event: JobEvent) -> None:
        """The scheduler counts a run as ended: its next turn goes in."""
        if self._runs.handing_over():
            # It ended before the scheduler had finished handing it over (a
            # run with nothing to wait for, its host busy, on a job thread
            # just started). The scheduler has still to remove the turn
            # that fired, by the source's name, and would remove one added
            # now with it: the next turn goes in once it is handed over.
            with self._config_lock:
                self._ended_early.add(event.job_id)
            return
        self._book_next(event.job_id)

    def _run_handed_over(self, event: JobEvent) -> None:
        """The scheduler is done with a turn that fired (its run may have
        ended already)."""
        with self._config_lock:
            if event.job_id not in self._ended_early:
                return
            self._ended_early.discard(event.job_id)
        self._book_next(event.job_id)

    def _book_next(self, name: str) -> None:
        with self._config_lock:
            due = self._running.pop(name, None)
        if due is not None and not self._stop.is_set():
            self._add_job(name, due)

    def _unschedule(self, name: str) -> None:
        with self._config_lock:
            if name in self._running:
                self._running[name] = None
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(name)

    def _run_job(self, name: str) -> None:
        with self._config_lock:
            self._active += 1
            self._running.setdefault(name, None)
        try:
            self._run_source(name)
        finally:
            with self._config_lock:
                self._active -= 1

    def _run_source(self, name: str) -> None:
        if self._stop.is_set():
            return
        with self._fetching.slot() as slot:
            if slot is None:
                return
            # Read once it has a slot: a reload while it waited for one may
            # have removed or changed its source, or retired the fetcher.
            with self._config_lock:
                config = self.config
                fetcher = self._fetcher
            source = next((s for s in config.sources if s.name == name), None)
            if source is None or self._stop.is_set():
                return
            self._run_in_slot(config, fetcher, source, slot)

    def _run_in_slot(self, config: Config, fetcher: Fetcher, source: Source, slot: _Slot) -> None:
        name = source.name
        now = datetime.now(UTC)
        host = fetcher.host_of(source)
        with fetcher.claim(source) as free:
            if not free:
                # Its host is busy (slow, or dead and timing out): waiting
                # here would hold one of the `concurrency` fetch slots that
                # sources on other hosts need. It queues for the host and
                # runs when a run there ends (or, at the latest, shortly).
                self._wait_for_host(host, name)
                self._schedule(name, now + timedelta(seconds=HOST_BUSY_RETRY))
                return
            with self._config_lock:
                # From every host's queue: a source moved to another host (a
                # reload) while it waited must not be woken by the old one,
                # long before its interval.
                self._drop_waiting(name)

            def fetched() -> None:
                # The host's turn is free once the source is fetched: the
                # next source waiting for it starts now, not after this
                # run's commit (which waits a little for other runs').
                if not slot.held:
                    return
                slot.release()
                following = self._next_waiting(host)
                if following is not None and not self._stop.is_set():
                    self._schedule(following, datetime.now(UTC))

            try:
                self._run_claimed(config, fetcher, source, now, fetched)
            finally:
                fetched()

    def _wait_for_host(self, host: str, name: str) -> None:
        """`name` joins the sources waiting for `host`, in the order they came."""
        with self._config_lock:
            queue = self._host_queues.setdefault(host, deque())
            if name not in queue:
                queue.append(name)

    def _next_waiting(self, host: str) -> str | None:
        """The first source waiting for `host`, out of its queue (None: none)."""
        with self._config_lock:
            queue = self._host_queues.get(host)
            if not queue:
                return None
            first = queue.popleft()
            if not queue:
                del self._host_queues[host]
            return first

    def _drop_waiting(self, name: str) -> None:
        """`name` out of every host's queue (under the config lock)."""
        for host, queue in list(self._host_queues.items()):
            with contextlib.suppress(ValueError):
                queue.remove(name)
            if not queue:
                del self._host_queues[host]

    def _run_claimed(
        self,
        config: Config,
        fetcher: Fetcher,
        source: Source,
        now: datetime,
        fetched: Callable[[], None],
    ) -> None:
        name = source.name
        due: datetime | None = now + timedelta(seconds=source.interval)
        cpu = None
        try:
            cpu = self._parsing_for(config)
            result = run_source(
                config,
                source,
                store=self._store_for(config.storage_url),
                fetcher=fetcher,
                now=now,
                stopped=self._stop,
                cpu=cpu,
                writer=self._writer,
                fetched=fetched,
            )
            self._worker_deaths.pop(name, None)
            if result.ok and not result.not_modified:
                self._publisher.poke()
            due = None if result.health == "gone" else result.next_due
        except FeedsError as exc:
            log.error("source '%s': %s", name, exc)
        except CancelledError:
            return  # its parsing was called off: the service is stopping
        except BrokenExecutor:
            # A worker process died (killed for memory, say), failing every
            # parse in flight: the source tries again at its next turn, with
            # new workers. One whose parse was cut short this way several
            # times in a row is likely what kills them (a body that crashes
            # the parser): it is recorded as failing, and backs off.
            log.error("source '%s': a parsing worker process died; starting new ones", name)
            self._drop_parsing(cpu)
            deaths = self._worker_deaths[name] = self._worker_deaths.get(name, 0) + 1
            if deaths >= WORKER_DEATHS_TO_FAIL:
                with contextlib.suppress(FeedsError):
                    due = record_failure(
                        config,
                        source,
                        f"source '{name}': the worker process parsing it died, "
                        f"{deaths} times in a row",
                        store=self._store_for(config.storage_url),
                        now=now,
                    ).next_due
        except Exception:
            # A bug: keep its traceback in the log, keep the service alive.
            log.exception("source '%s': unexpected error", name)
            due = now + timedelta(seconds=max(source.interval, config.schedule.max_backoff))
        if due is not None and not self._stop.is_set():
            jitter = random.uniform(0, config.schedule.jitter)
            self._schedule(name, max(due, now) + timedelta(seconds=jitter))

    def _parsing_for(self, config: Config) -> Executor | None:
        if not wants_workers(len(config.sources)):
            # Workers started for more sources before a reload are kept
            # until the service stops: runs still in flight may use them.
            return None
        with self._parsing_lock:
            if self._parsing is None and not self._stop.is_set():
                self._parsing = parsing_pool()
                # Those of pools gone whose workers have all ended are let go.
                kept = [table for table in self._workers if any_alive(table)]
                self._workers = [*kept, workers_of(self._parsing)]
                log.info(
                    "%d sources: bodies are parsed in %d worker processes",
                    len(config.sources),
                    os.cpu_count() or 1,
                )
            return self._parsing

    def _store_for(self, url: str) -> Store:
        """This job thread's own connection, kept for its next runs: the
        schema and the prepared statements stay loaded (a connection per
        run loaded them again in the store's turn, which runs take one at
        a time)."""
        held: Store | None = getattr(self._stores, "store", None)
        if held is not None and held.url == url:
            return held
        if held is not None:
            held.close()
        held = self._stores.store = self._open_store(url)
        return held

    def _drop_parsing(self, broken: Executor | None) -> None:
        with self._parsing_lock:
            if broken is not None and self._parsing is broken:
                self._parsing = None
                broken.shutdown(wait=False, cancel_futures=True)

    def _open_store(self, url: str) -> Store:
        """The store, as long as it is the one the service started with:
        opening a path whose file was deleted made a new, empty store, and
        the publisher published nothing from it. Raises StoreError."""
        change = self._store_change(url)
        if change:
            raise StoreError(url, f"{change} while the service ran")
        return Store(url)

    def _store_change(self, url: str) -> str:
        """What happened to the store's file since the start ("" for
        nothing)."""
        return "" if self._store_watch is None else self._store_watch.change(url)

    def _look_at_files(self) -> None:
        """Every OUTPUT_CHECK_SECONDS: a store deleted, replaced, emptied or
        overwritten while the service runs stops it; feed files missing
        from output/ are written again."""
        now = time.monotonic()
        if now < self._output_checked + OUTPUT_CHECK_SECONDS:
            return
        self._output_checked = now
        with self._config_lock:
            config = self.config
        change = self._store_change(config.storage_url)
        if change:
            # What the runs store goes on into the old file, open still, and
            # is lost with it; whatever opened the path would make a new,
            # empty store, and publish nothing. An emptied file made every
            # request and publish wait 30 s for SQLite's lock, then fail.
            # Stopping says so loudly; a service manager starts it again on
            # the store the path has now (an empty file becomes a new store).
            log.error(
                "store %s was %s while the service ran: stopping "
                "(start it again to use the store now at that path)",
                config.storage_url.removeprefix("sqlite:///"),
                change,
            )
            self._exit_code = 1
            self._store_lost = change == "emptied or overwritten"
            self._stop.set()
            return
        self._rewrite_missing(config)

    def _rewrite_missing(self, config: Config) -> None:
        """When a file of the feeds is missing from output/ (deleted by
        hand, or the folder with it), every feed is written again. Only a
        change used to be: unchanged feeds stayed missing until a restart."""
        # Not while a publish is on: the pages it has recorded are not all
        # written yet (a first pass over many sources took that for files
        # lost, and rendered every feed again and again).
        if self._render_all or not self._publish_lock.acquire(blocking=False):
            return
        try:
            with self._open_store(config.storage_url) as store:
                complete = all_published(config, store)
        except FeedsError:
            return  # the publisher says what is wrong with the store
        finally:
            self._publish_lock.release()
        if not complete:
            log.warning("%s is missing files of the feeds: writing them again", config.output_dir)
            self._render_all = True
            self._publisher.poke()

    def _publish_pending(self) -> bool:
        """Publish what runs stored; False when that failed (it stays
        pending, for the publisher to try again)."""
        started = time.monotonic()
        helpers = None
        published: tuple[tuple[str, ...], int] | None
        try:
            with self._publish_lock:
                # Read under the lock: a reload that publishes meanwhile is
                # not overwritten with the config it replaced.
                with self._config_lock:
                    config = self.config
                helpers = self._parsing_for(config)
                with self._open_store(config.storage_url) as store:
                    everything = self._render_all
                    if everything:
                        prepare_dir(config.output_dir)
                    # Every feed, when asked, clears what was pending too
                    # (else it stayed pending until the next change).
                    published = publish_pending(
                        config,
                        store,
                        helpers,
                        everything=everything,
                        stopping=self._stop,
                        announce=self._pinger,
                    )
                    if everything:
                        self._render_all = False
                        self._served_dir = config.output_dir
            if published is not None:
                written, unchanged = published
                log.info(
                    "published: %d files written, %d unchanged, in %.2f s",
                    len(written),
                    unchanged,
                    time.monotonic() - started,
                )
            return True
        except FeedsError as exc:
            if self._store_change(self.config.storage_url):
                # The service stops for it, and says so once.
                log.debug("feeds not published: %s", exc)
            else:
                log.error("feeds not published (tried again in %.0f s): %s", PUBLISH_RETRY, exc)
        except BrokenExecutor:
            log.error("feeds not published: a worker process died; starting new ones")
            self._drop_parsing(helpers)
        except Exception:
            log.exception("feeds not published: unexpected error")
        return False

    # -- configuration --------------------------------------------------

    def _config_changed(self) -> bool:
        """Whether config.yaml changed and has since stood still for a look
        (WATCH_SECONDS): a file an editor is still writing in place, whose
        first part may read as a valid config, is not applied half-way."""
        stamp = _stamp(self.config_path)
        if stamp == self._stamp:
            self._settling = None
            return False
        if stamp != self._settling:
            self._settling = stamp
            return False
        self._settling = None
        return True

    def reload(self) -> bool:
        """Re-read config.yaml; apply it if valid. True when applied."""
        self._stamp = _stamp(self.config_path)
        old = self.config
        try:
            new = _keep_what_needs_a_restart(old, load_config(self.config_path))
        except ConfigError as exc:
            first, *others = exc.lines()
            log.error("config not applied, the running one stays: %s", first)
            for line in others:
                log.error("config not applied: also %s", line)
            return False
        if new.output_dir != old.output_dir:
            moved = RunLock.for_output(new.output_dir, "run")
            try:
                moved.acquire()
            except PublishError as exc:
                if exc.held_by:
                    log.error("config not applied, the running one stays: %s", exc)
                    return False
                # A place that cannot be written yet: applied, and its
                # publish retried, as before (the lock is taken at the next
                # start).
                log.warning("%s: the new output folder is not locked", exc)
            else:
                self._output_lock.release()
                self._output_lock = moved
        if new.path.parent != old.path.parent:
            # config.yaml is a link that now points into another folder (a
            # release swapped in): the relative paths in it move too.
            log.warning(
                "config: %s now resolves to %s; relative paths in it (output.dir, and "
                "storage.url at the next start) are read from there",
                self.config_path,
                new.path,
            )
        before = {source.name: source for source in old.sources}
        after = {source.name: source for source in new.sources}
        with self._config_lock:
            self.config = new
            if (new.site.base_url, new.per_host, new.host_delay, new.allow_private) != (
                old.site.base_url,
                old.per_host,
                old.host_delay,
                old.allow_private,
            ):
                retired, self._fetcher = self._fetcher, self._new_fetcher(new)
                # Closed once the runs still using it are done; a stop
                # does not wait for it.
                longest = max((s.timeout for s in (*old.sources, *new.sources)), default=30.0)
                closing = threading.Timer(longest + 5, retired.close)
                closing.daemon = True
                closing.start()
        now = datetime.now(UTC)
        removed = [name for name in before if name not in after]
        added = [name for name in after if name not in before]
        changed = [name for name in after if name in before and after[name] != before[name]]
        with self._config_lock:
            for name in removed + changed:
                # Rescheduled below if still configured; a run that finds
                # its (maybe new) host busy queues again.
                self._drop_waiting(name)
        for name in removed:
            self._unschedule(name)
        # A new url or new item settings are read at once, and new fetch
        # settings if the source is failing; an interval or cron edited
        # does not cut a back-off short (a shorter interval applies at
        # once), and nothing cuts short a Retry-After or a 410 pause.
        try:
            if self._writer is not None:
                # What the runs handed over is committed first: their
                # Retry-After, back-off or 410 must be what this reads.
                self._writer.write(lambda store: None)
            with self._open_store(new.storage_url) as store:
                for name in added + changed:
                    old_source, source = before.get(name), after[name]
                    self._schedule_first(
                        source,
                        store,
                        now,
                        edited=old_source is not None
                        and source_key(old_source) != source_key(source),
                        refetch_failing=old_source is not None
                        and (old_source.timeout, old_source.max_bytes)
                        != (source.timeout, source.max_bytes),
                    )
        except StoreError as exc:
            # Each source still gets a turn (the store may be back by then;
            # if not, its run fails and backs off): none is left unscheduled.
            log.error("config applied, but the store could not be read to schedule it: %s", exc)
            for name in added + changed:
                self._schedule(name, self._soon(now))
        feeds_changed = (
            new.rubrics != old.rubrics
            or new.site != old.site
            or new.max_items != old.max_items
            or new.archive_page_size != old.archive_page_size
            or new.output_dir != old.output_dir
            or bool(removed)
        )
        rendered = False
        if feeds_changed:
            try:
                with self._open_store(new.storage_url) as store, self._publish_lock:
                    # Swept only now: a publish under way writes its
                    # temporary files there until it lets go of the lock.
                    prepare_dir(new.output_dir)
                    publish_feeds(new, store, announce=self._pinger)
                    self._render_all = False
                    self._served_dir = new.output_dir
                rendered = True
            except FeedsError as exc:
                log.error("feeds not re-rendered after the config change (tried again): %s", exc)
                with self._publish_lock:
                    self._render_all = True
                self._publisher.poke()
        log.info(
            "config applied: %d sources added, %d removed, %d changed%s%s",
            len(added),
            len(removed),
            len(changed),
            "".join(f"; {change}" for change in changes(old, new)),
            "; feeds re-rendered" if rendered else "",
        )
        return True

    @staticmethod
    def _new_fetcher(config: Config) -> Fetcher:
        return Fetcher(
            config.site.base_url,
            per_host=config.per_host,
            host_delay=config.host_delay,
            allow_private=config.allow_private,
        )

    def jobs(self) -> dict[str, datetime]:
        """Each scheduled source and when it runs next (for tests and status)."""
        jobs = {
            job.id: job.next_run_time for job in self._scheduler.get_jobs() if job.next_run_time
        }
        with self._config_lock:
            jobs.update((name, due) for name, due in self._running.items() if due is not None)
        return jobs


def end_scheduler(scheduler: BackgroundScheduler) -> None:
    """Stop `scheduler` (jobs under way go on) without its thread dying on
    the way. APScheduler marks itself stopped before it takes the lock its
    loop holds while it hands out the turns that fired; a loop under way
    then looked for the one-off turn it had just handed out among the
    pending jobs of a stopped scheduler, failed (JobLookupError), and the
    thread died with a traceback in the log. So the loop is paused and let
    finish, and every turn taken out, before the stop."""
    if not scheduler.running:
        return
    scheduler.pause()
    scheduler.remove_all_jobs()  # waits for a loop under way
    scheduler.shutdown(wait=False)


class _Slot:
    """One run's turn to fetch and parse; released once (by the run when
    its source is fetched and parsed, else when the run ends), always from
    the run's own thread. `lent`: its place was given to a waiting run
    while this one goes on (see _FetchSlots)."""

    def __init__(self, owner: _FetchSlots) -> None:
        self._owner = owner
        self.held = True
        self.lent = False
        self.since = time.monotonic()

    def release(self) -> None:
        self._owner.release(self)


class _FetchSlots:
    """At most `concurrency` source runs fetching and parsing at once (the
    operator's `fetch.concurrency`), whatever number of threads the runs
    have: a run that waits for its write's commit holds none.

    A run that has held its slot for SLOW_FETCH_SECONDS (a site that takes
    connections and never answers, until the time-out) gives its place to
    a waiting run, up to `concurrency` such runs at once: four dead sites
    of two sources each held all eight slots for their whole time-out, and
    every other site's sources waited that long, every time."""

    def __init__(self, concurrency: int, stop: threading.Event) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._stop = stop
        self._lock = threading.Lock()
        self._held: set[_Slot] = set()
        self._lent = 0
        self._most_lent = concurrency

    @contextlib.contextmanager
    def slot(self) -> Iterator[_Slot | None]:
        """A slot, held until released or the block ends; None when the
        service stopped while this waited for one."""
        while not self._slots.acquire(timeout=0.2):
            if self._stop.is_set():
                yield None
                return
            self._lend_overdue()
        held = _Slot(self)
        with self._lock:
            self._held.add(held)
        try:
            yield held
        finally:
            held.release()

    def release(self, slot: _Slot) -> None:
        with self._lock:
            if not slot.held:
                return
            slot.held = False
            self._held.discard(slot)
            if slot.lent:
                self._lent -= 1
            else:
                self._slots.release()

    def _lend_overdue(self) -> None:
        """Called by a run waiting for a slot: the places of runs that have
        held theirs too long are given back (their runs go on)."""
        overdue = time.monotonic() - SLOW_FETCH_SECONDS
        with self._lock:
            for slot in self._held:
                if self._lent >= self._most_lent:
                    return
                if not slot.lent and slot.since <= overdue:
                    slot.lent = True
                    self._lent += 1
                    self._slots.release()


class _Runs(ThreadPoolExecutor):  # type: ignore[misc]
    """APScheduler's pool of job threads, telling the service of each run it
    is handed: with every thread busy, a run waits in the pool's queue, and
    a turn added for its source meanwhile would be skipped like one added
    while it runs."""

    def __init__(self, max_workers: int, starting: Callable[[str], None]) -> None:
        super().__init__(max_workers=max_workers)
        self._starting = starting
        self._handing = threading.local()

    def handing_over(self) -> bool:
        """Whether this thread is handing a run to the pool: a run that
        ends this soon has its end told while the scheduler still holds the
        turn that fired."""
        return bool(getattr(self._handing, "run", False))

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self._starting(job.id)
        self._handing.run = True
        try:
            super()._do_submit_job(job, run_times)
        finally:
            self._handing.run = False


class _Publisher:
    """Publishes what the sources' runs stored, from one thread of its own.
    Sources that finish close together share one publish: the first pass
    over a thousand sources makes a handful of publishes, not a thousand,
    and a source's run never waits for one. A run that stored something
    calls `poke`; a publish that failed is tried again after
    PUBLISH_RETRY."""

    def __init__(self, publish: Callable[[], bool]) -> None:
        self._publish = publish
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feeds-publish", daemon=True)
        self._pause = PUBLISH_DELAY

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self._wanted.set()

    def stop(self, timeout: float) -> bool:
        """Ends the thread after its current publish and a last one of what
        is still pending. False when that took over `timeout` seconds (the
        thread is left to the process's exit)."""
        self._stopping.set()
        self._wanted.set()
        if not self._thread.is_alive():
            self._publish()
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        failed = False
        while not self._stopping.is_set():
            self._wanted.wait(PUBLISH_RETRY if failed else None)
            latest = time.monotonic() + self._pause
            while not self._stopping.is_set():
                # Wait for a quiet spell, or for the pause to end if changes
                # keep coming.
                self._wanted.clear()
                if self._stopping.wait(min(PUBLISH_DELAY, latest - time.monotonic())):
                    break
                if not self._wanted.is_set() or time.monotonic() >= latest:
                    break
            if self._stopping.is_set():
                break
            self._wanted.clear()
            started = time.monotonic()
            failed = not self._publish()
            took = time.monotonic() - started
            self._pause = max(PUBLISH_DELAY, took / PUBLISH_SHARE - took)
        self._publish()


def serve_settings(config: Config, output_dir: Path | None = None) -> Any:
    """What `serve` needs to know of the current config; `output_dir`, the
    folder served when it is not yet config's (see Service._served_dir)."""
    from feeds.serve import ServeSettings

    return ServeSettings(
        output_dir=config.output_dir if output_dir is None else output_dir,
        storage_url=config.storage_url,
        max_age=int(min((s.interval for s in config.sources), default=300)),
        sources=tuple(source.name for source in config.sources),
        stale_after=stale_after(config),
    )


def stale_after(config: Config) -> float:
    """How long without any successful fetch before /healthz says 503: two
    of the longest intervals, and never less than ten minutes."""
    longest = max((source.interval for source in config.sources), default=0.0)
    return max(600.0, 2 * longest)


def _keep_what_needs_a_restart(old: Config, new: Config) -> Config:
    """`new`, but with the settings a running service cannot change kept as
    they run (the store it holds the lock of, the address it serves, its
    pool of job threads, its log format), each change logged; the log
    level changes now. Raises ConfigError when the new output.dir would
    hold the store the service keeps (the config check saw the new one)."""
    kept_store = Path(old.storage_url.removeprefix("sqlite:///"))
    if new.output_dir in kept_store.parents:
        raise ConfigError(
            str(new.path),
            0,
            "output.dir",
            f"the running store {str(kept_store)!r} would be inside {str(new.output_dir)!r}, "
            "which is published (a new storage.url takes effect only at restart): keep it "
            "outside, or restart first",
        )
    changed = [
        key
        for key, running, wanted in (
            ("storage.url", old.storage_url, new.storage_url),
            ("server", old.server, new.server),
            ("fetch.concurrency", old.concurrency, new.concurrency),
            ("log.format", old.log_format, new.log_format),
        )
        if running != wanted
    ]
    for key in changed:
        log.warning("config: %s changed; it takes effect when the service restarts", key)
    if changed:
        new = replace(
            new,
            storage_url=old.storage_url,
            server=old.server,
            concurrency=old.concurrency,
            log_format=old.log_format,
        )
    if new.log_level != old.log_level:
        root = logging.getLogger()
        if root.level == getattr(logging, old.log_level.upper()):  # not --verbose
            root.setLevel(getattr(logging, new.log_level.upper()))
    return new


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)
