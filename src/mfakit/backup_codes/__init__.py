"""Backup (recovery) codes: shown once, stored as Argon2id hashes, each usable once.

A code looks like ``K7MW-3XRT-9CPA-HJ4E``: 16 symbols from an alphabet without
look-alike characters. The first group is a non-secret lookup id (the record's
``code_id``); the other twelve symbols carry about 52.7 bits of secret. Each code
is stored only as an Argon2id hash (RFC 9106); checking a code costs exactly one
Argon2 computation whatever the number of codes and whether the code exists.

Example::

    from mfakit import backup_codes

    fresh = backup_codes.generate()            # 10 codes
    print(*fresh.codes, sep="\\n")             # show once
    save(user_id, fresh.records)

    code_id = backup_codes.verify(typed, load(user_id))
    if code_id is not None and store.consume_backup_code(user_id, code_id):
        ...                                     # signed in
"""

from __future__ import annotations

from mfakit.backup_codes._codes import (
    ALPHABET,
    CODE_LENGTH,
    DEFAULT_HASHER,
    GROUP_SIZE,
    ID_LENGTH,
    MAX_COUNT,
    SECRET_BITS,
    SECRET_LENGTH,
    BackupCodeRecord,
    GeneratedCodes,
    format_code,
    generate,
    mark_consumed,
    needs_rehash,
    normalize,
    remaining,
    verify,
)
from mfakit.backup_codes._hashing import (
    CHEAP_FOR_TESTS,
    PROFILES,
    RFC_9106_LOW_MEMORY,
    Hasher,
    HashProfile,
)

# Plain sorted() order, which tests/test_public_api.py requires (ruff orders by case first).
__all__ = [
    "ALPHABET",
    "BackupCodeRecord",
    "CHEAP_FOR_TESTS",
    "CODE_LENGTH",
    "DEFAULT_HASHER",
    "GROUP_SIZE",
    "GeneratedCodes",
    "HashProfile",
    "Hasher",
    "ID_LENGTH",
    "MAX_COUNT",
    "PROFILES",
    "RFC_9106_LOW_MEMORY",
    "SECRET_BITS",
    "SECRET_LENGTH",
    "format_code",
    "generate",
    "mark_consumed",
    "needs_rehash",
    "normalize",
    "remaining",
    "verify",
]
