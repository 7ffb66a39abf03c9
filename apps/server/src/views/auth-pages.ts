/** Pages for anonymous visitors and re-authentication: log in, register, confirm password. */
import { PASSKEY_SCRIPTS } from "../assets.js";
import { csrfField, renderLayout } from "./layout.js";
import { html, type SafeHtml } from "./html.js";

/** Common inputs of a form page. */
export interface FormPageOptions {
  csrfToken: string;
  error?: string | null;
  notice?: string | null;
  /** The email to refill after an error (never the password). */
  email?: string;
  /** Offer passkeys (the server has a relying party, see passkeys/relying-party.ts). */
  passkeys?: boolean;
}

/** A passkey button and the place its errors appear (public/passkeys.js wires it by id). */
function passkeyButton(id: string, label: string): SafeHtml {
  return html`<section class="card">
  <button type="button" id="${id}">${label}</button>
  <p class="error" id="passkey-error" role="alert" hidden></p>
</section>`;
}

/** The login form, with "remember me", and "Sign in with a passkey" when passkeys are available. */
export function renderLoginPage(options: FormPageOptions): string {
  return renderLayout(
    { title: "Log in", userEmail: null, error: options.error, notice: options.notice, scripts: options.passkeys ? PASSKEY_SCRIPTS : [] },
    html`<form class="card" method="post" action="/login">
  ${csrfField(options.csrfToken)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${options.email ?? ""}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <label class="check"><input type="checkbox" name="remember" value="on"> Remember me on this device</label>
  <p class="hint">Without "remember me" you are logged out when the browser closes or after a short idle period.</p>
  <button type="submit">Log in</button>
  <p class="hint"><a href="/forgot-password">Forgot your password?</a></p>
</form>
${options.passkeys ? html`<p class="or">or</p>${passkeyButton("passkey-sign-in", "Sign in with a passkey")}` : ""}
<p>No account yet? <a href="/register">Register</a>.</p>`,
  );
}

/** The registration form. */
export function renderRegisterPage(options: FormPageOptions): string {
  return renderLayout(
    { title: "Create an account", userEmail: null, error: options.error, notice: options.notice },
    html`<form class="card" method="post" action="/register">
  ${csrfField(options.csrfToken)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${options.email ?? ""}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="15" maxlength="128" aria-describedby="pw-hint">
  <p class="hint" id="pw-hint">At least 15 characters, at most 128. Any characters, spaces and emoji included; a passphrase works well. Common passwords are refused.</p>
  <button type="submit">Create account</button>
</form>
<p>Already registered? <a href="/login">Log in</a>.</p>`,
  );
}

/** Asks for the password again before a sensitive action (revoking sessions). */
export function renderReauthPage(options: FormPageOptions & { userEmail: string; returnTo: string }): string {
  return renderLayout(
    { title: "Confirm your password", userEmail: options.userEmail, csrfToken: options.csrfToken, error: options.error, scripts: options.passkeys ? PASSKEY_SCRIPTS : [] },
    html`<form class="card" method="post" action="/reauth">
  ${csrfField(options.csrfToken)}
  <input type="hidden" name="returnTo" value="${options.returnTo}">
  <p>For your security, enter your password again to manage your sessions and passkeys.</p>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Confirm</button>
</form>
${options.passkeys ? html`<p class="or">or</p>${passkeyButton("passkey-confirm", "Confirm with a passkey")}` : ""}`,
  );
}
