"""The envelope format: its documented layout, and attacks on its bytes."""

from __future__ import annotations

import secrets

import pytest
from _secretbox_data import KEY_1, KEY_2, OWNER, PURPOSE, SECRET
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import DecryptionError, MalformedDataError, UnknownKeyError
from mfakit.secretbox import FORMAT_VERSION, MAX_PLAINTEXT_SIZE, KeyRing, parse_envelope

# Every way decrypting hostile bytes may fail; nothing else may escape.
REFUSALS = (MalformedDataError, DecryptionError)


def _documented_ad(key_id: str, owner: str, purpose: str) -> bytes:
    """The associated data exactly as the guide and the Envelope docstring spell it."""
    header = bytes([1, len(key_id)]) + key_id.encode("ascii")
    owner_bytes = owner.encode("utf-8")
    return (
        header
        + len(owner_bytes).to_bytes(2, "big")
        + owner_bytes
        + len(purpose).to_bytes(2, "big")
        + purpose.encode("ascii")
    )


def test_layout_matches_the_documentation(envelope: bytes) -> None:
    """Our envelope, cut at the documented offsets, decrypts with plain AES-GCM."""
    assert envelope[0] == FORMAT_VERSION == 1
    assert envelope[1] == 2
    assert envelope[2:4] == b"k1"
    nonce, sealed = envelope[4:16], envelope[16:]
    assert len(sealed) == len(SECRET) + 16
    oracle = AESGCM(KEY_1).decrypt(nonce, sealed, _documented_ad("k1", OWNER, PURPOSE))
    assert oracle == SECRET


def test_hand_built_envelope_decrypts(ring: KeyRing) -> None:
    """An envelope built by hand from the documentation is accepted."""
    nonce = secrets.token_bytes(12)
    owner = "zoë"
    sealed = AESGCM(KEY_1).encrypt(nonce, SECRET, _documented_ad("k1", owner, PURPOSE))
    built = b"\x01\x02k1" + nonce + sealed
    assert ring.decrypt(built, owner=owner, purpose=PURPOSE) == SECRET


def test_header_is_authenticated(ring: KeyRing) -> None:
    """An envelope whose AD leaves out the header (a naive design) is refused."""
    nonce = secrets.token_bytes(12)
    ad_without_header = _documented_ad("k1", OWNER, PURPOSE)[4:]
    built = b"\x01\x02k1" + nonce + AESGCM(KEY_1).encrypt(nonce, SECRET, ad_without_header)
    with pytest.raises(DecryptionError):
        ring.decrypt(built, owner=OWNER, purpose=PURPOSE)


def test_relabelled_key_id_fails() -> None:
    """Renaming the key id fails even where the new id holds the very same key."""
    stored = KeyRing({"ka": KEY_1}, current="ka").encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    relabelled = stored[:2] + b"kb" + stored[4:]
    with pytest.raises(DecryptionError) as info:
        KeyRing({"kb": KEY_1}, current="kb").decrypt(relabelled, owner=OWNER, purpose=PURPOSE)
    assert info.value.key_id == "kb"


def test_every_byte_position_is_tamper_evident(ring: KeyRing, envelope: bytes) -> None:
    """Changing any single byte, in any way tried, makes decryption fail."""
    for position in range(len(envelope)):
        for mask in (0x01, 0x80, 0xFF):
            tampered = bytearray(envelope)
            tampered[position] ^= mask
            with pytest.raises(REFUSALS):
                ring.decrypt(bytes(tampered), owner=OWNER, purpose=PURPOSE)


def test_tampered_body_is_a_decryption_error(ring: KeyRing, envelope: bytes) -> None:
    """A changed nonce, ciphertext or tag byte is a DecryptionError naming the key."""
    for position in range(4, len(envelope)):
        tampered = bytearray(envelope)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionError) as info:
            ring.decrypt(bytes(tampered), owner=OWNER, purpose=PURPOSE)
        assert type(info.value) is DecryptionError
        assert info.value.key_id == "k1"


def test_every_truncation_fails(ring: KeyRing, envelope: bytes) -> None:
    """Every proper prefix of an envelope is refused."""
    for length in range(len(envelope)):
        with pytest.raises(REFUSALS):
            ring.decrypt(envelope[:length], owner=OWNER, purpose=PURPOSE)


def test_short_input_is_malformed(ring: KeyRing, envelope: bytes) -> None:
    """Input too short to hold a header, nonce and tag is a MalformedDataError."""
    for length in (0, 1, 2, 3, 4, 4 + 12 + 15):
        with pytest.raises(MalformedDataError, match="truncated"):
            ring.decrypt(envelope[:length], owner=OWNER, purpose=PURPOSE)


def test_appended_bytes_fail(ring: KeyRing, envelope: bytes) -> None:
    """Bytes added after the tag make decryption fail."""
    with pytest.raises(DecryptionError):
        ring.decrypt(envelope + b"\0", owner=OWNER, purpose=PURPOSE)


@pytest.mark.parametrize("version", [0, 2, 0x7F, 0xFF])
def test_unknown_version_is_malformed(ring: KeyRing, envelope: bytes, version: int) -> None:
    """Any version byte but 1 is a MalformedDataError naming the version field."""
    with pytest.raises(MalformedDataError) as info:
        ring.decrypt(bytes([version]) + envelope[1:], owner=OWNER, purpose=PURPOSE)
    assert info.value.field == "version"


@pytest.mark.parametrize("length", [0, 33, 255])
def test_key_id_length_out_of_range_is_malformed(envelope: bytes, length: int) -> None:
    """A key-id length of 0 or above 32 is a MalformedDataError."""
    with pytest.raises(MalformedDataError) as info:
        parse_envelope(b"\x01" + bytes([length]) + envelope[2:] + b"\0" * 64)
    assert info.value.field == "key_id"


INVALID_KEY_IDS = [b"k 1", b"k:1", b"-k", b"k\xff", b"k\x00", b"\xc3\xa9"]


@pytest.mark.parametrize("key_id", INVALID_KEY_IDS)
def test_invalid_key_id_bytes_are_malformed(key_id: bytes) -> None:
    """Key ids outside the documented alphabet are a MalformedDataError."""
    data = b"\x01" + bytes([len(key_id)]) + key_id + b"\0" * 40
    with pytest.raises(MalformedDataError) as info:
        parse_envelope(data)
    assert info.value.field == "key_id"


@pytest.mark.parametrize("key_id", INVALID_KEY_IDS)
def test_decrypt_reports_invalid_key_id_as_malformed(ring: KeyRing, key_id: bytes) -> None:
    """decrypt calls an invalid key id malformed, not merely unknown."""
    data = b"\x01" + bytes([len(key_id)]) + key_id + b"\0" * 40
    with pytest.raises(MalformedDataError) as info:
        ring.decrypt(data, owner=OWNER, purpose=PURPOSE)
    assert info.value.field == "key_id"


def test_oversized_envelope_is_malformed(ring: KeyRing, envelope: bytes) -> None:
    """An envelope longer than the largest plaintext allows is refused unread."""
    oversized = envelope[:16] + b"\0" * (MAX_PLAINTEXT_SIZE + 17)
    with pytest.raises(MalformedDataError, match="too long"):
        ring.decrypt(oversized, owner=OWNER, purpose=PURPOSE)


@pytest.mark.parametrize("value", ["AQJrMQ==", None, 42, [1, 2, 3]])
def test_non_bytes_envelope_is_malformed(ring: KeyRing, value: object) -> None:
    """Text (for example base64 stored by mistake) or other objects are MalformedDataError."""
    with pytest.raises(MalformedDataError, match="must be bytes"):
        ring.decrypt(value, owner=OWNER, purpose=PURPOSE)  # type: ignore[arg-type]


def test_unknown_key_id(envelope: bytes) -> None:
    """An envelope under a key the ring does not hold is an UnknownKeyError naming it."""
    other = KeyRing({"k2": KEY_2}, current="k2")
    with pytest.raises(UnknownKeyError) as info:
        other.decrypt(envelope, owner=OWNER, purpose=PURPOSE)
    assert info.value.key_id == "k1"
    assert isinstance(info.value, DecryptionError)


def test_parse_envelope_fields(envelope: bytes) -> None:
    """parse_envelope splits the documented fields without decrypting."""
    parsed = parse_envelope(envelope)
    assert (parsed.version, parsed.key_id) == (1, "k1")
    assert parsed.header == b"\x01\x02k1"
    assert parsed.nonce == envelope[4:16]
    assert parsed.ciphertext == envelope[16:]
    assert parsed.plaintext_size == len(SECRET)


def test_envelope_repr_shows_no_bytes(envelope: bytes) -> None:
    """The parsed envelope's repr shows the version and key id only."""
    parsed = parse_envelope(envelope)
    assert repr(parsed) == "Envelope(version=1, key_id='k1')"


def test_nonces_are_unique(ring: KeyRing) -> None:
    """Twenty thousand encryptions under one key never repeat a nonce."""
    count = 20_000
    nonces = {
        parse_envelope(ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)).nonce
        for _ in range(count)
    }
    assert len(nonces) == count


@settings(max_examples=300)
@given(data=st.binary(max_size=120))
def test_random_bytes_are_refused(data: bytes) -> None:
    """Random bytes end in MalformedDataError or DecryptionError, never anything else."""
    ring = KeyRing({"k1": KEY_1}, current="k1")
    with pytest.raises(REFUSALS):
        ring.decrypt(data, owner=OWNER, purpose=PURPOSE)


@settings(max_examples=200)
@given(body=st.binary(min_size=28, max_size=120))
def test_random_body_under_a_known_key_is_refused(body: bytes) -> None:
    """A valid header followed by random bytes is a DecryptionError (forgery fails)."""
    ring = KeyRing({"k1": KEY_1}, current="k1")
    with pytest.raises(DecryptionError) as info:
        ring.decrypt(b"\x01\x02k1" + body, owner=OWNER, purpose=PURPOSE)
    assert info.value.key_id == "k1"


@settings(max_examples=200)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=51), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    ),
    cut=st.integers(min_value=0, max_value=60),
)
def test_mutated_envelopes_are_refused(edits: list[tuple[int, int]], cut: int) -> None:
    """Random byte edits and truncations of a real envelope fail unless they change nothing."""
    ring = KeyRing({"k1": KEY_1, "k2": KEY_2}, current="k1")
    original = ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    mutated = bytearray(original)
    for position, value in edits:
        mutated[position] = value
    candidate = bytes(mutated[:cut])
    if candidate == original:
        assert ring.decrypt(candidate, owner=OWNER, purpose=PURPOSE) == SECRET
    else:
        with pytest.raises(REFUSALS):
            ring.decrypt(candidate, owner=OWNER, purpose=PURPOSE)


@settings(max_examples=100)
@given(data=st.binary(max_size=80))
def test_needs_rotation_on_random_bytes(data: bytes) -> None:
    """needs_rotation answers a bool or raises MalformedDataError, nothing else."""
    ring = KeyRing({"k1": KEY_1}, current="k1")
    try:
        answer = ring.needs_rotation(data)
    except MalformedDataError:
        return
    assert isinstance(answer, bool)


@pytest.mark.parametrize(("key_id", "size"), [("k", 0), ("2026-11", 20), ("x" * 32, 100)])
def test_envelope_size_is_documented_overhead(key_id: str, size: int) -> None:
    """An envelope is 30 + key-id length + plaintext length bytes, as the guide says."""
    ring = KeyRing({key_id: KEY_1}, current=key_id)
    stored = ring.encrypt(b"s" * size, owner=OWNER, purpose=PURPOSE)
    assert len(stored) == 30 + len(key_id) + size


def test_released_memoryview_envelope_is_malformed(ring: KeyRing, envelope: bytes) -> None:
    """A released memoryview is a MalformedDataError."""
    view = memoryview(envelope)
    view.release()
    with pytest.raises(MalformedDataError, match="must be bytes"):
        ring.decrypt(view, owner=OWNER, purpose=PURPOSE)


@settings(max_examples=300)
@given(
    data=st.one_of(
        st.binary(max_size=100),
        st.binary(max_size=100).map(lambda b: b"\x01" + b),
        st.binary(min_size=30, max_size=100).map(lambda b: b"\x01\x02" + b),
    )
)
def test_parse_envelope_on_random_bytes(data: bytes) -> None:
    """parse_envelope returns fields that rebuild the input exactly, or MalformedDataError."""
    try:
        parsed = parse_envelope(data)
    except MalformedDataError:
        return
    assert parsed.header + parsed.nonce + parsed.ciphertext == data
    assert parsed.header == bytes([1, len(parsed.key_id)]) + parsed.key_id.encode("ascii")
    assert len(parsed.nonce) == 12
    assert parsed.plaintext_size >= 0
