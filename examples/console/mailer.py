"""The console's :class:`~mfakit.service.Notifier`: turns mfakit's messages into e-mails.

mfakit addresses every message to a user id; the host application looks up the
address and writes the text. A real application would hand the e-mail to its
mail queue; the console keeps it in its outbox table, shown on the outbox page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from mfakit.repositories import MfaStore
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

#: How an e-mail names each kind of method: (with its name, without one).
_METHODS = {
    "totp": ('The authenticator app "{label}"', "An authenticator app"),
    "passkey": ('The passkey "{label}"', "A passkey"),
    "security_key": ('The security key "{label}"', "A security key"),
    "backup_codes": ("A new set of backup codes", "A new set of backup codes"),
}

#: Why a membership was locked, in words (mfakit's reason codes: mfa_deadline,
#: failed_attempts, admin).
_LOCK_REASONS = {
    "mfa_deadline": (
        " because multi-factor authentication was not set up before the organization's "
        "deadline. Ask an owner of the organization to unlock it, then set it up."
    ),
    "failed_attempts": (
        " after too many failed sign-in attempts. Ask an owner of the organization to "
        "unlock it. If these attempts were not yours, tell them."
    ),
    "admin": " by an owner of the organization. Ask them if you need access again.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """What an e-mail says about its recipient's organization (looked up by the mailer).

    Attributes:
        org_name: The organization's name (mfakit's messages carry its id only).
        username: The recipient's username in it, for an organization member
            who signs in with the organization ID and a username.
        member_sign_in: The address of the member sign-in page.
    """

    org_name: str | None = None
    username: str | None = None
    member_sign_in: str | None = None


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _org(org_id: str, recipient: Recipient) -> str:
    """The organization, by name when known ("Acme (ID org-1)"), else by its ID."""
    if recipient.org_name:
        return f"{recipient.org_name} (ID {org_id})"
    return f"the organization {org_id}"


def _method(method: str, label: str) -> str:
    named, unnamed = _METHODS.get(method, ("{label}", "A sign-in method"))
    return named.format(label=label) if label else unnamed


def _how_to_sign_in(org_id: str, recipient: Recipient) -> str:
    """For an organization member: where and with what to sign in (never a password or code)."""
    if not recipient.username:
        return ""
    where = f" at {recipient.member_sign_in}" if recipient.member_sign_in else ""
    return (
        f"\n\nTo sign in, open the member sign-in page{where} and enter the organization "
        f"ID {org_id} and your username {recipient.username}; then choose Send code "
        "(a code is e-mailed to you) or Enter password, if you set one."
    )


def render(message: Message, recipient: Recipient | None = None) -> tuple[str, str, str]:
    """The kind, subject and body of the e-mail for one message."""
    to = recipient or Recipient()
    match message:
        case LoginCode(code=code, org_id=org, expires_at=expires):
            return (
                "login_code",
                "Your sign-in code",
                (
                    f"Your code to sign in to {_org(org, to)} is {code}.\n"
                    f"It expires at {_when(expires)}. "
                    "If you did not ask for it, ignore this e-mail."
                ),
            )
        case MfaReminder(org_id=org, deadline=deadline):
            by = f" by {_when(deadline)}" if deadline else ""
            return (
                "reminder",
                "Set up multi-factor authentication",
                (
                    f"{_org(org, to)} asks you to set up multi-factor authentication{by}: "
                    "sign in, open your Account security page and add an authenticator "
                    f"app or a passkey.{_how_to_sign_in(org, to)}"
                ),
            )
        case GracePeriodStarted(org_id=org, deadline=deadline):
            before = f"before {_when(deadline)}" if deadline else "soon"
            return (
                "grace",
                "Multi-factor authentication is now required",
                (
                    f"{_org(org, to)} requires multi-factor authentication. Set it up "
                    f"{before} or your membership will be locked.{_how_to_sign_in(org, to)}"
                ),
            )
        case EnforcementStopped(org_id=org):
            return (
                "enforcement_stopped",
                "MFA is no longer enforced",
                f"Multi-factor authentication is no longer enforced in {_org(org, to)}.",
            )
        case MethodAdded(method=method, label=label):
            return (
                "method_added",
                "A sign-in method was added",
                (
                    f"{_method(method, label)} was added to your account. "
                    "If this was not you, secure your account now."
                ),
            )
        case MethodRemoved(method=method, label=label, deadline=deadline):
            extra = f" Set up another method before {_when(deadline)}." if deadline else ""
            return (
                "method_removed",
                "A sign-in method was removed",
                f"{_method(method, label)} was removed from your account.{extra}",
            )
        case AccountLocked(org_id=org, reason=reason):
            why = _LOCK_REASONS.get(reason, ". Ask an owner of the organization to unlock it.")
            return (
                "locked",
                "Your membership is locked",
                f"Your membership of {_org(org, to)} is locked{why}",
            )
        case AccountUnlocked(org_id=org, deadline=deadline):
            extra = f" Set up MFA before {_when(deadline)}." if deadline else ""
            return (
                "unlocked",
                "Your membership is unlocked",
                f"Your membership of {_org(org, to)} was unlocked.{extra}",
            )
        case MemberRemoved(org_id=org, actor_id=actor):
            why = "by an owner" if actor else "for missing the MFA deadline"
            return (
                "removed",
                "You were removed from an organization",
                f"You were removed from {_org(org, to)} {why}.",
            )
        case MfaReset(org_id=org, deadline=deadline):
            by = f"an owner of {_org(org, to)}" if org else "support"
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

    def __init__(
        self, accounts: Accounts, *, store: MfaStore | None = None, origin: str | None = None
    ) -> None:
        """``store`` names organizations and members' usernames; ``origin`` makes the links."""
        self._accounts = accounts
        self._store = store
        self._origin = origin
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
        kind, subject, body = render(message, self._recipient(message))
        self._accounts.record_mail(
            user_id=message.user_id, recipient=recipient, kind=kind, subject=subject, body=body
        )

    def _recipient(self, message: Message) -> Recipient:
        """The recipient's organization by name and, for a member, how they sign in."""
        org_id = getattr(message, "org_id", None)
        if self._store is None or not isinstance(org_id, str) or not org_id:
            return Recipient()
        org = self._store.get_organization(org_id)
        membership = self._store.get_membership(org_id, message.user_id)
        return Recipient(
            org_name=org.name if org is not None else None,
            username=membership.username if membership is not None else None,
            member_sign_in=f"{self._origin}/login/member" if self._origin else None,
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
