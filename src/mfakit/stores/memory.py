"""An in-memory store: thread-safe, for tests and small single-process apps.

Every method runs under one lock, so each is atomic with respect to the
others. Nothing survives the process.

Example::

    from mfakit.stores.memory import MemoryStore

    store = MemoryStore()
"""

from __future__ import annotations

from mfakit.stores._facade import StoreFacade, StoreParts
from mfakit.stores._memory import MemoryState
from mfakit.stores._memory_audit import MemoryAudit
from mfakit.stores._memory_factors import MemoryBackupCodes, MemoryTotp, MemoryWebAuthn
from mfakit.stores._memory_flows import MemoryChallenges, MemoryLoginCodes, MemoryThrottles
from mfakit.stores._memory_members import MemoryMemberships
from mfakit.stores._memory_orgs import MemoryInvitations, MemoryOrganizations
from mfakit.stores._memory_outbox import MemoryOutbox
from mfakit.stores._memory_users import MemoryTrustedBrowsers, MemoryUserState

__all__ = ["MemoryStore"]


def _memory_parts(state: MemoryState) -> StoreParts:
    """One part per port, each on the shared state."""
    memberships = MemoryMemberships(state)
    return StoreParts(
        context=state,
        totp=MemoryTotp(state),
        backup_codes=MemoryBackupCodes(state),
        webauthn=MemoryWebAuthn(state),
        challenges=MemoryChallenges(state),
        login_codes=MemoryLoginCodes(state),
        throttles=MemoryThrottles(state),
        user_state=MemoryUserState(state),
        trusted_browsers=MemoryTrustedBrowsers(state),
        organizations=MemoryOrganizations(state),
        memberships=memberships,
        invitations=MemoryInvitations(state, insert_membership=memberships.insert),
        audit=MemoryAudit(state),
        outbox=MemoryOutbox(state),
    )


class MemoryStore(StoreFacade):
    """Implements every port of :class:`mfakit.repositories.MfaStore` in process memory.

    A facade: one ``MemoryState`` (the records, their indexes and the lock)
    shared by one part per port; every method delegates to its part.
    """

    def __init__(self) -> None:
        super().__init__(_memory_parts(MemoryState()))

    def __repr__(self) -> str:
        return "MemoryStore()"
