"""The key ring: AES-256-GCM keys by id, one of them current, and its configuration text."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Mapping
from typing import NoReturn, SupportsIndex

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mfakit.errors import ConfigurationError, DecryptionError, UnknownKeyError
from mfakit.secretbox._envelope import (
    MAX_PLAINTEXT_SIZE,
    NONCE_SIZE,
    BytesLike,
    as_bytes,
    check_envelope_key_id,
    encode_context,
    make_header,
    split_envelope,
    validate_key_id,
)

#: Size of every key in a ring: AES-256.
KEY_SIZE = 32

#: The purpose under which stores keep TOTP secrets.
TOTP_SECRET_PURPOSE = "mfakit.totp-secret"  # noqa: S105 - a label, not a password


def generate_key() -> bytes:
    """Return a new random 32-byte AES-256 key from the operating system's CSPRNG.

    Example::

        key = generate_key()
        ring = KeyRing({"k1": key}, current="k1")
    """
    return secrets.token_bytes(KEY_SIZE)


def generate_key_entry(key_id: str) -> str:
    """Return a new key as one configuration entry, ``"<key_id>:<base64 key>"``.

    Add it to the configuration text (see :meth:`KeyRing.from_config`): after the
    current entry to distribute the key first, then in front to make it current,
    as the "Secrets at rest" guide explains. The result contains a secret key:
    print it only where the operator stores secrets.

    Args:
        key_id: The id of the new key (1 to 32 characters from ``A-Z a-z 0-9 . _ -``).

    Raises:
        ConfigurationError: ``key_id`` is not valid.
    """
    validate_key_id(key_id)
    return f"{key_id}:{base64.b64encode(generate_key()).decode('ascii')}"


class KeyRing:
    """AES-256-GCM keys by id, one of them current: encrypts and decrypts secrets at rest.

    Encryption always uses the current key; decryption uses whichever key the
    envelope names, so keys can be rotated without re-encrypting everything at
    once. Every call binds the ciphertext to an ``owner`` and a ``purpose``
    (both required keywords): decrypting with any other pair fails, so a secret
    copied to another user's record, or read for another use, is refused.

    Args:
        keys: Key id to 32-byte key. Key ids are 1 to 32 characters from
            ``A-Z a-z 0-9 . _ -``, starting with a letter or digit.
        current: The id of the key new ciphertexts are made with.

    Raises:
        ConfigurationError: No keys, a key id that is not valid, a key that is not
            32 bytes, the same key under two ids, or ``current`` not in ``keys``.

    Example::

        ring = KeyRing.from_config(os.environ["MFAKIT_SECRET_KEYS"])
        stored = ring.encrypt(totp_secret, owner=user_id, purpose=TOTP_SECRET_PURPOSE)
        secret = ring.decrypt(stored, owner=user_id, purpose=TOTP_SECRET_PURPOSE)
    """

    __slots__ = ("_by_header", "_ciphers", "_current", "_header")

    _ciphers: dict[str, AESGCM]
    # Envelope header -> (key id, cipher): one dict lookup finds the key of a
    # well-formed envelope without re-validating its key id.
    _by_header: dict[bytes, tuple[str, AESGCM]]
    _current: str
    _header: bytes  # the current key's envelope header

    def __init__(self, keys: Mapping[str, BytesLike], *, current: str) -> None:
        if not isinstance(keys, Mapping):
            raise ConfigurationError("keys must be a mapping of key id to 32-byte key")
        if not keys:
            raise ConfigurationError("a key ring needs at least one key")
        ciphers: dict[str, AESGCM] = {}
        seen: dict[bytes, str] = {}
        for key_id, key in keys.items():
            validate_key_id(key_id)
            material = as_bytes(key)
            if material is None:
                raise ConfigurationError(f"key {key_id!r} must be bytes")
            if len(material) != KEY_SIZE:
                raise ConfigurationError(
                    f"key {key_id!r} is {len(material)} bytes; {KEY_SIZE} are required"
                )
            # Two ids for one key would make rotating "away" from it a no-op.
            if material in seen:
                raise ConfigurationError(f"keys {seen[material]!r} and {key_id!r} are identical")
            seen[material] = key_id
            ciphers[key_id] = AESGCM(material)
        if not isinstance(current, str) or current not in ciphers:
            raise ConfigurationError("the current key id is not one of the ring's keys")
        self._ciphers = ciphers
        self._by_header = {make_header(kid): (kid, cipher) for kid, cipher in ciphers.items()}
        self._current = current
        self._header = make_header(current)

    @classmethod
    def from_config(cls, config: str | Mapping[str, str], *, current: str | None = None) -> KeyRing:
        """Build a key ring from configuration: text such as ``"k2:BASE64,k1:BASE64"`` or a mapping.

        Text is a comma-separated list of ``<key id>:<key>`` entries, where the key
        is 32 bytes in standard, padded base64 (what :func:`generate_key_entry`
        prints). Whitespace around entries is ignored, so the text may span lines.
        The first entry is the current key unless ``current`` says otherwise.

        A mapping goes from key id to base64 key; since it has no meaningful
        order, ``current`` is then required.

        Error messages name the entry position or key id, never key material.

        Args:
            config: The configuration text or mapping.
            current: The id of the current key; defaults to the first text entry.

        Raises:
            ConfigurationError: The configuration is empty, an entry is empty or has
                no ``:``, a key id is not valid or repeated, a key is not valid
                base64 or not 32 bytes, or the current key is missing.
        """
        if isinstance(config, str):
            entries = _parse_text(config)
        elif isinstance(config, Mapping):
            if current is None:
                raise ConfigurationError("a key mapping has no order: pass current=")
            entries = _parse_mapping(config)
        else:
            raise ConfigurationError("the key configuration must be text or a mapping")
        keys: dict[str, bytes] = {}
        for key_id, key in entries:
            if key_id in keys:
                raise ConfigurationError(f"key id {key_id!r} appears twice")
            keys[key_id] = key
        if current is None:
            current = next(iter(keys))
        return cls(keys, current=current)

    @property
    def current_key_id(self) -> str:
        """The id of the key that :meth:`encrypt` uses."""
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of every key in the ring, in the order they were given."""
        return tuple(self._ciphers)

    def encrypt(self, plaintext: BytesLike, *, owner: str, purpose: str) -> bytes:
        """Encrypt ``plaintext`` under the current key, bound to ``owner`` and ``purpose``.

        Args:
            plaintext: The secret, at most 65536 bytes.
            owner: Who the secret belongs to, e.g. the user id as a string
                (1 to 1024 bytes of UTF-8). Decryption needs the same value.
            purpose: What the secret is for, e.g. :data:`TOTP_SECRET_PURPOSE`
                (1 to 64 characters from ``A-Z a-z 0-9 . _ : / -``).

        Returns:
            The envelope to store (see :class:`Envelope` for its layout).

        Raises:
            ConfigurationError: ``plaintext`` is not bytes or too long, or ``owner``
                or ``purpose`` is not valid.
        """
        context = encode_context(owner, purpose)
        data = as_bytes(plaintext)
        if data is None:
            raise ConfigurationError("the plaintext must be bytes")
        if len(data) > MAX_PLAINTEXT_SIZE:
            raise ConfigurationError(f"the plaintext is longer than {MAX_PLAINTEXT_SIZE} bytes")
        return self._seal(data, context)

    def decrypt(self, ciphertext: BytesLike, *, owner: str, purpose: str) -> bytes:
        """Authenticate and decrypt an envelope made for ``owner`` and ``purpose``.

        Args:
            ciphertext: An envelope from :meth:`encrypt`, under any key of the ring.
            owner: The owner it was encrypted for.
            purpose: The purpose it was encrypted for.

        Returns:
            The plaintext.

        Raises:
            ConfigurationError: ``owner`` or ``purpose`` is not valid.
            MalformedDataError: The envelope is not bytes, truncated, too long, of
                an unknown version or with an invalid key id.
            UnknownKeyError: The envelope's key id is not in the ring.
            DecryptionError: Authentication failed: wrong key, tampered bytes, or a
                different owner or purpose. ``key_id`` names the envelope's key.
        """
        context = encode_context(owner, purpose)
        raw, header_size = split_envelope(ciphertext, check_key_id=False)
        return self._open(raw, header_size, context)[1]

    def needs_rotation(self, ciphertext: BytesLike) -> bool:
        """Whether an envelope is under a key other than the current one.

        Cheap: it reads the header only, without decrypting or authenticating.
        An envelope under a key the ring no longer holds also needs rotation
        (and :meth:`rotate` will raise :class:`~mfakit.errors.UnknownKeyError`).

        Raises:
            MalformedDataError: The envelope's structure is not valid.
        """
        raw, header_size = split_envelope(ciphertext)
        return raw[:header_size] != self._header

    def rotate(self, ciphertext: BytesLike, *, owner: str, purpose: str) -> bytes:
        """Re-encrypt an envelope under the current key, for the same owner and purpose.

        The envelope is always authenticated first. One already under the current
        key is returned unchanged, so comparing the result with the input tells
        whether the stored value must be written back.

        Raises:
            ConfigurationError, MalformedDataError, UnknownKeyError, DecryptionError:
                as for :meth:`decrypt`.
        """
        context = encode_context(owner, purpose)
        raw, header_size = split_envelope(ciphertext, check_key_id=False)
        key_id, plaintext = self._open(raw, header_size, context)
        if key_id == self._current:
            return raw
        return self._seal(plaintext, context)

    def __repr__(self) -> str:
        return f"KeyRing(current={self._current!r}, key_ids={self.key_ids!r})"

    # A ring is immutable, so copies can share it; pickling would write the keys
    # into whatever cache or queue receives the object, so it is refused outright.
    def __copy__(self) -> KeyRing:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> KeyRing:
        return self

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("a KeyRing holds secret keys and cannot be pickled")

    def _seal(self, plaintext: bytes, context: bytes) -> bytes:
        header = self._header
        # A random 96-bit nonce: NIST SP 800-38D section 8.3 allows 2**32 such
        # encryptions per key, far beyond any secret store between rotations.
        nonce = secrets.token_bytes(NONCE_SIZE)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext, header + context)
        return header + nonce + sealed

    def _open(self, raw: bytes, header_size: int, context: bytes) -> tuple[str, bytes]:
        """Authenticate and decrypt a structurally valid envelope; return its key id too."""
        header = raw[:header_size]
        found = self._by_header.get(header)
        if found is None:
            key_id = check_envelope_key_id(raw, header_size)
            raise UnknownKeyError(
                f"the ciphertext was made with key {key_id!r}, which is not in the ring",
                key_id=key_id,
            )
        key_id, cipher = found
        nonce_end = header_size + NONCE_SIZE
        try:
            plaintext = cipher.decrypt(
                raw[header_size:nonce_end], raw[nonce_end:], header + context
            )
        except InvalidTag as exc:
            raise DecryptionError(
                f"the ciphertext under key {key_id!r} failed authentication"
                " (wrong key, tampered data, or another owner or purpose)",
                key_id=key_id,
            ) from exc
        return key_id, plaintext


def _parse_text(config: str) -> Iterable[tuple[str, bytes]]:
    text = config.strip()
    if not text:
        raise ConfigurationError("the key configuration is empty")
    entries: list[tuple[str, bytes]] = []
    for position, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()  # noqa: PLW2901 - the stripped entry replaces the raw one
        if not entry:
            raise ConfigurationError(f"key configuration entry {position} is empty")
        key_id, separator, encoded = entry.partition(":")
        if not separator:
            raise ConfigurationError(
                f"key configuration entry {position} has no ':' between key id and key"
            )
        try:
            validate_key_id(key_id)
        except ConfigurationError as exc:
            raise ConfigurationError(f"key configuration entry {position}: {exc}") from None
        entries.append((key_id, _decode_key(key_id, encoded)))
    return entries


def _parse_mapping(config: Mapping[str, str]) -> Iterable[tuple[str, bytes]]:
    if not config:
        raise ConfigurationError("the key configuration is empty")
    entries: list[tuple[str, bytes]] = []
    for key_id, encoded in config.items():
        validate_key_id(key_id)
        if not isinstance(encoded, str):
            raise ConfigurationError(f"key {key_id!r} must be base64 text")
        entries.append((key_id, _decode_key(key_id, encoded)))
    return entries


def _decode_key(key_id: str, encoded: str) -> bytes:
    if not encoded:
        raise ConfigurationError(f"key {key_id!r} is empty")
    try:
        key = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ConfigurationError(f"key {key_id!r} is not valid base64") from None
    # Only the canonical spelling is accepted, so one key has one configuration text.
    if base64.b64encode(key).decode("ascii") != encoded:
        raise ConfigurationError(f"key {key_id!r} is not canonical padded base64")
    if len(key) != KEY_SIZE:
        raise ConfigurationError(f"key {key_id!r} is {len(key)} bytes; {KEY_SIZE} are required")
    return key
