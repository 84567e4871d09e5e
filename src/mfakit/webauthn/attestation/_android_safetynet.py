"""The ``android-safetynet`` attestation statement format (WebAuthn Level 3 §8.5).

The statement carries a SafetyNet attestation response: a compact JWS
signed by ``attest.android.com`` whose ``nonce`` binds it to the ceremony.
Google has retired the SafetyNet API; the format remains in Level 3 for
the authenticators that still produce it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from mfakit.errors import InvalidAttestationError, InvalidSignatureError, MalformedDataError
from mfakit.webauthn._cose import CredentialPublicKey
from mfakit.webauthn._jws import parse_compact_jws
from mfakit.webauthn._structures import AuthenticatorData

from ._common import StatementResult, only_keys
from ._options import DEFAULT_OPTIONS, FormatOptions, require_now

__all__ = [
    "SAFETYNET_HOSTNAME",
    "verify",
]

_KEYS = frozenset({"ver", "response"})
#: The host name the SafetyNet response's signing certificate must be issued to.
SAFETYNET_HOSTNAME = "attest.android.com"
#: Largest SafetyNet response accepted, in bytes.
MAX_SAFETYNET_BYTES = 64 * 1024


def _issued_to_attest(cert: x509.Certificate) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    except (ValueError, x509.InvalidVersion):
        return False
    if names:
        return SAFETYNET_HOSTNAME in names
    common = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return len(common) == 1 and common[0].value == SAFETYNET_HOSTNAME


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> StatementResult:
    """Verify an ``android-safetynet`` statement (§8.5 "Verification procedure").

    * ``ver`` is a non-empty string and ``response`` a compact JWS (bytes);
    * the JWS signature verifies with its ``x5c`` leaf, which is issued to
      ``attest.android.com`` (SAN, else CN);
    * ``nonce`` is base64(SHA-256(``authenticatorData || clientDataHash``));
    * ``ctsProfileMatch`` is true (unless the policy allows otherwise);
    * ``timestampMs`` is within ``options.safetynet_max_age`` of ``now``.

    Returns:
        Attestation type ``basic`` with the JWS ``x5c`` as the trust path.

    Raises:
        InvalidAttestationError: A rule above is broken, or the JWS does not parse.
        InvalidSignatureError: The JWS signature does not verify.
        ConfigurationError: No ``now`` was given.
    """
    only_keys(att_stmt, _KEYS, "android-safetynet")
    ver, response = att_stmt.get("ver"), att_stmt.get("response")
    if type(ver) is not str or not ver or type(response) is not bytes:
        raise InvalidAttestationError("android-safetynet statement needs ver and response")
    now = require_now(options, "android-safetynet")
    try:
        jws = parse_compact_jws(response, max_bytes=MAX_SAFETYNET_BYTES)
    except MalformedDataError as exc:
        raise InvalidAttestationError("android-safetynet response does not parse") from exc
    try:
        jws.verify_signature()
    except InvalidSignatureError as exc:
        raise InvalidSignatureError("android-safetynet response signature is not valid") from exc
    if not _issued_to_attest(jws.x5c[0]):
        raise InvalidAttestationError("android-safetynet response not signed by attest.android.com")
    payload = jws.payload
    expected = base64.b64encode(hashlib.sha256(auth_data.raw + client_data_hash).digest())
    nonce = payload.get("nonce")
    if type(nonce) is not str or not hmac.compare_digest(
        nonce.encode("ascii", "replace"), expected
    ):
        raise InvalidAttestationError("android-safetynet nonce does not match the ceremony")
    if options.safetynet_require_cts_profile and payload.get("ctsProfileMatch") is not True:
        raise InvalidAttestationError("android-safetynet ctsProfileMatch is not true")
    stamp = payload.get("timestampMs")
    if type(stamp) is not int or not 0 <= stamp < 2**53:
        raise InvalidAttestationError("android-safetynet timestampMs is missing")
    when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=stamp)
    if abs(now - when) > options.safetynet_max_age:
        raise InvalidAttestationError("android-safetynet timestampMs is outside the window")
    return StatementResult(attestation_type="basic", trust_path=jws.x5c)
