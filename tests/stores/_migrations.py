"""Rows written by an older schema, and what the forward migrations must make of them.

Each test opens a database at an older version (the store with a shortened
``MIGRATIONS``), writes rows with plain SQL in that version's columns, then
reopens it with the current code and reads the rows back through the ports.
"""

from __future__ import annotations

from mfakit.repositories import MfaStore
from mfakit.stores._common import to_micros
from mfakit.stores._sql import SqlBase
from mfakit.testing.contracts._records import NOW

__all__ = ["check_migrated", "write_old_orgs", "write_old_rows"]

USER = "u-migrated"


def write_old_rows(store: SqlBase) -> None:
    """Write rows in the columns of schema version 1 (unchanged by version 2)."""
    write_old_orgs(store)
    at = to_micros(NOW)
    rows = [
        [b"synced", USER, "Phone", b"k1", 3, "[]", bytes(16), 1, 1, at, None],
        [b"hardware", USER, "YubiKey", b"k2", 7, '["usb"]', bytes(16), 0, 0, at + 1, at],
    ]
    for row in rows:
        store._call(
            lambda c, row=row: c.run(
                "INSERT INTO mfa_webauthn_credentials (credential_id, user_id, name, "
                "public_key, sign_count, transports, aaguid, backup_eligible, backup_state, "
                "created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        )


POLICY_WITH_MARKER = '{"_enforced_by":"owner-1","activation":"start_grace"}'


def write_old_orgs(store: SqlBase) -> None:
    """Organizations as the old service wrote them: who enforced, inside the policy."""
    at = to_micros(NOW)
    rows = [
        ["org-enforced", POLICY_WITH_MARKER, 1, at, 4],
        ["org-plain", '{"activation":"start_grace","note":"_enforced_by"}', 0, None, 2],
        ["org-odd", '{"_enforced_by":7}', 1, at, 1],
    ]
    for row in rows:
        store._call(
            lambda c, row=row: c.run(
                "INSERT INTO mfa_organizations (org_id, name, policy, enforced, enforced_at, "
                "enforcement_stopped_at, created_at, version) VALUES (?, 'Org', ?, ?, ?, NULL, "
                "0, ?)",
                row,
            )
        )


def check_migrated(store: MfaStore) -> None:
    """The old rows read back whole, with the fields the migrations added filled in."""
    creds = {c.name: c for c in store.list_webauthn_credentials(USER)}
    assert {name: c.kind for name, c in creds.items()} == {
        "Phone": "passkey",
        "YubiKey": "security_key",
    }
    assert (creds["YubiKey"].sign_count, creds["YubiKey"].transports) == (7, ("usb",))
    assert creds["YubiKey"].last_used_at == NOW
    enforced = store.get_organization("org-enforced")
    assert enforced is not None
    assert (enforced.enforced_by, enforced.policy) == ("owner-1", {"activation": "start_grace"})
    assert enforced.version == 5  # the record changed: concurrent writers must re-read
    plain = store.get_organization("org-plain")
    assert plain is not None
    assert (plain.enforced_by, plain.version) == (None, 2)
    assert plain.policy == {"activation": "start_grace", "note": "_enforced_by"}
    odd = store.get_organization("org-odd")
    assert odd is not None
    assert (odd.enforced_by, odd.policy) == (None, {})
