"""A tiny relying party for the browser module's tests: a test page and four JSON endpoints.

The endpoints run mfakit's core recipes (``registration_options``,
``verify_registration``, ``authentication_options``, ``verify_authentication``)
so the tests drive real ceremonies. Each options answer carries a ticket that
names its challenge, as a host's session would, so that two ceremonies (a
pending autofill and a modal sign-in) can be open at once.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from mfakit import static, webauthn
from mfakit.errors import MfaError

RP_ID = "localhost"

# The page imports the module the way a host app does and keeps a few helpers
# (fetch the options, run the ceremony, post the result) for the tests.
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>mfakit-webauthn.js</title></head>
<body>
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username webauthn">
<button id="passkey" type="button">Sign in with a passkey</button>
<script>
  window.unhandled = [];
  window.addEventListener("unhandledrejection", (event) => {
    window.unhandled.push(String(event.reason && (event.reason.code || event.reason.name)));
  });
</script>
<script type="module">
  import * as mfakit from "/static/mfakit-webauthn.js";

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) { throw new Error(data.error); }
    return data;
  }

  async function signUp(params = {}, options = {}) {
    const begun = await post("/register/options", params);
    const credential = await mfakit.register(begun.options, options);
    return post("/register/verify", { ticket: begun.ticket, credential });
  }

  async function signIn(params = {}, options = {}) {
    const begun = await post("/authenticate/options", params);
    const credential = await mfakit.authenticate(begun.options, options);
    return post("/authenticate/verify", { ticket: begun.ticket, credential });
  }

  // A promise's end as plain data: {value} or {error: {...}}.
  function outcome(promise) {
    return promise.then(
      (value) => ({ value }),
      (error) => ({
        error: {
          name: error.name,
          code: error.code,
          ceremony: error.ceremony,
          cause: error.cause && error.cause.name,
          isModuleError: error instanceof mfakit.MfakitWebAuthnError,
        },
      }),
    );
  }

  // "pending" when the promise has not settled after `ms`, else its outcome.
  function settledWithin(promise, ms) {
    const timer = new Promise((resolve) => setTimeout(() => resolve("pending"), ms));
    return Promise.race([outcome(promise), timer]);
  }

  document.getElementById("passkey").addEventListener("click", () => {
    window.buttonResult = outcome(signIn());
  });

  Object.assign(window, { mfakit, post, signUp, signIn, outcome, settledWithin });
  window.moduleReady = true;
</script>
</body>
</html>
"""


def b64url(data: bytes) -> str:
    """Unpadded base64url, as the Level 3 JSON writes binary members."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of an unpadded base64url string."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class Stored:
    """A registered credential."""

    user_name: str
    user_id: bytes
    public_key: bytes
    sign_count: int


@dataclass(slots=True)
class RelyingParty:
    """The server side: users, credentials and open challenges, behind one lock."""

    origin: str
    user_ids: dict[str, bytes] = field(default_factory=dict)
    credentials: dict[bytes, Stored] = field(default_factory=dict)
    tickets: dict[str, tuple[bytes, str | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def user_id(self, user_name: str) -> bytes:
        """The user's opaque handle (made on first use)."""
        return self.user_ids.setdefault(user_name, secrets.token_bytes(16))

    def ticket(self, challenge: bytes, user_name: str | None) -> str:
        """Remember a challenge; the ticket names it."""
        ticket = secrets.token_urlsafe(8)
        self.tickets[ticket] = (challenge, user_name)
        return ticket

    def ids_of(self, user_name: str) -> list[bytes]:
        """The credential ids of a user."""
        return [cid for cid, c in self.credentials.items() if c.user_name == user_name]

    def register_options(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /register/options: {user_name, exclude?, user_verification?, timeout_ms?}."""
        name = body["user_name"]
        options = webauthn.registration_options(
            rp_id=RP_ID,
            rp_name="mfakit tests",
            user_id=self.user_id(name),
            user_name=name,
            user_display_name=name.title(),
            exclude_credentials=self.ids_of(name) if body.get("exclude") else (),
            user_verification=body.get("user_verification", "preferred"),
            resident_key="required",
            timeout_ms=body.get("timeout_ms", webauthn.DEFAULT_TIMEOUT_MS),
        )
        return {"ticket": self.ticket(options.challenge, name), "options": options.to_json()}

    def register_verify(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /register/verify: {ticket, credential}."""
        challenge, name = self.tickets.pop(body["ticket"])
        assert name is not None
        result = webauthn.verify_registration(
            body["credential"],
            expected_challenge=challenge,
            expected_origins=self.origin,
            expected_rp_id=RP_ID,
        )
        self.credentials[result.credential_id] = Stored(
            user_name=name,
            user_id=self.user_id(name),
            public_key=result.public_key,
            sign_count=result.sign_count,
        )
        return {
            "credential_id": b64url(result.credential_id),
            "user_id": b64url(self.user_id(name)),
            "transports": list(result.transports),
            "user_verified": result.user_verified,
        }

    def authenticate_options(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /authenticate/options: {user_name?, user_verification?, timeout_ms?}.

        Without a user name the allow list is empty: a username-less sign-in.
        """
        name = body.get("user_name")
        options = webauthn.authentication_options(
            rp_id=RP_ID,
            allow_credentials=self.ids_of(name) if name else (),
            user_verification=body.get("user_verification", "preferred"),
            timeout_ms=body.get("timeout_ms", webauthn.DEFAULT_TIMEOUT_MS),
        )
        return {"ticket": self.ticket(options.challenge, name), "options": options.to_json()}

    def authenticate_verify(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /authenticate/verify: {ticket, credential}; finds the user by credential id."""
        challenge, name = self.tickets.pop(body["ticket"])
        credential = body["credential"]
        credential_id = b64url_decode(credential["rawId"])
        stored = self.credentials[credential_id]
        if name is not None and stored.user_name != name:
            raise LookupError("credential of another user")
        result = webauthn.verify_authentication(
            credential,
            expected_challenge=challenge,
            expected_origins=self.origin,
            expected_rp_id=RP_ID,
            credential_public_key=stored.public_key,
            current_sign_count=stored.sign_count,
            expected_user_handle=stored.user_id,
        )
        stored.sign_count = result.new_sign_count
        return {
            "user_name": stored.user_name,
            "user_handle": None if result.user_handle is None else b64url(result.user_handle),
            "credential_id": b64url(result.credential_id),
            "user_verified": result.user_verified,
        }

    def __call__(self, environ: Any, start_response: Any) -> Any:
        """The WSGI app: the page, the module (served by mfakit.static) and the endpoints."""
        request = Request(environ)
        routes = {
            "/register/options": self.register_options,
            "/register/verify": self.register_verify,
            "/authenticate/options": self.authenticate_options,
            "/authenticate/verify": self.authenticate_verify,
        }
        if request.path == "/":
            response = Response(PAGE, mimetype="text/html")
        elif request.path == f"/static/{static.MODULE_NAME}":
            response = Response(static.read_module(), mimetype=static.MEDIA_TYPE)
        elif request.method == "POST" and request.path in routes:
            try:
                with self.lock:
                    answer = routes[request.path](request.get_json())
                response = Response(json.dumps(answer), mimetype="application/json")
            except (MfaError, KeyError, LookupError, AssertionError) as exc:
                error = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
                response = Response(error, status=400, mimetype="application/json")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)
