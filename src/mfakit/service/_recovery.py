"""Support and administrator recovery: MFA resets, removals, exemptions.

Every action is one store transaction: the membership's versioned
compare-and-set, the deleted factors, the reset throttles, the audit events
and the outbox message commit together or not at all. Two administrators
resetting one member at once are serialized by the store: the second finds
nothing left to delete, rolls back, decides again on the fresh facts and is
refused (``no_methods_to_reset``). A sign-in racing a reset either checked its
factor before the reset committed (then its session is ended by the session
revoker) or fails: the factor's atomic write (``advance_totp_step``,
``consume_backup_code``, ``update_sign_count``) finds no row.

The session revoker is called once per action, after the commit.

A reset is a factor change (:class:`FactorChanges`, reason ``mfa.reset``),
recorded in the reset's transaction: the user's factor-change time moves and
every trusted browser of the user is revoked, so no browser trusted before
the reset skips the second factor after it. Removing a member changes no
factor and revokes no trusted browser: the trust check judges each sign-in
by the memberships the user has then, so the removed membership no longer
counts (a check for that organization is refused, the member being gone),
and the host's session revoker ends the user's sessions. Exemptions change no
factor either.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mfakit.clock import ensure_aware
from mfakit.errors import (
    ConfigurationError,
    NotFoundError,
    SessionRevocationError,
    StoreError,
)
from mfakit.policy import (
    Decision,
    Principal,
    can_grant_exemption,
    can_remove_member,
    can_reset_mfa,
    can_revoke_exemption,
    evaluate_support_reset,
)
from mfakit.repositories import Membership
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory
from mfakit.service._effects import CAS_ATTEMPTS, EffectWriter
from mfakit.service._factor_changes import FactorChanges
from mfakit.service._facts import apply_effect, principal_of
from mfakit.service._notify import MfaReset
from mfakit.service._sessions import SessionRevoker
from mfakit.service._settings import check_user_id
from mfakit.service._throttle import Throttle

__all__ = ["MAX_REASON_LENGTH", "RecoveryFlow", "check_reason"]

#: The longest reason an administrator may give (characters).
MAX_REASON_LENGTH = 500


def check_reason(reason: object, name: str = "reason") -> str:
    """Refuse a reason that is not 1 to 500 characters of text without control characters.

    Control and format characters (newlines, bidi overrides, zero-width
    characters) are refused because the reason is written to the audit
    trail and shown to administrators.

    Raises:
        ConfigurationError: the reason is missing, blank, too long or has
            control characters.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigurationError(f"{name} must be a non-empty string")
    if len(reason) > MAX_REASON_LENGTH:
        raise ConfigurationError(f"{name} must be at most {MAX_REASON_LENGTH} characters")
    if any(unicodedata.category(c)[0] == "C" for c in reason):
        raise ConfigurationError(f"{name} must not contain control characters")
    return reason.strip()


class _NothingDeletedError(Exception):
    """Raised inside a reset's transaction to roll it back: a concurrent reset won."""


class _MembershipMovedError(Exception):
    """Raised inside a support reset's transaction to roll it back: a membership changed."""


class RecoveryFlow:
    """Resets, removals and exemptions; depends on the context, directory, effect
    writer, throttle, factor changes and the host's session revoker."""

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        effects: EffectWriter,
        throttle: Throttle,
        factor_changes: FactorChanges,
        revoker: SessionRevoker,
    ) -> None:
        self._context = context
        self._directory = directory
        self._effects = effects
        self._throttle = throttle
        self._factor_changes = factor_changes
        self._revoker = revoker

    def _principal(self, m: Membership) -> Principal:
        """The member as the policy sees them now (their factors read again: one call)."""
        factors = self._directory.factors(m.user_id)
        return principal_of(m, factors.methods, last_mfa_at=factors.last_mfa_at)

    # -- resets ---------------------------------------------------------------------------

    def reset_member_mfa(
        self, org_id: str, user_id: str, *, actor_id: str, reason: str
    ) -> Decision:
        """See :meth:`MfaService.reset_member_mfa`."""
        context = self._context
        reason = check_reason(reason)
        check_user_id(user_id)
        check_user_id(actor_id, "actor_id")
        now = context.now()
        ctx = self._directory.org_context(org_id)
        actor = self._directory.principal(org_id, actor_id)
        others = sum(
            1
            for m in context.store.list_user_memberships(user_id)
            if m.org_id != org_id and m.status != "removed"
        )

        def decide(m: Membership) -> Decision:
            return can_reset_mfa(
                ctx.policy,
                ctx.state,
                actor=actor,
                principal=self._principal(m),
                now=now,
                other_organizations=others,
            )

        def delete(decision: Decision) -> None:
            deleted = self._delete_factors(user_id, at=now, actor_id=actor_id, org_id=org_id)
            context.audit(
                "member.mfa_reset",
                at=now,
                actor_id=actor_id,
                user_id=user_id,
                org_id=org_id,
                details={"reason": reason, **deleted},
            )

        for _ in range(CAS_ATTEMPTS):
            try:
                decision, _ = self._effects.decide_and_store(
                    ctx, user_id, decide, at=now, inside=delete
                )
            except _NothingDeletedError:
                continue  # a concurrent reset committed first: decide again
            decision.require_allowed()
            self._revoke(user_id, org_id=org_id, reason="mfa_reset", at=now)
            return decision
        raise StoreError("the member kept changing; try again")

    def reset_user_mfa(self, user_id: str, *, actor_id: str, reason: str) -> tuple[Decision, ...]:
        """See :meth:`MfaService.reset_user_mfa`."""
        context = self._context
        reason = check_reason(reason)
        check_user_id(user_id)
        check_user_id(actor_id, "actor_id")
        now = context.now()
        for _ in range(CAS_ATTEMPTS):
            factors = self._directory.factors(user_id)
            if not factors.methods:
                raise NotFoundError("the user has no second factor to reset")
            decided = [
                (
                    ctx,
                    m,
                    evaluate_support_reset(
                        ctx.policy,
                        ctx.state,
                        principal=principal_of(m, factors.methods, last_mfa_at=factors.last_mfa_at),
                        actor_id=actor_id,
                        now=now,
                    ),
                )
                for ctx, m in self._directory.member_contexts(user_id)
            ]
            try:
                with context.transaction():
                    for _ctx, m, decision in decided:
                        wanted = m
                        for effect in decision.effects:
                            wanted = apply_effect(wanted, effect)
                        if wanted != m and context.store.update_membership(wanted) is None:
                            raise _MembershipMovedError
                    deleted = self._delete_factors(user_id, at=now, actor_id=actor_id, org_id=None)
                    self._throttle.reset_sign_in(user_id)
                    for ctx, _m, decision in decided:
                        context.audit_decision(decision, ctx.org.org_id)
                        context.deliver(decision, ctx.org.org_id, at=now)
                    if not decided:
                        context.send(MfaReset(user_id=user_id, actor_id=actor_id), at=now)
                    context.audit(
                        "user.mfa_reset",
                        at=now,
                        actor_id=actor_id,
                        user_id=user_id,
                        details={
                            "reason": reason,
                            "organizations": len(decided),
                            **deleted,
                        },
                    )
            except (_MembershipMovedError, _NothingDeletedError):
                continue  # a concurrent writer won: read the facts again
            self._revoke(user_id, org_id=None, reason="mfa_reset", at=now)
            return tuple(decision for _ctx, _m, decision in decided)
        raise StoreError("the user's records kept changing; try again")

    def _delete_factors(
        self, user_id: str, *, at: datetime, actor_id: str, org_id: str | None
    ) -> dict[str, int]:
        """Delete every factor of the user and record the factor change.

        Inside the caller's transaction: the deletions, the new factor-change
        time and the revoked trusted browsers commit with the reset.

        Raises:
            _NothingDeletedError: nothing was left: a concurrent reset committed first.
        """
        store = self._context.store
        totp = 1 if store.delete_totp(user_id) else 0
        credentials = 0
        for credential in store.list_webauthn_credentials(user_id):
            if store.delete_webauthn_credential(user_id, credential.credential_id):
                credentials += 1
        codes = store.delete_backup_codes(user_id)
        if totp + credentials + codes == 0:
            raise _NothingDeletedError
        browsers = self._factor_changes.record(
            user_id, at=at, reason="mfa.reset", actor_id=actor_id, org_id=org_id
        )
        return {
            "totp": totp,
            "webauthn_credentials": credentials,
            "backup_codes": codes,
            "trusted_browsers": browsers,
        }

    # -- removal ---------------------------------------------------------------------------

    def remove_member(self, org_id: str, user_id: str, *, actor_id: str) -> Decision:
        """See :meth:`MfaService.remove_member`."""
        check_user_id(user_id)
        check_user_id(actor_id, "actor_id")
        now = self._context.now()
        ctx = self._directory.org_context(org_id)
        actor = self._directory.principal(org_id, actor_id)

        def decide(m: Membership) -> Decision:
            return can_remove_member(
                ctx.policy,
                ctx.state,
                actor=actor,
                principal=self._principal(m),
                now=now,
            )

        decision = self._effects.decide_member(ctx, user_id, decide, at=now)
        decision.require_allowed()
        self._revoke(user_id, org_id=org_id, reason="member_removed", at=now)
        return decision

    # -- exemptions ------------------------------------------------------------------------

    def grant_exemption(
        self, org_id: str, user_id: str, *, actor_id: str, until: datetime, reason: str
    ) -> Decision:
        """See :meth:`MfaService.grant_exemption`."""
        reason = check_reason(reason)
        check_user_id(user_id)
        check_user_id(actor_id, "actor_id")
        try:
            until = ensure_aware(until)
        except (ConfigurationError, TypeError, AttributeError):
            raise ConfigurationError("until must be a timezone-aware datetime") from None
        now = self._context.now()
        if until <= now:
            raise ConfigurationError("until must be in the future")
        return self._exemption(
            org_id,
            user_id,
            actor_id,
            now,
            lambda ctx, actor, principal: can_grant_exemption(
                ctx.policy,
                ctx.state,
                actor=actor,
                principal=principal,
                until=until,
                now=now,
                reason=reason,
            ),
            "member.exemption_granted",
            {"reason": reason, "until": until.isoformat()},
        )

    def revoke_exemption(
        self, org_id: str, user_id: str, *, actor_id: str, reason: str | None = None
    ) -> Decision:
        """See :meth:`MfaService.revoke_exemption`."""
        details: dict[str, Any] = {}
        if reason is not None:
            details["reason"] = check_reason(reason)
        check_user_id(user_id)
        check_user_id(actor_id, "actor_id")
        now = self._context.now()
        return self._exemption(
            org_id,
            user_id,
            actor_id,
            now,
            lambda ctx, actor, principal: can_revoke_exemption(
                ctx.policy, ctx.state, actor=actor, principal=principal, now=now
            ),
            "member.exemption_revoked",
            details,
        )

    def _exemption(  # noqa: PLR0917 - private, one call per exemption flow
        self,
        org_id: str,
        user_id: str,
        actor_id: str,
        now: datetime,
        evaluate: Callable[[Any, Any, Any], Decision],
        action: str,
        details: dict[str, Any],
    ) -> Decision:
        context = self._context
        ctx = self._directory.org_context(org_id)
        actor = self._directory.principal(org_id, actor_id)

        def decide(m: Membership) -> Decision:
            return evaluate(ctx, actor, self._principal(m))

        def audit(decision: Decision) -> None:
            context.audit(
                action, at=now, actor_id=actor_id, user_id=user_id, org_id=org_id, details=details
            )

        decision, _ = self._effects.decide_and_store(ctx, user_id, decide, at=now, inside=audit)
        return decision.require_allowed()

    # -- sessions --------------------------------------------------------------------------

    def _revoke(self, user_id: str, *, org_id: str | None, reason: str, at: datetime) -> None:
        """Call the host's session revoker once, after the commit."""
        try:
            self._revoker.revoke_sessions(user_id, reason=reason, org_id=org_id)
        except Exception as exc:  # the host's code: reported as an MfaError, never leaked
            self._context.audit(
                "sessions.revoke_failed",
                at=at,
                outcome="failure",
                user_id=user_id,
                org_id=org_id,
                details={"reason": reason, "error": type(exc).__name__},
            )
            if isinstance(exc, SessionRevocationError):
                raise
            raise SessionRevocationError(user_id=user_id) from exc
