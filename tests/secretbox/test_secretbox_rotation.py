"""Key rotation: old envelopes keep working, rotate moves them, retired keys are gone."""

from __future__ import annotations

import pytest
from _secretbox_data import KEY_1, KEY_2, OWNER, PURPOSE, SECRET

from mfakit.errors import DecryptionError, MalformedDataError, UnknownKeyError
from mfakit.secretbox import KeyRing, parse_envelope

OLD_RING = KeyRing({"k1": KEY_1}, current="k1")
# Step 1 of a rotation: the new key is added in front and becomes current.
NEW_RING = KeyRing({"k2": KEY_2, "k1": KEY_1}, current="k2")
# Last step: the old key is removed.
RETIRED_RING = KeyRing({"k2": KEY_2}, current="k2")


def _old_envelope() -> bytes:
    return OLD_RING.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)


def test_old_envelopes_decrypt_after_a_new_key_is_added() -> None:
    """Adding a new current key keeps every existing envelope readable."""
    assert NEW_RING.decrypt(_old_envelope(), owner=OWNER, purpose=PURPOSE) == SECRET


def test_needs_rotation_is_true_for_an_old_key() -> None:
    """An envelope under a non-current key needs rotation."""
    assert NEW_RING.needs_rotation(_old_envelope()) is True


def test_needs_rotation_is_false_for_the_current_key() -> None:
    """An envelope under the current key does not need rotation."""
    fresh = NEW_RING.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    assert NEW_RING.needs_rotation(fresh) is False


def test_needs_rotation_is_true_for_a_key_no_longer_held() -> None:
    """An envelope under a retired key is reported as needing rotation."""
    assert RETIRED_RING.needs_rotation(_old_envelope()) is True


def test_needs_rotation_refuses_garbage() -> None:
    """needs_rotation on bytes that are not an envelope is a MalformedDataError."""
    with pytest.raises(MalformedDataError):
        NEW_RING.needs_rotation(b"\x07garbage")


def test_rotate_moves_to_the_current_key() -> None:
    """rotate re-encrypts an old envelope under the current key, same plaintext."""
    rotated = NEW_RING.rotate(_old_envelope(), owner=OWNER, purpose=PURPOSE)
    assert parse_envelope(rotated).key_id == "k2"
    assert not NEW_RING.needs_rotation(rotated)
    assert NEW_RING.decrypt(rotated, owner=OWNER, purpose=PURPOSE) == SECRET


def test_rotated_envelope_survives_key_retirement() -> None:
    """After rotation the old key can be removed and the envelope still decrypts."""
    rotated = NEW_RING.rotate(_old_envelope(), owner=OWNER, purpose=PURPOSE)
    assert RETIRED_RING.decrypt(rotated, owner=OWNER, purpose=PURPOSE) == SECRET


def test_unrotated_envelope_fails_after_key_retirement() -> None:
    """An envelope never rotated is an UnknownKeyError once its key is removed."""
    with pytest.raises(UnknownKeyError) as info:
        RETIRED_RING.decrypt(_old_envelope(), owner=OWNER, purpose=PURPOSE)
    assert info.value.key_id == "k1"


def test_rotate_with_a_retired_key_is_an_unknown_key_error() -> None:
    """rotate cannot move an envelope whose key is gone."""
    with pytest.raises(UnknownKeyError):
        RETIRED_RING.rotate(_old_envelope(), owner=OWNER, purpose=PURPOSE)


def test_rotate_keeps_the_owner_binding() -> None:
    """A rotated envelope is still bound to its owner."""
    rotated = NEW_RING.rotate(_old_envelope(), owner=OWNER, purpose=PURPOSE)
    with pytest.raises(DecryptionError):
        NEW_RING.decrypt(rotated, owner="user-43", purpose=PURPOSE)


def test_rotate_checks_the_owner() -> None:
    """rotate refuses an envelope presented for the wrong owner (no laundering)."""
    with pytest.raises(DecryptionError):
        NEW_RING.rotate(_old_envelope(), owner="user-43", purpose=PURPOSE)


def test_rotate_leaves_a_current_envelope_unchanged() -> None:
    """An envelope already under the current key comes back byte for byte."""
    fresh = NEW_RING.encrypt(SECRET, owner=OWNER, purpose=PURPOSE)
    assert NEW_RING.rotate(fresh, owner=OWNER, purpose=PURPOSE) == fresh


def test_rotate_authenticates_a_current_envelope() -> None:
    """A tampered envelope under the current key is refused, not passed through."""
    tampered = bytearray(NEW_RING.encrypt(SECRET, owner=OWNER, purpose=PURPOSE))
    tampered[-1] ^= 0x01
    with pytest.raises(DecryptionError):
        NEW_RING.rotate(bytes(tampered), owner=OWNER, purpose=PURPOSE)


def test_rotate_refuses_a_tampered_old_envelope() -> None:
    """A tampered old envelope is refused instead of being re-encrypted."""
    tampered = bytearray(_old_envelope())
    tampered[20] ^= 0x01
    with pytest.raises(DecryptionError):
        NEW_RING.rotate(bytes(tampered), owner=OWNER, purpose=PURPOSE)


def test_documented_rotation_procedure() -> None:
    """The guide's steps, run on an SQLite table, leave every secret under the new key."""
    import sqlite3

    step1 = KeyRing({"old": KEY_1}, current="old")
    step2 = KeyRing({"old": KEY_1, "new": KEY_2}, current="old")
    step3 = KeyRing({"new": KEY_2, "old": KEY_1}, current="new")
    step6 = KeyRing({"new": KEY_2}, current="new")
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE mfa_totp (user_id INTEGER PRIMARY KEY, totp_secret BLOB)")
    secrets_by_user = {uid: bytes([uid]) * 20 for uid in range(1, 8)}
    for uid, secret in secrets_by_user.items():
        ring = step1 if uid < 5 else step3  # written before the rotation, or after step 3
        sealed = ring.encrypt(secret, owner=str(uid), purpose=PURPOSE)
        db.execute("INSERT INTO mfa_totp VALUES (?, ?)", (uid, sealed))
    # A server still on the step 2 configuration reads envelopes of either key.
    for uid, stored in db.execute("SELECT user_id, totp_secret FROM mfa_totp").fetchall():
        assert step2.decrypt(stored, owner=str(uid), purpose=PURPOSE) == secrets_by_user[uid]
    # Step 4: the re-encryption job, with compare-and-set writes.
    rows = db.execute("SELECT user_id, totp_secret FROM mfa_totp").fetchall()
    for uid, stored in rows:
        if not step3.needs_rotation(stored):
            continue
        rotated = step3.rotate(stored, owner=str(uid), purpose=PURPOSE)
        db.execute(
            "UPDATE mfa_totp SET totp_secret = ? WHERE user_id = ? AND totp_secret = ?",
            (rotated, uid, stored),
        )
    # Step 5: nothing is left under the old key.
    stored_all = [s for (s,) in db.execute("SELECT totp_secret FROM mfa_totp")]
    assert sum(parse_envelope(s).key_id == "old" for s in stored_all) == 0
    # Step 6: with the old key retired, every secret still decrypts.
    for uid, stored in db.execute("SELECT user_id, totp_secret FROM mfa_totp").fetchall():
        assert step6.decrypt(stored, owner=str(uid), purpose=PURPOSE) == secrets_by_user[uid]
