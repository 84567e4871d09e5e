"""Atomic operations as picklable steps, run by separate processes in the races.

This module imports neither pytest nor hypothesis, so a spawned worker starts fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from mfakit.errors import LimitReachedError, MfaError, NotFoundError
from mfakit.repositories import MfaStore
from mfakit.testing.contracts._records import (
    MAX_DEVICES,
    NOW,
    login_code,
    membership,
    pending_totp,
)

__all__ = ["CLAIM_LIMIT", "COOLDOWN", "OPS", "run_worker"]

#: The resend cool-down raced on; rounds are this far apart.
COOLDOWN = timedelta(seconds=60)
#: How many messages each racer claims at most per call.
CLAIM_LIMIT = 3


def _advance(store: MfaStore, target: Any, worker: int) -> object:
    totp_id, step = target
    return store.advance_totp_step(totp_id, step, now=NOW)


def _consume_backup(store: MfaStore, target: Any, worker: int) -> object:
    user, code_id = target
    return store.consume_backup_code(user, code_id, now=NOW)


def _pop(store: MfaStore, target: Any, worker: int) -> object:
    return store.pop_challenge(target, now=NOW) is not None


def _sign_count(store: MfaStore, target: Any, worker: int) -> object:
    cred_id, old = target
    return store.update_sign_count(cred_id, old, old + 1, now=NOW)


def _failure(store: MfaStore, target: Any, worker: int) -> object:
    return store.record_failure(target, now=NOW).failures


def _attempt(store: MfaStore, target: Any, worker: int) -> object:
    subject, code_id = target
    return store.record_login_code_attempt(subject, code_id, now=NOW) is not None


def _consume_login(store: MfaStore, target: Any, worker: int) -> object:
    subject, code_id = target
    return store.consume_login_code(subject, code_id, now=NOW)


def _activate(store: MfaStore, target: Any, worker: int) -> object:
    user, totp_id = target
    try:
        store.activate_totp(user, totp_id, step=1, now=NOW, max_devices=MAX_DEVICES)
    except MfaError:
        return False
    return True


def _activate_last_slot(store: MfaStore, target: Any, worker: int) -> object:
    # Each racer enrolls and confirms its own app for the user's last free slot.
    user = target
    rec = pending_totp(user)
    try:
        store.put_pending_totp(rec)
        store.activate_totp(user, rec.totp_id, step=1, now=NOW, max_devices=MAX_DEVICES)
    except (NotFoundError, LimitReachedError):
        return False
    return True


def _advance_or_delete(store: MfaStore, target: Any, worker: int) -> object:
    # Worker 0 deletes the device while the others sign in with it.
    user, totp_id = target
    if worker == 0:
        return "deleted" if store.delete_totp_device(user, totp_id) else "missing"
    return store.advance_totp_step(totp_id, 101, now=NOW)


def _accept(store: MfaStore, target: Any, worker: int) -> object:
    invitation_id, org_id = target
    m = membership(org_id, f"{invitation_id}-w{worker}")
    return store.accept_invitation(invitation_id, m, now=NOW) is not None


def _update_org(store: MfaStore, target: Any, worker: int) -> object:
    org = store.get_organization(target)
    assert org is not None
    stale = dataclasses.replace(org, version=1, name=f"winner-{worker}")
    return store.update_organization(stale) is not None


def _cooled_put(store: MfaStore, target: Any, worker: int) -> object:
    subject, created_at = target
    code = dataclasses.replace(login_code(subject), created_at=created_at)
    return store.put_login_code_if_cooled_down(code, cooldown=COOLDOWN)


def _claim(store: MfaStore, target: Any, worker: int) -> object:
    kind = target
    claimed = store.claim_messages(
        now=NOW, limit=CLAIM_LIMIT, lease=timedelta(hours=1), kinds=[kind]
    )
    return [m.message_id for m in claimed]


def _user_handle(store: MfaStore, target: Any, worker: int) -> object:
    # Each racer offers its own handle; all must get the one stored handle back.
    offered = hashlib.sha256(f"{target}/{worker}".encode()).digest()
    stored = store.webauthn_user_handle(target, create_with=offered)
    return (stored == offered, stored.hex())


#: Each atomic operation: ``(store, target, worker index) -> picklable result``.
OPS: dict[str, Callable[[MfaStore, Any, int], object]] = {
    "accept_invitation": _accept,
    "activate_totp": _activate,
    "activate_totp_last_slot": _activate_last_slot,
    "advance_totp_step_or_delete": _advance_or_delete,
    "advance_totp_step": _advance,
    "claim_messages": _claim,
    "consume_backup_code": _consume_backup,
    "consume_login_code": _consume_login,
    "pop_challenge": _pop,
    "put_login_code_if_cooled_down": _cooled_put,
    "record_failure": _failure,
    "record_login_code_attempt": _attempt,
    "update_organization": _update_org,
    "update_sign_count": _sign_count,
    "webauthn_user_handle": _user_handle,
}


def run_worker(
    opener: Callable[[], MfaStore],
    worker: int,
    inbox: Any,
    barrier: Any,
    results: Any,
) -> None:
    """Serve races until told to stop.

    Opens its own store, then for each ``(op, targets)`` message from ``inbox``
    waits at ``barrier`` with the other workers before each target and races on
    it, reporting ``(round, outcome)`` to ``results``. ``None`` stops the worker.
    """
    store = opener()
    try:
        while (message := inbox.get()) is not None:
            op, targets = message
            for i, target in enumerate(targets):
                barrier.wait(timeout=120)
                try:
                    out = OPS[op](store, target, worker)
                except MfaError as exc:  # pragma: no cover - shown in the assertion
                    out = f"error:{type(exc).__name__}"
                results.put((i, out))
    finally:
        store.close()
