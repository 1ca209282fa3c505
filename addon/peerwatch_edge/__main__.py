"""`python -m peerwatch_edge`: see `peerwatch_edge.cli`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
