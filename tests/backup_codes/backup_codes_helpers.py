"""Helpers for the backup code tests (not a test module)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from _argon2_cffi_bindings import ffi

from mfakit import backup_codes

# The C entry points that run (or set up) an Argon2 computation.
_COMPUTING = ("argon2_hash", "argon2_verify", "argon2_ctx", "argon2_verify_ctx")


class CountingLib:
    """Wraps the argon2 cffi library and counts every Argon2 computation it runs."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.calls: Counter[str] = Counter()
        self.verified_hashes: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name not in _COMPUTING:
            return attr

        def counted(*args: Any) -> Any:
            self.calls[name] += 1
            if name == "argon2_verify":
                self.verified_hashes.append(ffi.string(args[0]))
            return attr(*args)

        return counted

    @property
    def total(self) -> int:
        """All Argon2 computations seen."""
        return sum(self.calls.values())

    def reset(self) -> None:
        """Forget what was counted so far."""
        self.calls.clear()
        self.verified_hashes.clear()


def mutate(code: str, position: int) -> str:
    """Return ``code`` (normalised) with one secret symbol changed."""
    alphabet = backup_codes.ALPHABET
    normal = backup_codes.normalize(code)
    assert normal is not None
    i = backup_codes.ID_LENGTH + position % backup_codes.SECRET_LENGTH
    new = alphabet[(alphabet.index(normal[i]) + 1) % len(alphabet)]
    return normal[:i] + new + normal[i + 1 :]
