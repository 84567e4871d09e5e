"""Storing an :class:`~mfakit.policy.OrgPolicy` in an organization record, and reading it back.

:attr:`mfakit.repositories.Organization.policy` is a JSON-able mapping. The
policy is written with :func:`mfakit.policy.to_json` (durations in seconds,
enums as their values, sets as sorted lists) and read back field by field, so a
stored policy survives any store and any mfakit upgrade that adds fields (absent
fields take their defaults).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.policy import OrgPolicy, to_json

__all__ = ["decode_policy", "encode_policy"]

_DURATIONS = frozenset(
    {
        "grace_existing",
        "grace_new_member",
        "grace_lost_method",
        "grace_after_unlock",
        "max_exemption",
        "step_up_max_age",
        "failed_attempts_lockout",
    }
)
_FIELDS = frozenset(f.name for f in dataclasses.fields(OrgPolicy) if f.init)


def encode_policy(policy: OrgPolicy) -> dict[str, Any]:
    """Return ``policy`` as a JSON-able mapping for :attr:`Organization.policy`.

    Raises:
        ConfigurationError: ``policy`` is not an :class:`~mfakit.policy.OrgPolicy`.
    """
    if not isinstance(policy, OrgPolicy):
        raise ConfigurationError("policy must be an OrgPolicy")
    encoded: dict[str, Any] = to_json(policy)
    return encoded


def _seconds(name: str, value: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedDataError("a stored duration must be a number of seconds", field=name)
    try:
        return timedelta(seconds=value)
    except (OverflowError, ValueError) as exc:
        raise MalformedDataError("a stored duration is out of range", field=name) from exc


def decode_policy(stored: Mapping[str, Any]) -> OrgPolicy:
    """Rebuild the :class:`~mfakit.policy.OrgPolicy` stored by :func:`encode_policy`.

    An empty mapping gives the default policy. Unknown keys are ignored, so a
    record written by a newer mfakit still loads.

    Raises:
        MalformedDataError: a stored value has the wrong type or is refused by
            :class:`~mfakit.policy.OrgPolicy` (``field`` names it when known).
    """
    if not isinstance(stored, Mapping):
        raise MalformedDataError("a stored policy must be a mapping", field="policy")
    kwargs: dict[str, Any] = {}
    for name, value in stored.items():
        if name not in _FIELDS:
            continue
        if name in _DURATIONS:
            kwargs[name] = None if value is None else _seconds(name, value)
        elif name == "reminder_offsets":
            if not isinstance(value, list | tuple):
                raise MalformedDataError("reminder_offsets must be a list", field=name)
            kwargs[name] = tuple(_seconds(name, v) for v in value)
        else:
            kwargs[name] = value
    try:
        return OrgPolicy(**kwargs)
    except (ConfigurationError, TypeError) as exc:
        raise MalformedDataError("the stored policy is not valid", field="policy") from exc
