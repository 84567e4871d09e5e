"""The ``android-key`` attestation statement format (WebAuthn Level 3 §8.4).

The credential key lives in Android's Keystore; its attestation certificate
carries the key description record (extension 1.3.6.1.4.1.11129.2.1.17,
"Android Key Attestation" schema), read here with a small strict DER reader.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.x509.oid import ObjectIdentifier

from mfakit.errors import (
    InvalidAttestationError,
    MalformedDataError,
)
from mfakit.webauthn._cose import CredentialPublicKey
from mfakit.webauthn._structures import AuthenticatorData

from ._common import (
    StatementResult,
    extension_value,
    load_x5c,
    only_keys,
    verify_with_certificate,
)
from ._der import (
    CLASS_CONTEXT,
    CLASS_UNIVERSAL,
    TAG_ENUMERATED,
    TAG_NULL,
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    TAG_SET,
    Element,
    children,
    parse_single,
    read_integer,
)
from ._options import DEFAULT_OPTIONS, FormatOptions, certificate_key_matches

__all__ = [
    "AuthorizationList",
    "KM_ORIGIN_GENERATED",
    "KM_PURPOSE_SIGN",
    "KeyDescription",
    "OID_ANDROID_KEY_DESCRIPTION",
    "parse_key_description",
    "verify",
]

_KEYS = frozenset({"alg", "sig", "x5c"})
#: The Android key attestation extension (the KeyDescription record).
OID_ANDROID_KEY_DESCRIPTION = ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
#: ``KM_ORIGIN_GENERATED``: the key was generated inside the Keystore.
KM_ORIGIN_GENERATED = 0
#: ``KM_PURPOSE_SIGN``.
KM_PURPOSE_SIGN = 2
_TAG_PURPOSE = 1
_TAG_ALL_APPLICATIONS = 600
_TAG_ORIGIN = 702


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationList:
    """The parts of an ``AuthorizationList`` that §8.4 looks at.

    Attributes:
        purpose: The ``purpose`` values (``[1] SET OF INTEGER``).
        origin: ``origin`` (``[702] INTEGER``) when present.
        all_applications: Whether ``allApplications`` (``[600] NULL``) is present.
    """

    purpose: frozenset[int] = frozenset()
    origin: int | None = None
    all_applications: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyDescription:
    """The Android ``KeyDescription`` record (the fields §8.4 uses).

    Attributes:
        attestation_version: ``attestationVersion``.
        attestation_security_level: 0 software, 1 TEE, 2 StrongBox.
        attestation_challenge: ``attestationChallenge`` (the clientDataHash).
        software_enforced: ``softwareEnforced``.
        tee_enforced: ``teeEnforced`` (``hardwareEnforced`` in KeyMint).
    """

    attestation_version: int
    attestation_security_level: int
    attestation_challenge: bytes
    software_enforced: AuthorizationList
    tee_enforced: AuthorizationList


def _authorization_list(element: Element) -> AuthorizationList:
    element.expect(CLASS_UNIVERSAL, TAG_SEQUENCE, constructed=True, what="AuthorizationList")
    purpose: set[int] = set()
    origin: int | None = None
    all_apps = False
    last = -1
    for item in children(element):
        if item.cls != CLASS_CONTEXT or not item.constructed:
            raise MalformedDataError("AuthorizationList entry is not [n] EXPLICIT", field="der")
        if item.number <= last:  # DER: the SEQUENCE's optional fields in order, once each
            raise MalformedDataError("AuthorizationList entries out of order", field="der")
        last = item.number
        inner = children(item)
        if len(inner) != 1:
            raise MalformedDataError("AuthorizationList entry must wrap one value", field="der")
        value = inner[0]
        if item.number == _TAG_PURPOSE:
            value.expect(CLASS_UNIVERSAL, TAG_SET, constructed=True, what="purpose")
            purpose = {read_integer(v, what="purpose") for v in children(value)}
        elif item.number == _TAG_ORIGIN:
            origin = read_integer(value, what="origin")
        elif item.number == _TAG_ALL_APPLICATIONS:
            value.expect(CLASS_UNIVERSAL, TAG_NULL, constructed=False, what="allApplications")
            if value.content:
                raise MalformedDataError("allApplications NULL has content", field="der")
            all_apps = True
    return AuthorizationList(purpose=frozenset(purpose), origin=origin, all_applications=all_apps)


def parse_key_description(der: bytes) -> KeyDescription:
    """Parse the DER ``KeyDescription`` of extension 1.3.6.1.4.1.11129.2.1.17.

    Raises:
        MalformedDataError: Not a well-formed ``KeyDescription``.
    """
    if type(der) is not bytes:
        raise MalformedDataError("KeyDescription must be bytes", field="der")
    root = parse_single(der).expect(
        CLASS_UNIVERSAL, TAG_SEQUENCE, constructed=True, what="KeyDescription"
    )
    items = children(root)
    if len(items) < 8:
        raise MalformedDataError("KeyDescription has too few fields", field="der")
    version = read_integer(items[0], what="attestationVersion")
    level = read_integer(items[1], what="attestationSecurityLevel", tag=TAG_ENUMERATED)
    read_integer(items[2], what="keymasterVersion")
    read_integer(items[3], what="keymasterSecurityLevel", tag=TAG_ENUMERATED)
    challenge = items[4].expect(
        CLASS_UNIVERSAL, TAG_OCTET_STRING, constructed=False, what="attestationChallenge"
    )
    items[5].expect(CLASS_UNIVERSAL, TAG_OCTET_STRING, constructed=False, what="uniqueId")
    return KeyDescription(
        attestation_version=version,
        attestation_security_level=level,
        attestation_challenge=challenge.content,
        software_enforced=_authorization_list(items[6]),
        tee_enforced=_authorization_list(items[7]),
    )


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> StatementResult:
    """Verify an ``android-key`` statement (§8.4 "Verification procedure").

    * ``sig`` verifies over ``authenticatorData || clientDataHash`` with the
      leaf's key under ``alg``;
    * the leaf's public key is the credential public key;
    * the key description's ``attestationChallenge`` equals ``clientDataHash``;
    * ``allApplications`` is in neither authorization list (the key must be
      scoped to the RP ID);
    * ``origin`` is ``KM_ORIGIN_GENERATED`` and ``purpose`` contains
      ``KM_PURPOSE_SIGN`` in the TEE-enforced list (or in the software list
      too when ``options.android_key_allow_software``).

    Returns:
        Attestation type ``basic`` with ``x5c`` as the trust path. When
        ``x5c`` omits the root, the trust policy completes the chain from
        its anchors (the Google hardware attestation roots).

    Raises:
        InvalidAttestationError: A rule above is broken.
        InvalidSignatureError: ``sig`` does not verify.
        UnsupportedAlgorithmError: ``alg`` is unknown.
    """
    only_keys(att_stmt, _KEYS, "android-key")
    alg, sig = att_stmt.get("alg"), att_stmt.get("sig")
    if type(alg) is not int or type(sig) is not bytes or "x5c" not in att_stmt:
        raise InvalidAttestationError("android-key statement needs alg, sig and x5c")
    certs = load_x5c(att_stmt["x5c"], fmt="android-key")
    leaf = certs[0]
    verify_with_certificate(leaf, alg, sig, auth_data.raw + client_data_hash, fmt="android-key")
    if not certificate_key_matches(leaf, credential_key):
        raise InvalidAttestationError("android-key certificate key is not the credential key")
    found = extension_value(leaf, OID_ANDROID_KEY_DESCRIPTION)
    if found is None:
        raise InvalidAttestationError("android-key certificate lacks the key description")
    der = found[0]
    try:
        description = parse_key_description(der)
    except MalformedDataError as exc:
        raise InvalidAttestationError("android-key key description does not parse") from exc
    if not hmac.compare_digest(description.attestation_challenge, client_data_hash):
        raise InvalidAttestationError("android-key attestationChallenge is not clientDataHash")
    tee, soft = description.tee_enforced, description.software_enforced
    if tee.all_applications or soft.all_applications:
        raise InvalidAttestationError("android-key key is usable by all applications")
    lists = (tee, soft) if options.android_key_allow_software else (tee,)
    if not any(a.origin == KM_ORIGIN_GENERATED for a in lists):
        raise InvalidAttestationError("android-key key was not generated in the keystore")
    if not any(KM_PURPOSE_SIGN in a.purpose for a in lists):
        raise InvalidAttestationError("android-key key purpose is not SIGN")
    return StatementResult(attestation_type="basic", trust_path=certs)
