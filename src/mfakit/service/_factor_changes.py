"""Factor changes: the one place that records them, and what they void.

A user's second factors *change* when one is added, replaced or removed (a
TOTP confirmed or deleted, a passkey registered or deleted, a new backup code
set), when an administrator resets them, and, for what they guard, when a
membership of the user is locked. Each such change is recorded by
:meth:`FactorChanges.record`, inside the transaction of the change itself:

* the user's factor-change time is set (``factors_changed_at``, read with the
  user's factors): a trusted browser issued at or before it no longer skips
  the second factor;
* every trusted browser of the user is deleted, in the same store call.

Both, on purpose: the deletion empties the list the user sees, and the time
refuses a browser that a request racing with the change added after the
deletion (or that a server with a slow clock dated before it).

Every flow that changes a factor calls it; so must any new one (the
recovery flows' administrator reset included).
"""

from __future__ import annotations

from datetime import datetime

from mfakit.service._context import ServiceContext

__all__ = ["FactorChanges"]


class FactorChanges:
    """Records that a user's second factors changed; depends on the context only."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context

    def record(
        self,
        user_id: str,
        *,
        at: datetime,
        reason: str,
        actor_id: str | None = None,
        org_id: str | None = None,
    ) -> int:
        """Record a factor change of ``user_id`` at ``at``; revoke every trusted browser.

        Call it inside the transaction of the change (``context.transaction()``),
        so that the change, the new factor-change time and the revocation
        commit together. One store call (``record_factor_change``), plus one
        audit event when browsers were revoked.

        Args:
            user_id: Whose factors changed.
            at: When (the change's time; the stored time never moves backwards).
            reason: A short machine code for the audit event, e.g.
                ``"totp.activated"``, ``"passkey.deleted"``, ``"member.locked"``.
            actor_id: Who made the change, when it was not the user.
            org_id: The organization concerned, if any.

        Returns:
            How many trusted browsers were revoked.
        """
        context = self._context
        with context.transaction():
            revoked = context.store.record_factor_change(user_id, at=at)
            if revoked:
                context.audit(
                    "trusted_browser.revoked",
                    at=at,
                    actor_id=actor_id,
                    user_id=user_id,
                    org_id=org_id,
                    details={"count": revoked, "reason": reason},
                )
        return revoked
