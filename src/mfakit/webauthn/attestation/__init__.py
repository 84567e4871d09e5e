"""Attestation: which authenticator made a credential, and whether to believe it.

:func:`mfakit.webauthn.verify_registration` verifies the attestation
statement with the procedure of its format (WebAuthn Level 3 §8) and then
assesses trust with an :class:`AttestationPolicy`. Each format is one
private module of this package with one ``verify`` function, listed in the
explicit registry :data:`ATTESTATION_FORMATS`:

=====================  =======  ===============================
format                 section  module
=====================  =======  ===============================
``none``               §8.7     ``attestation._none``
``packed``             §8.2     ``attestation._packed``
``tpm``                §8.3     ``attestation._tpm``
``android-key``        §8.4     ``attestation._android_key``
``android-safetynet``  §8.5     ``attestation._android_safetynet``
``fido-u2f``           §8.6     ``attestation._fido_u2f``
``apple``              §8.8     ``attestation._apple``
``compound``           §8.9     ``attestation._compound``
=====================  =======  ===============================

Certificate chains are validated by FIDO path rules (``attestation._chain``),
not web-PKI rules: see the attestation guide for the trust model, and for
what each format's signature covers (:data:`UNSIGNED_AAGUID_FORMATS`).
"""

from __future__ import annotations

from mfakit.webauthn._public import publish

from ._common import AttestationType
from ._policy import (
    ATTESTATION_FORMATS,
    UNSIGNED_AAGUID_FORMATS,
    AttestationPolicy,
    MetadataProvider,
)
from ._roots import PublicRoot, public_roots, public_trust_anchors
from ._tpm import TPM_MANUFACTURERS

# Plain sorted() order, which tests/test_public_api.py pins.
__all__ = [
    "ATTESTATION_FORMATS",
    "AttestationPolicy",
    "AttestationType",
    "MetadataProvider",
    "PublicRoot",
    "TPM_MANUFACTURERS",
    "UNSIGNED_AAGUID_FORMATS",
    "public_roots",
    "public_trust_anchors",
]

publish(__name__, globals(), __all__)
