"""The service's public surface, settings, construction, notifier and audit trail."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from service_helpers import enroll_totp

import mfakit.service
from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, MalformedDataError, ReplayedCodeError
from mfakit.policy import OrgPolicy, gradual_rollout, reference_console
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    InMemoryOutbox,
    LoginCode,
    Message,
    MethodAdded,
    MfaService,
    RelyingParty,
    ServiceSettings,
    UserRef,
    decode_policy,
    encode_policy,
)
from mfakit.stores.memory import MemoryStore


def test_all_is_pinned() -> None:
    """The module's public names are exactly these."""
    assert mfakit.service.__all__ == [
        "AccountLocked",
        "AccountUnlocked",
        "Advice",
        "AsyncMfaService",
        "BackupCodeSet",
        "BackupCodeStatus",
        "BackupCodesLow",
        "DeliveryReport",
        "EnforcementStopped",
        "GracePeriodStarted",
        "IamLoginResult",
        "InMemoryOutbox",
        "LoginCode",
        "LoginCodeRequested",
        "Mediation",
        "MemberRemoved",
        "Message",
        "MethodAdded",
        "MethodRemoval",
        "MethodRemoved",
        "MfaReminder",
        "MfaReset",
        "MfaService",
        "NoSessionRevoker",
        "Notifier",
        "Passkey",
        "PasskeyNowSynced",
        "PasskeyRegistration",
        "PasskeySignInChallenge",
        "PasskeySignInResult",
        "PasskeySignals",
        "RelyingParty",
        "RewrapProgress",
        "SecondFactorChallenge",
        "SecondFactorResult",
        "ServiceSettings",
        "SessionRevoker",
        "SignCountAnomaly",
        "SweepReport",
        "TotpActivation",
        "TotpDevice",
        "TotpEnrollment",
        "TrustRefusal",
        "TrustedBrowserCheck",
        "TrustedBrowserEntry",
        "TrustedBrowserToken",
        "UserRef",
        "decode_policy",
        "encode_policy",
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pending_totp_ttl", timedelta(0)),
        ("totp_window", 11),
        ("totp_digits", 5),
        ("backup_code_count", 0),
        ("backup_codes_low", -1),
        ("challenge_ttl", 5),
        ("throttle_max_failures", 0),
        ("throttle_free_failures", 11),
        ("throttle_backoff_base", timedelta(seconds=-1)),
        ("throttle_backoff_cap", timedelta(0)),
        ("require_user_verification", "yes"),
        ("accept_backup_eligibility_upgrade", 1),
        ("backup_code_hasher", "argon2"),
        ("login_codes", None),
        ("personal_policy", {}),
        ("invitation_ttl", timedelta(0)),
    ],
)
def test_settings_are_validated(field: str, value: object) -> None:
    """A bad setting is a ConfigurationError naming the field."""
    with pytest.raises(ConfigurationError, match=field):
        ServiceSettings(**{field: value})  # type: ignore[arg-type]


def test_backoff_doubles_up_to_cap() -> None:
    """Free failures cost nothing; then 1 s, 2 s, 4 s ... up to the cap."""
    s = ServiceSettings(throttle_backoff_cap=timedelta(seconds=5))
    assert [s.backoff(n).total_seconds() for n in range(1, 8)] == [0, 0, 0, 1, 2, 4, 5]
    assert s.backoff(10_000) == timedelta(seconds=5)


def test_user_ref_and_relying_party_validation() -> None:
    """User ids fit a WebAuthn user handle; origins look like origins."""
    assert UserRef(user_id="u", name="ada").display_name == "ada"
    for bad in ("", " u", "x" * 65):
        with pytest.raises(ConfigurationError):
            UserRef(user_id=bad, name="ada")
    with pytest.raises(ConfigurationError):
        UserRef(user_id="u", name=" ")
    with pytest.raises(ConfigurationError):
        UserRef(user_id="u", name="a", display_name=3)  # type: ignore[arg-type]
    rp = RelyingParty(rp_id="example.com", rp_name="Ex", origins="https://example.com")  # type: ignore[arg-type]
    assert rp.origins == ("https://example.com",)
    for kwargs in (
        {"rp_id": "https://example.com"},
        {"rp_name": ""},
        {"origins": ()},
        {"origins": ("example.com",)},
    ):
        args = {"rp_id": "example.com", "rp_name": "Ex", "origins": ("https://example.com",)}
        args.update(kwargs)
        with pytest.raises(ConfigurationError):
            RelyingParty(**args)  # type: ignore[arg-type]


def test_relying_party_origins_must_be_covered() -> None:
    """An origin outside the RP ID needs the related origins document (WebAuthn L3 §5.11)."""
    rp = RelyingParty(
        rp_id="example.com",
        rp_name="Ex",
        origins=("https://example.com", "https://login.example.com", "https://example.co.uk"),
        related_origins=("https://example.co.uk", "https://example.de", "https://example.co.uk"),
    )
    assert rp.related_origins == ("https://example.co.uk", "https://example.de")
    assert rp.related_origins_document() == (
        '{"origins":["https://example.co.uk","https://example.de"]}'
    )
    local = RelyingParty(rp_id="localhost", rp_name="Dev", origins=("http://localhost:8000",))
    assert local.related_origins == ()
    with pytest.raises(ConfigurationError):
        local.related_origins_document()
    for kwargs in (
        {"origins": ("https://example.co.uk",)},
        {"origins": ("https://badexample.com",)},
        {"origins": ("http://example.com",)},
        {"origins": ("https://example.com/",)},
        {"origins": ("https://example.co.uk",), "related_origins": ("https://example.de",)},
        {"related_origins": ("https://example.co.uk/path",)},
        {"related_origins": "https://example.co.uk"},
    ):
        args: dict[str, object] = {
            "rp_id": "example.com",
            "rp_name": "Ex",
            "origins": ("https://example.com",),
        }
        args.update(kwargs)
        with pytest.raises(ConfigurationError) as caught:
            RelyingParty(**args)  # type: ignore[arg-type]
        assert "example.co.uk" not in str(caught.value)


def _build(**overrides: object) -> MfaService:
    args: dict[str, object] = {
        "store": MemoryStore(),
        "keys": KeyRing({"k": generate_key()}, current="k"),
        "notifier": InMemoryOutbox(),
        "relying_party": RelyingParty(
            rp_id="x.example", rp_name="X", origins=("https://x.example",)
        ),
        "issuer": "X",
        "login_code_key": bytes(32),
    }
    args.update(overrides)
    return MfaService(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "overrides",
    [
        {"store": object()},
        {"keys": b"k"},
        {"notifier": object()},
        {"relying_party": "x.example"},
        {"issuer": "a:b"},
        {"login_code_key": b"short"},
        {"settings": {}},
        {"clock": object()},
    ],
)
def test_construction_is_validated(overrides: dict[str, object]) -> None:
    """Wrong wiring fails at construction with ConfigurationError."""
    with pytest.raises(ConfigurationError):
        _build(**overrides)


def test_defaults_and_repr() -> None:
    """Default settings and clock; the repr names the store, never a key."""
    service = _build()
    assert service.settings == ServiceSettings()
    assert "MemoryStore" in repr(service)


def test_policy_codec_round_trip() -> None:
    """A policy survives encoding; an empty mapping is the default policy."""
    for policy in (reference_console(), gradual_rollout(), OrgPolicy(max_exemption=None)):
        assert decode_policy(encode_policy(policy)) == policy
    assert decode_policy({}) == OrgPolicy()
    assert decode_policy({"future_field": 1, "min_methods": 2}).min_methods == 2


@pytest.mark.parametrize(
    "stored",
    [
        [],
        {"grace_existing": "7d"},
        {"grace_existing": True},
        {"reminder_offsets": 5},
        {"min_methods": 0},
        {"grace_existing": 1e20},
    ],
)
def test_policy_codec_refuses_bad_data(stored: object) -> None:
    """A corrupt stored policy is MalformedDataError."""
    with pytest.raises(MalformedDataError):
        decode_policy(stored)  # type: ignore[arg-type]


def test_encode_refuses_non_policy() -> None:
    """Only an OrgPolicy can be encoded."""
    with pytest.raises(ConfigurationError):
        encode_policy({})  # type: ignore[arg-type]


def test_outbox_filters_and_clears() -> None:
    """The outbox lists, filters by type and user, and clears."""
    outbox = InMemoryOutbox()
    outbox.send(MethodAdded(user_id="a", method="totp"))
    outbox.send(MethodAdded(user_id="b", method="totp"))
    assert len(outbox) == 2
    assert [m.user_id for m in outbox.of_type(MethodAdded, user_id="b")] == ["b"]
    assert outbox.filter(lambda m: m.user_id == "a") == outbox.messages[:1]
    assert "2 messages" in repr(outbox)
    outbox.clear()
    assert outbox.messages == ()


def test_login_code_message_hides_code() -> None:
    """The only secret-carrying message keeps its code out of repr."""
    message = LoginCode(user_id="u", org_id="o", code="123456", expires_at=FrozenClock().now())
    assert "123456" not in repr(message)


class _Broken:
    def send(self, message: Message) -> None:
        raise RuntimeError("smtp down")


def test_failing_notifier_does_not_undo_the_action(store: MfaStore, clock: FrozenClock) -> None:
    """A notifier failure is audited; the action stands and no foreign error escapes."""
    service = MfaService(
        store=store,
        keys=KeyRing({"k": generate_key()}, current="k"),
        notifier=_Broken(),
        clock=clock,
        relying_party=RelyingParty(rp_id="x.example", rp_name="X", origins=("https://x.example",)),
        issuer="X",
        login_code_key=bytes(32),
        settings=ServiceSettings(backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS)),
    )
    enroll_totp(service, clock, "u-1")
    assert store.list_totp_devices("u-1")
    events = store.list_audit_events(user_id="u-1").items
    assert "notification.failed" in [e.action for e in events]


def test_audit_trail_records_actions_without_secrets(
    service: MfaService, store: MfaStore, clock: FrozenClock
) -> None:
    """Enrollment and sign-in are audited with outcomes; no code or key appears."""
    app, activation = enroll_totp(service, clock, "u-1")
    code = app.code()
    service.verify_totp("u-1", code)
    with pytest.raises(ReplayedCodeError):
        service.verify_totp("u-1", code)
    events = store.list_audit_events(user_id="u-1").items
    actions = [(e.action, e.outcome) for e in events]
    assert ("totp.activated", "success") in actions
    assert ("totp.verify", "success") in actions
    assert ("totp.verify", "failure") in actions
    dumped = repr([dataclasses.asdict(e) for e in events])
    assert code not in dumped
    assert all(c not in dumped for c in activation.backup_codes.codes)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_KEYS = st.sampled_from([*sorted(encode_policy(OrgPolicy())), "other"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, _JSON, max_size=6))
def test_decode_policy_never_raises_anything_else(stored: dict[str, object]) -> None:
    """Any stored mapping decodes to a policy or raises MalformedDataError."""
    with contextlib.suppress(MalformedDataError):
        assert isinstance(decode_policy(stored), OrgPolicy)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(encode_policy(OrgPolicy()))), _JSON)
def test_decode_policy_mutated_field(name: str, value: object) -> None:
    """A valid stored policy with one field replaced decodes or raises MalformedDataError."""
    stored = encode_policy(reference_console())
    stored[name] = value
    with contextlib.suppress(MalformedDataError):
        decode_policy(stored)
