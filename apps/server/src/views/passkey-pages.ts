/** The passkeys page: the account's passkeys, how each is kept, remove one, add one. */
import { PASSKEY_SCRIPTS } from "../assets.js";
import type { PasskeyRecord } from "../users/passkeys.js";
import type { AccountPageOptions } from "./account-pages.js";
import { formatTime } from "./format.js";
import { html } from "./html.js";
import { csrfField, renderLayout } from "./layout.js";

/** `unavailable`: why this server cannot offer passkeys (PUBLIC_URL), or `null` when it can. */
export function renderPasskeysPage(options: AccountPageOptions & { passkeys: PasskeyRecord[]; hasPassword: boolean; unavailable: string | null }): string {
  const list = options.passkeys.length
    ? html`<ul class="sessions">${options.passkeys.map(
        (p) => html`<li>
  <strong>${p.name}</strong>
  <dl>
    <dt>Added</dt><dd>${formatTime(p.createdAt, options.now)}</dd>
    <dt>Last used</dt><dd>${p.lastUsedAt === null ? "never" : formatTime(p.lastUsedAt, options.now)}</dd>
    <dt>Kept</dt><dd>${p.backedUp ? "Synced by your password manager or platform" : p.deviceType === "multiDevice" ? "Can be synced, not synced yet" : "On this authenticator only"}</dd>
  </dl>
  <form method="post" action="/passkeys/remove">
    ${csrfField(options.csrfToken)}
    <input type="hidden" name="id" value="${p.id}">
    <button type="submit" class="danger">Remove</button>
  </form>
</li>`,
      )}</ul>`
    : html`<p>No passkeys yet. A passkey lets you sign in with your fingerprint, face or screen lock instead of typing your password.</p>`;
  const add = options.unavailable
    ? html`<p class="notice">${options.unavailable}</p>`
    : html`<form class="card" id="add-passkey">
  <label for="passkey-name">Name</label>
  <input id="passkey-name" name="name" type="text" required maxlength="64" value="Passkey" aria-describedby="passkey-hint">
  <p class="hint" id="passkey-hint">A name to recognise it by, like "Laptop" or "Phone". Your browser asks you to confirm with your fingerprint, face, screen lock or security key.</p>
  <button type="submit">Add a passkey</button>
  <p class="error" id="passkey-error" role="alert" hidden></p>
</form>`;
  const password = !options.hasPassword
    ? html`<section class="card"><p>You sign in with passkeys only. If you lose them, "Forgot your password?" on the login page mails you a link that sets a new password.</p></section>`
    : options.passkeys.length > 0
      ? html`<form class="card" method="post" action="/passkeys/remove-password">
  ${csrfField(options.csrfToken)}
  <p>You can also sign in with your password. With passkeys only, there is no password left to phish, guess or reuse; a reset link by mail still sets one again.</p>
  <button type="submit" class="danger">Stop using a password</button>
</form>`
      : "";
  return renderLayout(
    { title: "Passkeys", userEmail: options.email, csrfToken: options.csrfToken, notice: options.notice, error: options.error, scripts: options.unavailable ? [] : PASSKEY_SCRIPTS },
    html`${list}
${add}
${password}`,
  );
}
