"""mfakit's example console: a small Flask app showing every MFA journey of a cloud console.

Run it with ``bash scripts/demo`` and open http://localhost:8000. See
``docs/guides/example-app.md``.

Everything mfakit-related goes through one :class:`~mfakit.service.MfaService`
on an :class:`~mfakit.stores.sqlite.SQLiteStore`; the console itself only keeps
users (e-mail, name, password hash), their sessions and the messages it "sent".
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from flask import Flask

from mfakit.service import MfaService, RelyingParty, ServiceSettings
from mfakit.stores.sqlite import SQLiteStore

from . import i18n, sessions, web
from .data import Accounts, load_secrets
from .mailer import OutboxMailer
from .pending import PendingEnrollments
from .reveal import ShownOnce
from .throttle import PasswordThrottle

#: Where the console keeps its data file and secrets unless told otherwise.
DEFAULT_INSTANCE_DIR = Path(__file__).resolve().parents[2] / "instance"
DEFAULT_ORIGIN = "http://localhost:8000"


def create_app(
    *,
    instance_dir: str | os.PathLike[str] | None = None,
    origin: str | None = None,
    database: str | os.PathLike[str] | None = None,
    settings: ServiceSettings | None = None,
    password_hasher: PasswordHasher | None = None,
    testing: bool = False,
) -> Flask:
    """Build the console.

    Args:
        instance_dir: Holds the data file and ``secrets.json`` (created if missing).
            Defaults to ``$CONSOLE_INSTANCE_DIR`` or ``instance/`` at the repository root.
        origin: The exact origin browsers use (``http://localhost:8000``); its host
            is the WebAuthn RP ID, so it must be a name, not an IP address.
        database: The SQLite file; defaults to ``<instance_dir>/console.sqlite3``.
        settings: The service's settings (tests use cheap backup-code hashing).
        password_hasher: argon2-cffi's hasher for passwords (cheap in tests).
        testing: Flask's testing flag.
    """
    folder = Path(instance_dir or os.environ.get("CONSOLE_INSTANCE_DIR") or DEFAULT_INSTANCE_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    origin = origin or os.environ.get("CONSOLE_ORIGIN") or DEFAULT_ORIGIN
    rp_id = origin.split("://", 1)[1].split(":", 1)[0]
    stored = load_secrets(folder)
    path = Path(database) if database else folder / "console.sqlite3"

    app = Flask(__name__, instance_path=str(folder))
    app.config.update(
        SECRET_KEY=stored.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=origin.startswith("https://"),
        SESSION_COOKIE_NAME="console_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=64 * 1024,
        TESTING=testing,
        CONSOLE_ORIGIN=origin,
    )
    store = SQLiteStore(path)
    accounts = Accounts(path)
    mailer = OutboxMailer(accounts, store=store, origin=origin)
    service = MfaService(
        store=store,
        keys=stored.keys,
        notifier=mailer,
        relying_party=RelyingParty(rp_id=rp_id, rp_name="mfakit console", origins=(origin,)),
        issuer="mfakit console",
        login_code_key=stored.login_code_key,
        settings=settings or ServiceSettings(),
        # Resets and removals sign the user out of the console.
        session_revoker=accounts,
    )
    passwords = password_hasher or PasswordHasher()
    extensions: dict[str, Any] = {
        "mfa_service": service,
        "mfa_store": store,
        "console_accounts": accounts,
        "console_mailer": mailer,
        "console_pending": PendingEnrollments(),
        "console_shown_once": ShownOnce(path),
        "console_passwords": passwords,
        "console_dummy_hash": passwords.hash(secrets.token_urlsafe(16)),
        "console_throttle": PasswordThrottle(store, service.settings),
    }
    app.extensions.update(extensions)
    i18n.install(app)
    sessions.install(app, accounts)
    web.install(app)

    from .views import (  # noqa: PLC0415 - views need the app's helpers
        account,
        auth,
        member_password,
        org,
        outbox,
    )

    for module in (auth, account, org, outbox, member_password):
        app.register_blueprint(module.bp)
    return app
