"""The JSON form of :class:`~mfakit.policy.OrgPolicy`, for storing it and reading it back.

Durations are seconds (``int`` or ``float``), enums their values, sets sorted
lists, ``eligible_methods`` an object of lists, ``step_up_max_ages`` an object
of seconds by action name. Reading is strict about every
known field and names the one that is wrong; unknown keys are ignored so that a
policy written by a newer mfakit (with more fields) still loads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.policy._decision import to_json

__all__ = ["policy_from_json", "policy_to_json"]

_DURATIONS = frozenset(
    {
        "grace_existing",
        "grace_new_member",
        "grace_lost_method",
        "grace_after_unlock",
        "step_up_max_age",
    }
)
_OPTIONAL_DURATIONS = frozenset({"max_exemption", "failed_attempts_lockout"})
_SETS = frozenset({"scope", "step_up_actions"})
_BOOLS = frozenset(
    {
        "unlock_restarts_grace",
        "backup_codes_count",
        "invitations_require_mfa",
        "allow_exemptions",
        "stop_clears_grace",
        "stop_releases_locks",
        "passkey_sign_in_satisfies_mfa",
    }
)
_INTS = frozenset({"min_methods", "max_failed_attempts", "trusted_browser_days"})
_TEXTS = frozenset({"activation", "after_deadline", "last_method_removal", "manage_permission"})


def policy_to_json(policy: Any) -> dict[str, Any]:
    """Return the JSON form of an :class:`~mfakit.policy.OrgPolicy` (every public field)."""
    encoded: dict[str, Any] = to_json(policy)
    return encoded


def _seconds(name: str, value: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedDataError(f"{name} must be a number of seconds", field=name)
    try:
        return timedelta(seconds=value)
    except (OverflowError, ValueError) as exc:
        raise MalformedDataError(f"{name} is out of range", field=name) from exc


def _strings(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedDataError(f"{name} must be a list of strings", field=name)
    return value


def _field(name: str, value: Any) -> Any:
    """Convert one known field from its JSON form, checking its JSON type."""
    if name in _DURATIONS or (name in _OPTIONAL_DURATIONS and value is not None):
        return _seconds(name, value)
    if name in _OPTIONAL_DURATIONS:
        return None
    if name == "reminder_offsets":
        if not isinstance(value, list):
            raise MalformedDataError(f"{name} must be a list of seconds", field=name)
        return tuple(_seconds(name, v) for v in value)
    if name in _SETS:
        return frozenset(_strings(name, value))
    if name == "step_up_max_ages":
        if not isinstance(value, Mapping):
            raise MalformedDataError(f"{name} must be an object of seconds", field=name)
        return {str(k): _seconds(name, v) for k, v in value.items()}
    if name == "eligible_methods":
        if not isinstance(value, Mapping):
            raise MalformedDataError(f"{name} must be an object of lists", field=name)
        return {str(k): frozenset(_strings(name, v)) for k, v in value.items()}
    if name in _BOOLS and not isinstance(value, bool):
        raise MalformedDataError(f"{name} must be true or false", field=name)
    if name in _INTS and (isinstance(value, bool) or not isinstance(value, int)):
        raise MalformedDataError(f"{name} must be an integer", field=name)
    if name in _TEXTS and not isinstance(value, str):
        raise MalformedDataError(f"{name} must be a string", field=name)
    return value


def policy_from_json(cls: Any, data: Any) -> Any:
    """Build ``cls`` (:class:`~mfakit.policy.OrgPolicy`) from its JSON form.

    Raises:
        MalformedDataError: ``data`` is not a mapping (``field="policy"``), or a
            field has the wrong JSON type or a value the policy refuses
            (``field`` names it; ``"policy"`` when only a combination is wrong).
    """
    if not isinstance(data, Mapping):
        raise MalformedDataError("a policy must be a JSON object", field="policy")
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs = {name: _field(name, value) for name, value in data.items() if name in names}
    try:
        return cls(**kwargs)
    except ConfigurationError as exc:
        for name, value in kwargs.items():
            try:
                cls(**{name: value})
            except ConfigurationError:
                raise MalformedDataError(f"{name} is not valid", field=name) from exc
        # Every field is valid alone but the combination is refused. No rule of
        # OrgPolicy spans fields today; this keeps a future one a MalformedDataError.
        raise MalformedDataError(  # pragma: no cover
            "the policy's fields do not fit together", field="policy"
        ) from exc
