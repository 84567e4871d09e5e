"""Opening a ``DjangoStore`` in this process or in a race worker (a spawned process).

Imports neither Django's models nor pytest at module level: a worker unpickles
:func:`open_store` before Django is configured in it.
"""

from __future__ import annotations

from typing import Any

from mfakit.backup_codes import CHEAP_FOR_TESTS, Hasher
from mfakit.repositories import MfaStore
from mfakit.service import ServiceSettings


def configure(databases: dict[str, dict[str, Any]], *, with_site: bool = False) -> None:
    """Configure Django's settings: the example's own, or just what the store needs."""
    from django.conf import settings

    values: dict[str, Any] = {
        "INSTALLED_APPS": ["mfa_django"],
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "DATABASES": databases,
    }
    if with_site:
        from mfasite import settings as example

        values = {k: getattr(example, k) for k in dir(example) if k.isupper()} | {
            "DATABASES": databases,
            "ALLOWED_HOSTS": ["testserver", "localhost"],
            "DEBUG": False,
            # Argon2 with the cheapest parameters would be mfakit's business;
            # Django's own password hashing is kept fast for the tests.
            "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
            # And mfakit's backup codes use the cheap Argon2 profile for tests.
            "MFA_SERVICE_SETTINGS": ServiceSettings(
                backup_code_hasher=Hasher(profile=CHEAP_FOR_TESTS)
            ),
        }
    settings.configure(**values)


def open_store(databases: dict[str, dict[str, Any]], alias: str) -> MfaStore:
    """Return a ``DjangoStore`` on ``alias``, configuring Django first in a fresh process."""
    import django
    from django.conf import settings

    if not settings.configured:
        configure(databases)
        django.setup()
    from mfa_django.store import DjangoStore

    return DjangoStore(using=alias)
