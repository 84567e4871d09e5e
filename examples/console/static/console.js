// mfakit console: the page behaviour. Every passkey ceremony goes through
// mfakit's browser module (served by the console at /js/mfakit-webauthn.js).
import {
  MfakitWebAuthnError,
  authenticate,
  isConditionalCreateAvailable,
  isConditionalMediationAvailable,
  register,
  signalAllAcceptedCredentials,
  signalCurrentUserDetails,
  signalUnknownCredential,
  startAutofill,
} from "/js/mfakit-webauthn.js";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
// The script's messages, in the page's language (the page embeds them from
// the console's catalog: nothing the user reads is written here).
const TEXTS = JSON.parse(document.getElementById("console-texts").textContent);

// A JSON POST with this session's CSRF token. A refusal throws an Error with the
// server's message; .stepUp (verify a factor first) and .signal (an unknown
// credential) come along when the server sends them.
async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    const failure = new Error(data.error || TEXTS.failed);
    failure.stepUp = data.step_up;
    failure.signal = data.signal;
    throw failure;
  }
  return data;
}

function say(element, text, isError) {
  if (!element) { return; }
  element.textContent = text;
  element.classList.toggle("error", Boolean(isError));
}

// What to tell the user for each of the module's error codes (TEXTS has one
// message per code: aborted, already_registered, cancelled, ...).
function explain(error) {
  if (error instanceof MfakitWebAuthnError) {
    return TEXTS["ceremony_" + error.code] || TEXTS.error;
  }
  return error && error.message ? error.message : TEXTS.error;
}

// Tests (and curious readers) can see in the page that the signals were sent.
function markSignalsSent() {
  document.documentElement.dataset.passkeySignals = "sent";
}

// A failed ceremony: verify a factor first, or tell the providers about an
// unknown credential, and say what happened.
function fail(status, error) {
  if (error.stepUp) { window.location.assign(error.stepUp); return; }
  say(status, explain(error), true);
  if (error.signal) {
    signalUnknownCredential(error.signal).catch(() => false).then(markSignalsSent);
  }
}

// One ceremony: options from the server, the browser's answer back to it.
async function ceremony(run, optionsUrl, optionsBody, finishUrl, finishBody = {}) {
  const begun = await postJSON(optionsUrl, optionsBody);
  const credential = await run(begun.options);
  return postJSON(finishUrl, { challenge_id: begun.challenge_id, credential, ...finishBody });
}

// Run `work` (a ceremony) when `button` is used; follow the server's redirect.
function onPress(button, status, eventName, work) {
  const target = eventName === "submit" ? button.form || button : button;
  target.addEventListener(eventName, async (event) => {
    event.preventDefault();
    button.disabled = true;
    say(status, TEXTS.waiting);
    try {
      const done = await work();
      window.location.assign(done.redirect);
    } catch (error) {
      fail(status, error);
      button.disabled = false;
    }
  });
}

// "Trust this browser": the checkbox answers for every way of verifying.
const trust = document.getElementById("trust-browser");
function trusted() { return Boolean(trust && trust.checked); }
document.querySelectorAll("input[data-trust]").forEach((field) => {
  field.form.addEventListener("submit", () => { field.value = trusted() ? "1" : ""; });
});

// The security page: add a named passkey or security key.
const addForm = document.getElementById("add-passkey");
if (addForm) {
  const button = addForm.querySelector("button[type=submit]");
  onPress(button, document.getElementById("passkey-status"), "submit", () => {
    const form = new FormData(addForm);
    const chosen = { name: form.get("name"), kind: form.get("kind") };
    return ceremony(register, addForm.dataset.options, chosen, addForm.dataset.register);
  });
}

// The second step of sign-in, and "Confirm it's you": a passkey or security key.
const verify = document.getElementById("passkey-signin");
if (verify) {
  onPress(verify, document.getElementById("passkey-status"), "click", () =>
    ceremony(authenticate, verify.dataset.options, {}, verify.dataset.verify, { trust: trusted() }));
}

// The sign-in page: passkeys in the e-mail field's autofill, and a button.
const signIn = document.getElementById("passkey-sign-in");
if (signIn) {
  const status = document.getElementById("passkey-status");
  const button = document.getElementById("passkey-sign-in-button");
  let pressed = false;
  // The module aborts a waiting autofill request when the button's ceremony starts.
  onPress(button, status, "click", () => {
    pressed = true;
    return ceremony(authenticate, signIn.dataset.options, { mediation: "optional" }, signIn.dataset.verify);
  });
  // No autofill (not available, or the options could not be had): the button remains.
  startSignInAutofill(signIn, status, () => pressed).catch(() => {});
}

async function startSignInAutofill(signIn, status, pressed) {
  if (!(await isConditionalMediationAvailable())) { return; }
  const begun = await postJSON(signIn.dataset.options, { mediation: "conditional" });
  if (pressed()) { return; } // the button came first: its ceremony wins
  const waiting = await startAutofill(begun.options, async (credential) => {
    say(status, TEXTS.signing_in);
    const done = await postJSON(signIn.dataset.verify, { challenge_id: begun.challenge_id, credential });
    window.location.assign(done.redirect);
  }, { onError: (error) => fail(status, error) });
  if (waiting) { signIn.dataset.autofill = "waiting"; }
}

// After a password sign-in: offer a passkey. The browser may save one quietly
// (conditional create); the offer's button asks for one the ordinary way.
const offer = document.getElementById("passkey-offer");
if (offer) {
  const status = document.getElementById("offer-status");
  offerPasskey(offer, status).catch(() => { /* no offer: the service refused, or offline */ });
  document.getElementById("offer-dismiss").addEventListener("click", async () => {
    offer.hidden = true;
    try { await postJSON(offer.dataset.dismiss, {}); } catch (error) { /* shown again later */ }
  });
}

async function offerPasskey(offer, status) {
  const begun = await postJSON(offer.dataset.upgrade, {});
  offer.hidden = false;
  const create = document.getElementById("offer-create");
  onPress(create, status, "click", () =>
    ceremony(register, offer.dataset.options, { name: begun.name, kind: "passkey" }, offer.dataset.register));
  if (!(await isConditionalCreateAvailable())) { return; }
  offer.dataset.conditionalCreate = "started";
  const credential = await register(begun.options, { mediation: "conditional" });
  const done = await postJSON(offer.dataset.register, { challenge_id: begun.challenge_id, credential });
  window.location.assign(done.redirect);
}

// Pages of the signed-in user: keep their passkey providers in step.
const signals = document.getElementById("passkey-signals");
if (signals) {
  sendSignals(JSON.parse(signals.textContent)).finally(markSignalsSent);
}

async function sendSignals(payloads) {
  const sends = [
    ...payloads.unknownCredentials.map(signalUnknownCredential),
    ...payloads.allAcceptedCredentials.map(signalAllAcceptedCredentials),
    ...payloads.currentUserDetails.map(signalCurrentUserDetails),
  ];
  // A refused signal changes nothing for the user: nothing to show.
  await Promise.allSettled(sends);
}

// Copy backup codes.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const list = document.getElementById(button.dataset.copy);
    const status = document.getElementById("copy-status");
    try {
      await navigator.clipboard.writeText(list.innerText);
      say(status, TEXTS.copied);
    } catch (e) {
      say(status, TEXTS.copy_failed, true);
    }
  });
});
