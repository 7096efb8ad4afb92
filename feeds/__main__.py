"""`python -m feeds` hands over to the command line."""

from __future__ import annotations

from feeds.cli import run

# Worker processes import this module under another name: only the real
# entry point runs the command line.
if __name__ == "__main__":
    run()
