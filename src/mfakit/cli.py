"""The ``mfakit`` command line: TOTP secrets and codes, backup codes, secret-box keys.

Run ``mfakit --help`` or ``python -m mfakit --help``. Every sub-command has its
own ``--help``. Exit status: 0 on success, 1 when a code is not accepted, 2 on a
usage error (one line on standard error), 141 (128 + SIGPIPE, as a shell tool
killed by a closed pipe) when the reader of the output went away, as in
``mfakit totp new ... | head -2``: quietly, without a traceback.

Secrets given as ``-`` are read from standard input, so they stay out of the
shell history and the process list::

    $ mfakit totp new --issuer Example --account alice@example.com
    $ echo JBSWY3DPEHPK3PXP | mfakit totp code -
    $ mfakit totp verify - 123456 < secret.txt
    $ mfakit backup-codes generate --count 10
    $ mfakit secretbox new-key --id k1
    $ MFAKIT_SECRET_KEYS=... mfakit secretbox rewrap --store sqlite:////var/lib/app/mfa.sqlite3
    $ mfakit webauthn inspect response.json --options options.json --json

``secretbox rewrap`` re-encrypts the stored TOTP secrets under the current key
of the key ring read from an environment variable (``MFAKIT_SECRET_KEYS`` by
default, in :meth:`KeyRing.from_config <mfakit.secretbox.KeyRing.from_config>`
form): keys are never taken on the command line. It prints one line per batch
and never prints a secret; exit status 1 if a row could not be re-encrypted or
the store failed.

``webauthn inspect`` decodes a registration or authentication response (a
file, or ``-`` for standard input) with the verifier's own parsers and prints
what is in it; given the options or an RP ID it runs the real verifier and
prints why it would fail (exit status 1 then). Nothing secret is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import NoReturn, TextIO

from mfakit import __version__, backup_codes, qr, secretbox
from mfakit._inspect import MAX_INPUT_BYTES, inspect_input, render_text
from mfakit.clock import SystemClock, to_timestamp
from mfakit.errors import ConfigurationError, MalformedDataError, MfaError
from mfakit.otp import TOTP, decode_base32, encode_base32, generate_secret
from mfakit.repositories import MfaStore
from mfakit.service._rotation import MAX_BATCH, SecretRewrap
from mfakit.stores.sqlite import SQLiteStore

__all__ = ["main"]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
#: The reader of standard output closed the pipe (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141
#: Where ``secretbox rewrap`` reads the key ring by default.
KEYS_ENV = "MFAKIT_SECRET_KEYS"


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
    rewrap = box_commands.add_parser(
        "rewrap", help="re-encrypt stored TOTP secrets under the current key of the ring"
    )
    rewrap.add_argument(
        "--store",
        required=True,
        metavar="URL",
        help="sqlite:///relative/path, sqlite:////absolute/path or postgresql://user@host/db",
    )
    rewrap.add_argument(
        "--batch", type=int, default=500, help="credentials per batch, 1 to 1000 (default: 500)"
    )
    rewrap.add_argument(
        "--keys-env",
        default=KEYS_ENV,
        metavar="NAME",
        help=f"environment variable holding the key ring (default: {KEYS_ENV})",
    )

    webauthn = commands.add_parser("webauthn", help="passkeys and security keys")
    webauthn_commands = webauthn.add_subparsers(
        dest="action", metavar="ACTION", parser_class=_Parser
    )
    webauthn_commands.required = True
    inspect = webauthn_commands.add_parser(
        "inspect",
        help="decode a registration or authentication response; say why it would not verify",
    )
    inspect.add_argument(
        "response",
        metavar="FILE",
        help='the response JSON, or {"response": ..., "options": ...}; - reads stdin',
    )
    inspect.add_argument(
        "--options", metavar="FILE", help="the creation or request options JSON sent with it"
    )
    inspect.add_argument("--rp-id", metavar="RP_ID", help="the RP ID to verify against")
    inspect.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an expected origin (repeatable; default: the RP ID and its subdomains)",
    )
    inspect.add_argument(
        "--public-key",
        metavar="B64URL",
        help="the credential's stored COSE public key, to check an authentication's signature",
    )
    inspect.add_argument("--json", action="store_true", help="print JSON instead of text")
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
    if args.command == "webauthn":
        return _inspect(args, out, stdin)
    if args.command == "backup-codes":
        generated = backup_codes.generate(count=args.count)
        out.write("\n".join(generated.codes) + "\n")
        return EXIT_OK
    if args.action == "rewrap":
        return _rewrap(args, out)
    out.write(secretbox.generate_key_entry(args.key_id) + "\n")
    return EXIT_OK


def _read_input(name: str, stdin: TextIO, what: str) -> bytes:
    """The bytes of a file, or of standard input for ``-``; at most MAX_INPUT_BYTES."""
    try:
        if name == "-":
            buffer = getattr(stdin, "buffer", None)
            raw = (
                buffer.read(MAX_INPUT_BYTES + 1)
                if buffer is not None
                else stdin.read(MAX_INPUT_BYTES + 1).encode("utf-8")
            )
        else:
            with open(name, "rb") as handle:
                raw = handle.read(MAX_INPUT_BYTES + 1)
    except (OSError, UnicodeError) as exc:
        raise ConfigurationError(f"cannot read the {what}") from exc
    if len(raw) > MAX_INPUT_BYTES:
        raise MalformedDataError(f"the {what} is too large")
    return raw


def _inspect(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    raw = _read_input(args.response, stdin, "response")
    options = None
    if args.options is not None:
        if args.options == "-" and args.response == "-":
            raise ConfigurationError("only one of FILE and --options can be read from stdin")
        text = _read_input(args.options, stdin, "options")
        try:
            options = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise MalformedDataError("the options are not JSON") from exc
        if type(options) is not dict:
            raise MalformedDataError("the options must be a JSON object")
        # The client's JSON may wrap them, as {"publicKey": {...}}.
        if type(options.get("publicKey")) is dict:
            options = options["publicKey"]
    result = inspect_input(
        raw,
        options=options,
        rp_id=args.rp_id,
        origins=args.origin,
        public_key=args.public_key,
        now=SystemClock().now(),
    )
    if args.json:
        out.write(json.dumps(result, indent=2, sort_keys=True) + "\n")
    else:
        out.write(render_text(result))
    return EXIT_REJECTED if result["verification"].get("ok") is False else EXIT_OK


def _open_store(url: str) -> MfaStore:
    """The store a ``--store`` URL names (the URL is never printed: it may hold a password)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or path == ":memory:":
            raise ConfigurationError("--store sqlite:/// needs the path of a database file")
        if not os.path.isfile(path):
            raise ConfigurationError("--store names no existing SQLite database file")
        return SQLiteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            # The optional extra mfakit[postgres]: imported only when a URL asks for it.
            from mfakit.stores.postgres import PostgresStore  # noqa: PLC0415
        except ImportError as exc:
            raise ConfigurationError("a PostgreSQL store needs mfakit[postgres]") from exc
        return PostgresStore(url, min_size=1, max_size=1)
    raise ConfigurationError("--store must start with sqlite:/// or postgresql://")


def _rewrap(args: argparse.Namespace, out: TextIO) -> int:
    if not 1 <= args.batch <= MAX_BATCH:
        raise ConfigurationError(f"--batch must be from 1 to {MAX_BATCH}")
    config = os.environ.get(args.keys_env)
    if not config:
        raise ConfigurationError(f"the environment variable {args.keys_env} holds no key ring")
    ring = secretbox.KeyRing.from_config(config)
    store = _open_store(args.store)
    try:
        flow = SecretRewrap(store=store, keys=ring, now=SystemClock().now)
        totals = [0, 0, 0, 0]
        failed: list[str] = []
        after: str | None = None
        number = 0
        while True:
            number += 1
            progress = flow.rewrap_secrets(batch=args.batch, after=after)
            counts = (
                progress.scanned,
                progress.rewrapped,
                progress.already_current,
                progress.raced,
            )
            totals = [t + c for t, c in zip(totals, counts, strict=True)]
            failed.extend(progress.failed)
            out.write(
                f"batch {number}: scanned {counts[0]}, rewrapped {counts[1]}, "
                f"already current {counts[2]}, raced {counts[3]}, failed {len(progress.failed)}\n"
            )
            if progress.done:
                break
            after = progress.next_cursor
    finally:
        store.close()
    out.write(
        f"done: key {ring.current_key_id}; scanned {totals[0]}, rewrapped {totals[1]}, "
        f"already current {totals[2]}, raced {totals[3]}, failed {len(failed)}\n"
    )
    for totp_id in failed:
        out.write(f"failed: totp_id {totp_id} (its envelope does not open; leave it)\n")
    if totals[3]:
        out.write("rows changed meanwhile were left to their writer; a second run checks them\n")
    return EXIT_REJECTED if failed else EXIT_OK


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
    except BrokenPipeError:
        _silence(out)
        return EXIT_BROKEN_PIPE


def _silence(out: TextIO) -> None:
    """After the reader closed the pipe: send what is left of ``out`` nowhere.

    Python flushes standard output once more at exit, which would fail again
    and print "Exception ignored ... BrokenPipeError"; pointing the file
    descriptor at the null device makes that flush succeed quietly.
    """
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file (a test's buffer): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
