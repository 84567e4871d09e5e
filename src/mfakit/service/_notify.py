"""Outgoing messages: a :class:`Notifier` protocol, typed messages and an in-memory outbox.

Every message is addressed to a user id; the host application resolves the
address (email, SMS, in-app) itself, so mfakit stores no contact details. Only
:class:`LoginCode` carries a secret (the code), hidden from ``repr``.

The service never calls the notifier inside an action. It writes each message
to the store's transactional outbox in the same transaction as the change
that causes it, and delivers it afterwards (:meth:`MfaService.deliver_notifications
<mfakit.service.MfaService.deliver_notifications>`, and right after the commit
when ``ServiceSettings.deliver_after_commit`` is on; login codes never inline).
Delivery is **at least once**: every delivered message carries a stable
``message_id``, the same on every attempt, so a notifier drops one it has
already sent. An exception raised by :meth:`Notifier.send` is a failed attempt,
retried with back-off; it never undoes the action.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeAlias, TypeVar, runtime_checkable

__all__ = [
    "AccountLocked",
    "AccountUnlocked",
    "BackupCodesLow",
    "EnforcementStopped",
    "GracePeriodStarted",
    "InMemoryOutbox",
    "LoginCode",
    "MemberRemoved",
    "Message",
    "MethodAdded",
    "MethodRemoved",
    "MfaReminder",
    "MfaReset",
    "Notifier",
    "PasskeyNowSynced",
    "SignCountAnomaly",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaReminder:
    """Ask a user to set up multi-factor authentication.

    Attributes:
        user_id: The recipient.
        org_id: The organization asking.
        deadline: The exclusive enrollment deadline, ``None`` while nothing is enforced.
        actor_id: Who sent the reminder, ``None`` for the scheduler.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str
    deadline: datetime | None = None
    actor_id: str | None = None
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class GracePeriodStarted:
    """A grace period to set up multi-factor authentication has started.

    Attributes:
        user_id: The recipient.
        org_id: The organization.
        deadline: The exclusive deadline.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str
    deadline: datetime | None = None
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnforcementStopped:
    """An organization stopped enforcing multi-factor authentication (sent to its owners).

    Attributes:
        user_id: The recipient (an owner).
        org_id: The organization.
        actor_id: Who stopped it.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str
    actor_id: str | None = None
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCode:
    """An emailed one-time login code. The only message carrying a secret.

    Attributes:
        user_id: The recipient.
        org_id: The organization the code signs in to.
        code: The code to deliver. Never in ``repr``; never log it.
        expires_at: When the code stops working.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str
    code: str = field(repr=False)
    expires_at: datetime
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodAdded:
    """A second factor was added to the account (a security notice).

    Attributes:
        user_id: The recipient.
        method: ``totp``, ``passkey``, ``security_key`` or ``backup_codes``.
        label: The method's name, if it has one.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    method: str
    label: str = ""
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodRemoved:
    """A second factor was removed from the account (a security notice).

    Attributes:
        user_id: The recipient.
        method: ``totp``, ``passkey`` or ``security_key``.
        label: The method's name, if it has one.
        deadline: When a grace period started by the removal ends, if one did.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    method: str
    label: str = ""
    deadline: datetime | None = None
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLocked:
    """The user's membership of an organization was locked.

    Attributes:
        user_id: The recipient.
        org_id: The organization.
        reason: ``mfa_deadline``, ``failed_attempts`` or ``admin``.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str
    reason: str
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUnlocked:
    """The user's membership of an organization was unlocked.

    Attributes:
        user_id: The recipient.
        org_id: The organization.
        deadline: A new enrollment deadline, when the unlock started a grace period.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str
    deadline: datetime | None = None
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRemoved:
    """The user was removed from an organization.

    Attributes:
        user_id: The recipient.
        org_id: The organization.
        actor_id: The administrator who removed them; ``None`` when the sweep
            removed them for missing the MFA deadline.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str
    actor_id: str | None = None
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaReset:
    """An administrator or the host's support deleted every second factor of the account.

    Suggested text: *Your multi-factor authentication was reset by an
    administrator: your authenticator app, passkeys, security keys and backup
    codes no longer work. Set up multi-factor authentication again (before the
    deadline, if there is one). If you did not ask for this, contact support.*

    Attributes:
        user_id: The recipient.
        org_id: The organization whose administrator reset it (one message per
            organization for a support reset); ``None`` for a support reset of
            a user in no organization.
        deadline: When the user must have enrolled again, if a grace period started.
        actor_id: Who reset it.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    org_id: str | None = None
    deadline: datetime | None = None
    actor_id: str | None = None
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupCodesLow:
    """Few unused backup codes remain; the user should generate a new set.

    Attributes:
        user_id: The recipient.
        remaining: Unused codes left.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    remaining: int
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignCountAnomaly:
    """A passkey's signature counter went backwards: the authenticator may be cloned.

    Attributes:
        user_id: The recipient.
        label: The passkey's name.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    label: str
    message_id: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PasskeyNowSynced:
    """A credential registered as device-bound is now synced by its provider (a security notice).

    Sent once, when a sign-in first reports the credential backup-eligible and
    the service records it (``ServiceSettings.accept_backup_eligibility_upgrade``).
    From then on the credential is a passkey: copies of it can sign in from
    every device the user's password manager syncs to, and an organization
    that does not let the user use passkeys no longer counts it. Suggested
    text: *Your passkey "Laptop" is now synced by your password manager, so it
    also works on your other devices. If you did not expect this, review your
    password manager and your account's sign-in methods.*

    Attributes:
        user_id: The recipient.
        label: The credential's name.
        message_id: The outbox id (see :data:`Message`); empty until enqueued.
    """

    user_id: str
    label: str
    message_id: str = field(default="", compare=False)


#: Every message the service sends. Each has a ``message_id``: empty on a
#: message built by hand, and, on one the service delivers, the random id the
#: outbox gave it when it was enqueued, the same on every delivery attempt.
Message: TypeAlias = (
    MfaReminder
    | GracePeriodStarted
    | EnforcementStopped
    | LoginCode
    | MethodAdded
    | MethodRemoved
    | AccountLocked
    | AccountUnlocked
    | MemberRemoved
    | MfaReset
    | BackupCodesLow
    | SignCountAnomaly
    | PasskeyNowSynced
)

_M = TypeVar("_M", bound=Message)


@runtime_checkable
class Notifier(Protocol):
    """Delivers the service's messages. Implement it with your mail or message queue."""

    def send(self, message: Message) -> None:
        """Deliver (or enqueue) one message to ``message.user_id``; raise if it failed.

        The same message can arrive twice (at-least-once delivery, see
        :data:`Message`): skip one whose ``message_id`` was already sent.
        """
        ...


class InMemoryOutbox:
    """A thread-safe :class:`Notifier` that keeps messages in a list, for tests and demos.

    Example::

        outbox = InMemoryOutbox()
        service = MfaService(..., notifier=outbox)
        service.send_login_code("acme", "jane")
        service.deliver_notifications()  # login codes always wait for a deliverer
        (code,) = outbox.of_type(LoginCode, user_id="u-1")
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []

    def send(self, message: Message) -> None:
        """Append ``message`` to the outbox."""
        with self._lock:
            self._messages.append(message)

    @property
    def messages(self) -> tuple[Message, ...]:
        """Every message sent so far, oldest first."""
        with self._lock:
            return tuple(self._messages)

    def of_type(self, kind: type[_M], *, user_id: str | None = None) -> tuple[_M, ...]:
        """The messages of one type, optionally only those to ``user_id``, oldest first."""
        with self._lock:
            return tuple(
                m
                for m in self._messages
                if isinstance(m, kind) and (user_id is None or m.user_id == user_id)
            )

    def filter(self, predicate: Callable[[Message], bool]) -> tuple[Message, ...]:
        """The messages for which ``predicate`` is true, oldest first."""
        with self._lock:
            return tuple(m for m in self._messages if predicate(m))

    def clear(self) -> None:
        """Forget every message."""
        with self._lock:
            self._messages.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)

    def __repr__(self) -> str:
        return f"InMemoryOutbox({len(self)} messages)"
