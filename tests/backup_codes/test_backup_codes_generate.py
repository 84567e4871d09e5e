"""mfakit.backup_codes: generation, format, entropy, profiles and records."""

from __future__ import annotations

import math
import re
from datetime import datetime

import argon2.low_level
import pytest
from argon2 import Type, extract_parameters
from argon2.exceptions import HashingError
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit import backup_codes
from mfakit.backup_codes import BackupCodeRecord, GeneratedCodes, Hasher, HashProfile
from mfakit.errors import ConfigurationError, MalformedDataError

_SALT_TAG = "$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"
DISPLAY = re.compile(
    rf"^[{backup_codes.ALPHABET}]{{4}}-[{backup_codes.ALPHABET}]{{4}}-[{backup_codes.ALPHABET}]{{4}}-[{backup_codes.ALPHABET}]{{4}}$"
)


def test_public_names_are_pinned() -> None:
    """The exact public surface of mfakit.backup_codes."""
    assert backup_codes.__all__ == [
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


def test_default_profile_is_rfc_9106_second_recommendation() -> None:
    """The default is Argon2id, t=3, p=4, m=2**16 KiB, 128-bit salt, 256-bit tag (RFC 9106, 4)."""
    profile = backup_codes.DEFAULT_HASHER.profile
    assert profile is backup_codes.RFC_9106_LOW_MEMORY
    assert Hasher().profile is profile
    params = profile.parameters
    assert params.type is Type.ID
    assert params.version == 0x13
    assert (params.time_cost, params.parallelism, params.memory_cost) == (3, 4, 64 * 1024)
    assert (params.salt_len, params.hash_len) == (16, 32)


def test_default_profile_hash_carries_its_parameters() -> None:
    """One code hashed with the default profile really uses those parameters (one slow hash)."""
    record = backup_codes.generate(1).records[0]
    assert extract_parameters(record.hash) == backup_codes.RFC_9106_LOW_MEMORY.parameters
    assert record.hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_ten_codes_by_default(ten: GeneratedCodes) -> None:
    """generate() makes ten distinct codes with distinct ids, one record each."""
    assert len(ten.codes) == len(ten.records) == 10
    assert len(set(ten.codes)) == 10
    assert len({r.code_id for r in ten.records}) == 10


def test_display_format(ten: GeneratedCodes) -> None:
    """Codes are four groups of four symbols; the first group is the record's id."""
    for code, record in zip(ten.codes, ten.records, strict=True):
        assert DISPLAY.match(code), code
        assert code[:4] == record.code_id


def test_alphabet_has_no_look_alikes() -> None:
    """No 0/O/Q, 1/I/L, 2/Z, 5/S, 8/B, G or U/V; upper case only; no repeats."""
    assert not set(backup_codes.ALPHABET) & set("0OQ1IL2Z5S8BGUV")
    assert backup_codes.ALPHABET.upper() == backup_codes.ALPHABET
    assert len(set(backup_codes.ALPHABET)) == len(backup_codes.ALPHABET) == 21


def test_secret_entropy_is_at_least_50_bits() -> None:
    """The secret part alone (id excluded) carries 12 * log2(21) > 50 bits."""
    assert (
        pytest.approx(backup_codes.SECRET_LENGTH * math.log2(len(backup_codes.ALPHABET)))
        == backup_codes.SECRET_BITS
    )
    assert backup_codes.SECRET_BITS >= 50
    assert backup_codes.CODE_LENGTH == backup_codes.ID_LENGTH + backup_codes.SECRET_LENGTH == 16


def test_every_symbol_is_used(hasher: Hasher) -> None:
    """Across 100 codes (1200 secret symbols) every alphabet symbol appears."""
    big = backup_codes.generate(100, hasher=hasher)
    seen = set("".join(c.replace("-", "")[4:] for c in big.codes))
    assert seen == set(backup_codes.ALPHABET)


def test_codes_stay_out_of_repr_and_records(ten: GeneratedCodes) -> None:
    """Plaintext codes appear in no repr, and no record holds one."""
    text = repr(ten) + str(ten)
    for code, record in zip(ten.codes, ten.records, strict=True):
        secret = code.replace("-", "")[4:]
        assert secret not in text
        assert secret not in record.hash
        assert record.hash not in repr(record)
        assert record.hash.startswith("$argon2id$")


@pytest.mark.parametrize("count", [0, -1, backup_codes.MAX_COUNT + 1, True, "3", 1.5, None])
def test_bad_count_is_a_configuration_error(count: object, hasher: Hasher) -> None:
    """count must be an int from 1 to MAX_COUNT."""
    with pytest.raises(ConfigurationError):
        backup_codes.generate(count, hasher=hasher)  # type: ignore[arg-type]


def test_generate_refuses_a_non_hasher() -> None:
    """hasher must be a Hasher."""
    with pytest.raises(ConfigurationError):
        backup_codes.generate(1, hasher=backup_codes.CHEAP_FOR_TESTS)  # type: ignore[arg-type]


def test_argon2_hashing_failure_is_converted(
    hasher: Hasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An argon2 HashingError (e.g. out of memory) surfaces as a ConfigurationError."""

    def fail(*_args: object, **_kwargs: object) -> bytes:
        raise HashingError("Memory allocation error")

    monkeypatch.setattr(argon2.low_level, "hash_secret", fail)
    with pytest.raises(ConfigurationError) as info:
        backup_codes.generate(1, hasher=hasher)
    assert isinstance(info.value.__cause__, HashingError)


def test_needs_rehash_follows_the_profile(ten: GeneratedCodes, hasher: Hasher) -> None:
    """Records made with the cheap profile need a rehash under the default, not under cheap."""
    record = ten.records[0]
    assert backup_codes.needs_rehash(record, hasher) is False
    assert backup_codes.needs_rehash(record, backup_codes.DEFAULT_HASHER) is True
    assert backup_codes.needs_rehash(record) is True
    stronger = Hasher(profile=HashProfile(name="t2", time_cost=2, memory_cost=8, parallelism=1))
    assert backup_codes.needs_rehash(record, stronger) is True


def test_needs_rehash_refuses_wrong_types(ten: GeneratedCodes, hasher: Hasher) -> None:
    """needs_rehash takes a record and a Hasher."""
    with pytest.raises(ConfigurationError):
        backup_codes.needs_rehash("record", hasher)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        backup_codes.needs_rehash(ten.records[0], "cheap")  # type: ignore[arg-type]


def test_profiles_by_name() -> None:
    """Built-in profiles are found by name; unknown names are refused."""
    assert set(backup_codes.PROFILES) == {"rfc9106-low-memory", "cheap-for-tests"}
    assert Hasher.from_profile_name("cheap-for-tests").profile is backup_codes.CHEAP_FOR_TESTS
    with pytest.raises(ConfigurationError):
        Hasher.from_profile_name("fast")
    with pytest.raises(ConfigurationError):
        Hasher.from_profile_name(["x"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_cost", 0),
        ("time_cost", True),
        ("parallelism", 0),
        ("memory_cost", 7),
        ("memory_cost", 8 * 1024 * 1024),
        ("hash_len", 3),
        ("salt_len", 4),
        ("name", ""),
    ],
)
def test_bad_profile_names_the_field(field: str, value: object) -> None:
    """An out-of-range profile parameter is a ConfigurationError naming it."""
    args: dict[str, object] = {"name": "p", "time_cost": 1, "memory_cost": 8, "parallelism": 1}
    args[field] = value
    with pytest.raises(ConfigurationError, match=field):
        HashProfile(**args)  # type: ignore[arg-type]


def test_hasher_refuses_a_non_profile() -> None:
    """Hasher(profile=...) takes a HashProfile."""
    with pytest.raises(ConfigurationError):
        Hasher(profile="cheap-for-tests")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("code_id", {"code_id": "0000"}),
        ("code_id", {"code_id": "333"}),
        ("code_id", {"code_id": 3333}),
        ("hash", {"hash": "plaintext"}),
        ("hash", {"hash": b"$argon2id$"}),
        (
            "hash",
            {"hash": "$argon2i$v=19$m=8,t=1,p=1" + _SALT_TAG},
        ),
        (
            "hash",
            {"hash": "$argon2id$v=16$m=8,t=1,p=1" + _SALT_TAG},
        ),
        (
            "hash",
            {"hash": "$argon2id$v=19$m=99999999,t=1,p=1" + _SALT_TAG},
        ),
        ("consumed_at", {"consumed_at": datetime(2026, 1, 1)}),  # noqa: DTZ001
    ],
)
def test_bad_record_is_malformed(
    field: str, kwargs: dict[str, object], ten: GeneratedCodes
) -> None:
    """A record with a bad id, a non-Argon2id or out-of-range hash, or a naive time is refused."""
    args: dict[str, object] = {"code_id": "3333", "hash": ten.records[0].hash}
    args.update(kwargs)
    with pytest.raises(MalformedDataError) as info:
        BackupCodeRecord(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_format_code_groups_and_refuses_garbage() -> None:
    """format_code puts a code in display form and refuses what is not a code."""
    assert backup_codes.format_code("3333 4444 7777 9999".lower()) == "3333-4444-7777-9999"
    with pytest.raises(MalformedDataError):
        backup_codes.format_code("not a code")


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=100), st.binary(max_size=20), st.integers(), st.none()))
def test_normalize_never_raises(value: object) -> None:
    """normalize() returns None or 16 alphabet symbols, whatever it is given."""
    result = backup_codes.normalize(value)
    assert result is None or (
        len(result) == backup_codes.CODE_LENGTH and set(result) <= set(backup_codes.ALPHABET)
    )
