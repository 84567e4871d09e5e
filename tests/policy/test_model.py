"""The policy value, the facts and the decision types: validation, presets, JSON, public API."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import mfakit.policy as policy_pkg
from mfakit.errors import ConfigurationError, PolicyDeniedError
from mfakit.policy import (
    ActivationMode,
    ConfirmationPhrase,
    Exemption,
    GraceAnchor,
    LastMethodRemoval,
    Lock,
    Method,
    MethodKind,
    OrgPolicy,
    OrgState,
    Outcome,
    PostDeadlineAction,
    Principal,
    PrincipalKind,
    SensitiveAction,
    can_add_method,
    can_enable_enforcement,
    evaluate_login,
    evaluate_sensitive_action,
    gradual_rollout,
    member_compliance,
    reference_console,
    remove_noncompliant,
    to_json,
)

from .helpers import DAY, NOW, bare, org, owner, person

EXPECTED_ALL = [
    "ActivationMode",
    "AuditAction",
    "AuditEvent",
    "ComplianceReport",
    "ComplianceStatus",
    "ConfirmationPhrase",
    "DEFAULT_STEP_UP_ACTIONS",
    "Decision",
    "Effect",
    "EffectKind",
    "Exemption",
    "GraceAnchor",
    "GraceKind",
    "JsonValue",
    "LastMethodRemoval",
    "Lock",
    "LockReason",
    "MAX_TRUSTED_BROWSER_DAYS",
    "METHOD_CHANGE_ACTIONS",
    "MemberCompliance",
    "Method",
    "MethodKind",
    "Notification",
    "NotificationKind",
    "Obligation",
    "ObligationKind",
    "OrgPolicy",
    "OrgState",
    "Outcome",
    "PostDeadlineAction",
    "Principal",
    "PrincipalKind",
    "PrincipalStatus",
    "Reason",
    "ReasonCode",
    "RuleId",
    "SensitiveAction",
    "can_accept_invitation",
    "can_add_method",
    "can_enable_enforcement",
    "can_grant_exemption",
    "can_remove_member",
    "can_remove_method",
    "can_reset_mfa",
    "can_revoke_exemption",
    "can_stop_enforcement",
    "can_unlock",
    "check_action",
    "due_reminders",
    "evaluate_login",
    "evaluate_sensitive_action",
    "evaluate_support_reset",
    "gradual_rollout",
    "member_compliance",
    "org_compliance_report",
    "reference_console",
    "remove_noncompliant",
    "sweep",
    "to_json",
]


def test_public_api_is_pinned() -> None:
    """mfakit.policy exports exactly these names."""
    assert policy_pkg.__all__ == EXPECTED_ALL


def test_default_policy_is_safe() -> None:
    """Defaults: full compliance to enforce, lock after a deadline, invitees need MFA."""
    p = OrgPolicy()
    assert p.activation is ActivationMode.REQUIRE_FULL_COMPLIANCE
    assert p.after_deadline is PostDeadlineAction.LOCK
    assert p.invitations_require_mfa
    assert not p.backup_codes_count
    assert SensitiveAction.REMOVE_METHOD in p.step_up_actions
    assert p.scope == frozenset(PrincipalKind)
    assert MethodKind.BACKUP_CODES not in p.qualifying_kinds(PrincipalKind.MEMBER)


def test_reference_console_preset() -> None:
    """Passkeys owner-only, TOTP for all, grace then lock, invitees must have MFA."""
    p = reference_console()
    assert p.eligible_methods[PrincipalKind.MEMBER] == {MethodKind.TOTP}
    assert p.eligible_methods[PrincipalKind.GUEST] == {MethodKind.TOTP}
    assert MethodKind.PASSKEY in p.eligible_methods[PrincipalKind.OWNER]
    assert p.activation is ActivationMode.REQUIRE_FULL_COMPLIANCE
    assert p.last_method_removal is LastMethodRemoval.GRACE
    assert p.after_deadline is PostDeadlineAction.LOCK


def test_remove_noncompliant_preset() -> None:
    """This preset removes overdue members instead of locking them."""
    p = remove_noncompliant()
    assert p.after_deadline is PostDeadlineAction.REMOVE
    assert p.activation is ActivationMode.START_GRACE
    assert p.last_method_removal is LastMethodRemoval.REFUSE


def test_gradual_rollout_preset() -> None:
    """This preset starts a grace period for everyone at enforcement and never locks."""
    p = gradual_rollout()
    assert p.activation is ActivationMode.START_GRACE
    assert p.after_deadline is PostDeadlineAction.BLOCK
    assert not p.invitations_require_mfa


def test_policy_accepts_string_values() -> None:
    """Enum fields accept their string values and offsets are normalised, longest first."""
    p = OrgPolicy(
        activation="start_grace",  # type: ignore[arg-type]
        eligible_methods={"owner": ["totp"], "member": ["totp", "backup_codes"], "guest": ["totp"]},  # type: ignore[dict-item]
        reminder_offsets=(DAY, 3 * DAY, DAY),
    )
    assert p.activation is ActivationMode.START_GRACE
    assert p.eligible_methods[PrincipalKind.MEMBER] == {MethodKind.TOTP}
    assert p.reminder_offsets == (3 * DAY, DAY)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("activation", "sometimes"),
        ("grace_existing", 7),
        ("grace_new_member", -DAY),
        ("grace_lost_method", 400 * DAY),
        ("grace_after_unlock", "1d"),
        ("step_up_max_age", timedelta(0)),
        ("max_exemption", timedelta(0)),
        ("failed_attempts_lockout", -DAY),
        ("unlock_restarts_grace", 1),
        ("backup_codes_count", "yes"),
        ("min_methods", 0),
        ("min_methods", True),
        ("min_methods", 11),
        ("max_failed_attempts", 0),
        ("scope", "owner"),
        ("scope", {"admin"}),
        ("after_deadline", "delete"),
        ("last_method_removal", None),
        ("step_up_actions", 3),
        ("manage_permission", ""),
        ("reminder_offsets", "3d"),
        ("reminder_offsets", (DAY, timedelta(0))),
        ("eligible_methods", [("owner", "totp")]),
        ("eligible_methods", {"owner": ["sms"]}),
        ("eligible_methods", {"member": []}),
    ],
)
def test_policy_validation_names_the_field(field: str, value: Any) -> None:
    """An invalid value raises ConfigurationError naming the field."""
    with pytest.raises(ConfigurationError, match=f"OrgPolicy.{field}"):
        OrgPolicy(**{field: value})


def test_policy_eligible_methods_may_leave_out_of_scope_kinds_empty() -> None:
    """A kind outside the scope may have no eligible method."""
    p = OrgPolicy(
        scope=frozenset({PrincipalKind.OWNER}),
        eligible_methods={PrincipalKind.OWNER: frozenset({MethodKind.TOTP})},
    )
    assert p.eligible_methods[PrincipalKind.GUEST] == frozenset()


def test_policy_backup_codes_alone_can_satisfy_a_kind() -> None:
    """With backup_codes_count, a kind may rely on backup codes alone."""
    p = OrgPolicy(backup_codes_count=True, eligible_methods={})
    assert p.qualifying_kinds(PrincipalKind.GUEST) == {MethodKind.BACKUP_CODES}


def test_policy_is_immutable() -> None:
    """OrgPolicy is frozen, and so is its eligible_methods table."""
    p = OrgPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.min_methods = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.eligible_methods[PrincipalKind.MEMBER] = frozenset()  # type: ignore[index]


NAIVE = datetime(2026, 1, 1)  # noqa: DTZ001 -- the point of these tests


@pytest.mark.parametrize(
    "build",
    [
        lambda: Method(id="m", kind=MethodKind.TOTP, created_at=NAIVE),
        lambda: Method(id="m", kind=MethodKind.TOTP, created_at=NOW, last_used_at=NAIVE),
        lambda: Principal(id="p", joined_at=NAIVE),
        lambda: Principal(id="p", last_mfa_at=NAIVE),
        lambda: Principal(id="p", last_reminder_at=NAIVE),
        lambda: Exemption(granted_by="o", granted_at=NAIVE, expires_at=NOW),
        lambda: Lock(reason="admin", locked_at=NAIVE),  # type: ignore[arg-type]
        lambda: GraceAnchor(kind="unlock", started_at=NAIVE),  # type: ignore[arg-type]
        lambda: OrgState(id="o", enforced_since=NAIVE),
    ],
)
def test_facts_refuse_naive_datetimes(build: Any) -> None:
    """Every fact refuses a naive datetime."""
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        build()


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Method(id="", kind="totp", created_at=NOW), "Method.id"),
        (lambda: Method(id="m", kind="sms", created_at=NOW), "Method.kind"),
        (lambda: Method(id="m", kind=["totp"], created_at=NOW), "Method.kind"),
        (lambda: Method(id="m", kind="totp", created_at=NOW, label=3), "Method.label"),
        (lambda: Method(id="m", kind="totp", created_at=NOW, confirmed=1), "Method.confirmed"),
        (lambda: Exemption(granted_by="o", granted_at=NOW, expires_at=NOW), "expires_at"),
        (lambda: Lock(reason="angry", locked_at=NOW), "Lock.reason"),
        (lambda: Lock(reason="admin", locked_at=NOW, locked_by=""), "Lock.locked_by"),
        (lambda: Principal(id="p", kind="root"), "Principal.kind"),
        (lambda: Principal(id="p", status="gone"), "Principal.status"),
        (lambda: Principal(id="p", methods=("totp",)), "Principal.methods"),
        (lambda: Principal(id="p", grace=NOW), "Principal.grace"),
        (lambda: Principal(id="p", exemption=NOW), "Principal.exemption"),
        (lambda: Principal(id="p", lock="admin"), "Principal.lock"),
        (lambda: Principal(id="p", failed_attempts=-1), "Principal.failed_attempts"),
        (lambda: Principal(id="p", failed_attempts=True), "Principal.failed_attempts"),
        (lambda: Principal(id="p", permissions=frozenset({1})), "Principal.permissions"),
        (lambda: Principal(id="p", permissions="admin"), "Principal.permissions"),
        (lambda: Principal(id="p", methods=None), "Principal.methods"),
        (lambda: OrgState(id="o", enforced_by=""), "OrgState.enforced_by"),
        (lambda: OrgState(id="o", owner_count=-1), "OrgState.owner_count"),
    ],
)
def test_facts_validation_names_the_field(build: Any, match: str) -> None:
    """Invalid facts raise ConfigurationError naming the field."""
    with pytest.raises(ConfigurationError, match=match):
        build()


def test_duplicate_method_ids_are_refused() -> None:
    """Two methods with one id are refused."""
    m = Method(id="x", kind="totp", created_at=NOW)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="same id"):
        Principal(id="p", methods=(m, m))


def test_facts_normalise_to_utc_and_accept_strings() -> None:
    """Aware datetimes in other zones become UTC; lists become tuples; strings become enums."""
    paris = timezone(timedelta(hours=1))
    m = Method(id="m", kind="passkey", created_at=datetime(2026, 1, 1, 13, tzinfo=paris))  # type: ignore[arg-type]
    p = Principal(id="p", kind="owner", methods=[m], permissions={"x"})  # type: ignore[arg-type]
    assert m.created_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert m.created_at.tzinfo is UTC
    assert m.kind is MethodKind.PASSKEY
    assert p.methods == (m,)
    assert p.kind is PrincipalKind.OWNER
    assert p.permissions == frozenset({"x"})


def test_facts_keep_normalised_values_as_given() -> None:
    """Values already normalised (UTC datetimes, enums, tuples, frozensets) are kept, not copied."""
    paris = timezone(timedelta(hours=1))
    m = Method(id="m", kind=MethodKind.TOTP, created_at=NOW, last_used_at=NOW)
    methods, perms = (m,), frozenset({"x"})
    p = Principal(id="p", methods=methods, joined_at=NOW, last_mfa_at=NOW, permissions=perms)
    assert m.created_at is NOW
    assert m.last_used_at is NOW
    assert p.methods is methods
    assert p.permissions is perms
    assert p.joined_at is NOW
    later = Principal(id="p", joined_at=datetime(2026, 1, 1, 13, tzinfo=paris))
    assert later.joined_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert later.joined_at.tzinfo is UTC


@pytest.mark.parametrize(
    "call",
    [
        lambda: evaluate_login(reference_console(), org(), principal=person(), now=NAIVE),
        lambda: member_compliance(reference_console(), org(), principal=person(), now="now"),
        lambda: evaluate_login(OrgPolicy, org(), principal=person(), now=NOW),
        lambda: evaluate_login(reference_console(), "org", principal=person(), now=NOW),
        lambda: evaluate_login(reference_console(), org(), principal="m1", now=NOW),
        lambda: can_add_method(reference_console(), org(), principal=person(), kind="sms", now=NOW),
        lambda: can_add_method(
            reference_console(), org(), principal=person(), kind="totp", label=1, now=NOW
        ),
        lambda: evaluate_sensitive_action(
            reference_console(), org(), principal=person(), action="Fly!", now=NOW
        ),
        lambda: can_enable_enforcement(
            reference_console(),
            org(enforced=False),
            actor=owner(),
            principals=[],
            confirmation=b"ENFORCE",
            now=NOW,
        ),
        lambda: can_enable_enforcement(
            reference_console(),
            org(enforced=False),
            actor=owner(),
            principals=["x"],
            confirmation="ENFORCE",
            now=NOW,
        ),
    ],
)
def test_entry_points_refuse_bad_arguments(call: Any) -> None:
    """Naive times and arguments of the wrong type raise ConfigurationError."""
    with pytest.raises(ConfigurationError):
        call()


def test_confirmation_phrases() -> None:
    """The three typed phrases of the reference console."""
    assert [p.value for p in ConfirmationPhrase] == ["ENFORCE", "STOP", "DELETE"]


def test_decision_is_json_friendly() -> None:
    """to_dict() gives plain JSON: strings, numbers, lists, dicts."""
    decision = evaluate_login(reference_console(), org(), principal=bare(), now=NOW)
    text = json.dumps(decision.to_dict(), sort_keys=True)
    data = json.loads(text)
    assert data["outcome"] == "deny"
    assert data["effects"][0] == {
        "kind": "lock",
        "subject": "m2",
        "at": NOW.isoformat(),
        "grace_kind": None,
        "lock_reason": "mfa_deadline",
        "actor": None,
        "enabled": None,
        "until": None,
        "reason": None,
    }
    assert data["audit"][0]["reasons"] == ["deadline_passed", "deadline_passed"]
    assert data["rules"] == ["grace.deadline", "deadline.action"]


def test_to_json_converts_facts_and_policies() -> None:
    """Facts and policies serialise too (durations as seconds, sets sorted)."""
    p = to_json(reference_console())
    assert p["grace_lost_method"] == 7 * 86400
    assert p["eligible_methods"]["member"] == ["totp"]
    assert "_qualifying" not in p
    assert to_json(timedelta(milliseconds=1500)) == 1.5
    json.dumps(to_json(person()))


def test_require_allowed() -> None:
    """require_allowed returns an allowed decision and raises PolicyDeniedError otherwise."""
    ok = evaluate_login(reference_console(), org(), principal=person(), now=NOW)
    assert ok.require_allowed() is ok
    refused = evaluate_login(reference_console(), org(), principal=bare(), now=NOW)
    with pytest.raises(PolicyDeniedError) as info:
        refused.require_allowed()
    assert info.value.decision is refused
    assert "login" in str(info.value)


def test_require_allowed_without_reasons() -> None:
    """A decision without reasons still raises with its outcome in the message."""
    bare_decision = dataclasses.replace(
        evaluate_login(reference_console(), org(), principal=bare(), now=NOW), reasons=()
    )
    with pytest.raises(PolicyDeniedError, match="deny"):
        bare_decision.require_allowed()


def test_every_decision_has_an_audit_event() -> None:
    """The audit event mirrors the decision: action, outcome, actor, reasons, effect kinds."""
    decision = evaluate_login(reference_console(), org(), principal=bare(), now=NOW)
    (event,) = decision.audit
    assert event.action is decision.action
    assert event.outcome is Outcome.DENY
    assert event.actor == "m2"
    assert event.at == NOW
    assert event.effects == tuple(e.kind for e in decision.effects)


def test_sensitive_action_of_a_locked_principal_is_refused() -> None:
    """A locked principal cannot pass the sensitive-action check."""
    locked = person(lock=Lock(reason="admin", locked_at=NOW))  # type: ignore[arg-type]
    decision = evaluate_sensitive_action(
        reference_console(), org(), principal=locked, action="remove_method", now=NOW
    )
    assert decision.outcome is Outcome.DENY


@pytest.mark.parametrize("status", ["removed"])
def test_add_method_for_removed_principal_is_refused(status: str) -> None:
    """A removed principal cannot add a method."""
    who = person(status=status)
    assert not can_add_method(
        reference_console(), org(), principal=who, kind="totp", now=NOW
    ).allowed


def test_add_method_for_locked_principal_is_refused() -> None:
    """A locked principal cannot add a method."""
    who = bare(lock=Lock(reason="admin", locked_at=NOW))  # type: ignore[arg-type]
    decision = can_add_method(reference_console(), org(), principal=who, kind="totp", now=NOW)
    assert decision.outcome is Outcome.DENY


def test_add_method_recommends_a_second_one() -> None:
    """Adding a first qualifying method comes with the advice to add a second."""
    decision = can_add_method(reference_console(), org(), principal=bare(), kind="totp", now=NOW)
    assert "second_method_recommended" in [c.value for c in decision.codes]
    two = can_add_method(reference_console(), org(), principal=owner(), kind="passkey", now=NOW)
    assert "second_method_recommended" not in [c.value for c in two.codes]


def test_login_exemption_for_invitee_and_owner_kinds() -> None:
    """Exempt and compliant principals are allowed in with a reason."""
    ex = Exemption(granted_by="o1", granted_at=NOW - DAY, expires_at=NOW + DAY)
    decision = evaluate_login(reference_console(), org(), principal=bare(exemption=ex), now=NOW)
    assert decision.allowed
    assert decision.next_evaluation == NOW + DAY


def test_org_state_enforced_flag() -> None:
    """OrgState.enforced follows enforced_since."""
    assert org().enforced
    assert not org(enforced=False).enforced


def test_decision_parts_are_read_only() -> None:
    """Reason parameters and report counts cannot be changed after the fact."""
    decision = evaluate_login(reference_console(), org(), principal=bare(), now=NOW)
    with pytest.raises(TypeError):
        decision.reasons[0].params["deadline"] = "never"  # type: ignore[index]
