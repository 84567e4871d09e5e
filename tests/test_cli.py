"""The mfakit command line."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from mfakit import backup_codes, secretbox
from mfakit.cli import main
from mfakit.otp import TOTP, decode_base32, parse_uri

SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # b"12345678901234567890" (RFC 4226)
SECRET = b"12345678901234567890"


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out, stdin=io.StringIO(stdin))
    return status, out.getvalue()


def test_totp_new_prints_a_working_secret_uri_and_qr() -> None:
    """`totp new` prints a secret whose URI round-trips, and a QR code."""
    status, out = run("totp", "new", "--issuer", "Example", "--account", "alice@example.com")
    assert status == 0
    lines = out.splitlines()
    secret = decode_base32(lines[0].removeprefix("secret: "))
    parsed = parse_uri(lines[1].removeprefix("uri:    ").strip())
    assert parsed.issuer == "Example"
    assert parsed.account_name == "alice@example.com"
    assert parsed.otp.at(1_000_000) == TOTP(secret).at(1_000_000)
    assert "▄" in out or "█" in out


def test_totp_new_options_reach_the_uri() -> None:
    """Digits, period and algorithm options end up in the URI."""
    status, out = run(
        "totp",
        "new",
        "--issuer",
        "X",
        "--account",
        "a",
        "--digits",
        "8",
        "--period",
        "60",
        "--algorithm",
        "sha256",
        "--no-qr",
    )
    assert status == 0
    assert "█" not in out
    uri = out.splitlines()[1].removeprefix("uri:    ").strip()
    otp = parse_uri(uri).otp
    assert isinstance(otp, TOTP)
    assert (otp.digits, otp.period, otp.algorithm) == (8, 60, "sha256")


def test_totp_code_matches_rfc_6238() -> None:
    """`totp code` prints the RFC 6238 Appendix B value for T=59 (8 digits)."""
    status, out = run("totp", "code", SECRET_B32, "--at", "59", "--digits", "8")
    assert (status, out) == (0, "94287082\n")


def test_totp_code_reads_secret_from_stdin_and_iso_time() -> None:
    """A secret of '-' is read from stdin; --at takes ISO 8601."""
    status, out = run("totp", "code", "-", "--at", "1970-01-01T00:00:59+00:00", stdin=SECRET_B32)
    assert (status, out) == (0, "287082\n")


def test_totp_code_defaults_to_now() -> None:
    """Without --at, the code is the current one."""
    status, out = run("totp", "code", SECRET_B32)
    assert status == 0
    assert TOTP(SECRET).verify(out.strip(), for_time=__import__("time").time()) is not None


def test_totp_verify_accepts_and_rejects() -> None:
    """`totp verify` exits 0 for the right code and 1 for a wrong one."""
    assert run("totp", "verify", SECRET_B32, "287082", "--at", "59") == (
        0,
        "accepted (time step 1)\n",
    )
    assert run("totp", "verify", SECRET_B32, "287083", "--at", "59") == (1, "rejected\n")
    # Outside the window (default 1 step) but inside a wider one.
    assert run("totp", "verify", SECRET_B32, "287082", "--at", "150")[0] == 1
    assert run("totp", "verify", SECRET_B32, "287082", "--at", "150", "--window", "4")[0] == 0


def test_backup_codes_generate() -> None:
    """`backup-codes generate` prints that many distinct well-formed codes."""
    status, out = run("backup-codes", "generate", "--count", "4")
    codes = out.split()
    assert status == 0
    assert len(set(codes)) == 4
    assert all(backup_codes.normalize(code) is not None for code in codes)


def test_secretbox_new_key_makes_a_loadable_ring() -> None:
    """`secretbox new-key` prints an entry that KeyRing.from_config accepts."""
    status, out = run("secretbox", "new-key", "--id", "k7")
    assert status == 0
    ring = secretbox.KeyRing.from_config(out.strip())
    assert ring.current_key_id == "k7"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "required: COMMAND"),
        (["totp"], "required: ACTION"),
        (["totp", "new", "--issuer", "X"], "--account"),
        (["totp", "code", "not base32!"], "base32"),
        (["totp", "code", "JBSWY3DPEHPK3PXP"], "16 bytes"),
        (["totp", "code", SECRET_B32, "--at", "yesterday"], "--at"),
        (["totp", "code", SECRET_B32, "--digits", "9"], "digits"),
        (["backup-codes", "generate", "--count", "0"], "count"),
        (["secretbox", "new-key", "--id", "bad id!"], "key id"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad usage exits 2 and explains itself in one line on stderr."""
    status, out = run(*argv)
    err = capsys.readouterr().err
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("mfakit")
    assert fragment.lower() in err.lower()


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help and --version succeed."""
    assert main(["--help"]) == 0
    assert "totp" in capsys.readouterr().out
    assert main(["totp", "verify", "--help"]) == 0
    assert "--window" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mfakit ")


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m mfakit` is the same command line."""
    done = subprocess.run(
        [sys.executable, "-m", "mfakit", "totp", "code", SECRET_B32, "--at", "59"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "287082\n")


def test_module_entry_point_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Running mfakit as __main__ exits with main()'s status."""
    import runpy

    monkeypatch.setattr(sys, "argv", ["mfakit", "totp", "code", SECRET_B32, "--at", "59"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("mfakit", run_name="__main__")
    assert info.value.code == 0
    assert capsys.readouterr().out == "287082\n"


def test_other_library_failures_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refusal from the library (not a usage error) exits 1 with its safe message."""
    from mfakit.errors import VerificationError

    def refuse(**_: object) -> None:
        raise VerificationError("refused for a test")

    monkeypatch.setattr(backup_codes, "generate", refuse)
    assert run("backup-codes", "generate") == (1, "")
    assert capsys.readouterr().err == "mfakit: refused for a test\n"


class _ClosedPipe(io.StringIO):
    """An output whose reader went away: every write fails as on a closed pipe."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_pipe_exits_141_without_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["totp", "new", "--issuer", "X", "--account", "a@b"], out=_ClosedPipe())
    assert status == 141
    assert capsys.readouterr().err == ""


def test_closed_pipe_in_a_real_process_prints_no_traceback() -> None:
    """``mfakit totp new ... | head -2``: the reader closes before the output is written."""
    child = subprocess.Popen(
        [sys.executable, "-m", "mfakit", "totp", "new", "--issuer", "X", "--account", "a@b"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    child.stdout.close()  # before the interpreter has even started: every write fails
    _, err = child.communicate(timeout=60)
    assert err == b""
    assert child.returncode == 141
