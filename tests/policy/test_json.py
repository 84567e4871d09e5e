"""OrgPolicy.to_json / OrgPolicy.from_json: round trips and strict, field-naming errors."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfakit.errors import MalformedDataError
from mfakit.policy import (
    MethodKind,
    OrgPolicy,
    PrincipalKind,
    gradual_rollout,
    reference_console,
    remove_noncompliant,
)

_FIELDS = sorted(f.name for f in dataclasses.fields(OrgPolicy) if f.init)
_UNUSUAL = OrgPolicy(
    max_exemption=None,
    failed_attempts_lockout=None,
    step_up_max_age=timedelta(seconds=90.5),
    eligible_methods={
        PrincipalKind.OWNER: frozenset({MethodKind.SECURITY_KEY}),
        PrincipalKind.MEMBER: frozenset({MethodKind.TOTP, MethodKind.PASSKEY}),
        PrincipalKind.GUEST: frozenset({MethodKind.TOTP}),
    },
    reminder_offsets=(),
)


@pytest.mark.parametrize(
    "policy",
    [OrgPolicy(), reference_console(), gradual_rollout(), remove_noncompliant(), _UNUSUAL],
)
def test_round_trip_through_json_text(policy: OrgPolicy) -> None:
    """A policy survives to_json, JSON text and from_json unchanged."""
    assert OrgPolicy.from_json(json.loads(json.dumps(policy.to_json()))) == policy


def test_to_json_is_plain_data() -> None:
    """Durations are seconds, enums values, sets sorted lists."""
    data = reference_console().to_json()
    assert data["grace_lost_method"] == 7 * 86400
    assert data["activation"] == "require_full_compliance"
    assert data["scope"] == sorted(data["scope"])
    assert set(data) == set(_FIELDS)


def test_empty_mapping_is_the_default_policy() -> None:
    """Absent fields take their defaults."""
    assert OrgPolicy.from_json({}) == OrgPolicy()


def test_unknown_keys_are_ignored() -> None:
    """Keys of a newer mfakit (or old private markers) do not stop a policy from loading."""
    loaded = OrgPolicy.from_json({"future_field": [1], "_enforced_by": "o", "min_methods": 2})
    assert loaded.min_methods == 2


@pytest.mark.parametrize("data", [[], "policy", None, 3])
def test_not_a_mapping(data: Any) -> None:
    """Anything but a JSON object is malformed, named 'policy'."""
    with pytest.raises(MalformedDataError) as caught:
        OrgPolicy.from_json(data)
    assert caught.value.field == "policy"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("grace_existing", "7 days"),
        ("grace_existing", True),
        ("grace_existing", 1e300),
        ("max_exemption", "never"),
        ("reminder_offsets", 86400),
        ("reminder_offsets", ["a day"]),
        ("scope", "owner"),
        ("scope", [1]),
        ("step_up_actions", {"remove_method": True}),
        ("eligible_methods", ["totp"]),
        ("eligible_methods", {"owner": "totp"}),
        ("backup_codes_count", 1),
        ("min_methods", 1.0),
        ("min_methods", True),
        ("activation", 1),
        ("manage_permission", None),
    ],
)
def test_wrong_json_type_names_the_field(name: str, value: Any) -> None:
    """A value of the wrong JSON type is MalformedDataError naming its field."""
    with pytest.raises(MalformedDataError) as caught:
        OrgPolicy.from_json({name: value})
    assert caught.value.field == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("activation", "whenever"),
        ("min_methods", 0),
        ("max_failed_attempts", 10**6),
        ("scope", ["admin"]),
        ("eligible_methods", {"owner": ["sms"]}),
        ("eligible_methods", {"robot": ["totp"]}),
        ("grace_existing", -1),
        ("step_up_max_age", 0),
        ("manage_permission", ""),
    ],
)
def test_refused_value_names_the_field(name: str, value: Any) -> None:
    """A well-typed value the policy refuses is MalformedDataError naming its field."""
    with pytest.raises(MalformedDataError) as caught:
        OrgPolicy.from_json({"min_methods": 2, name: value})
    assert caught.value.field == name


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
_JSON = st.recursive(
    _SCALARS | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(data=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=4))
def test_random_json_gives_a_policy_or_malformed(data: dict[str, Any]) -> None:
    """Random JSON for known fields yields a policy or MalformedDataError, nothing else."""
    field: str | None = None
    try:
        policy = OrgPolicy.from_json(data)
    except MalformedDataError as exc:
        field = exc.field
    else:
        assert OrgPolicy.from_json(policy.to_json()) == policy
        return
    assert field in data or field == "policy"


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(_FIELDS), value=_JSON)
def test_mutated_stored_policy(name: str, value: Any) -> None:
    """One field of a stored policy replaced by random JSON: a policy or MalformedDataError."""
    stored = reference_console().to_json()
    stored[name] = value
    field: str | None = name
    try:
        OrgPolicy.from_json(stored)
    except MalformedDataError as exc:
        field = exc.field
    assert field in (name, "policy")
