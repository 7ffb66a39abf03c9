/* global SimpleWebAuthnBrowser, location */
/**
 * The pages' only script: passkeys. Served from this server (the CSP allows scripts from 'self' only, and nothing
 * inline), next to @simplewebauthn/browser's bundle, which defines SimpleWebAuthnBrowser. It wires three controls when
 * the page has them, each running one WebAuthn ceremony against the JSON API (/api/passkeys/*):
 *   form#add-passkey        on /passkeys: create a passkey with the typed name
 *   button#passkey-sign-in  on /login: sign in with any passkey of this site (discoverable credentials)
 *   button#passkey-confirm  on /reauth: re-authenticate with a passkey instead of the password
 * Errors go to the page's #passkey-error element. The session cookie rides along (same origin); no token is handled here.
 */
(function () {
  "use strict";
  var webauthn = SimpleWebAuthnBrowser;
  var errorBox = document.getElementById("passkey-error");

  function showError(text) {
    if (!errorBox) return;
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  async function postJson(url, body) {
    var res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    var data = await res.json().catch(function () {
      return {};
    });
    return { status: res.status, data: data };
  }

  /** A refusal the user can act on, in words. */
  function explain(result) {
    if (result.status === 403 && result.data.error === "reauthentication_required") return "reauth";
    if (result.status === 429) return "Too many attempts. Try again later.";
    if (result.status === 401) return "This passkey is not recognised here. It may have been removed.";
    if (result.status === 409 && result.data.error === "passkey_exists") return "This authenticator already holds a passkey for your account.";
    return (result.data && result.data.message) || "Something went wrong. Try again.";
  }

  /** Run the browser's part of a ceremony; a cancelled prompt is not an error worth more than a line. */
  async function ceremony(run) {
    try {
      return await run();
    } catch (error) {
      showError(error && error.name === "NotAllowedError" ? "The passkey prompt was closed or timed out." : "This browser could not use a passkey: " + (error && error.message));
      return null;
    }
  }

  function unsupported() {
    if (webauthn.browserSupportsWebAuthn()) return false;
    showError("This browser does not support passkeys.");
    return true;
  }

  async function signIn(button, options) {
    if (unsupported()) return;
    button.disabled = true;
    try {
      var start = await postJson("/api/passkeys/login/options");
      if (start.status !== 200) return showError(explain(start));
      var response = await ceremony(function () {
        return webauthn.startAuthentication({ optionsJSON: start.data });
      });
      if (!response) return;
      var done = await postJson("/api/passkeys/login/verify", { response: response, remember: options.remember() });
      if (done.status !== 200) return showError(explain(done));
      location.assign(options.next());
    } finally {
      button.disabled = false;
    }
  }

  var signInButton = document.getElementById("passkey-sign-in");
  if (signInButton) {
    signInButton.addEventListener("click", function () {
      var remember = document.querySelector('input[name="remember"]');
      void signIn(signInButton, { remember: function () { return Boolean(remember && remember.checked); }, next: function () { return "/dashboard"; } });
    });
  }

  var confirmButton = document.getElementById("passkey-confirm");
  if (confirmButton) {
    confirmButton.addEventListener("click", function () {
      var returnTo = document.querySelector('input[name="returnTo"]');
      void signIn(confirmButton, { remember: function () { return false; }, next: function () { return returnTo ? returnTo.value : "/dashboard"; } });
    });
  }

  var addForm = document.getElementById("add-passkey");
  if (addForm) {
    addForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (unsupported()) return;
      var name = addForm.querySelector('input[name="name"]').value;
      var start = await postJson("/api/passkeys/register/options");
      var problem = start.status === 200 ? null : explain(start);
      if (problem === "reauth") return location.assign("/reauth?returnTo=/passkeys");
      if (problem) return showError(problem);
      var response = await ceremony(function () {
        return webauthn.startRegistration({ optionsJSON: start.data });
      });
      if (!response) return;
      var done = await postJson("/api/passkeys/register/verify", { name: name, response: response });
      if (done.status === 201) return location.assign("/passkeys?notice=passkey-added");
      problem = explain(done);
      if (problem === "reauth") return location.assign("/reauth?returnTo=/passkeys");
      showError(problem);
    });
  }
})();
