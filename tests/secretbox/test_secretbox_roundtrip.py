"""Encrypt and decrypt: round trips, owner/purpose binding, argument validation."""

from __future__ import annotations

import inspect

import pytest
from _secretbox_data import KEY_1, KEY_2, OWNER, PURPOSE, SECRET

from mfakit.errors import ConfigurationError, DecryptionError
from mfakit.secretbox import MAX_PLAINTEXT_SIZE, KeyRing, parse_envelope


def test_round_trip(ring: KeyRing) -> None:
    """Decrypting with the same owner and purpose gives the plaintext back."""
    stored = ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    assert ring.decrypt(stored, owner=OWNER, purpose=PURPOSE) == SECRET


def test_ciphertext_does_not_contain_plaintext(envelope: bytes) -> None:
    """The stored bytes do not contain the secret."""
    assert SECRET not in envelope
    assert SECRET[:8] not in envelope


def test_empty_plaintext_round_trips(ring: KeyRing) -> None:
    """An empty plaintext is still authenticated and round-trips."""
    stored = ring.encrypt(b"", owner=OWNER, purpose=PURPOSE)
    assert ring.decrypt(stored, owner=OWNER, purpose=PURPOSE) == b""


def test_largest_plaintext_round_trips(ring: KeyRing) -> None:
    """A plaintext of exactly MAX_PLAINTEXT_SIZE bytes is accepted both ways."""
    big = bytes(range(256)) * (MAX_PLAINTEXT_SIZE // 256)
    assert len(big) == MAX_PLAINTEXT_SIZE
    stored = ring.encrypt(big, owner=OWNER, purpose=PURPOSE)
    assert ring.decrypt(stored, owner=OWNER, purpose=PURPOSE) == big


def test_plaintext_too_long_is_refused(ring: KeyRing) -> None:
    """A plaintext over MAX_PLAINTEXT_SIZE bytes is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="longer than"):
        ring.encrypt(b"\0" * (MAX_PLAINTEXT_SIZE + 1), owner=OWNER, purpose=PURPOSE)


@pytest.mark.parametrize("plaintext", ["text secret", None, 42, [1, 2]])
def test_plaintext_must_be_bytes(ring: KeyRing, plaintext: object) -> None:
    """A plaintext that is not bytes-like is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="must be bytes"):
        ring.encrypt(plaintext, owner=OWNER, purpose=PURPOSE)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_bytes_like_inputs_are_accepted(ring: KeyRing, kind: type) -> None:
    """bytearray and memoryview work for the plaintext and for the envelope."""
    stored = ring.encrypt(kind(SECRET), owner=OWNER, purpose=PURPOSE)
    assert isinstance(stored, bytes)
    assert ring.decrypt(kind(stored), owner=OWNER, purpose=PURPOSE) == SECRET


def test_encrypt_uses_the_current_key() -> None:
    """New envelopes name the current key, whatever the order of the mapping."""
    ring = KeyRing({"old": KEY_1, "new": KEY_2}, current="new")
    assert parse_envelope(ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)).key_id == "new"


def test_same_plaintext_encrypts_differently(ring: KeyRing) -> None:
    """Two encryptions of one secret differ (fresh nonce), so equal secrets are not visible."""
    first = ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    second = ring.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    assert first != second


def test_wrong_owner_fails(ring: KeyRing, envelope: bytes) -> None:
    """A secret copied to another user's row does not decrypt for that user."""
    with pytest.raises(DecryptionError) as info:
        ring.decrypt(envelope, owner="user-43", purpose=PURPOSE)
    assert info.value.key_id == "k1"


def test_wrong_purpose_fails(ring: KeyRing, envelope: bytes) -> None:
    """A secret stored for one purpose does not decrypt for another."""
    with pytest.raises(DecryptionError):
        ring.decrypt(envelope, owner=OWNER, purpose="mfakit.webhook-secret")


def test_owner_is_compared_exactly(ring: KeyRing, envelope: bytes) -> None:
    """Owners differing only by case or whitespace are different owners."""
    for other in (OWNER.upper(), f" {OWNER}", f"{OWNER} "):
        with pytest.raises(DecryptionError):
            ring.decrypt(envelope, owner=other, purpose=PURPOSE)


def test_owner_and_purpose_do_not_run_together(ring: KeyRing) -> None:
    """Moving characters between owner and purpose fails (the parts are length-prefixed)."""
    stored = ring.encrypt(SECRET, owner="user-4", purpose="2totp")
    with pytest.raises(DecryptionError):
        ring.decrypt(stored, owner="user-42", purpose="totp")


def test_owner_and_purpose_are_not_interchangeable(ring: KeyRing) -> None:
    """Swapping owner and purpose fails."""
    stored = ring.encrypt(SECRET, owner="alpha", purpose="beta")
    with pytest.raises(DecryptionError):
        ring.decrypt(stored, owner="beta", purpose="alpha")


def test_unicode_owner_round_trips(ring: KeyRing) -> None:
    """Owners are any non-empty text, encoded as UTF-8."""
    stored = ring.encrypt(SECRET, owner="zoë@example.org", purpose=PURPOSE)
    assert ring.decrypt(stored, owner="zoë@example.org", purpose=PURPOSE) == SECRET


def test_wrong_key_with_same_id_fails(envelope: bytes) -> None:
    """A ring whose 'k1' is another key refuses the envelope, naming the key id."""
    other = KeyRing({"k1": KEY_2}, current="k1")
    with pytest.raises(DecryptionError) as info:
        other.decrypt(envelope, owner=OWNER, purpose=PURPOSE)
    assert info.value.key_id == "k1"
    assert type(info.value) is DecryptionError


@pytest.mark.parametrize("method", ["encrypt", "decrypt", "rotate"])
def test_owner_and_purpose_are_required_keywords(method: str) -> None:
    """owner and purpose cannot be forgotten or passed by position."""
    params = inspect.signature(getattr(KeyRing, method)).parameters
    for name in ("owner", "purpose"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[name].default is inspect.Parameter.empty


def test_forgetting_the_context_is_an_error(ring: KeyRing) -> None:
    """Calling encrypt without owner and purpose does not encrypt anything."""
    with pytest.raises(TypeError):
        ring.encrypt(SECRET)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "owner",
    ["", 42, None, b"user-42", "x" * 1025, "é" * 513, "\ud800"],
    ids=["empty", "int", "none", "bytes", "too-long", "too-long-utf8", "surrogate"],
)
@pytest.mark.parametrize("method", ["encrypt", "decrypt", "rotate"])
def test_invalid_owner_is_a_configuration_error(
    ring: KeyRing, envelope: bytes, method: str, owner: object
) -> None:
    """An owner that is not 1 to 1024 bytes of UTF-8 text is refused before any work."""
    argument = SECRET if method == "encrypt" else envelope
    with pytest.raises(ConfigurationError, match="owner"):
        getattr(ring, method)(argument, owner=owner, purpose=PURPOSE)


def test_longest_owner_is_accepted(ring: KeyRing) -> None:
    """An owner of exactly 1024 bytes of UTF-8 is accepted."""
    owner = "é" * 512
    stored = ring.encrypt(SECRET, owner=owner, purpose=PURPOSE)
    assert ring.decrypt(stored, owner=owner, purpose=PURPOSE) == SECRET


@pytest.mark.parametrize(
    "purpose",
    ["", "totp secret", ".totp", "tötp", "p" * 65, None, 7],
    ids=["empty", "space", "leading-dot", "non-ascii", "too-long", "none", "int"],
)
@pytest.mark.parametrize("method", ["encrypt", "decrypt", "rotate"])
def test_invalid_purpose_is_a_configuration_error(
    ring: KeyRing, envelope: bytes, method: str, purpose: object
) -> None:
    """A purpose that is not a short identifier is refused before any work."""
    argument = SECRET if method == "encrypt" else envelope
    with pytest.raises(ConfigurationError, match="purpose"):
        getattr(ring, method)(argument, owner=OWNER, purpose=purpose)


def test_decryption_error_message_is_log_safe(ring: KeyRing, envelope: bytes) -> None:
    """The failure names the key id but neither the owner, the secret nor key material."""
    with pytest.raises(DecryptionError) as info:
        ring.decrypt(envelope, owner="someone-else", purpose=PURPOSE)
    text = str(info.value) + repr(info.value)
    assert "k1" in text
    for leak in ("someone-else", OWNER, SECRET.decode(), KEY_1.hex(), repr(KEY_1)):
        assert leak not in text


def test_released_memoryview_plaintext_is_refused(ring: KeyRing) -> None:
    """A released memoryview is a ConfigurationError, not a stray ValueError subclass."""
    view = memoryview(SECRET)
    view.release()
    with pytest.raises(ConfigurationError, match="must be bytes"):
        ring.encrypt(view, owner=OWNER, purpose=PURPOSE)
