"""The reference console's documented journeys, in order, end to end on each store.

DESIGN.md lists them: set up TOTP by scanning or typing the key, confirm with a
6-digit code, save backup codes; update or delete TOTP (typed DELETE); add named
passkeys, list and delete them; log in with password + TOTP, passkey or a backup
code; an owner enforces MFA (typed ENFORCE) only when everyone has MFA, else
sends reminders; invitees set up MFA before joining; a member who deletes their
only method under enforcement has a grace period, then is locked; stopping
enforcement (typed STOP) notifies the owners; an IAM member's first login is
organization + username + emailed code, after which the organization's rules apply.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from service_helpers import app_for

from mfakit.clock import FrozenClock
from mfakit.errors import PolicyDeniedError, ReplayedCodeError
from mfakit.policy import ComplianceStatus, MethodKind, ObligationKind, ReasonCode
from mfakit.repositories import MfaStore
from mfakit.service import (
    AccountLocked,
    EnforcementStopped,
    InMemoryOutbox,
    LoginCode,
    MfaReminder,
    MfaService,
    UserRef,
)
from mfakit.testing import SoftAuthenticator

OWNER = UserRef(user_id="u-owner", name="olivia@acme.example", display_name="Olivia")
CO_OWNER = UserRef(user_id="u-co", name="carl@acme.example")
MEMBER = UserRef(user_id="u-mia", name="mia@acme.example")
INVITEE = UserRef(user_id="u-neo", name="neo@acme.example")


def test_reference_console_journeys(
    service: MfaService,
    store: MfaStore,
    clock: FrozenClock,
    outbox: InMemoryOutbox,
    authenticator: SoftAuthenticator,
) -> None:
    """Enroll, log in three ways, enforce, remind, invite, lose a method, lock, stop, IAM login."""
    # 1. The owner sets up TOTP by scanning the QR code, confirms, saves backup codes.
    enrollment = service.begin_totp_enrollment(OWNER)
    assert enrollment.qr_svg.startswith("<svg")
    owner_app = app_for(enrollment, clock)
    activation = service.confirm_totp(OWNER.user_id, enrollment.totp_id, owner_app.code())
    backup = activation.backup_codes.codes
    clock.advance(30)

    # 2. The owner adds two named passkeys, lists them, deletes one.
    keys = []
    for name in ("MacBook", "YubiKey"):
        clock.advance(1)
        started = service.begin_passkey_registration(OWNER, name=name)
        response = authenticator.create(started.options)
        keys.append(
            service.finish_passkey_registration(OWNER.user_id, started.challenge_id, response)
        )
    assert [p.name for p in service.list_passkeys(OWNER.user_id)] == ["MacBook", "YubiKey"]
    service.delete_passkey(OWNER.user_id, keys[1].credential_id, confirmation="DELETE")

    # 3. Log in with password + TOTP, then with the passkey, then with a backup code.
    assert service.verify_totp(OWNER.user_id, owner_app.code()).method is MethodKind.TOTP
    start = service.begin_second_factor(OWNER.user_id)
    assert start.challenge_id is not None
    assertion = authenticator.get(start.webauthn_options)  # type: ignore[arg-type]
    assert (
        service.verify_passkey(OWNER.user_id, start.challenge_id, assertion).user_id
        == OWNER.user_id
    )
    assert service.verify_backup_code(OWNER.user_id, backup[0]).backup_codes_remaining == 9
    with pytest.raises(ReplayedCodeError):
        service.verify_passkey(OWNER.user_id, start.challenge_id, assertion)

    # 4. The owner updates TOTP: adds a new phone (the old app works meanwhile), then
    # deletes the old one (typed DELETE; another method remains, so nothing else changes).
    update = service.begin_totp_enrollment(OWNER, name="New phone")
    clock.advance(30)
    service.verify_totp(OWNER.user_id, owner_app.code())
    old_device = service.list_totp_devices(OWNER.user_id)[0].device_id
    owner_app = app_for(update, clock)
    clock.advance(30)
    added = service.confirm_totp(OWNER.user_id, update.totp_id, owner_app.code())
    assert (added.replaced, added.device.name) == (False, "New phone")
    service.delete_totp_device(OWNER.user_id, old_device, confirmation="DELETE")
    assert [d.name for d in service.list_totp_devices(OWNER.user_id)] == ["New phone"]
    clock.advance(30)

    # 5. The organization: a co-owner and a member without MFA; enforcing is refused.
    service.create_organization("acme", name="Acme", owner_id=OWNER.user_id)
    co_enrollment = service.begin_totp_enrollment(CO_OWNER)
    co = app_for(co_enrollment, clock)
    service.confirm_totp(CO_OWNER.user_id, co_enrollment.totp_id, co.code())
    service.add_member("acme", CO_OWNER.user_id, kind="owner")
    service.add_member("acme", MEMBER.user_id)
    with pytest.raises(PolicyDeniedError) as caught:
        service.enforce_mfa("acme", actor_id=OWNER.user_id, confirmation="ENFORCE")
    assert caught.value.decision.reminder_targets == (MEMBER.user_id,)
    assert service.compliance_report("acme").percent_compliant == pytest.approx(200 / 3)

    # 6. The owner sends a reminder; the member enrolls; enforcement is enabled.
    assert service.send_reminders("acme", actor_id=OWNER.user_id) == (MEMBER.user_id,)
    assert outbox.of_type(MfaReminder, user_id=MEMBER.user_id)
    member_enrollment = service.begin_totp_enrollment(MEMBER)
    member_app = app_for(member_enrollment, clock)
    service.confirm_totp(MEMBER.user_id, member_enrollment.totp_id, member_app.code())
    clock.advance(30)
    service.enforce_mfa("acme", actor_id=OWNER.user_id, confirmation="ENFORCE")

    # 7. An invitee must set up MFA before joining.
    invitation = service.invite("acme", actor_id=OWNER.user_id, email="neo@example.com")
    with pytest.raises(PolicyDeniedError):
        service.accept_invitation(
            invitation.invitation_id, INVITEE.user_id, email="neo@example.com"
        )
    neo_enrollment = service.begin_totp_enrollment(INVITEE)
    service.confirm_totp(
        INVITEE.user_id, neo_enrollment.totp_id, app_for(neo_enrollment, clock).code()
    )
    service.accept_invitation(invitation.invitation_id, INVITEE.user_id, email="neo@example.com")

    # 8. The member deletes their only method: grace period, reminder, then locked.
    service.verify_totp(MEMBER.user_id, member_app.code())
    removal = service.delete_totp(MEMBER.user_id, confirmation="DELETE")
    assert removal.obligations[0].kind is ObligationKind.ENROLL_BY
    assert removal.deadline is not None
    clock.set(removal.deadline - timedelta(hours=12))
    assert service.sweep().reminded == (("acme", MEMBER.user_id),)
    clock.set(removal.deadline)
    assert service.sweep().locked == (("acme", MEMBER.user_id),)
    assert outbox.of_type(AccountLocked, user_id=MEMBER.user_id)
    with pytest.raises(PolicyDeniedError) as caught:
        service.begin_second_factor(MEMBER.user_id)
    assert ReasonCode.PRINCIPAL_LOCKED in caught.value.decision.codes

    # 9. The owner stops enforcement (typed STOP, after a fresh second factor); owners are told.
    clock.advance(30)
    service.verify_totp(OWNER.user_id, owner_app.code())
    service.stop_enforcement("acme", actor_id=OWNER.user_id, confirmation="STOP")
    told = {m.user_id for m in outbox.of_type(EnforcementStopped)}
    assert told == {OWNER.user_id, CO_OWNER.user_id}
    assert service.member_compliance("acme", MEMBER.user_id).status is ComplianceStatus.NOT_ENROLLED

    # 10. An IAM member's first login: organization + username + emailed code.
    service.add_member("acme", "u-iam", username="robot")
    service.send_login_code("acme", "robot")
    service.deliver_notifications()  # login codes go out through the outbox worker
    code = outbox.of_type(LoginCode, user_id="u-iam")[0].code
    login = service.verify_login_code("acme", "robot", code)
    assert login.first_login
    assert login.user_id == "u-iam"
