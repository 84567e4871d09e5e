"""Backup codes: generation, normalisation, records and one-Argon2 verification."""

from __future__ import annotations

import math
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from mfakit.backup_codes._hashing import RFC_9106_LOW_MEMORY, Hasher, parse_hash
from mfakit.clock import ensure_aware
from mfakit.errors import ConfigurationError, MalformedDataError

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_HASHER",
    "GROUP_SIZE",
    "ID_LENGTH",
    "MAX_COUNT",
    "SECRET_BITS",
    "SECRET_LENGTH",
    "BackupCodeRecord",
    "GeneratedCodes",
    "format_code",
    "generate",
    "mark_consumed",
    "needs_rehash",
    "normalize",
    "remaining",
    "verify",
]

#: The 21 symbols codes are made of. Left out so that nothing can be misread when a
#: code is printed, handwritten or read aloud: the rounds 0 O Q, the strokes 1 I L,
#: both members of the pairs 2/Z, 5/S, 8/B and U/V, and G (too close to 6).
ALPHABET = "34679ACDEFHJKMNPRTWXY"
#: Characters per group in the displayed form (``XXXX-XXXX-XXXX-XXXX``).
GROUP_SIZE = 4
#: Characters of the non-secret lookup id (the first group). It is the ``code_id``.
ID_LENGTH = 4
#: Characters of the secret part.
SECRET_LENGTH = 12
#: Characters of a whole code, without separators.
CODE_LENGTH = ID_LENGTH + SECRET_LENGTH
#: Entropy of the secret part alone: 12 * log2(21) ~= 52.7 bits (the id is not counted,
#: because it is stored in clear next to the hash).
SECRET_BITS = SECRET_LENGTH * math.log2(len(ALPHABET))
#: The most codes :func:`generate` makes in one set.
MAX_COUNT = 100
#: The hasher used when none is given: Argon2id with RFC 9106's second recommendation.
DEFAULT_HASHER = Hasher(profile=RFC_9106_LOW_MEMORY)

_ALPHABET_SET = frozenset(ALPHABET)
# Anything longer is not a code; refusing it early bounds the work done on garbage.
_MAX_INPUT_LENGTH = 64
# Separators people type or paste between groups (ASCII and Unicode dashes, spaces).
_SEPARATORS = frozenset(" -_.\t\r\n\u00a0\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u3000")
_HASH_DOMAIN = b"mfakit.backup_codes.v1:"


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupCodeRecord:
    """The stored form of one backup code: its id, its Argon2id hash, and whether it was used.

    Args:
        code_id: The code's non-secret lookup id (its first group), unique within a set.
        hash: The PHC-encoded Argon2id hash of the whole code.
        consumed_at: When the code was used (aware), or ``None`` while it is usable.

    Raises:
        MalformedDataError: a field is not in the expected form (``field`` names it).
    """

    code_id: str
    hash: str = field(repr=False)
    consumed_at: datetime | None = None

    def __post_init__(self) -> None:
        if not _is_id(self.code_id):
            raise MalformedDataError("not a backup code id", field="code_id")
        parse_hash(self.hash)
        if self.consumed_at is not None:
            try:
                ensure_aware(self.consumed_at)
            except ConfigurationError as exc:
                raise MalformedDataError(
                    "consumed_at must be an aware datetime", field="consumed_at"
                ) from exc

    @property
    def consumed(self) -> bool:
        """Whether the code has been used."""
        return self.consumed_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedCodes:
    """A fresh set of backup codes.

    Show :attr:`codes` to the user once, store :attr:`records`, then drop this
    object. The plaintext codes never appear in ``repr``.

    Attributes:
        codes: The codes in display form (``XXXX-XXXX-XXXX-XXXX``), in the same order
            as :attr:`records`.
        records: The hashed records to store.
    """

    codes: tuple[str, ...] = field(repr=False)
    records: tuple[BackupCodeRecord, ...]


def generate(count: int = 10, *, hasher: Hasher = DEFAULT_HASHER) -> GeneratedCodes:
    """Generate ``count`` backup codes and their Argon2id records.

    Each code is 16 symbols from :data:`ALPHABET`, shown as four groups of four.
    The first group is a random lookup id, distinct within the set; the other
    twelve symbols are the secret (about 52.7 bits). Costs ``count`` Argon2
    computations.

    Args:
        count: How many codes, from 1 to :data:`MAX_COUNT`.
        hasher: The Argon2id profile to hash with.

    Raises:
        ConfigurationError: ``count`` or ``hasher`` is invalid.

    Example::

        fresh = generate()
        show_once(fresh.codes)
        store.replace_backup_codes(user_id, fresh.records)
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise ConfigurationError(f"count must be an integer from 1 to {MAX_COUNT}")
    if not isinstance(hasher, Hasher):
        raise ConfigurationError("hasher must be a Hasher")
    ids: set[str] = set()
    while len(ids) < count:
        ids.add(_random_symbols(ID_LENGTH))
    plain: list[str] = []
    records: list[BackupCodeRecord] = []
    for code_id in sorted(ids):
        code = code_id + _random_symbols(SECRET_LENGTH)
        plain.append(format_code(code))
        records.append(BackupCodeRecord(code_id=code_id, hash=hasher._hash(_secret_input(code))))
    return GeneratedCodes(codes=tuple(plain), records=tuple(records))


def verify(
    code: object,
    records: Iterable[BackupCodeRecord],
    *,
    hasher: Hasher = DEFAULT_HASHER,
) -> str | None:
    """Return the ``code_id`` of the unused record ``code`` matches, or ``None``.

    Runs at most ONE Argon2 computation, however many records there are: the
    code's first group selects the one unused record with that id, and when no
    unused record has it, a dummy hash with the same parameters is checked
    instead, so a wrong code costs the same whether its id exists or not. Input
    that cannot be a code (wrong length or symbols, not a string) is no match
    and costs no Argon2 computation, since its shape is public anyway.

    Single use is not enforced here: the caller must consume the returned id
    atomically in its store (``consume_backup_code(user, code_id) -> bool``) and
    accept the login only if that returns True.

    Args:
        code: What the user typed; case, spaces and dashes do not matter.
        records: The user's stored records (consumed ones are ignored).
        hasher: Supplies the dummy hash parameters when no record is selected.

    Raises:
        ConfigurationError: ``records`` holds something other than records, two
            unused records share an id, or ``hasher`` is not a :class:`Hasher`.
        MalformedDataError: the selected stored hash is unusable.
    """
    if not isinstance(hasher, Hasher):
        raise ConfigurationError("hasher must be a Hasher")
    by_id: dict[str, BackupCodeRecord] = {}
    for record in records:
        if not isinstance(record, BackupCodeRecord):
            raise ConfigurationError("records must be BackupCodeRecord objects")
        if record.consumed:
            continue
        if record.code_id in by_id:
            raise ConfigurationError("two unused backup code records share a code_id")
        by_id[record.code_id] = record
    normal = normalize(code)
    if normal is None:
        return None
    selected = by_id.get(normal[:ID_LENGTH])
    if selected is None:
        # Same cost as a real check: the parameters of the user's own set when known.
        like = parse_hash(next(iter(by_id.values())).hash) if by_id else None
        hasher._verify(hasher._dummy_hash(like), _secret_input(normal))
        return None
    if hasher._verify(selected.hash, _secret_input(normal)):
        return selected.code_id
    return None


def normalize(code: object) -> str | None:
    """Return ``code`` as its 16 canonical symbols, or ``None`` if it cannot be a code.

    Unicode compatibility forms are folded (NFKC), letters are upper-cased, and
    spaces, dashes, underscores and dots anywhere are dropped.
    """
    if not isinstance(code, str) or len(code) > _MAX_INPUT_LENGTH:
        return None
    folded = unicodedata.normalize("NFKC", code).upper()
    compact = "".join(ch for ch in folded if ch not in _SEPARATORS)
    if len(compact) != CODE_LENGTH or not _ALPHABET_SET.issuperset(compact):
        return None
    return compact


def format_code(code: str) -> str:
    """Return a code in display form, ``XXXX-XXXX-XXXX-XXXX``.

    Raises:
        MalformedDataError: ``code`` is not a backup code.
    """
    normal = normalize(code)
    if normal is None:
        raise MalformedDataError("not a backup code", field="code")
    return "-".join(normal[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))


def remaining(records: Iterable[BackupCodeRecord]) -> int:
    """Count the records that have not been consumed.

    Raises:
        ConfigurationError: ``records`` holds something other than records.
    """
    count = 0
    for record in records:
        if not isinstance(record, BackupCodeRecord):
            raise ConfigurationError("records must be BackupCodeRecord objects")
        count += not record.consumed
    return count


def needs_rehash(record: BackupCodeRecord, hasher: Hasher = DEFAULT_HASHER) -> bool:
    """Whether ``record`` was hashed with other parameters than ``hasher``'s profile.

    A backup code cannot be re-hashed without its plaintext, and the plaintext
    is only seen when the code is used up; so a True answer means "offer the
    user a new set" (or regenerate it at their next sign-in).

    Raises:
        ConfigurationError: ``record`` or ``hasher`` has the wrong type.
    """
    if not isinstance(record, BackupCodeRecord):
        raise ConfigurationError("record must be a BackupCodeRecord")
    if not isinstance(hasher, Hasher):
        raise ConfigurationError("hasher must be a Hasher")
    return hasher.needs_rehash(record.hash)


def mark_consumed(record: BackupCodeRecord, *, now: datetime) -> BackupCodeRecord:
    """Return a copy of ``record`` marked as used at ``now``.

    This mirrors what a store's atomic ``consume_backup_code`` writes; it does
    not make single use safe on its own.

    Raises:
        ConfigurationError: ``now`` is naive.
    """
    return replace(record, consumed_at=ensure_aware(now))


def _random_symbols(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def _is_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == ID_LENGTH and _ALPHABET_SET.issuperset(value)


def _secret_input(normal: str) -> bytes:
    # The whole code, id included, is hashed: a hash moved to another id never matches.
    return _HASH_DOMAIN + normal.encode("ascii")
