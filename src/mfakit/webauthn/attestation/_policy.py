"""Attestation: the format registry, the relying party's trust policy, chain validation.

WebAuthn Level 3 §7.1 ends by verifying the attestation statement with the
procedure of its format (§8) and then assessing its trustworthiness against
the relying party's trust anchors. :class:`AttestationPolicy` says which
formats are allowed, which roots are trusted and whether trust is required.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast, runtime_checkable

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification

from mfakit.errors import (
    ConfigurationError,
    UnsupportedAttestationError,
    UntrustedAttestationError,
)
from mfakit.webauthn._cose import CredentialPublicKey
from mfakit.webauthn._revocation import check_revocation, load_crl
from mfakit.webauthn._structures import AuthenticatorData
from mfakit.webauthn.metadata import CERTIFICATION_LEVELS as _CERTIFICATION_LEVELS
from mfakit.webauthn.metadata import DEFAULT_REJECTED_STATUSES, MetadataBLOB, MetadataEntry

from . import (
    _android_key,
    _android_safetynet,
    _apple,
    _compound,
    _fido_u2f,
    _none,
    _packed,
    _tpm,
)
from ._chain import validate_chain
from ._common import StatementResult
from ._options import ContextualVerifier, FormatOptions, NestedVerifier

__all__ = ["ATTESTATION_FORMATS", "AttestationPolicy", "MetadataProvider"]

FormatVerifier = ContextualVerifier

#: The attestation statement formats mfakit verifies (WebAuthn Level 3 §8), by identifier.
ATTESTATION_FORMATS: Mapping[str, FormatVerifier] = {
    "none": _none.verify,
    "packed": _packed.verify,
    "fido-u2f": _fido_u2f.verify,
    "tpm": _tpm.verify,
    "android-key": _android_key.verify,
    "android-safetynet": _android_safetynet.verify,
    "apple": _apple.verify,
    "compound": _compound.verify,
}
# Most anchor stores one policy keeps (per format, AAGUID and metadata anchors).
_STORE_CACHE_SIZE = 256
# Formats whose signature does not cover the AAGUID of the authenticator data
# (§8.6 signs rpIdHash, clientDataHash, credentialId and the key only). Their
# AAGUID is an unauthenticated claim and takes no part in any trust decision;
# see docs/guides/attestation.md for the audit of every format.
UNSIGNED_AAGUID_FORMATS = frozenset({"fido-u2f"})
_ZERO_AAGUID = bytes(16)


def attested_aaguid(fmt: str, aaguid: bytes) -> bytes:
    """The AAGUID a statement of ``fmt`` vouches for: all zeros where its signature omits it."""
    return _ZERO_AAGUID if fmt in UNSIGNED_AAGUID_FORMATS else aaguid


@runtime_checkable
class MetadataProvider(Protocol):
    """A source of per-model trust anchors, such as a FIDO Metadata Service (MDS3) blob."""

    def trust_anchors_for(self, aaguid: bytes) -> Iterable[x509.Certificate]:
        """Return the attestation root certificates of the model ``aaguid``."""
        ...


def _load_anchor(anchor: object) -> x509.Certificate:
    if isinstance(anchor, x509.Certificate):
        return anchor
    if isinstance(anchor, bytes | bytearray):
        data = bytes(anchor)
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                return x509.load_pem_x509_certificate(data)
            return x509.load_der_x509_certificate(data)
        except (ValueError, CryptographyDeprecationWarning) as exc:
            raise ConfigurationError("a trust anchor is not a certificate") from exc
    raise ConfigurationError("trust anchors must be x509.Certificate, PEM or DER bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationPolicy:
    """How a relying party treats attestation during registration.

    Args:
        trust_anchors: Root certificates (``x509.Certificate`` or PEM/DER
            bytes) an ``x5c`` chain may end at.
        metadata: A :class:`MetadataProvider` giving roots per AAGUID, used
            together with ``trust_anchors``.
        require_trusted: Refuse (``UntrustedAttestationError``) any
            registration whose attestation does not chain to an anchor,
            including ``none`` and ``self`` attestation.
        allowed_formats: Attestation formats accepted; ``None`` means all of
            :data:`ATTESTATION_FORMATS`.
        max_chain_depth: Most intermediates between leaf and anchor.
        format_trust_anchors: Roots trusted only for one format, by format
            identifier (e.g. the Apple WebAuthn root for ``apple``; see
            :func:`public_trust_anchors`).
        aaguid_trust_anchors: Roots trusted only for one authenticator
            model, by AAGUID (``uuid.UUID``, 16 bytes or its string form).
        crls: Certificate revocation lists (``x509.CertificateRevocationList``
            or PEM/DER bytes) the caller fetched; each certificate of a
            validated chain is checked against the CRLs its issuer signed.
        require_revocation_info: Count a chain as trusted only when every
            certificate below the anchor is covered by a current CRL.
        rejected_statuses: FIDO metadata status reports that refuse a model.
        minimum_certification: The lowest ``FIDO_CERTIFIED_L*`` status a
            model needs (e.g. ``"FIDO_CERTIFIED_L1"``), or ``None``. Needs a
            trusted attestation: an unproven AAGUID certifies nothing.
        require_metadata: Refuse authenticators the metadata does not know,
            and attestations that do not prove the model (not trusted).
        allow_sha1: Accept RS1 as a ``tpm`` statement algorithm.
        tpm_check_manufacturer: Require a TCG-registered TPM manufacturer.
        android_key_allow_software: Accept android-key ``origin`` and
            ``purpose`` from the software-enforced list too.
        safetynet_require_cts_profile: Require ``ctsProfileMatch``.
        safetynet_max_age: Largest distance between a SafetyNet
            ``timestampMs`` and ``now``.

    Chains are validated by FIDO attestation rules, not web-PKI (TLS) ones,
    at the ``now`` given to :func:`verify_registration`: signatures up to a
    configured anchor, validity periods, CA basic constraints (of any
    criticality), path lengths and key usage of the issuing certificates
    (see ``docs/guides/attestation.md``, "Trust model").

    Example::

        policy = AttestationPolicy(trust_anchors=[yubico_root_pem], require_trusted=True)
    """

    trust_anchors: Collection[x509.Certificate | bytes] = ()
    metadata: MetadataProvider | None = None
    require_trusted: bool = False
    allowed_formats: Collection[str] | None = None
    max_chain_depth: int = 4
    # hash=False: mappings and CRL lists are not hashable; the policy stays so.
    format_trust_anchors: Mapping[str, Collection[x509.Certificate | bytes]] = field(
        default_factory=dict, hash=False
    )
    aaguid_trust_anchors: Mapping[uuid.UUID | bytes | str, Collection[x509.Certificate | bytes]] = (
        field(default_factory=dict, hash=False)
    )
    crls: Collection[x509.CertificateRevocationList | bytes] = field(default=(), hash=False)
    require_revocation_info: bool = False
    rejected_statuses: Collection[str] = DEFAULT_REJECTED_STATUSES
    minimum_certification: str | None = None
    require_metadata: bool = False
    allow_sha1: bool = False
    tpm_check_manufacturer: bool = True
    android_key_allow_software: bool = False
    safetynet_require_cts_profile: bool = True
    safetynet_max_age: timedelta = timedelta(minutes=1)
    _anchors: tuple[x509.Certificate, ...] = field(init=False, repr=False, compare=False)
    _store: verification.Store | None = field(init=False, repr=False, compare=False)
    _format_anchors: dict[str, tuple[x509.Certificate, ...]] = field(
        init=False, repr=False, compare=False
    )
    _aaguid_anchors: dict[bytes, tuple[x509.Certificate, ...]] = field(
        init=False, repr=False, compare=False
    )
    _crls: tuple[x509.CertificateRevocationList, ...] = field(init=False, repr=False, compare=False)
    _store_cache: dict[
        tuple[str | None, bytes, tuple[x509.Certificate, ...]], verification.Store | None
    ] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        anchors = tuple(_load_anchor(a) for a in self.trust_anchors)
        object.__setattr__(self, "trust_anchors", anchors)
        object.__setattr__(self, "_anchors", anchors)
        object.__setattr__(self, "_store", verification.Store(list(anchors)) if anchors else None)
        if self.allowed_formats is not None:
            if isinstance(self.allowed_formats, str):
                raise ConfigurationError("allowed_formats must be a collection of names")
            object.__setattr__(self, "allowed_formats", frozenset(self.allowed_formats))
        if self.metadata is not None and not isinstance(self.metadata, MetadataProvider):
            raise ConfigurationError("metadata must provide trust_anchors_for(aaguid)")
        if not 0 <= self.max_chain_depth <= 8:
            raise ConfigurationError("max_chain_depth must be between 0 and 8")
        _init_deep_trust(self)

    def _store_for(
        self, aaguid: bytes, fmt: str | None = None, extra: tuple[x509.Certificate, ...] = ()
    ) -> verification.Store | None:
        scoped = self._format_anchors.get(fmt or "", ()) + self._aaguid_anchors.get(aaguid, ())
        if self.metadata is None and not scoped and not extra:
            return self._store
        # A verified BLOB never changes, so its stores can be cached; a host
        # MetadataProvider may change its answers and is asked every time.
        cacheable = self.metadata is None or isinstance(self.metadata, MetadataBLOB)
        cache_key = (fmt, aaguid, extra)
        if cacheable and cache_key in self._store_cache:
            return self._store_cache[cache_key]
        store = self._build_store(aaguid, scoped, extra)
        if cacheable:
            if len(self._store_cache) >= _STORE_CACHE_SIZE:
                self._store_cache.clear()
            self._store_cache[cache_key] = store
        return store

    def _build_store(
        self,
        aaguid: bytes,
        scoped: tuple[x509.Certificate, ...],
        extra: tuple[x509.Certificate, ...],
    ) -> verification.Store | None:
        if self.metadata is None:
            anchors = list(self._anchors) + list(scoped) + list(extra)
            return verification.Store(anchors) if anchors else None
        try:
            extra_md = [_load_anchor(a) for a in self.metadata.trust_anchors_for(aaguid)]
        except ConfigurationError:
            raise
        except Exception as exc:  # the provider is host code; contain it
            raise ConfigurationError("the metadata provider failed") from exc
        anchors = list(self._anchors) + list(scoped) + list(extra) + extra_md
        return verification.Store(anchors) if anchors else None

    def chains_to_anchor(
        self,
        trust_path: tuple[x509.Certificate, ...],
        aaguid: bytes,
        now: datetime | None,
        *,
        fmt: str | None = None,
        extra_anchors: tuple[x509.Certificate, ...] = (),
    ) -> bool:
        """Whether ``trust_path`` (leaf first) validates to an anchor at ``now``.

        The anchors are the global ones, those of ``fmt``, those of ``aaguid``,
        the metadata's for ``aaguid`` and ``extra_anchors``. A certificate in
        ``trust_path`` is never an anchor by itself, even a self-signed root.
        The validated chain is then checked against the policy's CRLs.

        Raises:
            ConfigurationError: Anchors are configured but ``now`` is missing.
            UntrustedAttestationError: A CRL revokes a certificate of the chain.
        """
        store = self._store_for(aaguid, fmt, extra_anchors)
        if store is None or not trust_path:
            return False
        if now is None:
            raise ConfigurationError("verify_registration needs now= to validate attestation")
        chain = validate_chain(trust_path, store, now, max_depth=self.max_chain_depth)
        if chain is None:
            return False
        if self._crls or self.require_revocation_info:
            return check_revocation(chain, self._crls, now, require=self.require_revocation_info)
        return True

    def format_options(
        self, now: datetime | None, *, nested: NestedVerifier | None = None
    ) -> FormatOptions:
        """The :class:`FormatOptions` this policy gives format verifiers at ``now``.

        ``nested`` is how a ``compound`` statement verifies its statements.
        """
        return FormatOptions(
            now=now,
            nested=nested,
            allow_sha1=self.allow_sha1,
            tpm_check_manufacturer=self.tpm_check_manufacturer,
            android_key_allow_software=self.android_key_allow_software,
            safetynet_require_cts_profile=self.safetynet_require_cts_profile,
            safetynet_max_age=self.safetynet_max_age,
        )


def _aaguid_key(value: object) -> bytes:
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, bytes) and len(value) == 16:
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value).bytes
        except ValueError:
            pass
    raise ConfigurationError("aaguid_trust_anchors keys must be AAGUIDs")


def _anchor_group(value: object, what: str) -> tuple[x509.Certificate, ...]:
    if isinstance(value, str | bytes | x509.Certificate) or not isinstance(value, Iterable):
        raise ConfigurationError(f"{what} values must be collections of certificates")
    return tuple(_load_anchor(a) for a in value)


def _init_deep_trust(policy: AttestationPolicy) -> None:
    """Load the per-format and per-AAGUID anchors, the CRLs, the status rules."""
    if not isinstance(policy.format_trust_anchors, Mapping) or not isinstance(
        policy.aaguid_trust_anchors, Mapping
    ):
        raise ConfigurationError("format_trust_anchors and aaguid_trust_anchors must be mappings")
    by_format = {
        str(k): _anchor_group(v, "format_trust_anchors")
        for k, v in policy.format_trust_anchors.items()
    }
    by_aaguid = {
        _aaguid_key(k): _anchor_group(v, "aaguid_trust_anchors")
        for k, v in policy.aaguid_trust_anchors.items()
    }
    if isinstance(cast(object, policy.crls), str | bytes):
        raise ConfigurationError("crls must be a collection of CRLs")
    if isinstance(policy.rejected_statuses, str):
        raise ConfigurationError("rejected_statuses must be a collection of status names")
    if policy.minimum_certification is not None and (
        policy.minimum_certification not in _CERTIFICATION_LEVELS
    ):
        raise ConfigurationError("minimum_certification must be a FIDO_CERTIFIED_L* status")
    if policy.safetynet_max_age <= timedelta(0):
        raise ConfigurationError("safetynet_max_age must be positive")
    object.__setattr__(policy, "_format_anchors", by_format)
    object.__setattr__(policy, "_aaguid_anchors", by_aaguid)
    object.__setattr__(policy, "_crls", tuple(load_crl(c) for c in policy.crls))
    object.__setattr__(policy, "_store_cache", {})
    object.__setattr__(policy, "rejected_statuses", frozenset(policy.rejected_statuses))


_DEFAULT_POLICY = AttestationPolicy()


def verify_attestation(
    fmt: str,
    *,
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    policy: AttestationPolicy | None,
    now: datetime | None,
) -> tuple[StatementResult, bool, MetadataEntry | None]:
    """§7.1: verify the statement with its format, then assess trust.

    After the format's procedure (§8), trust is assessed: the chain must
    validate to an anchor (global, per format, per AAGUID or from metadata)
    and pass the CRLs. With metadata, the authenticator's entry is looked up
    (by AAGUID, or for U2F by the attestation certificate's key identifier)
    and its status reports are applied.

    Returns:
        The format's result, whether it chains to a trust anchor, and the
        metadata entry of the authenticator when the metadata knows it and
        the attestation is trusted (an AAGUID alone is only a claim).

    Raises:
        UnsupportedAttestationError: Unknown or disallowed format.
        UntrustedAttestationError: ``require_trusted`` and not trusted, a
            revoked certificate, or a status or certification the policy refuses.
    """
    policy = policy or _DEFAULT_POLICY
    acd = auth_data.attested_credential_data
    aaguid = attested_aaguid(fmt, acd.aaguid if acd is not None else _ZERO_AAGUID)

    def verify_statement(name: str, stmt: Mapping[str, Any], nested: bool) -> StatementResult:
        # One dispatch for every format, the statements of a compound included
        # (which may not nest another compound).
        verifier = ATTESTATION_FORMATS.get(name)
        if (
            verifier is None
            or (nested and name == "compound")
            or (policy.allowed_formats is not None and name not in policy.allowed_formats)
        ):
            raise UnsupportedAttestationError(fmt=name[:32])
        return verifier(stmt, auth_data, client_data_hash, credential_key, options)

    options = policy.format_options(
        now, nested=lambda name, stmt: verify_statement(name, stmt, True)
    )
    result = verify_statement(fmt, att_stmt, False)
    entry: MetadataEntry | None = None
    extra: tuple[x509.Certificate, ...] = ()
    if isinstance(policy.metadata, MetadataBLOB):
        leaf = result.trust_path[0] if result.trust_path else None
        entry = policy.metadata.lookup(aaguid, leaf)
        if entry is not None:
            # A claim to be a compromised model is refused even unproven.
            entry.check_status(policy.rejected_statuses, None, now=now)
            if entry.aaguid is None:  # found by key identifier: anchors are not per AAGUID
                extra = entry.attestation_root_certificates
    trusted = _assess(result, policy=policy, aaguid=aaguid, now=now, fmt=fmt, extra=extra)
    if policy.require_metadata or policy.minimum_certification is not None:
        # The AAGUID (or the certificate) is only the authenticator's claim
        # until the attestation chains to an anchor: certification needs proof.
        if entry is None:
            raise UntrustedAttestationError("the authenticator is not in the metadata")
        if not trusted:
            raise UntrustedAttestationError("metadata rules need a trusted attestation")
        entry.check_status(policy.rejected_statuses, policy.minimum_certification, now=now)
    if policy.require_trusted and not trusted:
        raise UntrustedAttestationError()
    # Name the model only when the attestation proved it.
    return result, trusted, entry if trusted else None


def _assess(
    result: StatementResult,
    *,
    policy: AttestationPolicy,
    aaguid: bytes,
    now: datetime | None,
    fmt: str,
    extra: tuple[x509.Certificate, ...],
) -> bool:
    components = getattr(result, "statements", None)
    if components is not None:
        # compound (§8.9): each statement is assessed with its own format's
        # anchors, and with the AAGUID only where its own signature covers it.
        return any(
            _assess(
                sub,
                policy=policy,
                aaguid=attested_aaguid(sub_fmt, aaguid),
                now=now,
                fmt=sub_fmt,
                extra=extra,
            )
            for sub_fmt, sub in components
        )
    if not result.trust_path:
        return False
    return policy.chains_to_anchor(result.trust_path, aaguid, now, fmt=fmt, extra_anchors=extra)
