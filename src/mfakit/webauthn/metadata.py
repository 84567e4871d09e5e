"""FIDO Metadata Service (MDS3): verify the metadata BLOB and look authenticators up in it.

The BLOB is a JWT (FIDO Metadata Service v3.0 §3.1.7) signed by a key whose
``x5c`` chain ends at the FIDO Alliance root the caller provides. Its payload
(``MetadataBLOBPayload``, §3.1.6) lists an entry per authenticator model:
the model's metadata statement (description, icon, attestation roots) and
its status reports (certification levels, compromises, revocation).

mfakit never downloads anything: the host application fetches the BLOB (a
:class:`MetadataSource` says how, and caches it), mfakit verifies it with
:func:`parse_metadata_blob` or :func:`load_metadata`, and the resulting
:class:`MetadataBLOB` goes into ``AttestationPolicy(metadata=...)``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification

from mfakit.clock import ensure_aware
from mfakit.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedDataError,
    UntrustedAttestationError,
)

from ._jws import parse_compact_jws
from ._revocation import check_revocation, load_crl

__all__ = [
    "AuthenticatorStatus",
    "CERTIFICATION_LEVELS",
    "DEFAULT_REJECTED_STATUSES",
    "MAX_BLOB_BYTES",
    "MetadataBLOB",
    "MetadataEntry",
    "MetadataSource",
    "StatusReport",
    "load_metadata",
    "parse_metadata_blob",
]

#: Largest BLOB accepted, in bytes (the public BLOB is a few MiB).
MAX_BLOB_BYTES = 32 * 1024 * 1024
_MAX_ENTRIES = 20_000
_MAX_ROOTS = 16


class AuthenticatorStatus:
    """The ``AuthenticatorStatus`` values of FIDO Metadata Service v3.0 §3.1.4."""

    NOT_FIDO_CERTIFIED = "NOT_FIDO_CERTIFIED"
    FIDO_CERTIFIED = "FIDO_CERTIFIED"
    USER_VERIFICATION_BYPASS = "USER_VERIFICATION_BYPASS"
    ATTESTATION_KEY_COMPROMISE = "ATTESTATION_KEY_COMPROMISE"
    USER_KEY_REMOTE_COMPROMISE = "USER_KEY_REMOTE_COMPROMISE"
    USER_KEY_PHYSICAL_COMPROMISE = "USER_KEY_PHYSICAL_COMPROMISE"
    UPDATE_AVAILABLE = "UPDATE_AVAILABLE"
    REVOKED = "REVOKED"
    SELF_ASSERTION_SUBMITTED = "SELF_ASSERTION_SUBMITTED"
    FIDO_CERTIFIED_L1 = "FIDO_CERTIFIED_L1"
    FIDO_CERTIFIED_L1plus = "FIDO_CERTIFIED_L1plus"  # the spec's spelling
    FIDO_CERTIFIED_L2 = "FIDO_CERTIFIED_L2"
    FIDO_CERTIFIED_L2plus = "FIDO_CERTIFIED_L2plus"
    FIDO_CERTIFIED_L3 = "FIDO_CERTIFIED_L3"
    FIDO_CERTIFIED_L3plus = "FIDO_CERTIFIED_L3plus"


#: Certification levels, lowest first (``FIDO_CERTIFIED`` alone counts as L1).
CERTIFICATION_LEVELS: tuple[str, ...] = (
    "FIDO_CERTIFIED_L1",
    "FIDO_CERTIFIED_L1plus",
    "FIDO_CERTIFIED_L2",
    "FIDO_CERTIFIED_L2plus",
    "FIDO_CERTIFIED_L3",
    "FIDO_CERTIFIED_L3plus",
)
#: Statuses that refuse a model by default: its keys cannot be trusted.
DEFAULT_REJECTED_STATUSES: frozenset[str] = frozenset(
    {
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    }
)


def _bad(message: str) -> MalformedDataError:
    return MalformedDataError(f"metadata BLOB: {message}", field="metadata")


def _date(value: object, what: str) -> date:
    if type(value) is not str:
        raise _bad(f"{what} is not a date")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _bad(f"{what} is not a date") from exc


def _text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _bad(f"{what} is not a string")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport:
    """One ``StatusReport`` (MDS3 §3.1.3).

    Attributes:
        status: An :class:`AuthenticatorStatus` value.
        effective_date: When the status took effect, if given.
        certificate_number: The FIDO certificate number, if any.
    """

    status: str
    effective_date: date | None = None
    certificate_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataEntry:
    """One ``MetadataBLOBPayloadEntry`` (MDS3 §3.1.1): an authenticator model.

    Attributes:
        aaguid: The FIDO2 model's AAGUID, if it has one.
        aaid: The UAF model's AAID, if it has one.
        attestation_certificate_key_identifiers: For U2F models: the
            lower-case hex SHA-1 key identifiers of their attestation certificates.
        description: The metadata statement's ``description`` ("YubiKey 5 NFC").
        icon: The statement's ``icon`` (a ``data:`` URL), if any.
        attestation_root_certificates: The statement's trust anchors.
        status_reports: The entry's status history.
        statement: The whole metadata statement, as decoded JSON.
    """

    aaguid: uuid.UUID | None = None
    aaid: str | None = None
    attestation_certificate_key_identifiers: frozenset[str] = frozenset()
    description: str | None = None
    icon: str | None = field(default=None, repr=False)
    attestation_root_certificates: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    status_reports: tuple[StatusReport, ...] = ()
    statement: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def _effective(self, now: datetime | None) -> list[StatusReport]:
        day = now.date() if now is not None else None
        return [
            r
            for r in self.status_reports
            if r.effective_date is None or day is None or r.effective_date <= day
        ]

    def certification_level(self, now: datetime | None = None) -> str | None:
        """The highest ``FIDO_CERTIFIED_L*`` status in effect at ``now``, if any."""
        best = -1
        for report in self._effective(now):
            status = "FIDO_CERTIFIED_L1" if report.status == "FIDO_CERTIFIED" else report.status
            if status in CERTIFICATION_LEVELS:
                best = max(best, CERTIFICATION_LEVELS.index(status))
        return CERTIFICATION_LEVELS[best] if best >= 0 else None

    def check_status(
        self,
        rejected: Collection[str] = DEFAULT_REJECTED_STATUSES,
        minimum_certification: str | None = None,
        *,
        now: datetime | None = None,
    ) -> None:
        """Apply status rules: no rejected status in effect, and the certification floor.

        Raises:
            UntrustedAttestationError: A rejected status is in effect, or the
                model's certification is below ``minimum_certification``.
        """
        for report in self._effective(now):
            if report.status in rejected:
                raise UntrustedAttestationError(
                    f"the metadata reports this authenticator as {report.status}"
                )
        if minimum_certification is not None:
            level = self.certification_level(now)
            wanted = CERTIFICATION_LEVELS.index(minimum_certification)
            if level is None or CERTIFICATION_LEVELS.index(level) < wanted:
                raise UntrustedAttestationError(
                    "the authenticator's FIDO certification is below the policy's minimum"
                )


def _certificates(value: object) -> tuple[x509.Certificate, ...]:
    if value is None:
        return ()
    if type(value) is not list or len(value) > _MAX_ROOTS:
        raise _bad("attestationRootCertificates is not a short array")
    certs = []
    for item in value:
        if type(item) is not str:
            raise _bad("attestationRootCertificates entry is not a string")
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(item, validate=True))
            cert.version  # noqa: B018 - parsed lazily; must fail here
        except (binascii.Error, ValueError, x509.InvalidVersion, CryptographyDeprecationWarning):
            raise _bad("attestationRootCertificates entry does not parse") from None
        certs.append(cert)
    return tuple(certs)


def _entry(raw: object) -> MetadataEntry:
    if type(raw) is not dict:
        raise _bad("entry is not an object")
    statement = raw.get("metadataStatement", {})
    if type(statement) is not dict:
        raise _bad("metadataStatement is not an object")
    aaguid_text = raw.get("aaguid")
    aaguid = None
    if aaguid_text is not None:
        if type(aaguid_text) is not str or len(aaguid_text) != 36:
            raise _bad("aaguid is not a UUID")
        try:
            aaguid = uuid.UUID(aaguid_text)
        except ValueError as exc:
            raise _bad("aaguid is not a UUID") from exc
    key_ids = raw.get("attestationCertificateKeyIdentifiers", [])
    if type(key_ids) is not list or any(type(k) is not str for k in key_ids):
        raise _bad("attestationCertificateKeyIdentifiers is not an array of strings")
    reports_raw = raw.get("statusReports")
    if type(reports_raw) is not list:
        raise _bad("statusReports is missing")
    reports = []
    for report in reports_raw:
        if type(report) is not dict or type(report.get("status")) is not str:
            raise _bad("status report has no status")
        effective = report.get("effectiveDate")
        reports.append(
            StatusReport(
                status=report["status"],
                effective_date=None if effective is None else _date(effective, "effectiveDate"),
                certificate_number=_text(report.get("certificateNumber"), "certificateNumber"),
            )
        )
    return MetadataEntry(
        aaguid=aaguid,
        aaid=_text(raw.get("aaid"), "aaid"),
        attestation_certificate_key_identifiers=frozenset(k.lower() for k in key_ids),
        description=_text(statement.get("description"), "description"),
        icon=_text(statement.get("icon"), "icon"),
        attestation_root_certificates=_certificates(statement.get("attestationRootCertificates")),
        status_reports=tuple(reports),
        statement=statement,
    )


def key_identifier(cert: x509.Certificate) -> str:
    """The MDS key identifier of ``cert``: hex SHA-1 of its subjectPublicKey bits."""
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest.hex()


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataBLOB:
    """A verified metadata BLOB: look authenticator models up by AAGUID or key identifier.

    Use it as ``AttestationPolicy(metadata=blob)``: the attestation roots of
    the model become trust anchors, its status reports are applied and the
    registration result names the authenticator.

    Attributes:
        no: The BLOB's serial number (``no``); it only grows.
        next_update: When the next BLOB is due.
        legal_header: The BLOB's legal header.
        entries: Every entry, in BLOB order.
    """

    no: int
    next_update: date
    legal_header: str | None = field(default=None, repr=False)
    entries: tuple[MetadataEntry, ...] = field(repr=False)
    _by_aaguid: dict[bytes, MetadataEntry] = field(init=False, repr=False, compare=False)
    _by_key_id: dict[str, MetadataEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_aaguid: dict[bytes, MetadataEntry] = {}
        by_key_id: dict[str, MetadataEntry] = {}
        for entry in self.entries:
            if entry.aaguid is not None:
                by_aaguid.setdefault(entry.aaguid.bytes, entry)
            for key_id in entry.attestation_certificate_key_identifiers:
                by_key_id.setdefault(key_id, entry)
        object.__setattr__(self, "_by_aaguid", by_aaguid)
        object.__setattr__(self, "_by_key_id", by_key_id)

    def entry_for_aaguid(self, aaguid: uuid.UUID | bytes) -> MetadataEntry | None:
        """The entry of the FIDO2 model ``aaguid``, if the BLOB has one."""
        key = aaguid.bytes if isinstance(aaguid, uuid.UUID) else aaguid
        return self._by_aaguid.get(key)

    def entry_for_key_identifier(self, key_id: str) -> MetadataEntry | None:
        """The entry of the U2F model whose attestation key identifier is ``key_id`` (hex)."""
        return self._by_key_id.get(key_id.lower())

    def lookup(self, aaguid: bytes, leaf: x509.Certificate | None) -> MetadataEntry | None:
        """The entry for a registration: by AAGUID, else (all-zero AAGUID) by ``leaf``'s key id."""
        if aaguid != bytes(16):
            return self._by_aaguid.get(aaguid)
        if leaf is None:
            return None
        try:
            return self._by_key_id.get(key_identifier(leaf))
        except (ValueError, TypeError):
            return None

    def trust_anchors_for(self, aaguid: bytes) -> Iterable[x509.Certificate]:
        """The attestation roots of the model ``aaguid`` (the ``MetadataProvider`` protocol)."""
        entry = self._by_aaguid.get(aaguid)
        return entry.attestation_root_certificates if entry is not None else ()


@runtime_checkable
class MetadataSource(Protocol):
    """Where the host application gets the metadata BLOB from, and how it caches it.

    mfakit never performs I/O: implement ``fetch_blob`` with your HTTP client
    and cache (e.g. download ``https://mds3.fidoalliance.org/`` daily) and pass
    the source to :func:`load_metadata`.
    """

    def fetch_blob(self) -> bytes | str:
        """Return the BLOB: the JWT exactly as served."""
        ...


def _load_roots(roots: object) -> list[x509.Certificate]:
    if isinstance(roots, x509.Certificate | bytes | str) or not isinstance(roots, Iterable):
        raise ConfigurationError("trusted_roots must be a collection of certificates")
    loaded = []
    for root in roots:
        if isinstance(root, x509.Certificate):
            loaded.append(root)
            continue
        if not isinstance(root, bytes):
            raise ConfigurationError("trusted_roots must hold certificates or PEM/DER bytes")
        try:
            loaded.append(
                x509.load_pem_x509_certificate(root)
                if root.lstrip().startswith(b"-----BEGIN")
                else x509.load_der_x509_certificate(root)
            )
        except (ValueError, CryptographyDeprecationWarning) as exc:
            raise ConfigurationError("a trusted root is not a certificate") from exc
    if not loaded:
        raise ConfigurationError("trusted_roots must not be empty")
    return loaded


def parse_metadata_blob(
    blob: bytes | str,
    *,
    trusted_roots: Collection[x509.Certificate | bytes],
    now: datetime,
    crls: Collection[x509.CertificateRevocationList | bytes] = (),
    require_revocation_info: bool = False,
    previous_no: int | None = None,
    allow_stale: bool = False,
) -> MetadataBLOB:
    """Verify and parse a metadata BLOB (MDS3 §3.2 "Metadata BLOB processing rules").

    * the JWT parses (compact JWS, ``alg`` among RS256/384/512, PS256/384/512,
      ES256/384/512; ``x5c`` in the header);
    * the ``x5c`` chain validates at ``now`` to one of ``trusted_roots`` (the
      FIDO Alliance root) and, with ``crls``, no certificate is revoked;
    * the signature verifies with the ``x5c`` leaf;
    * ``no`` is greater than ``previous_no`` (no rollback to an older BLOB);
    * ``nextUpdate`` is not in the past (unless ``allow_stale``);
    * each entry parses.

    Raises:
        MalformedDataError: The BLOB or an entry does not parse.
        InvalidSignatureError: The signature does not verify.
        UntrustedAttestationError: The chain does not validate to a trusted
            root, a certificate is revoked, ``no`` went backwards, or the
            BLOB is stale.
        ConfigurationError: Bad arguments.
    """
    roots = _load_roots(trusted_roots)
    now = ensure_aware(now)
    crl_list = tuple(load_crl(c) for c in crls)
    jws = parse_compact_jws(blob, max_bytes=MAX_BLOB_BYTES)
    verifier = (
        verification.PolicyBuilder()
        .store(verification.Store(roots))
        .time(now)
        .max_chain_depth(4)
        .extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=verification.ExtensionPolicy.permit_all(),
        )
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(jws.x5c[0], list(jws.x5c[1:]))
    except (verification.VerificationError, ValueError, x509.InvalidVersion) as exc:
        raise UntrustedAttestationError("metadata BLOB signer does not chain to the root") from exc
    if (crl_list or require_revocation_info) and not check_revocation(
        tuple(verified.chain), crl_list, now, require=require_revocation_info
    ):
        raise UntrustedAttestationError("metadata BLOB signer has no current CRL")
    try:
        jws.verify_signature()
    except InvalidSignatureError as exc:
        raise InvalidSignatureError("metadata BLOB signature is not valid") from exc
    payload = jws.payload
    number = payload.get("no")
    if type(number) is not int or number < 0:
        raise _bad("no is not a serial number")
    if previous_no is not None and number <= previous_no:
        raise UntrustedAttestationError("metadata BLOB is not newer than the one already seen")
    next_update = _date(payload.get("nextUpdate"), "nextUpdate")
    if not allow_stale and next_update < now.date():
        raise UntrustedAttestationError("metadata BLOB is past its nextUpdate")
    entries = payload.get("entries")
    if type(entries) is not list or len(entries) > _MAX_ENTRIES:
        raise _bad("entries is not an array")
    return MetadataBLOB(
        no=number,
        next_update=next_update,
        legal_header=_text(payload.get("legalHeader"), "legalHeader"),
        entries=tuple(_entry(e) for e in entries),
    )


def load_metadata(
    source: MetadataSource,
    *,
    trusted_roots: Collection[x509.Certificate | bytes],
    now: datetime,
    crls: Collection[x509.CertificateRevocationList | bytes] = (),
    previous_no: int | None = None,
) -> MetadataBLOB:
    """Fetch the BLOB from ``source`` and verify it with :func:`parse_metadata_blob`.

    Raises:
        ConfigurationError: ``source`` is not a :class:`MetadataSource` or failed.
        MalformedDataError, InvalidSignatureError, UntrustedAttestationError:
            As :func:`parse_metadata_blob`.
    """
    if not isinstance(source, MetadataSource):
        raise ConfigurationError("source must provide fetch_blob()")
    try:
        blob = source.fetch_blob()
    except Exception as exc:  # the source is host code; contain it
        raise ConfigurationError("the metadata source failed") from exc
    return parse_metadata_blob(
        blob, trusted_roots=trusted_roots, now=now, crls=crls, previous_no=previous_no
    )


# After every definition: the public module, not a private one, in reprs and docs.
from ._public import publish  # noqa: E402

publish(__name__, globals(), __all__)
