"""The host's session store, as the service sees it: one hook to end a user's sessions."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["NoSessionRevoker", "SessionRevoker"]


@runtime_checkable
class SessionRevoker(Protocol):
    """Ends a user's sessions in the host application.

    :class:`~mfakit.service.MfaService` calls it once, after the commit, for
    each MFA reset (``reason="mfa_reset"``) and each removal from an
    organization (``reason="member_removed"``), never for a refused action.
    Someone signed in with a factor that was just deleted, or in an
    organization they no longer belong to, must sign in again.
    """

    def revoke_sessions(self, user_id: str, *, reason: str, org_id: str | None) -> None:
        """End ``user_id``'s sessions (or only those in ``org_id``, if the host scopes them).

        Args:
            user_id: Whose sessions to end.
            reason: ``mfa_reset`` or ``member_removed``.
            org_id: The organization concerned; ``None`` for a support reset
                of a user in no organization.

        Raise on failure: the service reports it as a
        :class:`~mfakit.errors.SessionRevocationError` (the action stays done).
        """
        ...


class NoSessionRevoker:
    """The default :class:`SessionRevoker`: does nothing (for hosts without server sessions)."""

    def revoke_sessions(self, user_id: str, *, reason: str, org_id: str | None) -> None:
        """Do nothing."""
