"""Key rotation: re-encrypt the stored TOTP secrets under the current secret-box key.

After a new key becomes current (see the secrets-at-rest guide), the secrets
stored before still decrypt under the previous key, which therefore cannot be
removed yet. :class:`SecretRewrap` moves them, one page at a time: it reads a
page of credentials (pending and active) in ``totp_id`` order with one query,
re-encrypts in memory each envelope that is under another key (authenticating
it first, for the same owner and purpose), and writes each back with the
store's compare-and-set ``rewrap_totp_secret``, which only succeeds if the row
still holds the envelope that was read. So:

* it is **resumable**: each call returns a cursor, and stopping anywhere
  loses nothing (a row is either written whole or not at all);
* it is **safe on several servers at once**: two runs over the same row
  both compute a new envelope from the same old one, and only the first
  compare-and-set wins; the other counts the row as ``raced`` and writes nothing;
* it never overwrites a change made meanwhile (a re-enrollment, a
  confirmation, a deletion): those rows count as ``raced`` too;
* it never touches ``last_step`` (replay protection): the compare-and-set
  changes the ciphertext column alone.

It needs the store, the key ring and the clock only, so the command line
(``mfakit secretbox rewrap``) runs the same procedure without a whole service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from mfakit.errors import ConfigurationError, DecryptionError, MalformedDataError
from mfakit.repositories import AuditEvent, MfaStore, TotpCredential
from mfakit.secretbox import TOTP_SECRET_PURPOSE, KeyRing
from mfakit.service._context import ServiceContext
from mfakit.service._observe import SecurityLog
from mfakit.service._results import RewrapProgress

__all__ = ["MAX_BATCH", "SecretRewrap"]

#: The largest batch: one page of the store's ``list_totp_credentials``.
MAX_BATCH = 1000
_MAX_CURSOR = 1024


class SecretRewrap:
    """Re-encrypts stored TOTP secrets under the current key, one batch per call.

    Depends on the store, the key ring and a clock function (``now``), and
    optionally on the service's audit path (``audit``, the context's
    ``audit_all``); without it, the audit event is appended to the store and
    logged (not counted: there are no metrics).
    """

    def __init__(
        self,
        *,
        store: MfaStore,
        keys: KeyRing,
        now: Callable[[], datetime],
        audit: Callable[[Sequence[AuditEvent]], None] | None = None,
    ) -> None:
        self._store = store
        self._keys = keys
        self._now = now
        self._audit = self._write if audit is None else audit

    def _write(self, events: Sequence[AuditEvent]) -> None:
        for event in events:
            self._store.append_audit_event(event)
        SecurityLog(None).record(events)

    def rewrap_secrets(self, *, batch: int = 500, after: str | None = None) -> RewrapProgress:
        """See :meth:`MfaService.rewrap_secrets`."""
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            raise ConfigurationError(f"batch must be an integer from 1 to {MAX_BATCH}")
        if after is not None and (
            not isinstance(after, str) or not after or len(after) > _MAX_CURSOR
        ):
            raise ConfigurationError("after must be a cursor returned by rewrap_secrets, or None")
        keys = self._keys
        page = self._store.list_totp_credentials(after=after, limit=batch)
        rewrapped = current = raced = 0
        failed: list[str] = []
        for credential in page.items:
            new = self._rotated(credential)
            if new is None:
                failed.append(credential.totp_id)
            elif new == credential.secret:
                current += 1
            elif self._store.rewrap_totp_secret(
                credential.totp_id, expected=credential.secret, new=new
            ):
                rewrapped += 1
            else:
                raced += 1
        progress = RewrapProgress(
            key_id=keys.current_key_id,
            scanned=len(page.items),
            rewrapped=rewrapped,
            already_current=current,
            raced=raced,
            failed=tuple(failed),
            next_cursor=page.next_cursor,
        )
        self._audit(
            [
                ServiceContext.event(
                    "secretbox.rewrap",
                    at=self._now(),
                    outcome="failure" if failed else "success",
                    details={
                        "key_id": progress.key_id,
                        "scanned": progress.scanned,
                        "rewrapped": rewrapped,
                        "already_current": current,
                        "raced": raced,
                        "failed": list(progress.failed),
                        "done": progress.done,
                    },
                )
            ]
        )
        return progress

    def _rotated(self, credential: TotpCredential) -> bytes | None:
        """The envelope under the current key (the same bytes if already there), or None."""
        try:
            if not self._keys.needs_rotation(credential.secret):
                return credential.secret
            return self._keys.rotate(
                credential.secret, owner=credential.user_id, purpose=TOTP_SECRET_PURPOSE
            )
        except (MalformedDataError, DecryptionError):
            # Damaged, tampered with, or under a retired key: leave it, report it.
            return None
