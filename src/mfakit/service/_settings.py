"""Construction inputs of the service: who the user is, the relying party, the settings."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from mfakit.backup_codes import Hasher
from mfakit.errors import ConfigurationError, InvalidNameError
from mfakit.login_codes import LoginCodePolicy
from mfakit.otp import MAX_WINDOW
from mfakit.policy import OrgPolicy
from mfakit.webauthn import AttestationPolicy, origin_covered, related_origins_document
from mfakit.webauthn.providers import ProviderNames

__all__ = ["RelyingParty", "ServiceSettings", "UserRef"]

# A user id ends up in WebAuthn user handles, which are at most 64 bytes (WebAuthn L3 §5.4.3).
_MAX_USER_ID_BYTES = 64


def check_user_id(user_id: object, name: str = "user_id") -> str:
    """Refuse a user id the stores and the WebAuthn user handle cannot hold."""
    if not isinstance(user_id, str) or not user_id or user_id != user_id.strip():
        raise ConfigurationError(f"{name} must be a non-empty string without outer spaces")
    if len(user_id.encode("utf-8")) > _MAX_USER_ID_BYTES:
        raise ConfigurationError(f"{name} must be at most 64 bytes in UTF-8")
    return user_id


# Control characters (NUL, newlines, DEL, C1), lone surrogates and line or
# paragraph separators; and the bidirectional overrides and isolates, which
# make a name display as another one.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: The most authenticator apps (TOTP devices) ``max_totp_devices`` may allow per user.
MAX_TOTP_DEVICES = 20
#: Longest user, member and organization names accepted, in characters.
MAX_NAME = 256


def check_name(value: object, *, field: str, max_length: int = MAX_NAME) -> str:
    """Return a user-chosen name without its outer spaces, or refuse it.

    Every flow calls this before it stores anything or starts a ceremony, so
    a name the stores (or an authenticator) cannot hold never gets that far.

    Raises:
        InvalidNameError: not a string, blank, longer than ``max_length``
            characters, or holding a control character (NUL included), a line
            separator or a bidirectional override. The message never holds the name.
    """
    if not isinstance(value, str):
        raise InvalidNameError(f"{field} must be a string", field=field)
    name = value.strip()
    if not name:
        raise InvalidNameError(f"{field} must not be blank", field=field)
    if len(name) > max_length:
        raise InvalidNameError(f"{field} must be at most {max_length} characters", field=field)
    for ch in name:
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise InvalidNameError(
                f"{field} must not contain control or bidirectional formatting characters",
                field=field,
            )
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRef:
    """The host application's user, as the service needs to name it.

    mfakit stores only ``user_id``; the names appear in authenticator apps (the
    ``otpauth://`` label) and in passkey prompts, never in mfakit's tables.

    Attributes:
        user_id: The application's opaque, stable user identifier (at most 64 bytes;
            it becomes the WebAuthn user handle, so it must not be an email address).
        name: The account name shown by authenticators (e.g. the login or email).
        display_name: A friendly name for passkey prompts; defaults to ``name``.
    """

    user_id: str
    name: str
    display_name: str = ""

    def __post_init__(self) -> None:
        check_user_id(self.user_id)
        check_name(self.name, field="UserRef.name")
        if not isinstance(self.display_name, str):
            raise InvalidNameError("UserRef.display_name must be a string", field="display_name")
        if not self.display_name:
            object.__setattr__(self, "display_name", self.name)
        check_name(self.display_name, field="UserRef.display_name")


@dataclass(frozen=True, slots=True, kw_only=True)
class RelyingParty:
    """The WebAuthn relying party: the site passkeys are bound to.

    Attributes:
        rp_id: The RP ID, a registrable domain (``example.com``).
        rp_name: The name shown in passkey prompts.
        origins: The exact origins the browser may report (``https://example.com``).
            Each must be the RP ID or a subdomain of it over https (or http on
            localhost), or be listed in ``related_origins``.
        related_origins: The origins of the RP ID's related origins document
            (WebAuthn Level 3 §5.11), served at ``https://{rp_id}/.well-known/webauthn``
            (build it with :meth:`related_origins_document`). Empty when every
            origin is the RP ID or one of its subdomains.

    Raises:
        ConfigurationError: A field is invalid, or an origin is covered neither
            by the RP ID nor by ``related_origins``.
    """

    rp_id: str
    rp_name: str
    origins: tuple[str, ...]
    related_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.rp_id, str) or not self.rp_id or "/" in self.rp_id:
            raise ConfigurationError("RelyingParty.rp_id must be a domain name")
        if not isinstance(self.rp_name, str) or not self.rp_name.strip():
            raise ConfigurationError("RelyingParty.rp_name must be a non-empty string")
        given: Any = self.origins
        if isinstance(given, str):
            given = (given,)
        if not isinstance(given, Collection) or not given:
            raise ConfigurationError("RelyingParty.origins must name at least one origin")
        origins = tuple(given)
        if not all(isinstance(o, str) and "://" in o for o in origins):
            raise ConfigurationError("RelyingParty.origins must be origins like https://host")
        related: Any = self.related_origins
        if isinstance(related, str) or not isinstance(related, Collection):
            raise ConfigurationError("RelyingParty.related_origins must be a tuple of origins")
        if related:
            # Validates every entry and drops repeats, keeping the order.
            related = tuple(json.loads(related_origins_document(related))["origins"])
        for index, origin in enumerate(origins):
            if not origin_covered(origin, self.rp_id, related):
                raise ConfigurationError(
                    f"RelyingParty.origins[{index}] is covered neither by rp_id "
                    "nor by related_origins"
                )
        object.__setattr__(self, "origins", origins)
        object.__setattr__(self, "related_origins", tuple(related))

    def related_origins_document(self) -> str:
        """The JSON to serve at ``https://{rp_id}/.well-known/webauthn``.

        Raises:
            ConfigurationError: ``related_origins`` is empty (serve nothing then).
        """
        return related_origins_document(self.related_origins)


def _personal_policy() -> OrgPolicy:
    # Outside any organization only the method changes need a step-up (they
    # always do: METHOD_CHANGE_ACTIONS), and actions the host names in
    # require_recent_second_factor; nothing else is listed.
    return OrgPolicy(step_up_actions=frozenset())


def _positive(name: str, value: object, *, zero: bool = False) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0) or (not zero and not value):
        raise ConfigurationError(
            f"ServiceSettings.{name} must be a {'non-negative' if zero else 'positive'} timedelta"
        )


def _int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigurationError(f"ServiceSettings.{name} must be an int from {low} to {high}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    """Tunable behaviour of :class:`~mfakit.service.MfaService`, validated when built.

    Audit is not a setting: every security-relevant action is always recorded.

    Attributes:
        pending_totp_ttl: How long a TOTP enrollment may wait for its confirming code.
        totp_window: Time steps accepted either side of the current one (RFC 6238 §5.2).
        totp_digits: Code length of new TOTP enrollments (6 works in every app).
        max_totp_devices: How many authenticator apps (TOTP devices) a user may
            have, 1 to 20. A sign-in checks a code against each of them.
        backup_code_count: Codes in each new set.
        backup_code_hasher: The Argon2id profile for backup codes
            (``Hasher(profile=CHEAP_FOR_TESTS)`` in test suites only).
        backup_codes_low: Warn when this many unused codes or fewer remain.
        challenge_ttl: Lifetime of a WebAuthn challenge.
        require_user_verification: Whether passkey ceremonies require the UV flag.
        accept_backup_eligibility_upgrade: Whether a sign-in is accepted from a
            credential registered as not backup-eligible that now asserts BE
            (its provider started syncing it, as password managers do with
            security keys and device-bound passkeys). The service then stores
            BE, makes the credential a passkey and notifies the user
            (:class:`~mfakit.service.PasskeyNowSynced`). ``False`` keeps the
            WebAuthn rule that BE never changes: such a sign-in is refused.
            BE lost by a credential registered with it is always refused.
        throttle_free_failures: Failures per factor allowed without back-off.
        throttle_backoff_base: The first back-off delay; each later failure doubles it.
        throttle_backoff_cap: The longest back-off delay.
        throttle_max_failures: Failures per factor within ``throttle_window`` after
            which every attempt is refused until the window ends.
        throttle_window: The window the failures are counted in.
        login_codes: Length, lifetime, attempts and cool-down of emailed login codes.
        personal_policy: The rules for users who belong to no organization
            (typed confirmations; step-up ages; by default only the method
            changes, which always do, and the actions the host names in
            :meth:`~mfakit.service.MfaService.require_recent_second_factor`
            need a step-up; trusted browsers are off: set its
            ``trusted_browser_days`` to let such users trust a browser).
        invitation_ttl: How long an invitation can be accepted.
        deliver_after_commit: Whether the service delivers a transaction's
            messages right after it commits (through the outbox: claim, send,
            mark), for applications that run no delivery worker. Login codes
            are never delivered this way: run
            :meth:`~mfakit.service.MfaService.deliver_notifications` for them
            (and for retries). ``False`` leaves every message to the worker.
        delivery_lease: How long a deliverer holds the messages it claims; a
            message whose deliverer died is claimed again after it.
        delivery_backoff_base: The wait after a message's first failed attempt.
        delivery_backoff_factor: Each later failed attempt multiplies the wait by this.
        delivery_backoff_cap: The longest wait between two attempts.
        delivery_max_attempts: Attempts per message; after the last failed one
            the message is given up (kept in the outbox, never retried) and a
            ``notification.failed`` audit event with ``gave_up`` is written.
        provider_names: The AAGUID list that names a passkey's provider in
            :class:`~mfakit.service.Passkey` results (``provider_name``):
            by default the community list shipped with mfakit; a newer copy
            from :meth:`~mfakit.webauthn.providers.ProviderNames.from_json`;
            or ``None`` to name no provider.
        attestation: How to verify the attestation of new passkeys and
            security keys (:class:`~mfakit.webauthn.AttestationPolicy`: trust
            anchors, FIDO metadata, revocation), or ``None`` (the default) to
            ask for none. With a policy the options ask for ``direct``
            attestation, the policy decides what is refused, and a credential
            whose attestation chained to a trust anchor and whose model the
            metadata describes keeps that name as its attested provider name
            (:attr:`~mfakit.webauthn.providers.ProviderName.attested`).
        slow_store_call: Store calls taking this long or longer are logged
            at ``WARNING`` on the ``mfakit.store`` logger, with the port
            method's name and the duration (never the arguments);
            ``timedelta(0)`` logs every call, ``None`` none (and, without
            metrics, leaves the store unwrapped). See the observability guide.
    """

    pending_totp_ttl: timedelta = timedelta(minutes=10)
    totp_window: int = 1
    totp_digits: int = 6
    max_totp_devices: int = 5
    backup_code_count: int = 10
    backup_code_hasher: Hasher = field(default_factory=Hasher)
    backup_codes_low: int = 3
    challenge_ttl: timedelta = timedelta(minutes=5)
    require_user_verification: bool = False
    accept_backup_eligibility_upgrade: bool = True
    throttle_free_failures: int = 3
    throttle_backoff_base: timedelta = timedelta(seconds=1)
    throttle_backoff_cap: timedelta = timedelta(minutes=5)
    throttle_max_failures: int = 10
    throttle_window: timedelta = timedelta(minutes=15)
    login_codes: LoginCodePolicy = field(default_factory=LoginCodePolicy)
    personal_policy: OrgPolicy = field(default_factory=_personal_policy)
    invitation_ttl: timedelta = timedelta(days=7)
    deliver_after_commit: bool = True
    delivery_lease: timedelta = timedelta(minutes=5)
    delivery_backoff_base: timedelta = timedelta(seconds=30)
    delivery_backoff_factor: float = 2.0
    delivery_backoff_cap: timedelta = timedelta(hours=1)
    delivery_max_attempts: int = 8
    provider_names: ProviderNames | None = field(default_factory=ProviderNames.bundled)
    attestation: AttestationPolicy | None = None
    slow_store_call: timedelta | None = timedelta(milliseconds=250)

    def __post_init__(self) -> None:
        for name in (
            "pending_totp_ttl",
            "challenge_ttl",
            "throttle_window",
            "invitation_ttl",
            "delivery_lease",
        ):
            _positive(name, getattr(self, name))
        if self.slow_store_call is not None:
            _positive("slow_store_call", self.slow_store_call, zero=True)
        _positive("throttle_backoff_base", self.throttle_backoff_base, zero=True)
        _positive("throttle_backoff_cap", self.throttle_backoff_cap, zero=True)
        if self.throttle_backoff_cap < self.throttle_backoff_base:
            raise ConfigurationError(
                "ServiceSettings.throttle_backoff_cap must not be below throttle_backoff_base"
            )
        _positive("delivery_backoff_base", self.delivery_backoff_base, zero=True)
        _positive("delivery_backoff_cap", self.delivery_backoff_cap, zero=True)
        if self.delivery_backoff_cap < self.delivery_backoff_base:
            raise ConfigurationError(
                "ServiceSettings.delivery_backoff_cap must not be below delivery_backoff_base"
            )
        factor = self.delivery_backoff_factor
        if isinstance(factor, bool) or not isinstance(factor, int | float) or not 1 <= factor <= 10:
            raise ConfigurationError("ServiceSettings.delivery_backoff_factor must be from 1 to 10")
        _int("delivery_max_attempts", self.delivery_max_attempts, 1, 100)
        _int("totp_window", self.totp_window, 0, MAX_WINDOW)
        _int("totp_digits", self.totp_digits, 6, 8)
        _int("max_totp_devices", self.max_totp_devices, 1, MAX_TOTP_DEVICES)
        _int("backup_code_count", self.backup_code_count, 1, 100)
        _int("backup_codes_low", self.backup_codes_low, 0, 100)
        _int("throttle_max_failures", self.throttle_max_failures, 1, 1000)
        _int("throttle_free_failures", self.throttle_free_failures, 0, self.throttle_max_failures)
        for flag in (
            "require_user_verification",
            "accept_backup_eligibility_upgrade",
            "deliver_after_commit",
        ):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigurationError(f"ServiceSettings.{flag} must be a bool")
        if not isinstance(self.backup_code_hasher, Hasher):
            raise ConfigurationError("ServiceSettings.backup_code_hasher must be a Hasher")
        if not isinstance(self.login_codes, LoginCodePolicy):
            raise ConfigurationError("ServiceSettings.login_codes must be a LoginCodePolicy")
        if not isinstance(self.personal_policy, OrgPolicy):
            raise ConfigurationError("ServiceSettings.personal_policy must be an OrgPolicy")
        if self.provider_names is not None and not isinstance(self.provider_names, ProviderNames):
            raise ConfigurationError(
                "ServiceSettings.provider_names must be a ProviderNames or None"
            )
        if self.attestation is not None and not isinstance(self.attestation, AttestationPolicy):
            raise ConfigurationError(
                "ServiceSettings.attestation must be an AttestationPolicy or None"
            )

    def backoff(self, failures: int) -> timedelta:
        """The wait imposed after the ``failures``-th failure in the window (zero if free)."""
        extra = failures - self.throttle_free_failures
        if extra <= 0:
            return timedelta(0)
        # Computed in float seconds and capped first: doubling a timedelta can overflow.
        seconds = self.throttle_backoff_base.total_seconds() * 2.0 ** min(extra - 1, 64)
        return timedelta(seconds=min(seconds, self.throttle_backoff_cap.total_seconds()))

    def delivery_backoff(self, attempts: int) -> timedelta:
        """The wait before retrying a message whose ``attempts``-th attempt failed.

        ``delivery_backoff_base * delivery_backoff_factor ** (attempts - 1)``,
        at most ``delivery_backoff_cap``.
        """
        exponent = min(max(attempts - 1, 0), 64)
        seconds = (
            self.delivery_backoff_base.total_seconds() * self.delivery_backoff_factor**exponent
        )
        return timedelta(seconds=min(seconds, self.delivery_backoff_cap.total_seconds()))
