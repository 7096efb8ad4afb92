"""Loaded by the fork server of the service's parsing workers (see
`feeds.pipeline.parsing_pool`), and only there: its main thread imports it
before it serves.

The server ignores SIGINT itself; this makes it ignore SIGTERM too, which
a service manager may send to the whole control group. A fork server
killed by it takes every worker's link to the pool with it, and the parses
in flight fail. It still ends with the service: it exits when the last
process using it has. Its workers start with `feeds.pipeline` loaded
instead of importing it on their first task.
"""

from __future__ import annotations

import signal

import feeds.pipeline  # noqa: F401  (for the workers)

signal.signal(signal.SIGTERM, signal.SIG_IGN)
