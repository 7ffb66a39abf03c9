/**
 * The passkey routes without a browser: what the ceremonies' options say, the gates in front of them, refusals of
 * forged or stale answers, and the rule that an account keeps one way to sign in. Real ceremonies (a virtual
 * authenticator in Chromium) are in browser-passkeys.test.ts; here passkeys for the list/remove rules are put into the
 * repository directly.
 */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PasskeyRecord } from "../src/users/passkeys.js";
import { GOOD_PASSWORD, api, browserGet, browserPost, csrfTokenOf, loginViaApi, registerViaApi, startTestServer, type TestServer } from "./helpers.js";

const MINUTE = 60_000;

function fakePasskey(userId: string, id: string): PasskeyRecord {
  return { id, userId, name: `key ${id}`, publicKey: new Uint8Array([1, 2, 3]), counter: 0, transports: ["internal"], deviceType: "multiDevice", backedUp: true, createdAt: 1, lastUsedAt: null };
}

/** A made-up assertion: well-formed, signed by nobody. */
function forgedAssertion(id: string): Record<string, unknown> {
  const b64 = (s: string): string => Buffer.from(s).toString("base64url");
  return {
    id,
    rawId: id,
    type: "public-key",
    response: { clientDataJSON: b64('{"type":"webauthn.get"}'), authenticatorData: b64("x".repeat(37)), signature: b64("sig") },
    clientExtensionResults: {},
  };
}

describe("passkeys API", () => {
  let server: TestServer;
  let clock = Date.now();
  beforeAll(async () => {
    server = await startTestServer({ env: { PUBLIC_URL: "https://localhost:8443", LOGIN_MAX_FAILURES_PER_ACCOUNT: "3" }, now: () => clock });
  });
  afterAll(() => server.close());

  it("registration options: signed in and recently re-authenticated only; RP from PUBLIC_URL, discoverable, user verification required", async () => {
    expect((await api(request(server.app), "post", "/api/passkeys/register/options", {})).status).toBe(401);
    const agent = await registerViaApi(server.app, "opts@example.com");
    const user = await server.backends.users.findUserByEmail("opts@example.com");
    await server.backends.passkeys.addPasskey(fakePasskey(user!.id, "already-there"));
    const res = await api(agent, "post", "/api/passkeys/register/options", {});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      rp: { id: "localhost", name: "Cloakroom" },
      user: { name: "opts@example.com", id: Buffer.from(user!.id).toString("base64url") },
      attestation: "none",
      authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
      excludeCredentials: [{ id: "already-there", type: "public-key", transports: ["internal"] }],
    });
    expect(res.body.challenge).toMatch(/^[\w-]{43}$/);

    clock += 16 * MINUTE;
    const stale = await api(agent, "post", "/api/passkeys/register/options", {});
    expect(stale.status).toBe(403);
    expect(stale.body.error).toBe("reauthentication_required");
    await api(agent, "post", "/api/reauth", { password: GOOD_PASSWORD }).expect(200);
    expect((await api(agent, "post", "/api/passkeys/register/options", {})).status).toBe(200);
  });

  it("registration verify: no challenge → 400 challenge_expired; a forged answer → 400 invalid_passkey, and the challenge is used up", async () => {
    const agent = await registerViaApi(server.app, "forge@example.com");
    const forged = { name: "Forged", response: { id: "abc", rawId: "abc", type: "public-key", response: { clientDataJSON: "e30", attestationObject: "oA" }, clientExtensionResults: {} } };
    expect((await api(agent, "post", "/api/passkeys/register/verify", forged)).body.error).toBe("challenge_expired");
    await api(agent, "post", "/api/passkeys/register/options", {}).expect(200);
    const bad = await api(agent, "post", "/api/passkeys/register/verify", forged);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_passkey");
    expect((await api(agent, "post", "/api/passkeys/register/verify", forged)).body.error).toBe("challenge_expired");
    expect((await api(agent, "get", "/api/passkeys")).body.passkeys).toEqual([]);
  });

  it("sign-in options are for anyone (discoverable: no allowCredentials); a forged assertion is 401 and counts as a failed login", async () => {
    const agent = request.agent(server.app);
    const options = await api(agent, "post", "/api/passkeys/login/options", {});
    expect(options.status).toBe(200);
    expect(options.body).toMatchObject({ rpId: "localhost", userVerification: "required" });
    expect(options.body.allowCredentials ?? []).toEqual([]);
    expect((await api(agent, "post", "/api/passkeys/login/verify", { response: forgedAssertion("nobody") })).status).toBe(401);
    // The challenge was used up by the first answer.
    expect((await api(agent, "post", "/api/passkeys/login/verify", { response: forgedAssertion("nobody") })).body.error).toBe("challenge_expired");

    // A known passkey with a forged signature: failures count on the account's login budget (3 here), then 429.
    await registerViaApi(server.app, "target@example.com");
    const target = await server.backends.users.findUserByEmail("target@example.com");
    await server.backends.passkeys.addPasskey(fakePasskey(target!.id, "target-key"));
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const attacker = request.agent(server.app);
      await api(attacker, "post", "/api/passkeys/login/options", {}).expect(200);
      statuses.push((await api(attacker, "post", "/api/passkeys/login/verify", { response: forgedAssertion("target-key") })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(server.logs.join("\n")).toContain('"method":"passkey"');
  });

  it("lists the account's passkeys; removing needs re-authentication, touches only your own, and never the last way to sign in", async () => {
    const agent = await registerViaApi(server.app, "keys@example.com");
    const user = await server.backends.users.findUserByEmail("keys@example.com");
    await server.backends.passkeys.addPasskey(fakePasskey(user!.id, "k1"));
    await server.backends.passkeys.addPasskey(fakePasskey(user!.id, "k2"));
    await registerViaApi(server.app, "other@example.com");
    const other = await server.backends.users.findUserByEmail("other@example.com");
    await server.backends.passkeys.addPasskey(fakePasskey(other!.id, "theirs"));

    const list = await api(agent, "get", "/api/passkeys");
    expect(list.body.passkeys.map((p: { id: string }) => p.id)).toEqual(["k1", "k2"]);
    expect(list.body.passkeys[0]).toEqual({ id: "k1", name: "key k1", createdAt: 1, lastUsedAt: null, deviceType: "multiDevice", backedUp: true, transports: ["internal"] });
    expect((await api(agent, "delete", "/api/passkeys/theirs")).status).toBe(404);

    // The password cannot go while there is no passkey … (checked on a fresh account below); with two passkeys it can.
    expect((await api(agent, "delete", "/api/password")).status).toBe(200);
    expect((await api(request(server.app), "post", "/api/login", { email: "keys@example.com", password: GOOD_PASSWORD })).status).toBe(401);
    expect((await api(agent, "delete", "/api/passkeys/k1")).status).toBe(200);
    const last = await api(agent, "delete", "/api/passkeys/k2");
    expect(last.status).toBe(409);
    expect(last.body.error).toBe("last_sign_in_method");
    expect((await api(agent, "get", "/api/passkeys")).body.passkeys).toHaveLength(1);

    clock += 16 * MINUTE;
    const stale = await api(agent, "delete", "/api/passkeys/k2");
    expect(stale.body.error).toBe("reauthentication_required");
  });

  it("a password-only account keeps its password: DELETE /api/password is 409 last_sign_in_method", async () => {
    const agent = await registerViaApi(server.app, "pwonly@example.com");
    const res = await api(agent, "delete", "/api/password");
    expect(res.status).toBe(409);
    expect(res.body.error).toBe("last_sign_in_method");
    await loginViaApi(server.app, "pwonly@example.com");
  });

  it("the pages: /passkeys lists and removes (after re-authentication), and loads only same-origin scripts", async () => {
    const agent = await registerViaApi(server.app, "page-keys@example.com");
    const user = await server.backends.users.findUserByEmail("page-keys@example.com");
    await server.backends.passkeys.addPasskey(fakePasskey(user!.id, "pk1"));
    const page = await browserGet(agent, "/passkeys");
    expect(page.status).toBe(200);
    expect(page.text).toContain("key pk1");
    expect(page.text).toContain("Add a passkey");
    expect(page.text).toContain("Stop using a password");
    const scripts = [...page.text.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
    expect(scripts.map((m) => /src="([^"]+)"/.exec(m[1] ?? "")?.[1])).toEqual(["/assets/simplewebauthn-browser.js", "/assets/passkeys.js"]);
    expect(scripts.every((m) => m[2] === "")).toBe(true);
    expect(page.headers["content-security-policy"]).toMatch(/script-src 'self'(;|$)/);
    expect(page.headers["content-security-policy"]).toMatch(/connect-src 'self'(;|$)/);
    for (const asset of ["/assets/simplewebauthn-browser.js", "/assets/passkeys.js"]) {
      const js = await request(server.app).get(asset);
      expect(js.status).toBe(200);
      expect(js.headers["content-type"]).toMatch(/javascript/);
    }
    const removed = await browserPost(agent, "/passkeys/remove", { _csrf: csrfTokenOf(page.text), id: "pk1" });
    expect(removed.headers.location).toBe("/passkeys?notice=passkey-removed");

    clock += 16 * MINUTE;
    await server.backends.passkeys.addPasskey(fakePasskey(user!.id, "pk2"));
    const again = await browserGet(agent, "/passkeys");
    const stale = await browserPost(agent, "/passkeys/remove", { _csrf: csrfTokenOf(again.text), id: "pk2" });
    expect(stale.headers.location).toBe("/reauth?returnTo=/passkeys");
    const login = await browserGet(request.agent(server.app), "/login");
    expect(login.text).toContain("Sign in with a passkey");
  });
});

describe("passkeys on a PUBLIC_URL that cannot have them", () => {
  it("an IP address as host: 501 passkeys_unavailable, and the pages say why instead of offering a button", async () => {
    const server = await startTestServer({ env: { PUBLIC_URL: "https://192.0.2.10" } });
    try {
      const res = await api(request(server.app), "post", "/api/passkeys/login/options", {});
      expect(res.status).toBe(501);
      expect(res.body.error).toBe("passkeys_unavailable");
      expect((await browserGet(request.agent(server.app), "/login")).text).not.toContain("Sign in with a passkey");
      const agent = await registerViaApi(server.app, "ip@example.com");
      const page = await browserGet(agent, "/passkeys");
      expect(page.text).toContain("an IP address cannot be a WebAuthn RP ID");
      expect(page.text).not.toContain("<script");
    } finally {
      await server.close();
    }
  });
});
