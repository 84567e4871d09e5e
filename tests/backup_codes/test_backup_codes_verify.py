"""mfakit.backup_codes: verification costs exactly one Argon2 computation, and single use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from argon2 import extract_parameters
from backup_codes_helpers import CountingLib, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfakit import backup_codes
from mfakit.backup_codes import BackupCodeRecord, GeneratedCodes, Hasher
from mfakit.errors import ConfigurationError, MalformedDataError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_each_code_verifies_to_its_own_id(ten: GeneratedCodes, hasher: Hasher) -> None:
    """Every generated code matches, and returns the id of its own record."""
    for code, record in zip(ten.codes, ten.records, strict=True):
        assert backup_codes.verify(code, ten.records, hasher=hasher) == record.code_id


def test_right_code_costs_one_argon2(
    ten: GeneratedCodes, hasher: Hasher, argon2_calls: CountingLib
) -> None:
    """With ten stored codes, a right code costs exactly one Argon2 computation."""
    assert backup_codes.verify(ten.codes[9], ten.records, hasher=hasher) is not None
    assert argon2_calls.calls == {"argon2_verify": 1}


def test_wrong_code_with_known_id_costs_one_argon2(
    ten: GeneratedCodes,
    hasher: Hasher,
    argon2_calls: CountingLib,
) -> None:
    """A wrong secret behind an existing id costs exactly one Argon2 computation."""
    assert backup_codes.verify(mutate(ten.codes[4], 7), ten.records, hasher=hasher) is None
    assert argon2_calls.calls == {"argon2_verify": 1}


def test_unknown_id_costs_one_argon2_with_same_parameters(
    ten: GeneratedCodes, hasher: Hasher, argon2_calls: CountingLib
) -> None:
    """A code whose id is not stored still costs one Argon2 run, with the set's parameters."""
    ids = {r.code_id for r in ten.records}
    unknown = next(
        a + b + c + d
        for a in backup_codes.ALPHABET
        for b in backup_codes.ALPHABET
        for c in backup_codes.ALPHABET
        for d in backup_codes.ALPHABET
        if a + b + c + d not in ids
    )
    assert backup_codes.verify(unknown + "3" * 12, ten.records, hasher=hasher) is None
    assert argon2_calls.calls == {"argon2_verify": 1}
    dummy = extract_parameters(argon2_calls.verified_hashes[0].decode())
    assert dummy == extract_parameters(ten.records[0].hash)


def test_no_record_at_all_costs_one_argon2_with_hasher_profile(
    hasher: Hasher, argon2_calls: CountingLib
) -> None:
    """With no usable record, the dummy check uses the hasher's profile."""
    assert backup_codes.verify("3333-3333-3333-3333", [], hasher=hasher) is None
    assert argon2_calls.calls == {"argon2_verify": 1}
    dummy = extract_parameters(argon2_calls.verified_hashes[0].decode())
    assert dummy == backup_codes.CHEAP_FOR_TESTS.parameters


def test_cost_is_one_whatever_the_number_of_codes(
    hasher: Hasher, argon2_calls: CountingLib
) -> None:
    """With the maximum set size, a right and a wrong code still cost one each."""
    big = backup_codes.generate(backup_codes.MAX_COUNT, hasher=hasher)
    argon2_calls.reset()
    assert backup_codes.verify(big.codes[-1], big.records, hasher=hasher) is not None
    assert backup_codes.verify("3333-3333-3333-3333", big.records, hasher=hasher) is None
    assert argon2_calls.calls == {"argon2_verify": 2}


def test_malformed_input_costs_nothing(
    ten: GeneratedCodes, hasher: Hasher, argon2_calls: CountingLib
) -> None:
    """Input that cannot be a code is no match and runs no Argon2 at all."""
    for junk in ("", "1234", ten.codes[0] + "X", "0OIL-0OIL-0OIL-0OIL", None, 42, b"x"):
        assert backup_codes.verify(junk, ten.records, hasher=hasher) is None
    assert argon2_calls.total == 0


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.lower(),
        lambda c: c.replace("-", ""),
        lambda c: c.replace("-", " "),
        lambda c: f"  {c.replace('-', ' - ')}  ",
        lambda c: c.replace("-", "\u2013"),
        lambda c: "".join(chr(ord(ch) + 0xFEE0) if ch != "-" else ch for ch in c),
    ],
    ids=["lower", "no-dashes", "spaces", "padded", "en-dash", "full-width"],
)
def test_normalised_input_matches(
    ten: GeneratedCodes, hasher: Hasher, typed: Callable[[str], str]
) -> None:
    """Case, spaces, dashes and full-width forms do not matter."""
    assert backup_codes.verify(typed(ten.codes[2]), ten.records, hasher=hasher) == (
        ten.records[2].code_id
    )


def test_consumed_code_is_rejected_at_the_same_cost(
    ten: GeneratedCodes, hasher: Hasher, argon2_calls: CountingLib
) -> None:
    """A consumed record never matches, and checking it still costs one Argon2 run."""
    records = list(ten.records)
    records[5] = backup_codes.mark_consumed(records[5], now=NOW)
    assert backup_codes.verify(ten.codes[5], records, hasher=hasher) is None
    assert argon2_calls.calls == {"argon2_verify": 1}


def test_hash_moved_to_another_id_does_not_match(ten: GeneratedCodes, hasher: Hasher) -> None:
    """The id is inside the hashed input: swapping hashes between records breaks both."""
    a, b = ten.records[0], ten.records[1]
    swapped = [replace(a, hash=b.hash), replace(b, hash=a.hash)]
    assert backup_codes.verify(ten.codes[0], swapped, hasher=hasher) is None
    assert backup_codes.verify(ten.codes[1], swapped, hasher=hasher) is None


def test_duplicate_unused_ids_are_refused(ten: GeneratedCodes, hasher: Hasher) -> None:
    """Two usable records with one id are a host-app bug, not a guess to resolve."""
    doubled = [*ten.records, ten.records[0]]
    with pytest.raises(ConfigurationError):
        backup_codes.verify(ten.codes[0], doubled, hasher=hasher)


def test_consumed_duplicate_is_allowed(ten: GeneratedCodes, hasher: Hasher) -> None:
    """A consumed record may share an id with a usable one (it is ignored)."""
    used = backup_codes.mark_consumed(ten.records[0], now=NOW)
    records = [used, *ten.records]
    assert backup_codes.verify(ten.codes[0], records, hasher=hasher) == ten.records[0].code_id


@pytest.mark.parametrize("records", [["not a record"], [None]])
def test_records_of_wrong_type_are_refused(records: list[object], hasher: Hasher) -> None:
    """Anything but BackupCodeRecord objects is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        backup_codes.verify("3333-3333-3333-3333", records, hasher=hasher)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        backup_codes.remaining(records)  # type: ignore[arg-type]


def test_verify_refuses_a_non_hasher(ten: GeneratedCodes) -> None:
    """hasher must be a Hasher."""
    with pytest.raises(ConfigurationError):
        backup_codes.verify(ten.codes[0], ten.records, hasher="cheap")  # type: ignore[arg-type]


def test_unusable_stored_hash_is_a_malformed_data_error(hasher: Hasher) -> None:
    """A stored hash argon2 cannot decode raises MalformedDataError, never argon2's own error."""
    # Non-canonical base64 in the tag: the PHC parser accepts it, the C decoder does not.
    corrupt = "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAB"
    record = BackupCodeRecord(code_id="3333", hash=corrupt)
    with pytest.raises(MalformedDataError) as info:
        backup_codes.verify("3333-3333-3333-3333", [record], hasher=hasher)
    assert info.value.field == "hash"


def test_remaining_counts_unused_records(ten: GeneratedCodes) -> None:
    """remaining() counts what is left after some codes were used."""
    records = list(ten.records)
    assert backup_codes.remaining(records) == 10
    records[0] = backup_codes.mark_consumed(records[0], now=NOW)
    records[7] = backup_codes.mark_consumed(records[7], now=NOW)
    assert backup_codes.remaining(records) == 8
    assert backup_codes.remaining([]) == 0


def test_mark_consumed_sets_the_marker(ten: GeneratedCodes) -> None:
    """mark_consumed records the time and flips consumed."""
    used = backup_codes.mark_consumed(ten.records[0], now=NOW)
    assert used.consumed
    assert used.consumed_at == NOW
    assert not ten.records[0].consumed


def test_mark_consumed_refuses_naive_time(ten: GeneratedCodes) -> None:
    """A naive now is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        backup_codes.mark_consumed(ten.records[0], now=datetime(2026, 1, 1))  # noqa: DTZ001


_CODE_TEXT = st.text(
    alphabet=st.sampled_from(backup_codes.ALPHABET + "01OIL- abcxyz\u2013\u00a0é\x00"),
    max_size=40,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=st.one_of(st.text(max_size=80), _CODE_TEXT))
def test_any_text_is_no_match_or_a_stored_id(
    ten: GeneratedCodes, hasher: Hasher, typed: str
) -> None:
    """Random input never raises: it is None, or (if it is a real code) that code's id."""
    result = backup_codes.verify(typed, ten.records, hasher=hasher)
    ids = {r.code_id for r in ten.records}
    assert result is None or result in ids


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(index=st.integers(0, 9), position=st.integers(0, 11), upper=st.booleans())
def test_one_symbol_changed_never_matches(
    ten: GeneratedCodes,
    hasher: Hasher,
    index: int,
    position: int,
    upper: bool,
) -> None:
    """Changing any one secret symbol of any code makes it no match."""
    changed = mutate(ten.codes[index], position)
    typed = changed if upper else changed.lower()
    assert backup_codes.verify(typed, ten.records, hasher=hasher) is None
