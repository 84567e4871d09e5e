"""user_message: every MfaError in both languages, from structured attributes only."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mfakit import errors
from mfakit.errors import (
    AttemptsExhaustedError,
    InvalidCodeError,
    LimitReachedError,
    MfaError,
    PolicyDeniedError,
    StepUpRequiredError,
    ThrottledError,
    VerificationError,
)
from mfakit.i18n import Catalog, reason_message, user_message
from mfakit.policy import AuditAction, Decision, Outcome, Reason, ReasonCode, RuleId

REQUIRED_KWARGS: dict[str, dict[str, Any]] = {
    "CeremonyMismatchError": {"field": "origin"},
    "ThrottledError": {"retry_after": 3},
    "LimitReachedError": {"limit": 5},
    "StepUpRequiredError": {"action": "delete_method", "max_age": timedelta(minutes=5)},
    "UnknownCredentialError": {"signal_options": {"rpId": "x", "credentialId": "y"}},
}
SECRET = "SECRET-482913"


def _instances() -> list[MfaError]:
    found = []
    for name in errors.__all__:
        cls = getattr(errors, name)
        if inspect.isclass(cls) and issubclass(cls, MfaError):
            found.append(cls(SECRET, **REQUIRED_KWARGS.get(name, {})))
    return found


INSTANCES = _instances()
GENERIC = {
    "en": user_message(MfaError(), locale="en"),
    "fr": user_message(MfaError(), locale="fr"),
}


@pytest.mark.parametrize("error", INSTANCES, ids=lambda e: type(e).__name__)
def test_every_error_has_its_own_text_in_both_languages(error: MfaError) -> None:
    """Each error class gets a specific, translated text that never repeats its message."""
    english = user_message(error, locale="en")
    french = user_message(error, locale="fr-FR")
    assert english != french
    for text in (english, french):
        assert SECRET not in text
        assert "{" not in text
        assert not text.startswith("error.")
    if type(error) is not MfaError:
        assert english != GENERIC["en"]


def test_unknown_subclass_uses_nearest_ancestor() -> None:
    """A host's own error with an uncatalogued code gets its parent's text."""

    class HostError(VerificationError):
        code = "host_specific"

    assert user_message(HostError(), locale="fr") == user_message(VerificationError(), locale="fr")


def test_unknown_code_falls_back_to_generic_and_can_be_overridden() -> None:
    """An MfaError subclass with a new code gets the generic text, or the host's override."""

    class CustomError(MfaError):
        code = "custom_thing"

    assert user_message(CustomError(SECRET), locale="en") == GENERIC["en"]
    catalog = Catalog(overrides={"fr": {"error.custom_thing": "Chose personnalisée."}})
    assert user_message(CustomError(), locale="fr-CA", catalog=catalog) == "Chose personnalisée."


@pytest.mark.parametrize(
    ("retry_after", "english", "french"),
    [
        (0.2, "in 1 second.", "dans 1 seconde."),
        (1, "in 1 second.", "dans 1 seconde."),
        (1.01, "in 2 seconds.", "dans 2 secondes."),
        (59, "in 59 seconds.", "dans 59 secondes."),
        (119, "in 119 seconds.", "dans 119 secondes."),
        (119.5, "in 2 minutes.", "dans 2 minutes."),
        (120, "in 2 minutes.", "dans 2 minutes."),
        (3600, "in 60 minutes.", "dans 60 minutes."),
    ],
)
def test_throttled_plurals(retry_after: float, english: str, french: str) -> None:
    """retry_after is rounded up and said with the right plural form."""
    error = ThrottledError(retry_after=retry_after)
    assert user_message(error, locale="en").endswith(english)
    assert user_message(error, locale="fr").endswith(french)


@pytest.mark.parametrize("retry_after", [0, -5, float("nan"), float("inf")])
def test_throttled_without_a_usable_wait(retry_after: float) -> None:
    """A wait that is not a positive finite number says 'later'."""
    assert user_message(ThrottledError(retry_after=retry_after), locale="en").endswith("later.")


def test_attempts_remaining_plural() -> None:
    """Wrong-code messages count the attempts left, in each language's plural."""
    assert user_message(InvalidCodeError(attempts_remaining=1), locale="en").endswith(
        "1 attempt left."
    )
    assert user_message(InvalidCodeError(attempts_remaining=2), locale="fr").endswith("2 essais.")
    assert user_message(InvalidCodeError(), locale="en") == "That code is not valid."
    assert user_message(AttemptsExhaustedError(), locale="en").startswith("Too many wrong")


def test_limit_is_shown() -> None:
    """LimitReachedError says the configured maximum."""
    assert "(5)" in user_message(LimitReachedError(limit=5), locale="fr")


def _denied(code: ReasonCode, **params: Any) -> PolicyDeniedError:
    reason = Reason(code=code, rule=RuleId.LOCK_ACTIVE, message=SECRET, params=params)
    decision = Decision(
        action=AuditAction.LOGIN, outcome=Outcome.DENY, subject="u", reasons=(reason,)
    )
    return PolicyDeniedError(SECRET, decision=decision)


def test_policy_reason_text_with_lock_until_time() -> None:
    """A lock that ends by itself says when, with the host's date format."""
    until = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    error = _denied(ReasonCode.PRINCIPAL_LOCKED, unlock="time", unlock_at=until.isoformat())
    assert user_message(error, locale="en").endswith("Try again after 2025-03-01 09:30 UTC.")
    french = user_message(error, locale="fr", format_datetime=lambda d: d.strftime("%H h %M"))
    assert french.endswith("Réessayez après 09 h 30.")
    admin = _denied(ReasonCode.FAILED_ATTEMPTS_EXCEEDED, unlock="admin", unlock_at=None)
    assert "administrator" in user_message(admin, locale="en")


def test_policy_reason_without_text_is_generic() -> None:
    """A reason with a code mfakit does not know gives the generic policy text; so does none."""
    generic = user_message(PolicyDeniedError(), locale="en")
    assert user_message(_denied("host_rule"), locale="en") == generic  # type: ignore[arg-type]
    unreadable = _denied(ReasonCode.PRINCIPAL_LOCKED, unlock="time", unlock_at="soon")
    assert user_message(unreadable, locale="en") == user_message(
        _denied(ReasonCode.PRINCIPAL_LOCKED), locale="en"
    )


def test_step_up_is_not_read_as_a_policy_reason() -> None:
    """StepUpRequiredError keeps its own text even with a decision attached."""
    error = StepUpRequiredError(
        action="delete", max_age=timedelta(minutes=5), decision=_denied(ReasonCode.SOLE_OWNER)
    )
    assert user_message(error, locale="en").startswith("For your security")


def test_reason_message_is_the_refusal_text_of_any_reason() -> None:
    """reason_message explains any decision's reason, the same text a refusal gets."""
    until = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    reason = Reason(
        code=ReasonCode.PRINCIPAL_LOCKED,
        rule=RuleId.LOCK_ACTIVE,
        message=SECRET,
        params={"unlock": "time", "unlock_at": until.isoformat()},
    )
    french = reason_message(reason, locale="fr")
    assert french.endswith("Réessayez après 2025-03-01 09:30 UTC.")
    assert SECRET not in french
    error = PolicyDeniedError(
        SECRET,
        decision=Decision(
            action=AuditAction.LOGIN, outcome=Outcome.DENY, subject="u", reasons=(reason,)
        ),
    )
    assert user_message(error, locale="fr") == french
    generic = user_message(PolicyDeniedError(), locale="en")
    foreign = Reason(code="host_rule", rule=RuleId.LOCK_ACTIVE, message=SECRET)  # type: ignore[arg-type]
    assert reason_message(foreign, locale="en") == generic
