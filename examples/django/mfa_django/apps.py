"""The app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class MfaDjangoConfig(AppConfig):
    """mfakit's models and views."""

    name = "mfa_django"
    verbose_name = "mfakit"
    default_auto_field = "django.db.models.BigAutoField"
