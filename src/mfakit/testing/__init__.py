"""Helpers for testing applications that use mfakit, and mfakit itself.

Nothing here is meant for production code paths.

* :class:`SoftAuthenticator` -- a software WebAuthn authenticator and client that
  answers Level 3 JSON options with real registration and authentication responses,
  with :class:`Fault` switches that produce specific defects.
* :class:`AttestationBuilder` -- valid or single-fault registrations in the
  ``tpm``, ``android-key``, ``android-safetynet``, ``apple`` and ``compound``
  formats, signed by test CAs, for testing attestation policies.
"""

from __future__ import annotations

from mfakit.testing._attestation_builders import AttestationBuilder, BuiltRegistration
from mfakit.testing._authenticator import SoftAttestation, SoftAuthenticator
from mfakit.testing._soft_ca import AttestationCA
from mfakit.testing._soft_keys import SUPPORTED_ALGORITHMS
from mfakit.testing._soft_records import Fault, SoftCredential

# Plain sorted() order, which tests/test_public_api.py pins (ruff prefers isort order).
__all__ = [
    "AttestationBuilder",
    "AttestationCA",
    "BuiltRegistration",
    "Fault",
    "SUPPORTED_ALGORITHMS",
    "SoftAttestation",
    "SoftAuthenticator",
    "SoftCredential",
]
