"""The JSON API: every MFA flow a user needs, each endpoint one awaited mfakit call or two."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from mfakit.errors import MalformedDataError
from mfakit.service import (
    AsyncMfaService,
    InMemoryOutbox,
    LoginCode,
    SecondFactorResult,
    UserRef,
)

from . import encode
from .accounts import COOKIE, Account, Accounts, Session, Sessions, Stage


class DemoError(Exception):
    """A refusal of the demo itself (not mfakit's): not signed in, a wrong password."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Demo:
    """What the endpoints share (kept on ``app.state.demo``)."""

    mfa: AsyncMfaService
    accounts: Accounts
    sessions: Sessions
    mailbox: InMemoryOutbox


def get_demo(request: Request) -> Demo:
    """The app's shared objects."""
    demo: Demo = request.app.state.demo
    return demo


DemoDep = Annotated[Demo, Depends(get_demo)]


def _session(request: Request, demo: DemoDep) -> Session:
    session = demo.sessions.read(request.cookies.get(COOKIE))
    if session is None:
        raise DemoError("not_signed_in", "sign in first", 401)
    return session


def _signed_in(session: Annotated[Session, Depends(_session)]) -> Session:
    if session.stage != "signed_in":
        raise DemoError("second_factor_required", "complete the second factor first", 401)
    return session


AnySession = Annotated[Session, Depends(_session)]
SignedIn = Annotated[Session, Depends(_signed_in)]


class SignUp(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)


class Login(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class Code(BaseModel):
    code: str = Field(max_length=64)


class Name(BaseModel):
    name: str = Field(default="Authenticator app", max_length=200)


class NewPasskey(BaseModel):
    name: str = Field(max_length=200)
    kind: str = "passkey"


class Credential(BaseModel):
    credential: dict[str, Any]


class Assertion(BaseModel):
    challenge_id: str = Field(max_length=200)
    credential: dict[str, Any]


class Confirmation(BaseModel):
    confirmation: str | None = None


class NewOrganization(BaseModel):
    org_id: str = Field(max_length=64)
    name: str = Field(max_length=200)


class NewMember(BaseModel):
    username: str = Field(max_length=64)
    name: str = Field(max_length=64)


class MemberLogin(BaseModel):
    org_id: str = Field(max_length=64)
    username: str = Field(max_length=64)


class MemberCode(MemberLogin):
    code: str = Field(max_length=64)


router = APIRouter(prefix="/api")


def _me(account: Account | None, stage: Stage) -> dict[str, Any]:
    if account is None:
        raise DemoError("not_signed_in", "sign in first", 401)
    return {
        "user_id": account.user_id,
        "email": account.email,
        "name": account.name,
        "stage": stage,
    }


def _signed_in_answer(demo: Demo, response: Response, result: SecondFactorResult) -> dict[str, Any]:
    demo.sessions.write(response, user_id=result.user_id, stage="signed_in")
    answer: dict[str, Any] = {"status": "signed_in", "method": str(result.method)}
    if result.backup_codes_remaining is not None:
        answer["backup_codes_remaining"] = result.backup_codes_remaining
    return answer


def _user_ref(demo: Demo, session: Session) -> UserRef:
    account = demo.accounts.get(session.user_id)
    if account is None:
        raise DemoError("not_signed_in", "sign in first", 401)
    return UserRef(user_id=account.user_id, name=account.email, display_name=account.name)


# -- first factor (the toy part) and the session ------------------------------------------


@router.post("/signup", status_code=201)
async def sign_up(body: SignUp, demo: DemoDep, response: Response) -> dict[str, Any]:
    """Create an account; the new user is signed in (no second factor yet)."""
    account = demo.accounts.create(email=body.email, name=body.name, password=body.password)
    if account is None:
        raise DemoError("email_taken", "an account with this address exists", 409)
    demo.sessions.write(response, user_id=account.user_id, stage="signed_in")
    return _me(account, "signed_in")


@router.post("/login")
async def log_in(body: Login, demo: DemoDep, response: Response) -> dict[str, Any]:
    """Password first; then either signed in, or the second factor's methods and options."""
    account = demo.accounts.check_password(body.email, body.password)
    if account is None:
        raise DemoError("invalid_credentials", "wrong e-mail address or password", 401)
    challenge = await demo.mfa.begin_second_factor(account.user_id)
    if not challenge.methods:
        demo.sessions.write(response, user_id=account.user_id, stage="signed_in")
        return {"status": "signed_in"}
    demo.sessions.write(response, user_id=account.user_id, stage="second_factor")
    return encode.second_factor(challenge)


@router.post("/logout")
async def log_out(demo: DemoDep, response: Response) -> dict[str, Any]:
    """Forget the session cookie."""
    demo.sessions.clear(response)
    return {"status": "signed_out"}


@router.get("/me")
async def me(session: AnySession, demo: DemoDep) -> dict[str, Any]:
    """Who is signed in, and at which stage."""
    return _me(demo.accounts.get(session.user_id), session.stage)


# -- the second factor (also a step-up for a signed-in user) -------------------------------


@router.post("/second-factor/begin")
async def begin_second_factor(session: AnySession, demo: DemoDep) -> dict[str, Any]:
    """The user's methods, and fresh passkey options (a new challenge)."""
    return encode.second_factor(
        await demo.mfa.begin_second_factor(
            session.user_id, first_factor_credential=session.first_factor
        )
    )


@router.post("/second-factor/totp")
async def second_factor_totp(
    body: Code, session: AnySession, demo: DemoDep, response: Response
) -> dict[str, Any]:
    """A code from an authenticator app."""
    result = await demo.mfa.verify_totp(session.user_id, body.code)
    return _signed_in_answer(demo, response, result)


@router.post("/second-factor/backup-code")
async def second_factor_backup_code(
    body: Code, session: AnySession, demo: DemoDep, response: Response
) -> dict[str, Any]:
    """A backup code (used up)."""
    result = await demo.mfa.verify_backup_code(session.user_id, body.code)
    return _signed_in_answer(demo, response, result)


@router.post("/second-factor/passkey")
async def second_factor_passkey(
    body: Assertion, session: AnySession, demo: DemoDep, response: Response
) -> dict[str, Any]:
    """A passkey assertion for the options of ``/second-factor/begin`` or ``/login``."""
    result = await demo.mfa.verify_passkey(session.user_id, body.challenge_id, body.credential)
    return _signed_in_answer(demo, response, result)


# -- passkey sign-in without a username ----------------------------------------------------


@router.post("/passkey-sign-in/begin")
async def begin_passkey_sign_in(demo: DemoDep) -> dict[str, Any]:
    """Options for a username-less sign-in (no allowed credentials)."""
    challenge = await demo.mfa.begin_passkey_sign_in()
    return {"challenge_id": challenge.challenge_id, "options": challenge.options}


@router.post("/passkey-sign-in/finish")
async def finish_passkey_sign_in(
    body: Assertion, demo: DemoDep, response: Response
) -> dict[str, Any]:
    """The passkey is the first factor; the user is the passkey's owner."""
    result = await demo.mfa.finish_passkey_sign_in(body.challenge_id, body.credential)
    if result.second_factor_required:
        # The second step must not take this passkey again (one authenticator, one factor).
        demo.sessions.write(
            response,
            user_id=result.user_id,
            stage="second_factor",
            first_factor=result.credential_id,
        )
        return {"status": "second_factor_required", "user_id": result.user_id}
    demo.sessions.write(response, user_id=result.user_id, stage="signed_in")
    return {"status": "signed_in", "user_id": result.user_id, "method": str(result.method)}


# -- authenticator apps (TOTP) -------------------------------------------------------------


@router.post("/totp/enrollments", status_code=201)
async def begin_totp_enrollment(body: Name, session: SignedIn, demo: DemoDep) -> dict[str, Any]:
    """A new secret: the ``otpauth://`` URI, its QR code (SVG) and the key to type."""
    enrollment = await demo.mfa.begin_totp_enrollment(_user_ref(demo, session), name=body.name)
    return {
        "totp_id": enrollment.totp_id,
        "name": enrollment.name,
        "uri": enrollment.uri,
        "manual_key": enrollment.manual_key,
        "qr_svg": enrollment.qr_svg,
        "expires_at": encode.when(enrollment.expires_at),
    }


@router.post("/totp/enrollments/{totp_id}/confirm")
async def confirm_totp(
    totp_id: str, body: Code, session: SignedIn, demo: DemoDep
) -> dict[str, Any]:
    """Activate the app with one of its codes; new backup codes come with it (shown once)."""
    activation = await demo.mfa.confirm_totp(session.user_id, totp_id, body.code)
    return {
        "device": encode.totp_device(activation.device),
        "backup_codes": encode.backup_codes(activation.backup_codes),
    }


@router.get("/totp/devices")
async def list_totp_devices(session: SignedIn, demo: DemoDep) -> list[dict[str, Any]]:
    """The user's authenticator apps."""
    return [encode.totp_device(d) for d in await demo.mfa.list_totp_devices(session.user_id)]


@router.delete("/totp/devices/{device_id}")
async def delete_totp_device(
    device_id: str, body: Confirmation, session: SignedIn, demo: DemoDep
) -> dict[str, Any]:
    """Delete one app after the typed confirmation ``DELETE``."""
    removal = await demo.mfa.delete_totp_device(
        session.user_id, device_id, confirmation=body.confirmation
    )
    return {"deleted": str(removal.method), "remaining_methods": removal.remaining_methods}


# -- backup codes --------------------------------------------------------------------------


@router.get("/backup-codes")
async def backup_code_status(session: SignedIn, demo: DemoDep) -> dict[str, Any]:
    """How many backup codes are left."""
    return encode.backup_status(await demo.mfa.backup_code_status(session.user_id))


@router.post("/backup-codes", status_code=201)
async def regenerate_backup_codes(session: SignedIn, demo: DemoDep) -> dict[str, Any]:
    """A new set (the old codes stop working); shown once."""
    return encode.backup_codes(await demo.mfa.regenerate_backup_codes(session.user_id))


# -- passkeys and security keys ------------------------------------------------------------


@router.post("/passkeys/registrations", status_code=201)
async def begin_passkey_registration(
    body: NewPasskey, session: SignedIn, demo: DemoDep
) -> dict[str, Any]:
    """Creation options for ``mfakit-webauthn.js``'s ``register``."""
    registration = await demo.mfa.begin_passkey_registration(
        _user_ref(demo, session), name=body.name, kind=body.kind
    )
    return {"challenge_id": registration.challenge_id, "options": registration.options}


@router.post("/passkeys/registrations/{challenge_id}/finish", status_code=201)
async def finish_passkey_registration(
    challenge_id: str, body: Credential, session: SignedIn, demo: DemoDep
) -> dict[str, Any]:
    """Verify the browser's response and keep the new credential."""
    created = await demo.mfa.finish_passkey_registration(
        session.user_id, challenge_id, body.credential
    )
    return encode.passkey(created)


@router.get("/passkeys")
async def list_passkeys(session: SignedIn, demo: DemoDep) -> list[dict[str, Any]]:
    """The user's passkeys and security keys."""
    return [encode.passkey(p) for p in await demo.mfa.list_passkeys(session.user_id)]


@router.delete("/passkeys/{credential_id}")
async def delete_passkey(
    credential_id: str, body: Confirmation, session: SignedIn, demo: DemoDep
) -> dict[str, Any]:
    """Delete a passkey after the typed confirmation ``DELETE``."""
    try:
        raw_id = encode.from_b64url(credential_id)
    except ValueError as exc:
        raise MalformedDataError("the credential id is not base64url", field="id") from exc
    removal = await demo.mfa.delete_passkey(session.user_id, raw_id, confirmation=body.confirmation)
    return {
        "deleted": str(removal.method),
        "remaining_methods": removal.remaining_methods,
        "signal": removal.unknown_credential_signal,
    }


# -- every method at once ------------------------------------------------------------------


@router.get("/methods")
async def list_methods(session: SignedIn, demo: DemoDep) -> dict[str, Any]:
    """The user's authenticator apps, passkeys and backup codes."""
    devices = await demo.mfa.list_totp_devices(session.user_id)
    passkeys = await demo.mfa.list_passkeys(session.user_id)
    status = await demo.mfa.backup_code_status(session.user_id)
    return {
        "totp_devices": [encode.totp_device(d) for d in devices],
        "passkeys": [encode.passkey(p) for p in passkeys],
        "backup_codes": encode.backup_status(status),
    }


# -- organizations and their members' e-mailed login codes ---------------------------------


@router.post("/orgs", status_code=201)
async def create_organization(
    body: NewOrganization, session: SignedIn, demo: DemoDep
) -> dict[str, Any]:
    """An organization owned by the signed-in user."""
    org = await demo.mfa.create_organization(body.org_id, name=body.name, owner_id=session.user_id)
    return {"org_id": org.org_id, "name": org.name}


@router.post("/orgs/{org_id}/members", status_code=201)
async def add_member(
    org_id: str, body: NewMember, session: SignedIn, demo: DemoDep
) -> dict[str, Any]:
    """An IAM member, who signs in with the organization id, a username and an e-mailed code."""
    account = demo.accounts.add_member(username=body.username, name=body.name)
    await demo.mfa.add_member(
        org_id, account.user_id, username=body.username, actor_id=session.user_id
    )
    return {"user_id": account.user_id, "username": body.username}


@router.post("/login-codes/send", status_code=202)
async def send_login_code(body: MemberLogin, demo: DemoDep) -> dict[str, Any]:
    """E-mail a code to the member, if there is one (the answer is the same either way)."""
    requested = await demo.mfa.send_login_code(body.org_id, body.username)
    await demo.mfa.deliver_notifications()
    return {
        "resend_after": encode.when(requested.resend_after),
        "expires_at": encode.when(requested.expires_at),
    }


@router.post("/login-codes/verify")
async def verify_login_code(body: MemberCode, demo: DemoDep, response: Response) -> dict[str, Any]:
    """Sign the member in with the code; their second factor follows if they have one."""
    result = await demo.mfa.verify_login_code(body.org_id, body.username, body.code)
    stage: Stage = "second_factor" if result.second_factor else "signed_in"
    demo.sessions.write(response, user_id=result.user_id, stage=stage)
    return {
        "status": "second_factor_required" if result.second_factor else "signed_in",
        "user_id": result.user_id,
        "first_login": result.first_login,
        "methods": [str(m) for m in result.second_factor],
        "enrollment_only": result.enrollment_only,
    }


@router.get("/demo/mailbox")
async def mailbox(demo: DemoDep) -> list[dict[str, Any]]:
    """DEMO ONLY: the login codes "e-mailed" so far. A real application sends e-mails."""
    return [
        {"user_id": m.user_id, "org_id": m.org_id, "code": m.code}
        for m in demo.mailbox.of_type(LoginCode)
    ]
