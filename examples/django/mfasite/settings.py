"""Settings of the example project: a local SQLite file, Django's auth for the password.

Everything here is for a demonstration on 127.0.0.1 (a fixed development
secret, ``DEBUG`` on). ``MFA_*`` settings configure mfakit's service
(:mod:`mfa_django.service`).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A development key: set DJANGO_SECRET_KEY anywhere but on your own machine.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "mfakit-django-example-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "mfa_django",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mfasite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

WSGI_APPLICATION = "mfasite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("MFA_DJANGO_DB", str(BASE_DIR / "mfa-example.sqlite3")),
        "OPTIONS": {
            # Write transactions take SQLite's write lock when they begin, so a
            # read followed by a write in one transaction never fails halfway.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}

# mfakit's stores keep aware UTC datetimes: DjangoStore refuses USE_TZ = False.
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

LOGIN_URL = "mfa:login"
LOGIN_REDIRECT_URL = "mfa:security"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# mfakit: the relying party (passkeys are bound to it) and the TOTP issuer.
MFA_RP_ID = os.environ.get("MFA_RP_ID", "localhost")
MFA_RP_NAME = "mfakit Django example"
MFA_ORIGINS = [os.environ.get("MFA_ORIGIN", "http://localhost:8000")]
MFA_ISSUER = "mfakit Django example"
# The 32-byte secretbox key that encrypts TOTP secrets, hex. A fixed demo key
# unless MFA_SECRET_KEY is set: never use the default outside your machine.
MFA_SECRET_KEY = os.environ.get(
    "MFA_SECRET_KEY", "6d66616b69742d646a616e676f2d6578616d706c652d6b65792d2d2d2d2d2d21"
)
# The HMAC key of emailed login codes (the service requires one; this example
# sends none). Hex, 32 bytes; the same warning as above.
MFA_LOGIN_CODE_KEY = os.environ.get(
    "MFA_LOGIN_CODE_KEY", "6c6f67696e2d636f64652d6b65792d6f662d7468652d646a616e676f2d64656d"
)
