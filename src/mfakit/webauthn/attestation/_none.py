"""The ``none`` attestation statement format (WebAuthn Level 3 §8.7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mfakit.errors import InvalidAttestationError
from mfakit.webauthn._cose import CredentialPublicKey
from mfakit.webauthn._structures import AuthenticatorData

from ._common import StatementResult
from ._options import DEFAULT_OPTIONS, FormatOptions

__all__ = ["verify"]

_RESULT = StatementResult(attestation_type="none")


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> StatementResult:
    """§8.7: the statement must be the empty map; the attestation type is None.

    Raises:
        InvalidAttestationError: The statement is not empty.
    """
    if att_stmt:
        raise InvalidAttestationError("none attestation statement must be empty")
    return _RESULT
