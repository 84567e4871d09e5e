"""The ``mfakit`` command line: TOTP secrets and codes, backup codes, secret-box keys.

Run ``mfakit --help`` or ``python -m mfakit --help``. Every sub-command has its
own ``--help``. Exit status: 0 on success, 1 when a code is not accepted, 2 on a
usage error (one line on standard error).

Secrets given as ``-`` are read from standard input, so they stay out of the
shell history and the process list::

    $ mfakit totp new --issuer Example --account alice@example.com
    $ echo JBSWY3DPEHPK3PXP | mfakit totp code -
    $ mfakit totp verify - 123456 < secret.txt
    $ mfakit backup-codes generate --count 10
    $ mfakit secretbox new-key --id k1
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import NoReturn, TextIO

from mfakit import __version__, backup_codes, qr, secretbox
from mfakit.clock import SystemClock, to_timestamp
from mfakit.errors import ConfigurationError, MalformedDataError, MfaError
from mfakit.otp import TOTP, decode_base32, encode_base32, generate_secret

__all__ = ["main"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


class _UsageError(Exception):
    """Raised instead of exiting so that ``main`` decides how to report it."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see --help)")


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="mfakit",
        description="Multi-factor authentication tools: TOTP, backup codes, secret-box keys.",
    )
    parser.add_argument("--version", action="version", version=f"mfakit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    totp = commands.add_parser("totp", help="TOTP authenticator-app secrets and codes")
    totp_commands = totp.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    totp_commands.required = True

    new = totp_commands.add_parser(
        "new", help="generate a secret; print it, its otpauth:// URI and a QR code"
    )
    new.add_argument("--issuer", required=True, help="service name shown in the app")
    new.add_argument("--account", required=True, help="account name, e.g. an email address")
    _add_totp_options(new)
    new.add_argument("--no-qr", action="store_true", help="do not print the QR code")

    code = totp_commands.add_parser("code", help="print the code for a secret")
    code.add_argument("secret", metavar="SECRET", help="base32 secret, or - to read stdin")
    code.add_argument("--at", metavar="TIME", help="ISO 8601 time or Unix seconds (default: now)")
    _add_totp_options(code)

    verify = totp_commands.add_parser("verify", help="check a code; exit 0 if it is accepted")
    verify.add_argument("secret", metavar="SECRET", help="base32 secret, or - to read stdin")
    verify.add_argument("code", metavar="CODE", help="the code to check")
    verify.add_argument("--at", metavar="TIME", help="ISO 8601 time or Unix seconds (default: now)")
    verify.add_argument(
        "--window", type=int, default=1, help="time steps of drift allowed each way (default: 1)"
    )
    _add_totp_options(verify)

    codes = commands.add_parser("backup-codes", help="single-use recovery codes")
    codes_commands = codes.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    codes_commands.required = True
    generate = codes_commands.add_parser("generate", help="print a new set of backup codes")
    generate.add_argument("--count", type=int, default=10, help="how many (default: 10)")

    box = commands.add_parser("secretbox", help="keys for encrypting secrets at rest")
    box_commands = box.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    box_commands.required = True
    new_key = box_commands.add_parser("new-key", help="print a new key as ID:BASE64 for a key ring")
    new_key.add_argument("--id", required=True, dest="key_id", help="the key id, e.g. k1")
    return parser


def _add_totp_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--digits", type=int, default=6, help="6 to 8 (default: 6)")
    parser.add_argument("--period", type=int, default=30, help="seconds per code (default: 30)")
    parser.add_argument(
        "--algorithm",
        choices=("sha1", "sha256", "sha512"),
        default="sha1",
        help="HMAC hash (default: sha1, what most apps support)",
    )


def _read_secret(text: str, stdin: TextIO) -> bytes:
    raw = stdin.readline().strip() if text == "-" else text
    return decode_base32(raw)


def _parse_time(text: str | None) -> float:
    if text is None:
        return SystemClock().now().timestamp()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigurationError("--at takes an ISO 8601 time or Unix seconds") from exc
    return to_timestamp(when)


def _totp(args: argparse.Namespace, secret: bytes) -> TOTP:
    return TOTP(secret, digits=args.digits, period=args.period, algorithm=args.algorithm)


def _run(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    if args.command == "totp":
        if args.action == "new":
            secret = generate_secret()
            otp = _totp(args, secret)
            uri = otp.uri(account_name=args.account, issuer=args.issuer)
            out.write(f"secret: {encode_base32(secret)}\nuri:    {uri}\n")
            if not args.no_qr:
                out.write("\n" + qr.render_terminal(uri))
            return EXIT_OK
        secret = _read_secret(args.secret, stdin)
        otp = _totp(args, secret)
        when = _parse_time(args.at)
        if args.action == "code":
            out.write(otp.at(when) + "\n")
            return EXIT_OK
        step = otp.verify(args.code, for_time=when, window=args.window)
        if step is None:
            out.write("rejected\n")
            return EXIT_REJECTED
        out.write(f"accepted (time step {step})\n")
        return EXIT_OK
    if args.command == "backup-codes":
        generated = backup_codes.generate(count=args.count)
        out.write("\n".join(generated.codes) + "\n")
        return EXIT_OK
    out.write(secretbox.generate_key_entry(args.key_id) + "\n")
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, stdin: TextIO | None = None
) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
        out: Where results go (default: standard output).
        stdin: Where ``-`` secrets are read from (default: standard input).
    """
    out = out if out is not None else sys.stdout
    stdin = stdin if stdin is not None else sys.stdin
    try:
        args = _build_parser().parse_args(argv)
        return _run(args, out, stdin)
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except _UsageError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except (ConfigurationError, MalformedDataError) as exc:
        sys.stderr.write(f"mfakit: {exc}\n")
        return EXIT_USAGE
    except MfaError as exc:
        sys.stderr.write(f"mfakit: {exc}\n")
        return EXIT_REJECTED
