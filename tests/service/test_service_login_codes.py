"""IAM member sign-in with an emailed code: no enumeration, expiry, attempts, single use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from service_helpers import enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    AttemptsExhaustedError,
    ConfigurationError,
    ExpiredCodeError,
    InvalidCodeError,
    PolicyDeniedError,
    ReplayedCodeError,
    ThrottledError,
)
from mfakit.policy import ComplianceStatus, ObligationKind, gradual_rollout, reference_console
from mfakit.repositories import MfaStore
from mfakit.service import InMemoryOutbox, LoginCode, MfaService
from mfakit.service._login_codes import _subject

ORG = "acme"


@pytest.fixture
def org(service: MfaService, clock: FrozenClock) -> str:
    """An organization with the IAM member 'iam-1' (username 'jane') and 'iam-2' ('john')."""
    enroll_totp(service, clock, "owner")
    service.create_organization(ORG, name="Acme", owner_id="owner")
    service.add_member(ORG, "iam-1", username="jane")
    service.add_member(ORG, "iam-2", username="john")
    return ORG


def _code(service: MfaService, outbox: InMemoryOutbox, user_id: str) -> str:
    """The last code mailed to ``user_id`` (login codes go out through the outbox worker)."""
    service.deliver_notifications()
    return outbox.of_type(LoginCode, user_id=user_id)[-1].code


def test_code_signs_member_in(service: MfaService, org: str, outbox: InMemoryOutbox) -> None:
    """The emailed code signs the member in once; the first login is flagged."""
    service.send_login_code(org, "jane")
    service.deliver_notifications()
    message = outbox.of_type(LoginCode, user_id="iam-1")[0]
    assert message.code not in repr(message)
    result = service.verify_login_code(org, "jane", message.code)
    assert (result.user_id, result.first_login, result.second_factor) == ("iam-1", True, ())
    with pytest.raises(ReplayedCodeError):
        service.verify_login_code(org, "jane", message.code)


def test_unknown_username_same_answer(
    service: MfaService, org: str, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """An unknown username gets the same answer and the same cool-down; nothing is sent."""
    known = service.send_login_code(org, "jane")
    unknown = service.send_login_code(org, "nobody")
    unknown_org = service.send_login_code("no-such-org", "jane")
    assert known == unknown == unknown_org
    assert service.deliver_notifications().dropped == 2
    assert len(outbox.of_type(LoginCode)) == 1
    errors = []
    for name in ("jane", "nobody"):
        with pytest.raises(ThrottledError) as caught:
            service.send_login_code(org, name)
        errors.append((type(caught.value), caught.value.retry_after, str(caught.value)))
    assert errors[0] == errors[1]


def test_resend_after_cooldown(
    service: MfaService, org: str, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """After the cool-down a new code replaces the old one."""
    service.send_login_code(org, "jane")
    old = _code(service, outbox, "iam-1")
    clock.advance(service.settings.login_codes.resend_cooldown)
    service.send_login_code(org, "jane")
    new = _code(service, outbox, "iam-1")
    if old != new:
        with pytest.raises(InvalidCodeError):
            service.verify_login_code(org, "jane", old)
    assert service.verify_login_code(org, "jane", new).user_id == "iam-1"


def test_code_expires(
    service: MfaService, org: str, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A code is dead after its lifetime."""
    service.send_login_code(org, "jane")
    clock.advance(service.settings.login_codes.ttl)
    with pytest.raises(ExpiredCodeError):
        service.verify_login_code(org, "jane", _code(service, outbox, "iam-1"))


def test_attempt_limit(service: MfaService, org: str, outbox: InMemoryOutbox) -> None:
    """After the allowed wrong tries even the right code is refused."""
    service.send_login_code(org, "jane")
    good = _code(service, outbox, "iam-1")
    wrong = "000000" if good != "000000" else "111111"
    limit = service.settings.login_codes.max_attempts
    for left in range(limit - 1, 0, -1):
        with pytest.raises(InvalidCodeError) as caught:
            service.verify_login_code(org, "jane", wrong)
        assert caught.value.attempts_remaining == left
    with pytest.raises(AttemptsExhaustedError):
        service.verify_login_code(org, "jane", wrong)
    with pytest.raises(AttemptsExhaustedError):
        service.verify_login_code(org, "jane", good)


def test_code_of_one_user_cannot_sign_in_another(
    service: MfaService, org: str, outbox: InMemoryOutbox
) -> None:
    """Jane's code does not sign John in."""
    service.send_login_code(org, "jane")
    service.send_login_code(org, "john")
    jane = _code(service, outbox, "iam-1")
    if jane != _code(service, outbox, "iam-2"):
        with pytest.raises(InvalidCodeError):
            service.verify_login_code(org, "john", jane)
    with pytest.raises(InvalidCodeError):
        service.verify_login_code(org, "nobody", jane)


def test_no_code_sent_is_invalid(service: MfaService, org: str) -> None:
    """Verifying without any code sent is a plain invalid code."""
    with pytest.raises(InvalidCodeError):
        service.verify_login_code(org, "jane", "123456")


def test_bad_arguments(service: MfaService) -> None:
    """Empty names are configuration errors (from the app, not the user)."""
    with pytest.raises(ConfigurationError):
        service.send_login_code("", "jane")
    with pytest.raises(ConfigurationError):
        service.verify_login_code("acme", "", "1")


def test_first_login_starts_grace_under_enforcement(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """After the first login the organization's rules apply: enroll within the grace period."""
    enroll_totp(service, clock, "owner")
    service.create_organization(ORG, name="Acme", owner_id="owner", policy=gradual_rollout())
    service.enforce_mfa(ORG, actor_id="owner", confirmation="ENFORCE")
    clock.advance(timedelta(days=30))
    service.add_member(ORG, "iam-3", username="kim")
    clock.advance(timedelta(days=10))  # created long ago, first sign-in only now
    service.send_login_code(ORG, "kim")
    result = service.verify_login_code(ORG, "kim", _code(service, outbox, "iam-3"))
    assert result.first_login
    assert result.deadline == clock.now() + timedelta(days=7)
    assert result.obligations[0].kind is ObligationKind.ENROLL_BY
    assert service.member_compliance(ORG, "iam-3").status is ComplianceStatus.IN_GRACE
    clock.advance(service.settings.login_codes.resend_cooldown)
    service.send_login_code(ORG, "kim")
    again = service.verify_login_code(ORG, "kim", _code(service, outbox, "iam-3"))
    assert not again.first_login
    assert again.deadline == result.deadline


def test_locked_member_cannot_use_login_code(
    service: MfaService, org: str, outbox: InMemoryOutbox
) -> None:
    """A locked member's valid code is refused by the organization."""
    service.lock_member(org, "iam-1", actor_id="owner")
    service.send_login_code(org, "jane")
    with pytest.raises(PolicyDeniedError):
        service.verify_login_code(org, "jane", _code(service, outbox, "iam-1"))


def test_reference_policy_is_default(service: MfaService, store: MfaStore, org: str) -> None:
    """New organizations get the reference console's rules."""
    stored = store.get_organization(org)
    assert stored is not None
    from mfakit.service import decode_policy

    assert decode_policy(stored.policy) == reference_console()


def test_sweep_purges_codes_sent_to_unknown_usernames(
    service: MfaService, store: MfaStore, org: str, clock: FrozenClock
) -> None:
    """Codes stored for many unknown usernames are deleted by the sweep once they expired."""
    names = [f"ghost-{i}" for i in range(60)]
    for name in names:
        service.send_login_code(org, name)
    subjects = [_subject(org, name) for name in names]
    assert all(store.get_login_code(s) is not None for s in subjects)
    assert service.sweep().purged_login_codes == 0  # not expired yet: kept
    clock.advance(service.settings.login_codes.ttl)
    assert service.sweep().purged_login_codes == len(names)
    assert [s for s in subjects if store.get_login_code(s) is not None] == []


def test_sweep_keeps_a_live_code_working(
    service: MfaService, org: str, outbox: InMemoryOutbox
) -> None:
    """A sweep leaves an unexpired, unused code alone: the member still signs in with it."""
    service.send_login_code(org, "jane")
    assert service.sweep().purged_login_codes == 0
    assert (
        service.verify_login_code(org, "jane", _code(service, outbox, "iam-1")).user_id == "iam-1"
    )


def test_sweep_purges_a_used_code(
    service: MfaService, store: MfaStore, org: str, outbox: InMemoryOutbox
) -> None:
    """A used code is deleted by the next sweep; replaying it still fails."""
    service.send_login_code(org, "jane")
    code = _code(service, outbox, "iam-1")
    service.verify_login_code(org, "jane", code)
    assert service.sweep().purged_login_codes == 1
    assert store.get_login_code(_subject(org, "jane")) is None
    with pytest.raises(InvalidCodeError):
        service.verify_login_code(org, "jane", code)
