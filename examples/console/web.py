"""Request plumbing shared by the pages: the signed-in user, CSRF, errors, security headers."""

from __future__ import annotations

import hmac
import mimetypes
import secrets
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.security import safe_join

from mfakit import static
from mfakit.errors import (
    AttemptsExhaustedError,
    DuplicateError,
    ExpiredCodeError,
    InvalidCodeError,
    InvitationAddressError,
    LimitReachedError,
    MalformedDataError,
    MfaError,
    NotFoundError,
    PasswordlessNotAllowedError,
    PolicyDeniedError,
    ReplayedCodeError,
    SignCountError,
    StepUpRequiredError,
    ThrottledError,
    UnknownCredentialError,
    WebAuthnError,
)
from mfakit.policy import ObligationKind
from mfakit.repositories import MfaStore
from mfakit.service import MfaService, UserRef

from . import sessions
from .data import Accounts, User
from .mailer import OutboxMailer
from .throttle import PasswordThrottle
from .wording import refusal_text, seconds_text

F = TypeVar("F", bound=Callable[..., Any])

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; "
    "object-src 'none'"
)


def service() -> MfaService:
    """The application's :class:`MfaService`."""
    return cast(MfaService, current_app.extensions["mfa_service"])


def store() -> MfaStore:
    """The application's mfakit store (for the reads the service leaves to the host)."""
    return cast(MfaStore, current_app.extensions["mfa_store"])


def accounts() -> Accounts:
    """The console's users and outbox."""
    return cast(Accounts, current_app.extensions["console_accounts"])


def mailer() -> OutboxMailer:
    """The console's notifier."""
    return cast(OutboxMailer, current_app.extensions["console_mailer"])


def password_throttle() -> PasswordThrottle:
    """The password step's throttle."""
    return cast(PasswordThrottle, current_app.extensions["console_throttle"])


def user_ref(user: User) -> UserRef:
    """The user as mfakit names it (the e-mail address is the account name in apps)."""
    return UserRef(user_id=user.user_id, name=user.email, display_name=user.name)


def current_user() -> User | None:
    """The signed-in user of this request, if any."""
    if "user" not in g:
        # The session lives on the server: a revoked one arrives here empty.
        user_id = session.get("uid")
        g.user = accounts().user(user_id) if isinstance(user_id, str) else None
    return cast("User | None", g.user)


def sign_in(
    user: User,
    *,
    org_id: str | None = None,
    enroll_by: str | None = None,
    enrollment_only: bool = False,
) -> None:
    """Start a fresh session for ``user``: a new id, a new CSRF token, nothing carried over."""
    sessions.rotate()
    g.pop("user", None)
    session["uid"] = user.user_id
    session["csrf"] = secrets.token_urlsafe(32)
    if org_id is not None:
        session["org"] = org_id
    if enroll_by is not None:
        session["enroll_by"] = enroll_by
    if enrollment_only:
        session["enrollment_only"] = True


def end_other_sessions(user: User) -> None:
    """Sign ``user`` out everywhere but here: call it after they changed a second factor.

    A session opened with a factor that was just replaced or deleted must not
    outlive the change (the service ends all sessions itself after a reset).
    """
    current = cast(sessions.ServerSession, session._get_current_object())  # type: ignore[attr-defined]
    keep = None if current.sid is None else sessions.session_key(current.sid)
    accounts().revoke_sessions(user.user_id, reason="factor_changed", org_id=None, keep=keep)


def login_required(view: F) -> F:
    """Send visitors who are not signed in to the sign-in page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.path))
        if session.get("enrollment_only") and request.blueprint != "account":
            # An overdue member may only set up a method until they have one.
            return redirect(url_for("account.security"))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


#: What a POST without this session's CSRF token is told.
FORM_EXPIRED = (
    "The form expired (you signed in or out elsewhere, or left it open for a long time) "
    "or came from another site. Nothing was changed: go back and try again."
)


def _check_csrf() -> None:
    if request.method != "POST":
        return
    expected = session.get("csrf")
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), given.encode()):
        abort(400, description=FORM_EXPIRED)


def _canonical_host() -> Response | None:
    # WebAuthn refuses IP addresses as RP IDs: the console must be opened as localhost.
    host = request.host
    if host.startswith("127.0.0.1"):
        target = request.url.replace("//127.0.0.1", "//localhost", 1)
        return cast(Response, redirect(target, code=308))
    return None


#: Where the console serves mfakit's browser module (console.js imports it from here).
MODULE_URL = f"/js/{static.MODULE_NAME}"
#: The endpoints whose answers browsers may keep (revalidated with their ETag).
_CACHEABLE = frozenset({"static", "mfakit_webauthn_js", "favicon"})


def mfakit_webauthn_js() -> Response:
    """mfakit's browser module, from the installed package, as JavaScript.

    The URL has no version in it (console.js imports it by this name), so
    browsers revalidate it with its ETag, as they do the console's own files.
    """
    response = Response(static.read_module(), mimetype=static.MEDIA_TYPE)
    response.cache_control.no_cache = True
    response.add_etag()
    response.make_conditional(request)
    return response


def static_file(filename: str) -> Response:
    """One of the console's own files (``static/``, a few kilobytes each), from its bytes.

    Flask's static view answers with the open file, which werkzeug's server
    leaves open (a ResourceWarning) when a browser drops the connection before
    reading it, as it may for an icon or a stylesheet when it leaves the page.
    Like that view, it is revalidated with its ETag.
    """
    path = safe_join(str(current_app.static_folder), filename)
    if path is None or not Path(path).is_file():
        abort(404)
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = Response(Path(path).read_bytes(), mimetype=kind)
    response.cache_control.no_cache = True
    response.add_etag()
    response.make_conditional(request)
    return response


def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint not in _CACHEABLE:
        response.headers["Cache-Control"] = "no-store"
    return response


# -- error pages ---------------------------------------------------------------------------

#: Where each step of a journey starts: a GET on a step that only takes a form
#: (a bookmarked or reloaded URL) goes there; an expired form links back to it.
_STEP_STARTS = {
    "auth.verify_code": "auth.second_factor",
    "auth.passkey_options": "auth.second_factor",
    "auth.verify_passkey": "auth.second_factor",
    "auth.member_code": "auth.member_login",
    "auth.member_password": "auth.member_login",
    "auth.logout": "auth.index",
    "account.step_up_code": "account.step_up",
    "account.step_up_options": "account.step_up",
    "account.step_up_passkey": "account.step_up",
}
#: Otherwise, by blueprint: the page the blueprint's forms are on.
_BLUEPRINT_STARTS = {"auth": "auth.login", "account": "account.security", "org": "org.home"}


def _step_start(endpoint: str | None, args: dict[str, Any]) -> str | None:
    """The URL where the step ``endpoint`` starts, if it belongs to a journey."""
    if endpoint is None:
        return None
    target = _STEP_STARTS.get(endpoint) or _BLUEPRINT_STARTS.get(endpoint.partition(".")[0])
    if target is None:
        return None
    if target == "org.home" and isinstance(args.get("org_id"), str):
        return url_for("org.page", org_id=args["org_id"])
    return url_for(target)


def _form_endpoint() -> tuple[str | None, dict[str, Any]]:
    """The endpoint (and its arguments) that takes this URL by POST, if one does."""
    try:
        adapter = current_app.url_map.bind_to_environ(request.environ)
        endpoint, args = adapter.match(method="POST")
    except HTTPException:
        return None, {}
    return str(endpoint), dict(args)


#: The heading and text of each error page (a description given to abort() replaces the text).
_ERRORS = {
    400: ("This request could not be handled", "The page sent something the console cannot read."),
    403: ("Not allowed", "You may not do this."),
    404: ("Page not found", "There is no page at this address. Check the link, or start again."),
    405: ("This page cannot be opened directly", "This address only takes a form's answer."),
    413: ("Too much data", "The form sent more than the console accepts."),
    500: ("Something went wrong", "The console could not finish this request. Try again."),
}


def _error_page(exc: HTTPException) -> Response | tuple[Response | str, int]:
    """A styled page (or, for the page's scripts, JSON) that says what happened.

    Unexpected exceptions arrive here as a 500 (Flask logs their traceback);
    the page never shows it.
    """
    if exc.response is not None:  # abort() with a ready answer (the JSON endpoints)
        return cast(Response, exc.response)
    code = exc.code or 500
    if code == 405 and request.method in ("GET", "HEAD"):
        # A step's URL opened directly (a bookmark, a reload): go to where the step starts.
        start = _step_start(*_form_endpoint())
        if start is not None:
            return cast(Response, redirect(start))
    title, text = _ERRORS.get(code, (exc.name, exc.description or ""))
    if code == 400 and exc.description == FORM_EXPIRED:
        title, text = "This form expired", FORM_EXPIRED
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error=text), code
    endpoint = request.url_rule.endpoint if request.url_rule is not None else None
    start = _step_start(endpoint, dict(request.view_args or {}))
    back, label = (start, "Go back") if start else (url_for("auth.index"), "Go to the home page")
    page = render_template("error.html", title=title, text=text, code=code, back=back, label=label)
    return page, code


def favicon() -> Response:
    """The console's icon (an SVG), also where browsers look for it without a link.

    Answered from bytes (a few hundred), not a file response, so that a 304 or
    an aborted request leaves no open file behind.
    """
    icon = Path(str(current_app.static_folder), "favicon.svg").read_bytes()
    response = Response(icon, mimetype="image/svg+xml")
    response.cache_control.max_age = 86400
    return response


def install(app: Flask) -> None:
    """Register the hooks every request goes through, the error pages and a few routes."""
    app.before_request(_canonical_host)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.add_url_rule(MODULE_URL, "mfakit_webauthn_js", mfakit_webauthn_js)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.view_functions["static"] = static_file
    app.register_error_handler(HTTPException, _error_page)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user


def json_body() -> dict[str, Any]:
    """The JSON object a page's script posted; anything else ends the request with a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        refusal = jsonify(error="Bad request.")
        refusal.status_code = 400
        abort(refusal)
    return body


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("Windows", "Windows"),
    ("Mac OS", "macOS"),
    ("Linux", "Linux"),
)


def browser_label() -> str:
    """A short name for the browser, from its User-Agent (names trusted browsers and passkeys)."""
    agent = request.headers.get("User-Agent", "")
    browser = next(
        (name for key, name in _BROWSERS if key in agent),
        "A browser",
    )
    system = next((name for key, name in _SYSTEMS if key in agent), None)
    return f"{browser} on {system}" if system else browser


def needs_step_up(exc: MfaError) -> bool:
    """Whether the policy refused because a recent second-factor check is required."""
    if isinstance(exc, StepUpRequiredError):
        return True
    obligations = getattr(getattr(exc, "decision", None), "obligations", ())
    return any(o.kind is ObligationKind.STEP_UP for o in obligations)


#: The trusted-browser cookie of one user (a browser may be trusted by several users).
TRUST_COOKIE_PREFIX = "console_trusted_"


def trust_cookie(user_id: str) -> str:
    """The name of ``user_id``'s trusted-browser cookie."""
    return TRUST_COOKIE_PREFIX + user_id


#: The cookie of a user who declined the passkey offered after a password sign-in.
NO_PASSKEY_OFFER_PREFIX = "console_no_passkey_offer_"


def no_passkey_offer_cookie(user_id: str) -> str:
    """The name of the cookie that remembers ``user_id`` declined the passkey offer."""
    return NO_PASSKEY_OFFER_PREFIX + user_id


def secure_cookies() -> bool:
    """Whether cookies must be ``Secure``: the console is served over https."""
    return request.is_secure or str(current_app.config["CONSOLE_ORIGIN"]).startswith("https://")


def explain(exc: MfaError, *, factor: str | None = None) -> str:
    """A message for the user about a refused action (never a secret).

    ``factor`` is the kind of code the user typed (``"totp"``), when one was.
    """
    if isinstance(exc, ThrottledError):
        return f"Too many attempts. Try again in {seconds_text(exc.retry_after)}."
    if isinstance(exc, ReplayedCodeError) and factor == "totp":
        # The app still shows the code it just accepted: the next one is fresh.
        return "That code was already used. Wait for the next code in your app, then enter it."
    if isinstance(exc, LimitReachedError):
        return (
            f"You already have {exc.limit} authenticator apps, the most allowed. Delete one first."
        )
    if isinstance(exc, PolicyDeniedError):
        return refusal_text(exc.decision, exc.message)
    messages: list[tuple[type[MfaError], str]] = [
        (AttemptsExhaustedError, "Too many wrong codes. Ask for a new code."),
        (ReplayedCodeError, "That code or request was already used. Use a new one."),
        (ExpiredCodeError, "That expired. Start again."),
        (InvalidCodeError, "That code is not valid."),
        (
            InvitationAddressError,
            (
                "This invitation was sent to another e-mail address. "
                "Sign in with the invited account to accept it."
            ),
        ),
        (SignCountError, "This passkey may have been copied: its counter went backwards."),
        # One answer for every credential that cannot sign in: it tells nothing about others.
        (UnknownCredentialError, "This passkey cannot sign in here. Sign in with your password."),
        (
            PasswordlessNotAllowedError,
            (
                "This passkey is for the second step of sign-in only. "
                "Sign in with your password first."
            ),
        ),
        (WebAuthnError, "The passkey could not be verified."),
        (MalformedDataError, "The browser's answer could not be read."),
        (DuplicateError, "That name is already used."),
        (NotFoundError, "Not found."),
    ]
    for kind, text in messages:
        if isinstance(exc, kind):
            return text
    return exc.message
