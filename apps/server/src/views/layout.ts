/** The one page layout every view shares: header with navigation, a main column, optional notices. */
import { html, type SafeHtml } from "./html.js";

/** What the layout needs besides the page body. */
export interface LayoutOptions {
  title: string;
  /** The signed-in user's email, or `null` for anonymous pages (changes the navigation). */
  userEmail: string | null;
  /** Needed for the logout button in the navigation when signed in. */
  csrfToken?: string;
  /** A status line shown above the content (e.g. "Password changed"). */
  notice?: string | null;
  /** An error shown above the content, announced to screen readers. */
  error?: string | null;
  /** Scripts to load (same-origin paths only: the CSP allows no other). */
  scripts?: string[];
}

/**
 * Wrap a page body in the shared layout. The stylesheet is served from /assets/app.css and scripts from /assets/ so
 * the CSP can forbid inline styles and scripts entirely; only the pages that use passkeys load a script.
 */
export function renderLayout(options: LayoutOptions, body: SafeHtml): string {
  const nav = options.userEmail
    ? html`<nav aria-label="Account">
        <a href="/dashboard">Dashboard</a>
        <a href="/devices">Devices</a>
        <a href="/passkeys">Passkeys</a>
        <a href="/password">Password</a>
        <form method="post" action="/logout" class="inline">
          <input type="hidden" name="_csrf" value="${options.csrfToken ?? ""}">
          <button type="submit" class="link">Log out</button>
        </form>
      </nav>`
    : html`<nav aria-label="Account"><a href="/login">Log in</a><a href="/register">Register</a></nav>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Cloakroom</title>
<link rel="stylesheet" href="/assets/app.css">
${(options.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body>
<header class="top"><a class="brand" href="/">Cloakroom</a>${nav}</header>
<main>
<h1>${options.title}</h1>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ""}
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ""}
${body}
</main>
</body>
</html>
`.value;
}

/** Hidden CSRF field for a form. */
export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
