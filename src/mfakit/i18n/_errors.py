"""An :class:`~mfakit.errors.MfaError` as a sentence for the user, in the user's locale."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mfakit.errors import InvalidCodeError, MfaError, PolicyDeniedError, ThrottledError
from mfakit.i18n._catalog import Catalog, default_catalog
from mfakit.i18n._reasons import POLICY_MESSAGE_IDS, reason_text
from mfakit.i18n._render import DateFormatter, utc_minutes

if TYPE_CHECKING:
    from mfakit.policy import Reason

__all__ = ["ERROR_MESSAGE_IDS", "POLICY_MESSAGE_IDS", "reason_message", "user_message"]

_CODES = (
    "mfa_error",
    "configuration_error",
    "invalid_name",
    "malformed_data",
    "verification_failed",
    "invalid_code",
    "attempts_exhausted",
    "replayed_code",
    "expired_code",
    "decryption_failed",
    "unknown_key",
    "invitation_address_mismatch",
    "webauthn_error",
    "ceremony_mismatch",
    "user_presence_required",
    "user_verification_required",
    "invalid_signature",
    "unsupported_algorithm",
    "unsupported_attestation",
    "invalid_attestation",
    "untrusted_attestation",
    "sign_count_regression",
    "unknown_credential",
    "passwordless_not_allowed",
    "throttled",
    "limit_reached",
    "policy_denied",
    "step_up_required",
    "session_revocation_failed",
    "store_error",
    "not_found",
    "duplicate",
)

#: The message id of each error code: ``error.<code>``. An error whose code is
#: not here (a host's own subclass) uses its nearest ancestor's.
ERROR_MESSAGE_IDS: Mapping[str, str] = {code: f"error.{code}" for code in _CODES}

#: Messages that need a number (plural forms) or a time.
THROTTLED_SECONDS = "error.throttled.seconds"
THROTTLED_MINUTES = "error.throttled.minutes"
ATTEMPTS_REMAINING = "error.invalid_code.attempts_remaining"

# Longer waits are said in minutes (rounded up), shorter ones in seconds.
_MINUTES_FROM = 120


def _throttled(error: ThrottledError) -> tuple[str, int | None]:
    wait = error.retry_after
    if not isinstance(wait, int | float) or not math.isfinite(wait) or wait <= 0:
        return ERROR_MESSAGE_IDS["throttled"], None
    seconds = max(1, math.ceil(wait))
    if seconds < _MINUTES_FROM:
        return THROTTLED_SECONDS, seconds
    return THROTTLED_MINUTES, math.ceil(seconds / 60)


def reason_message(
    reason: Reason,
    *,
    locale: str | None,
    catalog: Catalog | None = None,
    format_datetime: DateFormatter | None = None,
) -> str:
    """A policy :class:`~mfakit.policy.Reason` as a sentence for the user, in their locale.

    The text comes from the reason's :attr:`~mfakit.policy.Reason.code` and
    its ``params`` (never from its English ``message``, which is for logs).
    Every :class:`~mfakit.policy.ReasonCode` has a text ``policy.<code>``;
    where the params change the meaning or carry what the user needs to
    know, a variant ``policy.<code>.<name>`` says it: ``.until`` when a lock
    or an exemption ends (``{time}``), ``.deadline`` with the enrollment
    deadline, ``.lock``/``.remove``/``.block`` for the action a missed
    deadline brought, ``.count`` with a number (plural forms), ``.method``
    with a method kind's name, and so on (the translations guide lists them
    all). A reason whose params are missing or malformed gets the base text;
    one with a code mfakit does not know gets the generic
    ``error.policy_denied``.

    Example::

        decision = service.member_compliance(org_id, user_id)
        for reason in decision.reasons:
            print(reason_message(reason, locale="fr"))

    Args:
        reason: A reason from any policy decision.
        locale: The user's locale; ``None`` for the catalog's default.
        catalog: Where the texts come from; the shipped catalogs by default.
        format_datetime: Formats deadlines and times; the default is
            ``2025-03-01 09:30 UTC``.

    Returns:
        One or two sentences, ready to show.
    """
    catalog = catalog or default_catalog()
    chosen = reason_text(
        reason, catalog=catalog, locale=locale, formatter=format_datetime or utc_minutes
    )
    if chosen is None:
        return catalog.text(ERROR_MESSAGE_IDS["policy_denied"], locale=locale)
    return catalog.format(
        chosen.message_id, locale=locale, count=chosen.count, values=chosen.values
    )


def user_message(
    error: MfaError,
    *,
    locale: str | None,
    catalog: Catalog | None = None,
    format_datetime: DateFormatter | None = None,
) -> str:
    """What to tell the user about ``error``, in their locale.

    The text comes from the error's class (its :attr:`~mfakit.errors.MfaError.code`)
    and its log-safe attributes only, never from its message: ``retry_after``
    of a :class:`~mfakit.errors.ThrottledError` ("Try again in 3 seconds",
    with the language's plural forms), ``attempts_remaining`` of an
    :class:`~mfakit.errors.InvalidCodeError`, ``limit`` of a
    :class:`~mfakit.errors.LimitReachedError`, the first reason of a
    :class:`~mfakit.errors.PolicyDeniedError`'s decision (the text
    :func:`reason_message` gives it). An error whose code has no text (a host's own subclass)
    gets its nearest ancestor's, down to the generic ``error.mfa_error``.

    Example::

        except MfaError as exc:
            flash(user_message(exc, locale=user.locale))

    Args:
        error: Any mfakit error.
        locale: The user's locale; ``None`` for the catalog's default.
        catalog: Where the texts come from; the shipped catalogs by default.
            A host adds a text for its own error code with an override
            ``error.<code>``.
        format_datetime: Formats deadlines and times; the default is
            ``2025-03-01 09:30 UTC``.

    Returns:
        One or two sentences, ready to show.
    """
    catalog = catalog or default_catalog()
    formatter = format_datetime or utc_minutes
    values: dict[str, str] = {}
    message_id: str | None = None
    count: int | None = None
    if isinstance(error, ThrottledError):
        message_id, count = _throttled(error)
    elif isinstance(error, PolicyDeniedError) and type(error) is PolicyDeniedError:
        reasons = getattr(error.decision, "reasons", ())
        # The first reason is the refusing one; later ones only add context.
        chosen = (
            reason_text(reasons[0], catalog=catalog, locale=locale, formatter=formatter)
            if reasons
            else None
        )
        if chosen is not None:
            message_id, count = chosen.message_id, chosen.count
            values.update(chosen.values)
    elif isinstance(error, InvalidCodeError) and error.attempts_remaining:
        message_id, count = ATTEMPTS_REMAINING, error.attempts_remaining
    limit = getattr(error, "limit", None)
    if isinstance(limit, int):
        values["count"] = str(limit)
    if count is not None:
        values["count"] = str(count)
    if message_id is None:
        message_id = ERROR_MESSAGE_IDS["mfa_error"]
        for cls in type(error).__mro__:
            code = getattr(cls, "code", None)
            if isinstance(code, str) and catalog.find(f"error.{code}", locale=locale) is not None:
                message_id = f"error.{code}"
                break
    return catalog.format(message_id, locale=locale, count=count, values=values)
