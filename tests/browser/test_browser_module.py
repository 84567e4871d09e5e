"""The shipped browser module (mfakit-webauthn.js) in Chromium, against mfakit's verifiers.

Each test opens the page of ``module_server`` (a relying party built on
mfakit's core recipes) with a DevTools virtual authenticator: CTAP2, internal
transport, resident keys, user verification. What Chromium 156 does with it,
as these tests found:

* conditional get (autofill) completes headlessly, focused field or not, as
  soon as the authenticator holds a credential for the RP;
* with presence simulation off, a ceremony stays pending (used to test aborts);
* conditional create is reported available but never completes with a virtual
  authenticator (Chromium wants a recently saved password): it stays pending;
* the three signals act on the virtual authenticator's credentials.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from console_helpers import Authenticator, add_authenticator
from module_server import RelyingParty, b64url, b64url_decode
from werkzeug.serving import make_server

# What Chromium lacks when the module must fall back to its own base64url code.
DELETE_JSON_METHODS = """() => {
    delete PublicKeyCredential.parseCreationOptionsFromJSON;
    delete PublicKeyCredential.parseRequestOptionsFromJSON;
    delete PublicKeyCredential.prototype.toJSON;
    return [typeof PublicKeyCredential.parseCreationOptionsFromJSON,
            typeof PublicKeyCredential.parseRequestOptionsFromJSON,
            typeof PublicKeyCredential.prototype.toJSON];
}"""


@pytest.fixture
def relying_party() -> Iterator[RelyingParty]:
    """The test relying party, served from a thread on 127.0.0.1 (opened as localhost)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # The origin names the port, known once the server is bound: the app comes second.
    server = make_server("127.0.0.1", 0, RelyingParty(origin=""), threaded=True)
    relying_party = RelyingParty(origin=f"http://localhost:{server.server_port}")
    server.app = relying_party
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield relying_party
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass(frozen=True, slots=True)
class Tab:
    """The test page with its virtual authenticator."""

    page: Any
    authenticator: Authenticator

    def run(self, script: str, arg: Any = None) -> Any:
        """Evaluate ``script`` (an arrow function taking ``arg``) in the page."""
        return self.page.evaluate(script, arg)

    def presence(self, *, enabled: bool) -> None:
        """Switch the authenticator's simulated user presence (off: ceremonies wait)."""
        self.authenticator.cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation",
            {"authenticatorId": self.authenticator.authenticator_id, "enabled": enabled},
        )

    def user_verified(self, *, verified: bool) -> None:
        """Make the authenticator's user verification succeed or fail."""
        self.authenticator.cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self.authenticator.authenticator_id, "isUserVerified": verified},
        )


@pytest.fixture
def tab(browser: Any, relying_party: RelyingParty) -> Iterator[Tab]:
    """A fresh context on the test page, the module loaded, an authenticator attached."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(relying_party.origin)
    page.wait_for_function("window.moduleReady === true")
    authenticator = add_authenticator(
        page, transport="internal", resident_key=True, backup_eligible=False
    )
    yield Tab(page=page, authenticator=authenticator)
    context.close()


def _value(outcome: dict[str, Any]) -> Any:
    assert "error" not in outcome, outcome
    return outcome["value"]


def _error(outcome: Any) -> dict[str, Any]:
    assert isinstance(outcome, dict), outcome
    assert "error" in outcome, outcome
    error = outcome["error"]
    assert error["name"] == "MfakitWebAuthnError"
    assert error["isModuleError"] is True
    return dict(error)


def _sign_up(tab: Tab, user_name: str, **params: Any) -> dict[str, Any]:
    outcome = tab.run("(params) => outcome(signUp(params))", {"user_name": user_name, **params})
    return dict(_value(outcome))


# --- the ceremonies ------------------------------------------------------------


@pytest.mark.parametrize("path", ["json", "fallback"])
def test_register_then_authenticate(tab: Tab, relying_party: RelyingParty, path: str) -> None:
    """A passkey registers and signs in, through the browser's JSON methods or the fallback."""
    if path == "fallback":
        assert tab.run(DELETE_JSON_METHODS) == ["undefined"] * 3
    assert tab.run("async () => (await mfakit.capabilities()).jsonMethods") is (path == "json")
    registered = _sign_up(tab, "ada")
    assert registered["transports"] == ["internal"]
    assert registered["user_verified"] is True
    (stored,) = tab.authenticator.credentials()
    assert b64url_decode(registered["credential_id"]) == b64url_decode(
        stored["credentialId"].replace("+", "-").replace("/", "_")
    )

    signed_in = _value(tab.run("() => outcome(signIn({user_name: 'ada'}))"))
    assert signed_in["user_name"] == "ada"
    assert signed_in["credential_id"] == registered["credential_id"]
    assert relying_party.credentials[b64url_decode(registered["credential_id"])].sign_count >= 1


@pytest.mark.parametrize("path", ["json", "fallback"])
def test_usernameless_authenticate_returns_user_handle(tab: Tab, path: str) -> None:
    """An empty allow list signs in with the discoverable credential; the user handle comes back."""
    registered = _sign_up(tab, "grace")
    if path == "fallback":
        tab.run(DELETE_JSON_METHODS)
    signed_in = _value(tab.run("() => outcome(signIn({}))"))
    assert signed_in["user_name"] == "grace"
    assert signed_in["user_handle"] == registered["user_id"]


def test_options_are_not_mutated(tab: Tab) -> None:
    """The fallback leaves the caller's options JSON as it was (it copies before decoding)."""
    tab.run(DELETE_JSON_METHODS)
    unchanged = tab.run(
        """async () => {
            const begun = await post("/register/options", {user_name: "ada"});
            const before = JSON.stringify(begun.options);
            await mfakit.register(begun.options);
            return JSON.stringify(begun.options) === before;
        }"""
    )
    assert unchanged is True


# --- autofill (conditional get) ------------------------------------------------


def test_autofill_signs_in(tab: Tab) -> None:
    """startAutofill resolves true and hands the picked passkey's JSON to onCredential."""
    _sign_up(tab, "ada")
    tab.page.get_by_label("Username").focus()
    started = tab.run(
        """async () => {
            const begun = await post("/authenticate/options", {});
            let settle;
            window.autofill = new Promise((resolve, reject) => { settle = {resolve, reject}; });
            return mfakit.startAutofill(
                begun.options,
                (credential) => settle.resolve(
                    post("/authenticate/verify", {ticket: begun.ticket, credential})),
                {onError: settle.reject},
            );
        }"""
    )
    assert started is True
    signed_in = _value(tab.run("() => outcome(window.autofill)"))
    assert signed_in["user_name"] == "ada"
    assert signed_in["user_handle"] is not None


def test_autofill_is_aborted_by_the_passkey_button(tab: Tab) -> None:
    """A pending autofill request ends quietly when the user clicks "Sign in with a passkey"."""
    _sign_up(tab, "ada")
    tab.presence(enabled=False)
    state = tab.run(
        """async () => {
            const begun = await post("/authenticate/options", {timeout_ms: 20000});
            window.autofillCalls = [];
            const started = await mfakit.startAutofill(
                begun.options,
                () => window.autofillCalls.push("credential"),
                {onError: (error) => window.autofillCalls.push(error.code)},
            );
            return [started, await settledWithin(new Promise(() => {}), 300)];
        }"""
    )
    assert state == [True, "pending"]
    # Without the module's abort, Chromium refuses a second request:
    # OperationError "A request is already pending."
    tab.presence(enabled=True)
    tab.page.get_by_role("button", name="Sign in with a passkey").click()
    signed_in = _value(tab.run("() => window.buttonResult"))
    assert signed_in["user_name"] == "ada"
    assert tab.run("() => [window.autofillCalls, window.unhandled]") == [[], []]


def test_autofill_overtaken_while_checking_never_starts(tab: Tab) -> None:
    """A modal sign-in called while autofill still checks support wins; autofill never starts."""
    _sign_up(tab, "ada")
    result = tab.run(
        """async () => {
            const quiet = await post("/authenticate/options", {});
            const modal = await post("/authenticate/options", {user_name: "ada"});
            let calls = [];
            const get = navigator.credentials.get.bind(navigator.credentials);
            navigator.credentials.get = (request) => {
                calls.push(request.mediation || "modal");
                return get(request);
            };
            const autofill = mfakit.startAutofill(quiet.options, () => calls.push("credential"));
            const credential = await mfakit.authenticate(modal.options);
            const verified = await post("/authenticate/verify", {ticket: modal.ticket, credential});
            return [await autofill, calls, verified.user_name];
        }"""
    )
    assert result == [False, ["modal"], "ada"]


def test_autofill_unavailable_starts_nothing(tab: Tab) -> None:
    """Without conditional mediation, startAutofill resolves false and asks the browser nothing."""
    result = tab.run(
        """async () => {
            PublicKeyCredential.isConditionalMediationAvailable = async () => false;
            let calls = 0;
            navigator.credentials.get = () => { calls += 1; return new Promise(() => {}); };
            const begun = await post("/authenticate/options", {});
            const started = await mfakit.startAutofill(begun.options, () => {});
            const conditional = {mediation: "conditional"};
            const refused = await outcome(mfakit.authenticate(begun.options, conditional));
            return [started, calls, refused.error.code];
        }"""
    )
    assert result == [False, 0, "not_supported"]


# --- conditional create ----------------------------------------------------------


def test_capabilities_in_chromium(tab: Tab) -> None:
    """Chromium 156 reports conditional create and get, the signals and the JSON methods."""
    found = tab.run("() => mfakit.capabilities()")
    for name in (
        "supported",
        "conditionalCreate",
        "conditionalGet",
        "userVerifyingPlatformAuthenticator",
        "signalUnknownCredential",
        "signalAllAcceptedCredentials",
        "signalCurrentUserDetails",
        "jsonMethods",
    ):
        assert found[name] is True, name
    assert tab.run("() => mfakit.isSupported()") is True


def test_conditional_create_waits_and_is_aborted_by_a_modal_register(tab: Tab) -> None:
    """A conditional create stays pending in Chromium; a modal register aborts it and completes."""
    result = tab.run(
        """async () => {
            const quiet = signUp({user_name: "ada", timeout_ms: 20000}, {mediation: "conditional"});
            const first = await settledWithin(quiet, 300);
            const modal = await outcome(signUp({user_name: "ada"}));
            return [first, await outcome(quiet), modal];
        }"""
    )
    first, quiet, modal = result
    assert first == "pending"
    error = _error(quiet)
    assert (error["code"], error["cause"], error["ceremony"]) == (
        "aborted",
        "AbortError",
        "register",
    )
    assert _value(modal)["transports"] == ["internal"]
    assert len(tab.authenticator.credentials()) == 1


def test_conditional_create_unsupported_rejects_before_asking(tab: Tab) -> None:
    """Without conditionalCreate in the client capabilities, conditional create is not_supported."""
    result = tab.run(
        """async () => {
            PublicKeyCredential.getClientCapabilities = async () => ({conditionalCreate: false});
            let calls = 0;
            navigator.credentials.create = () => { calls += 1; return new Promise(() => {}); };
            const begun = await post("/register/options", {user_name: "ada"});
            const conditional = {mediation: "conditional"};
            const refused = await outcome(mfakit.register(begun.options, conditional));
            const caps = await mfakit.capabilities();
            const available = await mfakit.isConditionalCreateAvailable();
            return [refused, calls, caps.conditionalCreate, available];
        }"""
    )
    refused, calls, reported, available = result
    assert _error(refused)["code"] == "not_supported"
    assert [calls, reported, available] == [0, False, False]


def test_without_webauthn_everything_says_unsupported(tab: Tab) -> None:
    """Without PublicKeyCredential: isSupported() false, ceremonies not_supported, nothing sent."""
    result = tab.run(
        """async () => {
            const begun = await post("/register/options", {user_name: "ada"});
            delete window.PublicKeyCredential;
            const caps = await mfakit.capabilities();
            return {
                supported: mfakit.isSupported(),
                trueCapabilities: Object.keys(caps).filter((k) => caps[k] !== false),
                register: (await outcome(mfakit.register(begun.options))).error.code,
                autofill: await mfakit.startAutofill({}, () => {}),
                signal: await mfakit.signalUnknownCredential(
                    {rpId: "localhost", credentialId: "AA"}),
            };
        }"""
    )
    assert result == {
        "supported": False,
        "trueCapabilities": [],
        "register": "not_supported",
        "autofill": False,
        "signal": False,
    }


# --- one ceremony at a time ------------------------------------------------------


def test_a_new_ceremony_aborts_the_pending_one(tab: Tab) -> None:
    """A second authenticate() aborts the first, which rejects with "aborted"."""
    _sign_up(tab, "ada")
    tab.presence(enabled=False)
    first = tab.run(
        """async () => {
            window.first = outcome(signIn({user_name: "ada", timeout_ms: 20000}));
            return settledWithin(window.first, 300);
        }"""
    )
    assert first == "pending"
    tab.presence(enabled=True)
    second = _value(tab.run("() => outcome(signIn({user_name: 'ada'}))"))
    assert second["user_name"] == "ada"
    error = _error(tab.run("() => window.first"))
    assert (error["code"], error["cause"]) == ("aborted", "AbortError")


def test_abort_and_the_callers_signal_end_a_ceremony(tab: Tab) -> None:
    """abort() and the caller's AbortSignal (whatever its reason) both end with "aborted"."""
    _sign_up(tab, "ada")
    tab.presence(enabled=False)
    codes = tab.run(
        """async () => {
            const byAbort = outcome(signIn({user_name: "ada"}));
            await settledWithin(byAbort, 200);
            mfakit.abort();
            const controller = new AbortController();
            const bySignal = outcome(signIn({user_name: "ada"}, {signal: controller.signal}));
            await settledWithin(bySignal, 200);
            controller.abort("the page is closing");
            return [(await byAbort).error.code, (await bySignal).error.code];
        }"""
    )
    assert codes == ["aborted", "aborted"]


# --- errors ------------------------------------------------------------------------


def test_registering_twice_is_already_registered(tab: Tab) -> None:
    """excludeCredentials naming the user's credential: InvalidStateError is already_registered."""
    _sign_up(tab, "ada")
    again = tab.run("() => outcome(signUp({user_name: 'ada', exclude: true}))")
    error = _error(again)
    assert (error["code"], error["cause"], error["ceremony"]) == (
        "already_registered",
        "InvalidStateError",
        "register",
    )
    assert len(tab.authenticator.credentials()) == 1


def test_failed_user_verification_is_cancelled(tab: Tab) -> None:
    """A refused verification is NotAllowedError before the timeout: "cancelled"."""
    _sign_up(tab, "ada")
    tab.user_verified(verified=False)
    refused = tab.run("() => outcome(signIn({user_name: 'ada', user_verification: 'required'}))")
    error = _error(refused)
    assert (error["code"], error["cause"], error["ceremony"]) == (
        "cancelled",
        "NotAllowedError",
        "authenticate",
    )


def test_no_user_presence_until_the_timeout_is_timed_out(tab: Tab) -> None:
    """NotAllowedError once the options' timeout has elapsed: "timed_out"."""
    _sign_up(tab, "ada")
    tab.presence(enabled=False)
    late = tab.run("() => outcome(signIn({user_name: 'ada', timeout_ms: 1000}))")
    error = _error(late)
    assert (error["code"], error["cause"]) == ("timed_out", "NotAllowedError")


def test_error_table(tab: Tab) -> None:
    """Every browser error name maps to its stable code; the original is kept as .cause."""
    table = tab.run(
        """async () => {
            const begun = await post("/register/options", {user_name: "ada"});
            const asked = await post("/authenticate/options", {});
            const rows = [];
            const cases = [
                ["create", "NotAllowedError"], ["create", "InvalidStateError"],
                ["get", "InvalidStateError"], ["get", "AbortError"],
                ["get", "SecurityError"], ["create", "NotSupportedError"],
                ["create", "ConstraintError"], ["get", "OperationError"],
                ["get", "TypeError"],
            ];
            for (const [method, name] of cases) {
                const thrown = name === "TypeError"
                    ? new TypeError("bad") : new DOMException("m", name);
                navigator.credentials[method] = () => Promise.reject(thrown);
                const run = method === "create"
                    ? mfakit.register(begun.options) : mfakit.authenticate(asked.options);
                const error = await run.catch((e) => e);
                rows.push([method, name, error.code, error.cause === thrown,
                           error instanceof Error, mfakit.ERROR_CODES.includes(error.code)]);
            }
            navigator.credentials.get = () => Promise.resolve(null);
            const nothing = await mfakit.authenticate(asked.options).catch((e) => e);
            rows.push(["get", "null", nothing.code, nothing.cause === undefined, true, true]);
            return rows;
        }"""
    )
    expected = {
        ("create", "NotAllowedError"): "cancelled",
        ("create", "InvalidStateError"): "already_registered",
        ("get", "InvalidStateError"): "unknown",
        ("get", "AbortError"): "aborted",
        ("get", "SecurityError"): "insecure_context_or_bad_rp_id",
        ("create", "NotSupportedError"): "not_supported",
        ("create", "ConstraintError"): "constraint",
        ("get", "OperationError"): "unknown",
        ("get", "TypeError"): "unknown",
        ("get", "null"): "cancelled",
    }
    assert {(m, n): code for m, n, code, *_ in table} == expected
    # The original error is .cause; the module error is an Error with a listed code.
    assert all(row[3:] == [True, True, True] for row in table), table


# --- signals -----------------------------------------------------------------------


def _credential_ids(tab: Tab) -> set[str]:
    return {
        b64url(b64url_decode(c["credentialId"].replace("+", "-").replace("/", "_")))
        for c in tab.authenticator.credentials()
    }


def test_signal_unknown_credential_removes_it(tab: Tab) -> None:
    """signalUnknownCredential reaches Chromium: the virtual authenticator drops the credential."""
    ada = _sign_up(tab, "ada")
    bob = _sign_up(tab, "bob")
    sent = tab.run(
        "(id) => mfakit.signalUnknownCredential({rpId: 'localhost', credentialId: id})",
        ada["credential_id"],
    )
    assert sent is True
    assert _credential_ids(tab) == {bob["credential_id"]}


def test_signal_all_accepted_credentials_removes_the_others(tab: Tab) -> None:
    """signalAllAcceptedCredentials with an empty list drops that user's credential only."""
    ada = _sign_up(tab, "ada")
    bob = _sign_up(tab, "bob")
    sent = tab.run(
        """(userId) => mfakit.signalAllAcceptedCredentials(
            {rpId: "localhost", userId, allAcceptedCredentialIds: []})""",
        ada["user_id"],
    )
    assert sent is True
    assert _credential_ids(tab) == {bob["credential_id"]}


def test_signal_current_user_details_renames(tab: Tab) -> None:
    """signalCurrentUserDetails updates the name and display name the authenticator keeps."""
    ada = _sign_up(tab, "ada")
    sent = tab.run(
        """(userId) => mfakit.signalCurrentUserDetails(
            {rpId: "localhost", userId, name: "ada@example.com", displayName: "Ada Lovelace"})""",
        ada["user_id"],
    )
    assert sent is True
    (stored,) = tab.authenticator.credentials()
    assert (stored["userName"], stored["userDisplayName"]) == ("ada@example.com", "Ada Lovelace")


def test_signals_without_browser_support_resolve_false(tab: Tab) -> None:
    """Where the browser has no signal methods, each signal resolves to false and sends nothing."""
    _sign_up(tab, "ada")
    sent = tab.run(
        """async () => {
            delete PublicKeyCredential.signalUnknownCredential;
            delete PublicKeyCredential.signalAllAcceptedCredentials;
            delete PublicKeyCredential.signalCurrentUserDetails;
            return [
                await mfakit.signalUnknownCredential({rpId: "localhost", credentialId: "AAAA"}),
                await mfakit.signalAllAcceptedCredentials(
                    {rpId: "localhost", userId: "AAAA", allAcceptedCredentialIds: []}),
                await mfakit.signalCurrentUserDetails(
                    {rpId: "localhost", userId: "AAAA", name: "a", displayName: "A"}),
            ];
        }"""
    )
    assert sent == [False, False, False]
    assert len(tab.authenticator.credentials()) == 1


def test_a_refused_signal_rejects_with_a_module_error(tab: Tab) -> None:
    """A payload the browser refuses (an id not in base64url) rejects as a MfakitWebAuthnError."""
    refused = tab.run(
        """() => outcome(mfakit.signalUnknownCredential(
            {rpId: "localhost", credentialId: "not base64url!"}))"""
    )
    error = _error(refused)
    assert (error["code"], error["cause"], error["ceremony"]) == ("unknown", "TypeError", "signal")
