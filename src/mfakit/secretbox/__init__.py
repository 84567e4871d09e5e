"""Secrets at rest: AES-256-GCM envelopes under a rotatable key ring.

Every store keeps TOTP keys (and any other secret it must be able to read back)
only as secret-box envelopes. A :class:`KeyRing` holds several 32-byte keys by
id, one of them current: it encrypts with the current key, decrypts with
whichever key an envelope names, and :meth:`~KeyRing.rotate` moves an envelope
to the current key.

Each envelope is bound to an ``owner`` and a ``purpose`` through the GCM
associated data. Both are required keyword arguments, so a secret copied to
another user's record, or read back for another use, fails to decrypt.

Failures are always :class:`~mfakit.errors.MfaError` subclasses, never garbage
output:

* :class:`~mfakit.errors.MalformedDataError` -- not an envelope (truncated,
  unknown version, invalid key id);
* :class:`~mfakit.errors.UnknownKeyError` -- made with a key the ring does not hold;
* :class:`~mfakit.errors.DecryptionError` -- wrong key, tampered bytes, or another
  owner or purpose.

Example::

    from mfakit.secretbox import TOTP_SECRET_PURPOSE, KeyRing

    ring = KeyRing.from_config("k2:<base64 key>,k1:<base64 key>")  # k2 is current
    stored = ring.encrypt(secret, owner="user-42", purpose=TOTP_SECRET_PURPOSE)
    assert ring.decrypt(stored, owner="user-42", purpose=TOTP_SECRET_PURPOSE) == secret
    if ring.needs_rotation(stored):
        stored = ring.rotate(stored, owner="user-42", purpose=TOTP_SECRET_PURPOSE)

The envelope format is described byte by byte in :class:`Envelope` and in the
"Secrets at rest" guide.
"""

from __future__ import annotations

from mfakit.secretbox._envelope import (
    FORMAT_VERSION,
    MAX_PLAINTEXT_SIZE,
    Envelope,
    parse_envelope,
)
from mfakit.secretbox._keyring import (
    KEY_SIZE,
    TOTP_SECRET_PURPOSE,
    KeyRing,
    generate_key,
    generate_key_entry,
)

# Plain sorted() order, as tests/test_public_api.py requires (ruff's RUF022 wants isort order).
__all__ = [
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
