"""Building key rings: constructor and configuration validation, key generation, repr."""

from __future__ import annotations

import base64

import pytest
from _secretbox_data import KEY_1, KEY_2, KEY_3, OWNER, PURPOSE, SECRET
from hypothesis import given, settings
from hypothesis import strategies as st

import mfakit.secretbox
from mfakit.errors import ConfigurationError, MfaError
from mfakit.secretbox import KEY_SIZE, KeyRing, generate_key, generate_key_entry

B64_1 = base64.b64encode(KEY_1).decode()
B64_2 = base64.b64encode(KEY_2).decode()
B64_3 = base64.b64encode(KEY_3).decode()
URLSAFE_KEY = base64.urlsafe_b64encode(b"\xff" * 32).decode()
ALL_KEY_MATERIAL = (B64_1, B64_2, B64_3, KEY_1.hex(), KEY_2.hex(), repr(KEY_1), repr(KEY_2))


def _assert_no_key_material(text: str) -> None:
    for material in ALL_KEY_MATERIAL:
        # Even a fragment of a key must not show: check every 8-character window.
        for start in range(len(material) - 7):
            assert material[start : start + 8] not in text


def test_public_names_are_pinned() -> None:
    """mfakit.secretbox exports exactly these names."""
    assert mfakit.secretbox.__all__ == [
        "Envelope",
        "FORMAT_VERSION",
        "KEY_SIZE",
        "KeyRing",
        "MAX_PLAINTEXT_SIZE",
        "TOTP_SECRET_PURPOSE",
        "generate_key",
        "generate_key_entry",
        "parse_envelope",
    ]


def test_generate_key_is_32_random_bytes() -> None:
    """generate_key returns a fresh 32-byte key each time."""
    keys = {generate_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(key) == KEY_SIZE == 32 for key in keys)


def test_generate_key_entry_round_trips_through_config() -> None:
    """A generated entry is valid configuration text for its key id."""
    entry = generate_key_entry("2026-11.a")
    key_id, _, encoded = entry.partition(":")
    assert key_id == "2026-11.a"
    assert len(base64.b64decode(encoded, validate=True)) == 32
    ring = KeyRing.from_config(entry)
    stored = ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    assert ring.decrypt(stored, owner=OWNER, purpose=PURPOSE) == SECRET


@pytest.mark.parametrize("key_id", ["", "a b", "k:1", "-k", "x" * 33, "ké", 5])
def test_generate_key_entry_refuses_bad_key_ids(key_id: object) -> None:
    """generate_key_entry validates the key id."""
    with pytest.raises(ConfigurationError, match="key id"):
        generate_key_entry(key_id)  # type: ignore[arg-type]


def test_first_text_entry_is_current() -> None:
    """In configuration text the first entry is the current key."""
    ring = KeyRing.from_config(f"k2:{B64_2},k1:{B64_1}")
    assert ring.current_key_id == "k2"
    assert ring.key_ids == ("k2", "k1")


def test_text_current_can_be_overridden() -> None:
    """current= picks another entry of the text as current."""
    ring = KeyRing.from_config(f"k2:{B64_2},k1:{B64_1}", current="k1")
    assert ring.current_key_id == "k1"


def test_text_may_span_lines() -> None:
    """Whitespace and newlines around entries are ignored."""
    ring = KeyRing.from_config(f"\n  k2:{B64_2},\n  k1:{B64_1}\n")
    assert ring.key_ids == ("k2", "k1")


def test_config_keys_are_the_real_keys() -> None:
    """A ring from text decrypts what a ring from raw keys encrypted."""
    stored = KeyRing({"k1": KEY_1}, current="k1").encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    ring = KeyRing.from_config(f"k2:{B64_2},k1:{B64_1}")
    assert ring.decrypt(stored, owner=OWNER, purpose=PURPOSE) == SECRET


def test_mapping_config() -> None:
    """A mapping of key id to base64 key works with an explicit current key."""
    ring = KeyRing.from_config({"k1": B64_1, "k2": B64_2}, current="k2")
    assert ring.current_key_id == "k2"
    assert set(ring.key_ids) == {"k1", "k2"}


def test_mapping_config_requires_current() -> None:
    """A mapping has no meaningful order, so current= is required."""
    with pytest.raises(ConfigurationError, match="current="):
        KeyRing.from_config({"k1": B64_1})


BAD_TEXT = [
    ("", "empty"),
    ("   \n", "empty"),
    (f"k1:{B64_1},", "entry 2 is empty"),
    (f"k1:{B64_1},,k2:{B64_2}", "entry 2 is empty"),
    (f"k1 {B64_1}", "entry 1 has no ':'"),
    (B64_1, "entry 1 has no ':'"),
    (f"{B64_1}:k1", "entry 1: a key id"),
    (f"k 1:{B64_1}", "entry 1: a key id"),
    (f"-k:{B64_1}", "entry 1: a key id"),
    (f"{'k' * 33}:{B64_1}", "entry 1: a key id"),
    (f"ké:{B64_1}", "entry 1: a key id"),
    (f":{B64_1}", "entry 1: a key id"),
    ("k1:", "'k1' is empty"),
    (f"k1:{B64_1},k1:{B64_2}", "'k1' appears twice"),
    (f"k1:{B64_1[:-1]}", "'k1' is not valid base64"),
    (f"k1:{B64_1[:20]}!{B64_1[21:]}", "'k1' is not valid base64"),
    (f"k1:{B64_1[:20]} {B64_1[20:]}", "'k1' is not valid base64"),
    (f"k1:{B64_1[:20]}é{B64_1[21:]}", "'k1' is not valid base64"),
    (f"k1:{URLSAFE_KEY}", "'k1' is not valid base64"),
    (f"k1:{B64_1[:-2]}B=", "'k1' is not canonical"),
    (f"k1:{base64.b64encode(KEY_1[:16]).decode()}", "'k1' is 16 bytes; 32 are required"),
    (f"k1:{base64.b64encode(KEY_1 + b'x').decode()}", "'k1' is 33 bytes; 32 are required"),
    (f"k1:{B64_1},k2:{B64_1}", "'k1' and 'k2' are identical"),
]


@pytest.mark.parametrize(("text", "message"), BAD_TEXT)
def test_bad_config_text_is_refused_without_leaking(text: str, message: str) -> None:
    """Each mistake is a ConfigurationError that names it and shows no key material."""
    with pytest.raises(ConfigurationError) as info:
        KeyRing.from_config(text)
    assert message in str(info.value)
    _assert_no_key_material(str(info.value) + repr(info.value))


def test_unknown_current_in_text_is_refused() -> None:
    """current= must name one of the configured keys."""
    with pytest.raises(ConfigurationError, match="current key id"):
        KeyRing.from_config(f"k1:{B64_1}", current="k9")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({}, "empty"),
        ({"k 1": B64_1}, "a key id"),
        ({"k1": KEY_1}, "'k1' must be base64 text"),
        ({"k1": B64_1[:-4]}, "'k1' is 30 bytes"),
        ({"k1": B64_1, "k2": B64_2}, "current key id"),
    ],
)
def test_bad_config_mapping_is_refused_without_leaking(
    mapping: dict[str, object], message: str
) -> None:
    """Mapping mistakes are ConfigurationErrors naming them, without key material."""
    with pytest.raises(ConfigurationError) as info:
        KeyRing.from_config(mapping, current="k9" if "current" in message else "k1")  # type: ignore[arg-type]
    assert message in str(info.value)
    _assert_no_key_material(str(info.value) + repr(info.value))


@pytest.mark.parametrize("config", [None, 42, B64_1.encode(), [("k1", B64_1)]])
def test_config_of_another_type_is_refused(config: object) -> None:
    """Configuration that is neither text nor a mapping is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="text or a mapping"):
        KeyRing.from_config(config)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        ({}, "k1", "at least one key"),
        ([("k1", KEY_1)], "k1", "must be a mapping"),
        ({"k1": KEY_1[:31]}, "k1", "'k1' is 31 bytes"),
        ({"k1": KEY_1 + b"\0"}, "k1", "'k1' is 33 bytes"),
        ({"k1": B64_1}, "k1", "'k1' must be bytes"),
        ({"k1": KEY_1, "k2": bytearray(KEY_1)}, "k1", "'k1' and 'k2' are identical"),
        ({"bad id": KEY_1}, "bad id", "a key id"),
        ({"k1": KEY_1}, "k2", "current key id"),
        ({"k1": KEY_1}, None, "current key id"),
    ],
)
def test_constructor_validation(keys: object, current: object, message: str) -> None:
    """The constructor refuses every invalid ring with a ConfigurationError, no key material."""
    with pytest.raises(ConfigurationError) as info:
        KeyRing(keys, current=current)  # type: ignore[arg-type]
    assert message in str(info.value)
    _assert_no_key_material(str(info.value) + repr(info.value))


def test_constructor_accepts_bytes_like_keys() -> None:
    """Keys may be bytearray or memoryview; the ring keeps its own copy."""
    mutable = bytearray(KEY_1)
    ring = KeyRing({"k1": mutable, "k2": memoryview(KEY_2)}, current="k1")
    stored = ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    mutable[:] = bytes(32)
    assert ring.decrypt(stored, owner=OWNER, purpose=PURPOSE) == SECRET


def test_repr_shows_ids_not_keys() -> None:
    """repr names the key ids and the current one, and no key material."""
    ring = KeyRing.from_config(f"k2:{B64_2},k1:{B64_1}")
    assert repr(ring) == "KeyRing(current='k2', key_ids=('k2', 'k1'))"
    _assert_no_key_material(repr(ring) + str(ring))


def test_ring_keeps_no_raw_key_bytes() -> None:
    """The ring keeps prepared ciphers, not raw key bytes, and takes no new attributes."""
    ring = KeyRing({"k1": KEY_1}, current="k1")
    assert not hasattr(ring, "__dict__")
    for name in type(ring).__slots__:
        value = getattr(ring, name)
        held = list(value.values()) if isinstance(value, dict) else [value]
        assert KEY_1 not in held


@settings(max_examples=300)
@given(
    text=st.text(
        alphabet=st.sampled_from("k12:,= \n+/AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyé"),
        max_size=120,
    )
)
def test_random_config_text_is_refused_cleanly(text: str) -> None:
    """Random configuration text builds a ring or raises ConfigurationError, nothing else."""
    try:
        ring = KeyRing.from_config(text)
    except ConfigurationError:
        return
    assert ring.current_key_id in ring.key_ids


@settings(max_examples=100)
@given(text=st.text(max_size=80))
def test_arbitrary_text_is_refused_cleanly(text: str) -> None:
    """Arbitrary Unicode configuration text only ever raises ConfigurationError."""
    with pytest.raises(ConfigurationError):
        KeyRing.from_config(text)


def test_errors_are_mfa_errors() -> None:
    """Configuration failures are MfaErrors and ValueErrors, as the error tree says."""
    with pytest.raises(MfaError):
        KeyRing.from_config("")
    with pytest.raises(ValueError, match="empty"):
        KeyRing.from_config("")


def test_released_memoryview_key_is_refused() -> None:
    """A released memoryview as a key is a ConfigurationError."""
    view = memoryview(KEY_1)
    view.release()
    with pytest.raises(ConfigurationError, match="'k1' must be bytes"):
        KeyRing({"k1": view}, current="k1")


def test_ring_cannot_be_pickled() -> None:
    """Pickling a ring (which would write its keys out) is refused with a clear TypeError."""
    import pickle

    ring = KeyRing({"k1": KEY_1}, current="k1")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(ring)


def test_copies_share_the_immutable_ring() -> None:
    """copy and deepcopy return the ring itself, which is immutable."""
    import copy

    ring = KeyRing({"k1": KEY_1}, current="k1")
    assert copy.copy(ring) is ring
    assert copy.deepcopy(ring) is ring


def test_ring_attributes_cannot_be_added() -> None:
    """The ring has fixed slots: no attribute can be attached to it by mistake."""
    ring = KeyRing({"k1": KEY_1}, current="k1")
    with pytest.raises(AttributeError):
        ring.extra = 1  # type: ignore[attr-defined]
