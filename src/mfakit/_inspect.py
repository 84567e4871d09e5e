"""``mfakit webauthn inspect``: describe a WebAuthn response, and say why it would not verify.

Every field is read by the verifier's own parsers (:mod:`mfakit.webauthn.low_level`),
and verification is the real :func:`~mfakit.webauthn.verify_registration` or
:func:`~mfakit.webauthn.verify_authentication`. Nothing printed is secret:
the signature, the user handle and the raw attestation are reported by
their size only, and keys by their algorithm and kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from mfakit.errors import ConfigurationError, MalformedDataError, MfaError
from mfakit.webauthn import (
    COSEAlgorithm,
    origin_covered,
    parse_credential_public_key,
    verify_authentication,
    verify_registration,
)
from mfakit.webauthn._b64 import b64url_decode, b64url_encode
from mfakit.webauthn._structures import loads_json
from mfakit.webauthn.low_level import (
    MAX_COSE_KEY_BYTES,
    MAX_RESPONSE_BYTES,
    AuthenticatorData,
    AuthenticatorFlags,
    parse_attestation_object,
    parse_authentication_response,
    parse_authenticator_data,
    parse_client_data,
    parse_registration_response,
)

__all__ = ["Inspection", "inspect_input"]

#: The largest input accepted: a response, with its options beside it.
MAX_INPUT_BYTES = 2 * MAX_RESPONSE_BYTES
_MAX_CHALLENGE_BYTES = 1024
_MAX_CERTIFICATES = 8

Inspection = dict[str, Any]


def _object(value: object, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise MalformedDataError(f"{what} must be a JSON object", field=what)
    return value


def split_input(raw: bytes) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The response and the options of the input: a bare response or ``{"response", "options"}``."""
    if len(raw) > MAX_INPUT_BYTES:
        raise MalformedDataError("input too large", field="input")
    data = _object(loads_json(raw, field="input"), "input")
    if "type" not in data and "response" in data:
        options = data.get("options")
        return _object(data["response"], "response"), (
            None if options is None else _object(options, "options")
        )
    return data, None


def _kind(response: Mapping[str, Any]) -> str:
    inner = response.get("response")
    if type(inner) is dict:
        if "attestationObject" in inner:
            return "registration"
        if "authenticatorData" in inner:
            return "authentication"
    raise MalformedDataError(
        "neither a registration nor an authentication response", field="response"
    )


def _flags(auth_data: AuthenticatorData) -> dict[str, Any]:
    names = [flag.name for flag in AuthenticatorFlags if flag & auth_data.flags and flag.name]
    return {
        "rp_id_hash": auth_data.rp_id_hash.hex(),
        "flags": names,
        "flags_byte": int(auth_data.flags),
        "sign_count": auth_data.sign_count,
        "extensions": sorted(str(k) for k in auth_data.extensions or {}),
    }


def _key_kind(key: Any) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "OKP Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "OKP Ed448"
    return type(key).__name__


def _algorithm_name(alg: int) -> str:
    try:
        return COSEAlgorithm(alg).name
    except ValueError:
        return "unknown"


def _credential_key(cose: bytes) -> dict[str, Any]:
    alg: object = None
    try:
        decoded = cbor2.loads(cose)
        if isinstance(decoded, dict):
            alg = decoded.get(3)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError):
        pass
    try:
        key = parse_credential_public_key(cose, allow_rs1=True)
    except MfaError as exc:
        return {
            "algorithm": alg if isinstance(alg, int) else None,
            "name": _algorithm_name(alg) if isinstance(alg, int) else "unknown",
            "kind": None,
            "unsupported": str(exc),
        }
    return {"algorithm": key.alg, "name": _algorithm_name(key.alg), "kind": _key_kind(key.key)}


def _when(moment: datetime) -> str:
    return moment.isoformat()


def _certificates(att_stmt: Mapping[str, Any]) -> list[dict[str, Any]]:
    chain = att_stmt.get("x5c") if isinstance(att_stmt, Mapping) else None
    if not isinstance(chain, list | tuple):
        return []
    summary: list[dict[str, Any]] = []
    for der in list(chain)[:_MAX_CERTIFICATES]:
        if not isinstance(der, bytes):
            summary.append({"error": "not a DER certificate"})
            continue
        try:
            cert = x509.load_der_x509_certificate(der)
            summary.append(
                {
                    "subject": cert.subject.rfc4514_string(),
                    "issuer": cert.issuer.rfc4514_string(),
                    "not_before": _when(cert.not_valid_before_utc),
                    "not_after": _when(cert.not_valid_after_utc),
                    "sha256": hashlib.sha256(der).hexdigest(),
                }
            )
        except ValueError:
            summary.append({"error": "not a DER certificate"})
    return summary


def _client_data(raw: bytes) -> tuple[dict[str, Any], bytes, str]:
    client = parse_client_data(raw)
    described = {
        "type": client.type,
        "challenge": b64url_encode(client.challenge),
        "origin": client.origin,
        "cross_origin": client.cross_origin,
        "top_origin": client.top_origin,
    }
    return described, client.challenge, client.origin


def _describe(kind: str, response: dict[str, Any]) -> tuple[Inspection, bytes, str, bytes | None]:
    """The description, the client data's challenge and origin, and (registration) the key."""
    result: Inspection = {"kind": kind}
    if kind == "registration":
        reg = parse_registration_response(response)
        result["credential_id"] = b64url_encode(reg.credential_id)
        result["client_data"], challenge, origin = _client_data(reg.client_data_json)
        attestation = parse_attestation_object(reg.attestation_object)
        result["authenticator_data"] = _flags(attestation.auth_data)
        acd = attestation.auth_data.attested_credential_data
        cose = None if acd is None else acd.credential_public_key
        result["aaguid"] = None if acd is None else str(UUID(bytes=acd.aaguid))
        result["credential_key"] = None if cose is None else _credential_key(cose)
        result["attestation"] = {
            "format": attestation.fmt,
            "certificates": _certificates(attestation.att_stmt),
        }
        result["transports"] = list(reg.transports)
        result["authenticator_attachment"] = reg.authenticator_attachment
        return result, challenge, origin, cose
    auth = parse_authentication_response(response)
    result["credential_id"] = b64url_encode(auth.credential_id)
    result["client_data"], challenge, origin = _client_data(auth.client_data_json)
    result["authenticator_data"] = _flags(parse_authenticator_data(auth.authenticator_data))
    result["user_handle_bytes"] = None if auth.user_handle is None else len(auth.user_handle)
    result["signature_bytes"] = len(auth.signature)
    result["authenticator_attachment"] = auth.authenticator_attachment
    return result, challenge, origin, None


def _options_facts(kind: str, options: Mapping[str, Any]) -> tuple[bytes, str | None, bool]:
    """The options' challenge, RP ID and whether they require user verification."""
    creation = "rp" in options or "user" in options or "pubKeyCredParams" in options
    if creation != (kind == "registration"):
        raise ConfigurationError(
            f"the options are not {'creation' if kind == 'registration' else 'request'} "
            f"options, but the response is a {kind}"
        )
    challenge = b64url_decode(
        options.get("challenge"), field="options.challenge", max_len=_MAX_CHALLENGE_BYTES
    )
    if creation:
        rp = options.get("rp")
        rp_id = rp.get("id") if type(rp) is dict else None
        selection = options.get("authenticatorSelection")
        uv = selection.get("userVerification") if type(selection) is dict else None
    else:
        rp_id = options.get("rpId")
        uv = options.get("userVerification")
    if rp_id is not None and type(rp_id) is not str:
        raise MalformedDataError("the options' RP ID must be a string", field="options.rp")
    return challenge, rp_id, uv == "required"


def _throwaway_key() -> bytes:
    """A fresh P-256 COSE key, so an authentication runs every check before the signature."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: point.x.to_bytes(32, "big"), -3: point.y.to_bytes(32, "big")}
    )


def inspect_input(
    raw: bytes,
    *,
    options: dict[str, Any] | None = None,
    rp_id: str | None = None,
    origins: Sequence[str] = (),
    public_key: str | None = None,
    now: datetime,
) -> Inspection:
    """Describe the response in ``raw`` and, given options or an RP ID, verify it.

    Raises:
        MalformedDataError: The input is not a response the parsers accept.
        ConfigurationError: The options do not fit the response, or an argument is bad.
    """
    response, embedded = split_input(raw)
    if options is None:
        options = embedded
    kind = _kind(response)
    result, client_challenge, client_origin, _ = _describe(kind, response)
    challenge: bytes | None = None
    require_uv = False
    if options is not None:
        challenge, options_rp_id, require_uv = _options_facts(kind, options)
        rp_id = rp_id or options_rp_id
    key_bytes: bytes | None = None
    if public_key is not None:
        key_bytes = b64url_decode(public_key, field="--public-key", max_len=MAX_COSE_KEY_BYTES)
    if rp_id is None:
        reason = (
            "give --rp-id or --options to verify"
            if options is None
            else "no RP ID in the options: give --rp-id"
        )
        result["verification"] = {"run": False, "reason": reason}
        return result
    notes: list[str] = []
    if challenge is None:
        challenge = client_challenge
        notes.append("challenge not checked (no options)")
    expected = tuple(origins)
    if not expected:
        expected = (client_origin,)
        notes.append("origin checked against the RP ID only (no --origin)")
        try:
            covered = origin_covered(client_origin, rp_id)
        except ConfigurationError:
            covered = False
        if not covered:
            result["verification"] = {
                "run": True,
                "ok": False,
                "reason": "origin is not the RP ID or a subdomain of it "
                "(give --origin for a related origin)",
                "error": "configuration_error",
                "notes": notes,
            }
            return result
    try:
        if kind == "registration":
            verify_registration(
                response,
                expected_challenge=challenge,
                expected_origins=expected,
                expected_rp_id=rp_id,
                require_user_verification=require_uv,
                now=now,
            )
        else:
            if key_bytes is None:
                notes.append("signature not checked (no --public-key)")
            verify_authentication(
                response,
                expected_challenge=challenge,
                expected_origins=expected,
                expected_rp_id=rp_id,
                credential_public_key=key_bytes if key_bytes is not None else _throwaway_key(),
                current_sign_count=0,
                require_user_verification=require_uv,
            )
    except MfaError as exc:
        if kind == "authentication" and key_bytes is None and exc.code == "invalid_signature":
            notes.append("every check before the signature passed")
            result["verification"] = {"run": True, "ok": None, "reason": None, "notes": notes}
            return result
        result["verification"] = {
            "run": True,
            "ok": False,
            "reason": str(exc),
            "error": exc.code,
            "notes": notes,
        }
        return result
    result["verification"] = {"run": True, "ok": True, "reason": None, "notes": notes}
    return result


def render_text(result: Inspection) -> str:
    """The plain-text form of an inspection, one ``name: value`` per line."""
    lines = [f"kind: {result['kind']}", f"credential id: {result['credential_id']}"]
    client = result["client_data"]
    lines.append("client data:")
    for name in ("type", "challenge", "origin", "cross_origin", "top_origin"):
        value = client[name]
        shown = "-" if value is None else str(value).lower() if type(value) is bool else value
        lines.append(f"  {name.replace('_', ' ')}: {shown}")
    data = result["authenticator_data"]
    lines.append("authenticator data:")
    lines.append(f"  rp id hash: {data['rp_id_hash']}")
    flags = ", ".join(data["flags"]) or "none"
    lines.append(f"  flags: {flags} (0x{data['flags_byte']:02x})")
    lines.append(f"  sign count: {data['sign_count']}")
    if data["extensions"]:
        lines.append(f"  extensions: {', '.join(data['extensions'])}")
    if result["kind"] == "registration":
        lines.append(f"aaguid: {result['aaguid'] or '-'}")
        key = result["credential_key"]
        if key is None:
            lines.append("credential key: -")
        elif key["kind"] is None:
            lines.append(
                f"credential key: {key['name']} ({key['algorithm']}), {key['unsupported']}"
            )
        else:
            lines.append(f"credential key: {key['name']} ({key['algorithm']}), {key['kind']}")
        attestation = result["attestation"]
        lines.append(f"attestation: {attestation['format']}")
        for number, cert in enumerate(attestation["certificates"], 1):
            if "error" in cert:
                lines.append(f"  certificate {number}: {cert['error']}")
                continue
            lines.append(f"  certificate {number}: subject {cert['subject'] or '(empty)'}")
            lines.append(f"    issuer {cert['issuer'] or '(empty)'}")
            lines.append(f"    valid {cert['not_before']} to {cert['not_after']}")
        lines.append(f"transports: {', '.join(result['transports']) or '-'}")
    else:
        size = result["user_handle_bytes"]
        lines.append(f"user handle: {'-' if size is None else f'{size} bytes'}")
        lines.append(f"signature: {result['signature_bytes']} bytes")
    lines.append(f"attachment: {result['authenticator_attachment'] or '-'}")
    verification = result["verification"]
    if not verification["run"]:
        lines.append(f"verification: not run ({verification['reason']})")
    elif verification["ok"] is None:
        lines.append("verification: incomplete")
    elif verification["ok"]:
        lines.append("verification: passed")
    else:
        lines.append(f"verification: failed: {verification['reason']}")
    lines.extend(f"  note: {note}" for note in verification.get("notes", ()))
    return "\n".join(lines) + "\n"
