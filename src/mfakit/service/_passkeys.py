"""Passkeys and security keys: register, list, rename, delete, and sign in with them.

Registration and authentication challenges are stored single-use: finishing a
ceremony pops its challenge atomically, so a response can be used once. After
an assertion the signature counter is stored with a compare-and-set; a counter
that does not increase is reported as a possibly cloned authenticator. A
credential registered without the BE flag that now asserts it (its provider
started syncing it) is, when the settings accept it, recorded in that same
compare-and-set as backup-eligible and a passkey, and the user is told.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mfakit import webauthn
from mfakit.errors import (
    ConfigurationError,
    DuplicateError,
    MalformedDataError,
    NotFoundError,
    ReplayedCodeError,
    SignCountError,
    VerificationError,
    WebAuthnError,
)
from mfakit.policy import MethodKind
from mfakit.repositories import Challenge, WebAuthnCredential, WebAuthnKind
from mfakit.service._facts import credential_method_id, passkey_kind
from mfakit.service._login import AUTHENTICATION_PURPOSE
from mfakit.service._login_codes import LoginCodeFlows
from mfakit.service._notify import (
    MethodAdded,
    MethodRemoved,
    PasskeyNowSynced,
    SignCountAnomaly,
)
from mfakit.service._results import MethodRemoval, Passkey, PasskeyRegistration, SecondFactorResult
from mfakit.service._settings import UserRef, check_user_id

__all__ = ["PasskeyFlows"]

#: The purpose of registration challenges.
REGISTRATION_PURPOSE = "webauthn.registration"
_MAX_NAME = 64
_KINDS = frozenset({MethodKind.PASSKEY, MethodKind.SECURITY_KEY})


def _name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > _MAX_NAME:
        raise ConfigurationError("a passkey name must be 1 to 64 characters")
    return name.strip()


def _requested_kind(context: Mapping[str, Any], backup_eligible: bool) -> WebAuthnKind:
    # A credential that can be synced (BE flag) is a passkey whatever the user
    # called it: otherwise naming it a "security key" would carry a synced
    # passkey past a policy that allows security keys but not passkeys. A
    # device-bound credential is what the user chose (a challenge stored before
    # the kind was kept has none: then it is a security key, as before).
    if backup_eligible:
        return "passkey"
    return "passkey" if context.get("kind") == "passkey" else "security_key"


def _listed(c: WebAuthnCredential) -> Passkey:
    return Passkey(
        credential_id=c.credential_id,
        name=c.name,
        kind=passkey_kind(c),
        created_at=c.created_at,
        last_used_at=c.last_used_at,
        transports=c.transports,
        backed_up=c.backup_state,
    )


class PasskeyFlows(LoginCodeFlows):
    """WebAuthn credentials as second factors."""

    def _uv(self) -> str:
        return "required" if self._settings.require_user_verification else "preferred"

    def begin_passkey_registration(
        self, user: UserRef, *, name: str, kind: MethodKind | str = MethodKind.PASSKEY
    ) -> PasskeyRegistration:
        """Start adding a passkey (discoverable) or a security key, with a unique name.

        The options exclude the user's existing credentials; the challenge is
        stored for ``settings.challenge_ttl`` and can be used once. It carries
        the name and the ``kind`` chosen here, which
        :meth:`finish_passkey_registration` stores with the credential: the
        kind is what the user chose, not guessed from the authenticator's flags.

        Raises:
            DuplicateError: the user already has a credential with this name.
            PolicyDeniedError: an organization does not let this kind of principal
                use this kind of method.
        """
        if not isinstance(user, UserRef):
            raise ConfigurationError("user must be a UserRef")
        label = _name(name)
        method = MethodKind(kind)
        if method not in _KINDS:
            raise ConfigurationError("kind must be passkey or security_key")
        now = self._now()
        existing = self._store.list_webauthn_credentials(user.user_id)
        if any(c.name.casefold() == label.casefold() for c in existing):
            raise DuplicateError("a passkey or security key with this name exists")
        self._check_add(user.user_id, method, label, self._methods(user.user_id), now)
        options = webauthn.registration_options(
            rp_id=self._rp.rp_id,
            rp_name=self._rp.rp_name,
            user_id=user.user_id.encode("utf-8"),
            user_name=user.name,
            user_display_name=user.display_name,
            exclude_credentials=[c.credential_id for c in existing],
            resident_key="required" if method is MethodKind.PASSKEY else "discouraged",
            user_verification=self._uv(),
        )
        expires_at = now + self._settings.challenge_ttl
        challenge = Challenge(
            challenge_id=secrets.token_urlsafe(16),
            purpose=REGISTRATION_PURPOSE,
            user_id=user.user_id,
            challenge=options.challenge,
            created_at=now,
            expires_at=expires_at,
            context={"name": label, "kind": method.value},
        )
        self._store.put_challenge(challenge)
        return PasskeyRegistration(
            challenge_id=challenge.challenge_id, options=options.to_json(), expires_at=expires_at
        )

    def _pop(self, challenge_id: str, purpose: str, user_id: str) -> Challenge:
        challenge = self._store.pop_challenge(str(challenge_id), now=self._now())
        if challenge is None or challenge.purpose != purpose or challenge.user_id != user_id:
            raise ReplayedCodeError("the challenge is unknown, already used or expired")
        return challenge

    def finish_passkey_registration(
        self, user_id: str, challenge_id: str, response: Any
    ) -> Passkey:
        """Verify the browser's registration response and store the new credential.

        Raises:
            ReplayedCodeError: the challenge is unknown, used or expired.
            WebAuthnError: the response does not verify (origin, RP ID, signature...).
            MalformedDataError: the response cannot be parsed.
            DuplicateError: the credential or its name is already registered.
            PolicyDeniedError: an organization refuses this kind of method.
        """
        check_user_id(user_id)
        now = self._now()
        challenge = self._pop(challenge_id, REGISTRATION_PURPOSE, user_id)
        try:
            verified = webauthn.verify_registration(
                response,
                expected_challenge=challenge.challenge,
                expected_origins=self._rp.origins,
                expected_rp_id=self._rp.rp_id,
                require_user_verification=self._settings.require_user_verification,
                now=now,
            )
        except VerificationError as exc:
            self._audit(
                "passkey.registration",
                at=now,
                outcome="failure",
                user_id=user_id,
                details={"error": exc.code},
            )
            raise
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
        )
        kind = passkey_kind(credential)
        before = self._methods(user_id)
        self._check_add(user_id, kind, credential.name, before, now)
        with self._transaction():
            self._store.add_webauthn_credential(credential)
            self._commit_add(user_id, kind, credential.name, before, now)
            self._audit("passkey.registered", at=now, user_id=user_id, details={"kind": kind.value})
            self._send(
                MethodAdded(user_id=user_id, method=kind.value, label=credential.name), at=now
            )
        return _listed(credential)

    def list_passkeys(self, user_id: str) -> tuple[Passkey, ...]:
        """The user's passkeys and security keys, oldest first."""
        check_user_id(user_id)
        return tuple(_listed(c) for c in self._store.list_webauthn_credentials(user_id))

    def rename_passkey(self, user_id: str, credential_id: bytes, name: str) -> Passkey:
        """Rename one of the user's passkeys.

        Raises:
            NotFoundError: the user has no such credential.
            DuplicateError: another of the user's credentials has this name.
        """
        check_user_id(user_id)
        label = _name(name)
        now = self._now()
        others = [
            c
            for c in self._store.list_webauthn_credentials(user_id)
            if c.credential_id != credential_id
        ]
        if any(c.name.casefold() == label.casefold() for c in others):
            raise DuplicateError("a passkey or security key with this name exists")
        self._store.rename_webauthn_credential(user_id, credential_id, label)
        credential = self._store.get_webauthn_credential(credential_id)
        if credential is None or credential.user_id != user_id:
            raise NotFoundError("no such passkey")
        self._audit("passkey.renamed", at=now, user_id=user_id)
        return _listed(credential)

    def delete_passkey(
        self, user_id: str, credential_id: bytes, *, confirmation: str | None
    ) -> MethodRemoval:
        """Delete a passkey after the typed confirmation ``DELETE`` (policy permitting).

        Raises:
            NotFoundError: the user has no such credential.
            PolicyDeniedError: confirmation missing, step-up required, or refused.
        """
        check_user_id(user_id)
        now = self._now()
        credential = self._store.get_webauthn_credential(credential_id)
        if credential is None or credential.user_id != user_id:
            raise NotFoundError("no such passkey")
        method_id = credential_method_id(credential_id)
        methods = self._methods(user_id)
        self._check_remove(user_id, method_id, confirmation, methods, now)
        with self._transaction():
            self._store.delete_webauthn_credential(user_id, credential_id)
            remaining = self._drop_backup_codes_if_alone(user_id)
            deadline, obligations = self._commit_remove(
                user_id, method_id, confirmation, methods, now
            )
            kind = passkey_kind(credential)
            self._audit("passkey.deleted", at=now, user_id=user_id)
            self._send(
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
        )

    def verify_passkey(
        self, user_id: str, challenge_id: str, response: Any, *, org_id: str | None = None
    ) -> SecondFactorResult:
        """Complete the second factor with a passkey assertion.

        A credential registered without the backup-eligible (BE) flag that now
        asserts it has been taken up by a syncing provider. With
        ``settings.accept_backup_eligibility_upgrade`` (the default) the
        sign-in succeeds and, in the same compare-and-set as the counter, the
        credential is stored as backup-eligible and as a passkey; the user gets
        a :class:`PasskeyNowSynced` notice and a
        ``passkey.backup_eligibility_upgraded`` audit event is written. The
        result's ``method`` is then ``passkey``. Organization policies judge
        the credential as a passkey from then on.

        Raises:
            PolicyDeniedError: an organization refuses the sign-in.
            ThrottledError: too many failed attempts.
            ReplayedCodeError: the challenge is unknown, used or expired.
            SignCountError: the signature counter did not increase (possible clone);
                the user is notified.
            WebAuthnError: the assertion does not verify, the credential is not
                the user's, or its BE flag changed in a way not accepted (lost,
                or gained with the upgrade setting off).
            MalformedDataError: the response cannot be parsed.
        """
        check_user_id(user_id)
        now = self._now()
        decisions = self._login_gate(user_id, org_id, now)
        self._charge_attempt("passkey", user_id, now)
        credential: WebAuthnCredential | None = None
        try:
            challenge = self._pop(challenge_id, AUTHENTICATION_PURPOSE, user_id)
            parsed = webauthn.low_level.parse_authentication_response(response)
            credential = self._store.get_webauthn_credential(parsed.credential_id)
            if credential is None or credential.user_id != user_id:
                raise WebAuthnError("the credential is not registered to this user")
            verified = webauthn.verify_authentication(
                response,
                expected_challenge=challenge.challenge,
                expected_origins=self._rp.origins,
                expected_rp_id=self._rp.rp_id,
                credential_public_key=credential.public_key,
                current_sign_count=credential.sign_count,
                require_user_verification=self._settings.require_user_verification,
                now=now,
                expected_backup_eligible=credential.backup_eligible,
                expected_user_handle=user_id.encode("utf-8"),
                accept_backup_eligibility_upgrade=self._settings.accept_backup_eligibility_upgrade,
            )
            if not self._record_assertion(credential, verified, now):
                # A concurrent sign-in stored a counter first: this one is not newer.
                raise SignCountError(stored=credential.sign_count, received=verified.new_sign_count)
        except SignCountError:
            label = credential.name if credential is not None else ""
            self._send(SignCountAnomaly(user_id=user_id, label=label), at=now)
            self._audit("passkey.sign_count_anomaly", at=now, outcome="failure", user_id=user_id)
            self._after_failure(user_id, "passkey", org_id, now)
            raise
        except (VerificationError, MalformedDataError):
            self._after_failure(user_id, "passkey", org_id, now)
            raise
        kind = (
            MethodKind.PASSKEY if verified.backup_eligibility_upgraded else passkey_kind(credential)
        )
        return self._after_success(user_id, kind, decisions, now)

    def _record_assertion(
        self,
        credential: WebAuthnCredential,
        verified: webauthn.VerifiedAuthentication,
        now: datetime,
    ) -> bool:
        """Compare-and-set the counter (and an accepted BE upgrade); False if the CAS lost."""
        if not verified.backup_eligibility_upgraded:
            return self._store.update_sign_count(
                credential.credential_id,
                credential.sign_count,
                verified.new_sign_count,
                now=now,
                backup_state=verified.backup_state,
            )
        with self._transaction():
            # BE and kind="passkey" are written by the same guarded statement as
            # the counter: a lost race records neither, and sends nothing.
            if not self._store.update_sign_count(
                credential.credential_id,
                credential.sign_count,
                verified.new_sign_count,
                now=now,
                backup_state=verified.backup_state,
                backup_eligible=True,
            ):
                return False
            self._audit(
                "passkey.backup_eligibility_upgraded",
                at=now,
                user_id=credential.user_id,
                details={"previous_kind": credential.kind, "kind": MethodKind.PASSKEY.value},
            )
            self._send(PasskeyNowSynced(user_id=credential.user_id, label=credential.name), at=now)
        return True
