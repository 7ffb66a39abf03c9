/** Pages of password recovery and email verification: forgot password, choose a new password, and their outcomes. */
import { html } from "./html.js";
import { csrfField, renderLayout } from "./layout.js";
import type { FormPageOptions } from "./auth-pages.js";

/** "Forgot your password?": asks for the address only. */
export function renderForgotPasswordPage(options: FormPageOptions): string {
  return renderLayout(
    { title: "Forgot your password?", userEmail: null, error: options.error, notice: options.notice },
    html`<form class="card" method="post" action="/forgot-password">
  ${csrfField(options.csrfToken)}
  <p>Enter the address of your account. If it has one, we mail it a link to choose a new password.</p>
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${options.email ?? ""}">
  <button type="submit">Send the link</button>
</form>
<p><a href="/login">Back to log in</a></p>`,
  );
}

/** The form behind a reset link. The token travels in the form body, never in the form's action URL. */
export function renderResetPasswordPage(options: FormPageOptions & { token: string; accountEmail: string }): string {
  return renderLayout(
    { title: "Choose a new password", userEmail: null, error: options.error, notice: options.notice },
    html`<form class="card" method="post" action="/reset-password">
  ${csrfField(options.csrfToken)}
  <input type="hidden" name="token" value="${options.token}">
  <input type="text" autocomplete="username" value="${options.accountEmail}" hidden aria-hidden="true">
  <p>For <strong>${options.accountEmail}</strong>.</p>
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="15" maxlength="128" aria-describedby="pw-hint">
  <p class="hint" id="pw-hint">At least 15 characters. Every session of this account is logged out; then log in with the new password.</p>
  <button type="submit">Set the new password</button>
</form>`,
  );
}

/** A page that only says something, with where to go next. */
export function renderMessagePage(options: { title: string; message: string; links: Array<{ href: string; text: string }> }): string {
  return renderLayout(
    { title: options.title, userEmail: null },
    html`<section class="card"><p>${options.message}</p></section>
<p>${options.links.map((l, i) => html`${i > 0 ? " · " : ""}<a href="${l.href}">${l.text}</a>`)}</p>`,
  );
}
