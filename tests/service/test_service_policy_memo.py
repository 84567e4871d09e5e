"""The memo of decoded organization policies: the same decoding, never a stale policy."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

import pytest
from service_helpers import build_service, enroll_totp

from mfakit.clock import FrozenClock
from mfakit.errors import ConfigurationError, MalformedDataError
from mfakit.policy import OrgPolicy
from mfakit.repositories import MfaStore
from mfakit.service import InMemoryOutbox, _policy_codec, decode_policy, encode_policy
from mfakit.service._policy_codec import PolicyMemo


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every mapping the memo hands to ``decode_policy``, in order."""
    seen: list[dict[str, Any]] = []
    real = _policy_codec.decode_policy

    def counting(stored: Any) -> OrgPolicy:
        seen.append(dict(stored))
        return real(stored)

    monkeypatch.setattr(_policy_codec, "decode_policy", counting)
    return seen


def test_same_stored_policy_is_decoded_once(decodes: list[dict[str, Any]]) -> None:
    """A second read of the same mapping (a fresh copy) gets the same policy object."""
    memo = PolicyMemo()
    stored = encode_policy(OrgPolicy(trusted_browser_days=30))
    first = memo.decode(stored)
    again = memo.decode(encode_policy(OrgPolicy(trusted_browser_days=30)))
    assert again is first
    assert first == decode_policy(stored)
    assert len(decodes) == 1


def test_a_changed_policy_is_decoded_again(decodes: list[dict[str, Any]]) -> None:
    """Any change to the stored mapping is decoded, not served from the memo."""
    memo = PolicyMemo()
    before = memo.decode(encode_policy(OrgPolicy(trusted_browser_days=30)))
    after = memo.decode(encode_policy(OrgPolicy(trusted_browser_days=7)))
    assert (before.trusted_browser_days, after.trusted_browser_days) == (30, 7)
    assert len(decodes) == 2


@pytest.mark.parametrize("twin", [1.0, True])
def test_values_equal_in_python_but_not_in_json_are_decoded_apart(twin: object) -> None:
    """``1``, ``1.0`` and ``true`` compare equal in Python; decoding tells them apart.

    A memo keyed by Python equality would hand the policy decoded from ``1``
    to a stored ``true`` that decoding refuses.
    """
    memo = PolicyMemo()
    good = encode_policy(OrgPolicy(min_methods=1))
    assert memo.decode(good).min_methods == 1
    odd = {**good, "min_methods": twin}
    assert odd == good  # the trap
    with pytest.raises(MalformedDataError):
        decode_policy(odd)
    with pytest.raises(MalformedDataError):
        memo.decode(odd)


def test_a_refused_mapping_is_refused_every_time(decodes: list[dict[str, Any]]) -> None:
    """Nothing is kept for a mapping that decoding refuses."""
    memo = PolicyMemo()
    bad = {**encode_policy(OrgPolicy()), "min_methods": "two"}
    for _ in range(2):
        with pytest.raises(MalformedDataError):
            memo.decode(bad)
    assert len(decodes) == 2
    assert len(memo) == 0


def test_read_only_and_non_json_mappings() -> None:
    """A read-only mapping is keyed like its dict; a non-JSON-able one is decoded, not kept."""
    memo = PolicyMemo()
    stored = encode_policy(OrgPolicy(trusted_browser_days=3))
    frozen = MappingProxyType(
        {**stored, "step_up_max_ages": MappingProxyType(dict(stored["step_up_max_ages"]))}
    )
    assert memo.decode(frozen) is memo.decode(stored)
    odd = {**stored, "unknown_extra": object()}  # unknown keys are ignored by decoding
    assert memo.decode(odd) == decode_policy(stored)
    assert len(memo) == 1


def test_the_memo_is_bounded(decodes: list[dict[str, Any]]) -> None:
    """At most ``size`` policies are held; the oldest decoded goes first."""
    memo = PolicyMemo(size=2)
    texts = [encode_policy(OrgPolicy(trusted_browser_days=d)) for d in (1, 2, 3)]
    for stored in texts:
        memo.decode(stored)
    assert len(memo) == 2
    memo.decode(texts[2])
    memo.decode(texts[1])
    assert len(decodes) == 3  # both still held
    memo.decode(texts[0])
    assert len(decodes) == 4  # it was dropped


@pytest.mark.parametrize("size", [0, -1, True, 2.5])
def test_bad_sizes_are_refused(size: Any) -> None:
    """The size is a positive int."""
    with pytest.raises(ConfigurationError):
        PolicyMemo(size=size)


def test_another_server_changing_the_policy_is_seen_on_the_next_read(
    store: MfaStore, clock: FrozenClock
) -> None:
    """Two application servers on one store: a policy set by one is used by the other at once."""
    here = build_service(store, clock, InMemoryOutbox())
    there = build_service(store, clock, InMemoryOutbox())
    enroll_totp(here, clock, "owner")
    here.create_organization("acme", name="Acme", owner_id="owner")
    assert here.trusted_browser_days("owner", org_id="acme") == 0
    there.set_policy("acme", OrgPolicy(trusted_browser_days=30), actor_id="owner")
    assert here.trusted_browser_days("owner", org_id="acme") == 30
    # A policy broken in the store (outside the service) is refused, not served from memory.
    org = store.get_organization("acme")
    assert org is not None
    broken = {**org.policy, "trusted_browser_days": "thirty"}
    assert store.update_organization(dataclasses.replace(org, policy=broken)) is not None
    with pytest.raises(MalformedDataError):
        here.trusted_browser_days("owner", org_id="acme")
