"""The ``compound`` attestation statement format (WebAuthn Level 3 §8.9).

A compound statement is an array of at least two statements of other
formats, all about the same credential. mfakit verifies every one of them;
the registration is refused if any fails.

On the wire ``attStmt`` is a CBOR array; :func:`~mfakit.webauthn.low_level.parse_attestation_object`
exposes it as the read-only mapping ``{"statements": (stmt, ...)}`` so that
every format sees a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mfakit.errors import InvalidAttestationError
from mfakit.webauthn._cose import CredentialPublicKey
from mfakit.webauthn._structures import AuthenticatorData

from ._common import StatementResult
from ._options import DEFAULT_OPTIONS, FormatOptions

__all__ = [
    "CompoundStatementResult",
    "MAX_COMPOUND_STATEMENTS",
    "verify",
]

#: Most statements accepted in one compound attestation.
MAX_COMPOUND_STATEMENTS = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class CompoundStatementResult(StatementResult):
    """A verified compound statement.

    ``attestation_type`` and ``trust_path`` are those of the first statement;
    ``statements`` lists every ``(fmt, result)`` in order.
    """

    statements: tuple[tuple[str, StatementResult], ...] = ()


def verify(
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    credential_key: CredentialPublicKey,
    options: FormatOptions = DEFAULT_OPTIONS,
) -> CompoundStatementResult:
    """Verify a ``compound`` statement (§8.9 "Verification procedure").

    * ``attStmt`` is an array of 2 to :data:`MAX_COMPOUND_STATEMENTS` maps,
      each exactly ``{fmt, attStmt}`` with a text ``fmt`` other than
      ``compound`` and a map ``attStmt``;
    * each statement verifies with its own format's procedure (through
      ``options.nested``, which also applies the policy's allowed formats).

    Raises:
        InvalidAttestationError: The array breaks a rule above.
        UnsupportedAttestationError: A statement's format is unknown,
            not allowed, or ``compound`` itself.
        VerificationError: Whatever a contained statement's format raises.
    """
    statements = att_stmt.get("statements")
    if set(att_stmt) != {"statements"} or type(statements) is not tuple:
        raise InvalidAttestationError("compound attStmt must be an array of statements")
    if not 2 <= len(statements) <= MAX_COMPOUND_STATEMENTS:
        raise InvalidAttestationError("compound attStmt must hold 2 to 8 statements")
    if options.nested is None:
        raise InvalidAttestationError("compound statements need the attestation policy")
    results: list[tuple[str, StatementResult]] = []
    for item in statements:
        if type(item) is not dict or set(item) != {"fmt", "attStmt"}:
            raise InvalidAttestationError("compound entry must be a map of fmt and attStmt")
        fmt, stmt = item["fmt"], item["attStmt"]
        if type(fmt) is not str or type(stmt) is not dict or any(type(k) is not str for k in stmt):
            raise InvalidAttestationError("compound entry has the wrong types")
        results.append((fmt, options.nested(fmt, MappingProxyType(stmt))))
    first = results[0][1]
    return CompoundStatementResult(
        attestation_type=first.attestation_type,
        trust_path=first.trust_path,
        statements=tuple(results),
    )
