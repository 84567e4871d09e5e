"""FIDO attestation path validation: the one chain validator of every format.

An attestation chain is not a TLS chain. Authenticator vendors' CAs follow
the FIDO and TCG profiles, not the CA/Browser Forum's: Yubico's U2F root
marks basicConstraints non-critical, Microsoft's TPM intermediates carry
TPM-only extended key usages (no clientAuth), Windows AIK certificates carry
a critical certificatePolicies extension. The web-PKI profile
(``ExtensionPolicy.webpki_defaults_ca()``) refuses all of these, so mfakit
validates attestation chains with its own extension policies on top of
``cryptography.x509.verification``.

A chain (leaf first, as in ``x5c``) is valid at ``now`` when:

* each certificate is signed by the next, ending at a configured anchor (a
  certificate inside ``x5c`` is never an anchor by itself);
* every certificate, the anchor included, is within its validity period;
* every issuing certificate (intermediates and anchor) has basicConstraints
  with ``cA`` true, whatever that extension's criticality;
* path length constraints hold, with at most ``max_depth`` intermediates;
* keyUsage, when an issuer carries it, allows certificate signing.

``cryptography``'s verifier also keeps rules of its own that mfakit does not
relax (see docs/guides/attestation.md): X.509 v3 only, its signature
algorithm allow-list (no SHA-1), RSA keys of at least 2048 bits, and the
refusal of critical extensions no policy accounts for. The leaf rules of
each format (§8.2.1 packed, §8.3.1 TPM AIK, ...) stay in the formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.x509 import verification

__all__ = ["validate_chain"]


def _issuer_is_ca(
    _policy: verification.Policy, _cert: x509.Certificate, value: x509.BasicConstraints
) -> None:
    # cryptography also refuses a CA without cA asserted; said here as well so
    # the rule does not depend on an implementation detail of its verifier.
    if not value.ca:
        raise ValueError("an issuing certificate is not a CA")


def _issuer_may_sign_certificates(
    _policy: verification.Policy, _cert: x509.Certificate, value: x509.KeyUsage | None
) -> None:
    if value is not None and not value.key_cert_sign:
        raise ValueError("an issuing certificate's key usage forbids certificate signing")


# certificatePolicies is listed (any criticality) so that a critical one, as on
# Windows AIK certificates and some TPM CAs, is accounted for; its policies
# carry no constraint for attestation.
_CA_POLICY = (
    verification.ExtensionPolicy.permit_all()
    .require_present(x509.BasicConstraints, verification.Criticality.AGNOSTIC, _issuer_is_ca)
    .may_be_present(x509.KeyUsage, verification.Criticality.AGNOSTIC, _issuer_may_sign_certificates)
    .may_be_present(x509.CertificatePolicies, verification.Criticality.AGNOSTIC, None)
)
# The leaf: no web-PKI rule (EKU, SAN, key usage) applies; the format checks it.
_EE_POLICY = verification.ExtensionPolicy.permit_all().may_be_present(
    x509.CertificatePolicies, verification.Criticality.AGNOSTIC, None
)


def validate_chain(
    trust_path: Sequence[x509.Certificate],
    store: verification.Store,
    now: datetime,
    *,
    max_depth: int,
) -> tuple[x509.Certificate, ...] | None:
    """The validated chain of ``trust_path`` to an anchor of ``store``, or None.

    Args:
        trust_path: ``x5c`` as certificates, leaf first; the others are only
            candidate intermediates, never anchors.
        store: The trust anchors.
        now: The validation time (aware).
        max_depth: Most intermediates between leaf and anchor.

    Returns:
        The chain from the leaf to the anchor (anchor last), or ``None`` when
        no path satisfies the rules in this module's docstring.
    """
    if not trust_path:
        return None
    verifier = (
        verification.PolicyBuilder()
        .store(store)
        .time(now)
        .max_chain_depth(max_depth)
        .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(trust_path[0], list(trust_path[1:]))
    except (verification.VerificationError, ValueError, x509.InvalidVersion):
        # Any failure to build a path, including certificates whose lazily
        # parsed fields are broken, means "not trusted".
        return None
    return tuple(verified.chain)
