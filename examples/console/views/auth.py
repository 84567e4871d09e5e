"""Signing up and in: password + second factor, and an organization member's e-mailed code."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from console.data import User
from console.web import (
    accounts,
    current_user,
    explain,
    secure_cookies,
    service,
    sign_in,
    trust_cookie,
)
from mfakit.errors import MfaError, PolicyDeniedError
from mfakit.policy import reference_console
from mfakit.service import Advice, SecondFactorResult, TrustedBrowserToken

bp = Blueprint("auth", __name__)

#: Where the second-factor page of sign-in sends its answers.
LOGIN = {
    "heading": "Verify it's you",
    "intro": "Use one of your second factors to finish signing in.",
    "code_action": "auth.verify_code",
    "options_action": "auth.passkey_options",
    "passkey_action": "auth.verify_passkey",
}

_MIN_PASSWORD = 10
#: The policy of the organizations the console creates: the reference console's
#: rules, and browsers may be trusted for 30 days.
CONSOLE_POLICY = dataclasses.replace(reference_console(), trusted_browser_days=30)


def _passwords() -> PasswordHasher:
    return cast(PasswordHasher, current_app.extensions["console_passwords"])


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our name.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("account.security")


def _check_password(user: User | None, password: str) -> bool:
    hasher = _passwords()
    # An unknown address is checked against a hash of a random password, so that it
    # takes as long to refuse as a wrong password (no account enumeration).
    dummy = cast(str, current_app.extensions["console_dummy_hash"])
    encoded = user.password_hash if user is not None and user.password_hash else dummy
    try:
        hasher.verify(encoded, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if user is None or user.password_hash is None:
        return False
    if hasher.check_needs_rehash(user.password_hash):
        accounts().set_password_hash(user.user_id, hasher.hash(password))
    return True


def _deadline_text(result: Any) -> str | None:
    deadline = getattr(result, "deadline", None)
    return None if deadline is None else deadline.isoformat()


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


def _browser_label() -> str:
    """A short name for the browser, from its User-Agent (shown in the trusted list)."""
    agent = request.headers.get("User-Agent", "")
    browser = next(
        (name for key, name in _BROWSERS if key in agent),
        "A browser",
    )
    system = next((name for key, name in _SYSTEMS if key in agent), None)
    return f"{browser} on {system}" if system else browser


def _trust(user: User, org_id: str | None, *, asked: bool) -> TrustedBrowserToken | None:
    """Trust this browser when the user asked to, right after their second factor."""
    if not asked:
        return None
    try:
        return service().trust_browser(user.user_id, label=_browser_label(), org_id=org_id)
    except MfaError as exc:
        flash(f"This browser could not be trusted: {explain(exc)}", "warning")
        return None


def _set_trust_cookie(response: Response, user: User, trusted: TrustedBrowserToken) -> None:
    """Keep the token in an HttpOnly, SameSite=Lax cookie (Secure on https) until it expires."""
    response.set_cookie(
        trust_cookie(user.user_id),
        trusted.token,
        expires=trusted.expires_at,
        path="/",
        secure=secure_cookies(),
        httponly=True,
        samesite="Lax",
    )


def _finish(
    result: SecondFactorResult | Any,
    user: User,
    org_id: str | None,
    *,
    trusted: TrustedBrowserToken | None = None,
    trusted_id: str | None = None,
) -> Response:
    """Open the session once every factor passed; say what the organization requires.

    ``trusted`` is a browser trusted just now (its cookie is set); ``trusted_id``
    the trusted browser this sign-in came from.
    """
    enrollment_only = bool(getattr(result, "enrollment_only", False))
    obligations = getattr(result, "obligations", ())
    # Read before sign_in(), which starts a fresh session.
    target = _safe_next(session.get("next") or request.args.get("next"))
    sign_in(
        user,
        org_id=org_id,
        enroll_by=_deadline_text(result) if obligations else None,
        enrollment_only=enrollment_only,
    )
    browser_id = trusted.token_id if trusted is not None else trusted_id
    if browser_id is not None:
        session["trusted_id"] = browser_id
    if trusted is not None:
        flash(f"This browser is trusted until {trusted.expires_at:%Y-%m-%d}.", "info")
    if trusted_id is not None:
        flash("Signed in on a trusted browser: no second factor needed.", "info")
    if getattr(result, "first_login", False):
        flash("Welcome! This was your first sign-in.", "info")
    advice = getattr(result, "advice", ())
    remaining = getattr(result, "backup_codes_remaining", None)
    if remaining is not None:
        flash(f"Backup code accepted. {remaining} unused backup codes left.", "info")
    if Advice.BACKUP_CODES_LOW in advice:
        flash("You are running out of backup codes: generate a new set.", "warning")
    if enrollment_only:
        flash("Your organization requires MFA: set up a method to continue.", "warning")
    response = redirect(target)
    if trusted is not None:
        _set_trust_cookie(response, user, trusted)
    return response


def _second_factor(user: User, org_id: str | None, result: Any = None) -> Response | str:
    """After the first factor: a trusted browser signs in, else ask for a second factor."""
    cookie = trust_cookie(user.user_id)
    token = request.cookies.get(cookie)
    try:
        check = token and service().check_trusted_browser(user.user_id, token, org_id=org_id)
        if check:
            return _finish(check, user, org_id, trusted_id=check.token_id)
        challenge = service().begin_second_factor(user.user_id, org_id=org_id)
    except PolicyDeniedError as exc:
        return render_template("login.html", error=explain(exc)), 403  # type: ignore[return-value]
    if not challenge.methods:
        return _finish(result, user, org_id)
    target = request.args.get("next")
    session.clear()
    session["pending"] = {
        "uid": user.user_id,
        "org": org_id,
        "methods": [m.value for m in challenge.methods],
        "trust_days": service().trusted_browser_days(user.user_id, org_id=org_id),
    }
    if target:
        session["next"] = target
    response = redirect(url_for("auth.second_factor"))
    if token:
        # No longer trusted (revoked, expired, factors changed): forget it.
        response.delete_cookie(cookie, path="/", secure=secure_cookies(), samesite="Lax")
    return response


@bp.route("/")
def index() -> Response:
    """The home page: the security page when signed in."""
    if current_user() is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("account.security"))


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Response | str | tuple[str, int]:
    """Create an account (and its organization, which the new user owns)."""
    if request.method == "GET":
        return render_template("signup.html")
    email = request.form.get("email", "").strip()
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    problems = []
    if "@" not in email or len(email) > 254:
        problems.append("Enter a valid e-mail address.")
    if not name or len(name) > 80:
        problems.append("Enter your name (at most 80 characters).")
    if len(password) < _MIN_PASSWORD:
        problems.append(f"Choose a password of at least {_MIN_PASSWORD} characters.")
    user = None
    if not problems:
        user = accounts().create_user(
            email=email, name=name, password_hash=_passwords().hash(password)
        )
        if user is None:
            problems.append("An account with this e-mail address exists. Sign in instead.")
    if problems or user is None:
        return render_template("signup.html", errors=problems, email=email, name=name), 400
    org_id = "org-" + user.user_id.removeprefix("u-")
    service().create_organization(
        org_id, name=f"{name}'s organization", owner_id=user.user_id, policy=CONSOLE_POLICY
    )
    sign_in(user)
    flash("Welcome! Protect your account: set up multi-factor authentication.", "info")
    return redirect(url_for("account.security"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """First factor: e-mail and password."""
    if request.method == "GET":
        return render_template("login.html")
    email = request.form.get("email", "").strip()
    user = accounts().user_by_email(email)
    if not _check_password(user, request.form.get("password", "")) or user is None:
        return render_template("login.html", error="Wrong e-mail or password.", email=email), 401
    return _second_factor(user, None)


@bp.route("/login/verify")
def second_factor() -> Response | str:
    """Second factor: TOTP, passkey or backup code."""
    pending = session.get("pending")
    if not isinstance(pending, dict):
        return redirect(url_for("auth.login"))
    return render_template(
        "second_factor.html",
        methods=set(pending.get("methods", ())),
        trust_days=pending.get("trust_days", 0),
        **LOGIN,
    )


def _pending_user() -> tuple[User, str | None] | None:
    pending = session.get("pending")
    if not isinstance(pending, dict):
        return None
    user = accounts().user(pending.get("uid", ""))
    return None if user is None else (user, pending.get("org"))


@bp.route("/login/verify/code", methods=["POST"])
def verify_code() -> Response | str | tuple[str, int]:
    """Check a TOTP or backup code."""
    found = _pending_user()
    if found is None:
        return redirect(url_for("auth.login"))
    user, org_id = found
    kind = request.form.get("kind")
    code = request.form.get("code", "")
    try:
        if kind == "backup":
            result = service().verify_backup_code(user.user_id, code, org_id=org_id)
        else:
            result = service().verify_totp(user.user_id, code, org_id=org_id)
    except MfaError as exc:
        pending = session["pending"]
        return render_template(
            "second_factor.html",
            methods=set(pending.get("methods", ())),
            trust_days=pending.get("trust_days", 0),
            error=explain(exc),
            tab=kind,
            **LOGIN,
        ), 400
    asked = request.form.get("trust") == "1"
    return _finish(result, user, org_id, trusted=_trust(user, org_id, asked=asked))


@bp.route("/login/verify/passkey/options", methods=["POST"])
def passkey_options() -> Response | tuple[Response, int]:
    """A fresh single-use WebAuthn challenge for this sign-in."""
    found = _pending_user()
    if found is None:
        return jsonify(error="Sign in again."), 401
    user, org_id = found
    try:
        challenge = service().begin_second_factor(user.user_id, org_id=org_id)
    except MfaError as exc:
        return jsonify(error=explain(exc)), 403
    if challenge.webauthn_options is None:
        return jsonify(error="You have no passkey."), 400
    return jsonify(challenge_id=challenge.challenge_id, options=challenge.webauthn_options)


@bp.route("/login/verify/passkey", methods=["POST"])
def verify_passkey() -> Response | tuple[Response, int]:
    """Check the browser's passkey assertion."""
    found = _pending_user()
    if found is None:
        return jsonify(error="Sign in again."), 401
    user, org_id = found
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="Bad request."), 400
    try:
        result = service().verify_passkey(
            user.user_id, str(body.get("challenge_id", "")), body.get("credential"), org_id=org_id
        )
    except MfaError as exc:
        return jsonify(error=explain(exc)), 400
    trusted = _trust(user, org_id, asked=body.get("trust") is True)
    answer = jsonify(redirect=_finish(result, user, org_id, trusted=trusted).location)
    if trusted is not None:
        _set_trust_cookie(answer, user, trusted)
    return answer


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out."""
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


# -- organization members: organization ID, username, then an e-mailed code ----------------


@bp.route("/login/member", methods=["GET", "POST"])
def member_login() -> Response | str | tuple[str, int]:
    """Step 1 and 2: the organization ID, then the username; sends the code."""
    if request.method == "GET":
        return render_template("member_login.html", step="org")
    org_id = request.form.get("org_id", "").strip()
    username = request.form.get("username", "").strip()
    if not org_id:
        return render_template("member_login.html", step="org", error="Enter the ID."), 400
    if not username:
        return render_template("member_login.html", step="username", org_id=org_id)
    try:
        requested = service().send_login_code(org_id, username)
    except MfaError as exc:
        return render_template(
            "member_login.html", step="code", org_id=org_id, username=username, error=explain(exc)
        ), 429
    # The same answer whether or not the member exists: no user enumeration.
    return render_template(
        "member_login.html",
        step="code",
        org_id=org_id,
        username=username,
        sent=True,
        expires_at=requested.expires_at,
    )


@bp.route("/login/member/code", methods=["POST"])
def member_code() -> Response | str | tuple[str, int]:
    """Step 3: the e-mailed code; then the organization's requirements apply."""
    org_id = request.form.get("org_id", "").strip()
    username = request.form.get("username", "").strip()
    code = request.form.get("code", "").strip()
    try:
        result = service().verify_login_code(org_id, username, code)
    except MfaError as exc:
        return render_template(
            "member_login.html", step="code", org_id=org_id, username=username, error=explain(exc)
        ), 400
    user = accounts().user(result.user_id)
    if user is None:  # pragma: no cover - members are created with a console user
        return render_template("member_login.html", step="org", error="Unknown member."), 400
    if result.second_factor:
        return _second_factor(user, org_id, result)
    return _finish(result, user, org_id)
