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
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.security import safe_join

from mfakit import static
from mfakit.errors import (
    InvalidCodeError,
    MfaError,
    PolicyDeniedError,
    ReplayedCodeError,
    StepUpRequiredError,
)
from mfakit.i18n import user_message
from mfakit.policy import ObligationKind
from mfakit.repositories import MfaStore
from mfakit.service import MfaService, UserRef

from . import sessions
from .data import Accounts, User
from .i18n import CATALOG, current_locale, t
from .mailer import OutboxMailer
from .throttle import PasswordThrottle
from .wording import ROLE_WORDS, STATUSES, refusal_text

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
    """Start a fresh session for ``user``: a new id, a new CSRF token, nothing carried over.

    The user's language is remembered (the one this browser asks for): their
    e-mails are written in it.
    """
    sessions.rotate()
    accounts().set_locale(user.user_id, current_locale())
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


class FormExpired(BadRequest):
    """A POST without this session's CSRF token (its page says the form expired)."""


def _check_csrf() -> None:
    if request.method != "POST":
        return
    expected = session.get("csrf")
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), given.encode()):
        raise FormExpired


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
    # Pages are in the language the browser asks for.
    response.vary.add("Accept-Language")
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


#: The message ids of the heading and text of each error page.
_ERRORS = {
    400: ("console.error.400.title", "console.error.400.text"),
    403: ("console.error.403.title", "console.error.403.text"),
    404: ("console.error.404.title", "console.error.404.text"),
    405: ("console.error.405.title", "console.error.405.text"),
    413: ("console.error.413.title", "console.error.413.text"),
    500: ("console.error.500.title", "console.error.500.text"),
}
_FORM_EXPIRED = ("console.error.form_expired.title", "console.error.form_expired.text")


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
    # Any other error reads as the nearest known one: a request error or a server error.
    ids = _ERRORS.get(code) or _ERRORS[400 if code < 500 else 500]
    title, text = (t(i) for i in (_FORM_EXPIRED if isinstance(exc, FormExpired) else ids))
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error=text), code
    endpoint = request.url_rule.endpoint if request.url_rule is not None else None
    start = _step_start(endpoint, dict(request.view_args or {}))
    back, label = (
        (start, t("console.error.back"))
        if start
        else (url_for("auth.index"), t("console.error.home"))
    )
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


#: The messages of console.js, by the key the script reads them with: one per error
#: code of mfakit's browser module (``ceremony_<code>``), then the script's own.
SCRIPT_TEXTS = {
    "ceremony_aborted": "console.script.ceremony.aborted",
    "ceremony_already_registered": "console.script.ceremony.already_registered",
    "ceremony_cancelled": "console.script.ceremony.cancelled",
    "ceremony_constraint": "console.script.ceremony.constraint",
    "ceremony_insecure_context_or_bad_rp_id": "console.script.ceremony.insecure_context",
    "ceremony_not_supported": "console.script.ceremony.not_supported",
    "ceremony_timed_out": "console.script.ceremony.timed_out",
    "copied": "console.script.copied",
    "copy_failed": "console.script.copy_failed",
    "error": "console.script.error",
    "failed": "console.script.failed",
    "signing_in": "console.script.signing_in",
    "waiting": "console.script.waiting",
}


def script_texts() -> dict[str, str]:
    """console.js's messages in this request's language (the page embeds them as JSON)."""
    return {key: t(message_id) for key, message_id in SCRIPT_TEXTS.items()}


def install(app: Flask) -> None:
    """Register the hooks every request goes through, the error pages and a few routes."""
    app.before_request(_canonical_host)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.add_url_rule(MODULE_URL, "mfakit_webauthn_js", mfakit_webauthn_js)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.view_functions["static"] = static_file
    app.register_error_handler(HTTPException, _error_page)
    app.jinja_env.globals.update(
        csrf_token=csrf_token,
        current_user=current_user,
        script_texts=script_texts,
        # Message ids of roles and compliance statuses, for the pages.
        roles=ROLE_WORDS,
        statuses=STATUSES,
    )


def json_body() -> dict[str, Any]:
    """The JSON object a page's script posted; anything else ends the request with a 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        refusal = jsonify(error=t("console.error.bad_request"))
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
    """A short name for the browser, from its User-Agent (names trusted browsers and passkeys).

    Stored with the trusted browser or the passkey, in the language of the
    sign-in that named it.
    """
    agent = request.headers.get("User-Agent", "")
    browser = next((name for key, name in _BROWSERS if key in agent), None)
    system = next((name for key, name in _SYSTEMS if key in agent), None)
    if browser is None:
        return t("console.browser.unknown")
    return t("console.browser.on", browser=browser, system=system) if system else browser


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
    """A message for the user about a refused action, in their language (never a secret).

    mfakit's :func:`~mfakit.i18n.user_message` words it, from the console's
    catalog (which rewords a few of mfakit's texts); a policy refusal also
    names the methods that would count. ``factor`` is the kind of code the
    user typed (``"totp"``), when one was.
    """
    if isinstance(exc, ReplayedCodeError) and factor == "totp":
        # The app still shows the code it just accepted: the next one is fresh.
        return t("console.error.totp_replayed")
    if type(exc) is InvalidCodeError:
        # The console does not count down the tries left.
        return t("error.invalid_code")
    if isinstance(exc, PolicyDeniedError):
        return refusal_text(exc, exc.decision)
    return user_message(exc, locale=current_locale(), catalog=CATALOG)
