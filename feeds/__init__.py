"""feeds: clean, rubric-tagged Atom, RSS and JSON feeds from raw news sources."""

__version__ = "0.1.0"
