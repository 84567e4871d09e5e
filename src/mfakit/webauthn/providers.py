"""Provider names: which password manager or platform holds a passkey, for display.

A registration's AAGUID names the authenticator *model* (or, for synced
passkeys, the provider: "Google Password Manager", "Apple Passwords"). It is
the authenticator's own claim: only an attestation that chains to a trust
anchor and FIDO metadata (MDS3) proves it. Most passkeys send no attestation,
so the community list of known provider AAGUIDs is the usual way to put a
name next to a passkey in an account's settings page.

* :class:`ProviderNames` is that list: an immutable mapping from AAGUID to
  :class:`Provider`. :meth:`ProviderNames.bundled` is the copy shipped with
  mfakit (names only); :meth:`ProviderNames.from_json` loads a newer copy,
  with or without icons, from the host.
* :func:`provider_name` picks the name for a verified registration: the
  metadata's description when the attestation was verified (``attested``),
  else the list's name (not attested), else ``None``.

The list is **for display only**. Nothing in it is verified: anyone can make
an authenticator claim any AAGUID. Never base a security decision on it.

The bundled data
----------------

* Source: the ``aaguid.json`` file of the community list
  https://github.com/passkeydeveloper/passkey-authenticator-aaguids
  (stored copy at commit ``05ab14246014c51fbeb2bfe063bee3424055ce27``),
  retrieved 2026-12-03 (:data:`BUNDLED_SOURCE`, :data:`BUNDLED_COMMIT`,
  :data:`BUNDLED_RETRIEVED`).
* Licence: the repository carries no licence file (:data:`BUNDLED_LICENCE`).
  What mfakit ships are facts (an identifier and the provider's name), not
  the list's icons or code.
* Only the names are shipped (49 providers, 3.8 kB); the icons are dropped.
  A host that wants icons loads a copy with them through
  :meth:`ProviderNames.from_json`.
* :data:`BUNDLED_SHA256` is the SHA-256 of the shipped file;
  :meth:`ProviderNames.bundled` refuses a file that does not match it.

The list's README says it will become an empty object (``{}``) when it is
retired; :meth:`ProviderNames.from_json` accepts that, and every lookup then
returns ``None``.

Example::

    from mfakit.webauthn.providers import ProviderNames

    names = ProviderNames.bundled()
    provider = names.lookup(stored.aaguid)  # 16 bytes, a UUID or its text
    label = provider.name if provider else "Passkey"

    # A newer copy, with icons, fetched and cached by the host:
    names = ProviderNames.from_json(Path("aaguid.json").read_bytes())
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING

from mfakit.errors import ConfigurationError, MalformedDataError

if TYPE_CHECKING:
    from ._registration import VerifiedRegistration

__all__ = [
    "BUNDLED_COMMIT",
    "BUNDLED_LICENCE",
    "BUNDLED_RETRIEVED",
    "BUNDLED_SHA256",
    "BUNDLED_SOURCE",
    "MAX_ICON_CHARS",
    "MAX_LIST_BYTES",
    "MAX_NAME_CHARS",
    "Provider",
    "ProviderName",
    "ProviderNames",
    "provider_name",
]

#: Where the bundled names come from.
BUNDLED_SOURCE = "https://github.com/passkeydeveloper/passkey-authenticator-aaguids"
#: The commit of ``aaguid.json`` the bundled names were taken from.
BUNDLED_COMMIT = "05ab14246014c51fbeb2bfe063bee3424055ce27"
#: When the bundled names were retrieved (ISO 8601).
BUNDLED_RETRIEVED = "2026-12-03"
#: The source's licence, as far as the repository states one.
BUNDLED_LICENCE = "none stated (the repository has no licence file); names only are shipped"
#: SHA-256 (hex) of the shipped ``provider_aaguids.json``.
BUNDLED_SHA256 = "dbf61e68b24247876b5818b21355bcce0178e8085e2ced213e19b2ec2a9d027c"

#: The longest provider name accepted, in characters.
MAX_NAME_CHARS = 128
#: The longest icon kept, in characters; a longer one is dropped.
MAX_ICON_CHARS = 100_000
#: The largest list :meth:`ProviderNames.from_json` reads.
MAX_LIST_BYTES = 16 * 1024 * 1024

_RESOURCE = "provider_aaguids.json"
_ZERO = uuid.UUID(int=0)
# Raster or SVG images only: no text/html, no remote URL, no other media.
_ICON = re.compile(r"data:image/(?:svg\+xml|png|jpeg|gif|webp);base64,([A-Za-z0-9+/]+={0,2})")


def _bad(message: str) -> MalformedDataError:
    return MalformedDataError(message, field="provider_names")


@dataclass(frozen=True, slots=True)
class Provider:
    """One entry of the list.

    Attributes:
        name: The provider's name ("Google Password Manager"): at most
            :data:`MAX_NAME_CHARS` characters, no control or format characters.
        icon_light: An icon for light backgrounds: a ``data:image/...;base64,``
            URI, or ``None`` (the bundled list has no icons).
        icon_dark: An icon for dark backgrounds, likewise.
    """

    name: str
    icon_light: str | None = field(default=None, repr=False)
    icon_dark: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ProviderName:
    """The name to show next to a passkey, and whether it is proven.

    Attributes:
        name: The provider or model name.
        attested: True when the name comes from FIDO metadata (MDS3) for an
            attestation that chained to a trust anchor; False when it comes
            from the community list, which takes the authenticator's word for
            its AAGUID. Show an unattested name as a hint ("probably ...") if
            the difference matters to your users.
    """

    name: str
    attested: bool


def _check_name(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{where}: name must be a string")
    if not value.strip():
        raise _bad(f"{where}: name is empty")
    if len(value) > MAX_NAME_CHARS:
        raise _bad(f"{where}: name is longer than {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in value):
        raise _bad(f"{where}: name contains a control or format character")
    return value


def _icon(value: object, where: str) -> str | None:
    """A ``data:image/...;base64,`` URI is kept; any other string is dropped."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{where}: an icon must be a string")
    if len(value) > MAX_ICON_CHARS:
        return None
    match = _ICON.fullmatch(value)
    if match is None:
        return None
    try:
        base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError):
        return None
    return value


def _aaguid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) != 16:
            raise MalformedDataError("an AAGUID is 16 bytes", field="aaguid")
        return uuid.UUID(bytes=raw)
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise MalformedDataError("not an AAGUID", field="aaguid") from None
    raise ConfigurationError("aaguid must be a UUID, 16 bytes or a UUID string")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _bad("a key appears twice")
        result[key] = value
    return result


class ProviderNames(Mapping[uuid.UUID, Provider]):
    """An immutable mapping from AAGUID to :class:`Provider`.

    Build it with :meth:`bundled` or :meth:`from_json`; pass it to
    :class:`~mfakit.service.ServiceSettings` (``provider_names``) or call
    :meth:`lookup` yourself.
    """

    __slots__ = ("_entries", "_hash")

    def __init__(self, entries: Mapping[uuid.UUID, Provider] | None = None) -> None:
        """Wrap ``entries`` (copied); keys must be UUIDs other than all zeros."""
        copied: dict[uuid.UUID, Provider] = {}
        for key, value in (entries or {}).items():
            if not isinstance(key, uuid.UUID) or not isinstance(value, Provider):
                raise ConfigurationError("ProviderNames maps uuid.UUID keys to Provider values")
            if key == _ZERO:
                raise ConfigurationError("the all-zero AAGUID names no provider")
            copied[key] = value
        self._entries: Mapping[uuid.UUID, Provider] = MappingProxyType(copied)
        self._hash: int | None = None

    @classmethod
    def bundled(cls) -> ProviderNames:
        """The names shipped with mfakit (loaded once, checksum verified).

        Raises:
            MalformedDataError: the shipped file does not match
                :data:`BUNDLED_SHA256` (the installation was altered).
        """
        return _bundled()

    @classmethod
    def from_json(cls, data: str | bytes) -> ProviderNames:
        """Load a copy of the list (``aaguid.json`` or ``combined_aaguid.json``).

        Strict about what it names: the document must be a JSON object whose
        keys are lowercase canonical UUIDs (not the all-zero one), each
        mapping to an object with a ``name`` (a non-empty string of at most
        :data:`MAX_NAME_CHARS` characters, no control or format characters).
        Other members are ignored. An empty object is a valid (retired) list.

        Lenient about icons, which are decoration: ``icon_light`` and
        ``icon_dark`` are kept only when they are ``data:image/...;base64,``
        URIs (SVG, PNG, JPEG, GIF or WebP, valid base64, at most
        :data:`MAX_ICON_CHARS` characters). Any other string (an ``https:``
        URL a browser would fetch, ``data:text/html``, ``javascript:``) is
        dropped and the name kept.

        Raises:
            MalformedDataError: the document breaks one of the rules above
                (the message names the rule and, for an entry, its AAGUID).
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, bytes | bytearray):
            raise ConfigurationError("from_json takes str or bytes")
        if len(data) > MAX_LIST_BYTES:
            raise _bad(f"the list is larger than {MAX_LIST_BYTES} bytes")
        try:
            document = json.loads(bytes(data), object_pairs_hook=_no_duplicates)
        except MalformedDataError:
            raise
        except (ValueError, RecursionError):
            raise _bad("the list is not valid JSON") from None
        if not isinstance(document, dict):
            raise _bad("the list must be a JSON object")
        entries: dict[uuid.UUID, Provider] = {}
        for key, value in document.items():
            try:
                aaguid = uuid.UUID(key)
            except ValueError:
                raise _bad("a key is not a UUID") from None
            if str(aaguid) != key:
                raise _bad(f"{aaguid}: keys must be lowercase canonical UUIDs")
            if aaguid == _ZERO:
                raise _bad("the all-zero AAGUID names no provider")
            if not isinstance(value, dict):
                raise _bad(f"{key}: the entry must be an object")
            if "name" not in value:
                raise _bad(f"{key}: the entry has no name")
            entries[aaguid] = Provider(
                name=_check_name(value["name"], key),
                icon_light=_icon(value.get("icon_light"), key),
                icon_dark=_icon(value.get("icon_dark"), key),
            )
        return cls(entries)

    def lookup(self, aaguid: uuid.UUID | bytes | str) -> Provider | None:
        """The provider for an AAGUID (a UUID, its 16 bytes or its text), or ``None``.

        The all-zero AAGUID (an authenticator that discloses nothing) is
        always ``None``.

        Raises:
            MalformedDataError: ``aaguid`` is bytes of the wrong length or text
                that is not a UUID.
        """
        key = _aaguid(aaguid)
        if key == _ZERO:
            return None
        return self._entries.get(key)

    def __getitem__(self, key: uuid.UUID) -> Provider:
        return self._entries[key]

    def __iter__(self) -> Iterator[uuid.UUID]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._entries.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProviderNames):
            return dict(self._entries) == dict(other._entries)
        return NotImplemented

    def __repr__(self) -> str:
        return f"ProviderNames({len(self._entries)} providers)"


@functools.cache
def _bundled() -> ProviderNames:
    data = resources.files("mfakit.webauthn").joinpath(_RESOURCE).read_bytes()
    if hashlib.sha256(data).hexdigest() != BUNDLED_SHA256:
        raise _bad("the bundled provider list does not match its checksum")
    return ProviderNames.from_json(data)


def provider_name(
    registration: VerifiedRegistration, names: ProviderNames | None
) -> ProviderName | None:
    """The name to show for a newly registered credential.

    1. When the attestation chained to a trust anchor and FIDO metadata
       describes the model (``registration.trusted`` and
       ``registration.authenticator_description``): that description,
       ``attested=True``.
    2. Else, when ``names`` knows the AAGUID: its name, ``attested=False``.
    3. Else ``None`` (also for the all-zero AAGUID).
    """
    description = registration.authenticator_description
    if registration.trusted and description is not None:
        try:
            return ProviderName(name=_check_name(description, "metadata"), attested=True)
        except MalformedDataError:
            pass  # a description unfit for display: fall back to the list
    if names is None:
        return None
    provider = names.lookup(registration.aaguid)
    return None if provider is None else ProviderName(name=provider.name, attested=False)
