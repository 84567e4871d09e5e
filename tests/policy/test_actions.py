"""Open action names, per-action step-up ages, trusted-browser days, and old stored policies."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.policy import (
    DEFAULT_STEP_UP_ACTIONS,
    METHOD_CHANGE_ACTIONS,
    ObligationKind,
    OrgPolicy,
    Outcome,
    Principal,
    SensitiveAction,
    check_action,
    evaluate_sensitive_action,
    reference_console,
)

from .helpers import NOW, org

MINUTE = timedelta(minutes=1)

#: reference_console().to_json() as mfakit wrote it before actions were open
#: (schema of the stored policy JSON before issue 15's step-up and trust fields).
STORED_BEFORE = json.loads(
    '{"activation": "require_full_compliance", "after_deadline": "lock", '
    '"allow_exemptions": true, "backup_codes_count": false, "eligible_methods": '
    '{"guest": ["totp"], "member": ["totp"], "owner": ["passkey", "security_key", "totp"]}, '
    '"failed_attempts_lockout": 900, "grace_after_unlock": 86400, "grace_existing": 604800, '
    '"grace_lost_method": 604800, "grace_new_member": 604800, "invitations_require_mfa": true, '
    '"last_method_removal": "grace", "manage_permission": "organization:mfa:manage", '
    '"max_exemption": 7776000, "max_failed_attempts": 10, "min_methods": 1, '
    '"reminder_offsets": [259200, 86400], "scope": ["guest", "member", "owner"], '
    '"step_up_actions": ["regenerate_backup_codes", "remove_method", "stop_enforcement"], '
    '"step_up_max_age": 900, "stop_clears_grace": true, "stop_releases_locks": true, '
    '"unlock_restarts_grace": true}'
)


def _who(minutes_ago: float | None) -> Principal:
    last = None if minutes_ago is None else NOW - timedelta(minutes=minutes_ago)
    return Principal(id="ada", last_mfa_at=last)


# -- action names ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["delete_project", "api_key.create", "org:42:delete", "x", "9"])
def test_host_actions_are_valid(name: str) -> None:
    """Any lower-case name of the safe characters is an action, returned as given."""
    assert check_action(name) == name
    assert type(check_action(name)) is str


def test_known_actions_come_back_as_members() -> None:
    """mfakit's own names are returned as SensitiveAction members."""
    assert check_action("remove_method") is SensitiveAction.REMOVE_METHOD


@pytest.mark.parametrize(
    "name", ["", "Delete", "a b", "-x", ".x", "x" * 65, "é", "a\x00", "a/b", None, 3, b"x"]
)
def test_invalid_actions_refused(name: Any) -> None:
    """Empty, too long, upper case, spaces, other characters, non-strings: refused."""
    with pytest.raises(ConfigurationError):
        check_action(name)


def test_sixty_four_characters_is_the_limit() -> None:
    """A 64-character name is valid."""
    assert check_action("a" * 64) == "a" * 64


# -- which actions need a step-up, and how recent -------------------------------------------


def test_default_set_includes_the_method_changes() -> None:
    """The default list: the method changes, stopping enforcement, the recovery actions."""
    assert OrgPolicy().step_up_actions == DEFAULT_STEP_UP_ACTIONS
    assert {
        "add_method",
        "replace_method",
        "remove_method",
        "regenerate_backup_codes",
        "stop_enforcement",
        "reset_mfa",
        "remove_member",
        "grant_exemption",
    } == DEFAULT_STEP_UP_ACTIONS


@pytest.mark.parametrize("action", sorted(METHOD_CHANGE_ACTIONS))
def test_method_changes_always_require_a_step_up(action: str) -> None:
    """Even a policy that lists nothing requires a step-up to change a method."""
    policy = OrgPolicy(step_up_actions=frozenset())
    assert policy.requires_step_up(action)
    decision = evaluate_sensitive_action(policy, org(), principal=_who(20), action=action, now=NOW)
    assert decision.outcome is Outcome.REQUIRE_STEP_UP


def test_host_action_needs_a_step_up_when_listed() -> None:
    """A host action requires a step-up when the policy lists it, not otherwise."""
    listed = OrgPolicy(step_up_actions={"project.delete"})
    assert listed.requires_step_up("project.delete")
    assert not OrgPolicy().requires_step_up("project.delete")
    outcome = evaluate_sensitive_action(
        listed, org(), principal=_who(20), action="project.delete", now=NOW
    ).outcome
    assert outcome is Outcome.REQUIRE_STEP_UP
    outcome = evaluate_sensitive_action(
        OrgPolicy(), org(), principal=_who(20), action="project.delete", now=NOW
    ).outcome
    assert outcome is Outcome.ALLOW


def test_age_per_action_with_a_default() -> None:
    """An action's own age applies; others use step_up_max_age."""
    policy = OrgPolicy(step_up_max_ages={"remove_method": 2 * MINUTE})
    assert policy.step_up_max_age_for("remove_method") == 2 * MINUTE
    assert policy.step_up_max_age_for("add_method") == 15 * MINUTE
    fresh = evaluate_sensitive_action(
        policy, org(), principal=_who(1), action="remove_method", now=NOW
    )
    assert fresh.outcome is Outcome.ALLOW
    assert fresh.next_evaluation == NOW + MINUTE
    stale = evaluate_sensitive_action(
        policy, org(), principal=_who(2), action="remove_method", now=NOW
    )
    assert stale.outcome is Outcome.REQUIRE_STEP_UP
    assert stale.obligations[0].kind is ObligationKind.STEP_UP
    assert stale.obligations[0].max_age_seconds == 120


def test_callers_max_age_requires_and_tightens() -> None:
    """With max_age any action needs a step-up, at the stricter age."""
    policy = OrgPolicy()
    decision = evaluate_sensitive_action(
        policy, org(), principal=_who(5), action="project.delete", now=NOW, max_age=4 * MINUTE
    )
    assert decision.outcome is Outcome.REQUIRE_STEP_UP
    decision = evaluate_sensitive_action(
        policy, org(), principal=_who(20), action="project.delete", now=NOW, max_age=60 * MINUTE
    )
    assert decision.outcome is Outcome.REQUIRE_STEP_UP  # the policy's 15 minutes win


def test_future_stamp_requires_a_step_up() -> None:
    """A check dated after now is not trusted."""
    decision = evaluate_sensitive_action(
        OrgPolicy(), org(), principal=_who(-1), action="remove_method", now=NOW
    )
    assert decision.outcome is Outcome.REQUIRE_STEP_UP


@pytest.mark.parametrize("bad", [timedelta(0), -MINUTE, 60])
def test_bad_callers_max_age_refused(bad: Any) -> None:
    """max_age must be a positive timedelta."""
    with pytest.raises(ConfigurationError):
        evaluate_sensitive_action(
            OrgPolicy(), org(), principal=_who(1), action="x", now=NOW, max_age=bad
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("step_up_max_ages", {"Bad Name": MINUTE}),
        ("step_up_max_ages", {"x": timedelta(0)}),
        ("step_up_max_ages", {"x": 60}),
        ("step_up_max_ages", [("x", MINUTE)]),
        ("step_up_actions", {"Remove"}),
        ("step_up_actions", "remove_method"),
        ("trusted_browser_days", -1),
        ("trusted_browser_days", 91),
        ("trusted_browser_days", True),
        ("trusted_browser_days", 7.0),
    ],
)
def test_new_fields_are_validated(field: str, value: Any) -> None:
    """Invalid ages, names and day counts raise ConfigurationError naming the field."""
    with pytest.raises(ConfigurationError, match=f"OrgPolicy.{field}"):
        OrgPolicy(**{field: value})


def test_trusted_browsers_are_off_by_default_and_capped() -> None:
    """Off unless a policy says otherwise; at most 90 days."""
    assert OrgPolicy().trusted_browser_days == 0
    assert reference_console().trusted_browser_days == 0
    assert OrgPolicy(trusted_browser_days=90).trusted_browser_days == 90


# -- stored policies ------------------------------------------------------------------------


def test_old_stored_policy_decodes_unchanged() -> None:
    """A policy stored before these fields existed reads back as it was meant."""
    policy = OrgPolicy.from_json(STORED_BEFORE)
    assert policy.step_up_actions == {
        SensitiveAction.REGENERATE_BACKUP_CODES,
        SensitiveAction.REMOVE_METHOD,
        SensitiveAction.STOP_ENFORCEMENT,
    }
    assert all(isinstance(a, SensitiveAction) for a in policy.step_up_actions)
    assert policy.step_up_max_age == 15 * MINUTE
    assert dict(policy.step_up_max_ages) == {}
    assert policy.trusted_browser_days == 0
    old_fields = {k: v for k, v in policy.to_json().items() if k in STORED_BEFORE}
    assert old_fields == STORED_BEFORE
    # Stopping enforcement is still the only listed non-method action.
    assert not policy.requires_step_up("enable_enforcement")


def test_new_fields_round_trip() -> None:
    """Per-action ages (seconds by name) and trusted days survive JSON text."""
    policy = OrgPolicy(
        step_up_actions={"project.delete", SensitiveAction.STOP_ENFORCEMENT},
        step_up_max_ages={"project.delete": 90 * timedelta(seconds=1), "add_method": MINUTE},
        trusted_browser_days=30,
    )
    data = policy.to_json()
    assert data["step_up_max_ages"] == {"add_method": 60, "project.delete": 90}
    assert data["step_up_actions"] == ["project.delete", "stop_enforcement"]
    assert data["trusted_browser_days"] == 30
    assert OrgPolicy.from_json(json.loads(json.dumps(data))) == policy


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("step_up_max_ages", [60]),
        ("step_up_max_ages", {"x": "a minute"}),
        ("trusted_browser_days", "30"),
        ("trusted_browser_days", 30.0),
    ],
)
def test_wrong_json_type_names_the_field(name: str, value: Any) -> None:
    """A new field of the wrong JSON type is MalformedDataError naming it."""
    with pytest.raises(MalformedDataError) as caught:
        OrgPolicy.from_json({name: value})
    assert caught.value.field == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("step_up_max_ages", {"Not An Action": 60}),
        ("step_up_max_ages", {"x": 0}),
        ("step_up_actions", ["DROP TABLE"]),
        ("trusted_browser_days", 365),
    ],
)
def test_refused_value_names_the_field(name: str, value: Any) -> None:
    """A well-typed value the policy refuses is MalformedDataError naming its field."""
    with pytest.raises(MalformedDataError) as caught:
        OrgPolicy.from_json({name: value})
    assert caught.value.field == name
