"""``DjangoStore``: every port of :class:`mfakit.repositories.MfaStore` on the Django ORM.

Composed like mfakit's own stores (see ``mfakit.stores._facade``): one small
context (:class:`~mfa_django.store._context.DjangoContext`: the database alias,
transactions, error translation) and one part per port, each in its own class;
no part inherits from another. The facade forwards each port method to its
part.

Example::

    from mfa_django.store import DjangoStore

    store = DjangoStore()            # settings.DATABASES["default"]
    store = DjangoStore(using="mfa")  # another alias
"""

from __future__ import annotations

from django.conf import settings

from mfa_django.store._context import DjangoContext
from mfa_django.store._factors import DjangoBackupCodes, DjangoTotp, DjangoWebAuthn
from mfa_django.store._flows import DjangoChallenges, DjangoLoginCodes, DjangoThrottles
from mfa_django.store._log import DjangoAudit, DjangoOutbox
from mfa_django.store._members import DjangoMemberships
from mfa_django.store._orgs import DjangoInvitations, DjangoOrganizations
from mfa_django.store._users import DjangoTrustedBrowsers, DjangoUserState
from mfakit.errors import ConfigurationError
from mfakit.stores._facade import StoreFacade, StoreParts

__all__ = ["DjangoStore", "django_store_parts"]


def django_store_parts(ctx: DjangoContext) -> StoreParts:
    """One part per port, each on the store's context."""
    memberships = DjangoMemberships(ctx)
    return StoreParts(
        context=ctx,
        totp=DjangoTotp(ctx),
        backup_codes=DjangoBackupCodes(ctx),
        webauthn=DjangoWebAuthn(ctx),
        challenges=DjangoChallenges(ctx),
        login_codes=DjangoLoginCodes(ctx),
        throttles=DjangoThrottles(ctx),
        user_state=DjangoUserState(ctx),
        trusted_browsers=DjangoTrustedBrowsers(ctx),
        organizations=DjangoOrganizations(ctx),
        memberships=memberships,
        invitations=DjangoInvitations(ctx, insert_membership=memberships.insert),
        audit=DjangoAudit(ctx),
        outbox=DjangoOutbox(ctx),
    )


class DjangoStore(StoreFacade):
    """Implements every port of :class:`mfakit.repositories.MfaStore` on Django models.

    Args:
        using: The database alias (``settings.DATABASES``) holding the
            ``mfa_django`` tables (``python manage.py migrate``).

    Raises:
        ConfigurationError: ``USE_TZ`` is off (the ports exchange aware UTC
            datetimes), or ``using`` is not a configured alias.
    """

    def __init__(self, using: str = "default") -> None:
        if not settings.USE_TZ:
            raise ConfigurationError("DjangoStore needs USE_TZ = True")
        if using not in settings.DATABASES:
            raise ConfigurationError("using must name a database in settings.DATABASES")
        self.using = using
        super().__init__(django_store_parts(DjangoContext(using)))

    def __repr__(self) -> str:
        return f"DjangoStore(using={self.using!r})"
