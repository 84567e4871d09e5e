"""An organization member's password: set on the security page, used at the member sign-in.

A member created by an owner signs in with the organization ID, a username
and an e-mailed code. Once signed in, they may set a password (hashed with
Argon2id by argon2-cffi) and choose *Enter password* instead of *Send code*
next time. The password only works at the member sign-in, with the
organization ID and username; never with the e-mail address.
"""

from __future__ import annotations

from typing import Any, cast

from argon2 import PasswordHasher
from flask import Blueprint, current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from console.data import User
from console.i18n import t, tn
from console.views.account import step_up_redirect
from console.web import (
    accounts,
    current_user,
    end_other_sessions,
    explain,
    login_required,
    service,
    store,
)
from mfakit.errors import MfaError, StepUpRequiredError

bp = Blueprint("member_password", __name__)

MIN_PASSWORD = 10


def _member_logins(user: User) -> list[dict[str, str]]:
    """Where the user signs in as an organization member: organization and username."""
    return [
        {"org_id": m.membership.org_id, "org_name": m.organization.name, "username": username}
        for m in store().list_user_memberships_with_orgs(user.user_id)
        if (username := m.membership.username) and m.membership.status != "removed"
    ]


@bp.app_context_processor
def _security_card() -> dict[str, Any]:
    """What the security page's *Member password* card shows (nothing on other pages)."""
    user = current_user()
    if request.endpoint != "account.security" or user is None:
        return {}
    return {
        "member_logins": _member_logins(user),
        "member_password_set": accounts().member_password_hash(user.user_id) is not None,
        "member_password_min": MIN_PASSWORD,
    }


@bp.route("/account/member-password", methods=["POST"])
@login_required
def set_member_password() -> Response | tuple[str, int]:
    """Set or change the member's password (a recent second factor first, if they have one)."""
    user = cast(User, current_user())
    back = url_for("account.security")
    if not _member_logins(user):
        flash(t("console.flash.member_password.not_member"), "error")
        return redirect(back)
    password = request.form.get("password", "")
    if len(password) < MIN_PASSWORD:
        flash(tn("console.signup.error.password", MIN_PASSWORD), "error")
        return redirect(back)
    if password != request.form.get("confirm", ""):
        flash(t("console.flash.member_password.differ"), "error")
        return redirect(back)
    try:
        service().require_recent_second_factor(user.user_id, "member_password.set")
    except StepUpRequiredError as exc:
        if exc.factors:
            return step_up_redirect(back)
        # No second factor to ask for: the member just signed in with a code or a password.
    except MfaError as exc:
        flash(explain(exc), "error")
        return redirect(back)
    hasher = cast(PasswordHasher, current_app.extensions["console_passwords"])
    accounts().set_member_password_hash(user.user_id, hasher.hash(password))
    end_other_sessions(user)
    flash(t("console.flash.member_password.set"), "info")
    return redirect(back)
