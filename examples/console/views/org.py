"""The organization page: members and their MFA status, enforcement, reminders, invitations,
and the owner's recovery actions (unlock, reset MFA, remove, exemptions)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from console.data import User
from console.i18n import current_locale, t, tn
from console.views.account import step_up_redirect
from console.web import (
    accounts,
    current_user,
    explain,
    login_required,
    mailer,
    needs_step_up,
    service,
)
from console.wording import ROLE_WORDS, kinds_text
from mfakit.errors import MfaError, PolicyDeniedError, StepUpRequiredError
from mfakit.policy import Decision, MethodKind, PrincipalKind
from mfakit.repositories import Invitation, Membership, MfaStore, Organization
from mfakit.service import decode_policy

bp = Blueprint("org", __name__)


def _store() -> MfaStore:
    return cast(MfaStore, current_app.extensions["mfa_store"])


def _me() -> User:
    user = current_user()
    if user is None:  # pragma: no cover - login_required runs first
        abort(401)
    return user


def _members(org_id: str) -> list[Membership]:
    found: list[Membership] = []
    after: str | None = None
    while True:
        page = _store().list_memberships(org_id, after=after, limit=200)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        after = page.next_cursor


def _invitations(org_id: str) -> list[Invitation]:
    return list(_store().list_invitations(org_id, limit=100).items)


def _load(org_id: str) -> tuple[Organization, Membership]:
    """The organization and the signed-in user's membership (404 for outsiders)."""
    org = _store().get_organization(org_id)
    mine = _store().get_membership(org_id, _me().user_id)
    if org is None or mine is None or mine.status == "removed":
        abort(404)
    return org, mine


def _page(
    org_id: str, *, status: int = 200, blockers: tuple[str, ...] = (), error: str | None = None
) -> tuple[str, int]:
    org, mine = _load(org_id)
    rows = []
    for m in _members(org_id):
        if m.status == "removed":
            continue
        user = accounts().user(m.user_id)
        rows.append(
            {
                "membership": m,
                "user": user,
                "compliance": service().member_compliance(org_id, m.user_id),
            }
        )
    report = service().compliance_report(org_id)
    for r in rows:
        r["exempt_until"] = report.exemptions.get(r["membership"].user_id)
    names = {r["membership"].user_id: r["user"] for r in rows}
    return render_template(
        "org.html",
        org=org,
        mine=mine,
        manager=mine.kind == "owner",
        rows=rows,
        report=report,
        blockers=[names.get(b) or b for b in blockers],
        invitations=_invitations(org_id),
        error=error,
    ), status


@bp.route("/org")
@login_required
def home() -> Response:
    """The organization the user owns (or else the first one they belong to)."""
    memberships = sorted(
        (m for m in _store().list_user_memberships(_me().user_id) if m.status != "removed"),
        key=lambda m: (m.kind != "owner", m.joined_at),
    )
    if not memberships:
        abort(404)
    return redirect(url_for("org.page", org_id=memberships[0].org_id))


@bp.route("/org/<org_id>")
@login_required
def page(org_id: str) -> tuple[str, int]:
    """Members, MFA status, enforcement and invitations."""
    return _page(org_id)


def _recent_second_factor(org_id: str, action: str) -> Response | None:
    """Send the user to verify a second factor again unless they did recently.

    The console's own rule, through ``require_recent_second_factor``: changing
    the organization's enforcement is sensitive whatever the policy lists. A
    user without a second factor has nothing to verify: the service refuses
    the change itself, with its own reason.
    """
    try:
        service().require_recent_second_factor(_me().user_id, action, org_id=org_id)
    except StepUpRequiredError as exc:
        if exc.factors:
            return step_up_redirect(url_for("org.page", org_id=org_id))
    return None


@bp.route("/org/<org_id>/enforce", methods=["POST"])
@login_required
def enforce(org_id: str) -> Response | tuple[str, int]:
    """Enforce MFA after the typed confirmation ENFORCE (only if everyone has MFA)."""
    _load(org_id)
    verify = _recent_second_factor(org_id, "enable_enforcement")
    if verify is not None:
        return verify
    try:
        service().enforce_mfa(
            org_id, actor_id=_me().user_id, confirmation=request.form.get("confirmation", "")
        )
    except PolicyDeniedError as exc:
        if needs_step_up(exc):
            return step_up_redirect(url_for("org.page", org_id=org_id))
        blockers = tuple(getattr(exc.decision, "reminder_targets", ()) or ())
        return _page(org_id, status=409, blockers=blockers, error=explain(exc))
    except MfaError as exc:
        return _page(org_id, status=400, error=explain(exc))
    flash(t("console.flash.enforced"), "info")
    return redirect(url_for("org.page", org_id=org_id))


@bp.route("/org/<org_id>/stop", methods=["POST"])
@login_required
def stop(org_id: str) -> Response | tuple[str, int]:
    """Stop enforcing MFA after the typed confirmation STOP (owners are told)."""
    _load(org_id)
    verify = _recent_second_factor(org_id, "stop_enforcement")
    if verify is not None:
        return verify
    try:
        service().stop_enforcement(
            org_id, actor_id=_me().user_id, confirmation=request.form.get("confirmation", "")
        )
    except MfaError as exc:
        if needs_step_up(exc):
            return step_up_redirect(url_for("org.page", org_id=org_id))
        return _page(org_id, status=400, error=explain(exc))
    flash(t("console.flash.enforcement_stopped"), "info")
    return redirect(url_for("org.page", org_id=org_id))


@bp.route("/org/<org_id>/remind", methods=["POST"])
@login_required
def remind(org_id: str) -> Response | tuple[str, int]:
    """Send an MFA reminder to one member, or to everyone without MFA."""
    _load(org_id)
    target = request.form.get("user_id")
    try:
        reminded = service().send_reminders(
            org_id, actor_id=_me().user_id, user_ids=[target] if target else None
        )
    except MfaError as exc:
        return _page(org_id, status=403, error=explain(exc))
    flash(
        tn("console.flash.reminded", len(reminded)) if reminded else t("console.flash.no_reminder"),
        "info",
    )
    return redirect(url_for("org.page", org_id=org_id))


@bp.route("/org/<org_id>/members", methods=["POST"])
@login_required
def add_member(org_id: str) -> Response | tuple[str, int]:
    """Create an organization member (an IAM user) who signs in with an e-mailed code."""
    org, mine = _load(org_id)
    if mine.kind != "owner":
        abort(403)
    username = request.form.get("username", "").strip()
    email = request.form.get("email", "").strip()
    if not username or len(username) > 64 or "@" not in email:
        return _page(org_id, status=400, error=t("console.org.error.member_fields"))
    if _store().get_membership_by_username(org_id, username) is not None:
        return _page(org_id, status=400, error=t("console.org.error.username_taken"))
    # Until the member signs in, their e-mails are in the owner's language.
    user = accounts().create_user(
        email=email, name=username, password_hash=None, locale=current_locale()
    )
    if user is None:
        return _page(org_id, status=400, error=t("console.org.error.email_taken"))
    try:
        service().add_member(org_id, user.user_id, username=username, actor_id=_me().user_id)
    except MfaError as exc:
        return _page(org_id, status=400, error=explain(exc))
    flash(t("console.flash.member_created", username=username, org_id=org.org_id), "info")
    return redirect(url_for("org.page", org_id=org_id))


@bp.route("/org/<org_id>/invitations", methods=["POST"])
@login_required
def invite(org_id: str) -> Response | tuple[str, int]:
    """Invite someone by e-mail (under enforcement they must have MFA to join)."""
    org, _ = _load(org_id)
    try:
        invitation = service().invite(
            org_id, actor_id=_me().user_id, email=request.form.get("email", "").strip()
        )
    except (MfaError, ValueError) as exc:
        text = explain(exc) if isinstance(exc, MfaError) else t("console.org.error.invite_email")
        return _page(org_id, status=400, error=text)
    link = url_for("org.invitation", invitation_id=invitation.invitation_id, _external=True)
    mailer().send_invitation(
        email=invitation.email, org_name=org.name, link=link, locale=current_locale()
    )
    flash(t("console.flash.invited", email=invitation.email), "info")
    return redirect(url_for("org.page", org_id=org_id))


@bp.route("/org/<org_id>/invitations/<invitation_id>/revoke", methods=["POST"])
@login_required
def revoke(org_id: str, invitation_id: str) -> Response | tuple[str, int]:
    """Revoke a pending invitation."""
    _load(org_id)
    try:
        service().revoke_invitation(invitation_id, actor_id=_me().user_id)
    except MfaError as exc:
        return _page(org_id, status=403, error=explain(exc))
    flash(t("console.flash.invitation_revoked"), "info")
    return redirect(url_for("org.page", org_id=org_id))


@bp.route("/invitations/<invitation_id>", methods=["GET", "POST"])
@login_required
def invitation(invitation_id: str) -> Response | str | tuple[str, int]:
    """Show an invitation and accept it."""
    found = _store().get_invitation(invitation_id)
    if found is None:
        abort(404)
    org = _store().get_organization(found.org_id)
    if request.method == "GET":
        return _invitation_page(found, org)
    try:
        # The invitation is bound to its address: a forwarded link does not let
        # another account join. A real application passes an address it has
        # verified; the demo console takes the sign-up address as verified.
        me = _me()
        service().accept_invitation(invitation_id, me.user_id, email=me.email)
    except MfaError as exc:
        return _invitation_page(found, org, error=explain(exc)), 403
    flash(t("console.flash.joined", org=org.name if org else found.org_id), "info")
    return redirect(url_for("org.page", org_id=found.org_id))


def _invitation_page(found: Invitation, org: Organization | None, error: str | None = None) -> str:
    """The invitation, with the MFA the organization requires before joining (if any)."""
    requirement = None
    if org is not None and org.enforced:
        policy = decode_policy(org.policy)
        kind = PrincipalKind(found.kind)
        if policy.invitations_require_mfa and kind in policy.scope:
            me = _me()
            eligible = policy.eligible_methods[kind]
            mine = {d.kind for d in service().list_passkeys(me.user_id)}
            if service().list_totp_devices(me.user_id):
                mine.add(MethodKind.TOTP)
            requirement = {
                "kinds": kinds_text(eligible),
                "met": bool(mine & eligible),
                "not_counted": kinds_text(mine - eligible) if mine - eligible else None,
                "who": t(ROLE_WORDS[kind].all),
            }
    return render_template(
        "invitation.html", invitation=found, org=org, requirement=requirement, error=error
    )


# -- the owner's recovery actions ------------------------------------------------------------

#: What the owner types to confirm a reset or a removal (checked here, in the console).
RESET_PHRASE = "RESET"
REMOVE_PHRASE = "REMOVE"


def _member_action(
    org_id: str, user_id: str, act: Callable[[str], object], done: str
) -> Response | tuple[str, int]:
    """Run one owner action on a member; a refusal is shown on the page (or asks a step-up)."""
    _, mine = _load(org_id)
    if mine.kind != "owner":
        abort(403)
    try:
        act(_me().user_id)
    except PolicyDeniedError as exc:
        if needs_step_up(exc):
            return step_up_redirect(url_for("org.page", org_id=org_id))
        return _page(org_id, status=409, error=explain(exc))
    except MfaError as exc:
        return _page(org_id, status=400, error=explain(exc))
    if done:
        flash(done, "info")
    return redirect(url_for("org.page", org_id=org_id))


def _name(user_id: str) -> str:
    user = accounts().user(user_id)
    return user.name if user is not None else user_id


@bp.route("/org/<org_id>/members/<user_id>/unlock", methods=["POST"])
@login_required
def unlock(org_id: str, user_id: str) -> Response | tuple[str, int]:
    """Unlock a locked member (an overdue one gets a new grace period, policy permitting)."""
    unlocked: list[Decision] = []

    def act(actor: str) -> None:
        unlocked.append(service().unlock_member(org_id, user_id, actor_id=actor))

    response = _member_action(org_id, user_id, act, "")
    if unlocked:
        deadline = unlocked[0].deadline
        name = _name(user_id)
        if deadline is not None:
            when = f"{deadline:%Y-%m-%d %H:%M} UTC"
            flash(t("console.flash.unlocked.deadline", name=name, deadline=when), "info")
        else:
            flash(t("console.flash.unlocked", name=name), "info")
    return response


@bp.route("/org/<org_id>/members/<user_id>/reset", methods=["POST"])
@login_required
def reset(org_id: str, user_id: str) -> Response | tuple[str, int]:
    """Reset a member's MFA after the typed confirmation RESET, with a reason."""
    if request.form.get("confirmation", "").strip() != RESET_PHRASE:
        _load(org_id)
        return _page(org_id, status=400, error=t("console.org.error.type", phrase=RESET_PHRASE))
    reason = request.form.get("reason", "")
    return _member_action(
        org_id,
        user_id,
        lambda actor: service().reset_member_mfa(org_id, user_id, actor_id=actor, reason=reason),
        t("console.flash.reset", name=_name(user_id)),
    )


@bp.route("/org/<org_id>/members/<user_id>/remove", methods=["POST"])
@login_required
def remove(org_id: str, user_id: str) -> Response | tuple[str, int]:
    """Remove a member after the typed confirmation REMOVE."""
    if request.form.get("confirmation", "").strip() != REMOVE_PHRASE:
        _load(org_id)
        return _page(org_id, status=400, error=t("console.org.error.type", phrase=REMOVE_PHRASE))
    return _member_action(
        org_id,
        user_id,
        lambda actor: service().remove_member(org_id, user_id, actor_id=actor),
        t("console.flash.removed", name=_name(user_id)),
    )


def _until(text: str) -> datetime | None:
    """The end of the chosen day (UTC), exclusive; ``None`` for a missing or bad date."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1)


@bp.route("/org/<org_id>/members/<user_id>/exemption", methods=["POST"])
@login_required
def exempt(org_id: str, user_id: str) -> Response | tuple[str, int]:
    """Exempt a member from MFA until the end of the chosen day, with a reason."""
    until = _until(request.form.get("until", ""))
    if until is None:
        _load(org_id)
        return _page(org_id, status=400, error=t("console.org.error.exemption_day"))
    reason = request.form.get("reason", "")
    return _member_action(
        org_id,
        user_id,
        lambda actor: service().grant_exemption(
            org_id, user_id, actor_id=actor, until=until, reason=reason
        ),
        t("console.flash.exempt", name=_name(user_id), until=until.strftime("%Y-%m-%d %H:%M UTC")),
    )


@bp.route("/org/<org_id>/members/<user_id>/exemption/revoke", methods=["POST"])
@login_required
def unexempt(org_id: str, user_id: str) -> Response | tuple[str, int]:
    """End a member's exemption now."""
    return _member_action(
        org_id,
        user_id,
        lambda actor: service().revoke_exemption(org_id, user_id, actor_id=actor),
        t("console.flash.exemption_ended", name=_name(user_id)),
    )
