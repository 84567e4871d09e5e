"""The console's :class:`~mfakit.service.Notifier`: turns mfakit's messages into e-mails.

mfakit addresses every message to a user id; the host application looks up the
address and the language, and writes the text. A real application would hand
the e-mail to its mail queue; the console keeps it in its outbox table, shown
on the outbox page.

The texts are mfakit's (:func:`~mfakit.i18n.render_notification`), in the
recipient's language, from the console's catalog: it words a few of them its
own way (the method by its kind and name, a lock and its reason) and names
the organization with its ID, which a member types to sign in. E-mails to a
member who signs in with a username also say how to sign in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from mfakit.i18n import render_notification
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
from .i18n import CATALOG, DEFAULT_LOCALE, t

#: The outbox's name for each type of message (the outbox page shows it as ``data-kind``).
KINDS: Mapping[type[Message], str] = {
    LoginCode: "login_code",
    MfaReminder: "reminder",
    GracePeriodStarted: "grace",
    EnforcementStopped: "enforcement_stopped",
    MethodAdded: "method_added",
    MethodRemoved: "method_removed",
    AccountLocked: "locked",
    AccountUnlocked: "unlocked",
    MemberRemoved: "removed",
    MfaReset: "mfa_reset",
    BackupCodesLow: "backup_codes_low",
    SignCountAnomaly: "sign_count",
    PasskeyNowSynced: "passkey_synced",
}

#: How an e-mail names a method of each kind: with its name, and without one.
_METHODS = {
    "totp": ("console.mail.method.totp.named", "console.mail.method.totp"),
    "passkey": ("console.mail.method.passkey.named", "console.mail.method.passkey"),
    "security_key": ("console.mail.method.security_key.named", "console.mail.method.security_key"),
    "backup_codes": ("console.mail.method.backup_codes", "console.mail.method.backup_codes"),
}
_OTHER_METHOD = ("console.mail.method.other.named", "console.mail.method.other")


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


def _method(method: str, label: str, locale: str) -> str:
    """The method by its kind and name: 'The authenticator app "Phone"'."""
    named, unnamed = _METHODS.get(method, _OTHER_METHOD)
    return t(named, locale=locale, label=label) if label else t(unnamed, locale=locale)


def _how_to_sign_in(org_id: str, recipient: Recipient, locale: str) -> str | None:
    """For an organization member: where and with what to sign in (never a password or code)."""
    if not recipient.username:
        return None
    if recipient.member_sign_in:
        return t(
            "console.mail.member_sign_in.link",
            locale=locale,
            link=recipient.member_sign_in,
            org_id=org_id,
            username=recipient.username,
        )
    return t(
        "console.mail.member_sign_in", locale=locale, org_id=org_id, username=recipient.username
    )


def render(
    message: Message, recipient: Recipient | None = None, *, locale: str | None = None
) -> tuple[str, str, str]:
    """The kind, subject and body of the e-mail for one message, in ``locale``."""
    to = recipient or Recipient()
    language = locale or DEFAULT_LOCALE
    values: dict[str, str] = {}
    org_id = getattr(message, "org_id", None)
    if isinstance(org_id, str) and org_id and to.org_name:
        # "Acme (ID org-1)": a member types the ID to sign in.
        values["org_name"] = t("console.mail.org", locale=language, name=to.org_name, id=org_id)
    if isinstance(message, MethodAdded | MethodRemoved):
        values["method"] = _method(message.method, message.label, language)
    rendered = render_notification(
        message,
        locale=language,
        values=values,
        catalog=CATALOG,
        # The code is the sign-in e-mail's purpose; it is sent, never logged.
        reveal_secrets=isinstance(message, LoginCode),
    )
    body = rendered.body
    if isinstance(message, MfaReminder | GracePeriodStarted):
        how = _how_to_sign_in(message.org_id, to, language)
        if how:
            body += "\n\n" + how
    return KINDS.get(type(message), "other"), rendered.subject, body


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
        locale = user.locale if user is not None else None
        kind, subject, body = render(message, self._recipient(message), locale=locale)
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

    def send_invitation(self, *, email: str, org_name: str, link: str, locale: str) -> None:
        """The console's own e-mail: an invitation link (not an mfakit message).

        In the invitee's language if they have an account, else the inviter's.
        """
        invitee = self._accounts.user_by_email(email)
        if invitee is not None and invitee.locale:
            locale = invitee.locale
        self._accounts.record_mail(
            user_id=None,
            recipient=email,
            kind="invitation",
            subject=t("console.mail.invitation.subject", locale=locale, org_name=org_name),
            body=t("console.mail.invitation.body", locale=locale, link=link, org_name=org_name),
        )
