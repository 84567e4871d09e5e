"""Attestation: the format registry, the relying party's trust policy, chain validation.

WebAuthn Level 3 §7.1 ends by verifying the attestation statement with the
procedure of its format (§8) and then assessing its trustworthiness against
the relying party's trust anchors. :class:`AttestationPolicy` says which
formats are allowed, which roots are trusted and whether trust is required.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification

from mfakit.errors import (
    ConfigurationError,
    UnsupportedAttestationError,
    UntrustedAttestationError,
)

from . import _fmt_fido_u2f, _fmt_none, _fmt_packed
from ._cose import CredentialPublicKey
from ._fmt_common import StatementResult
from ._structures import AuthenticatorData

__all__ = ["ATTESTATION_FORMATS", "AttestationPolicy", "MetadataProvider"]

FormatVerifier = Callable[
    [Mapping[str, Any], AuthenticatorData, bytes, CredentialPublicKey], StatementResult
]

#: The attestation statement formats mfakit verifies (WebAuthn Level 3 §8), by identifier.
ATTESTATION_FORMATS: Mapping[str, FormatVerifier] = {
    "none": _fmt_none.verify,
    "packed": _fmt_packed.verify,
    "fido-u2f": _fmt_fido_u2f.verify,
}


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


def _permit_any_ee_extension() -> verification.ExtensionPolicy:
    # Attestation leaves are not TLS certificates: no EKU, SAN or key-usage
    # rules apply; §8.2.1 (checked by the format) says what they must hold.
    return verification.ExtensionPolicy.permit_all()


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

    Chains are validated with ``cryptography.x509.verification`` at the
    ``now`` given to :func:`verify_registration`: validity periods, CA basic
    constraints, key usage and path lengths of the CA certificates.

    Example::

        policy = AttestationPolicy(trust_anchors=[yubico_root_pem], require_trusted=True)
    """

    trust_anchors: Collection[x509.Certificate | bytes] = ()
    metadata: MetadataProvider | None = None
    require_trusted: bool = False
    allowed_formats: Collection[str] | None = None
    max_chain_depth: int = 4
    _anchors: tuple[x509.Certificate, ...] = field(init=False, repr=False, compare=False)
    _store: verification.Store | None = field(init=False, repr=False, compare=False)

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

    def _store_for(self, aaguid: bytes) -> verification.Store | None:
        if self.metadata is None:
            return self._store
        try:
            extra = [_load_anchor(a) for a in self.metadata.trust_anchors_for(aaguid)]
        except ConfigurationError:
            raise
        except Exception as exc:  # the provider is host code; contain it
            raise ConfigurationError("the metadata provider failed") from exc
        anchors = list(self._anchors) + extra
        return verification.Store(anchors) if anchors else None

    def chains_to_anchor(
        self, trust_path: tuple[x509.Certificate, ...], aaguid: bytes, now: datetime | None
    ) -> bool:
        """Whether ``trust_path`` (leaf first) validates to an anchor at ``now``.

        Raises:
            ConfigurationError: Anchors are configured but ``now`` is missing.
        """
        store = self._store_for(aaguid)
        if store is None or not trust_path:
            return False
        if now is None:
            raise ConfigurationError("verify_registration needs now= to validate attestation")
        verifier = (
            verification.PolicyBuilder()
            .store(store)
            .time(now)
            .max_chain_depth(self.max_chain_depth)
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=_permit_any_ee_extension(),
            )
            .build_client_verifier()
        )
        try:
            verifier.verify(trust_path[0], list(trust_path[1:]))
        except (verification.VerificationError, ValueError, x509.InvalidVersion):
            # Any failure to build a path, including certificates whose lazily
            # parsed fields are broken, means "not trusted".
            return False
        return True


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
) -> tuple[StatementResult, bool]:
    """§7.1: verify the statement with its format, then assess trust.

    Returns:
        The format's result and whether it chains to a trust anchor.

    Raises:
        UnsupportedAttestationError: Unknown or disallowed format.
        UntrustedAttestationError: ``require_trusted`` and not trusted.
    """
    policy = policy or _DEFAULT_POLICY
    verifier = ATTESTATION_FORMATS.get(fmt)
    if verifier is None or (
        policy.allowed_formats is not None and fmt not in policy.allowed_formats
    ):
        raise UnsupportedAttestationError(fmt=fmt[:32])
    result = verifier(att_stmt, auth_data, client_data_hash, credential_key)
    trusted = False
    if result.trust_path:
        acd = auth_data.attested_credential_data
        aaguid = acd.aaguid if acd is not None else bytes(16)
        trusted = policy.chains_to_anchor(result.trust_path, aaguid, now)
    if policy.require_trusted and not trusted:
        raise UntrustedAttestationError()
    return result, trusted
