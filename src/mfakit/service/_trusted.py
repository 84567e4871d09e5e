"""Trusted browsers: "trust this browser for N days", done so that it is not a bypass.

Right after a successful second factor the application may ask for a token
(:meth:`TrustedBrowserFlow.trust_browser`) and keep it in the browser (an
``HttpOnly`` cookie). At a later sign-in, once the password is checked,
:meth:`TrustedBrowserFlow.check_trusted_browser` says whether that browser
may skip the second factor. It may only while all of these hold:

* the token is one the store knows, for this very user (found by its
  SHA-256; the user id is compared after the lookup);
* it has not expired: its own expiry, and its age against the number of days
  the policies allow *now* (shortening the policy shortens running trusts);
* it was issued after the user's last factor change, administrator reset or
  lock (``factors_changed_at``, set by :class:`FactorChanges`), and after
  the ``locked_at`` of each membership that judges the sign-in;
* every policy that judges the sign-in allows trusted browsers now
  (``OrgPolicy.trusted_browser_days > 0``; for a user in no organization,
  the personal policy's); with several organizations the strictest wins.

Each organization's login decision applies as for any sign-in (through the
:class:`LoginGate`): a locked or overdue member is refused, a member in grace
gets their obligations. A trusted sign-in does not count as a second-factor
check: the step-up stamp is not touched, so sensitive actions still ask for
a real factor.

Why SHA-256 and not a password hash: the token is 256 random bits, so there
is nothing to guess and no dictionary to slow down; a fast hash makes the
stored digest useless as a token and the lookup one indexed read, whatever
the number of tokens. The digest is looked up, never compared byte by byte
in Python, so timing reveals nothing about a stored token.

Cost of a check: the lookup by hash, then (for a live token) the user's
memberships with their organizations and the user's factors (the login
gate's two reads), one ``touch_trusted_browser`` and one audit append:
bounded, whatever the organizations' size.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from mfakit.errors import ConfigurationError, NotFoundError, PolicyDeniedError, StepUpRequiredError
from mfakit.repositories import AuditEvent, Membership, TrustedBrowser
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory, OrgContext, UserFactors
from mfakit.service._gate import LoginGate, SignIn
from mfakit.service._results import (
    TrustedBrowserCheck,
    TrustedBrowserEntry,
    TrustedBrowserToken,
    TrustRefusal,
)
from mfakit.service._settings import check_name, check_user_id
from mfakit.service._step_up import factor_kinds

__all__ = ["TRUST_BROWSER_ACTION", "TRUST_BROWSER_WITHIN", "TrustedBrowserFlow", "token_digest"]

#: How recent the user's last second-factor check must be to trust a browser:
#: trusting is offered on the page that follows a successful second factor.
TRUST_BROWSER_WITHIN = timedelta(minutes=5)
#: The action named by the step-up refusal of :meth:`TrustedBrowserFlow.trust_browser`.
TRUST_BROWSER_ACTION = "trust_browser"
# What a token looks like (secrets.token_urlsafe): anything else is not looked up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")
_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_LABEL = 64


def token_digest(token: str) -> bytes:
    """The SHA-256 of a token, as the store keeps it."""
    return hashlib.sha256(token.encode("ascii")).digest()


def _entry(b: TrustedBrowser) -> TrustedBrowserEntry:
    return TrustedBrowserEntry(
        token_id=b.token_id,
        label=b.label,
        created_at=b.created_at,
        expires_at=b.expires_at,
        last_used_at=b.last_used_at,
    )


class TrustedBrowserFlow:
    """Trusting a browser, checking it at sign-in, listing and revoking.

    Depends on the context, the directory and the login gate (a trusted
    sign-in is still judged by each organization).
    """

    def __init__(self, *, context: ServiceContext, directory: Directory, gate: LoginGate) -> None:
        self._context = context
        self._directory = directory
        self._gate = gate

    def _members(self, user_id: str, org_id: str | None) -> list[tuple[OrgContext, Membership]]:
        if org_id is not None:
            return [self._directory.member_context(org_id, user_id)]
        return self._directory.member_contexts(user_id)

    def _days(self, contexts: list[OrgContext]) -> int:
        """Days of trust allowed now: the strictest policy's (0: not allowed)."""
        if not contexts:
            return self._context.settings.personal_policy.trusted_browser_days
        return min(ctx.policy.trusted_browser_days for ctx in contexts)

    def trusted_browser_days(self, user_id: str, *, org_id: str | None = None) -> int:
        """See :meth:`MfaService.trusted_browser_days`."""
        check_user_id(user_id)
        return self._days([ctx for ctx, _ in self._members(user_id, org_id)])

    def trust_browser(
        self, user_id: str, *, label: str | None = None, org_id: str | None = None
    ) -> TrustedBrowserToken:
        """See :meth:`MfaService.trust_browser`."""
        check_user_id(user_id)
        if label is not None:
            label = check_name(label, field="label", max_length=_MAX_LABEL)
        context = self._context
        now = context.now()
        members = self._members(user_id, org_id)
        days = self._days([ctx for ctx, _ in members])
        if days == 0:
            raise PolicyDeniedError("the policy does not allow trusting a browser")
        if any(m.status != "active" for _, m in members):
            raise PolicyDeniedError("a locked or removed member cannot trust a browser")
        factors = self._directory.factors(user_id)
        if not factors.methods:
            raise NotFoundError("set up a second factor before trusting a browser")
        last = factors.last_mfa_at
        if last is None or last > now or now - last >= TRUST_BROWSER_WITHIN:
            raise StepUpRequiredError(
                "trust a browser right after a second factor",
                action=TRUST_BROWSER_ACTION,
                max_age=TRUST_BROWSER_WITHIN,
                factors=factor_kinds(factors),
            )
        changed = factors.factors_changed_at
        if changed is not None and changed >= now:
            # Only with clocks that disagree: a token issued now would be void at once.
            raise PolicyDeniedError("the second factors changed meanwhile; try again")
        token = secrets.token_urlsafe(32)
        record = TrustedBrowser(
            token_id=secrets.token_urlsafe(16),
            user_id=user_id,
            token_hash=token_digest(token),
            label=label,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        with context.transaction():
            context.store.add_trusted_browser(record)
            context.audit(
                "trusted_browser.trusted",
                at=now,
                user_id=user_id,
                org_id=org_id,
                details={"token_id": record.token_id, "days": days},
            )
        return TrustedBrowserToken(
            token=token,
            token_id=record.token_id,
            label=label,
            created_at=now,
            expires_at=record.expires_at,
        )

    def check_trusted_browser(
        self, user_id: str, token: str, *, org_id: str | None = None
    ) -> TrustedBrowserCheck:
        """See :meth:`MfaService.check_trusted_browser`."""
        check_user_id(user_id)
        if not isinstance(token, str):
            raise ConfigurationError("token must be a string")
        context = self._context
        now = context.now()
        record = None
        if _TOKEN.fullmatch(token):
            record = context.store.get_trusted_browser(token_digest(token))
        if record is None or not hmac.compare_digest(
            record.user_id.encode("utf-8"), user_id.encode("utf-8")
        ):
            return self._refused(user_id, org_id, now, TrustRefusal.UNKNOWN, None)
        if record.expires_at <= now:
            return self._refused(user_id, org_id, now, TrustRefusal.EXPIRED, record)
        with self._gate.attempt(user_id, org_id, now) as attempt:
            reason = self._void(record, attempt, self._gate.factors(attempt), now)
            if reason is not None:
                self._gate.hold(attempt, self._event(user_id, org_id, now, reason, record))
                return TrustedBrowserCheck(
                    user_id=user_id, trusted=False, reason=reason, token_id=record.token_id
                )
            context.store.touch_trusted_browser(record.token_id, now=now)
            self._gate.hold(attempt, self._event(user_id, org_id, now, None, record))
            return self._trusted(user_id, record, attempt)

    def _void(
        self, record: TrustedBrowser, attempt: SignIn, factors: UserFactors, now: datetime
    ) -> TrustRefusal | None:
        """Why a live token of the right user does not count now, or ``None``."""
        issued = record.created_at
        changed = factors.factors_changed_at
        if changed is not None and issued <= changed:
            return TrustRefusal.FACTORS_CHANGED
        memberships = (*attempt.read, *(m for _, m in attempt.members))
        if any(m.locked_at is not None and issued <= m.locked_at for m in memberships):
            return TrustRefusal.LOCKED
        days = self._days([ctx for ctx, _ in attempt.members])
        if days == 0:
            return TrustRefusal.NOT_ALLOWED
        if issued + timedelta(days=days) <= now:
            return TrustRefusal.EXPIRED
        return None

    def _trusted(
        self, user_id: str, record: TrustedBrowser, attempt: SignIn
    ) -> TrustedBrowserCheck:
        obligations, deadline, enrollment_only = attempt.outcome()
        return TrustedBrowserCheck(
            user_id=user_id,
            trusted=True,
            token_id=record.token_id,
            obligations=obligations,
            deadline=deadline,
            enrollment_only=enrollment_only,
            decisions=dict(attempt.decisions),
        )

    def _event(
        self,
        user_id: str,
        org_id: str | None,
        now: datetime,
        reason: TrustRefusal | None,
        record: TrustedBrowser | None,
    ) -> AuditEvent:
        details: dict[str, str] = {}
        if record is not None:
            details["token_id"] = record.token_id
        if reason is not None:
            details["reason"] = reason.value
        return self._context.event(
            "trusted_browser.used",
            at=now,
            outcome="success" if reason is None else "failure",
            user_id=user_id,
            org_id=org_id,
            details=details,
        )

    def _refused(
        self,
        user_id: str,
        org_id: str | None,
        now: datetime,
        reason: TrustRefusal,
        record: TrustedBrowser | None,
    ) -> TrustedBrowserCheck:
        self._context.audit_all((self._event(user_id, org_id, now, reason, record),))
        return TrustedBrowserCheck(
            user_id=user_id,
            trusted=False,
            reason=reason,
            token_id=None if record is None else record.token_id,
        )

    def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowserEntry, ...]:
        """See :meth:`MfaService.list_trusted_browsers`."""
        check_user_id(user_id)
        now = self._context.now()
        stored = self._context.store.list_trusted_browsers(user_id)
        return tuple(_entry(b) for b in stored if b.expires_at > now)

    def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """See :meth:`MfaService.revoke_trusted_browser`."""
        check_user_id(user_id)
        if not isinstance(token_id, str):
            raise ConfigurationError("token_id must be a string")
        if not _TOKEN_ID.fullmatch(token_id):
            return False
        context = self._context
        now = context.now()
        with context.transaction():
            revoked = context.store.revoke_trusted_browser(user_id, token_id)
            if revoked:
                context.audit(
                    "trusted_browser.revoked",
                    at=now,
                    user_id=user_id,
                    details={"count": 1, "reason": "revoked", "token_id": token_id},
                )
        return revoked

    def revoke_trusted_browsers(self, user_id: str) -> int:
        """See :meth:`MfaService.revoke_trusted_browsers`."""
        check_user_id(user_id)
        context = self._context
        now = context.now()
        with context.transaction():
            revoked = context.store.revoke_trusted_browsers(user_id)
            if revoked:
                context.audit(
                    "trusted_browser.revoked",
                    at=now,
                    user_id=user_id,
                    details={"count": revoked, "reason": "revoked"},
                )
        return revoked
