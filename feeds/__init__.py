"""feeds: clean, rubric-tagged Atom, RSS and JSON feeds from raw news sources."""

from __future__ import annotations

__version__ = "0.2.0"
