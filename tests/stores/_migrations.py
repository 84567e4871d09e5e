"""Rows written by an older schema, and what the forward migrations must make of them.

Each test opens a database at an older version (the store with a shortened
``MIGRATIONS``), writes rows with plain SQL in that version's columns, then
reopens it with the current code and reads the rows back through the ports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

import pytest

from mfakit.errors import DuplicateError, LimitReachedError, StoreError
from mfakit.repositories import DEFAULT_LOGIN_CODE_KEY_ID, MfaStore, WebAuthnCredential
from mfakit.stores import _sql
from mfakit.stores._common import opt_micros, to_micros
from mfakit.stores._schema import MIGRATIONS
from mfakit.testing.contracts._records import (
    NOW,
    backup_codes,
    login_code,
    membership,
    organization,
    outbox_message,
    trusted_browser,
    webauthn_credential,
)

if TYPE_CHECKING:
    from mfakit.stores.postgres import PostgresStore
    from mfakit.stores.sqlite import SQLiteStore

__all__ = [
    "V4_INDEXES",
    "V7_INDEXES",
    "check_login_code_key_id_migrated",
    "check_migrated",
    "check_v3_rows_in_v4",
    "check_v4_rows_in_v5",
    "check_v6_totp_in_v7",
    "check_v7_rows_in_v8",
    "check_v8_rows_in_v9",
    "write_old_credential",
    "write_old_login_code",
    "write_old_orgs",
    "write_old_rows",
    "write_v3_rows",
    "write_v4_rows",
    "write_v6_totp_rows",
    "write_v7_rows",
    "write_v8_rows",
]

#: The indexes schema version 4 adds.
V4_INDEXES = frozenset(
    {"mfa_outbox_due", "mfa_outbox_delivered", "mfa_memberships_kind", "mfa_webauthn_user"}
)
V3_ORG = "org-v3"
V6_ORG = "org-v6"
#: The indexes schema version 7 adds (TOTP devices).
V7_INDEXES = frozenset({"mfa_totp_pending", "mfa_totp_active_name"})

USER = "u-migrated"


def write_old_rows(store: SQLiteStore | PostgresStore) -> None:
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


def write_old_orgs(store: SQLiteStore | PostgresStore) -> None:
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


def write_v3_rows(store: MfaStore) -> None:
    """Through the ports of a version-3 database: an organization with members and factors."""
    store.create_organization(organization(V3_ORG))
    for user, kind, status in [
        ("v3-a", "owner", "active"),
        ("v3-b", "owner", "locked"),
        ("v3-c", "member", "active"),
    ]:
        store.add_membership(membership(V3_ORG, user, kind=kind, status=status, username=user))
    write_old_totp(store, "v3-a", "active", last_step=1)
    write_old_credential(store, webauthn_credential("v3-a", name="Phone"))
    store.replace_backup_codes("v3-c", backup_codes("v3-c", 4))
    store.record_failure("mfa:totp:v3-c", now=NOW)
    write_old_login_code(store, "v3/sub")


def write_old_credential(store: MfaStore, cred: WebAuthnCredential) -> None:
    """A credential in the columns it had before user handles (schema versions 3 to 8)."""
    row = [cred.credential_id, cred.user_id, cred.name, cred.public_key, cred.sign_count]
    row += ['["usb"]', cred.aaguid, int(cred.backup_eligible), int(cred.backup_state)]
    row += [to_micros(cred.created_at), opt_micros(cred.last_used_at), cred.kind]
    store._call(  # type: ignore[attr-defined]
        lambda c: c.run(
            "INSERT INTO mfa_webauthn_credentials (credential_id, user_id, name, public_key, "
            "sign_count, transports, aaguid, backup_eligible, backup_state, created_at, "
            "last_used_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
    )


def write_old_totp(store: MfaStore, user: str, state: str, *, last_step: int | None = None) -> str:
    """A TOTP row in the columns it had before devices (schema versions 1 to 6); its id."""
    totp_id = f"{user}-{state}"
    pending = state == "pending"
    row = [totp_id, user, state, b"ciphertext-" + totp_id.encode(), to_micros(NOW)]
    row += [to_micros(NOW + timedelta(hours=1)) if pending else None]
    row += [None if pending else to_micros(NOW), last_step]
    store._call(  # type: ignore[attr-defined]
        lambda c: c.run(
            "INSERT INTO mfa_totp (totp_id, user_id, state, secret, algorithm, digits, period, "
            "created_at, expires_at, confirmed_at, last_step) "
            "VALUES (?, ?, ?, ?, 'sha1', 6, 30, ?, ?, ?, ?)",
            row,
        )
    )
    return totp_id


def write_v6_totp_rows(store: MfaStore) -> None:
    """Version-6 TOTP rows: a user with an active TOTP and a re-enrollment, one with only one."""
    store.create_organization(organization(V6_ORG))
    for user in ("v6-a", "v6-b"):
        store.add_membership(membership(V6_ORG, user))
    write_old_totp(store, "v6-a", "active", last_step=42)
    write_old_totp(store, "v6-a", "pending")
    write_old_totp(store, "v6-b", "active")


def check_v6_totp_in_v7(store: MfaStore) -> None:
    """Each old active TOTP is one device named "Authenticator app"; more can be added."""
    (a,) = store.list_totp_devices("v6-a")
    assert (a.totp_id, a.name, a.last_step, a.secret) == (
        "v6-a-active",
        "Authenticator app",
        42,
        b"ciphertext-v6-a-active",
    )
    assert (a.confirmed_at, a.last_used_at) == (NOW, None)
    pending = store.get_pending_totp("v6-a", now=NOW)
    assert pending is not None
    assert (pending.totp_id, pending.name) == ("v6-a-pending", "Authenticator app")
    # The same name as the migrated device: refused; renamed, it joins it.
    with pytest.raises(DuplicateError):
        store.activate_totp("v6-a", pending.totp_id, step=1, now=NOW, max_devices=5)
    store.rename_totp_device("v6-a", a.totp_id, "Old phone")
    store.activate_totp("v6-a", pending.totp_id, step=1, now=NOW, max_devices=5)
    assert [d.name for d in store.list_totp_devices("v6-a")] == [
        "Old phone",
        "Authenticator app",
    ]
    # Each device keeps its own step; the limit counts the migrated device.
    assert store.advance_totp_step("v6-a-active", 43, now=NOW) is True
    assert store.advance_totp_step("v6-a-pending", 2, now=NOW) is True
    (b,) = store.list_totp_devices("v6-b")
    assert (b.name, b.last_step) == ("Authenticator app", None)
    extra = dataclasses.replace(
        store.list_totp_devices("v6-b")[0], totp_id="v6-b-new", state="pending", name="New"
    )
    store.put_pending_totp(dataclasses.replace(extra, expires_at=NOW + timedelta(hours=1)))
    with pytest.raises(LimitReachedError):
        store.activate_totp("v6-b", "v6-b-new", step=1, now=NOW, max_devices=1)
    summaries = {s.membership.user_id: s for s in store.list_member_summaries(V6_ORG).items}
    assert {u: s.totp_devices for u, s in summaries.items()} == {"v6-a": 2, "v6-b": 1}
    assert store.delete_totp("v6-a") is True
    assert store.list_totp_devices("v6-a") == ()


def write_old_login_code(store: MfaStore, subject: str) -> None:
    """A login code in the columns it had before key ids (schema versions 1 to 4)."""
    code = login_code(subject)
    row = [code.subject, code.code_id, code.code_hash, to_micros(code.created_at)]
    row += [to_micros(code.expires_at), code.max_attempts, code.attempts]
    store._call(  # type: ignore[attr-defined]
        lambda c: c.run(
            "INSERT INTO mfa_login_codes (subject, code_id, code_hash, created_at, expires_at, "
            "max_attempts, attempts, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
            row,
        )
    )


def check_login_code_key_id_migrated(store: MfaStore, subject: str) -> None:
    """A code stored before key ids reads back whole, made under the default key."""
    code = store.get_login_code(subject)
    assert code is not None
    assert code.key_id == DEFAULT_LOGIN_CODE_KEY_ID == "default"
    assert (code.attempts, code.consumed_at) == (0, None)
    counted = store.record_login_code_attempt(subject, code.code_id, now=NOW)
    assert counted is not None
    assert counted.key_id == DEFAULT_LOGIN_CODE_KEY_ID


def check_v3_rows_in_v4(store: MfaStore) -> None:
    """The version-3 rows read through the version-4 ports, and the outbox works."""
    page = store.list_member_summaries(V3_ORG, throttle_prefixes=["mfa:totp:"])
    by_user = {s.membership.user_id: s for s in page.items}
    assert sorted(by_user) == ["v3-a", "v3-b", "v3-c"]
    a, c = by_user["v3-a"], by_user["v3-c"]
    assert (a.has_totp, [x.name for x in a.credentials]) == (True, ["Phone"])
    assert (c.backup_codes_unused, c.backup_codes_created_at, c.failed_attempts) == (4, NOW, 1)
    assert store.count_active_owners(V3_ORG) == 1
    early = dataclasses.replace(login_code("v3/sub"), created_at=NOW + timedelta(seconds=1))
    assert store.put_login_code_if_cooled_down(early, cooldown=timedelta(minutes=1)) is False
    msg = outbox_message()
    store.enqueue_message(msg)
    claimed = store.claim_messages(now=NOW, limit=5, lease=timedelta(minutes=1), kinds=[msg.kind])
    assert [m.message_id for m in claimed] == [msg.message_id]


#: Each version-4 membership's step-up stamp (``None``: never verified), by user then org.
V4_STAMPS: dict[str, dict[str, datetime | None]] = {
    "v4-a": {"v4-o1": NOW - timedelta(hours=2), "v4-o2": NOW, "v4-o3": None},
    "v4-b": {"v4-o1": None},
    "v4-c": {"v4-o2": NOW - timedelta(hours=1)},
}


def write_v4_rows(store: SQLiteStore | PostgresStore) -> None:
    """Memberships of a version-4 database, each with its own ``last_mfa_at`` column."""
    for org_id in ("v4-o1", "v4-o2", "v4-o3"):
        store.create_organization(organization(org_id))
    for user, stamps in V4_STAMPS.items():
        for org_id, at in stamps.items():
            row = [org_id, user, None if at is None else to_micros(at)]
            store._call(
                lambda c, row=row: c.run(
                    "INSERT INTO mfa_memberships (org_id, user_id, kind, status, username, "
                    "joined_at, grace_started_at, grace_reason, locked_at, lock_reason, "
                    "last_mfa_at, last_reminder_at, exempt_until, attributes, version) "
                    "VALUES (?, ?, 'member', 'active', NULL, 0, NULL, NULL, NULL, NULL, ?, "
                    "NULL, NULL, '{}', 3)",
                    row,
                )
            )


def check_v4_rows_in_v5(store: SQLiteStore | PostgresStore) -> None:
    """Each user's latest membership stamp became the user's; the column is gone."""
    expected = {"v4-a": NOW, "v4-b": None, "v4-c": NOW - timedelta(hours=1)}
    assert {u: store.get_user_factors(u).last_mfa_at for u in expected} == expected
    summaries = store.list_member_summaries("v4-o2").items
    assert {s.membership.user_id: s.last_mfa_at for s in summaries} == {
        "v4-a": NOW,
        "v4-c": NOW - timedelta(hours=1),
    }
    member = store.get_membership("v4-o1", "v4-a")
    assert member is not None
    assert member.version == 3  # the memberships themselves are unchanged
    # The migrated stamp is the floor: an older check does not move it back.
    assert store.record_second_factor("v4-a", at=NOW - timedelta(days=1)) == NOW
    with pytest.raises(StoreError):
        store._call(lambda c: c.all("SELECT last_mfa_at FROM mfa_memberships"))


V7_STAMPS = {"v7-a": NOW - timedelta(minutes=3), "v7-b": NOW}


def write_v7_rows(store: SQLiteStore | PostgresStore) -> None:
    """Users with a step-up stamp in a version-7 database (``mfa_user_state`` of one time)."""
    for user, at in V7_STAMPS.items():
        store.record_second_factor(user, at=at)


def check_v7_rows_in_v8(store: SQLiteStore | PostgresStore) -> None:
    """The stamps are kept, no factor change is recorded, trusted browsers work."""
    for user, at in V7_STAMPS.items():
        factors = store.get_user_factors(user)
        assert (factors.last_mfa_at, factors.factors_changed_at) == (at, None)
    browser = trusted_browser("v7-a")
    store.add_trusted_browser(browser)
    assert store.get_trusted_browser(browser.token_hash) == browser
    assert store.record_factor_change("v7-a", at=NOW) == 1
    factors = store.get_user_factors("v7-a")
    assert (factors.last_mfa_at, factors.factors_changed_at) == (V7_STAMPS["v7-a"], NOW)


V8_USER = "v8-a"


def write_v8_rows(store: SQLiteStore | PostgresStore) -> list[WebAuthnCredential]:
    """Credentials of a version-8 database: a passkey and a security key, without handles."""
    passkey = dataclasses.replace(webauthn_credential(V8_USER, name="Phone"), kind="passkey")
    key = dataclasses.replace(webauthn_credential(V8_USER, name="Key"), kind="security_key")
    for cred in (passkey, key):
        write_old_credential(store, cred)
    return [passkey, key]


def check_v8_rows_in_v9(store: SQLiteStore | PostgresStore, old: list[WebAuthnCredential]) -> None:
    """Old credentials have no handle; passkeys may sign in alone; users get handles."""
    creds = {c.name: c for c in store.list_webauthn_credentials(V8_USER)}
    assert {n: (c.user_handle, c.passwordless) for n, c in creds.items()} == {
        "Phone": (None, True),
        "Key": (None, False),
    }
    assert creds["Phone"].credential_id == old[0].credential_id
    legacy = V8_USER.encode()
    assert store.update_sign_count(old[0].credential_id, 0, 1, now=NOW, user_handle=legacy)
    phone = store.get_webauthn_credential(old[0].credential_id)
    assert phone is not None
    assert phone.user_handle == legacy
    handle = store.webauthn_user_handle(V8_USER, create_with=b"h" * 32)
    assert (handle, store.find_user_by_webauthn_handle(handle)) == (b"h" * 32, V8_USER)
    with pytest.raises(DuplicateError):
        store.webauthn_user_handle("v8-b", create_with=handle)


def write_v9_credential(store: MfaStore) -> WebAuthnCredential:
    """A credential in a version-9 database (no attested provider column yet)."""
    cred = webauthn_credential("v9-a", name="Laptop")
    write_old_credential(store, cred)
    return cred


def check_v9_credential_in_v10(store: MfaStore, cred: WebAuthnCredential) -> None:
    """The version-9 credential has no attested provider; a new one keeps its own."""
    read = store.get_webauthn_credential(cred.credential_id)
    assert read is not None
    assert read.name == "Laptop"
    assert read.attested_provider is None
    named = dataclasses.replace(
        webauthn_credential("v9-a", name="Key"), attested_provider="mfakit Test Key"
    )
    store.add_webauthn_credential(named)
    again = store.get_webauthn_credential(named.credential_id)
    assert again is not None
    assert again.attested_provider == "mfakit Test Key"


S = TypeVar("S", bound="SQLiteStore | PostgresStore")
T = TypeVar("T")


def upgrade_from(
    version: int,
    open_store: Callable[[], S],
    write: Callable[[S], T],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[S, T]:
    """Open a database at ``version``, ``write`` into it, close it, and reopen it migrated.

    Returns the migrated store and what ``write`` returned.
    """
    with monkeypatch.context() as patch:
        patch.setattr(_sql, "MIGRATIONS", MIGRATIONS[:version])
        old = open_store()
        written = write(old)
        old.close()
    store = open_store()
    assert store.schema_version() == len(MIGRATIONS) > version
    return store, written
