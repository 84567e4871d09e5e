"""The :class:`AsyncMfaService` facade: every :class:`MfaService` method as a coroutine.

Each method awaits the synchronous service's method of the same name and
signature, run on a bounded thread pool by a
:class:`~mfakit.service._executor.ServiceExecutor`: store I/O and Argon2 never
block the event loop. The methods are written out (no runtime generation) so
that type checkers and the API reference see real signatures; a test pins
that the two classes have the same public methods with the same signatures.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from mfakit.errors import ConfigurationError
from mfakit.policy import (
    ComplianceReport,
    Decision,
    MemberCompliance,
    MethodKind,
    OrgPolicy,
    PrincipalKind,
)
from mfakit.repositories import Invitation, Membership, Organization
from mfakit.service._executor import ServiceExecutor
from mfakit.service._outbox import DeliveryReport
from mfakit.service._results import (
    BackupCodeSet,
    BackupCodeStatus,
    IamLoginResult,
    LoginCodeRequested,
    Mediation,
    MethodRemoval,
    Passkey,
    PasskeyRegistration,
    PasskeySignals,
    PasskeySignInChallenge,
    PasskeySignInResult,
    RewrapProgress,
    SecondFactorChallenge,
    SecondFactorResult,
    SweepReport,
    TotpActivation,
    TotpDevice,
    TotpEnrollment,
    TrustedBrowserCheck,
    TrustedBrowserEntry,
    TrustedBrowserToken,
)
from mfakit.service._service import MfaService
from mfakit.service._settings import ServiceSettings, UserRef

__all__ = ["AsyncMfaService"]


class AsyncMfaService:
    """:class:`MfaService` for asyncio applications: the same methods, awaited.

    Every public method of :class:`MfaService` exists here as a coroutine with
    the same parameters, result and errors. The call runs the synchronous
    service on a thread pool of ``max_workers`` threads (default 8), so at most
    that many calls use the store at once; the others wait in the pool's
    queue, without blocking the event loop.

    Cancellation never leaves a call half-done: a call cancelled while it
    waits in the queue never runs; a call cancelled once it has started runs
    to its end in its thread (its store transaction commits or rolls back as a
    whole), and the :class:`asyncio.CancelledError` reaches the caller when it
    has finished, its result dropped. A cancelled :meth:`verify_totp` that had
    started may thus have used the code; the user types the next one.

    Close it with :meth:`aclose`, or use it as an async context manager: the
    pool it made is shut down once the calls in flight have ended. It never
    closes the service's store, which the host opened.

    Args:
        service: The synchronous service to run.
        max_workers: Threads of the pool made here (1 to 1024, default 8).
            Keep it at or below the PostgreSQL store's ``max_size``.
        executor: The host's own :class:`~concurrent.futures.ThreadPoolExecutor`
            instead (not with ``max_workers``); :meth:`aclose` leaves it running.

    Raises:
        ConfigurationError: ``service`` is not an :class:`MfaService`, or
            ``max_workers``/``executor`` are invalid.

    Example::

        async with AsyncMfaService(MfaService(store=store, ...), max_workers=8) as mfa:
            result = await mfa.verify_totp("u-1", code)
    """

    __slots__ = ("_runner", "_service")

    def __init__(
        self,
        service: MfaService,
        *,
        max_workers: int | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        if not isinstance(service, MfaService):
            raise ConfigurationError("service must be an MfaService")
        self._service = service
        self._runner = ServiceExecutor(executor=executor, max_workers=max_workers)

    def __repr__(self) -> str:
        state = "closed" if self._runner.closed else "open"
        return f"{type(self).__name__}({self._service!r}, {state})"

    @property
    def service(self) -> MfaService:
        """The synchronous service, for code that runs in a thread already."""
        return self._service

    @property
    def settings(self) -> ServiceSettings:
        """The service's settings."""
        return self._service.settings

    async def aclose(self) -> None:
        """Refuse new calls; shut down the pool made here once the calls in flight end.

        A host's executor is left running; the store is left open. Calling it
        again does nothing. Later calls raise :class:`ConfigurationError`.
        """
        await self._runner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- TOTP ------------------------------------------------------------------------------

    async def begin_totp_enrollment(
        self, user: UserRef, *, name: str = "Authenticator app"
    ) -> TotpEnrollment:
        """:meth:`MfaService.begin_totp_enrollment`, run in the pool."""
        return await self._runner.run(self._service.begin_totp_enrollment, user, name=name)

    async def confirm_totp(self, user_id: str, totp_id: str, code: str) -> TotpActivation:
        """:meth:`MfaService.confirm_totp`, run in the pool."""
        return await self._runner.run(self._service.confirm_totp, user_id, totp_id, code)

    async def list_totp_devices(self, user_id: str) -> tuple[TotpDevice, ...]:
        """:meth:`MfaService.list_totp_devices`, run in the pool."""
        return await self._runner.run(self._service.list_totp_devices, user_id)

    async def rename_totp_device(self, user_id: str, device_id: str, name: str) -> TotpDevice:
        """:meth:`MfaService.rename_totp_device`, run in the pool."""
        return await self._runner.run(self._service.rename_totp_device, user_id, device_id, name)

    async def delete_totp_device(
        self, user_id: str, device_id: str, *, confirmation: str | None
    ) -> MethodRemoval:
        """:meth:`MfaService.delete_totp_device`, run in the pool."""
        return await self._runner.run(
            self._service.delete_totp_device, user_id, device_id, confirmation=confirmation
        )

    async def delete_totp(self, user_id: str, *, confirmation: str | None) -> MethodRemoval:
        """:meth:`MfaService.delete_totp`, run in the pool."""
        return await self._runner.run(self._service.delete_totp, user_id, confirmation=confirmation)

    # -- backup codes ----------------------------------------------------------------------

    async def regenerate_backup_codes(self, user_id: str) -> BackupCodeSet:
        """:meth:`MfaService.regenerate_backup_codes`, run in the pool."""
        return await self._runner.run(self._service.regenerate_backup_codes, user_id)

    async def backup_code_status(self, user_id: str) -> BackupCodeStatus:
        """:meth:`MfaService.backup_code_status`, run in the pool."""
        return await self._runner.run(self._service.backup_code_status, user_id)

    # -- second-factor sign-in --------------------------------------------------------------

    async def begin_second_factor(
        self,
        user_id: str,
        *,
        org_id: str | None = None,
        first_factor_credential: bytes | None = None,
    ) -> SecondFactorChallenge:
        """:meth:`MfaService.begin_second_factor`, run in the pool."""
        return await self._runner.run(
            self._service.begin_second_factor,
            user_id,
            org_id=org_id,
            first_factor_credential=first_factor_credential,
        )

    async def verify_totp(
        self, user_id: str, code: str, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """:meth:`MfaService.verify_totp`, run in the pool."""
        return await self._runner.run(self._service.verify_totp, user_id, code, org_id=org_id)

    async def verify_backup_code(
        self, user_id: str, code: str, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """:meth:`MfaService.verify_backup_code`, run in the pool."""
        return await self._runner.run(
            self._service.verify_backup_code, user_id, code, org_id=org_id
        )

    # -- passkeys and security keys ---------------------------------------------------------

    async def begin_passkey_registration(
        self,
        user: UserRef,
        *,
        name: str,
        kind: MethodKind | str = MethodKind.PASSKEY,
        mediation: Mediation | str = "optional",
    ) -> PasskeyRegistration:
        """:meth:`MfaService.begin_passkey_registration`, run in the pool."""
        return await self._runner.run(
            self._service.begin_passkey_registration,
            user,
            name=name,
            kind=kind,
            mediation=mediation,
        )

    async def finish_passkey_registration(
        self, user_id: str, challenge_id: str, response: Any
    ) -> Passkey:
        """:meth:`MfaService.finish_passkey_registration`, run in the pool."""
        return await self._runner.run(
            self._service.finish_passkey_registration, user_id, challenge_id, response
        )

    async def list_passkeys(self, user_id: str) -> tuple[Passkey, ...]:
        """:meth:`MfaService.list_passkeys`, run in the pool."""
        return await self._runner.run(self._service.list_passkeys, user_id)

    async def passkey_signals(self, user: UserRef) -> PasskeySignals:
        """:meth:`MfaService.passkey_signals`, run in the pool."""
        return await self._runner.run(self._service.passkey_signals, user)

    async def rename_passkey(self, user_id: str, credential_id: bytes, name: str) -> Passkey:
        """:meth:`MfaService.rename_passkey`, run in the pool."""
        return await self._runner.run(self._service.rename_passkey, user_id, credential_id, name)

    async def delete_passkey(
        self, user_id: str, credential_id: bytes, *, confirmation: str | None
    ) -> MethodRemoval:
        """:meth:`MfaService.delete_passkey`, run in the pool."""
        return await self._runner.run(
            self._service.delete_passkey, user_id, credential_id, confirmation=confirmation
        )

    async def set_passkey_passwordless(
        self, user_id: str, credential_id: bytes, allowed: bool
    ) -> Passkey:
        """:meth:`MfaService.set_passkey_passwordless`, run in the pool."""
        return await self._runner.run(
            self._service.set_passkey_passwordless, user_id, credential_id, allowed
        )

    async def verify_passkey(
        self, user_id: str, challenge_id: str, response: Any, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """:meth:`MfaService.verify_passkey`, run in the pool."""
        return await self._runner.run(
            self._service.verify_passkey, user_id, challenge_id, response, org_id=org_id
        )

    # -- passkey sign-in without a username ------------------------------------------------

    async def begin_passkey_sign_in(
        self, *, org_id: str | None = None, mediation: Mediation | str = "optional"
    ) -> PasskeySignInChallenge:
        """:meth:`MfaService.begin_passkey_sign_in`, run in the pool."""
        return await self._runner.run(
            self._service.begin_passkey_sign_in, org_id=org_id, mediation=mediation
        )

    async def finish_passkey_sign_in(
        self, challenge_id: str, response: Any, *, org_id: str | None = None
    ) -> PasskeySignInResult:
        """:meth:`MfaService.finish_passkey_sign_in`, run in the pool."""
        return await self._runner.run(
            self._service.finish_passkey_sign_in, challenge_id, response, org_id=org_id
        )

    # -- step-up and trusted browsers -------------------------------------------------------

    async def require_recent_second_factor(
        self,
        user_id: str,
        action: str,
        *,
        max_age: timedelta | None = None,
        org_id: str | None = None,
    ) -> None:
        """:meth:`MfaService.require_recent_second_factor`, run in the pool."""
        await self._runner.run(
            self._service.require_recent_second_factor,
            user_id,
            action,
            max_age=max_age,
            org_id=org_id,
        )

    async def trusted_browser_days(self, user_id: str, *, org_id: str | None = None) -> int:
        """:meth:`MfaService.trusted_browser_days`, run in the pool."""
        return await self._runner.run(self._service.trusted_browser_days, user_id, org_id=org_id)

    async def trust_browser(
        self, user_id: str, *, label: str | None = None, org_id: str | None = None
    ) -> TrustedBrowserToken:
        """:meth:`MfaService.trust_browser`, run in the pool."""
        return await self._runner.run(
            self._service.trust_browser, user_id, label=label, org_id=org_id
        )

    async def check_trusted_browser(
        self, user_id: str, token: str, *, org_id: str | None = None
    ) -> TrustedBrowserCheck:
        """:meth:`MfaService.check_trusted_browser`, run in the pool."""
        return await self._runner.run(
            self._service.check_trusted_browser, user_id, token, org_id=org_id
        )

    async def list_trusted_browsers(self, user_id: str) -> tuple[TrustedBrowserEntry, ...]:
        """:meth:`MfaService.list_trusted_browsers`, run in the pool."""
        return await self._runner.run(self._service.list_trusted_browsers, user_id)

    async def revoke_trusted_browser(self, user_id: str, token_id: str) -> bool:
        """:meth:`MfaService.revoke_trusted_browser`, run in the pool."""
        return await self._runner.run(self._service.revoke_trusted_browser, user_id, token_id)

    async def revoke_trusted_browsers(self, user_id: str) -> int:
        """:meth:`MfaService.revoke_trusted_browsers`, run in the pool."""
        return await self._runner.run(self._service.revoke_trusted_browsers, user_id)

    # -- organizations: members, invitations, locks ----------------------------------------

    async def create_organization(
        self,
        org_id: str,
        *,
        name: str,
        owner_id: str,
        policy: OrgPolicy | None = None,
        owner_username: str | None = None,
    ) -> Organization:
        """:meth:`MfaService.create_organization`, run in the pool."""
        return await self._runner.run(
            self._service.create_organization,
            org_id,
            name=name,
            owner_id=owner_id,
            policy=policy,
            owner_username=owner_username,
        )

    async def add_member(
        self,
        org_id: str,
        user_id: str,
        *,
        kind: PrincipalKind | str = PrincipalKind.MEMBER,
        username: str | None = None,
        actor_id: str | None = None,
    ) -> Membership:
        """:meth:`MfaService.add_member`, run in the pool."""
        return await self._runner.run(
            self._service.add_member,
            org_id,
            user_id,
            kind=kind,
            username=username,
            actor_id=actor_id,
        )

    async def invite(
        self,
        org_id: str,
        *,
        actor_id: str,
        email: str,
        kind: PrincipalKind | str = PrincipalKind.MEMBER,
    ) -> Invitation:
        """:meth:`MfaService.invite`, run in the pool."""
        return await self._runner.run(
            self._service.invite, org_id, actor_id=actor_id, email=email, kind=kind
        )

    async def accept_invitation(
        self, invitation_id: str, user_id: str, *, email: str, username: str | None = None
    ) -> Membership:
        """:meth:`MfaService.accept_invitation`, run in the pool."""
        return await self._runner.run(
            self._service.accept_invitation, invitation_id, user_id, email=email, username=username
        )

    async def revoke_invitation(self, invitation_id: str, *, actor_id: str) -> bool:
        """:meth:`MfaService.revoke_invitation`, run in the pool."""
        return await self._runner.run(
            self._service.revoke_invitation, invitation_id, actor_id=actor_id
        )

    async def lock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Membership:
        """:meth:`MfaService.lock_member`, run in the pool."""
        return await self._runner.run(self._service.lock_member, org_id, user_id, actor_id=actor_id)

    async def unlock_member(self, org_id: str, user_id: str, *, actor_id: str) -> Decision:
        """:meth:`MfaService.unlock_member`, run in the pool."""
        return await self._runner.run(
            self._service.unlock_member, org_id, user_id, actor_id=actor_id
        )

    # -- support and administrator recovery, exemptions ------------------------------------

    async def reset_member_mfa(
        self, org_id: str, user_id: str, *, actor_id: str, reason: str
    ) -> Decision:
        """:meth:`MfaService.reset_member_mfa`, run in the pool."""
        return await self._runner.run(
            self._service.reset_member_mfa, org_id, user_id, actor_id=actor_id, reason=reason
        )

    async def reset_user_mfa(
        self, user_id: str, *, actor_id: str, reason: str
    ) -> tuple[Decision, ...]:
        """:meth:`MfaService.reset_user_mfa`, run in the pool."""
        return await self._runner.run(
            self._service.reset_user_mfa, user_id, actor_id=actor_id, reason=reason
        )

    async def remove_member(self, org_id: str, user_id: str, *, actor_id: str) -> Decision:
        """:meth:`MfaService.remove_member`, run in the pool."""
        return await self._runner.run(
            self._service.remove_member, org_id, user_id, actor_id=actor_id
        )

    async def grant_exemption(
        self, org_id: str, user_id: str, *, actor_id: str, until: datetime, reason: str
    ) -> Decision:
        """:meth:`MfaService.grant_exemption`, run in the pool."""
        return await self._runner.run(
            self._service.grant_exemption,
            org_id,
            user_id,
            actor_id=actor_id,
            until=until,
            reason=reason,
        )

    async def revoke_exemption(
        self, org_id: str, user_id: str, *, actor_id: str, reason: str | None = None
    ) -> Decision:
        """:meth:`MfaService.revoke_exemption`, run in the pool."""
        return await self._runner.run(
            self._service.revoke_exemption, org_id, user_id, actor_id=actor_id, reason=reason
        )

    # -- organizations: enforcement, compliance, reminders, the sweep ----------------------

    async def enforce_mfa(
        self, org_id: str, *, actor_id: str, confirmation: str | None
    ) -> Decision:
        """:meth:`MfaService.enforce_mfa`, run in the pool."""
        return await self._runner.run(
            self._service.enforce_mfa, org_id, actor_id=actor_id, confirmation=confirmation
        )

    async def stop_enforcement(
        self, org_id: str, *, actor_id: str, confirmation: str | None
    ) -> Decision:
        """:meth:`MfaService.stop_enforcement`, run in the pool."""
        return await self._runner.run(
            self._service.stop_enforcement, org_id, actor_id=actor_id, confirmation=confirmation
        )

    async def set_policy(self, org_id: str, policy: OrgPolicy, *, actor_id: str) -> Organization:
        """:meth:`MfaService.set_policy`, run in the pool."""
        return await self._runner.run(self._service.set_policy, org_id, policy, actor_id=actor_id)

    async def compliance_report(self, org_id: str) -> ComplianceReport:
        """:meth:`MfaService.compliance_report`, run in the pool."""
        return await self._runner.run(self._service.compliance_report, org_id)

    async def member_compliance(self, org_id: str, user_id: str) -> MemberCompliance:
        """:meth:`MfaService.member_compliance`, run in the pool."""
        return await self._runner.run(self._service.member_compliance, org_id, user_id)

    async def send_reminders(
        self, org_id: str, *, actor_id: str, user_ids: Collection[str] | None = None
    ) -> tuple[str, ...]:
        """:meth:`MfaService.send_reminders`, run in the pool."""
        return await self._runner.run(
            self._service.send_reminders, org_id, actor_id=actor_id, user_ids=user_ids
        )

    async def sweep(self) -> SweepReport:
        """:meth:`MfaService.sweep`, run in the pool."""
        return await self._runner.run(self._service.sweep)

    # -- emailed login codes ---------------------------------------------------------------

    async def send_login_code(self, org_id: str, username: str) -> LoginCodeRequested:
        """:meth:`MfaService.send_login_code`, run in the pool."""
        return await self._runner.run(self._service.send_login_code, org_id, username)

    async def verify_login_code(self, org_id: str, username: str, code: str) -> IamLoginResult:
        """:meth:`MfaService.verify_login_code`, run in the pool."""
        return await self._runner.run(self._service.verify_login_code, org_id, username, code)

    # -- notifications and key rotation ----------------------------------------------------

    async def deliver_notifications(
        self, *, limit: int = 100, lease: timedelta | None = None
    ) -> DeliveryReport:
        """:meth:`MfaService.deliver_notifications`, run in the pool.

        The notifier is called in the pool's thread: it must not touch the
        event loop's objects (an asyncio notifier should hand messages to the
        loop with :func:`asyncio.run_coroutine_threadsafe`).
        """
        return await self._runner.run(self._service.deliver_notifications, limit=limit, lease=lease)

    async def rewrap_secrets(self, *, batch: int = 500, after: str | None = None) -> RewrapProgress:
        """:meth:`MfaService.rewrap_secrets`, run in the pool."""
        return await self._runner.run(self._service.rewrap_secrets, batch=batch, after=after)
