"""The :class:`MfaService` facade: every user and organization flow in one object."""

from __future__ import annotations

from mfakit.service._passkeys import PasskeyFlows

__all__ = ["MfaService"]


class MfaService(PasskeyFlows):
    """Multi-factor authentication for an application: what the application calls.

    It wires the pure core (otp, backup_codes, login_codes, webauthn, policy,
    secretbox) to a store, a :class:`Notifier` and a clock, and owns throttling,
    replay protection, single use, audit events and notifications. The host
    application owns users and passwords and passes user ids.

    Every argument is keyword-only.

    Args:
        store: Implements every port (:class:`~mfakit.repositories.MfaStore`).
        keys: Encrypts TOTP secrets at rest.
        notifier: Delivers messages (use :class:`InMemoryOutbox` in tests).
        clock: The time source (a :class:`~mfakit.clock.FrozenClock` in tests).
        relying_party: The WebAuthn relying party (RP ID, name, origins).
        issuer: The name authenticator apps show next to the account.
        login_code_key: The HMAC key of emailed login codes (32 random bytes),
            kept outside the database.
        settings: Tunables; see :class:`ServiceSettings`.

    Raises:
        ConfigurationError: an argument is invalid.

    Example::

        service = MfaService(
            store=SQLiteStore("mfa.sqlite3"),
            keys=KeyRing.from_config(os.environ["MFA_KEYS"]),
            notifier=my_mailer,
            relying_party=RelyingParty(
                rp_id="example.com", rp_name="Example", origins=("https://example.com",)
            ),
            issuer="Example",
            login_code_key=bytes.fromhex(os.environ["MFA_LOGIN_CODE_KEY"]),
        )
        enrollment = service.begin_totp_enrollment(UserRef(user_id="u-1", name="ada"))
    """
