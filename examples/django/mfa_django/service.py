"""The project's one :class:`~mfakit.service.MfaService`, over ``DjangoStore``."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from mfa_django.store import DjangoStore
from mfakit.secretbox import KeyRing
from mfakit.service import InMemoryOutbox, MfaService, RelyingParty, ServiceSettings, UserRef

__all__ = ["mfa_service", "user_ref"]


@functools.cache
def mfa_service() -> MfaService:
    """The service, built once per process from the ``MFA_*`` settings.

    Notifications stay in an in-memory outbox: the example sends no e-mail.
    ``MFA_SERVICE_SETTINGS`` (a :class:`~mfakit.service.ServiceSettings`, optional)
    tunes the service; the defaults are the production ones.
    """
    return MfaService(
        store=DjangoStore(),
        keys=KeyRing({"k1": bytes.fromhex(settings.MFA_SECRET_KEY)}, current="k1"),
        notifier=InMemoryOutbox(),
        relying_party=RelyingParty(
            rp_id=settings.MFA_RP_ID,
            rp_name=settings.MFA_RP_NAME,
            origins=tuple(settings.MFA_ORIGINS),
        ),
        issuer=settings.MFA_ISSUER,
        login_code_key=bytes.fromhex(settings.MFA_LOGIN_CODE_KEY),
        settings=getattr(settings, "MFA_SERVICE_SETTINGS", None) or ServiceSettings(),
    )


def user_ref(user: AbstractBaseUser) -> UserRef:
    """mfakit's name for a Django user: the primary key, never the e-mail address."""
    return UserRef(user_id=str(user.pk), name=user.get_username())
