"""Passkeys and security keys: register, list, rename, delete, and sign in with them.

Registration and authentication challenges are stored single-use: finishing a
ceremony pops its challenge atomically, so a response can be used once. A
registration gives the authenticator the user's random user handle (stored
once per user, never derived from the user id) and records it on the new
credential. Checking an assertion is the passkey assertion's
(``_assertion``): the counter's compare-and-set, a possibly cloned
authenticator, a credential whose provider started syncing it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from mfakit import webauthn
from mfakit.errors import (
    ConfigurationError,
    DuplicateError,
    NotFoundError,
    ReplayedCodeError,
    VerificationError,
    WebAuthnError,
)
from mfakit.policy import MethodKind, SensitiveAction
from mfakit.repositories import Challenge, WebAuthnCredential, WebAuthnKind
from mfakit.service._assertion import PasskeyAssertion
from mfakit.service._backup import BackupCodeFlow
from mfakit.service._context import ServiceContext
from mfakit.service._directory import Directory
from mfakit.service._factor_changes import FactorChanges
from mfakit.service._facts import credential_method_id, passkey_kind
from mfakit.service._gate import LoginGate
from mfakit.service._login import AUTHENTICATION_PURPOSE, EXCLUDED_CREDENTIAL
from mfakit.service._methods import MethodPolicy
from mfakit.service._notify import MethodAdded, MethodRemoved
from mfakit.service._results import (
    Mediation,
    MethodRemoval,
    Passkey,
    PasskeyRegistration,
    PasskeySignals,
    SecondFactorResult,
    check_mediation,
)
from mfakit.service._settings import UserRef, check_name, check_user_id
from mfakit.service._step_up import StepUp
from mfakit.webauthn.providers import ProviderName, ProviderNames, provider_name

__all__ = ["PasskeyFlow", "REGISTRATION_PURPOSE"]

#: The purpose of registration challenges.
REGISTRATION_PURPOSE = "webauthn.registration"
_MAX_NAME = 64
_KINDS = frozenset({MethodKind.PASSKEY, MethodKind.SECURITY_KEY})
#: The mediation of a conditional create (the browser's automatic passkey upgrade).
CONDITIONAL: Mediation = "conditional"


def _name(name: object) -> str:
    return check_name(name, field="name", max_length=_MAX_NAME)


def _requested_kind(context: Mapping[str, Any], backup_eligible: bool) -> WebAuthnKind:
    # A credential that can be synced (BE flag) is a passkey whatever the user
    # called it: otherwise naming it a "security key" would carry a synced
    # passkey past a policy that allows security keys but not passkeys. A
    # device-bound credential is what the user chose (a challenge stored before
    # the kind was kept has none: then it is a security key, as before).
    if backup_eligible:
        return "passkey"
    return "passkey" if context.get("kind") == "passkey" else "security_key"


def _registered_handle(context: Mapping[str, Any]) -> bytes | None:
    # The handle the options gave the authenticator. A challenge stored before
    # handles were kept gave it the user id's bytes: None, recorded at first use.
    stored = context.get("user_handle")
    return bytes.fromhex(stored) if isinstance(stored, str) else None


def _listed(c: WebAuthnCredential, names: ProviderNames | None) -> Passkey:
    # The attested name kept at registration (verified FIDO metadata) wins;
    # else the AAGUID list's name, unattested.
    provider: ProviderName | None = None
    if c.attested_provider is not None:
        provider = ProviderName(name=c.attested_provider, attested=True)
    elif names is not None and len(c.aaguid) == 16:
        found = names.lookup(c.aaguid)
        provider = None if found is None else ProviderName(name=found.name, attested=False)
    return Passkey(
        credential_id=c.credential_id,
        name=c.name,
        kind=passkey_kind(c),
        created_at=c.created_at,
        last_used_at=c.last_used_at,
        transports=c.transports,
        backed_up=c.backup_state,
        provider_name=provider,
        passwordless=c.passwordless,
    )


class PasskeyFlow:
    """WebAuthn credentials as second factors: register, list, rename, delete, sign in.

    Depends on the context, the directory, the method policy, the step-up
    (adding a credential when the user has a factor, deleting one, allowing
    or refusing it to sign in alone), the factor changes, the backup code
    flow (deleting the last factor drops the backup codes), the login gate
    and the passkey assertion (signing in with a passkey as a second factor).
    """

    def __init__(
        self,
        *,
        context: ServiceContext,
        directory: Directory,
        policy: MethodPolicy,
        step_up: StepUp,
        factor_changes: FactorChanges,
        backup: BackupCodeFlow,
        gate: LoginGate,
        assertion: PasskeyAssertion,
    ) -> None:
        self._context = context
        self._directory = directory
        self._policy = policy
        self._step_up = step_up
        self._factor_changes = factor_changes
        self._backup = backup
        self._gate = gate
        self._assertion = assertion

    def _uv(self) -> str:
        return "required" if self._context.settings.require_user_verification else "preferred"

    def begin_passkey_registration(
        self,
        user: UserRef,
        *,
        name: str,
        kind: MethodKind | str = MethodKind.PASSKEY,
        mediation: Mediation | str = "optional",
    ) -> PasskeyRegistration:
        """See :meth:`MfaService.begin_passkey_registration`."""
        context = self._context
        if not isinstance(user, UserRef):
            raise ConfigurationError("user must be a UserRef")
        label = _name(name)
        method = MethodKind(kind)
        if method not in _KINDS:
            raise ConfigurationError("kind must be passkey or security_key")
        mediation = check_mediation(mediation)
        if mediation == CONDITIONAL and method is not MethodKind.PASSKEY:
            # A conditional create is the browser's offer to save a passkey.
            raise ConfigurationError("conditional mediation registers a passkey only")
        now = context.now()
        existing = context.store.list_webauthn_credentials(user.user_id)
        if any(c.name.casefold() == label.casefold() for c in existing):
            raise DuplicateError("a passkey or security key with this name exists")
        factors = self._directory.factors(user.user_id)
        self._step_up.require_for_method_change(
            user.user_id, SensitiveAction.ADD_METHOD, factors, now
        )
        self._policy.check_add(
            user.user_id, method, label, factors.methods, now, last_mfa_at=factors.last_mfa_at
        )
        # A random handle, the user's for every credential (never the user id:
        # WebAuthn L3 §14.6.1); stored once, on the first registration begun.
        handle = context.store.webauthn_user_handle(
            user.user_id, create_with=secrets.token_bytes(32)
        )
        options = webauthn.registration_options(
            rp_id=context.rp.rp_id,
            rp_name=context.rp.rp_name,
            user_id=handle,
            user_name=user.name,
            user_display_name=user.display_name,
            exclude_credentials=[c.credential_id for c in existing],
            attestation="none" if context.settings.attestation is None else "direct",
            resident_key="required" if method is MethodKind.PASSKEY else "discouraged",
            # A conditional create collects no verification (the browser asks
            # for neither presence nor verification): do not ask for it.
            user_verification="discouraged" if mediation == CONDITIONAL else self._uv(),
        )
        challenge = context.issue_challenge(
            REGISTRATION_PURPOSE,
            options.challenge,
            user_id=user.user_id,
            now=now,
            data={
                "name": label,
                "kind": method.value,
                "user_handle": handle.hex(),
                "mediation": mediation,
            },
        )
        return PasskeyRegistration(
            challenge_id=challenge.challenge_id,
            options=options.to_json(),
            expires_at=challenge.expires_at,
            mediation=mediation,
        )

    def _pop(self, challenge_id: str, purpose: str, user_id: str) -> Challenge:
        challenge = self._context.store.pop_challenge(str(challenge_id), now=self._context.now())
        if challenge is None or challenge.purpose != purpose or challenge.user_id != user_id:
            raise ReplayedCodeError("the challenge is unknown, already used or expired")
        return challenge

    def finish_passkey_registration(
        self, user_id: str, challenge_id: str, response: Any
    ) -> Passkey:
        """See :meth:`MfaService.finish_passkey_registration`."""
        context = self._context
        check_user_id(user_id)
        now = context.now()
        challenge = self._pop(challenge_id, REGISTRATION_PURPOSE, user_id)
        # Only a challenge issued for a conditional create accepts a response
        # without user presence (and verification): the browser created the
        # passkey in the background, right after the user signed in with a
        # password. Any other registration demands UP (WebAuthn L3 §7.1).
        conditional = challenge.context.get("mediation") == CONDITIONAL
        try:
            verified = webauthn.verify_registration(
                response,
                expected_challenge=challenge.challenge,
                expected_origins=context.rp.origins,
                expected_rp_id=context.rp.rp_id,
                require_user_verification=(
                    context.settings.require_user_verification and not conditional
                ),
                require_user_presence=not conditional,
                attestation=context.settings.attestation,
                now=now,
            )
        except VerificationError as exc:
            context.audit(
                "passkey.registration",
                at=now,
                outcome="failure",
                user_id=user_id,
                details={"error": exc.code},
            )
            raise
        names = context.settings.provider_names
        provider = provider_name(verified, names)
        credential = WebAuthnCredential(
            credential_id=verified.credential_id,
            user_id=user_id,
            name=str(challenge.context.get("name", "Passkey")),
            public_key=verified.public_key,
            sign_count=verified.sign_count,
            transports=verified.transports,
            aaguid=verified.aaguid.bytes,
            backup_eligible=verified.backup_eligible,
            backup_state=verified.backup_state,
            created_at=now,
            kind=_requested_kind(challenge.context, verified.backup_eligible),
            user_handle=_registered_handle(challenge.context),
            attested_provider=provider.name if provider is not None and provider.attested else None,
        )
        kind = passkey_kind(credential)
        factors = self._directory.factors(user_id)
        before, last_mfa_at = factors.methods, factors.last_mfa_at
        self._policy.check_add(user_id, kind, credential.name, before, now, last_mfa_at=last_mfa_at)
        with context.transaction():
            context.store.add_webauthn_credential(credential)
            # The new credential's signature was just checked: a recent second factor.
            context.store.record_second_factor(user_id, at=now)
            self._factor_changes.record(user_id, at=now, reason="passkey.registered")
            self._policy.commit_add(
                user_id, kind, credential.name, before, now, last_mfa_at=last_mfa_at
            )
            context.audit(
                "passkey.registered", at=now, user_id=user_id, details={"kind": kind.value}
            )
            context.send(
                MethodAdded(user_id=user_id, method=kind.value, label=credential.name), at=now
            )
        return _listed(credential, names)

    def list_passkeys(self, user_id: str) -> tuple[Passkey, ...]:
        """See :meth:`MfaService.list_passkeys`."""
        check_user_id(user_id)
        names = self._context.settings.provider_names
        return tuple(
            _listed(c, names) for c in self._context.store.list_webauthn_credentials(user_id)
        )

    def rename_passkey(self, user_id: str, credential_id: bytes, name: str) -> Passkey:
        """See :meth:`MfaService.rename_passkey`."""
        context = self._context
        check_user_id(user_id)
        label = _name(name)
        now = context.now()
        others = [
            c
            for c in context.store.list_webauthn_credentials(user_id)
            if c.credential_id != credential_id
        ]
        if any(c.name.casefold() == label.casefold() for c in others):
            raise DuplicateError("a passkey or security key with this name exists")
        context.store.rename_webauthn_credential(user_id, credential_id, label)
        credential = context.store.get_webauthn_credential(credential_id)
        if credential is None or credential.user_id != user_id:
            raise NotFoundError("no such passkey")
        context.audit("passkey.renamed", at=now, user_id=user_id)
        return _listed(credential, context.settings.provider_names)

    def delete_passkey(
        self, user_id: str, credential_id: bytes, *, confirmation: str | None
    ) -> MethodRemoval:
        """See :meth:`MfaService.delete_passkey`."""
        context = self._context
        check_user_id(user_id)
        now = context.now()
        credential = context.store.get_webauthn_credential(credential_id)
        if credential is None or credential.user_id != user_id:
            raise NotFoundError("no such passkey")
        method_id = credential_method_id(credential_id)
        factors = self._directory.factors(user_id)
        methods, last_mfa_at = factors.methods, factors.last_mfa_at
        self._step_up.require_for_method_change(
            user_id, SensitiveAction.REMOVE_METHOD, factors, now
        )
        self._policy.check_remove(
            user_id, method_id, confirmation, methods, now, last_mfa_at=last_mfa_at
        )
        with context.transaction():
            context.store.delete_webauthn_credential(user_id, credential_id)
            self._factor_changes.record(user_id, at=now, reason="passkey.deleted")
            remaining = self._backup.drop_if_alone(user_id)
            deadline, obligations = self._policy.commit_remove(
                user_id, method_id, confirmation, methods, now, last_mfa_at=last_mfa_at
            )
            kind = passkey_kind(credential)
            context.audit("passkey.deleted", at=now, user_id=user_id)
            context.send(
                MethodRemoved(
                    user_id=user_id, method=kind.value, label=credential.name, deadline=deadline
                ),
                at=now,
            )
        return MethodRemoval(
            method=kind,
            label=credential.name,
            deadline=deadline,
            obligations=obligations,
            remaining_methods=remaining,
            unknown_credential_signal=webauthn.unknown_credential_signal(
                rp_id=context.rp.rp_id, credential_id=credential_id
            ),
        )

    def passkey_signals(self, user: UserRef) -> PasskeySignals:
        """See :meth:`MfaService.passkey_signals`."""
        context = self._context
        if not isinstance(user, UserRef):
            raise ConfigurationError("user must be a UserRef")
        credentials = context.store.list_webauthn_credentials(user.user_id)
        # The user's random handle (made now if the user never began a
        # registration: a random value, harmless), then every other handle
        # the user's passkeys carry: a credential registered before handles
        # were random carries the user id's bytes.
        handles = [
            context.store.webauthn_user_handle(user.user_id, create_with=secrets.token_bytes(32))
        ]
        for credential in credentials:
            handle = credential.user_handle or user.user_id.encode("utf-8")
            if handle not in handles:
                handles.append(handle)
        ids = [c.credential_id for c in credentials]
        rp_id = context.rp.rp_id
        return PasskeySignals(
            all_accepted_credentials=tuple(
                webauthn.all_accepted_credentials_signal(
                    rp_id=rp_id, user_handle=handle, credential_ids=ids
                )
                for handle in handles
            ),
            current_user_details=tuple(
                webauthn.current_user_details_signal(
                    rp_id=rp_id,
                    user_handle=handle,
                    name=user.name,
                    display_name=user.display_name,
                )
                for handle in handles
            ),
        )

    def set_passkey_passwordless(
        self, user_id: str, credential_id: bytes, allowed: bool
    ) -> Passkey:
        """See :meth:`MfaService.set_passkey_passwordless`."""
        context = self._context
        check_user_id(user_id)
        if not isinstance(allowed, bool):
            raise ConfigurationError("allowed must be a bool")
        now = context.now()
        credential = context.store.get_webauthn_credential(credential_id)
        if credential is None or credential.user_id != user_id:
            raise NotFoundError("no such passkey")
        # Allowing adds a way to sign in, refusing removes one: the step-up of each.
        action = SensitiveAction.ADD_METHOD if allowed else SensitiveAction.REMOVE_METHOD
        self._step_up.require_for_method_change(
            user_id, action, self._directory.factors(user_id), now
        )
        updated = context.store.set_webauthn_passwordless(user_id, credential_id, allowed)
        context.audit(
            "passkey.passwordless_changed",
            at=now,
            user_id=user_id,
            details={"passwordless": allowed},
        )
        return _listed(updated, context.settings.provider_names)

    def verify_passkey(
        self, user_id: str, challenge_id: str, response: Any, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """See :meth:`MfaService.verify_passkey`."""
        context = self._context
        check_user_id(user_id)

        def load() -> tuple[Challenge, WebAuthnCredential]:
            challenge = self._pop(challenge_id, AUTHENTICATION_PURPOSE, user_id)
            parsed = webauthn.low_level.parse_authentication_response(response)
            credential = context.store.get_webauthn_credential(parsed.credential_id)
            if credential is None or credential.user_id != user_id:
                raise WebAuthnError("the credential is not registered to this user")
            excluded = challenge.context.get(EXCLUDED_CREDENTIAL)
            if excluded is not None and excluded == credential_method_id(credential.credential_id):
                # The same authenticator twice is one factor, not two.
                raise WebAuthnError("the credential was the first factor of this sign-in")
            return challenge, credential

        with self._gate.attempt(user_id, org_id, context.now()) as attempt:
            kind = self._assertion.check(attempt, response, load, first_factor=False)
            return self._gate.after_success(attempt, kind)
