"""Building the app: the store, the async MFA service, the error handlers and the page."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from mfakit import static
from mfakit.clock import Clock
from mfakit.errors import MfaError, ThrottledError
from mfakit.secretbox import KeyRing, generate_key
from mfakit.service import (
    AsyncMfaService,
    InMemoryOutbox,
    MfaService,
    RelyingParty,
    ServiceSettings,
)
from mfakit.stores.sqlite import SQLiteStore

from . import encode
from .accounts import Accounts, Sessions
from .api import Demo, DemoError, router

DEFAULT_ORIGIN = "http://localhost:8000"
PAGE = Path(__file__).with_name("page.html")


def _load_secrets(folder: Path) -> dict[str, bytes]:
    """The demo's keys, made on first run and kept next to its database (mode 0600)."""
    path = folder / "secrets.json"
    if not path.exists():
        made = {
            "secretbox": generate_key().hex(),
            "login_codes": secrets.token_bytes(32).hex(),
            "sessions": secrets.token_bytes(32).hex(),
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(made, file)
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {name: bytes.fromhex(value) for name, value in stored.items()}


def create_app(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    origin: str | None = None,
    settings: ServiceSettings | None = None,
    clock: Clock | None = None,
    password_hasher: PasswordHasher | None = None,
    max_workers: int = 8,
) -> FastAPI:
    """Build the demo API.

    Args:
        data_dir: Holds ``mfa.sqlite3`` and ``secrets.json``; default
            ``$MFA_DEMO_DATA`` or ``./mfa-demo-data``.
        origin: The exact origin browsers use; its host is the WebAuthn RP ID
            (a name such as ``localhost``, never an IP address). Default
            ``$MFA_DEMO_ORIGIN`` or ``http://localhost:8000``.
        settings: mfakit's settings (tests make Argon2 cheap).
        clock: mfakit's clock (tests pass a :class:`~mfakit.clock.FrozenClock`).
        password_hasher: argon2-cffi's hasher of the demo's passwords.
        max_workers: Threads of :class:`~mfakit.service.AsyncMfaService`'s pool.
    """
    folder = Path(data_dir or os.environ.get("MFA_DEMO_DATA") or "mfa-demo-data")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    origin = origin or os.environ.get("MFA_DEMO_ORIGIN") or DEFAULT_ORIGIN
    keys = _load_secrets(folder)
    store = SQLiteStore(folder / "mfa.sqlite3")
    mailbox = InMemoryOutbox()  # the demo's "e-mail": see /api/demo/mailbox
    service = MfaService(
        store=store,
        keys=KeyRing({"k1": keys["secretbox"]}, current="k1"),
        notifier=mailbox,
        clock=clock,
        relying_party=RelyingParty(
            rp_id=urlsplit(origin).hostname or "localhost", rp_name="mfakit demo", origins=(origin,)
        ),
        issuer="mfakit demo",
        login_code_key=keys["login_codes"],
        settings=settings,
    )
    demo = Demo(
        mfa=AsyncMfaService(service, max_workers=max_workers),
        accounts=Accounts(password_hasher),
        sessions=Sessions(keys["sessions"], secure=origin.startswith("https://")),
        mailbox=mailbox,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await close(app)

    app = FastAPI(title="mfakit demo API", lifespan=lifespan)
    app.state.demo = demo
    app.state.store = store
    app.include_router(router)

    @app.exception_handler(MfaError)
    async def mfa_error(request: Request, exc: MfaError) -> JSONResponse:
        headers = {}
        if isinstance(exc, ThrottledError):
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        return JSONResponse(
            encode.error(exc), status_code=encode.error_status(exc), headers=headers
        )

    @app.exception_handler(DemoError)
    async def demo_error(request: Request, exc: DemoError) -> JSONResponse:
        body = {"error": {"code": exc.code, "message": exc.message}}
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(p) for p in e["loc"][1:]) for e in exc.errors()]
        body = {
            "error": {"code": "invalid_request", "message": "invalid request", "fields": fields}
        }
        return JSONResponse(body, status_code=422)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @app.get(f"/js/{static.MODULE_NAME}")
    async def browser_module() -> Response:
        return Response(static.read_module(), media_type=static.MEDIA_TYPE)

    return app


async def close(app: FastAPI) -> None:
    """Stop the MFA service's threads, then close the store (the lifespan's shutdown)."""
    demo: Demo = app.state.demo
    await demo.mfa.aclose()
    app.state.store.close()
