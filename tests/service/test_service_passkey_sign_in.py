"""Passkey sign-in without a username, and random user handles, over every store."""

from __future__ import annotations

import base64
import copy
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from service_helpers import ORIGIN, RP_ID, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedDataError,
    NotFoundError,
    PasswordlessNotAllowedError,
    PolicyDeniedError,
    ReplayedCodeError,
    SignCountError,
    StepUpRequiredError,
    ThrottledError,
    UnknownCredentialError,
    UserVerificationError,
    WebAuthnError,
)
from mfakit.policy import MethodKind, OrgPolicy
from mfakit.repositories import MfaStore
from mfakit.service import (
    InMemoryOutbox,
    MfaService,
    Passkey,
    PasskeySignInResult,
    SignCountAnomaly,
    UserRef,
)
from mfakit.testing import Fault, SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")
BOB = UserRef(user_id="u-bob", name="bob@example.com", display_name="Bob")
THROTTLE = "mfa:passkey:u-ada"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _register(
    service: MfaService,
    device: SoftAuthenticator,
    user: UserRef = ADA,
    *,
    name: str = "Laptop",
    kind: str = "passkey",
) -> Passkey:
    started = service.begin_passkey_registration(user, name=name, kind=kind)
    # Discoverable whatever the kind: a security key can hold a resident credential too.
    response = device.create(started.options, discoverable=True)
    return service.finish_passkey_registration(user.user_id, started.challenge_id, response)


def _assertion(service: MfaService, device: SoftAuthenticator, **get: Any) -> tuple[str, Any]:
    start = service.begin_passkey_sign_in()
    return start.challenge_id, device.get(start.options, **get)


def _sign_in(
    service: MfaService, device: SoftAuthenticator, *, org_id: str | None = None, **get: Any
) -> PasskeySignInResult:
    start = service.begin_passkey_sign_in(org_id=org_id)
    response = device.get(start.options, **get)
    return service.finish_passkey_sign_in(start.challenge_id, response, org_id=org_id)


def _failures(store: MfaStore) -> int:
    return store.get_throttle(THROTTLE).failures


# -- user handles -----------------------------------------------------------------------------


def test_registration_gives_a_random_handle_kept_per_user(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """The options' user id is 32 random bytes, the same for the user's every credential."""
    first = service.begin_passkey_registration(ADA, name="Laptop")
    handle = _unb64(first.options["user"]["id"])
    assert len(handle) == 32
    assert ADA.user_id.encode() not in handle
    passkey = service.finish_passkey_registration(
        ADA.user_id, first.challenge_id, authenticator.create(first.options)
    )
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert stored.user_handle == handle
    again = service.begin_passkey_registration(ADA, name="Phone")
    assert _unb64(again.options["user"]["id"]) == handle
    assert store.find_user_by_webauthn_handle(handle) == ADA.user_id
    other = service.begin_passkey_registration(BOB, name="Key")
    assert _unb64(other.options["user"]["id"]) != handle


def test_refused_registration_makes_no_handle(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """A registration refused before its options (a stale step-up) stores no handle."""
    enroll_totp(service, clock, BOB.user_id)
    clock.advance(int(timedelta(hours=1).total_seconds()))
    with pytest.raises(StepUpRequiredError):
        service.begin_passkey_registration(BOB, name="Key")
    assert store.webauthn_user_handle(BOB.user_id, create_with=b"b" * 32) == b"b" * 32


# -- beginning --------------------------------------------------------------------------------


@pytest.mark.parametrize("mediation", ["conditional", "optional"])
def test_begin_asks_for_any_discoverable_credential_with_uv(
    service: MfaService, store: MfaStore, clock: FrozenClock, mediation: str
) -> None:
    """Empty allowCredentials, UV required, the mediation back; a challenge for nobody."""
    start = service.begin_passkey_sign_in(mediation=mediation)
    assert start.mediation == mediation
    assert start.options["allowCredentials"] == []
    assert start.options["userVerification"] == "required"
    assert start.options["rpId"] == RP_ID
    challenge = store.pop_challenge(start.challenge_id, clock.now())
    assert challenge is not None
    assert (challenge.purpose, challenge.user_id) == ("webauthn.sign_in", None)
    assert challenge.challenge == _unb64(start.options["challenge"])


@pytest.mark.parametrize("mediation", ["silent", "required", "", None, ["optional"]])
def test_begin_refuses_an_unknown_mediation(service: MfaService, mediation: Any) -> None:
    """A mediation other than conditional or optional is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        service.begin_passkey_sign_in(mediation=mediation)


@pytest.mark.parametrize("org_id", ["", 7])
def test_begin_refuses_a_bad_organization(service: MfaService, org_id: Any) -> None:
    """An organization id that is not a non-empty string is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        service.begin_passkey_sign_in(org_id=org_id)


# -- signing in -------------------------------------------------------------------------------


def test_sign_in_without_a_username_is_multi_factor(
    service: MfaService, store: MfaStore, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """The passkey names its user; the sign-in stamps the step-up and stores the counter."""
    passkey = _register(service, authenticator)
    clock.advance(60)
    result = _sign_in(service, authenticator)
    assert (result.user_id, result.method, result.credential_id) == (
        ADA.user_id,
        MethodKind.PASSKEY,
        passkey.credential_id,
    )
    assert result.second_factor_required is False
    assert store.get_user_factors(ADA.user_id).last_mfa_at == clock.now()
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert (stored.sign_count, stored.last_used_at) == (
        authenticator.sign_count(passkey.credential_id),
        clock.now(),
    )
    events = store.list_audit_events(user_id=ADA.user_id).items
    assert (events[-1].action, events[-1].outcome) == ("passkey.sign_in", "success")


def test_sign_in_challenge_works_once(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """A replayed challenge (and response) is refused."""
    _register(service, authenticator)
    challenge_id, response = _assertion(service, authenticator)
    service.finish_passkey_sign_in(challenge_id, response)
    with pytest.raises(ReplayedCodeError):
        service.finish_passkey_sign_in(challenge_id, response)


def test_challenges_of_other_purposes_refused(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """A second-factor challenge does not finish a sign-in, nor the other way round."""
    _register(service, authenticator)
    second = service.begin_second_factor(ADA.user_id)
    assert second.challenge_id is not None
    response = authenticator.get(second.webauthn_options)  # type: ignore[arg-type]
    with pytest.raises(ReplayedCodeError):
        service.finish_passkey_sign_in(second.challenge_id, response)
    challenge_id, response = _assertion(service, authenticator)
    with pytest.raises(ReplayedCodeError):
        service.verify_passkey(ADA.user_id, challenge_id, response)


def test_challenge_of_another_organization_refused(
    service: MfaService, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """A challenge begun for one organization does not finish for another, or for none."""
    enroll_totp(service, clock, ADA.user_id)
    service.create_organization("acme", name="Acme", owner_id=ADA.user_id)
    _register(service, authenticator)
    start = service.begin_passkey_sign_in(org_id="acme")
    response = authenticator.get(start.options)
    with pytest.raises(ReplayedCodeError):
        service.finish_passkey_sign_in(start.challenge_id, response)
    start = service.begin_passkey_sign_in(org_id="acme")
    result = service.finish_passkey_sign_in(
        start.challenge_id, authenticator.get(start.options), org_id="acme"
    )
    assert set(result.decisions) == {"acme"}


def test_user_verification_always_required(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """UV=0 is refused (the settings do not require UV) and counted as a failure."""
    assert service.settings.require_user_verification is False
    _register(service, authenticator)
    challenge_id, response = _assertion(service, authenticator, faults=[Fault.UV_CLEAR])
    with pytest.raises(UserVerificationError):
        service.finish_passkey_sign_in(challenge_id, response)
    assert _failures(store) == 1
    events = store.list_audit_events(user_id=ADA.user_id).items
    assert (events[-1].action, events[-1].outcome) == ("passkey.sign_in", "failure")


def test_malformed_response_refused(service: MfaService) -> None:
    """A response that cannot be parsed is a MalformedDataError, audited without a user."""
    start = service.begin_passkey_sign_in()
    with pytest.raises(MalformedDataError):
        service.finish_passkey_sign_in(start.challenge_id, {"id": "x"})


def _with_handle(response: dict[str, Any], handle: bytes | None) -> dict[str, Any]:
    # The user handle is outside the signed data: anyone can change it.
    changed = copy.deepcopy(response)
    if handle is None:
        del changed["response"]["userHandle"]
    else:
        changed["response"]["userHandle"] = _b64(handle)
    return changed


def test_another_user_handle_refused(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """Ada's credential asserted with Bob's handle (or none) is unknown; nothing is charged."""
    _register(service, authenticator)
    _register(service, SoftAuthenticator(origin=ORIGIN), BOB, name="Key")
    bob_handle = store.webauthn_user_handle(BOB.user_id, create_with=b"x" * 32)
    for handle in (bob_handle, None):
        challenge_id, response = _assertion(service, authenticator)
        with pytest.raises(UnknownCredentialError):
            service.finish_passkey_sign_in(challenge_id, _with_handle(response, handle))
    assert _failures(store) == 0


def test_deleted_credential_is_unknown(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """A deleted passkey cannot sign in; the refusal carries what signalUnknownCredential needs."""
    _register(service, authenticator, name="Old")
    gone = authenticator.credentials[0].credential_id
    _register(service, authenticator, name="New")
    service.delete_passkey(ADA.user_id, gone, confirmation="DELETE")
    challenge_id, response = _assertion(service, authenticator, credential_id=gone)
    with pytest.raises(UnknownCredentialError) as caught:
        service.finish_passkey_sign_in(challenge_id, response)
    assert caught.value.signal_options == {"rpId": RP_ID, "credentialId": _b64(gone)}


def test_refusals_are_indistinguishable(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """Unknown, deleted and another user's handle: one type, message, code and attribute set."""
    _register(service, authenticator, name="Kept")
    stranger = SoftAuthenticator(origin=ORIGIN)
    stranger.create(service.begin_passkey_registration(BOB, name="Never").options)
    _register(service, authenticator, name="Deleted")
    deleted = authenticator.credentials[1].credential_id
    service.delete_passkey(ADA.user_id, deleted, confirmation="DELETE")
    kept = authenticator.credentials[0].credential_id
    cases = [
        _assertion(service, stranger),
        _assertion(service, authenticator, credential_id=deleted),
    ]
    challenge_id, response = _assertion(service, authenticator, credential_id=kept)
    cases.append((challenge_id, _with_handle(response, b"\x01" * 32)))
    refusals = []
    for challenge_id, response in cases:
        with pytest.raises(UnknownCredentialError) as caught:
            service.finish_passkey_sign_in(challenge_id, response)
        refusals.append(caught.value)
    assert {type(e) for e in refusals} == {UnknownCredentialError}
    assert len({(str(e), e.code, repr(e)) for e in refusals}) == 1
    assert {tuple(sorted(e.signal_options)) for e in refusals} == {("credentialId", "rpId")}
    assert _failures(store) == 0


def test_locked_user_refused(
    service: MfaService, store: MfaStore, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """A locked member is refused before the passkey is checked: its counter does not move."""
    passkey = _register(service, authenticator)
    enroll_totp(service, clock, "owner")
    service.create_organization("acme", name="Acme", owner_id="owner")
    service.add_member("acme", ADA.user_id)
    service.lock_member("acme", ADA.user_id, actor_id="owner")
    challenge_id, response = _assertion(service, authenticator)
    with pytest.raises(PolicyDeniedError):
        service.finish_passkey_sign_in(challenge_id, response)
    stored = store.get_webauthn_credential(passkey.credential_id)
    assert stored is not None
    assert stored.last_used_at is None
    assert _failures(store) == 0


def test_failures_count_as_for_second_factors(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """Refused assertions spend the passkey throttle that verify_passkey spends."""
    _register(service, authenticator)
    refused: list[InvalidSignatureError] = []

    def spend() -> None:
        for _ in range(service.settings.throttle_max_failures + 1):
            challenge_id, response = _assertion(
                service, authenticator, faults=[Fault.BAD_SIGNATURE]
            )
            with pytest.raises(InvalidSignatureError) as caught:
                service.finish_passkey_sign_in(challenge_id, response)
            refused.append(caught.value)

    with pytest.raises(ThrottledError):
        spend()
    assert refused
    start = service.begin_second_factor(ADA.user_id)
    assert start.challenge_id is not None
    response = authenticator.get(start.webauthn_options)  # type: ignore[arg-type]
    with pytest.raises(ThrottledError):
        service.verify_passkey(ADA.user_id, start.challenge_id, response)


def test_sign_count_regression_refused(
    service: MfaService, authenticator: SoftAuthenticator, outbox: InMemoryOutbox
) -> None:
    """A counter that goes back is a possible clone: refused, and the user is told."""
    _register(service, authenticator)
    clone = copy.deepcopy(authenticator)
    _sign_in(service, clone)
    with pytest.raises(SignCountError):
        _sign_in(service, authenticator)
    assert outbox.of_type(SignCountAnomaly, user_id=ADA.user_id)


# -- passwordless or not ----------------------------------------------------------------------


def test_security_key_is_a_second_factor_only_by_default(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """A security key's valid assertion is refused as a sign-in, but passes as a second factor."""
    key = _register(service, authenticator, kind="security_key")
    assert (key.kind, key.passwordless) == (MethodKind.SECURITY_KEY, False)
    with pytest.raises(PasswordlessNotAllowedError):
        _sign_in(service, authenticator)
    assert _failures(store) == 1
    start = service.begin_second_factor(ADA.user_id)
    assert start.challenge_id is not None
    response = authenticator.get(start.webauthn_options)  # type: ignore[arg-type]
    assert service.verify_passkey(ADA.user_id, start.challenge_id, response).method is (
        MethodKind.SECURITY_KEY
    )


def test_passwordless_can_be_turned_off_and_on(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """The flag is listed, and turning it off refuses the sign-in until turned on again."""
    passkey = _register(service, authenticator)
    assert passkey.passwordless is True
    off = service.set_passkey_passwordless(ADA.user_id, passkey.credential_id, False)
    assert off.passwordless is False
    assert service.list_passkeys(ADA.user_id) == (off,)
    with pytest.raises(PasswordlessNotAllowedError):
        _sign_in(service, authenticator)
    service.set_passkey_passwordless(ADA.user_id, passkey.credential_id, True)
    assert _sign_in(service, authenticator).user_id == ADA.user_id


def test_changing_passwordless_needs_a_step_up(
    service: MfaService, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """As for other method changes, an old second-factor check refuses the change."""
    passkey = _register(service, authenticator)
    clock.advance(int(timedelta(hours=1).total_seconds()))
    with pytest.raises(StepUpRequiredError):
        service.set_passkey_passwordless(ADA.user_id, passkey.credential_id, False)
    assert service.list_passkeys(ADA.user_id)[0].passwordless is True


def test_changing_passwordless_of_another_users_credential(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """Bob cannot change Ada's credential; a non-bool is a ConfigurationError."""
    passkey = _register(service, authenticator)
    with pytest.raises(Exception, match="no such passkey"):
        service.set_passkey_passwordless(BOB.user_id, passkey.credential_id, False)
    with pytest.raises(ConfigurationError):
        service.set_passkey_passwordless(ADA.user_id, passkey.credential_id, 1)  # type: ignore[arg-type]


# -- the organization's policy ----------------------------------------------------------------


@pytest.mark.parametrize("counts", [True, False])
def test_policy_decides_whether_the_sign_in_is_mfa(
    service: MfaService,
    store: MfaStore,
    clock: FrozenClock,
    authenticator: SoftAuthenticator,
    counts: bool,
) -> None:
    """Where passkey sign-in is not MFA, a second factor is asked for and nothing is stamped."""
    enroll_totp(service, clock, ADA.user_id)
    policy = OrgPolicy(passkey_sign_in_satisfies_mfa=counts)
    service.create_organization("acme", name="Acme", owner_id=ADA.user_id, policy=policy)
    _register(service, authenticator)
    before = store.get_user_factors(ADA.user_id).last_mfa_at
    clock.advance(60)
    result = _sign_in(service, authenticator, org_id="acme")
    assert result.second_factor_required is not counts
    stamped = store.get_user_factors(ADA.user_id).last_mfa_at
    assert stamped == (clock.now() if counts else before)
    assert _failures(store) == 0
    if not counts:
        assert MethodKind.TOTP in service.begin_second_factor(ADA.user_id, org_id="acme").methods


def _not_mfa(service: MfaService) -> None:
    policy = OrgPolicy(passkey_sign_in_satisfies_mfa=False)
    service.create_organization("acme", name="Acme", owner_id=ADA.user_id, policy=policy)


def test_second_factor_after_a_passkey_sign_in_never_takes_that_passkey(
    service: MfaService, store: MfaStore, clock: FrozenClock, authenticator: SoftAuthenticator
) -> None:
    """The passkey that signed in is left out of the second step and refused there (attack)."""
    enroll_totp(service, clock, ADA.user_id)
    _not_mfa(service)
    first = _register(service, authenticator)
    phone = SoftAuthenticator(origin=ORIGIN)
    other = _register(service, phone, name="Phone")
    result = _sign_in(service, authenticator, org_id="acme")
    assert result.second_factor_required
    assert result.credential_id == first.credential_id
    step = service.begin_second_factor(
        ADA.user_id, org_id="acme", first_factor_credential=result.credential_id
    )
    assert set(step.methods) == {MethodKind.TOTP, MethodKind.BACKUP_CODES, MethodKind.PASSKEY}
    assert step.webauthn_options is not None
    assert step.challenge_id is not None
    allowed = [c["id"] for c in step.webauthn_options["allowCredentials"]]
    assert allowed == [_b64(other.credential_id)]
    # The same authenticator answers anyway, as a script can: refused, and counted.
    forged = authenticator.get(step.webauthn_options, credential_id=first.credential_id)
    with pytest.raises(WebAuthnError):
        service.verify_passkey(ADA.user_id, step.challenge_id, forged, org_id="acme")
    assert store.get_throttle("mfa:passkey:" + ADA.user_id).failures == 1
    # Another passkey completes the sign-in.
    step = service.begin_second_factor(
        ADA.user_id, org_id="acme", first_factor_credential=result.credential_id
    )
    assert step.challenge_id is not None
    done = service.verify_passkey(
        ADA.user_id, step.challenge_id, phone.get(step.webauthn_options), org_id="acme"
    )
    assert done.method is MethodKind.PASSKEY


def test_a_passkey_that_is_the_only_method_cannot_be_both_factors(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """With nothing else to offer, the second step is refused, never skipped."""
    _not_mfa(service)
    _register(service, authenticator)
    before = store.get_user_factors(ADA.user_id).last_mfa_at
    result = _sign_in(service, authenticator, org_id="acme")
    assert result.second_factor_required
    with pytest.raises(NotFoundError):
        service.begin_second_factor(
            ADA.user_id, org_id="acme", first_factor_credential=result.credential_id
        )
    assert store.get_user_factors(ADA.user_id).last_mfa_at == before
    # After a password, the same passkey is a second factor as before.
    assert service.begin_second_factor(ADA.user_id, org_id="acme").methods == (MethodKind.PASSKEY,)


@pytest.mark.parametrize("bad", ["abc", 12, bytearray(b"x")])
def test_first_factor_credential_must_be_bytes(service: MfaService, bad: Any) -> None:
    """A wrong type is a configuration error, not a silent "nothing excluded"."""
    with pytest.raises(ConfigurationError):
        service.begin_second_factor(ADA.user_id, first_factor_credential=bad)


def test_policy_field_round_trips_in_json() -> None:
    """The policy field is stored and read back; it defaults to True."""
    assert OrgPolicy().passkey_sign_in_satisfies_mfa is True
    policy = OrgPolicy(passkey_sign_in_satisfies_mfa=False)
    assert policy.to_json()["passkey_sign_in_satisfies_mfa"] is False
    assert OrgPolicy.from_json(policy.to_json()) == policy
    with pytest.raises(MalformedDataError):
        OrgPolicy.from_json({"passkey_sign_in_satisfies_mfa": "no"})


# -- credentials registered before user handles -------------------------------------------------


def _legacy_device(service: MfaService) -> tuple[SoftAuthenticator, bytes]:
    """An authenticator holding a credential registered with the user id as its handle."""
    device = SoftAuthenticator(origin=ORIGIN)
    started = service.begin_passkey_registration(ADA, name="Laptop")
    options = dict(started.options)
    options["user"] = {**options["user"], "id": _b64(ADA.user_id.encode())}
    response = device.create(options)
    passkey = service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)
    return device, passkey.credential_id


@pytest.mark.parametrize("first", ["second_factor", "sign_in"])
def test_legacy_handle_accepted_then_recorded(
    service: MfaService, store: MfaStore, first: str
) -> None:
    """A credential registered with the user id as handle signs in and gets that handle recorded."""
    device, credential_id = _legacy_device(service)
    stored = store.get_webauthn_credential(credential_id)
    assert stored is not None
    store.delete_webauthn_credential(ADA.user_id, credential_id)
    store.add_webauthn_credential(dataclasses.replace(stored, user_handle=None))
    if first == "second_factor":
        start = service.begin_second_factor(ADA.user_id)
        assert start.challenge_id is not None
        service.verify_passkey(ADA.user_id, start.challenge_id, device.get(start.webauthn_options))  # type: ignore[arg-type]
    else:
        assert _sign_in(service, device).user_id == ADA.user_id
    recorded = store.get_webauthn_credential(credential_id)
    assert recorded is not None
    assert recorded.user_handle == ADA.user_id.encode()
    assert _sign_in(service, device).credential_id == credential_id


def test_random_handle_credential_refuses_the_legacy_handle(
    service: MfaService, store: MfaStore, authenticator: SoftAuthenticator
) -> None:
    """A credential with a recorded random handle does not accept the user id as handle."""
    _register(service, authenticator)
    challenge_id, response = _assertion(service, authenticator)
    with pytest.raises(UnknownCredentialError):
        service.finish_passkey_sign_in(challenge_id, _with_handle(response, ADA.user_id.encode()))
