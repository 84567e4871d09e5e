"""The console's :class:`~mfakit.service.Notifier`: turns mfakit's messages into e-mails.

mfakit addresses every message to a user id; the host application looks up the
address and writes the text. A real application would hand the e-mail to its
mail queue; the console keeps it in its outbox table, shown on the outbox page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from mfakit.service import (
    AccountLocked,
    AccountUnlocked,
    BackupCodesLow,
    EnforcementStopped,
    GracePeriodStarted,
    LoginCode,
    MemberRemoved,
    Message,
    MethodAdded,
    MethodRemoved,
    MfaReminder,
    MfaReset,
    PasskeyNowSynced,
    SignCountAnomaly,
)

from .data import Accounts

_METHOD_NAMES = {
    "totp": "an authenticator app (TOTP)",
    "passkey": "a passkey",
    "security_key": "a security key",
    "backup_codes": "a new set of backup codes",
}


def _when(moment: datetime | None) -> str:
    return "no deadline" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def render(message: Message) -> tuple[str, str, str]:
    """The kind, subject and body of the e-mail for one message."""
    match message:
        case LoginCode(code=code, org_id=org, expires_at=expires):
            return (
                "login_code",
                "Your sign-in code",
                (
                    f"Your code to sign in to organization {org} is {code}.\n"
                    f"It expires at {_when(expires)}. "
                    "If you did not ask for it, ignore this e-mail."
                ),
            )
        case MfaReminder(org_id=org, deadline=deadline):
            return (
                "reminder",
                "Set up multi-factor authentication",
                (
                    f"Organization {org} asks you to set up multi-factor authentication "
                    f"on your Account security page ({_when(deadline)})."
                ),
            )
        case GracePeriodStarted(org_id=org, deadline=deadline):
            return (
                "grace",
                "Multi-factor authentication is now required",
                (
                    f"Organization {org} requires multi-factor authentication. Set it up "
                    f"before {_when(deadline)} or your membership will be locked."
                ),
            )
        case EnforcementStopped(org_id=org):
            return (
                "enforcement_stopped",
                "MFA is no longer enforced",
                f"Multi-factor authentication is no longer enforced in organization {org}.",
            )
        case MethodAdded(method=method, label=label):
            what = _METHOD_NAMES.get(method, method)
            named = f' named "{label}"' if label and method != "totp" else ""
            return (
                "method_added",
                "A sign-in method was added",
                (
                    f"{what[0].upper()}{what[1:]}{named} was added to your account. "
                    "If this was not you, secure your account now."
                ),
            )
        case MethodRemoved(method=method, label=label, deadline=deadline):
            what = _METHOD_NAMES.get(method, method)
            extra = f" Set up another method before {_when(deadline)}." if deadline else ""
            return (
                "method_removed",
                "A sign-in method was removed",
                f'{what[0].upper()}{what[1:]} ("{label}") was removed from your account.{extra}',
            )
        case AccountLocked(org_id=org, reason=reason):
            return (
                "locked",
                "Your membership is locked",
                f"Your membership of organization {org} is locked ({reason.replace('_', ' ')}).",
            )
        case AccountUnlocked(org_id=org, deadline=deadline):
            extra = f" Set up MFA before {_when(deadline)}." if deadline else ""
            return (
                "unlocked",
                "Your membership is unlocked",
                f"Your membership of organization {org} was unlocked.{extra}",
            )
        case MemberRemoved(org_id=org, actor_id=actor):
            why = "by an owner" if actor else "for missing the MFA deadline"
            return (
                "removed",
                "You were removed from an organization",
                f"You were removed from organization {org} {why}.",
            )
        case MfaReset(org_id=org, deadline=deadline):
            by = f"an owner of organization {org}" if org else "support"
            extra = f" Set it up again before {_when(deadline)}." if deadline else ""
            return (
                "mfa_reset",
                "Your multi-factor authentication was reset",
                (
                    f"Your multi-factor authentication was reset by {by}: your authenticator "
                    "app, passkeys, security keys and backup codes no longer work, and you "
                    f"were signed out.{extra} If you did not ask for this, contact support."
                ),
            )
        case BackupCodesLow(remaining=remaining):
            return (
                "backup_codes_low",
                "You are running out of backup codes",
                f"Only {remaining} unused backup codes are left. Generate a new set.",
            )
        case SignCountAnomaly(label=label):
            return (
                "sign_count",
                "A passkey may have been copied",
                (
                    f'The passkey "{label}" reported an unexpected signature counter. '
                    "If you did not copy it, delete it and add a new one."
                ),
            )
        case PasskeyNowSynced(label=label):
            return (
                "passkey_synced",
                "Your passkey is now synced",
                (
                    f'Your passkey "{label}" is now synced by your password manager, '
                    "so it also works on your other devices signed in to it. "
                    "If you did not expect this, check your password manager and "
                    "the sign-in methods on your Account security page."
                ),
            )
    return ("other", type(message).__name__, "")  # pragma: no cover - every type is matched


class OutboxMailer:
    """Delivers mfakit's messages to the console's outbox table.

    mfakit delivers at least once: a message whose deliverer died before
    marking it is delivered again, with the same ``message_id``. The mailer
    drops such a duplicate. It remembers recent ids in memory, which is enough
    for a demo; a real mailer stores the id with the mail (a unique column) or
    passes it to its mail service as an idempotency key.
    """

    _REMEMBERED = 10_000

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()

    def _first_time(self, message_id: str) -> bool:
        if not message_id:
            return True  # built by hand, not from the outbox
        with self._lock:
            if message_id in self._seen:
                return False
            self._seen[message_id] = None
            if len(self._seen) > self._REMEMBERED:
                self._seen.popitem(last=False)
            return True

    def send(self, message: Message) -> None:
        """Render ``message`` as an e-mail to its recipient and keep it in the outbox."""
        if not self._first_time(message.message_id):
            return
        user = self._accounts.user(message.user_id)
        recipient = user.email if user is not None else f"<unknown user {message.user_id}>"
        kind, subject, body = render(message)
        self._accounts.record_mail(
            user_id=message.user_id, recipient=recipient, kind=kind, subject=subject, body=body
        )

    def send_invitation(self, *, email: str, org_name: str, link: str) -> None:
        """The console's own e-mail: an invitation link (not an mfakit message)."""
        self._accounts.record_mail(
            user_id=None,
            recipient=email,
            kind="invitation",
            subject=f"You are invited to join {org_name}",
            body=f"Open {link} to join the organization {org_name}.",
        )
