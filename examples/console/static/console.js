// mfakit console: passkey ceremonies (WebAuthn Level 3 JSON helpers) and small helpers.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

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
      const failure = new Error(data.error || "The request failed.");
      failure.stepUp = data.step_up;  // a fresh second factor is needed first
      throw failure;
    }
    return data;
  }

  // "Trust this browser": the checkbox answers for every way of verifying.
  const trust = document.getElementById("trust-browser");
  function trusted() { return Boolean(trust && trust.checked); }
  document.querySelectorAll("input[data-trust]").forEach((field) => {
    field.form.addEventListener("submit", () => { field.value = trusted() ? "1" : ""; });
  });

  function say(element, text, isError) {
    if (!element) { return; }
    element.textContent = text;
    element.classList.toggle("error", Boolean(isError));
  }

  function supported() {
    return window.PublicKeyCredential &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
  }

  function explainDomError(error) {
    if (error && error.name === "NotAllowedError") { return "Cancelled or timed out. Try again."; }
    if (error && error.name === "InvalidStateError") { return "This authenticator is already registered."; }
    return error && error.message ? error.message : "Something went wrong.";
  }

  // Add a named passkey or security key.
  const addForm = document.getElementById("add-passkey");
  if (addForm) {
    const status = document.getElementById("passkey-status");
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!supported()) { say(status, "This browser does not support passkeys.", true); return; }
      const form = new FormData(addForm);
      const button = addForm.querySelector("button[type=submit]");
      button.disabled = true;
      say(status, "Follow your browser's instructions…");
      try {
        let begun;
        try {
          begun = await postJSON(addForm.dataset.options, { name: form.get("name"), kind: form.get("kind") });
        } catch (error) {
          if (error.stepUp) { window.location.assign(error.stepUp); return; }
          throw error;
        }
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(begun.options);
        const credential = await navigator.credentials.create({ publicKey });
        const done = await postJSON(addForm.dataset.register, { challenge_id: begun.challenge_id, credential: credential.toJSON() });
        window.location.assign(done.redirect);
      } catch (error) {
        say(status, explainDomError(error), true);
        button.disabled = false;
      }
    });
  }

  // Sign in with a passkey or security key (second factor).
  const signIn = document.getElementById("passkey-signin");
  if (signIn) {
    const status = document.getElementById("passkey-status");
    signIn.addEventListener("click", async () => {
      if (!supported()) { say(status, "This browser does not support passkeys.", true); return; }
      signIn.disabled = true;
      say(status, "Follow your browser's instructions…");
      try {
        const begun = await postJSON(signIn.dataset.options, {});
        const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(begun.options);
        const credential = await navigator.credentials.get({ publicKey });
        const done = await postJSON(signIn.dataset.verify, { challenge_id: begun.challenge_id, credential: credential.toJSON(), trust: trusted() });
        window.location.assign(done.redirect);
      } catch (error) {
        say(status, explainDomError(error), true);
        signIn.disabled = false;
      }
    });
  }

  // Copy backup codes.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const list = document.getElementById(button.dataset.copy);
      const status = document.getElementById("copy-status");
      try {
        await navigator.clipboard.writeText(list.innerText);
        say(status, "Copied.");
      } catch (e) {
        say(status, "Copy failed: select the codes and copy them.", true);
      }
    });
  });
})();
