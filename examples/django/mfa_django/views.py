"""A minimal security page and the second step of sign-in, on Django's auth.

Django's ``authenticate()`` checks the password (the first factor). A user
with a second factor is then only *pending*: their id waits in the session
until :func:`second_factor` (an authenticator app code, a backup code or a
passkey) calls ``login()``. Every mfakit failure is an
:class:`~mfakit.errors.MfaError` whose message is log-safe, shown as it is.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from mfa_django.service import mfa_service, user_ref
from mfakit import static
from mfakit.errors import MalformedDataError, MfaError

_PENDING = "mfa_pending_user"


@require_GET
def webauthn_module(request: HttpRequest) -> HttpResponse:
    """``mfakit-webauthn.js``, the browser half of the passkey ceremonies."""
    response = HttpResponse(static.read_module(), content_type=static.MEDIA_TYPE)
    response["Cache-Control"] = "public, max-age=3600"
    return response


def sign_in(request: HttpRequest) -> HttpResponseBase:
    """The password form (the first factor); then :func:`second_factor`."""
    if request.method != "POST":
        return render(request, "mfa_django/login.html")
    user = authenticate(
        request,
        username=request.POST.get("username", ""),
        password=request.POST.get("password", ""),
    )
    if user is None:
        return render(request, "mfa_django/login.html", {"error": "Wrong username or password."})
    request.session[_PENDING] = str(user.pk)
    return redirect("mfa:second_factor")


def _pending_user(request: HttpRequest) -> Any:
    user_id = request.session.get(_PENDING)
    return None if user_id is None else get_user_model().objects.filter(pk=user_id).first()


def _finish(request: HttpRequest, user: Any) -> None:
    request.session.pop(_PENDING, None)
    login(request, user)


def second_factor(request: HttpRequest) -> HttpResponseBase:
    """The second step: an app code or a backup code (form), or a passkey (see below).

    A user without a second factor is signed in at once.
    """
    user = _pending_user(request)
    if user is None:
        return redirect("mfa:login")
    service = mfa_service()
    error = None
    if request.method == "POST":
        code = request.POST.get("code", "")
        try:
            if request.POST.get("method") == "backup_code":
                service.verify_backup_code(str(user.pk), code)
            else:
                service.verify_totp(str(user.pk), code)
        except MfaError as exc:
            error = str(exc)
        else:
            _finish(request, user)
            return redirect("mfa:security")
    try:
        challenge = service.begin_second_factor(str(user.pk))
    except MfaError as exc:
        return render(request, "mfa_django/login.html", {"error": str(exc)})
    if not challenge.methods:
        _finish(request, user)
        return redirect("mfa:security")
    return render(
        request,
        "mfa_django/second_factor.html",
        {
            "methods": [str(m) for m in challenge.methods],
            "challenge_id": challenge.challenge_id,
            "webauthn_options": challenge.webauthn_options,
            "error": error,
        },
    )


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise MalformedDataError("the request body is not JSON") from exc
    if not isinstance(body, dict):
        raise MalformedDataError("the request body is not a JSON object")
    return body


@require_POST
def second_factor_passkey(request: HttpRequest) -> JsonResponse:
    """The second step with a passkey: ``{"challenge_id", "response"}`` from the browser."""
    user = _pending_user(request)
    if user is None:
        return JsonResponse({"error": "Sign in with your password first."}, status=403)
    try:
        body = _json_body(request)
        mfa_service().verify_passkey(
            str(user.pk), str(body.get("challenge_id", "")), body.get("response")
        )
    except MfaError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    _finish(request, user)
    return JsonResponse({"redirect": "/"})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponseBase:
    """End the session."""
    logout(request)
    return redirect("mfa:login")


def _security_page(request: HttpRequest, **extra: Any) -> HttpResponse:
    service = mfa_service()
    user_id = str(request.user.pk)
    context = {
        "devices": service.list_totp_devices(user_id),
        "passkeys": service.list_passkeys(user_id),
        "backup": service.backup_code_status(user_id),
        **extra,
    }
    return render(request, "mfa_django/security.html", context)


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The signed-in user's security page: apps, passkeys, backup codes."""
    return _security_page(request)


@login_required
@require_POST
def totp_add(request: HttpRequest) -> HttpResponse:
    """Start adding an authenticator app: show its QR code and key once."""
    name = request.POST.get("name", "") or "Authenticator app"
    try:
        enrollment = mfa_service().begin_totp_enrollment(user_ref(request.user), name=name)
    except MfaError as exc:
        return _security_page(request, error=str(exc))
    return render(request, "mfa_django/totp_enroll.html", {"enrollment": enrollment})


@login_required
@require_POST
def totp_confirm(request: HttpRequest) -> HttpResponse:
    """Confirm the app with a code from it; show the new backup codes once."""
    try:
        activation = mfa_service().confirm_totp(
            str(request.user.pk), request.POST.get("totp_id", ""), request.POST.get("code", "")
        )
    except MfaError as exc:
        return _security_page(request, error=str(exc))
    return render(request, "mfa_django/backup_codes.html", {"codes": activation.backup_codes.codes})


@login_required
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Replace the backup codes with a new set, shown once."""
    try:
        codes = mfa_service().regenerate_backup_codes(str(request.user.pk))
    except MfaError as exc:
        return _security_page(request, error=str(exc))
    return render(request, "mfa_django/backup_codes.html", {"codes": codes.codes})


@login_required
@require_POST
def passkey_options(request: HttpRequest) -> JsonResponse:
    """Start registering a passkey: ``{"name"}`` in, creation options out."""
    try:
        body = _json_body(request)
        started = mfa_service().begin_passkey_registration(
            user_ref(request.user), name=str(body.get("name", "")) or "Passkey"
        )
    except MfaError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"challenge_id": started.challenge_id, "options": dict(started.options)})


@login_required
@require_POST
def passkey_register(request: HttpRequest) -> JsonResponse:
    """Finish registering: ``{"challenge_id", "response"}`` from the browser module."""
    try:
        body = _json_body(request)
        passkey = mfa_service().finish_passkey_registration(
            str(request.user.pk), str(body.get("challenge_id", "")), body.get("response")
        )
    except MfaError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"name": passkey.name})
