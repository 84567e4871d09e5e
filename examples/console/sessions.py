"""Server-side sessions: the cookie holds a random id; the data lives in the console's SQLite file.

A signed cookie cannot be taken back: a copy saved before signing out would
keep working until it expires. Here the cookie holds only a random session id
(the table keeps its SHA-256, never the id itself), so that signing out,
an administrator's reset or a factor change ends the session on the server:

* :func:`rotate` starts a new id for the data that follows (at sign-in, after
  the password, after the second factor, at sign-out); the old id stops working;
* :meth:`SessionStore.revoke_user` deletes every session of a user (the
  service's session revoker, through :class:`~console.data.Accounts`);
* a row deleted while one of its requests runs is never written back: a
  request only updates a row that still exists.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Any, cast

from flask import Flask, Request, session
from flask.sessions import SessionInterface, SessionMixin, session_json_serializer
from werkzeug.datastructures import CallbackDict
from werkzeug.wrappers import Response

from .data import Accounts

#: A session id as :func:`secrets.token_urlsafe` makes it (32 bytes): anything else is ignored.
_SID = re.compile(r"[A-Za-z0-9_-]{43}")


def session_key(sid: str) -> str:
    """What the table keeps of a session id: its SHA-256 (a copy of the table opens no session)."""
    return hashlib.sha256(sid.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """One browser's session data; ``sid`` is ``None`` until it is first stored."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None) -> None:
        def changed(_: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial, changed)
        self.sid = sid
        self.rotate = False
        self.modified = False


def rotate() -> None:
    """Forget this session's data and give what follows a new id (the old one stops working)."""
    current = cast(ServerSession, session._get_current_object())  # type: ignore[attr-defined]
    current.clear()
    current.rotate = True


def _owner(data: dict[str, Any]) -> str | None:
    """The user a session belongs to: signed in, or between the password and the second factor."""
    uid = data.get("uid")
    if isinstance(uid, str):
        return uid
    pending = data.get("pending")
    if isinstance(pending, dict) and isinstance(pending.get("uid"), str):
        return cast(str, pending["uid"])
    return None


class SessionStore(SessionInterface):
    """Flask's session interface over the ``console_sessions`` table."""

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if _SID.fullmatch(sid):
            stored = self._accounts.load_session(session_key(sid), now=time.time())
            if stored is not None:
                return ServerSession(session_json_serializer.loads(stored), sid=sid)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        current = cast(ServerSession, session)
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if current.rotate and current.sid is not None:
            self._accounts.delete_session(session_key(current.sid))
            current.sid = None
        if not current:
            if current.sid is not None:
                self._accounts.delete_session(session_key(current.sid))
            if current.rotate or current.sid is not None:
                response.delete_cookie(name, domain=domain, path=path)
            return
        data = dict(current)
        if current.sid is None:
            sid = secrets.token_urlsafe(32)
            lifetime = app.permanent_session_lifetime.total_seconds()
            expires = time.time() + lifetime
            self._accounts.create_session(
                session_key(sid),
                user_id=_owner(data),
                data=session_json_serializer.dumps(data),
                expires_at=expires,
            )
            # A cookie of the browser session, as Flask's own (the row expires on the server).
            response.set_cookie(
                name,
                sid,
                expires=self.get_expiration_time(app, current),
                domain=domain,
                path=path,
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )
            response.vary.add("Cookie")
        elif current.modified:
            # Only an existing row: a session revoked meanwhile stays revoked.
            self._accounts.update_session(
                session_key(current.sid),
                user_id=_owner(data),
                data=session_json_serializer.dumps(data),
            )


def install(app: Flask, accounts: Accounts) -> None:
    """Keep ``app``'s sessions in the console's database."""
    app.session_interface = SessionStore(accounts)
