"""Which text explains a policy reason: ``policy.<code>``, or a variant its params select.

Every :class:`~mfakit.policy.ReasonCode` has a text ``policy.<code>`` that
needs no parameter. Where the reason's params change what it means (an
action taken after a missed deadline, a lock that ends by itself) or add
what the user needs to know (a deadline, a count), a variant
``policy.<code>.<name>`` says it; :data:`_VARIANTS` lists them, and the
first one whose conditions hold and whose params are all usable wins. A
reason whose params are missing or malformed (a hand-built or foreign
reason) gets the base text, never a half-filled one.

The placeholders and where their values come from:

* ``{deadline}``: the MFA enrollment deadline, an ISO 8601 param, formatted;
* ``{time}``: any other moment (when a lock or an exemption ends, since when
  enforcement runs), formatted the same way;
* ``{count}``: a non-negative whole number; the text has plural forms;
* ``{method}``, ``{methods}``: method kinds, by their ``method.<kind>`` names;
* ``{phrase}``: the confirmation phrase to type, as it is.

A reason's English ``message`` is for logs and is never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mfakit.i18n._catalog import Catalog
from mfakit.i18n._notifications import METHOD_MESSAGE_IDS
from mfakit.i18n._render import DateFormatter
from mfakit.policy import PostDeadlineAction, PrincipalStatus, ReasonCode

__all__ = [
    "PLURAL_POLICY_IDS",
    "POLICY_MESSAGE_IDS",
    "POLICY_VARIANT_IDS",
    "ReasonText",
    "reason_text",
]

_POLICY_CODES = tuple(code.value for code in ReasonCode)

#: The message id of each policy reason code: ``policy.<code>``, a text that
#: needs no parameter. Variants ``policy.<code>.<name>`` are selected by params.
POLICY_MESSAGE_IDS: Mapping[str, str] = {code: f"policy.{code}" for code in _POLICY_CODES}

# What a param must be for a variant to apply: one of these values.
_Allowed = tuple[str | bool, ...]


@dataclass(frozen=True, slots=True)
class _Variant:
    """The text ``policy.<code>.<name>``, for reasons whose params fit it."""

    name: str
    # (param, allowed values): each param must hold one of its values.
    when: tuple[tuple[str, _Allowed], ...] = ()
    # (placeholder, param): each placeholder is filled from its param, which must be usable.
    fills: tuple[tuple[str, str], ...] = ()


def _variant(name: str, *, when: Mapping[str, _Allowed] | None = None, **fills: str) -> _Variant:
    return _Variant(name, tuple((when or {}).items()), tuple(fills.items()))


_LOCK = PostDeadlineAction.LOCK.value
_BLOCK = PostDeadlineAction.BLOCK.value
_REMOVE = PostDeadlineAction.REMOVE.value
_ANY_ACTION: _Allowed = tuple(a.value for a in PostDeadlineAction)
_UNTIL = _variant("until", time="unlock_at")
_DEADLINE = _variant("deadline", deadline="deadline")
_COUNT = _variant("count", count="count")
# Stopping enforcement either clears grace periods (or releases locks), saying
# how many, or keeps them, as the ``policy`` param says.
_STOP_OUTCOME = (
    _variant("count", when={"policy": (True,)}, count="count"),
    _variant("kept", when={"policy": (False,)}),
)

# The variants of each code, tried in order; the base text applies when none does.
_VARIANTS: Mapping[str, tuple[_Variant, ...]] = {
    ReasonCode.CONFIRMATION_REQUIRED: (_variant("phrase", phrase="phrase"),),
    ReasonCode.CONFIRMATION_MISMATCH: (_variant("phrase", phrase="phrase"),),
    ReasonCode.RECENTLY_VERIFIED: (_variant("until", time="valid_until"),),
    ReasonCode.PRINCIPAL_LOCKED: (_UNTIL,),
    ReasonCode.FAILED_ATTEMPTS_EXCEEDED: (_UNTIL,),
    ReasonCode.EXEMPT: (_variant("until", time="until"),),
    ReasonCode.IN_GRACE: (_DEADLINE,),
    # The status of an overdue principal, or the action taken because of it.
    ReasonCode.DEADLINE_PASSED: (
        _variant("block", when={"action": (_BLOCK,)}, deadline="deadline"),
        _variant("lock", when={"action": (_LOCK,)}, deadline="deadline"),
        _variant("remove", when={"action": (_REMOVE,)}, deadline="deadline"),
        _DEADLINE,
    ),
    ReasonCode.ALREADY_ENFORCED: (_variant("since", time="since"),),
    ReasonCode.PRINCIPALS_WITHOUT_MFA: (_COUNT,),
    # Enforcement starting for several users; a member who removed their last
    # method; anyone else (an invitee, an unlock, a reset, a revoked exemption).
    ReasonCode.GRACE_STARTED: (
        _variant("count", count="count", deadline="deadline"),
        _variant("last_method", when={"after_deadline": _ANY_ACTION}, deadline="deadline"),
        _DEADLINE,
    ),
    ReasonCode.GRACE_RESUMED: (_COUNT,),
    ReasonCode.OWNERS_NOTIFIED: (_COUNT,),
    # Without ``policy``: a new method ends the user's own grace period.
    ReasonCode.GRACE_CLEARED: _STOP_OUTCOME,
    ReasonCode.LOCKS_RELEASED: _STOP_OUTCOME,
    ReasonCode.NOT_INVITED: (_variant("active", when={"status": (PrincipalStatus.ACTIVE.value,)}),),
    ReasonCode.METHOD_KIND_NOT_ALLOWED: (_variant("allowed", method="kind", methods="allowed"),),
    ReasonCode.DUPLICATE_LABEL: (_variant("method", method="kind"),),
    ReasonCode.METHOD_ADDED: (_variant("method", method="kind"),),
    ReasonCode.OTHER_METHODS_REMAIN: (_variant("count", count="remaining"),),
    ReasonCode.LAST_METHOD_WARNING: (
        _variant("overdue", when={"overdue": (True,)}, deadline="deadline"),
        _DEADLINE,
    ),
    ReasonCode.STILL_OVERDUE: (_DEADLINE,),
    ReasonCode.REMINDER_DUE: (_DEADLINE,),
    ReasonCode.ACCOUNT_SHARED: (_COUNT,),
    ReasonCode.MFA_RESET: (_COUNT,),
    ReasonCode.EXEMPTION_TOO_LONG: (_variant("latest", time="latest"),),
    ReasonCode.EXEMPTION_GRANTED: (_variant("until", time="until"),),
}

#: Every variant id, ``policy.<code>.<name>``.
POLICY_VARIANT_IDS: frozenset[str] = frozenset(
    f"{POLICY_MESSAGE_IDS[code]}.{v.name}" for code, variants in _VARIANTS.items() for v in variants
)

#: The variants that say a number: they have plural forms.
PLURAL_POLICY_IDS: frozenset[str] = frozenset(
    f"{POLICY_MESSAGE_IDS[code]}.{v.name}"
    for code, variants in _VARIANTS.items()
    for v in variants
    if any(placeholder == "count" for placeholder, _ in v.fills)
)


@dataclass(frozen=True, slots=True)
class ReasonText:
    """The text chosen for a reason: its id, the placeholders' values, the plural count."""

    message_id: str
    values: Mapping[str, str]
    count: int | None


def _matches(value: object, allowed: _Allowed) -> bool:
    for option in allowed:
        if isinstance(option, bool):
            if value is option:
                return True
        elif isinstance(value, str) and value == option:
            return True
    return False


def _kind_name(value: object, catalog: Catalog, locale: str | None) -> str | None:
    message_id = METHOD_MESSAGE_IDS.get(value) if isinstance(value, str) else None
    return None if message_id is None else catalog.text(message_id, locale=locale)


def _value(
    placeholder: str, value: object, catalog: Catalog, locale: str | None, fmt: DateFormatter
) -> str | None:
    """A placeholder's text from a param, or ``None`` if the param is missing or unusable."""
    if placeholder in ("time", "deadline"):
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return None
        return fmt(value) if isinstance(value, datetime) else None
    if placeholder == "count":
        usable = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return str(value) if usable else None
    if placeholder == "method":
        return _kind_name(value, catalog, locale)
    if placeholder == "methods":
        kinds = value if isinstance(value, list | tuple) else ()
        names = [n for n in (_kind_name(v, catalog, locale) for v in kinds) if n is not None]
        return ", ".join(names) if names and len(names) == len(kinds) else None
    return value if isinstance(value, str) and value.strip() else None


def reason_text(
    reason: object, *, catalog: Catalog, locale: str | None, formatter: DateFormatter
) -> ReasonText | None:
    """The text of a policy reason and its values; ``None`` for a code without a text."""
    code = str(getattr(reason, "code", ""))
    base = POLICY_MESSAGE_IDS.get(code)
    if base is None:
        return None
    params = getattr(reason, "params", None)
    if not isinstance(params, Mapping):
        params = {}
    for variant in _VARIANTS.get(code, ()):
        if not all(_matches(params.get(name), allowed) for name, allowed in variant.when):
            continue
        values: dict[str, str] = {}
        for placeholder, name in variant.fills:
            value = _value(placeholder, params.get(name), catalog, locale, formatter)
            if value is None:
                break
            values[placeholder] = value
        else:
            count = int(values["count"]) if "count" in values else None
            return ReasonText(f"{base}.{variant.name}", values, count)
    return ReasonText(base, {}, None)
