/**
 * The static files the pages load, read once at start-up and served from /assets/ (before the session middleware):
 * the stylesheet, @simplewebauthn/browser's bundle, and the pages' passkey script. Served from this origin because the
 * CSP allows scripts and styles from 'self' only.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { APP_CSS } from "./views/styles.js";

const require = createRequire(import.meta.url);

/** The package's browser bundle (UMD: defines `SimpleWebAuthnBrowser`); its exports map names only the ESM/CJS entry. */
function webauthnBrowserBundle(): string {
  const entry = require.resolve("@simplewebauthn/browser");
  return fs.readFileSync(path.join(path.dirname(entry), "..", "dist", "bundle", "index.umd.min.js"), "utf8");
}

/** Path under /assets → content type and body. */
export const ASSETS: ReadonlyMap<string, { type: string; body: string }> = new Map([
  ["app.css", { type: "css", body: APP_CSS }],
  ["simplewebauthn-browser.js", { type: "js", body: webauthnBrowserBundle() }],
  ["passkeys.js", { type: "js", body: fs.readFileSync(new URL("../public/passkeys.js", import.meta.url), "utf8") }],
]);

/** The script tags of a page that uses passkeys, in load order. */
export const PASSKEY_SCRIPTS = ["/assets/simplewebauthn-browser.js", "/assets/passkeys.js"];
