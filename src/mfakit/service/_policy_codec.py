"""Storing an :class:`~mfakit.policy.OrgPolicy` in an organization record, and reading it back.

:attr:`mfakit.repositories.Organization.policy` is a JSON-able mapping. These
are thin wrappers over :meth:`OrgPolicy.to_json <mfakit.policy.OrgPolicy.to_json>`
and :meth:`OrgPolicy.from_json <mfakit.policy.OrgPolicy.from_json>`, kept as
the service's public names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mfakit.errors import ConfigurationError
from mfakit.policy import OrgPolicy

__all__ = ["decode_policy", "encode_policy"]


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
