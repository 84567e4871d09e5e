"""The service layer: every MFA flow of a user and of an organization, end to end.

:class:`MfaService` is what an application calls. It connects the pure core to
a store (:mod:`mfakit.stores`), a :class:`Notifier` for outgoing messages and a
:class:`~mfakit.clock.Clock`, and it owns throttling, replay protection, single
use, the persistence of policy effects, audit events and notifications.

:class:`AsyncMfaService` offers the same methods as coroutines for asyncio
applications: it runs the synchronous service on a bounded thread pool.

Example::

    from mfakit.service import InMemoryOutbox, MfaService, RelyingParty, UserRef

    service = MfaService(store=store, keys=keys, notifier=InMemoryOutbox(),
                         relying_party=RelyingParty(rp_id="example.com",
                             rp_name="Example", origins=("https://example.com",)),
                         issuer="Example", login_code_key=key)
    enrollment = service.begin_totp_enrollment(UserRef(user_id="u-1", name="ada"))
    activation = service.confirm_totp("u-1", enrollment.totp_id, code_from_app)
    result = service.verify_totp("u-1", next_code)
"""

from __future__ import annotations

from mfakit.service._async import AsyncMfaService
from mfakit.service._notify import (
    AccountLocked,
    AccountUnlocked,
    BackupCodesLow,
    EnforcementStopped,
    GracePeriodStarted,
    InMemoryOutbox,
    LoginCode,
    MemberRemoved,
    Message,
    MethodAdded,
    MethodRemoved,
    MfaReminder,
    MfaReset,
    Notifier,
    PasskeyNowSynced,
    SignCountAnomaly,
)
from mfakit.service._outbox import DeliveryReport
from mfakit.service._policy_codec import decode_policy, encode_policy
from mfakit.service._results import (
    Advice,
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
    TrustRefusal,
)
from mfakit.service._service import MfaService
from mfakit.service._sessions import NoSessionRevoker, SessionRevoker
from mfakit.service._settings import RelyingParty, ServiceSettings, UserRef

__all__ = [
    "AccountLocked",
    "AccountUnlocked",
    "Advice",
    "AsyncMfaService",
    "BackupCodeSet",
    "BackupCodeStatus",
    "BackupCodesLow",
    "DeliveryReport",
    "EnforcementStopped",
    "GracePeriodStarted",
    "IamLoginResult",
    "InMemoryOutbox",
    "LoginCode",
    "LoginCodeRequested",
    "Mediation",
    "MemberRemoved",
    "Message",
    "MethodAdded",
    "MethodRemoval",
    "MethodRemoved",
    "MfaReminder",
    "MfaReset",
    "MfaService",
    "NoSessionRevoker",
    "Notifier",
    "Passkey",
    "PasskeyNowSynced",
    "PasskeyRegistration",
    "PasskeySignInChallenge",
    "PasskeySignInResult",
    "PasskeySignals",
    "RelyingParty",
    "RewrapProgress",
    "SecondFactorChallenge",
    "SecondFactorResult",
    "ServiceSettings",
    "SessionRevoker",
    "SignCountAnomaly",
    "SweepReport",
    "TotpActivation",
    "TotpDevice",
    "TotpEnrollment",
    "TrustRefusal",
    "TrustedBrowserCheck",
    "TrustedBrowserEntry",
    "TrustedBrowserToken",
    "UserRef",
    "decode_policy",
    "encode_policy",
]
