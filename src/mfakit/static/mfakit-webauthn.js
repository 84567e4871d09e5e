// mfakit-webauthn.js: the browser half of mfakit's passkey ceremonies.
//
// A dependency-free ES module (no build step). It takes the WebAuthn Level 3
// JSON that mfakit's registration_options(...).to_json() and
// authentication_options(...).to_json() produce, runs the ceremony, and returns
// the credential's Level 3 JSON (what verify_registration and
// verify_authentication take). It uses the browser's own JSON methods
// (PublicKeyCredential.parseCreationOptionsFromJSON, parseRequestOptionsFromJSON,
// credential.toJSON()) and converts base64url itself where they are missing.
//
// One ceremony at a time: starting one aborts the one still pending (a waiting
// autofill request, say), which then rejects with the code "aborted".
// Every failure is a MfakitWebAuthnError whose .code is one of ERROR_CODES.
//
// Guide: docs/guides/browser-module.md in the mfakit repository.

/** The stable error codes, in MfakitWebAuthnError.code. */
export const ERROR_CODES = Object.freeze([
  "aborted",
  "already_registered",
  "cancelled",
  "constraint",
  "insecure_context_or_bad_rp_id",
  "not_supported",
  "timed_out",
  "unknown",
]);

/** Browsers end a timed-out ceremony at its timeout; this much earlier still counts. */
const TIMEOUT_SLACK_MS = 50;

/** A failed ceremony: `.code` is a stable name, `.cause` the browser's error. */
export class MfakitWebAuthnError extends Error {
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MfakitWebAuthnError";
    this.code = code;
    this.ceremony = options.ceremony || null;
  }
}

const DOM_ERROR_CODES = {
  AbortError: "aborted",
  ConstraintError: "constraint",
  NotSupportedError: "not_supported",
  SecurityError: "insecure_context_or_bad_rp_id",
};

const MESSAGES = {
  aborted: "The ceremony was aborted.",
  already_registered: "This authenticator is already registered.",
  cancelled: "The ceremony was cancelled or not allowed.",
  constraint: "The authenticator cannot satisfy the requested options.",
  insecure_context_or_bad_rp_id: "Passkeys need HTTPS (or localhost) and a matching RP ID.",
  not_supported: "This browser does not support this kind of passkey ceremony.",
  timed_out: "The ceremony timed out.",
  unknown: "The ceremony failed.",
};

function failure(code, ceremony, cause) {
  return new MfakitWebAuthnError(code, MESSAGES[code], { ceremony, cause });
}

// NotAllowedError means "cancelled" or "timed out"; browsers do not say which
// (for privacy). It is "timed_out" when it came no earlier than the
// options' timeout, measured from the call; else "cancelled".
function mapError(error, ceremony, startedAt, timeoutMs) {
  if (error instanceof MfakitWebAuthnError) {
    return error;
  }
  const name = error && error.name;
  let code = DOM_ERROR_CODES[name] || "unknown";
  if (name === "NotAllowedError") {
    const elapsed = performance.now() - startedAt;
    const timedOut = typeof timeoutMs === "number" && elapsed >= timeoutMs - TIMEOUT_SLACK_MS;
    code = timedOut ? "timed_out" : "cancelled";
  } else if (name === "InvalidStateError" && ceremony === "register") {
    code = "already_registered";
  }
  return failure(code, ceremony, error);
}

// --- base64url, for browsers without the Level 3 JSON methods --------------

function toBase64url(value) {
  const bytes = value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "===".slice((base64.length + 3) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes.buffer;
}

function isBinary(value) {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

// Binary members of extension outputs (prf, largeBlob, credBlob...) become base64url.
function encodeBinaries(value) {
  if (isBinary(value)) {
    return toBase64url(value);
  }
  if (Array.isArray(value)) {
    return value.map(encodeBinaries);
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeBinaries(v)]));
  }
  return value;
}

function decodeDescriptors(list) {
  return (list || []).map((item) => ({ ...item, id: fromBase64url(item.id) }));
}

function decodePrfValues(values) {
  const decoded = { first: fromBase64url(values.first) };
  if (values.second !== undefined) {
    decoded.second = fromBase64url(values.second);
  }
  return decoded;
}

// The prf extension is the one input mfakit's options may carry in base64url.
function decodeExtensions(extensions) {
  if (!extensions || !extensions.prf) {
    return extensions;
  }
  const prf = { ...extensions.prf };
  if (prf.eval) {
    prf.eval = decodePrfValues(prf.eval);
  }
  if (prf.evalByCredential) {
    prf.evalByCredential = Object.fromEntries(
      Object.entries(prf.evalByCredential).map(([id, v]) => [id, decodePrfValues(v)]),
    );
  }
  return { ...extensions, prf };
}

function withoutUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

function parseCreationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return withoutUndefined({
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: decodeDescriptors(json.excludeCredentials),
    extensions: decodeExtensions(json.extensions),
  });
}

function parseRequestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return withoutUndefined({
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: decodeDescriptors(json.allowCredentials),
    extensions: decodeExtensions(json.extensions),
  });
}

function optionalCall(object, method) {
  return typeof object[method] === "function" ? object[method]() : undefined;
}

function attestationResponseJSON(response) {
  const publicKey = optionalCall(response, "getPublicKey");
  const authenticatorData = optionalCall(response, "getAuthenticatorData");
  return {
    clientDataJSON: toBase64url(response.clientDataJSON),
    attestationObject: toBase64url(response.attestationObject),
    transports: optionalCall(response, "getTransports") || [],
    publicKeyAlgorithm: optionalCall(response, "getPublicKeyAlgorithm"),
    publicKey: publicKey ? toBase64url(publicKey) : undefined,
    authenticatorData: authenticatorData ? toBase64url(authenticatorData) : undefined,
  };
}

function assertionResponseJSON(response) {
  return {
    clientDataJSON: toBase64url(response.clientDataJSON),
    authenticatorData: toBase64url(response.authenticatorData),
    signature: toBase64url(response.signature),
    userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
  };
}

// RegistrationResponseJSON (§5.1.8) or AuthenticationResponseJSON (§5.1.9).
function credentialJSON(credential, ceremony) {
  if (typeof credential.toJSON === "function") {
    return credential.toJSON();
  }
  const response = ceremony === "register"
    ? attestationResponseJSON(credential.response)
    : assertionResponseJSON(credential.response);
  return withoutUndefined({
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: encodeBinaries(credential.getClientExtensionResults()),
    response: withoutUndefined(response),
  });
}

// --- support checks -----------------------------------------------------------

/** Whether this page can run WebAuthn ceremonies at all (API present, secure context). */
export function isSupported() {
  return Boolean(
    globalThis.isSecureContext &&
      globalThis.PublicKeyCredential &&
      globalThis.navigator &&
      navigator.credentials &&
      typeof navigator.credentials.create === "function" &&
      typeof navigator.credentials.get === "function",
  );
}

async function clientCapabilities() {
  if (typeof PublicKeyCredential.getClientCapabilities !== "function") {
    return {};
  }
  try {
    return { ...(await PublicKeyCredential.getClientCapabilities()) };
  } catch (error) {
    return {};
  }
}

async function askBoolean(method) {
  if (typeof PublicKeyCredential[method] !== "function") {
    return false;
  }
  try {
    return (await PublicKeyCredential[method]()) === true;
  } catch (error) {
    return false;
  }
}

/** Whether autofill sign-in (conditional get) is available. */
export async function isConditionalMediationAvailable() {
  return isSupported() && askBoolean("isConditionalMediationAvailable");
}

/** Whether conditional create (a passkey saved quietly after a password sign-in) is available. */
export async function isConditionalCreateAvailable() {
  return isSupported() && (await clientCapabilities()).conditionalCreate === true;
}

/**
 * What the browser can do: its getClientCapabilities() answer (an empty one
 * where it has none), completed with the members this module relies on.
 */
export async function capabilities() {
  const supported = isSupported();
  const found = supported ? await clientCapabilities() : {};
  const P = supported ? PublicKeyCredential : {};
  const has = (method) => typeof P[method] === "function";
  return {
    ...found,
    supported,
    conditionalCreate: found.conditionalCreate === true,
    conditionalGet: found.conditionalGet === true ||
      (supported && (await askBoolean("isConditionalMediationAvailable"))),
    userVerifyingPlatformAuthenticator: found.userVerifyingPlatformAuthenticator === true ||
      (supported && (await askBoolean("isUserVerifyingPlatformAuthenticatorAvailable"))),
    signalUnknownCredential: has("signalUnknownCredential"),
    signalAllAcceptedCredentials: has("signalAllAcceptedCredentials"),
    signalCurrentUserDetails: has("signalCurrentUserDetails"),
    jsonMethods: has("parseCreationOptionsFromJSON") && has("parseRequestOptionsFromJSON") &&
      Boolean(P.prototype) && typeof P.prototype.toJSON === "function",
  };
}

// --- one ceremony at a time ---------------------------------------------------
//
// The last call wins. Chromium refuses a second request while one is pending
// ("A request is already pending."), so a new ceremony aborts the pending one.
// A call that must first ask whether it is supported (a conditional one) and
// is overtaken by a newer call meanwhile never starts: it rejects "aborted".

let pending = null; // the AbortController of the ceremony in progress
let calls = 0; // counts calls, so a call knows whether a newer one came

/** Abort the ceremony in progress, if any (it rejects with the code "aborted"). */
export function abort() {
  if (pending) {
    pending.abort(new DOMException("Superseded by another ceremony.", "AbortError"));
    pending = null;
  }
}

// The ceremony's controller, aborted by abort() or by the caller's signal.
function claim(signal) {
  abort();
  const controller = new AbortController();
  pending = controller;
  let release = () => {};
  if (signal) {
    const forward = () => controller.abort(signal.reason);
    signal.addEventListener("abort", forward, { once: true });
    release = () => signal.removeEventListener("abort", forward);
  }
  return { controller, release };
}

// `check` (optional) is awaited before starting: false means "not_supported".
// Without it nothing is awaited before the browser is asked, so the call stays
// within the click's user activation (Safari wants one for a modal ceremony).
async function run(ceremony, optionsJSON, { mediation, signal, check, started } = {}) {
  const call = ++calls;
  if (!isSupported() || (check && !(await check()))) {
    throw failure("not_supported", ceremony);
  }
  if (call !== calls || (signal && signal.aborted)) {
    throw failure("aborted", ceremony, signal && signal.reason);
  }
  const { controller, release } = claim(signal);
  const startedAt = performance.now();
  try {
    const request = { signal: controller.signal };
    if (mediation) {
      request.mediation = mediation;
    }
    let asked;
    if (ceremony === "register") {
      request.publicKey = parseCreationOptions(optionsJSON);
      asked = navigator.credentials.create(request);
    } else {
      request.publicKey = parseRequestOptions(optionsJSON);
      asked = navigator.credentials.get(request);
    }
    if (started) {
      started();
    }
    const credential = await asked;
    if (!credential) {
      throw failure("cancelled", ceremony);
    }
    return credentialJSON(credential, ceremony);
  } catch (error) {
    if (controller.signal.aborted) {
      // Whatever the abort reason was (the caller's signal may carry any value).
      throw failure("aborted", ceremony, error);
    }
    // An options error (bad base64url, say) is a TypeError: "unknown", with its cause.
    throw mapError(error, ceremony, startedAt, optionsJSON && optionsJSON.timeout);
  } finally {
    release();
    if (pending === controller) {
      pending = null;
    }
  }
}

/**
 * Create a passkey from registration options JSON; resolves to the
 * RegistrationResponseJSON to post to the server.
 *
 * `mediation: "conditional"` asks for conditional create: the browser may save
 * a passkey without a dialog (after a password sign-in, say). Where it is not
 * available, this rejects with "not_supported" before asking the browser.
 */
export function register(optionsJSON, { mediation, signal } = {}) {
  const check = mediation === "conditional" ? isConditionalCreateAvailable : undefined;
  return run("register", optionsJSON, { mediation, signal, check });
}

/**
 * Sign in with a passkey from request options JSON; resolves to the
 * AuthenticationResponseJSON to post to the server. With
 * `mediation: "conditional"` where autofill is unavailable, rejects with
 * "not_supported" before asking the browser (startAutofill wraps this case).
 */
export function authenticate(optionsJSON, { mediation, signal } = {}) {
  const check = mediation === "conditional" ? isConditionalMediationAvailable : undefined;
  return run("authenticate", optionsJSON, { mediation, signal, check });
}

/**
 * Offer passkeys in the autofill of `<input autocomplete="username webauthn">`.
 *
 * Resolves to true once the request is waiting, or false where it did not
 * start (autofill unavailable, or a newer ceremony came first). When the user
 * picks a passkey, `onCredential(json)` is called with the
 * AuthenticationResponseJSON. An "aborted" end (another ceremony started) is
 * silent; other errors, and errors thrown by onCredential, go to `onError`
 * (without it they are rethrown: an unhandled rejection the console shows).
 */
export function startAutofill(optionsJSON, onCredential, { onError, signal } = {}) {
  let begun = false;
  return new Promise((resolve) => {
    const started = () => {
      begun = true;
      resolve(true);
    };
    const check = isConditionalMediationAvailable;
    run("authenticate", optionsJSON, { mediation: "conditional", signal, check, started })
      .then(onCredential)
      .catch((error) => {
        resolve(false);
        const code = error instanceof MfakitWebAuthnError ? error.code : null;
        if (code === "aborted" || (code === "not_supported" && !begun)) {
          return;
        }
        if (!onError) {
          throw error;
        }
        onError(error);
      });
  });
}

// --- signals (§5.1.10): keep the user's passkey providers in step ------------

// Resolves to false where the browser has no such method. A browser's refusal
// (a malformed id is a TypeError) rejects as a MfakitWebAuthnError.
async function sendSignal(method, payload) {
  if (!isSupported() || typeof PublicKeyCredential[method] !== "function") {
    return false;
  }
  try {
    await PublicKeyCredential[method](payload);
  } catch (error) {
    throw mapError(error, "signal", performance.now());
  }
  return true;
}

/** Tell providers this credential id is unknown to the server; resolves to whether sent. */
export function signalUnknownCredential({ rpId, credentialId }) {
  return sendSignal("signalUnknownCredential", { rpId, credentialId });
}

/** Tell providers which credential ids the server accepts for a user; resolves to whether sent. */
export function signalAllAcceptedCredentials({ rpId, userId, allAcceptedCredentialIds }) {
  return sendSignal("signalAllAcceptedCredentials", { rpId, userId, allAcceptedCredentialIds });
}

/** Tell providers a user's current name and display name; resolves to whether sent. */
export function signalCurrentUserDetails({ rpId, userId, name, displayName }) {
  return sendSignal("signalCurrentUserDetails", { rpId, userId, name, displayName });
}
