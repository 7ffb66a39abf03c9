/** Pages for a signed-in user: dashboard, change password, devices. */
import type { SignInMethod } from "../session-data.js";
import { describeUserAgent, formatTime } from "./format.js";
import { html } from "./html.js";
import { csrfField, renderLayout } from "./layout.js";

/** The current session as the dashboard shows it (times in ms). */
export interface SessionSummary {
  key: string;
  createdAt: number;
  touchedAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
  persistent: boolean;
  ip?: string;
  userAgent?: string;
  /** How the session signed in. */
  method: SignInMethod;
}

const METHOD_NAMES: Record<SignInMethod, string> = { password: "Password", passkey: "Passkey" };

/** Common inputs of a signed-in page. */
export interface AccountPageOptions {
  email: string;
  csrfToken: string;
  now: number;
  notice?: string | null;
  error?: string | null;
}

/** Who you are and what this session is. */
export function renderDashboardPage(options: AccountPageOptions & { session: SessionSummary | null; createdAt: number }): string {
  const s = options.session;
  return renderLayout(
    { title: "Dashboard", userEmail: options.email, csrfToken: options.csrfToken, notice: options.notice, error: options.error },
    html`<section class="card">
  <h2>You are signed in</h2>
  <dl>
    <dt>Email</dt><dd>${options.email}</dd>
    <dt>Account created</dt><dd>${formatTime(options.createdAt, options.now)}</dd>
  </dl>
</section>
${s
  ? html`<section class="card">
  <h2>This session</h2>
  <dl>
    <dt>Signed in</dt><dd>${formatTime(s.createdAt, options.now)}</dd>
    <dt>Signed in with</dt><dd>${METHOD_NAMES[s.method]}</dd>
    <dt>Last seen</dt><dd>${formatTime(s.touchedAt, options.now)}</dd>
    <dt>Expires</dt><dd>${formatTime(s.expiresAt, options.now)}</dd>
    <dt>Ends at the latest</dt><dd>${formatTime(s.absoluteExpiresAt, options.now)}</dd>
    <dt>Kind</dt><dd>${s.persistent ? "Remembered on this device" : "Ends when the browser closes"}</dd>
  </dl>
</section>`
  : ""}
<p><a href="/devices">See all your devices</a> · <a href="/passkeys">Passkeys</a> · <a href="/password">Change your password</a></p>`,
  );
}

/**
 * The change-password form: the current password is always required. An account without a password (passkeys only)
 * gets a button that mails it a reset link instead, which sets one.
 */
export function renderPasswordPage(options: AccountPageOptions & { hasPassword: boolean }): string {
  if (!options.hasPassword) {
    return renderLayout(
      { title: "Change password", userEmail: options.email, csrfToken: options.csrfToken, notice: options.notice, error: options.error },
      html`<form class="card" method="post" action="/forgot-password">
  ${csrfField(options.csrfToken)}
  <input type="hidden" name="email" value="${options.email}">
  <p>You sign in with passkeys only, so there is no password to change. To use a password again, get a link by mail that sets one.</p>
  <button type="submit">Mail me a link</button>
</form>`,
    );
  }
  return renderLayout(
    { title: "Change password", userEmail: options.email, csrfToken: options.csrfToken, notice: options.notice, error: options.error },
    html`<form class="card" method="post" action="/password">
  ${csrfField(options.csrfToken)}
  <input type="text" autocomplete="username" value="${options.email}" hidden aria-hidden="true">
  <label for="currentPassword">Current password</label>
  <input id="currentPassword" name="currentPassword" type="password" autocomplete="current-password" required>
  <label for="newPassword">New password</label>
  <input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required minlength="15" maxlength="128" aria-describedby="pw-hint">
  <p class="hint" id="pw-hint">At least 15 characters. Your other sessions are logged out when the password changes.</p>
  <button type="submit">Change password</button>
</form>`,
  );
}

/** Every session of the user, or a note when the store cannot list them. */
export function renderDevicesPage(
  options: AccountPageOptions & { sessions: SessionSummary[] | null; currentKey: string | null },
): string {
  const list =
    options.sessions === null
      ? html`<p class="notice">This server's session store cannot list sessions, so your devices cannot be shown here. "Log out everywhere else" still works.</p>`
      : html`<ul class="sessions">${options.sessions.map((s) => {
          const current = s.key === options.currentKey;
          return html`<li>
  <strong>${describeUserAgent(s.userAgent)}</strong>${current ? html`<span class="badge">This device</span>` : ""}
  <dl>
    <dt>IP address</dt><dd>${s.ip ?? "unknown"}</dd>
    <dt>Signed in</dt><dd>${formatTime(s.createdAt, options.now)}</dd>
    <dt>Signed in with</dt><dd>${METHOD_NAMES[s.method]}</dd>
    <dt>Last seen</dt><dd>${formatTime(s.touchedAt, options.now)}</dd>
    <dt>Expires</dt><dd>${formatTime(s.expiresAt, options.now)}</dd>
  </dl>
  <form method="post" action="/devices/revoke">
    ${csrfField(options.csrfToken)}
    <input type="hidden" name="key" value="${s.key}">
    <button type="submit" class="danger">${current ? "Log out this device" : "Revoke"}</button>
  </form>
</li>`;
        })}</ul>`;
  return renderLayout(
    { title: "Your devices", userEmail: options.email, csrfToken: options.csrfToken, notice: options.notice, error: options.error },
    html`${list}
<form class="card" method="post" action="/devices/revoke-others">
  ${csrfField(options.csrfToken)}
  <p>Lost a device or signed in somewhere you should not have? End every session except this one.</p>
  <button type="submit" class="danger">Log out everywhere else</button>
</form>`,
  );
}
