"""Automatic passkey upgrade (conditional create): UP=0 is accepted for that ceremony only."""

from __future__ import annotations

import dataclasses

import pytest
from service_helpers import SETTINGS, build_service

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, UserPresenceError, UserVerificationError
from mfakit.policy import MethodKind
from mfakit.repositories import MfaStore
from mfakit.service import InMemoryOutbox, MfaService, UserRef
from mfakit.testing import Fault, SoftAuthenticator

ADA = UserRef(user_id="u-ada", name="ada@example.com", display_name="Ada")


@pytest.fixture
def strict_service(store: MfaStore, clock: FrozenClock, outbox: InMemoryOutbox) -> MfaService:
    """A service that requires user verification for every ceremony."""
    return build_service(
        store, clock, outbox, dataclasses.replace(SETTINGS, require_user_verification=True)
    )


def test_conditional_create_accepts_a_response_without_presence_or_verification(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    started = service.begin_passkey_registration(ADA, name="Phone", mediation="conditional")
    assert started.mediation == "conditional"
    # Nothing is collected during a conditional create: the options ask for no UV.
    assert started.options["authenticatorSelection"]["userVerification"] == "discouraged"
    authenticator.user_verified = False
    response = authenticator.create(started.options, faults=[Fault.UP_CLEAR])
    passkey = service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)
    assert passkey.kind is MethodKind.PASSKEY
    assert [p.name for p in service.list_passkeys(ADA.user_id)] == ["Phone"]


def test_up_clear_is_refused_for_a_modal_registration(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    """The attack: a response without presence, sent against an ordinary challenge."""
    started = service.begin_passkey_registration(ADA, name="Phone")
    assert started.mediation == "optional"
    response = authenticator.create(started.options, faults=[Fault.UP_CLEAR])
    with pytest.raises(UserPresenceError):
        service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)
    assert service.list_passkeys(ADA.user_id) == ()


def test_up_clear_is_refused_for_a_security_key_and_for_sign_in(
    service: MfaService, authenticator: SoftAuthenticator
) -> None:
    started = service.begin_passkey_registration(ADA, name="Key", kind="security_key")
    response = authenticator.create(started.options, faults=[Fault.UP_CLEAR])
    with pytest.raises(UserPresenceError):
        service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)

    # A passkey registered by a conditional create still needs UP to sign in.
    upgrade = service.begin_passkey_registration(ADA, name="Phone", mediation="conditional")
    created = authenticator.create(upgrade.options, faults=[Fault.UP_CLEAR])
    service.finish_passkey_registration(ADA.user_id, upgrade.challenge_id, created)
    start = service.begin_second_factor(ADA.user_id)
    assert start.challenge_id is not None
    assert start.webauthn_options is not None
    assertion = authenticator.get(start.webauthn_options, faults=[Fault.UP_CLEAR])
    with pytest.raises(UserPresenceError):
        service.verify_passkey(ADA.user_id, start.challenge_id, assertion)


def test_uv_requirement_still_applies_to_modal_registrations(
    strict_service: MfaService, authenticator: SoftAuthenticator
) -> None:
    authenticator.user_verified = False
    started = strict_service.begin_passkey_registration(ADA, name="Phone")
    response = authenticator.create(started.options)
    with pytest.raises(UserVerificationError):
        strict_service.finish_passkey_registration(ADA.user_id, started.challenge_id, response)
    upgrade = strict_service.begin_passkey_registration(ADA, name="Phone", mediation="conditional")
    created = authenticator.create(upgrade.options, faults=[Fault.UP_CLEAR])
    strict_service.finish_passkey_registration(ADA.user_id, upgrade.challenge_id, created)
    assert len(strict_service.list_passkeys(ADA.user_id)) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mediation": "silent"}, "mediation must be"),
        ({"mediation": "conditional", "kind": "security_key"}, "passkey only"),
    ],
)
def test_bad_mediation_is_refused_before_anything_is_stored(
    service: MfaService, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        service.begin_passkey_registration(ADA, name="Phone", **kwargs)  # type: ignore[arg-type]
