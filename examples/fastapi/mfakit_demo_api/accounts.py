"""The demo's first factor and sessions: a toy, kept honest.

* :class:`Accounts` is an in-memory user table (lost at restart) with
  Argon2id password hashes (argon2-cffi). A real application has its own
  users; mfakit only ever sees their ids.
* :class:`Sessions` keeps the session in a cookie signed with HMAC-SHA256: the
  user id, the sign-in stage, and an expiry. It cannot be revoked before it
  expires; a real application keeps server-side sessions it can end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Response

#: ``second_factor``: the password (or a passkey that needs a second factor) was
#: checked, the second factor is pending. ``signed_in``: fully signed in.
Stage = Literal["second_factor", "signed_in"]

COOKIE = "mfa_demo_session"
SESSION_SECONDS = 8 * 3600


@dataclass(frozen=True, slots=True)
class Account:
    """A user of the demo."""

    user_id: str
    email: str
    name: str
    password_hash: str


class Accounts:
    """Users by e-mail address, in memory, with Argon2id password hashes."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._by_email: dict[str, Account] = {}
        self._by_id: dict[str, Account] = {}
        self._lock = threading.Lock()
        # Checked when the e-mail is unknown, so both answers cost one Argon2 verify.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def create(self, *, email: str, name: str, password: str) -> Account | None:
        """Add a user; None when the address is taken."""
        account = Account(
            user_id=f"u-{secrets.token_hex(8)}",
            email=email.strip().lower(),
            name=name.strip(),
            password_hash=self._hasher.hash(password),
        )
        with self._lock:
            if account.email in self._by_email:
                return None
            self._by_email[account.email] = account
            self._by_id[account.user_id] = account
        return account

    def add_member(self, *, username: str, name: str) -> Account:
        """Add an organization member who signs in with e-mailed codes (no password)."""
        account = Account(
            user_id=f"u-{secrets.token_hex(8)}", email=username, name=name, password_hash=""
        )
        with self._lock:
            self._by_id[account.user_id] = account
        return account

    def check_password(self, email: str, password: str) -> Account | None:
        """The user whose address and password these are, or None."""
        with self._lock:
            account = self._by_email.get(email.strip().lower())
        stored = account.password_hash if account is not None else self._dummy_hash
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return account

    def get(self, user_id: str) -> Account | None:
        """The user with this id."""
        with self._lock:
            return self._by_id.get(user_id)


@dataclass(frozen=True, slots=True)
class Session:
    """What the signed cookie says."""

    user_id: str
    stage: Stage
    expires: int
    #: After a passkey sign-in that needs a second step: that passkey (never the second one).
    first_factor: bytes | None = None


class Sessions:
    """Sessions in a cookie signed with HMAC-SHA256 under ``key``."""

    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._key = key
        self._secure = secure

    def read(self, cookie: str | None) -> Session | None:
        """The session of a cookie, if its signature is good and it has not expired."""
        if not cookie or "." not in cookie:
            return None
        body, _, signature = cookie.partition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            used = data.get("f")
            session = Session(
                user_id=data["u"],
                stage=data["s"],
                expires=int(data["e"]),
                first_factor=None if used is None else bytes.fromhex(used),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if session.stage not in ("second_factor", "signed_in") or session.expires < time.time():
            return None
        return session

    def write(
        self,
        response: Response,
        *,
        user_id: str,
        stage: Stage,
        first_factor: bytes | None = None,
    ) -> None:
        """Set the session cookie on ``response``."""
        payload: dict[str, object] = {
            "u": user_id,
            "s": stage,
            "e": int(time.time()) + SESSION_SECONDS,
        }
        if first_factor is not None:
            payload["f"] = first_factor.hex()
        raw = json.dumps(payload, separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        response.set_cookie(
            COOKIE,
            f"{body}.{self._sign(body)}",
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )

    def clear(self, response: Response) -> None:
        """Remove the session cookie."""
        response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=self._secure)

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")
