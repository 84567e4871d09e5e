"""``python -m mfakit.i18n compile [LOCALEDIR] [--check]``: build ``.mo`` files from ``.po``.

Without ``LOCALEDIR``, compiles the catalogs shipped in mfakit's own source
tree. ``--check`` writes nothing and exits 1 when a ``.mo`` file is missing
or differs from what its ``.po`` source compiles to.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mfakit.errors import MalformedDataError
from mfakit.i18n._catalog import DOMAIN
from mfakit.i18n._mo import compile_directory, compile_mo, parse_po

_SHIPPED = Path(__file__).resolve().parent / "locale"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m mfakit.i18n")
    commands = parser.add_subparsers(dest="command", required=True)
    compile_ = commands.add_parser("compile", help="compile <lang>/LC_MESSAGES/*.po to .mo")
    compile_.add_argument("localedir", nargs="?", type=Path, default=_SHIPPED)
    compile_.add_argument("--domain", default=DOMAIN)
    compile_.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    root: Path = args.localedir
    try:
        if args.check:
            stale = [
                source.with_suffix(".mo")
                for source in sorted(root.glob(f"*/LC_MESSAGES/{args.domain}.po"))
                if not source.with_suffix(".mo").is_file()
                or source.with_suffix(".mo").read_bytes()
                != compile_mo(parse_po(source.read_text(encoding="utf-8")))
            ]
            for path in stale:
                sys.stdout.write(f"stale: {path}\n")
            return 1 if stale else 0
        for path in compile_directory(root, domain=args.domain):
            sys.stdout.write(f"wrote {path}\n")
    except MalformedDataError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
