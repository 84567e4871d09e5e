"""``mfakit webauthn inspect``: real vectors described and verified, bad input refused."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from mfakit.cli import main
from mfakit.testing._webauthn_vectors import WEBAUTHN_TEST_VECTORS, WebAuthnTestVector

REAL = json.loads(
    (Path(__file__).parent / "vectors" / "real_attestations.json").read_text(encoding="utf-8")
)
CORE = [v for v in WEBAUTHN_TEST_VECTORS if v.fmt in {"none", "packed", "fido-u2f"}]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url(text: str) -> str:
    # The TPM vectors were recorded in standard base64; Level 3 JSON is base64url.
    return text.replace("+", "-").replace("/", "_").rstrip("=")


def run(tmp_path: Path, document: object, *argv: str, raw: str | None = None) -> tuple[int, str]:
    source = tmp_path / "input.json"
    source.write_text(raw if raw is not None else json.dumps(document), encoding="utf-8")
    out = io.StringIO()
    status = main(["webauthn", "inspect", str(source), *argv], out=out)
    return status, out.getvalue()


def _creation(vector: WebAuthnTestVector) -> dict[str, Any]:
    return {
        "challenge": _b64(vector.registration_challenge),
        "rp": {"id": vector.rp_id, "name": "Example"},
        "user": {"id": "AA", "name": "a", "displayName": "a"},
        "pubKeyCredParams": [{"type": "public-key", "alg": vector.algorithm}],
    }


def _request(vector: WebAuthnTestVector, **extra: object) -> dict[str, Any]:
    return {"challenge": _b64(vector.authentication_challenge), "rpId": vector.rp_id, **extra}


def _cross(vector: WebAuthnTestVector) -> bool:
    return bool(vector.cross_origin)


@pytest.mark.parametrize("vector", WEBAUTHN_TEST_VECTORS, ids=lambda v: v.name)
def test_describes_every_w3c_registration(tmp_path: Path, vector: WebAuthnTestVector) -> None:
    """Without options nothing is verified; the parsed facts are printed."""
    status, out = run(tmp_path, vector.registration_response(), "--json")
    assert status == 0
    result = json.loads(out)
    assert result["kind"] == "registration"
    assert result["credential_id"] == _b64(vector.credential_id)
    assert result["client_data"]["origin"] == vector.origin
    assert result["client_data"]["challenge"] == _b64(vector.registration_challenge)
    assert result["aaguid"] == str(UUID(bytes=vector.aaguid))
    assert result["attestation"]["format"] == vector.fmt
    assert result["credential_key"]["algorithm"] == vector.algorithm
    assert "AT" in result["authenticator_data"]["flags"]
    assert result["verification"] == {
        "run": False,
        "reason": "give --rp-id or --options to verify",
    }


@pytest.mark.parametrize("vector", CORE, ids=lambda v: v.name)
def test_w3c_registration_verifies_with_its_options(
    tmp_path: Path, vector: WebAuthnTestVector
) -> None:
    document = {"response": vector.registration_response(), "options": _creation(vector)}
    status, out = run(tmp_path, document)
    if _cross(vector):
        assert status == 1
        assert "verification: failed: cross-origin ceremony not allowed" in out
        return
    assert status == 0, out
    assert "verification: passed" in out
    assert f"attestation: {vector.fmt}" in out
    if vector.fmt in {"packed", "fido-u2f"} and vector.name != "packed-self-es256":
        assert "certificate 1: subject " in out
        assert "    valid " in out


@pytest.mark.parametrize("vector", CORE, ids=lambda v: v.name)
def test_w3c_registration_with_another_challenge_says_why(
    tmp_path: Path, vector: WebAuthnTestVector
) -> None:
    options = {**_creation(vector), "challenge": _b64(b"another challenge, 16+")}
    options_file = tmp_path / "options.json"
    options_file.write_text(json.dumps({"publicKey": options}), encoding="utf-8")
    status, out = run(tmp_path, vector.registration_response(), "--options", str(options_file))
    assert status == 1
    assert "verification: failed: challenge" in out


def test_options_from_stdin_when_the_response_is_a_file(tmp_path: Path) -> None:
    vector = CORE[0]
    source = tmp_path / "r.json"
    source.write_text(json.dumps(vector.registration_response()), encoding="utf-8")
    out = io.StringIO()
    status = main(
        ["webauthn", "inspect", str(source), "--options", "-", "--json"],
        out=out,
        stdin=io.StringIO(json.dumps(_creation(vector))),
    )
    assert status == (1 if _cross(vector) else 0)
    assert json.loads(out.getvalue())["verification"]["run"] is True


@pytest.mark.parametrize("vector", WEBAUTHN_TEST_VECTORS, ids=lambda v: v.name)
def test_w3c_authentication(tmp_path: Path, vector: WebAuthnTestVector) -> None:
    """With the stored key the real verifier runs; without it, every check but the signature."""
    document = {"response": vector.authentication_response(), "options": _request(vector)}
    origin = ["--origin", vector.origin]
    if _cross(vector):
        status, out = run(tmp_path, document, *origin)
        assert status == 1
        assert "cross-origin" in out
        return
    key = _b64(vector.credential_public_key)
    status, out = run(tmp_path, document, "--public-key", key, *origin)
    assert status == 0, out
    assert "verification: passed" in out
    assert "kind: authentication" in out
    status, out = run(tmp_path, document, *origin)
    assert status == 0
    assert "verification: incomplete" in out
    assert "note: every check before the signature passed" in out
    # The wrong RP ID: the verifier's own reason.
    status, out = run(tmp_path, document, "--rp-id", "example.com", *origin)
    assert status == 1
    assert "verification: failed: RP ID hash mismatch" in out
    # The right key but a tampered signature fails on the signature.
    tampered = json.loads(json.dumps(document))
    signature = bytearray(vector.signature)
    signature[-1] ^= 1
    tampered["response"]["response"]["signature"] = _b64(bytes(signature))
    status, out = run(tmp_path, tampered, "--public-key", key, *origin)
    assert status == 1
    assert "verification: failed:" in out


def test_origin_outside_the_rp_id_is_named(tmp_path: Path) -> None:
    vector = CORE[0]
    status, out = run(tmp_path, vector.registration_response(), "--rp-id", "example.com")
    assert status == 1
    assert "origin is not the RP ID or a subdomain of it" in out


@pytest.mark.parametrize("vector", REAL, ids=lambda v: v["name"])
def test_real_attestations(tmp_path: Path, vector: dict[str, Any]) -> None:
    """Real authenticators: the certificate chain is summarized, and the verifier's verdict."""
    response = {
        "id": vector["id"],
        "rawId": vector["id"],
        "type": "public-key",
        "response": {
            "attestationObject": _b64url(vector["attestationObject"]),
            "clientDataJSON": _b64url(vector["clientDataJSON"]),
        },
    }
    options = {
        "challenge": vector["challenge"],
        "rp": {"id": vector["rp_id"], "name": "x"},
        "user": {"id": "AA", "name": "a", "displayName": "a"},
    }
    status, out = run(tmp_path, {"response": response, "options": options}, "--json")
    result = json.loads(out)
    assert result["attestation"]["format"] == vector["fmt"]
    chain = result["attestation"]["certificates"]
    assert chain, "every real vector carries an x5c chain"
    for cert in chain:
        assert set(cert) == {"subject", "issuer", "not_before", "not_after", "sha256"}
    if vector["fmt"] == "tpm":
        # Every TPM vector signs with RS1, which the default policy refuses.
        assert status == 1
        assert result["verification"]["reason"] == "tpm statement alg is not allowed"
    else:
        assert status == 0
        assert result["verification"]["ok"] is True
        assert "Yubico" in chain[0]["subject"]


def test_secrets_and_raw_bytes_never_printed(tmp_path: Path) -> None:
    vector = CORE[0]
    response = vector.authentication_response()
    handle = _b64(b"user-1234-handle")
    response["response"]["userHandle"] = handle
    for extra in ((), ("--json",)):
        status, out = run(tmp_path, response, *extra)
        assert status == 0
        assert handle not in out
        assert _b64(vector.signature) not in out
        assert response["response"]["authenticatorData"] not in out
        assert "16" in out  # the handle's size only
    status, out = run(tmp_path, vector.registration_response())
    assert vector.registration_response()["response"]["attestationObject"] not in out
    assert _b64(vector.credential_public_key) not in out


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "mfakit: invalid JSON"),
        ("[]", "mfakit: input must be a JSON object"),
        ('{"type": "public-key"}', "mfakit: neither a registration nor an authentication"),
        ('{"response": 3}', "mfakit: response must be a JSON object"),
        ("\xff", "mfakit: invalid JSON"),
        ('{"a": 1, "a": 2}', "mfakit: duplicate JSON member"),
    ],
)
def test_malformed_input_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: str, message: str
) -> None:
    status, out = run(tmp_path, None, raw=raw)
    assert status == 2
    assert out == ""
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


def _broken_responses() -> list[tuple[str, dict[str, Any]]]:
    vector = CORE[0]
    cases: list[tuple[str, dict[str, Any]]] = []
    bad = vector.registration_response()
    bad["response"]["attestationObject"] = "!!!"
    cases.append(("bad base64url", bad))
    short = vector.registration_response()
    short["response"]["attestationObject"] = short["response"]["attestationObject"][:40]
    cases.append(("truncated attestation object", short))
    no_id = vector.authentication_response()
    no_id["id"] = "AAAA"
    cases.append(("id differs from rawId", no_id))
    client = vector.authentication_response()
    client["response"]["clientDataJSON"] = _b64(b"not json")
    cases.append(("client data not JSON", client))
    return cases


@pytest.mark.parametrize(("name", "document"), _broken_responses(), ids=lambda x: str(x)[:20])
def test_broken_responses_are_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, document: dict[str, Any]
) -> None:
    status, out = run(tmp_path, document)
    assert (status, out) == (2, ""), name
    err = capsys.readouterr().err
    assert err.startswith("mfakit: ")
    assert err.count("\n") == 1


def test_bad_arguments_are_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vector = CORE[0]
    auth = {"response": vector.authentication_response(), "options": _creation(vector)}
    cases: list[tuple[object, tuple[str, ...]]] = [
        (auth, ()),  # creation options with an authentication
        (vector.authentication_response(), ("--rp-id", "example.org", "--public-key", "!")),
        (vector.registration_response(), ("--options", str(tmp_path / "missing.json"))),
    ]
    for document, argv in cases:
        status, out = run(tmp_path, document, *argv)
        assert (status, out) == (2, ""), argv
        err = capsys.readouterr().err
        assert err.startswith("mfakit: ")
        assert err.count("\n") == 1
    status = main(["webauthn", "inspect", str(tmp_path / "missing.json")], out=io.StringIO())
    assert status == 2
    assert capsys.readouterr().err == "mfakit: cannot read the response\n"
    status = main(["webauthn", "inspect", "-", "--options", "-"], out=io.StringIO())
    assert status == 2
    assert capsys.readouterr().err.count("\n") == 1
    status = main(["webauthn"], out=io.StringIO())
    assert status == 2
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 * 1024 * 1024))
    assert main(["webauthn", "inspect", str(big)], out=io.StringIO()) == 2
    assert "too large" in capsys.readouterr().err
