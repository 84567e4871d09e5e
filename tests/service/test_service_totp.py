"""TOTP enrollment, confirmation, update and deletion over every store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from service_helpers import app_for, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    ExpiredCodeError,
    InvalidCodeError,
    NotFoundError,
    PolicyDeniedError,
    ReplayedCodeError,
    StepUpRequiredError,
    ThrottledError,
)
from mfakit.otp import parse_uri
from mfakit.policy import MethodKind, ObligationKind, ReasonCode
from mfakit.repositories import MfaStore
from mfakit.secretbox import TOTP_SECRET_PURPOSE
from mfakit.service import (
    Advice,
    InMemoryOutbox,
    MethodAdded,
    MethodRemoved,
    MfaService,
    UserRef,
)

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")


def test_begin_returns_key_uri_qr_and_expiry(service: MfaService, clock: FrozenClock) -> None:
    """The enrollment carries the key, an otpauth URI with issuer, an SVG QR and its expiry."""
    enrollment = service.begin_totp_enrollment(ADA)
    parsed = parse_uri(enrollment.uri)
    assert parsed.issuer == "Console"
    assert parsed.account_name == "ada@example.com"
    assert parsed.otp.secret == app_for(enrollment, clock).totp.secret
    assert enrollment.qr_svg.startswith("<svg")
    assert enrollment.expires_at == clock.now() + service.settings.pending_totp_ttl
    assert enrollment.manual_key not in repr(enrollment)


def test_secret_is_stored_encrypted(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """The store holds only secret-box ciphertext bound to the user."""
    enrollment = service.begin_totp_enrollment(ADA)
    secret = app_for(enrollment, clock).totp.secret
    pending = store.get_pending_totp(ADA.user_id, now=clock.now())
    assert pending is not None
    assert secret not in pending.secret
    assert (
        service._context.keys.decrypt(
            pending.secret, owner=ADA.user_id, purpose=TOTP_SECRET_PURPOSE
        )
        == secret
    )


def test_confirm_activates_and_issues_backup_codes(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """A valid code activates TOTP, issues backup codes once and notifies the user."""
    enrollment = service.begin_totp_enrollment(ADA)
    activation = service.confirm_totp(
        ADA.user_id, enrollment.totp_id, app_for(enrollment, clock).code()
    )
    assert activation.replaced is False
    assert len(activation.backup_codes.codes) == service.settings.backup_code_count
    assert store.list_totp_devices(ADA.user_id)
    assert store.count_unused_backup_codes(ADA.user_id) == service.settings.backup_code_count
    assert Advice.ADD_SECOND_METHOD in activation.advice
    assert outbox.of_type(MethodAdded, user_id=ADA.user_id)[0].method == "totp"
    assert "codes" not in repr(activation.backup_codes).replace("BackupCodeSet", "")


def test_confirm_code_cannot_then_sign_in(service: MfaService, clock: FrozenClock) -> None:
    """The confirming code's step is recorded: the same code cannot be used to sign in."""
    enrollment = service.begin_totp_enrollment(ADA)
    code = app_for(enrollment, clock).code()
    service.confirm_totp(ADA.user_id, enrollment.totp_id, code)
    with pytest.raises(ReplayedCodeError):
        service.verify_totp(ADA.user_id, code)


def test_confirm_rejects_wrong_code(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A wrong code leaves the enrollment pending."""
    enrollment = service.begin_totp_enrollment(ADA)
    good = app_for(enrollment, clock).code()
    with pytest.raises(InvalidCodeError):
        service.confirm_totp(
            ADA.user_id, enrollment.totp_id, "000000" if good != "000000" else "111111"
        )
    assert store.list_totp_devices(ADA.user_id) == ()


def test_pending_enrollment_expires(service: MfaService, clock: FrozenClock) -> None:
    """After the pending TTL the enrollment cannot be confirmed."""
    enrollment = service.begin_totp_enrollment(ADA)
    app = app_for(enrollment, clock)
    clock.advance(service.settings.pending_totp_ttl)
    with pytest.raises(ExpiredCodeError):
        service.confirm_totp(ADA.user_id, enrollment.totp_id, app.code())


def test_confirm_with_stale_enrollment_id_is_refused(
    service: MfaService, clock: FrozenClock
) -> None:
    """A newer enrollment replaces the pending one; the old id is dead."""
    first = service.begin_totp_enrollment(ADA)
    service.begin_totp_enrollment(ADA)
    with pytest.raises(ExpiredCodeError):
        service.confirm_totp(ADA.user_id, first.totp_id, app_for(first, clock).code())


def test_another_app_is_added_alongside(service: MfaService, clock: FrozenClock) -> None:
    """A second enrollment adds a device: the old app keeps working, before and after."""
    old_app, first = enroll_totp(service, clock, ADA.user_id)
    enrollment = service.begin_totp_enrollment(ADA, name="Tablet")
    service.verify_totp(ADA.user_id, old_app.code())
    clock.advance(30)
    new_app = app_for(enrollment, clock)
    activation = service.confirm_totp(ADA.user_id, enrollment.totp_id, new_app.code())
    assert activation.replaced is False
    assert (activation.device.device_id, activation.device.name) == (enrollment.totp_id, "Tablet")
    assert set(activation.backup_codes.codes).isdisjoint(first.backup_codes.codes)
    clock.advance(30)
    assert service.verify_totp(ADA.user_id, old_app.code()).method is MethodKind.TOTP
    clock.advance(30)
    assert service.verify_totp(ADA.user_id, new_app.code()).method is MethodKind.TOTP
    assert [d.name for d in service.list_totp_devices(ADA.user_id)] == [
        "Authenticator app",
        "Tablet",
    ]


def test_delete_requires_typed_delete(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Without the exact phrase DELETE nothing is deleted."""
    enroll_totp(service, clock, ADA.user_id)
    for typed in (None, "delete", "DELETE it"):
        with pytest.raises(PolicyDeniedError) as caught:
            service.delete_totp(ADA.user_id, confirmation=typed)
        assert caught.value.decision.obligations[0].kind is ObligationKind.CONFIRM_PHRASE
    assert store.list_totp_devices(ADA.user_id)


def test_delete_removes_totp_and_lone_backup_codes(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Deleting the only method deletes the backup codes too and notifies the user."""
    enroll_totp(service, clock, ADA.user_id)
    removal = service.delete_totp(ADA.user_id, confirmation="DELETE")
    assert removal.remaining_methods == 0
    assert store.list_totp_devices(ADA.user_id) == ()
    assert store.count_unused_backup_codes(ADA.user_id) == 0
    assert outbox.of_type(MethodRemoved, user_id=ADA.user_id)


def test_delete_without_totp_is_not_found(service: MfaService) -> None:
    """Deleting a TOTP the user does not have fails cleanly."""
    with pytest.raises(NotFoundError):
        service.delete_totp(ADA.user_id, confirmation="DELETE")


def test_delete_under_enforcement_starts_grace(service: MfaService, clock: FrozenClock) -> None:
    """A member deleting their only method under enforcement gets a grace period."""
    _, _ = enroll_totp(service, clock, "owner")
    enroll_totp(service, clock, "owner2")
    service.create_organization("acme", name="Acme", owner_id="owner")
    service.add_member("acme", "owner2", kind="owner")
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.add_member("acme", ADA.user_id)
    service.enforce_mfa("acme", actor_id="owner", confirmation="ENFORCE")
    service.verify_totp(ADA.user_id, app.code())
    removal = service.delete_totp(ADA.user_id, confirmation="DELETE")
    assert removal.deadline == clock.now() + timedelta(days=7)
    assert removal.obligations[0].kind is ObligationKind.ENROLL_BY
    status = service.member_compliance("acme", ADA.user_id)
    assert status.deadline == removal.deadline


def test_sole_owner_cannot_delete_last_method_under_enforcement(
    service: MfaService, clock: FrozenClock
) -> None:
    """The only owner cannot remove their last method while MFA is enforced."""
    enroll_totp(service, clock, "owner")
    service.create_organization("acme", name="Acme", owner_id="owner")
    service.enforce_mfa("acme", actor_id="owner", confirmation="ENFORCE")
    with pytest.raises(PolicyDeniedError) as caught:
        service.delete_totp("owner", confirmation="DELETE")
    assert ReasonCode.SOLE_OWNER_LAST_METHOD in caught.value.decision.codes


def test_delete_in_organization_requires_step_up(service: MfaService, clock: FrozenClock) -> None:
    """A member must pass a second factor recently before deleting a method."""
    enroll_totp(service, clock, "owner")
    service.create_organization("acme", name="Acme", owner_id="owner")
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.add_member("acme", ADA.user_id)
    clock.advance(timedelta(minutes=15))  # the confirmation's stamp goes stale
    with pytest.raises(StepUpRequiredError) as caught:
        service.delete_totp(ADA.user_id, confirmation="DELETE")
    assert caught.value.decision.obligations[0].kind is ObligationKind.STEP_UP
    assert (caught.value.action, caught.value.factors) == (
        "remove_method",
        (MethodKind.TOTP, MethodKind.BACKUP_CODES),
    )
    service.verify_totp(ADA.user_id, app.code())
    clock.advance(timedelta(minutes=14))
    assert service.delete_totp(ADA.user_id, confirmation="DELETE").method is MethodKind.TOTP


def test_step_up_from_a_sign_in_for_one_org_serves_every_org(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """The step-up stamp is the user's: a sign-in judged by one organization serves another."""
    for org_id in ("acme", "beta"):
        enroll_totp(service, clock, f"{org_id}-owner")
        service.create_organization(org_id, name=org_id, owner_id=f"{org_id}-owner")
    app, _ = enroll_totp(service, clock, ADA.user_id)
    service.add_member("acme", ADA.user_id)
    service.add_member("beta", ADA.user_id)
    service.verify_totp(ADA.user_id, app.code(), org_id="acme")
    assert store.get_user_factors(ADA.user_id).last_mfa_at == clock.now()
    clock.advance(timedelta(minutes=1))
    assert service.delete_totp(ADA.user_id, confirmation="DELETE").method is MethodKind.TOTP


def test_step_up_stamp_never_goes_back_when_the_clock_does(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A sign-in on a server whose clock lags keeps the later stamp."""
    app, activation = enroll_totp(service, clock, ADA.user_id)
    clock.advance(timedelta(minutes=5))
    service.verify_totp(ADA.user_id, app.code())
    stamped = clock.now()
    clock.set(stamped - timedelta(minutes=3))
    service.verify_backup_code(ADA.user_id, activation.backup_codes.codes[0])
    assert store.get_user_factors(ADA.user_id).last_mfa_at == stamped


def test_user_outside_orgs_steps_up_with_the_same_stamp(
    service: MfaService, clock: FrozenClock
) -> None:
    """Outside any organization a method change needs a step-up too, met by the last sign-in."""
    app, _ = enroll_totp(service, clock, ADA.user_id)
    clock.advance(timedelta(minutes=15))
    with pytest.raises(StepUpRequiredError) as caught:
        service.delete_totp(ADA.user_id, confirmation="DELETE")
    assert caught.value.decision.obligations[0].kind is ObligationKind.STEP_UP
    service.verify_totp(ADA.user_id, app.code())
    assert service.delete_totp(ADA.user_id, confirmation="DELETE").method is MethodKind.TOTP


def test_confirmation_has_its_own_throttle(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Wrong confirmation codes back off enrollment without touching the sign-in counter."""
    app, _ = enroll_totp(service, clock, ADA.user_id)
    enrollment = service.begin_totp_enrollment(ADA, name="Second phone")
    good = app_for(enrollment, clock).code()
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(service.settings.throttle_free_failures + 1):
        with pytest.raises(InvalidCodeError):
            service.confirm_totp(ADA.user_id, enrollment.totp_id, wrong)
    with pytest.raises(ThrottledError):
        service.confirm_totp(ADA.user_id, enrollment.totp_id, good)
    assert store.get_throttle(f"mfa:totp:{ADA.user_id}").failures == 0
    assert service.verify_totp(ADA.user_id, app.code()).method is MethodKind.TOTP
