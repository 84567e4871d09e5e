"""The account security page: TOTP, backup codes, passkeys and security keys."""

from __future__ import annotations

import base64
import binascii
from typing import cast
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
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
from console.guidance import last_method_warnings, method_rules
from console.i18n import t, tn
from console.pending import PendingEnrollments
from console.reveal import ShownOnce
from console.web import (
    browser_label,
    current_user,
    end_other_sessions,
    explain,
    json_body,
    login_required,
    needs_step_up,
    no_passkey_offer_cookie,
    secure_cookies,
    service,
    trust_cookie,
    user_ref,
)
from mfakit import qr
from mfakit.errors import MfaError, NotFoundError
from mfakit.policy import ComplianceStatus, MethodKind
from mfakit.repositories import MfaStore
from mfakit.service import Advice, BackupCodeSet, MethodRemoval, TotpEnrollment

bp = Blueprint("account", __name__, url_prefix="/account")

#: Where the step-up page (a fresh second factor before a sensitive change) posts.
STEP_UP = {
    "heading": "console.second_factor.step_up.title",
    "intro": "console.second_factor.step_up.intro",
    "code_action": "account.step_up_code",
    "options_action": "account.step_up_options",
    "passkey_action": "account.step_up_passkey",
}


def _me() -> User:
    user = current_user()
    if user is None:  # pragma: no cover - login_required runs first
        abort(401)
    return user


def _pending() -> PendingEnrollments:
    return cast(PendingEnrollments, current_app.extensions["console_pending"])


def _store() -> MfaStore:
    return cast(MfaStore, current_app.extensions["mfa_store"])


def b64url(raw: bytes) -> str:
    """A credential id as it appears in URLs."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _requirements(user: User) -> list[dict[str, object]]:
    """The organizations that require MFA of this user and are still waiting for it."""
    found = []
    for membership in _store().list_user_memberships(user.user_id):
        if membership.status == "removed":
            continue
        status = service().member_compliance(membership.org_id, user.user_id)
        if status.status in (ComplianceStatus.IN_GRACE, ComplianceStatus.OVERDUE):
            org = _store().get_organization(membership.org_id)
            found.append(
                {
                    "org": org.name if org else membership.org_id,
                    "deadline": status.deadline,
                    "overdue": status.status is ComplianceStatus.OVERDUE,
                }
            )
    return found


def _signals(user: User) -> dict[str, list[dict[str, object]]]:
    """What the page tells the user's passkey providers (WebAuthn signals), as JSON.

    Every credential the console accepts for the user and their current names;
    after a deletion, the deleted credential as unknown (once).
    """
    signals = service().passkey_signals(user_ref(user))
    unknown = session.pop("unknown_credential_signal", None)
    return {
        "allAcceptedCredentials": [dict(p) for p in signals.all_accepted_credentials],
        "currentUserDetails": [dict(p) for p in signals.current_user_details],
        "unknownCredentials": [unknown] if isinstance(unknown, dict) else [],
    }


@bp.route("/security")
@login_required
def security() -> str:
    """Everything about the user's second factors."""
    user = _me()
    apps = service().list_totp_devices(user.user_id)
    passkeys = service().list_passkeys(user.user_id)
    codes = service().backup_code_status(user.user_id)
    return render_template(
        "security.html",
        apps=apps,
        max_apps=service().settings.max_totp_devices,
        passkeys=passkeys,
        codes=codes,
        b64url=b64url,
        requirements=_requirements(user),
        methods=len(apps) + len(passkeys),
        browsers=service().list_trusted_browsers(user.user_id),
        this_browser=session.get("trusted_id"),
        signals=_signals(user),
        rules=method_rules(user.user_id),
        warnings=last_method_warnings(
            user.user_id,
            [(a.device_id, MethodKind.TOTP) for a in apps]
            + [(b64url(p.credential_id), p.kind) for p in passkeys],
        ),
    )


def _refused(exc: MfaError) -> Response:
    """Explain a refusal; when a fresh second factor is required, ask for it."""
    if needs_step_up(exc):
        return step_up_redirect(url_for("account.security"))
    flash(explain(exc), "error")
    return redirect(url_for("account.security"))


def _shown_once() -> ShownOnce:
    return cast(ShownOnce, current_app.extensions["console_shown_once"])


def _show_codes(user: User, codes: BackupCodeSet, *, title: str) -> Response:
    """Post/redirect/get: the codes wait (server-side) for the page the redirect opens."""
    _shown_once().keep(user.user_id, title=title, codes=tuple(codes.codes))
    return redirect(url_for("account.backup_codes"))


@bp.route("/backup-codes/new")
@login_required
def backup_codes() -> str | Response:
    """The new backup codes, once: a reload finds them gone and says so."""
    shown = _shown_once().take(_me().user_id)
    if shown is None:
        flash(t("console.flash.codes_shown_once"), "warning")
        return redirect(url_for("account.security", _anchor="backup-codes"))
    text = t("console.backup_codes.file_heading") + "\n" + "\n".join(shown.codes) + "\n"
    return render_template(
        "backup_codes.html",
        codes=shown.codes,
        title=shown.title,
        download=f"data:text/plain;charset=utf-8,{quote(text)}",
    )


@bp.route("/totp/setup", methods=["POST"])
@login_required
def totp_setup() -> str | tuple[str, int] | Response:
    """Start adding a named authenticator app: show the QR code and the key once."""
    user = _me()
    try:
        enrollment = service().begin_totp_enrollment(
            user_ref(user), name=request.form.get("name", t("console.security.totp.default_name"))
        )
    except MfaError as exc:
        return _refused(exc)
    _pending().put(user.user_id, enrollment)
    return _setup_page(enrollment)


def _setup_page(enrollment: TotpEnrollment, *, error: str | None = None) -> str:
    """The set-up page: the QR code (its accessible name in the user's language) and the key."""
    code = qr.render_svg(enrollment.uri, title=t("console.totp_setup.qr_title"))
    return render_template("totp_setup.html", enrollment=enrollment, qr_svg=code, error=error)


@bp.route("/totp/confirm", methods=["POST"])
@login_required
def totp_confirm() -> str | tuple[str, int] | Response:
    """Confirm the new TOTP with a code from the app; show the backup codes once."""
    user = _me()
    enrollment = _pending().get(user.user_id)
    if enrollment is None:
        flash(t("console.flash.setup_expired"), "error")
        return redirect(url_for("account.security"))
    if request.form.get("totp_id", enrollment.totp_id) != enrollment.totp_id:
        # This page's key was replaced by a set-up started later (another tab):
        # its code cannot match, so say so rather than "not valid".
        flash(t("console.flash.setup_replaced"), "error")
        return redirect(url_for("account.security"))
    try:
        activation = service().confirm_totp(
            user.user_id, enrollment.totp_id, request.form.get("code", "")
        )
    except MfaError as exc:
        return _setup_page(enrollment, error=explain(exc)), 400
    _pending().drop(user.user_id)
    end_other_sessions(user)
    session.pop("enrollment_only", None)
    session.pop("enroll_by", None)
    if Advice.ADD_SECOND_METHOD in activation.advice:
        flash(t("console.flash.add_second_method"), "info")
    first = len(service().list_totp_devices(user.user_id)) == 1
    # Kept with the codes for their page, in this request's language.
    title = (
        t("console.backup_codes.title.first")
        if first
        else t("console.backup_codes.title.added", name=activation.device.name)
    )
    return _show_codes(user, activation.backup_codes, title=title)


@bp.route("/totp/<device>/rename", methods=["POST"])
@login_required
def totp_rename(device: str) -> Response:
    """Rename one authenticator app (names are unique per user)."""
    user = _me()
    try:
        renamed = service().rename_totp_device(user.user_id, device, request.form.get("name", ""))
    except MfaError as exc:
        flash(explain(exc), "error")
        return redirect(url_for("account.security"))
    flash(t("console.flash.renamed", name=renamed.name), "info")
    return redirect(url_for("account.security"))


@bp.route("/totp/<device>/delete", methods=["POST"])
@login_required
def totp_delete(device: str) -> Response:
    """Delete one authenticator app after the typed confirmation DELETE."""
    user = _me()
    try:
        removal = service().delete_totp_device(
            user.user_id, device, confirmation=request.form.get("confirmation", "")
        )
    except MfaError as exc:
        return _refused(exc)
    end_other_sessions(user)
    _say_deleted(removal, "console.flash.app_deleted", "console.flash.app_deleted.deadline")
    return redirect(url_for("account.security"))


def _say_deleted(removal: MethodRemoval, done: str, deadline: str, *, warn: bool = True) -> None:
    """The notice after a deletion: ``done``, or ``deadline`` when an organization sets one."""
    if removal.deadline is None:
        flash(t(done, name=removal.label), "info")
        return
    when = f"{removal.deadline:%Y-%m-%d %H:%M} UTC"
    flash(t(deadline, name=removal.label, deadline=when), "warning" if warn else "info")


@bp.route("/backup-codes", methods=["POST"])
@login_required
def regenerate_codes() -> Response:
    """Replace the backup codes with a new set (the old ones stop working)."""
    user = _me()
    try:
        codes = service().regenerate_backup_codes(user.user_id)
    except MfaError as exc:
        return _refused(exc)
    end_other_sessions(user)
    return _show_codes(user, codes, title=t("console.backup_codes.title.new"))


@bp.route("/passkeys/options", methods=["POST"])
@login_required
def passkey_options() -> Response | tuple[Response, int]:
    """Start adding a named passkey or security key: the creation options for the browser."""
    user = _me()
    body = json_body()
    kind = "security_key" if body.get("kind") == "security_key" else "passkey"
    try:
        registration = service().begin_passkey_registration(
            user_ref(user), name=str(body.get("name", "")), kind=kind
        )
    except MfaError as exc:
        if needs_step_up(exc):
            # The page sends the browser to the step-up page, which comes back here.
            session["step_up_next"] = url_for("account.security")
            return jsonify(error=explain(exc), step_up=url_for("account.step_up")), 403
        return jsonify(error=explain(exc)), 400
    return jsonify(challenge_id=registration.challenge_id, options=registration.options)


@bp.route("/passkeys", methods=["POST"])
@login_required
def passkey_register() -> Response | tuple[Response, int]:
    """Verify and store the browser's new credential."""
    user = _me()
    body = json_body()
    try:
        passkey = service().finish_passkey_registration(
            user.user_id, str(body.get("challenge_id", "")), body.get("credential")
        )
    except MfaError as exc:
        return jsonify(error=explain(exc)), 400
    end_other_sessions(user)
    session.pop("enrollment_only", None)
    session.pop("passkey_offer", None)
    added = (
        "console.flash.passkey_added"
        if passkey.kind.value == "passkey"
        else "console.flash.security_key_added"
    )
    flash(t(added, name=passkey.name), "info")
    return jsonify(redirect=url_for("account.security"))


# -- the passkey offered after a password sign-in ------------------------------------


def _offer_name(user: User) -> str:
    """A name for the offered passkey: the browser's, numbered if the user already uses it."""
    taken = {p.name.casefold() for p in service().list_passkeys(user.user_id)}
    base = t("console.passkey_offer.name", browser=browser_label())
    number = 1
    name = base
    while name.casefold() in taken:
        number += 1
        name = t("console.passkey_offer.name.numbered", name=base, number=number)
    return name


@bp.route("/passkeys/upgrade", methods=["POST"])
@login_required
def passkey_upgrade() -> Response | tuple[Response, int]:
    """Start the offered passkey: a conditional create the browser may complete quietly.

    The service checks the organizations' policies: a refusal (a member who may
    not use passkeys, say) ends the offer for this session.
    """
    user = _me()
    if not session.get("passkey_offer"):
        return jsonify(error=t("console.error.no_offer")), 404
    name = _offer_name(user)
    try:
        registration = service().begin_passkey_registration(
            user_ref(user), name=name, kind="passkey", mediation="conditional"
        )
    except MfaError as exc:
        session.pop("passkey_offer", None)
        return jsonify(error=explain(exc)), 403
    return jsonify(challenge_id=registration.challenge_id, options=registration.options, name=name)


@bp.route("/passkeys/upgrade/dismiss", methods=["POST"])
@login_required
def passkey_upgrade_dismiss() -> Response:
    """Decline the offered passkey: this browser does not offer it to the user again."""
    user = _me()
    session.pop("passkey_offer", None)
    response = jsonify(dismissed=True)
    response.set_cookie(
        no_passkey_offer_cookie(user.user_id),
        "1",
        max_age=365 * 24 * 3600,
        path="/",
        secure=secure_cookies(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _credential_id(encoded: str) -> bytes:
    """The credential id in a URL.

    Raises:
        NotFoundError: not base64url (so no credential of the user's).
    """
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise NotFoundError from None


@bp.route("/passkeys/<credential>/rename", methods=["POST"])
@login_required
def passkey_rename(credential: str) -> Response:
    """Rename one passkey (names are unique per user)."""
    user = _me()
    try:
        renamed = service().rename_passkey(
            user.user_id, _credential_id(credential), request.form.get("name", "")
        )
    except MfaError as exc:
        flash(explain(exc), "error")
        return redirect(url_for("account.security"))
    flash(t("console.flash.renamed", name=renamed.name), "info")
    return redirect(url_for("account.security"))


@bp.route("/passkeys/<credential>/delete", methods=["POST"])
@login_required
def passkey_delete(credential: str) -> Response:
    """Delete one passkey after the typed confirmation DELETE."""
    user = _me()
    try:
        removal = service().delete_passkey(
            user.user_id,
            _credential_id(credential),
            confirmation=request.form.get("confirmation", ""),
        )
    except MfaError as exc:
        return _refused(exc)
    end_other_sessions(user)
    if removal.unknown_credential_signal is not None:
        # The next page tells the passkey provider to stop offering it.
        session["unknown_credential_signal"] = dict(removal.unknown_credential_signal)
    _say_deleted(
        removal,
        "console.flash.passkey_deleted",
        "console.flash.passkey_deleted.deadline",
        warn=False,
    )
    return redirect(url_for("account.security"))


@bp.route("/passkeys/<credential>/passwordless", methods=["POST"])
@login_required
def passkey_passwordless(credential: str) -> Response:
    """Allow or refuse one passkey to sign in without a password (a fresh factor first)."""
    user = _me()
    allowed = request.form.get("allowed") == "1"
    try:
        changed = service().set_passkey_passwordless(
            user.user_id, _credential_id(credential), allowed
        )
    except MfaError as exc:
        return _refused(exc)
    if changed.passwordless:
        flash(t("console.flash.passwordless_on", name=changed.name), "info")
    else:
        flash(t("console.flash.passwordless_off", name=changed.name), "info")
    return redirect(url_for("account.security"))


# -- trusted browsers -------------------------------------------------------------------


def _forget_this_browser(response: Response, user: User) -> Response:
    """Drop this browser's trusted-browser cookie (after its trust was revoked)."""
    session.pop("trusted_id", None)
    response.delete_cookie(
        trust_cookie(user.user_id), path="/", secure=secure_cookies(), samesite="Lax"
    )
    return response


@bp.route("/trusted-browsers/<token_id>/revoke", methods=["POST"])
@login_required
def revoke_browser(token_id: str) -> Response:
    """Stop trusting one browser: it asks for a second factor at its next sign-in."""
    user = _me()
    revoked = service().revoke_trusted_browser(user.user_id, token_id)
    flash(t("console.flash.browser_revoked" if revoked else "console.flash.not_found"), "info")
    response = redirect(url_for("account.security"))
    if revoked and token_id == session.get("trusted_id"):
        return _forget_this_browser(response, user)
    return response


@bp.route("/trusted-browsers/revoke", methods=["POST"])
@login_required
def revoke_browsers() -> Response:
    """Stop trusting every browser of the user."""
    user = _me()
    count = service().revoke_trusted_browsers(user.user_id)
    flash(tn("console.flash.browsers_revoked", count), "info")
    return _forget_this_browser(redirect(url_for("account.security")), user)


# -- step-up: a fresh second factor before a sensitive change --------------------------


def _methods(user: User) -> set[str]:
    return {m.value for m in service().begin_second_factor(user.user_id).methods}


def step_up_redirect(back_to: str) -> Response:
    """Send the user to the step-up page; they come back to ``back_to`` afterwards."""
    flash(t("console.flash.step_up"), "warning")
    session["step_up_next"] = back_to
    return redirect(url_for("account.step_up"))


def _after_step_up() -> Response:
    flash(t("console.flash.verified"), "info")
    target = session.pop("step_up_next", None)
    # Only paths this application wrote into the session (never a user-supplied URL).
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        target = url_for("account.security")
    return redirect(target)


@bp.route("/verify")
@login_required
def step_up() -> str | Response:
    """Ask the signed-in user for a second factor again."""
    user = _me()
    try:
        methods = _methods(user)
    except MfaError as exc:
        flash(explain(exc), "error")
        return redirect(url_for("account.security"))
    return render_template("second_factor.html", methods=methods, **STEP_UP)


@bp.route("/verify/code", methods=["POST"])
@login_required
def step_up_code() -> Response | tuple[str, int]:
    """Check a TOTP or backup code for the step-up."""
    user = _me()
    kind = request.form.get("kind")
    code = request.form.get("code", "")
    try:
        if kind == "backup":
            service().verify_backup_code(user.user_id, code)
        else:
            service().verify_totp(user.user_id, code)
    except MfaError as exc:
        return render_template(
            "second_factor.html",
            methods=_methods(user),
            error=explain(exc, factor=kind or "totp"),
            tab=kind,
            **STEP_UP,
        ), 400
    return _after_step_up()


@bp.route("/verify/passkey/options", methods=["POST"])
@login_required
def step_up_options() -> Response | tuple[Response, int]:
    """A fresh WebAuthn challenge for the step-up."""
    try:
        challenge = service().begin_second_factor(_me().user_id)
    except MfaError as exc:
        return jsonify(error=explain(exc)), 403
    if challenge.webauthn_options is None:
        return jsonify(error=t("console.error.no_passkey")), 400
    return jsonify(challenge_id=challenge.challenge_id, options=challenge.webauthn_options)


@bp.route("/verify/passkey", methods=["POST"])
@login_required
def step_up_passkey() -> Response | tuple[Response, int]:
    """Check a passkey assertion for the step-up."""
    body = json_body()
    try:
        service().verify_passkey(
            _me().user_id, str(body.get("challenge_id", "")), body.get("credential")
        )
    except MfaError as exc:
        return jsonify(error=explain(exc)), 400
    return jsonify(redirect=_after_step_up().location)
