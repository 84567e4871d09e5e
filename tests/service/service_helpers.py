"""Helpers of the service tests: an authenticator app, and ready-made users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.clock import FrozenClock
from mfakit.observability import NO_METRICS, Metrics
from mfakit.otp import TOTP, decode_base32
from mfakit.repositories import MfaStore
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    MfaService,
    Notifier,
    RelyingParty,
    ServiceSettings,
    TotpActivation,
    TotpEnrollment,
    UserRef,
)

RP_ID = "console.example"
ORIGIN = "https://console.example"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
SETTINGS = ServiceSettings(backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS))
T = TypeVar("T")


def build_service(
    store: MfaStore,
    clock: FrozenClock,
    notifier: Notifier,
    settings: ServiceSettings = SETTINGS,
    *,
    metrics: Metrics = NO_METRICS,
) -> MfaService:
    """A service of the console's relying party over ``store``, with a fresh key ring."""
    return MfaService(
        store=store,
        keys=KeyRing({"k1": generate_key()}, current="k1"),
        notifier=notifier,
        clock=clock,
        relying_party=RelyingParty(rp_id=RP_ID, rp_name="Console", origins=(ORIGIN,)),
        issuer="Console",
        login_code_key=b"k" * 32,
        settings=settings,
        metrics=metrics,
    )


@dataclass
class App:
    """A user's authenticator app holding the enrolled secret."""

    totp: TOTP
    clock: FrozenClock

    def code(self, offset_steps: int = 0) -> str:
        """The code the app shows now (or ``offset_steps`` steps away)."""
        return self.totp.at_step(self.totp.step(self.clock.now()) + offset_steps)


def app_for(enrollment: TotpEnrollment, clock: FrozenClock) -> App:
    """Scan the enrollment as a user types the manual key into an app."""
    return App(totp=TOTP(decode_base32(enrollment.manual_key.replace(" ", ""))), clock=clock)


def enroll_totp(
    service: MfaService, clock: FrozenClock, user_id: str, name: str = "Authenticator app"
) -> tuple[App, TotpActivation]:
    """Enroll and confirm an authenticator app ``name`` for ``user_id``; the clock moves on."""
    enrollment = service.begin_totp_enrollment(
        UserRef(user_id=user_id, name=f"{user_id}@x"), name=name
    )
    app = app_for(enrollment, clock)
    activation = service.confirm_totp(user_id, enrollment.totp_id, app.code())
    clock.advance(30)
    return app, activation
