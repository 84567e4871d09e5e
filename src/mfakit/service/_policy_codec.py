"""Storing an :class:`~mfakit.policy.OrgPolicy` in an organization record, and reading it back.

:attr:`mfakit.repositories.Organization.policy` is a JSON-able mapping. These
are thin wrappers over :meth:`OrgPolicy.to_json <mfakit.policy.OrgPolicy.to_json>`
and :meth:`OrgPolicy.from_json <mfakit.policy.OrgPolicy.from_json>`, kept as
the service's public names.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from mfakit.errors import ConfigurationError
from mfakit.policy import OrgPolicy

__all__ = ["PolicyMemo", "decode_policy", "encode_policy"]


def encode_policy(policy: OrgPolicy) -> dict[str, Any]:
    """Return ``policy`` as a JSON-able mapping for :attr:`Organization.policy`.

    Raises:
        ConfigurationError: ``policy`` is not an :class:`~mfakit.policy.OrgPolicy`.
    """
    if not isinstance(policy, OrgPolicy):
        raise ConfigurationError("policy must be an OrgPolicy")
    return policy.to_json()


def decode_policy(stored: Mapping[str, Any]) -> OrgPolicy:
    """Rebuild the :class:`~mfakit.policy.OrgPolicy` stored by :func:`encode_policy`.

    An empty mapping gives the default policy. Unknown keys are ignored, so a
    record written by a newer mfakit still loads.

    Raises:
        MalformedDataError: a stored value has the wrong type or is refused by
            :class:`~mfakit.policy.OrgPolicy`; ``field`` names it.
    """
    return OrgPolicy.from_json(stored)


def _mapping_as_dict(value: object) -> dict[str, Any]:
    """``json.dumps``'s fallback: a read-only mapping is written as the dict it is."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError("not JSON-able")


class PolicyMemo:
    """The decoded policies of recently read organizations, reused while unchanged.

    Decoding a stored policy (:func:`decode_policy`, every field validated by
    :class:`~mfakit.policy.OrgPolicy`) is a pure function of the stored
    mapping, and costs more than the rest of a member's sign-in in Python.
    The memo keeps the result under the mapping's JSON text (which tells
    ``1``, ``1.0`` and ``true`` apart, as decoding does): a read of the same
    text gets the same immutable policy; any other text decodes again through
    :func:`decode_policy`. So a changed policy is seen on the very next read,
    and no stored value is used without having been decoded.

    Thread-safe; holds at most ``size`` policies, dropping the least recently
    decoded. A mapping that is not JSON-able is decoded and not kept.
    """

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = 256) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError("size must be a positive int")
        self._size = size
        self._entries: dict[str, OrgPolicy] = {}
        self._lock = threading.Lock()

    def decode(self, stored: Mapping[str, Any]) -> OrgPolicy:
        """The policy stored as ``stored``, as :func:`decode_policy` gives it.

        Raises:
            MalformedDataError: as :func:`decode_policy` (nothing is kept then).
        """
        try:
            text = json.dumps(stored, separators=(",", ":"), default=_mapping_as_dict)
        except (TypeError, ValueError):
            return decode_policy(stored)  # refuses it, or decodes without keeping
        with self._lock:
            held = self._entries.get(text)
        if held is not None:
            return held
        policy = decode_policy(stored)
        with self._lock:
            self._entries.pop(text, None)
            self._entries[text] = policy
            while len(self._entries) > self._size:
                del self._entries[next(iter(self._entries))]
        return policy

    def __len__(self) -> int:
        """How many decoded policies are held."""
        return len(self._entries)
