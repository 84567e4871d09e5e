"""The app's URLs."""

from __future__ import annotations

from django.urls import path

from mfa_django import views
from mfakit import static

app_name = "mfa"
urlpatterns = [
    path("", views.security, name="security"),
    path("login/", views.sign_in, name="login"),
    path("login/second-factor/", views.second_factor, name="second_factor"),
    path("login/second-factor/passkey/", views.second_factor_passkey, name="second_factor_passkey"),
    path("logout/", views.sign_out, name="logout"),
    path("security/totp/", views.totp_add, name="totp_add"),
    path("security/totp/confirm/", views.totp_confirm, name="totp_confirm"),
    path("security/backup-codes/", views.backup_codes, name="backup_codes"),
    path("security/passkeys/options/", views.passkey_options, name="passkey_options"),
    path("security/passkeys/", views.passkey_register, name="passkey_register"),
    path(f"static/{static.MODULE_NAME}", views.webauthn_module, name="webauthn_module"),
]
