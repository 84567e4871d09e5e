"""Storing an :class:`~mfakit.policy.OrgPolicy` in an organization record, and reading it back.

:attr:`mfakit.repositories.Organization.policy` is a JSON-able mapping. These
are thin wrappers over :meth:`OrgPolicy.to_json <mfakit.policy.OrgPolicy.to_json>`
and :meth:`OrgPolicy.from_json <mfakit.policy.OrgPolicy.from_json>`, kept as
the service's public names.
"""

from __future__ import annotations

import functools
import json
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


def _decode_text(text: str) -> OrgPolicy:
    """:func:`decode_policy` of the mapping a JSON text holds."""
    return decode_policy(json.loads(text))


class PolicyMemo:
    """The decoded policies of recently read organizations, reused while unchanged.

    Decoding a stored policy (:func:`decode_policy`, every field validated by
    :class:`~mfakit.policy.OrgPolicy`) is a pure function of the stored
    mapping, and costs more than the rest of a member's sign-in in Python.
    The memo writes the mapping as JSON text (which tells ``1``, ``1.0`` and
    ``true`` apart, as decoding does) and decodes that text, through a
    :func:`functools.lru_cache` keyed by it: the text alone decides the
    result, a read of the same text gets the same immutable policy, and any
    other text is decoded. So a changed policy is seen on the very next read,
    and no stored value is used without having been decoded.

    Thread-safe; holds at most ``size`` policies, dropping the least recently
    used. A mapping that is not JSON-able is decoded as it is and not kept.
    """

    __slots__ = ("_decode_text",)

    def __init__(self, size: int = 256) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError("size must be a positive int")
        self._decode_text = functools.lru_cache(maxsize=size)(_decode_text)

    def decode(self, stored: Mapping[str, Any]) -> OrgPolicy:
        """The policy stored as ``stored``, as :func:`decode_policy` gives it.

        Raises:
            MalformedDataError: as :func:`decode_policy` (nothing is kept then).
        """
        try:
            text = json.dumps(stored, separators=(",", ":"), default=_mapping_as_dict)
        except (TypeError, ValueError):
            return decode_policy(stored)  # refuses it, or decodes without keeping
        return self._decode_text(text)

    def __len__(self) -> int:
        """How many decoded policies are held."""
        return self._decode_text.cache_info().currsize
