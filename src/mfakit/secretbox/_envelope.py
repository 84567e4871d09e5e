"""The secret-box envelope, format version 1, and the associated data it is bound to.

Layout of an envelope (all lengths in bytes)::

    offset       size  field
    0            1     version: 0x01
    1            1     L: length of the key id, 1 to 32
    2            L     key id: ASCII letters, digits, ".", "_", "-" (first: letter or digit)
    2+L          12    nonce: random, never reused with the same key
    14+L         n+16  AES-256-GCM ciphertext of the n-byte plaintext, then the 16-byte tag

The first ``2+L`` bytes are the *header*. The GCM associated data is the header
followed by the caller's context, each part length-prefixed so that no two
different contexts encode to the same bytes::

    header || u16be(len(owner)) || owner (UTF-8) || u16be(len(purpose)) || purpose (ASCII)

Putting the header in the associated data authenticates the version and key id:
changing either makes the tag check fail. The nonce needs no such treatment,
because GCM already derives the tag from it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from mfakit.errors import ConfigurationError, MalformedDataError

#: The envelope format version this module writes and reads.
FORMAT_VERSION = 1
#: Size of the random GCM nonce (96 bits, the size GCM is designed for).
NONCE_SIZE = 12
#: Size of the GCM authentication tag (128 bits, the full tag).
TAG_SIZE = 16
#: Longest key id, in characters (ASCII, so also in bytes).
KEY_ID_MAX_LENGTH = 32
#: Largest plaintext a secret box accepts: secrets at rest are small, and a bound
#: keeps a hostile ciphertext from making the decryptor allocate without limit.
MAX_PLAINTEXT_SIZE = 65536
#: Longest owner, in bytes of UTF-8.
OWNER_MAX_SIZE = 1024
#: Longest purpose, in characters.
PURPOSE_MAX_LENGTH = 64

BytesLike = bytes | bytearray | memoryview

#: Bytes before the key id: the version byte and the key-id length byte.
HEADER_PREFIX_SIZE = 2

# Key ids avoid ":" and "," (the configuration separators) and whitespace.
_KEY_ID_CHARS = "[A-Za-z0-9][A-Za-z0-9._-]*"
_KEY_ID_RE = re.compile(_KEY_ID_CHARS)
_KEY_ID_BYTES_RE = re.compile(_KEY_ID_CHARS.encode("ascii"))
_PURPOSE_RE = re.compile("[A-Za-z0-9][A-Za-z0-9._:/-]*")
_PURPOSE_RULE = (
    f"purpose must be 1 to {PURPOSE_MAX_LENGTH} characters from A-Z a-z 0-9 . _ : / -,"
    " starting with a letter or digit"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """A parsed secret-box envelope. Parsing does not decrypt or authenticate it.

    Layout of format version 1 (offsets and sizes in bytes, ``L`` the key-id
    length, ``n`` the plaintext length)::

        offset  size  field
        0       1     version: 0x01
        1       1     L: key-id length, 1 to 32
        2       L     key id: ASCII A-Z a-z 0-9 . _ - (first: letter or digit)
        2+L     12    nonce: random
        14+L    n     AES-256-GCM ciphertext
        14+L+n  16    GCM tag

    The first ``2+L`` bytes are the *header*. The GCM associated data is::

        header || u16be(len(owner)) || owner (UTF-8) || u16be(len(purpose)) || purpose (ASCII)

    so the version, the key id, the owner and the purpose are all authenticated.

    Attributes:
        version: The format version (always :data:`FORMAT_VERSION` once parsed).
        key_id: The id of the key the envelope claims to be encrypted with.
        header: The raw header bytes (version, key-id length, key id).
        nonce: The 12-byte GCM nonce.
        ciphertext: The GCM ciphertext followed by its 16-byte tag.
    """

    version: int
    key_id: str
    header: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)

    @property
    def plaintext_size(self) -> int:
        """The length of the plaintext inside, in bytes."""
        return len(self.ciphertext) - TAG_SIZE


def parse_envelope(data: BytesLike) -> Envelope:
    """Split an envelope into its fields, checking its structure only.

    Nothing is decrypted or authenticated: use this to read the key id (for
    example to count ciphertexts still under an old key), never to trust the
    contents. :meth:`KeyRing.decrypt <mfakit.secretbox.KeyRing.decrypt>` is the
    only way to the plaintext.

    Args:
        data: The envelope bytes, as stored.

    Returns:
        The parsed envelope.

    Raises:
        MalformedDataError: ``data`` is not bytes, is truncated or too long, has an
            unknown version, or a key id that is not valid.
    """
    raw, header_size = split_envelope(data, check_key_id=False)
    return Envelope(
        version=FORMAT_VERSION,
        key_id=check_envelope_key_id(raw, header_size),
        header=raw[:header_size],
        nonce=raw[header_size : header_size + NONCE_SIZE],
        ciphertext=raw[header_size + NONCE_SIZE :],
    )


def split_envelope(data: object, *, check_key_id: bool = True) -> tuple[bytes, int]:
    """Check an envelope's structure; return its bytes and the size of its header.

    The fast path of :func:`parse_envelope`, without building an :class:`Envelope`.
    A key ring passes ``check_key_id=False`` when it will look the header up among
    its own (valid) ones first and call :func:`check_key_id` only on a miss.
    """
    raw = as_bytes(data)
    if raw is None:
        raise MalformedDataError("a secret-box envelope must be bytes", field="envelope")
    size = len(raw)
    if size < HEADER_PREFIX_SIZE:
        raise MalformedDataError("the secret-box envelope is truncated", field="envelope")
    if raw[0] != FORMAT_VERSION:
        raise MalformedDataError(
            f"unsupported secret-box envelope version {raw[0]}", field="version"
        )
    id_length = raw[1]
    if not 1 <= id_length <= KEY_ID_MAX_LENGTH:
        raise MalformedDataError(
            f"the secret-box key id length {id_length} is outside 1-{KEY_ID_MAX_LENGTH}",
            field="key_id",
        )
    header_size = HEADER_PREFIX_SIZE + id_length
    if size < header_size + NONCE_SIZE + TAG_SIZE:
        raise MalformedDataError("the secret-box envelope is truncated", field="envelope")
    if size > header_size + NONCE_SIZE + MAX_PLAINTEXT_SIZE + TAG_SIZE:
        raise MalformedDataError("the secret-box envelope is too long", field="envelope")
    if check_key_id:
        check_envelope_key_id(raw, header_size)
    return raw, header_size


def check_envelope_key_id(raw: bytes, header_size: int) -> str:
    """Return the key id of a structurally checked envelope, or raise MalformedDataError."""
    if _KEY_ID_BYTES_RE.fullmatch(raw, HEADER_PREFIX_SIZE, header_size) is None:
        raise MalformedDataError("the secret-box key id is not valid", field="key_id")
    return raw[HEADER_PREFIX_SIZE:header_size].decode("ascii")


def as_bytes(value: object) -> bytes | None:
    """An immutable copy of a bytes-like value, or None if it is not one (or is released)."""
    if type(value) is bytes:  # the common case: no copy needed
        return value
    if not isinstance(value, bytes | bytearray | memoryview):
        return None
    try:
        return bytes(value)
    except ValueError:  # a released memoryview
        return None


def validate_key_id(key_id: object) -> str:
    """Return ``key_id`` if it is a valid key id, else raise ``ConfigurationError``.

    The message never repeats an invalid key id: a misplaced key could be in it.
    """
    if (
        not isinstance(key_id, str)
        or not 1 <= len(key_id) <= KEY_ID_MAX_LENGTH
        or not key_id.isascii()
        or _KEY_ID_RE.fullmatch(key_id) is None
    ):
        raise ConfigurationError(
            f"a key id must be 1 to {KEY_ID_MAX_LENGTH} characters from A-Z a-z 0-9 . _ -,"
            " starting with a letter or digit"
        )
    return key_id


def make_header(key_id: str) -> bytes:
    """The envelope header for an already validated key id."""
    encoded = key_id.encode("ascii")
    return bytes((FORMAT_VERSION, len(encoded))) + encoded


def encode_context(owner: object, purpose: object) -> bytes:
    """Encode the owner and purpose that follow the header in the associated data.

    Raises:
        ConfigurationError: ``owner`` or ``purpose`` is missing or not valid. These
            come from the host application's code, not from users.
    """
    if not isinstance(owner, str) or not owner:
        raise ConfigurationError("owner must be a non-empty string (for example the user id)")
    try:
        owner_bytes = owner.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError("owner must be encodable as UTF-8") from None
    if len(owner_bytes) > OWNER_MAX_SIZE:
        raise ConfigurationError(f"owner must be at most {OWNER_MAX_SIZE} bytes of UTF-8")
    if not isinstance(purpose, str):
        raise ConfigurationError(_PURPOSE_RULE)
    return len(owner_bytes).to_bytes(2, "big") + owner_bytes + _encode_purpose(purpose)


# Purposes are a handful of constants in the host's code: validate each once.
@functools.lru_cache(maxsize=64)
def _encode_purpose(purpose: str) -> bytes:
    if (
        not 1 <= len(purpose) <= PURPOSE_MAX_LENGTH
        or not purpose.isascii()
        or _PURPOSE_RE.fullmatch(purpose) is None
    ):
        raise ConfigurationError(_PURPOSE_RULE)
    return len(purpose).to_bytes(2, "big") + purpose.encode("ascii")
