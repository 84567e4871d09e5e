"""The parts of a SQL store, built over one :class:`~mfakit.stores._sql.SqlContext`.

:class:`~mfakit.stores.sqlite.SQLiteStore` and
:class:`~mfakit.stores.postgres.PostgresStore` differ only in their
connection source and :class:`~mfakit.stores._sql.Dialect`; both hand their
context to :func:`sql_store_parts` and get the same parts, one per port.
"""

from __future__ import annotations

from mfakit.stores._facade import StoreParts
from mfakit.stores._sql import SqlContext
from mfakit.stores._sql_audit import SqlAudit
from mfakit.stores._sql_factors import SqlBackupCodes, SqlTotp, SqlWebAuthn
from mfakit.stores._sql_flows import SqlChallenges, SqlLoginCodes, SqlThrottles
from mfakit.stores._sql_members import SqlMemberships
from mfakit.stores._sql_orgs import SqlInvitations, SqlOrganizations
from mfakit.stores._sql_outbox import SqlOutbox
from mfakit.stores._sql_users import SqlTrustedBrowsers, SqlUserState

__all__ = ["sql_store_parts"]


def sql_store_parts(sql: SqlContext) -> StoreParts:
    """One part per port, each on the store's SQL context."""
    memberships = SqlMemberships(sql)
    return StoreParts(
        context=sql,
        totp=SqlTotp(sql),
        backup_codes=SqlBackupCodes(sql),
        webauthn=SqlWebAuthn(sql),
        challenges=SqlChallenges(sql),
        login_codes=SqlLoginCodes(sql),
        throttles=SqlThrottles(sql),
        user_state=SqlUserState(sql),
        trusted_browsers=SqlTrustedBrowsers(sql),
        organizations=SqlOrganizations(sql),
        memberships=memberships,
        invitations=SqlInvitations(sql, insert_membership=memberships.insert),
        audit=SqlAudit(sql),
        outbox=SqlOutbox(sql),
    )
