"""Mapping between stored records and the policy's facts, and applying policy effects.

Pure functions: they take records and return facts or new records.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from mfakit.errors import MalformedDataError
from mfakit.policy import (
    Effect,
    EffectKind,
    Exemption,
    GraceAnchor,
    GraceKind,
    Lock,
    LockReason,
    Method,
    MethodKind,
    OrgState,
    Principal,
    PrincipalKind,
    PrincipalStatus,
)
from mfakit.repositories import (
    Membership,
    MembershipStatus,
    MemberSummary,
    Organization,
    TotpCredential,
    WebAuthnCredential,
    WebAuthnKind,
)

__all__ = [
    "BACKUP_METHOD_ID",
    "LEGACY_ENFORCED_BY",
    "TOTP_LABEL",
    "TOTP_METHOD_PREFIX",
    "apply_effect",
    "credential_method_id",
    "passkey_kind",
    "principal_of",
    "principal_of_summary",
    "totp_method_id",
    "org_state_of",
    "upgrade_organization",
    "user_methods",
]

#: The prefix of the policy method id of each of a user's TOTP devices.
TOTP_METHOD_PREFIX = "totp:"
#: What a device is called in messages when it has no name of its own.
TOTP_LABEL = "Authenticator app"
#: The policy method id of a user's backup code set.
BACKUP_METHOD_ID = "backup_codes"
_NO_PERMISSIONS: frozenset[str] = frozenset()
#: Where services before :attr:`Organization.enforced_by` existed kept it: in the policy.
LEGACY_ENFORCED_BY = "_enforced_by"


def totp_method_id(totp_id: str) -> str:
    """The policy method id of one TOTP device."""
    return TOTP_METHOD_PREFIX + totp_id


def credential_method_id(credential_id: bytes) -> str:
    """The policy method id of a WebAuthn credential."""
    return "webauthn:" + base64.urlsafe_b64encode(credential_id).rstrip(b"=").decode("ascii")


class _CredentialFacts(Protocol):
    """What a method fact needs of a credential: a full record or a listing's summary."""

    @property
    def credential_id(self) -> bytes: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> WebAuthnKind: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def last_used_at(self) -> datetime | None: ...


def passkey_kind(credential: _CredentialFacts) -> MethodKind:
    """The method kind the user registered the credential as (stored on the record)."""
    return MethodKind(credential.kind)


def user_methods(
    totp_devices: Iterable[TotpCredential],
    credentials: Iterable[WebAuthnCredential],
    unused_backup_codes: int,
    backup_created_at: datetime | None,
) -> tuple[Method, ...]:
    """The user's confirmed second factors as policy :class:`~mfakit.policy.Method` facts.

    Each TOTP device is a method of its own (id :func:`totp_method_id`,
    labelled with the device's name).
    """
    devices = [
        Method(
            id=totp_method_id(d.totp_id),
            kind=MethodKind.TOTP,
            created_at=d.confirmed_at or d.created_at,
            label=d.name,
            last_used_at=d.last_used_at,
        )
        for d in totp_devices
    ]
    return _methods(devices, credentials, unused_backup_codes, backup_created_at)


def principal_of_summary(summary: MemberSummary) -> Principal:
    """The policy's :class:`~mfakit.policy.Principal` for a member read by a summary listing.

    The same facts as :func:`principal_of` over the membership and
    :func:`user_methods`, with no further store call, but for the TOTP
    devices: a summary counts them (with the earliest times) without their
    ids or names, so each is a method ``totp:#1``, ``totp:#2``... as old as
    the oldest. Compliance, which counts methods of each kind, is the same.
    """
    since = summary.totp_confirmed_at or summary.totp_created_at
    devices = (
        []
        if since is None
        else [
            Method(id=f"{TOTP_METHOD_PREFIX}#{i}", kind=MethodKind.TOTP, created_at=since)
            for i in range(1, summary.totp_devices + 1)
        ]
    )
    methods = _methods(
        devices,
        summary.credentials,
        summary.backup_codes_unused,
        summary.backup_codes_created_at,
    )
    return principal_of(
        summary.membership,
        methods,
        last_mfa_at=summary.last_mfa_at,
        failed_attempts=summary.failed_attempts,
    )


def _methods(
    totp_devices: list[Method],
    credentials: Iterable[_CredentialFacts],
    unused_backup_codes: int,
    backup_created_at: datetime | None,
) -> tuple[Method, ...]:
    methods = totp_devices
    methods.extend(
        Method(
            id=credential_method_id(c.credential_id),
            kind=passkey_kind(c),
            created_at=c.created_at,
            label=c.name,
            last_used_at=c.last_used_at,
        )
        for c in credentials
    )
    if unused_backup_codes > 0 and backup_created_at is not None:
        methods.append(
            Method(id=BACKUP_METHOD_ID, kind=MethodKind.BACKUP_CODES, created_at=backup_created_at)
        )
    return tuple(methods)


def _exemption(m: Membership) -> Exemption:
    assert m.exempt_until is not None  # noqa: S101 - the caller checks
    raw: Any = m.attributes.get("exemption")
    data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    try:
        granted_at = datetime.fromisoformat(str(data["granted_at"]))
        return Exemption(
            granted_by=str(data.get("granted_by", "unknown")),
            granted_at=granted_at,
            expires_at=m.exempt_until,
            reason=str(data.get("reason", "")),
        )
    except (KeyError, ValueError) as exc:
        raise MalformedDataError("a stored exemption is incomplete", field="exemption") from exc


def principal_of(
    m: Membership,
    methods: tuple[Method, ...],
    *,
    last_mfa_at: datetime | None,
    failed_attempts: int = 0,
) -> Principal:
    """The policy's :class:`~mfakit.policy.Principal` for a stored membership.

    ``last_mfa_at`` is the user's last second-factor check (one stamp per
    user, read with the factors or the summary), the step-up anchor.
    """
    status = PrincipalStatus.REMOVED if m.status == "removed" else PrincipalStatus.ACTIVE
    lock = None
    if m.status == "locked":
        locked_by = m.attributes.get("locked_by")
        lock = Lock(
            reason=LockReason(m.lock_reason or "admin"),
            locked_at=m.locked_at or m.joined_at,
            locked_by=locked_by if isinstance(locked_by, str) and locked_by else None,
        )
    grace = None
    if m.grace_started_at is not None and m.grace_reason is not None:
        grace = GraceAnchor(kind=GraceKind(m.grace_reason), started_at=m.grace_started_at)
    perms: Any = m.attributes.get("permissions")
    return Principal(
        id=m.user_id,
        kind=PrincipalKind(m.kind),
        status=status,
        methods=methods,
        joined_at=m.joined_at,
        grace=grace,
        last_reminder_at=m.last_reminder_at,
        exemption=None if m.exempt_until is None else _exemption(m),
        lock=lock,
        failed_attempts=failed_attempts,
        last_mfa_at=last_mfa_at,
        permissions=frozenset(p for p in perms if isinstance(p, str))
        if perms and isinstance(perms, list | tuple)
        else _NO_PERMISSIONS,
    )


def upgrade_organization(org: Organization) -> Organization:
    """The record with what older services stashed in its policy moved to its own field.

    Services before :attr:`Organization.enforced_by` existed kept it in the
    policy mapping; the SQL stores migrate such records, other adapters may
    still hold them. The service writes organizations through this function.
    """
    if LEGACY_ENFORCED_BY not in org.policy:
        return org
    policy = dict(org.policy)
    legacy = policy.pop(LEGACY_ENFORCED_BY)
    by = org.enforced_by or (legacy if isinstance(legacy, str) and legacy else None)
    return dataclasses.replace(org, enforced_by=by, policy=policy)


def org_state_of(org: Organization, owner_count: int) -> OrgState:
    """The policy's :class:`~mfakit.policy.OrgState` for a stored organization.

    Who enabled enforcement comes from :attr:`Organization.enforced_by`; a
    record written by an older service, which kept it in the policy mapping
    (and not migrated by its store), is still read.
    """
    since = org.enforced_at if org.enforced else None
    by: Any = None
    if since is not None:
        by = org.enforced_by or org.policy.get(LEGACY_ENFORCED_BY)
    return OrgState(
        id=org.org_id,
        enforced_since=since,
        enforced_by=by if isinstance(by, str) and by else None,
        owner_count=owner_count,
    )


def apply_effect(m: Membership, effect: Effect) -> Membership:
    """Return the membership with one policy effect applied (membership effects only)."""
    kind = effect.kind
    if kind is EffectKind.START_GRACE:
        assert effect.grace_kind is not None  # noqa: S101 - the policy always sets it
        return dataclasses.replace(
            m, grace_started_at=effect.at, grace_reason=effect.grace_kind.value
        )
    if kind is EffectKind.CLEAR_GRACE:
        return dataclasses.replace(m, grace_started_at=None, grace_reason=None)
    if kind is EffectKind.LOCK:
        attributes = dict(m.attributes)
        attributes.pop("locked_by", None)
        if effect.actor is not None:
            attributes["locked_by"] = effect.actor
        return dataclasses.replace(
            m,
            status="locked",
            locked_at=effect.at,
            lock_reason=effect.lock_reason.value if effect.lock_reason else "admin",
            attributes=attributes,
        )
    if kind is EffectKind.UNLOCK:
        attributes = dict(m.attributes)
        attributes.pop("locked_by", None)
        status: MembershipStatus = "removed" if m.status == "removed" else "active"
        return dataclasses.replace(
            m, status=status, locked_at=None, lock_reason=None, attributes=attributes
        )
    if kind is EffectKind.REMOVE_MEMBER:
        return dataclasses.replace(m, status="removed")
    if kind is EffectKind.RECORD_REMINDER:
        return dataclasses.replace(m, last_reminder_at=effect.at)
    if kind is EffectKind.SET_EXEMPTION:
        assert effect.at is not None  # noqa: S101 - the policy always sets it
        assert effect.until is not None  # noqa: S101 - the policy always sets it
        attributes = dict(m.attributes)
        attributes["exemption"] = {
            "granted_at": effect.at.isoformat(),
            "granted_by": effect.actor or "unknown",
            "reason": effect.reason or "",
        }
        return dataclasses.replace(m, exempt_until=effect.until, attributes=attributes)
    if kind is EffectKind.CLEAR_EXEMPTION:
        attributes = dict(m.attributes)
        attributes.pop("exemption", None)
        return dataclasses.replace(m, exempt_until=None, attributes=attributes)
    # RESET_FAILED_ATTEMPTS lives in the throttle store, DELETE_METHODS in the factor
    # stores; SET_ENFORCEMENT on the organization.
    return m
