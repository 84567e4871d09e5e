"""Signing up and in: password + second factor, and an organization member's e-mailed code."""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from datetime import datetime
from typing import Any, cast
from urllib.parse import unquote, urlsplit

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
from console.guidance import lockouts
from console.i18n import current_locale, t, tn
from console.sessions import rotate
from console.throttle import email_key, member_key
from console.web import (
    accounts,
    browser_label,
    current_user,
    explain,
    json_body,
    no_passkey_offer_cookie,
    password_throttle,
    secure_cookies,
    service,
    sign_in,
    store,
    trust_cookie,
)
from mfakit.errors import (
    MfaError,
    NotFoundError,
    PolicyDeniedError,
    ThrottledError,
    UnknownCredentialError,
)
from mfakit.policy import ComplianceStatus, MethodKind, reference_console
from mfakit.repositories import MfaStore
from mfakit.service import Advice, SecondFactorResult, TrustedBrowserToken

bp = Blueprint("auth", __name__)

#: Where the second-factor page of sign-in sends its answers.
LOGIN = {
    "heading": "console.second_factor.sign_in.title",
    "intro": "console.second_factor.sign_in.intro",
    "code_action": "auth.verify_code",
    "options_action": "auth.passkey_options",
    "passkey_action": "auth.verify_passkey",
}

#: The shortest password and the longest name the sign-up accepts.
MIN_PASSWORD = 10
_MAX_NAME = 80
#: The policy of the organizations the console creates: the reference console's
#: rules, and browsers may be trusted for 30 days.
CONSOLE_POLICY = dataclasses.replace(reference_console(), trusted_browser_days=30)


def _store() -> MfaStore:
    return cast(MfaStore, current_app.extensions["mfa_store"])


def _passwords() -> PasswordHasher:
    return cast(PasswordHasher, current_app.extensions["console_passwords"])


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the account security page.

    An open redirect would let a phishing link borrow the console's name, and
    browsers forgive a lot: they drop tabs and newlines from URLs, read ``\\``
    as ``/``, and ``/%09/evil.example`` or ``/.//evil.example`` can end up as
    another host. So the path must parse with no scheme and no host, start
    with exactly one ``/``, hold no control character or whitespace (after
    percent-decoding), and have no empty or dot segment (nothing that
    resolves to ``//``).
    """
    if target and _local_path(target):
        return target
    return url_for("account.security")


def _local_path(target: str) -> bool:
    decoded = unquote(target)
    for text in (target, decoded):
        if "\\" in text or any(c.isspace() or unicodedata.category(c)[0] == "C" for c in text):
            return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return False
    raw = target.split("?", 1)[0].split("#", 1)[0]
    for path in (raw, unquote(raw)):
        # No empty and no dot segment: nothing that resolves to "//" (another host).
        if "//" in path or any(s in (".", "..") for s in path.split("/")):
            return False
    return True


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


def _trust(user: User, org_id: str | None, *, asked: bool) -> TrustedBrowserToken | None:
    """Trust this browser when the user asked to, right after their second factor."""
    if not asked:
        return None
    try:
        return service().trust_browser(user.user_id, label=browser_label(), org_id=org_id)
    except MfaError as exc:
        flash(t("console.flash.trust_failed", reason=explain(exc)), "warning")
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
    offer_passkey: bool | None = None,
) -> Response:
    """Open the session once every factor passed; say what the organization requires.

    ``trusted`` is a browser trusted just now (its cookie is set); ``trusted_id``
    the trusted browser this sign-in came from. ``offer_passkey``: the pages
    offer to create a passkey (after a password); ``None``: as the pending
    sign-in says.
    """
    enrollment_only = bool(getattr(result, "enrollment_only", False))
    obligations = getattr(result, "obligations", ())
    # Read before sign_in(), which starts a fresh session.
    target = _safe_next(session.get("next") or request.args.get("next"))
    if offer_passkey is None:
        pending = session.get("pending")
        offer_passkey = isinstance(pending, dict) and pending.get("offer_passkey") is True
    sign_in(
        user,
        org_id=org_id,
        enroll_by=_deadline_text(result) if obligations else None,
        enrollment_only=enrollment_only,
    )
    if offer_passkey:
        session["passkey_offer"] = True
    browser_id = trusted.token_id if trusted is not None else trusted_id
    if browser_id is not None:
        session["trusted_id"] = browser_id
    if trusted is not None:
        flash(t("console.flash.trusted_until", date=f"{trusted.expires_at:%Y-%m-%d}"), "info")
    if trusted_id is not None:
        flash(t("console.flash.trusted_sign_in"), "info")
    if getattr(result, "first_login", False):
        flash(t("console.flash.first_sign_in"), "info")
    advice = getattr(result, "advice", ())
    remaining = getattr(result, "backup_codes_remaining", None)
    if remaining is not None:
        flash(tn("console.flash.backup_code_used", remaining), "info")
    if Advice.BACKUP_CODES_LOW in advice:
        flash(t("console.flash.backup_codes_low"), "warning")
    if enrollment_only:
        flash(t("console.flash.enrollment_only"), "warning")
    if obligations:
        # Enrolment is due (after an unlock, say): straight to the set-up, not elsewhere.
        target = url_for("account.security", _anchor="set-up")
    response = redirect(target)
    if trusted is not None:
        _set_trust_cookie(response, user, trusted)
    return response


def _second_factor(
    user: User, org_id: str | None, result: Any = None, *, offer_passkey: bool = False
) -> Response | str:
    """After the first factor: a trusted browser signs in, else ask for a second factor."""
    try:
        return _second_step(user, org_id, result, offer_passkey=offer_passkey)
    except PolicyDeniedError as exc:
        page = render_template(
            "login.html", error=explain(exc), lockouts=lockouts(user.user_id, org_id, exc)
        )
        return page, 403  # type: ignore[return-value]


def _second_step(
    user: User,
    org_id: str | None,
    result: Any,
    *,
    offer_passkey: bool = False,
    first_factor: bytes | None = None,
) -> Response:
    """Sign in on a trusted browser or without a second factor, else go to the second step.

    Raises:
        PolicyDeniedError: an organization refuses the sign-in.
    """
    cookie = trust_cookie(user.user_id)
    token = request.cookies.get(cookie)
    check = token and service().check_trusted_browser(user.user_id, token, org_id=org_id)
    if check:
        return _finish(check, user, org_id, trusted_id=check.token_id, offer_passkey=offer_passkey)
    # After a passkey sign-in, that passkey cannot be the second factor too.
    challenge = service().begin_second_factor(
        user.user_id, org_id=org_id, first_factor_credential=first_factor
    )
    if not challenge.methods:
        return _finish(result, user, org_id, offer_passkey=offer_passkey)
    target = request.args.get("next")
    rotate()  # a new session id once the password is checked
    session["pending"] = {
        "uid": user.user_id,
        "org": org_id,
        "methods": [m.value for m in challenge.methods],
        "trust_days": service().trusted_browser_days(user.user_id, org_id=org_id),
        "offer_passkey": offer_passkey,
        "first_factor": None if first_factor is None else first_factor.hex(),
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
        return render_template("signup.html", min_password=MIN_PASSWORD)
    email = request.form.get("email", "").strip()
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    problems = []
    if "@" not in email or len(email) > 254:
        problems.append(t("console.signup.error.email"))
    if not name or len(name) > _MAX_NAME:
        problems.append(tn("console.signup.error.name", _MAX_NAME))
    if len(password) < MIN_PASSWORD:
        problems.append(tn("console.signup.error.password", MIN_PASSWORD))
    user = None
    if not problems:
        user = accounts().create_user(
            email=email,
            name=name,
            password_hash=_passwords().hash(password),
            locale=current_locale(),
        )
        if user is None:
            problems.append(t("console.signup.error.taken"))
    if problems or user is None:
        page = render_template(
            "signup.html", errors=problems, email=email, name=name, min_password=MIN_PASSWORD
        )
        return page, 400
    org_id = "org-" + user.user_id.removeprefix("u-")
    # The organization's name is data: written once, in the owner's language.
    service().create_organization(
        org_id,
        name=t("console.signup.org_name", name=name),
        owner_id=user.user_id,
        policy=CONSOLE_POLICY,
    )
    sign_in(user)
    flash(t("console.flash.welcome"), "info")
    # From an invitation link (signed out): back to the invitation, not to a new e-mail.
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """First factor: e-mail and password."""
    if request.method == "GET":
        return render_template("login.html")
    email = request.form.get("email", "").strip()
    key = email_key(email)
    try:
        # Counted before the check, known address or not (the same answers for both).
        password_throttle().charge(key)
    except ThrottledError as exc:
        return render_template("login.html", error=explain(exc), email=email), 429
    user = accounts().user_by_email(email)
    if not _check_password(user, request.form.get("password", "")) or user is None:
        error = t("console.login.error.wrong")
        return render_template("login.html", error=error, email=email), 401
    password_throttle().reset(key)
    return _second_factor(user, None, offer_passkey=_offers_passkey(user))


def _offers_passkey(user: User) -> bool:
    """After a password: offer a passkey unless the user has one or declined the offer.

    Whether their organizations allow one is asked when the page starts the offer.
    """
    if request.cookies.get(no_passkey_offer_cookie(user.user_id)):
        return False
    return all(p.kind is not MethodKind.PASSKEY for p in service().list_passkeys(user.user_id))


def _json_redirect(response: Response) -> Response:
    """A redirect as the page's script takes it: the target in JSON, the cookies kept."""
    answer = jsonify(redirect=response.location)
    for cookie in response.headers.getlist("Set-Cookie"):
        answer.headers.add("Set-Cookie", cookie)
    return answer


#: A passkey sign-in that an organization does not count as MFA, by a user with no other method.
PASSKEY_NOT_ENOUGH = "console.error.passkey_not_enough"


@bp.route("/login/passkey/options", methods=["POST"])
def passkey_sign_in_options() -> Response | tuple[Response, int]:
    """A fresh challenge for a passkey sign-in without a username (autofill or the button)."""
    mediation = json_body().get("mediation", "optional")
    if mediation not in ("conditional", "optional"):
        return jsonify(error=t("console.error.bad_request")), 400
    started = service().begin_passkey_sign_in(mediation=mediation)
    return jsonify(
        challenge_id=started.challenge_id, options=started.options, mediation=started.mediation
    )


@bp.route("/login/passkey", methods=["POST"])
def passkey_sign_in() -> Response | tuple[Response, int]:
    """Sign in with the passkey's assertion; its user's second step when a policy wants one."""
    body = json_body()
    try:
        result = service().finish_passkey_sign_in(
            str(body.get("challenge_id", "")), body.get("credential")
        )
        user = accounts().user(result.user_id)
        if user is None:  # pragma: no cover - passkeys are registered by console users
            return jsonify(error=t("console.error.unknown_user")), 400
        if result.second_factor_required:
            step = _second_step(user, None, result, first_factor=result.credential_id)
            return _json_redirect(step)
    except NotFoundError:
        # The passkey was the user's only method, and it cannot be both factors.
        return jsonify(error=t(PASSKEY_NOT_ENOUGH)), 403
    except UnknownCredentialError as exc:
        # The page tells the passkey provider to stop offering this credential.
        return jsonify(error=explain(exc), signal=dict(exc.signal_options)), 400
    except MfaError as exc:
        return jsonify(error=explain(exc)), 400
    return _json_redirect(_finish(result, user, None, offer_passkey=False))


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
            error=explain(exc, factor=kind or "totp"),
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
        return jsonify(error=t("console.error.sign_in_again")), 401
    user, org_id = found
    used = session["pending"].get("first_factor")
    try:
        challenge = service().begin_second_factor(
            user.user_id,
            org_id=org_id,
            first_factor_credential=None if used is None else bytes.fromhex(used),
        )
    except MfaError as exc:
        return jsonify(error=explain(exc)), 403
    if challenge.webauthn_options is None:
        return jsonify(error=t("console.error.no_passkey")), 400
    return jsonify(challenge_id=challenge.challenge_id, options=challenge.webauthn_options)


@bp.route("/login/verify/passkey", methods=["POST"])
def verify_passkey() -> Response | tuple[Response, int]:
    """Check the browser's passkey assertion."""
    found = _pending_user()
    if found is None:
        return jsonify(error=t("console.error.sign_in_again")), 401
    user, org_id = found
    body = json_body()
    try:
        result = service().verify_passkey(
            user.user_id, str(body.get("challenge_id", "")), body.get("credential"), org_id=org_id
        )
    except MfaError as exc:
        return jsonify(error=explain(exc)), 400
    trusted = _trust(user, org_id, asked=body.get("trust") is True)
    return _json_redirect(_finish(result, user, org_id, trusted=trusted))


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out: the session ends on the server (a saved copy of the cookie no longer works)."""
    rotate()
    flash(t("console.flash.signed_out"), "info")
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
        error = t("console.member_login.error.no_id")
        return render_template("member_login.html", step="org", error=error), 400
    if not username:
        return render_template("member_login.html", step="username", org_id=org_id)
    if request.form.get("method") == "password":
        # Asked of every username alike: nothing is looked up before the password.
        return render_template(
            "member_login.html", step="password", org_id=org_id, username=username
        )
    try:
        requested = service().send_login_code(org_id, username)
    except MfaError as exc:
        # A throttle here is the resend cool-down: nobody typed anything wrong.
        error = (
            tn("console.member_login.error.resend_wait", max(1, math.ceil(exc.retry_after)))
            if isinstance(exc, ThrottledError)
            else explain(exc)
        )
        return render_template(
            "member_login.html", step="code", org_id=org_id, username=username, error=error
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
        member = _store().get_membership_by_username(org_id, username) if org_id else None
        locked = [] if member is None else lockouts(member.user_id, org_id, exc)
        if locked:
            # The code was right, but the organization keeps the member out: say who can help.
            return render_template(
                "member_login.html", step="locked", error=explain(exc), lockouts=locked
            ), 403
        return render_template(
            "member_login.html", step="code", org_id=org_id, username=username, error=explain(exc)
        ), 400
    user = accounts().user(result.user_id)
    if user is None:  # pragma: no cover - members are created with a console user
        error = t("console.member_login.error.unknown")
        return render_template("member_login.html", step="org", error=error), 400
    if result.second_factor:
        return _second_factor(user, org_id, result)
    return _finish(result, user, org_id)


#: The one answer to a wrong password, an unknown username or a member without a password.
_MEMBER_REFUSAL = "console.member_login.error.wrong"


@bp.route("/login/member/password", methods=["POST"])
def member_password() -> Response | str | tuple[str, int]:
    """Step 3 with a password the member set on their security page.

    An unknown username, a member without a password and a wrong password get
    the same page, message and status, after the same work: the attempt is
    counted, the member is looked up, one Argon2 check runs (against a hash of
    a random password when there is nothing to check).
    """
    org_id = request.form.get("org_id", "").strip()
    username = request.form.get("username", "").strip()
    page = {"step": "password", "org_id": org_id, "username": username}
    if not org_id or not username or len(org_id) > 256 or len(username) > 256:
        return render_template("member_login.html", error=t(_MEMBER_REFUSAL), **page), 401
    key = member_key(org_id, username)
    try:
        password_throttle().charge(key)
    except ThrottledError as exc:
        return render_template("member_login.html", error=explain(exc), **page), 429
    user = _check_member_password(org_id, username, request.form.get("password", ""))
    if user is None:
        return render_template("member_login.html", error=t(_MEMBER_REFUSAL), **page), 401
    password_throttle().reset(key)
    try:
        return _second_step(user, org_id, _member_requirements(org_id, user))
    except PolicyDeniedError as exc:
        # Refused like the e-mailed code: a locked member is told whom to ask, on this page.
        locked = lockouts(user.user_id, org_id, exc)
        step = {"step": "locked", "lockouts": locked} if locked else page
        return render_template("member_login.html", error=explain(exc), **step), 403


def _check_member_password(org_id: str, username: str, password: str) -> User | None:
    """The member whose password this is, or ``None`` (one Argon2 check either way)."""
    membership = store().get_membership_by_username(org_id, username)
    member = membership is not None and membership.status != "removed"
    user_id = membership.user_id if membership is not None and member else ""
    encoded = accounts().member_password_hash(user_id)
    dummy = cast(str, current_app.extensions["console_dummy_hash"])
    hasher = _passwords()
    try:
        hasher.verify(encoded or dummy, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if encoded is None:
        return None
    if hasher.check_needs_rehash(encoded):
        accounts().set_member_password_hash(user_id, hasher.hash(password))
    return accounts().user(user_id)


@dataclasses.dataclass(frozen=True, slots=True)
class _MemberRequirements:
    """What the organization asks of a member who signs in with no second factor."""

    obligations: tuple[str, ...]
    deadline: datetime | None
    enrollment_only: bool


def _member_requirements(org_id: str, user: User) -> _MemberRequirements:
    """As the e-mailed code's result says it: enroll by a deadline, or only enroll (overdue).

    Only used when the member has no second factor (otherwise the second step
    decides); a locked or removed member was refused by the service before.
    """
    status = service().member_compliance(org_id, user.user_id)
    due = status.status in (ComplianceStatus.IN_GRACE, ComplianceStatus.OVERDUE)
    return _MemberRequirements(
        obligations=("enroll_by",) if due and status.deadline is not None else (),
        deadline=status.deadline,
        enrollment_only=status.status is ComplianceStatus.OVERDUE,
    )
