"""Several named authenticator apps per user, over every store (issue 15)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from service_helpers import ORIGIN, RP_ID, SETTINGS, App, app_for, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    DuplicateError,
    InvalidCodeError,
    InvalidNameError,
    LimitReachedError,
    NotFoundError,
    PolicyDeniedError,
    ReplayedCodeError,
)
from mfakit.otp import TOTP
from mfakit.policy import MethodKind, ObligationKind, OrgPolicy
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    InMemoryOutbox,
    MethodRemoved,
    MfaService,
    RelyingParty,
    ServiceSettings,
    UserRef,
)

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
BAD_NAMES: list[Any] = ["", "   ", "x" * 65, "a\x00b", "line\nbreak", "\u202eevil", None, 7]


KEYS = KeyRing({"k1": generate_key()}, current="k1")


def _service(store: MfaStore, clock: FrozenClock, **settings: Any) -> MfaService:
    return MfaService(
        store=store,
        keys=KEYS,
        notifier=InMemoryOutbox(),
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=dataclasses.replace(SETTINGS, **settings),
    )


def _two_apps(service: MfaService, clock: FrozenClock) -> tuple[App, App]:
    phone, _ = enroll_totp(service, clock, ADA.user_id, "Phone")
    tablet, _ = enroll_totp(service, clock, ADA.user_id, "Tablet")
    return phone, tablet


def _steps(store: MfaStore) -> dict[str, int | None]:
    return {d.name: d.last_step for d in store.list_totp_devices(ADA.user_id)}


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_name_refused_before_anything_is_stored(
    service: MfaService, store: MfaStore, clock: FrozenClock, name: Any
) -> None:
    """A blank, long, control-character or non-string name: InvalidNameError, nothing stored."""
    with pytest.raises(InvalidNameError) as caught:
        service.begin_totp_enrollment(ADA, name=name)
    assert caught.value.field == "name"
    assert isinstance(caught.value, ValueError)
    assert store.get_pending_totp(ADA.user_id, now=clock.now()) is None
    assert store.list_audit_events(user_id=ADA.user_id).items == ()


def test_name_of_64_characters_accepted_and_trimmed(
    service: MfaService, clock: FrozenClock
) -> None:
    """Names are 1 to 64 characters once their outer spaces are dropped."""
    enrollment = service.begin_totp_enrollment(ADA, name=f"  {'é' * 64}  ")
    assert enrollment.name == "é" * 64


def test_taken_name_refused_before_the_qr_code(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A name the user already gave a device (in any case) is refused before a secret exists."""
    enroll_totp(service, clock, ADA.user_id, "Phone")
    for name in ("Phone", "phone", " PHONE "):
        with pytest.raises(DuplicateError):
            service.begin_totp_enrollment(ADA, name=name)
    assert store.get_pending_totp(ADA.user_id, now=clock.now()) is None
    other = UserRef(user_id="u-bob", name="bob@example.com")
    assert service.begin_totp_enrollment(other, name="Phone").name == "Phone"


def test_limit_refused_before_the_qr_code(store: MfaStore, clock: FrozenClock) -> None:
    """At max_totp_devices a new enrollment is LimitReachedError; deleting one frees a slot."""
    service = _service(store, clock, max_totp_devices=2)
    _two_apps(service, clock)
    with pytest.raises(LimitReachedError) as caught:
        service.begin_totp_enrollment(ADA, name="Laptop")
    assert caught.value.limit == 2
    assert store.get_pending_totp(ADA.user_id, now=clock.now()) is None
    first = service.list_totp_devices(ADA.user_id)[0]
    service.delete_totp_device(ADA.user_id, first.device_id, confirmation="DELETE")
    assert service.begin_totp_enrollment(ADA, name="Laptop").name == "Laptop"


def test_limit_checked_again_at_confirmation(store: MfaStore, clock: FrozenClock) -> None:
    """The limit is checked again by the store when the enrollment is confirmed."""
    service = _service(store, clock, max_totp_devices=2)
    enroll_totp(service, clock, ADA.user_id, "Phone")
    enrollment = service.begin_totp_enrollment(ADA, name="Tablet")
    # Another server with a lower limit: the store, not the earlier check, decides.
    strict = _service(store, clock, max_totp_devices=1)
    with pytest.raises(LimitReachedError):
        strict.confirm_totp(ADA.user_id, enrollment.totp_id, app_for(enrollment, clock).code())
    assert [d.name for d in service.list_totp_devices(ADA.user_id)] == ["Phone"]


@pytest.mark.parametrize("value", [0, 21, True, "5", 2.0])
def test_max_totp_devices_is_validated(value: Any) -> None:
    """The limit is an int from 1 to 20."""
    with pytest.raises(ValueError, match="max_totp_devices"):
        ServiceSettings(max_totp_devices=value)


def test_code_of_either_app_signs_in_and_advances_only_its_device(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Each device has its own replay state: a code accepted on one leaves the other alone."""
    phone, tablet = _two_apps(service, clock)
    before = _steps(store)
    assert service.verify_totp(ADA.user_id, tablet.code()).method is MethodKind.TOTP
    after = _steps(store)
    assert after["Phone"] == before["Phone"]
    assert after["Tablet"] == tablet.totp.step(clock.now())
    # The same code again is a replay on that device; the other app's code still works.
    with pytest.raises(ReplayedCodeError):
        service.verify_totp(ADA.user_id, tablet.code())
    assert service.verify_totp(ADA.user_id, phone.code()).method is MethodKind.TOTP
    with pytest.raises(ReplayedCodeError):
        service.verify_totp(ADA.user_id, phone.code())
    used = {d.name: d.last_used_at for d in service.list_totp_devices(ADA.user_id)}
    assert used == {"Phone": clock.now(), "Tablet": clock.now()}


def test_wrong_code_refused_with_every_device_tried(
    service: MfaService, clock: FrozenClock
) -> None:
    """A code of no device is InvalidCodeError."""
    phone, tablet = _two_apps(service, clock)
    wrong = next(
        c for c in ("000000", "111111", "222222") if c not in (phone.code(), tablet.code())
    )
    with pytest.raises(InvalidCodeError):
        service.verify_totp(ADA.user_id, wrong)


def test_one_verify_per_device_and_stop_at_the_first_match(
    service: MfaService, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most one TOTP.verify (one HMAC per window step) per device; none after the match."""
    phone, tablet = _two_apps(service, clock)
    enroll_totp(service, clock, ADA.user_id, "Laptop")
    calls: list[dict[str, Any]] = []
    real = TOTP.verify

    def counting(self: TOTP, code: object, **kw: Any) -> int | None:
        calls.append(kw)
        return real(self, code, **kw)

    monkeypatch.setattr(TOTP, "verify", counting)
    with pytest.raises(InvalidCodeError):
        service.verify_totp(ADA.user_id, "12345")  # no device's code (wrong length)
    assert len(calls) == 3
    assert all(kw["window"] == service.settings.totp_window for kw in calls)
    calls.clear()
    service.verify_totp(ADA.user_id, phone.code())  # the oldest device: tried first
    assert len(calls) == 1
    calls.clear()
    clock.advance(30)
    service.verify_totp(ADA.user_id, tablet.code())
    assert len(calls) == 2


def test_sign_in_store_calls_unchanged_with_several_devices(
    service: MfaService, store: MfaStore, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three devices: the sign-in still reads them in get_user_factors and writes one step."""
    enroll_totp(service, clock, ADA.user_id, "Phone")
    enroll_totp(service, clock, ADA.user_id, "Tablet")
    laptop, _ = enroll_totp(service, clock, ADA.user_id, "Laptop")
    calls: list[str] = []
    for name in ("get_user_factors", "advance_totp_step", "list_totp_devices"):
        real = getattr(store, name)
        monkeypatch.setattr(
            store,
            name,
            lambda *a, _n=name, _r=real, **k: calls.append(_n) or _r(*a, **k),
        )
    service.verify_totp(ADA.user_id, laptop.code())
    assert calls == ["get_user_factors", "advance_totp_step"]


def test_list_rename_and_refusals(service: MfaService, clock: FrozenClock) -> None:
    """Devices are listed oldest first by name; rename checks the name and the owner first."""
    _two_apps(service, clock)
    phone, tablet = service.list_totp_devices(ADA.user_id)
    assert (phone.name, tablet.name) == ("Phone", "Tablet")
    assert phone.confirmed_at is not None
    renamed = service.rename_totp_device(ADA.user_id, phone.device_id, "  Work phone ")
    assert (renamed.device_id, renamed.name) == (phone.device_id, "Work phone")
    with pytest.raises(DuplicateError):
        service.rename_totp_device(ADA.user_id, phone.device_id, "TABLET")
    with pytest.raises(InvalidNameError):
        service.rename_totp_device(ADA.user_id, phone.device_id, "x" * 65)
    with pytest.raises(NotFoundError):
        service.rename_totp_device(ADA.user_id, "no-such-device", "Other")
    with pytest.raises(NotFoundError):
        service.rename_totp_device("u-bob", phone.device_id, "Stolen")
    # Renaming a device to its own name (in another case) is allowed.
    assert service.rename_totp_device(ADA.user_id, tablet.device_id, "tablet").name == "tablet"
    assert [d.name for d in service.list_totp_devices(ADA.user_id)] == ["Work phone", "tablet"]
    assert service.list_totp_devices("u-bob") == ()


def test_delete_one_device_keeps_the_others(
    service: MfaService, store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """Typed DELETE removes one device; the other app and the backup codes stay."""
    phone, tablet = _two_apps(service, clock)
    target = service.list_totp_devices(ADA.user_id)[0]
    for typed in (None, "delete"):
        with pytest.raises(PolicyDeniedError) as caught:
            service.delete_totp_device(ADA.user_id, target.device_id, confirmation=typed)
        assert caught.value.decision.obligations[0].kind is ObligationKind.CONFIRM_PHRASE
    with pytest.raises(NotFoundError):
        service.delete_totp_device(ADA.user_id, "no-such-device", confirmation="DELETE")
    with pytest.raises(NotFoundError):
        service.delete_totp_device("u-bob", target.device_id, confirmation="DELETE")
    removal = service.delete_totp_device(ADA.user_id, target.device_id, confirmation="DELETE")
    assert (removal.label, removal.remaining_methods) == ("Phone", 1)
    assert [d.name for d in service.list_totp_devices(ADA.user_id)] == ["Tablet"]
    assert store.count_unused_backup_codes(ADA.user_id) > 0
    removed = [m for m in outbox.messages if isinstance(m, MethodRemoved)]
    assert [m.label for m in removed] == ["Phone"]
    with pytest.raises(InvalidCodeError):
        service.verify_totp(ADA.user_id, phone.code())
    assert service.verify_totp(ADA.user_id, tablet.code()).method is MethodKind.TOTP


def test_deleting_the_last_device_follows_the_policy(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Under enforcement, deleting a member's last app starts the grace period."""
    enroll_totp(service, clock, "owner")
    enroll_totp(service, clock, "owner2")
    service.create_organization("acme", name="Acme", owner_id="owner")
    service.add_member("acme", "owner2", kind="owner")
    _, tablet = _two_apps(service, clock)
    service.add_member("acme", ADA.user_id)
    service.enforce_mfa("acme", actor_id="owner", confirmation="ENFORCE")
    service.verify_totp(ADA.user_id, tablet.code())
    first, last = service.list_totp_devices(ADA.user_id)
    kept = service.delete_totp_device(ADA.user_id, first.device_id, confirmation="DELETE")
    assert (kept.deadline, kept.remaining_methods) == (None, 1)
    removal = service.delete_totp_device(ADA.user_id, last.device_id, confirmation="DELETE")
    assert removal.deadline == clock.now() + timedelta(days=7)
    assert removal.obligations[0].kind is ObligationKind.ENROLL_BY
    assert removal.remaining_methods == 0
    assert store.count_unused_backup_codes(ADA.user_id) == 0
    assert service.member_compliance("acme", ADA.user_id).deadline == removal.deadline


def test_delete_totp_deletes_every_device_as_one_decision(
    service: MfaService, clock: FrozenClock, outbox: InMemoryOutbox
) -> None:
    """delete_totp removes all the apps at once (one notice), with the typed confirmation."""
    _two_apps(service, clock)
    with pytest.raises(PolicyDeniedError):
        service.delete_totp(ADA.user_id, confirmation=None)
    assert len(service.list_totp_devices(ADA.user_id)) == 2
    removal = service.delete_totp(ADA.user_id, confirmation="DELETE")
    assert (removal.method, removal.remaining_methods) == (MethodKind.TOTP, 0)
    assert service.list_totp_devices(ADA.user_id) == ()
    assert len([m for m in outbox.messages if isinstance(m, MethodRemoved)]) == 1
    with pytest.raises(NotFoundError):
        service.delete_totp(ADA.user_id, confirmation="DELETE")


def test_sole_owner_cannot_delete_all_apps_under_enforcement(
    service: MfaService, clock: FrozenClock
) -> None:
    """All devices judged together: the only owner may delete one of two, not both at once."""
    _two_apps(service, clock)
    service.create_organization("acme", name="Acme", owner_id=ADA.user_id)
    service.enforce_mfa("acme", actor_id=ADA.user_id, confirmation="ENFORCE")
    with pytest.raises(PolicyDeniedError):
        service.delete_totp(ADA.user_id, confirmation="DELETE")
    assert len(service.list_totp_devices(ADA.user_id)) == 2


def test_two_apps_count_as_two_methods_in_reports_and_for_the_user(
    service: MfaService, clock: FrozenClock
) -> None:
    """Compliance read from member summaries counts each device, as the per-user path does."""
    service.create_organization("acme", name="Acme", owner_id=ADA.user_id)
    two = dataclasses.replace(OrgPolicy(), min_methods=2)
    service.set_policy("acme", two, actor_id=ADA.user_id)
    enroll_totp(service, clock, ADA.user_id, "Phone")
    assert service.compliance_report("acme").satisfied == 0
    enroll_totp(service, clock, ADA.user_id, "Tablet")
    assert service.compliance_report("acme").satisfied == 1
    mine = service.member_compliance("acme", ADA.user_id)
    assert mine.has_mfa is True
    assert len(mine.qualifying_methods) == 2


def test_pending_enrollment_of_another_user_is_refused(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Confirming with someone else's enrollment id adds nothing to anyone."""
    enrollment = service.begin_totp_enrollment(ADA, name="Phone")
    code = app_for(enrollment, clock).code()
    with pytest.raises(Exception, match="no such pending"):
        service.confirm_totp("u-bob", enrollment.totp_id, code)
    assert store.list_totp_devices("u-bob") == ()
