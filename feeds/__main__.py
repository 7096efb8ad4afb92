"""`python -m feeds` hands over to the command line."""

from __future__ import annotations

import sys

from feeds.cli import main

sys.exit(main())
