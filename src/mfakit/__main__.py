"""``python -m mfakit``: the command line (see :mod:`mfakit.cli`)."""

from __future__ import annotations

import sys

from mfakit.cli import main

if __name__ == "__main__":
    sys.exit(main())
