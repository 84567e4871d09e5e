"""Argon2id hashing of backup codes: named parameter profiles and the hasher."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from argon2 import Parameters, Type, extract_parameters, low_level
from argon2.exceptions import Argon2Error, InvalidHashError, VerifyMismatchError

from mfakit.errors import ConfigurationError, MalformedDataError

__all__ = [
    "CHEAP_FOR_TESTS",
    "PROFILES",
    "RFC_9106_LOW_MEMORY",
    "HashProfile",
    "Hasher",
]

# Argon2 version 1.3, the only one RFC 9106 specifies (Section 3.1, v = 0x13).
_ARGON2_VERSION = 19
# Upper bounds that keep a mistyped profile (or a tampered stored hash) from turning
# one login attempt into a denial of service of the whole server.
_MAX_MEMORY_KIB = 4 * 1024 * 1024  # 4 GiB
_MAX_TIME_COST = 100
_MAX_PARALLELISM = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class HashProfile:
    """A named set of Argon2id parameters.

    Args:
        name: A short stable name, e.g. ``"rfc9106-low-memory"``.
        time_cost: Number of passes over the memory (``t``).
        memory_cost: Memory in KiB (``m``).
        parallelism: Number of lanes (``p``).
        hash_len: Tag length in bytes.
        salt_len: Salt length in bytes.

    Raises:
        ConfigurationError: a parameter is out of range (the message names it).
    """

    name: str
    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError("name must be a non-empty string")
        _check_int("time_cost", self.time_cost, 1, _MAX_TIME_COST)
        _check_int("parallelism", self.parallelism, 1, _MAX_PARALLELISM)
        # Argon2 needs at least 8 KiB per lane (RFC 9106, Section 3.1).
        _check_int("memory_cost", self.memory_cost, 8 * self.parallelism, _MAX_MEMORY_KIB)
        _check_int("hash_len", self.hash_len, 4, 64)
        _check_int("salt_len", self.salt_len, 8, 64)

    @property
    def parameters(self) -> Parameters:
        """The profile as :class:`argon2.Parameters` (type Argon2id, version 1.3)."""
        return Parameters(
            type=Type.ID,
            version=_ARGON2_VERSION,
            salt_len=self.salt_len,
            hash_len=self.hash_len,
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
        )


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"{name} must be an integer from {low} to {high}")


#: RFC 9106, Section 4, SECOND RECOMMENDED option: Argon2id, t=3, p=4, m=2^16 KiB
#: (64 MiB), 128-bit salt, 256-bit tag. The default.
RFC_9106_LOW_MEMORY = HashProfile(
    name="rfc9106-low-memory",
    time_cost=3,
    memory_cost=2**16,
    parallelism=4,
    hash_len=32,
    salt_len=16,
)

#: The cheapest parameters Argon2 accepts. For test suites only: it offers no
#: protection against offline guessing.
CHEAP_FOR_TESTS = HashProfile(
    name="cheap-for-tests",
    time_cost=1,
    memory_cost=8,
    parallelism=1,
    hash_len=16,
    salt_len=16,
)

#: The built-in profiles by name.
PROFILES: Mapping[str, HashProfile] = MappingProxyType(
    {p.name: p for p in (RFC_9106_LOW_MEMORY, CHEAP_FOR_TESTS)}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hasher:
    """Hashes and checks backup codes with Argon2id under one :class:`HashProfile`.

    Build it once and reuse it. ``Hasher()`` uses :data:`RFC_9106_LOW_MEMORY`;
    tests use ``Hasher(profile=CHEAP_FOR_TESTS)``.

    Args:
        profile: The Argon2id parameters for new hashes (and the dummy hash).

    Raises:
        ConfigurationError: ``profile`` is not a :class:`HashProfile`.
    """

    profile: HashProfile = RFC_9106_LOW_MEMORY
    _params: Parameters = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.profile, HashProfile):
            raise ConfigurationError("profile must be a HashProfile")
        object.__setattr__(self, "_params", self.profile.parameters)

    @classmethod
    def from_profile_name(cls, name: str) -> Hasher:
        """Return a hasher for one of the built-in :data:`PROFILES`.

        Raises:
            ConfigurationError: no profile has that name.
        """
        try:
            return cls(profile=PROFILES[name])
        except (KeyError, TypeError) as exc:
            raise ConfigurationError("unknown hash profile name") from exc

    def needs_rehash(self, encoded: str) -> bool:
        """Whether ``encoded`` was made with other parameters than this hasher's profile.

        Raises:
            MalformedDataError: ``encoded`` is not an Argon2 hash string.
        """
        return parse_hash(encoded) != self._params

    def _hash(self, secret: bytes) -> str:
        """Return the PHC-encoded Argon2id hash of ``secret`` (one Argon2 computation)."""
        p = self._params
        try:
            encoded = low_level.hash_secret(
                secret,
                os.urandom(p.salt_len),
                time_cost=p.time_cost,
                memory_cost=p.memory_cost,
                parallelism=p.parallelism,
                hash_len=p.hash_len,
                type=p.type,
                version=p.version,
            )
        except Argon2Error as exc:
            # In practice a memory allocation failure: the profile is too big for this host.
            raise ConfigurationError(
                "Argon2 hashing failed; the profile may need more memory than is available"
            ) from exc
        return encoded.decode("ascii")

    def _dummy_hash(self, like: Parameters | None = None) -> str:
        """Return a well-formed hash that no input matches, with the given parameters.

        It costs no Argon2 computation to build: the salt and the tag are random
        bytes, so verifying against it runs Argon2 in full and then fails (the
        chance of a match is 2**-(8 * hash_len)).
        """
        p = like if like is not None else self._params
        salt = _b64(os.urandom(p.salt_len))
        tag = _b64(os.urandom(p.hash_len))
        return (
            f"$argon2id$v={p.version}$m={p.memory_cost},t={p.time_cost},p={p.parallelism}"
            f"${salt}${tag}"
        )

    @staticmethod
    def _verify(encoded: str, secret: bytes) -> bool:
        """Run exactly one Argon2 computation; True on a match, False otherwise.

        Raises:
            MalformedDataError: the stored hash cannot be used.
        """
        try:
            return low_level.verify_secret(encoded.encode("ascii"), secret, Type.ID)
        except VerifyMismatchError:
            return False
        except (Argon2Error, UnicodeEncodeError) as exc:
            raise MalformedDataError("a stored backup code hash is unusable", field="hash") from exc


def parse_hash(encoded: str) -> Parameters:
    """Read the parameters of a stored Argon2id hash (no Argon2 computation).

    Raises:
        MalformedDataError: not an Argon2id hash string, or parameters out of range.
    """
    if not isinstance(encoded, str):
        raise MalformedDataError("a backup code hash must be a string", field="hash")
    try:
        params = extract_parameters(encoded)
    except (InvalidHashError, ValueError) as exc:
        raise MalformedDataError("not an Argon2 hash string", field="hash") from exc
    if params.type is not Type.ID or params.version != _ARGON2_VERSION:
        raise MalformedDataError("only Argon2id version 1.3 hashes are accepted", field="hash")
    try:
        HashProfile(
            name="stored",
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
        )
    except ConfigurationError as exc:
        raise MalformedDataError("stored hash parameters are out of range", field="hash") from exc
    return params


def _b64(data: bytes) -> str:
    # The PHC string format uses unpadded standard base64.
    return base64.b64encode(data).decode("ascii").rstrip("=")
