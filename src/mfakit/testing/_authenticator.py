"""A software WebAuthn authenticator and client for tests, with switchable faults.

:class:`SoftAuthenticator` plays both the authenticator and the browser: it takes
the Level 3 JSON creation or request options a relying party sends and returns the
Level 3 JSON ``PublicKeyCredential`` (what ``credential.toJSON()`` gives) that the
browser would post back. It is built on ``cryptography`` and ``cbor2`` alone and
shares no code with :mod:`mfakit.webauthn`, so it cross-checks the verifier.

Example::

    from mfakit import webauthn
    from mfakit.testing import SoftAuthenticator

    authenticator = SoftAuthenticator(origin="https://example.org", attestation="packed")
    options = webauthn.registration_options(rp_id="example.org", rp_name="Example",
        user_id=b"user-1", user_name="ada", user_display_name="Ada")
    response = authenticator.create(options)
    registered = webauthn.verify_registration(response, expected_challenge=options.challenge,
        expected_origins="https://example.org", expected_rp_id="example.org")
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
import struct
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Literal, Protocol, TypeAlias

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mfakit.errors import ConfigurationError
from mfakit.testing._soft_ca import (
    DEFAULT_NOT_AFTER,
    DEFAULT_NOT_BEFORE,
    AttestationCA,
    generate_attestation_ca,
)
from mfakit.testing._soft_keys import (
    ES256,
    SUPPORTED_ALGORITHMS,
    derive_bytes,
    generate_key_pair,
)
from mfakit.testing._soft_records import (
    CREATE_ONLY_FAULTS,
    GET_ONLY_FAULTS,
    Fault,
    SoftCredential,
)

__all__ = ["SoftAttestation", "SoftAuthenticator"]

#: The attestation a :class:`SoftAuthenticator` produces (WebAuthn L3 §8).
SoftAttestation: TypeAlias = Literal["none", "packed-self", "packed", "fido-u2f"]

_EVIL_ORIGIN = "https://evil.example"
_EVIL_RP_ID = "evil.example"

# Authenticator data flag bits (WebAuthn L3 §6.1).
_UP, _UV, _BE, _BS, _AT, _ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80


class _HasToJson(Protocol):
    def to_json(self) -> Mapping[str, Any]: ...


Options: TypeAlias = "Mapping[str, Any] | _HasToJson"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _options_dict(options: Options) -> Mapping[str, Any]:
    if isinstance(options, Mapping):
        return options
    to_json = getattr(options, "to_json", None)
    if to_json is None:
        raise ConfigurationError("options must be a Level 3 JSON dict or have a to_json() method")
    result = to_json()
    if not isinstance(result, Mapping):
        raise ConfigurationError("options.to_json() must return a dict")
    return result


class SoftAuthenticator:
    """A software authenticator and client that answers WebAuthn options with real responses.

    Args:
        origin: The origin the "browser" reports in clientDataJSON.
        attestation: ``none``, ``packed-self``, ``packed`` (x5c chain from a generated
            CA) or ``fido-u2f`` (ES256 only, zero AAGUID, §8.6).
        algorithm: COSE algorithm to create credentials with; None picks the first of
            the options' ``pubKeyCredParams`` that the authenticator supports.
        seed: Makes credential keys (except RSA), credential IDs and the AAGUID
            deterministic. ECDSA signatures and the CA certificates stay randomized
            (``cryptography`` has no deterministic certificate signing), so compare
            responses by verifying them, not byte for byte.
        aaguid: 16 bytes; default derived from the seed, or random.
        user_verified: Whether the UV flag is set.
        backup_eligible: The BE flag of new credentials.
        backup_state: The BS flag of new credentials.
        counter_start: The signature counter of a new credential.
        counter_step: Added to the counter on each assertion; 0 with ``counter_start=0``
            models authenticators that always report zero.
        transports: What ``response.transports`` lists.
        attachment: ``authenticatorAttachment``: ``platform`` or ``cross-platform``.
        intermediate_ca: Put an intermediate CA between the root and the leaf.
        certificate_validity: ``(not_before, not_after)`` of the generated certificates.
        attestation_statement: A hook that makes the attestation instead:
            ``(authData, clientDataHash, credential private key) -> (fmt, attStmt)``,
            e.g. ``AttestationBuilder().soft_authenticator_hook("tpm")`` for the
            ``tpm``, ``android-key``, ``android-safetynet``, ``apple`` and
            ``compound`` formats (issue 8). ``attestation`` is then ignored.
    """

    def __init__(
        self,
        *,
        origin: str = "https://example.org",
        attestation: SoftAttestation = "none",
        algorithm: int | None = None,
        seed: bytes | None = None,
        aaguid: bytes | None = None,
        user_verified: bool = True,
        backup_eligible: bool = False,
        backup_state: bool = False,
        counter_start: int = 0,
        counter_step: int = 1,
        transports: Collection[str] = ("internal",),
        attachment: Literal["platform", "cross-platform"] = "platform",
        intermediate_ca: bool = False,
        certificate_validity: tuple[datetime, datetime] = (DEFAULT_NOT_BEFORE, DEFAULT_NOT_AFTER),
        attestation_statement: Callable[[bytes, bytes, Any], tuple[str, Any]] | None = None,
    ) -> None:
        if attestation not in ("none", "packed-self", "packed", "fido-u2f"):
            raise ConfigurationError(f"unknown attestation kind {attestation!r}")
        if algorithm is not None and algorithm not in SUPPORTED_ALGORITHMS:
            raise ConfigurationError(f"unsupported COSE algorithm {algorithm}")
        if attestation == "fido-u2f" and intermediate_ca:
            raise ConfigurationError("fido-u2f carries exactly one certificate: no intermediate")
        if aaguid is not None and len(aaguid) != 16:
            raise ConfigurationError("aaguid must be 16 bytes")
        if not 0 <= counter_start <= 0xFFFFFFFF or counter_step < 0:
            raise ConfigurationError("counter_start must fit 32 bits and counter_step be >= 0")
        self.origin = origin
        self.attestation: SoftAttestation = attestation
        self.algorithm = algorithm
        self._seed = seed
        self._serial = 0
        if attestation == "fido-u2f":
            self.aaguid = bytes(16)  # §8.6: a U2F authenticator has no AAGUID
        elif aaguid is not None:
            self.aaguid = aaguid
        else:
            self.aaguid = derive_bytes(seed, "aaguid", 16) if seed else secrets.token_bytes(16)
        self.user_verified = user_verified
        self.backup_eligible = backup_eligible
        self.backup_state = backup_state
        self.counter_start = counter_start
        self.counter_step = counter_step
        self.transports = tuple(transports)
        self.attachment = attachment
        self._credentials: dict[bytes, SoftCredential] = {}
        self._counters: dict[bytes, int] = {}
        self._ca: AttestationCA | None = None
        self._intermediate_ca = intermediate_ca
        self._validity = certificate_validity
        self._statement_hook = attestation_statement

    def __repr__(self) -> str:
        return (
            f"SoftAuthenticator(origin={self.origin!r}, attestation={self.attestation!r}, "
            f"aaguid={self.aaguid.hex()!r}, credentials={len(self._credentials)})"
        )

    # -- public state -----------------------------------------------------------------

    @property
    def credentials(self) -> tuple[SoftCredential, ...]:
        """The credentials created so far, oldest first."""
        return tuple(self._credentials.values())

    def sign_count(self, credential_id: bytes) -> int:
        """The signature counter the authenticator last reported for a credential."""
        return self._counters[credential_id]

    def start_syncing(self, credential_id: bytes, *, backup_state: bool = True) -> SoftCredential:
        """Make a credential backup-eligible from now on, as a password manager that syncs it.

        Later assertions of the credential report BE set and BS as given (a
        provider that has copied the key to its cloud reports it backed up).
        This models the BE upgrade a relying party may accept
        (``verify_authentication(..., accept_backup_eligibility_upgrade=True)``);
        ``Fault.BE_CHANGED`` instead flips BE in a single response.

        Args:
            credential_id: A credential this authenticator holds.
            backup_state: The BS flag to report from now on.

        Returns:
            The credential as it is now.

        Raises:
            ConfigurationError: the authenticator holds no such credential.
        """
        found = self._credentials.get(credential_id)
        if found is None:
            raise ConfigurationError("the authenticator holds no such credential")
        synced = dataclasses.replace(found, backup_eligible=True, backup_state=backup_state)
        self._credentials[credential_id] = synced
        return synced

    @property
    def ca(self) -> AttestationCA:
        """The generated attestation CA (created on first use)."""
        if self._ca is None:
            self._ca = generate_attestation_ca(
                aaguid=self.aaguid,
                intermediate=self._intermediate_ca,
                not_before=self._validity[0],
                not_after=self._validity[1],
            )
        return self._ca

    @property
    def root_certificate(self) -> x509.Certificate:
        """The attestation root certificate, to use as a verifier's trust anchor."""
        return self.ca.root

    @property
    def root_certificate_pem(self) -> bytes:
        """The attestation root certificate in PEM form."""
        return self.ca.root.public_bytes(serialization.Encoding.PEM)

    # -- ceremonies ---------------------------------------------------------------------

    def create(
        self,
        options: Options,
        *,
        faults: Collection[Fault] = (),
        origin: str | None = None,
        algorithm: int | None = None,
        discoverable: bool | None = None,
        authenticator_extensions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Answer creation options with a registration response (``navigator.credentials.create``).

        Args:
            options: ``PublicKeyCredentialCreationOptions`` in Level 3 JSON form, or an
                object with a ``to_json()`` method returning it.
            faults: Defects to put into the response.
            origin: Override the origin for this call.
            algorithm: Override the credential algorithm for this call.
            discoverable: Make a client-side discoverable credential (stores the user
                handle); default follows ``authenticatorSelection.residentKey``.
            authenticator_extensions: Authenticator extension outputs to put in authData
                (sets the ED flag).

        Returns:
            The Level 3 JSON ``PublicKeyCredential`` (``RegistrationResponseJSON``).
        """
        faults = self._check_faults(faults, GET_ONLY_FAULTS, "create")
        opts = _options_dict(options)
        try:
            rp_id = str(opts["rp"].get("id") or _host(origin or self.origin))
            user_handle = _unb64(str(opts["user"]["id"]))
            challenge = _unb64(str(opts["challenge"]))
            params = [int(p["alg"]) for p in opts.get("pubKeyCredParams", ())]
            selection = dict(opts.get("authenticatorSelection") or {})
            wants_cred_props = "credProps" in dict(opts.get("extensions") or {})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigurationError("creation options are not in Level 3 JSON form") from exc
        alg = self._pick_algorithm(algorithm, params)
        if self.attestation == "fido-u2f" and alg != ES256:
            raise ConfigurationError("fido-u2f attestation needs an ES256 credential (§8.6)")
        if discoverable is None:
            discoverable = selection.get("residentKey") in ("required", "preferred") or bool(
                selection.get("requireResidentKey")
            )
        self._serial += 1
        seed = None if self._seed is None else self._seed + b"/" + str(self._serial).encode()
        key_pair = generate_key_pair(alg, seed)
        cred_id = derive_bytes(seed, "credential id", 32) if seed else secrets.token_bytes(32)
        credential = SoftCredential(
            credential_id=cred_id,
            rp_id=rp_id,
            user_handle=user_handle if discoverable else None,
            algorithm=alg,
            public_key=key_pair.cose_key,
            backup_eligible=self.backup_eligible,
            backup_state=self.backup_state,
            transports=self.transports,
            key_pair=key_pair,
        )
        self._credentials[cred_id] = credential
        self._counters[cred_id] = self.counter_start

        client_data = self._client_data("webauthn.create", challenge, origin, faults)
        aaguid = self.aaguid
        if Fault.AAGUID_MISMATCH in faults:
            if self.attestation != "packed":
                raise ConfigurationError("AAGUID_MISMATCH needs packed x5c attestation")
            aaguid = bytes(b ^ 0xFF for b in aaguid)
        attested = aaguid + struct.pack(">H", len(cred_id)) + cred_id + key_pair.cose_key
        auth_data = self._auth_data(
            rp_id,
            faults=faults,
            count=self.counter_start,
            attested=attested,
            extensions=authenticator_extensions,
            credential=credential,
        )
        fmt, att_stmt = self._attest(credential, auth_data, client_data, rp_id, faults)
        attestation_object = cbor2.dumps(
            {"fmt": fmt, "attStmt": att_stmt, "authData": auth_data}, canonical=True
        )
        if Fault.TRAILING_BYTES in faults:
            attestation_object += cbor2.dumps(0)
        client_outputs: dict[str, Any] = {}
        if wants_cred_props:
            client_outputs["credProps"] = {"rk": discoverable}
        response: dict[str, Any] = {
            "clientDataJSON": _b64(client_data),
            "attestationObject": _b64(attestation_object),
            "authenticatorData": _b64(auth_data),
            "transports": list(self.transports),
            "publicKeyAlgorithm": alg,
            "publicKey": _b64(key_pair.public_key_der()),
        }
        return self._credential_json(cred_id, response, client_outputs, faults)

    def get(
        self,
        options: Options,
        *,
        faults: Collection[Fault] = (),
        origin: str | None = None,
        credential_id: bytes | None = None,
        authenticator_extensions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Answer request options with an assertion (``navigator.credentials.get``).

        The credential is ``credential_id`` if given, else the first of
        ``allowCredentials`` this authenticator holds, else (discoverable flow) the
        newest discoverable credential for the RP ID.

        Args:
            options: ``PublicKeyCredentialRequestOptions`` in Level 3 JSON form, or an
                object with a ``to_json()`` method returning it.
            faults: Defects to put into the response.
            origin: Override the origin for this call.
            credential_id: Use this credential.
            authenticator_extensions: Authenticator extension outputs (sets ED).

        Returns:
            The Level 3 JSON ``PublicKeyCredential`` (``AuthenticationResponseJSON``).
        """
        faults = self._check_faults(faults, CREATE_ONLY_FAULTS, "get")
        opts = _options_dict(options)
        try:
            challenge = _unb64(str(opts["challenge"]))
            rp_id = str(opts.get("rpId") or _host(origin or self.origin))
            allowed = [_unb64(str(c["id"])) for c in opts.get("allowCredentials") or ()]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigurationError("request options are not in Level 3 JSON form") from exc
        credential = self._select(rp_id, allowed, credential_id)
        cred_id = credential.credential_id
        last = self._counters[cred_id]
        if Fault.COUNTER_BACKWARDS in faults:
            count = max(last - 1, 0)  # not stored: the authenticator "forgets" it went back
        else:
            count = min(last + self.counter_step, 0xFFFFFFFF)
            self._counters[cred_id] = count
        client_data = self._client_data("webauthn.get", challenge, origin, faults)
        auth_data = self._auth_data(
            rp_id,
            faults=faults,
            count=count,
            attested=b"",
            extensions=authenticator_extensions,
            credential=credential,
        )
        if Fault.TRAILING_BYTES in faults:
            auth_data += b"\x00"
        signature = credential.key_pair.sign(auth_data + hashlib.sha256(client_data).digest())
        if Fault.BAD_SIGNATURE in faults:
            signature = _corrupt(signature)
        response: dict[str, Any] = {
            "clientDataJSON": _b64(client_data),
            "authenticatorData": _b64(auth_data),
            "signature": _b64(signature),
        }
        if credential.user_handle is not None:
            response["userHandle"] = _b64(credential.user_handle)
        return self._credential_json(cred_id, response, {}, faults)

    # -- building blocks --------------------------------------------------------------

    @staticmethod
    def _check_faults(
        faults: Collection[Fault], wrong_ceremony: frozenset[Fault], ceremony: str
    ) -> frozenset[Fault]:
        chosen = frozenset(faults)
        misplaced = chosen & wrong_ceremony
        if misplaced:
            names = ", ".join(sorted(f.name for f in misplaced))
            raise ConfigurationError(f"fault(s) {names} do not apply to {ceremony}()")
        return chosen

    def _pick_algorithm(self, override: int | None, params: list[int]) -> int:
        if override is not None:
            if override not in SUPPORTED_ALGORITHMS:
                raise ConfigurationError(f"unsupported COSE algorithm {override}")
            return override
        if self.algorithm is not None:
            return self.algorithm
        for alg in params:
            if alg in SUPPORTED_ALGORITHMS:
                return alg
        raise ConfigurationError("none of the options' pubKeyCredParams is supported")

    def _select(
        self, rp_id: str, allowed: list[bytes], credential_id: bytes | None
    ) -> SoftCredential:
        if credential_id is not None:
            if credential_id not in self._credentials:
                raise ConfigurationError("the authenticator holds no such credential")
            return self._credentials[credential_id]
        for cred_id in allowed:
            found = self._credentials.get(cred_id)
            if found is not None and found.rp_id == rp_id:
                return found
        if not allowed:
            for found in reversed(self._credentials.values()):
                if found.rp_id == rp_id and found.user_handle is not None:
                    return found
        raise ConfigurationError("the authenticator holds no credential for these options")

    def _client_data(
        self, kind: str, challenge: bytes, origin: str | None, faults: frozenset[Fault]
    ) -> bytes:
        # Serialized in the order and form of the L3 §5.8.1.1 limited verification algorithm.
        if Fault.WRONG_TYPE in faults:
            kind = "webauthn.get" if kind == "webauthn.create" else "webauthn.create"
        if Fault.WRONG_CHALLENGE in faults:
            challenge = bytes([challenge[0] ^ 0x01]) + challenge[1:] if challenge else b"\x01"
        data: dict[str, Any] = {
            "type": kind,
            "challenge": _b64(challenge),
            "origin": _EVIL_ORIGIN if Fault.WRONG_ORIGIN in faults else (origin or self.origin),
            "crossOrigin": Fault.CROSS_ORIGIN in faults or Fault.TOP_ORIGIN in faults,
        }
        if Fault.TOP_ORIGIN in faults:
            data["topOrigin"] = _EVIL_ORIGIN
        return json.dumps(data, separators=(",", ":")).encode()

    def _auth_data(
        self,
        rp_id: str,
        *,
        faults: frozenset[Fault],
        count: int,
        attested: bytes,
        extensions: Mapping[str, Any] | None,
        credential: SoftCredential,
    ) -> bytes:
        flags = 0 if Fault.UP_CLEAR in faults else _UP
        if self.user_verified and Fault.UV_CLEAR not in faults:
            flags |= _UV
        be = credential.backup_eligible != (Fault.BE_CHANGED in faults)
        if be:
            flags |= _BE
        if (be and credential.backup_state) or Fault.BS_WITHOUT_BE in faults:
            flags |= _BS
        if Fault.BS_WITHOUT_BE in faults:
            flags &= ~_BE
        if attested:
            flags |= _AT
        ext = b""
        if extensions:
            flags |= _ED
            ext = cbor2.dumps(dict(extensions), canonical=True)
        rp = _EVIL_RP_ID if Fault.WRONG_RP_ID_HASH in faults else rp_id
        return (
            hashlib.sha256(rp.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", count)
            + attested
            + ext
        )

    def _attest(
        self,
        credential: SoftCredential,
        auth_data: bytes,
        client_data: bytes,
        rp_id: str,
        faults: frozenset[Fault],
    ) -> tuple[str, dict[str, Any]]:
        client_hash = hashlib.sha256(client_data).digest()
        kind = self.attestation
        if Fault.UNKNOWN_FORMAT in faults:
            return "x-mfakit-unknown", {}
        if self._statement_hook is not None:
            return self._statement_hook(auth_data, client_hash, credential.key_pair.private_key)
        if kind == "none":
            if Fault.BAD_SIGNATURE in faults or Fault.PACKED_ALG_MISMATCH in faults:
                raise ConfigurationError("none attestation has no signature to break")
            return "none", ({"sig": b"\x00"} if Fault.NONE_WITH_STATEMENT in faults else {})
        if Fault.NONE_WITH_STATEMENT in faults:
            raise ConfigurationError("NONE_WITH_STATEMENT needs none attestation")
        if kind == "packed-self":
            sig = credential.key_pair.sign(auth_data + client_hash)
            alg = credential.algorithm
            if Fault.PACKED_ALG_MISMATCH in faults:
                alg = -257 if alg != -257 else ES256
            return "packed", {"alg": alg, "sig": _maybe_corrupt(sig, faults)}
        ca = self.ca
        chain = [c.public_bytes(serialization.Encoding.DER) for c in ca.chain]
        if kind == "packed":
            sig = ca.leaf_key.sign(auth_data + client_hash, ec.ECDSA(hashes.SHA256()))
            alg = -35 if Fault.PACKED_ALG_MISMATCH in faults else ES256
            return "packed", {"alg": alg, "sig": _maybe_corrupt(sig, faults), "x5c": chain}
        if Fault.PACKED_ALG_MISMATCH in faults:
            raise ConfigurationError("PACKED_ALG_MISMATCH needs packed attestation")
        # fido-u2f (§8.6): verificationData = 0x00 || rpIdHash || clientDataHash
        #                                     || credentialId || publicKeyU2F
        numbers = credential.key_pair.private_key.public_key()
        assert isinstance(numbers, ec.EllipticCurvePublicKey)  # noqa: S101  (ES256 enforced)
        point = numbers.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        data = b"\x00" + auth_data[:32] + client_hash + credential.credential_id + point
        sig = ca.leaf_key.sign(data, ec.ECDSA(hashes.SHA256()))
        # U2F has exactly one attestation certificate: no intermediate in x5c.
        return "fido-u2f", {"sig": _maybe_corrupt(sig, faults), "x5c": chain[:1]}

    def _credential_json(
        self,
        cred_id: bytes,
        response: dict[str, Any],
        client_outputs: dict[str, Any],
        faults: frozenset[Fault],
    ) -> dict[str, Any]:
        raw_id = _corrupt(cred_id) if Fault.RAW_ID_MISMATCH in faults else cred_id
        return {
            "id": _b64(cred_id),
            "rawId": _b64(raw_id),
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": client_outputs,
        }


def _host(origin: str) -> str:
    host = origin.split("://", 1)[-1].split("/", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _corrupt(data: bytes) -> bytes:
    # Flip a bit in the middle: keeps lengths and DER framing at the edges intact.
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def _maybe_corrupt(signature: bytes, faults: frozenset[Fault]) -> bytes:
    return _corrupt(signature) if Fault.BAD_SIGNATURE in faults else signature
