"""Loaded by the fork server of the service's parsing workers (see
`feeds.workers.parsing_pool`), and only there: its main thread imports it
before it serves.

The server ignores SIGINT itself; this makes it deaf to SIGTERM too, which
a service manager may send to the whole control group. A fork server
killed by it takes every worker's link to the pool with it, and the parses
in flight fail. It still ends with the service: it exits when the last
process using it has. A server started from a thread of the service was
started with both signals blocked (`feeds.workers.submit`): one sent
meanwhile waits, and is dropped once SIGINT is ignored here.

SIGTERM is not ignored but kept blocked, so that the workers forked from
here start with it blocked: one the pool sends a worker still starting
(to end it, when another died) waits for the worker to look at who sent
it (`feeds.workers._service_worker`); ignored, it was lost, and the pool
waited for that worker for ever. (A SIGTERM pending here stays so: it is
never acted on, and a forked worker does not inherit it.) Its workers
start with `feeds.pipeline` loaded instead of importing it on their first
task.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _in_the_fork_server() -> bool:
    """Whether this import is the fork server's preload. Imported anywhere
    else (every module of the package is, to list its errors), it must
    not touch that process's signals: a test run that did then started
    every command with SIGTERM blocked, and a service it started never
    stopped on one."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if (
            frame.f_code.co_name == "main"
            and frame.f_globals.get("__name__") == "multiprocessing.forkserver"
        ):
            return True
        frame = frame.f_back
    return False


if _in_the_fork_server():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    import feeds.pipeline  # noqa: F401  (for the workers)
