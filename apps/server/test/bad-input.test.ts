import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, api, registerViaApi, setCookies, startTestServer, type TestServer } from "./helpers.js";

describe("bad input (SECURITY-CHECKLIST §5): a clear 4xx, no 500, no partial write", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await registerViaApi(server.app, "victim@example.com");
  });
  afterAll(() => server.close());

  const postJson = (url: string, raw: string) => request(server.app).post(url).set("Content-Type", "application/json").set("Accept", "application/json").send(raw);

  it.each([
    ["malformed JSON", '{"email": "a@example.com", "password": ', 400, "invalid_json"],
    ["a top-level array", '["a@example.com", "pw"]', 400, "invalid_request"],
    ["a top-level string", '"hello"', 400, "invalid_json"],
    ["an operator object as password", '{"email":"victim@example.com","password":{"$ne":null}}', 400, "invalid_request"],
    ["an array as email", '{"email":["a@example.com","b@example.com"],"password":"x"}', 400, "invalid_request"],
    ["null values", '{"email":null,"password":null}', 400, "invalid_request"],
    ["a number as password", '{"email":"victim@example.com","password":12345678901234567}', 400, "invalid_request"],
    ["a __proto__ key", '{"email":"victim@example.com","password":"x","__proto__":{"admin":true}}', 400, "invalid_request"],
    ["a constructor key", '{"email":"victim@example.com","password":"x","constructor":{"prototype":{}}}', 400, "invalid_request"],
  ])("POST /api/login with %s (body %s) → %s %s", async (_name, raw, status, error) => {
    const res = await postJson("/api/login", raw);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(res.text).not.toMatch(/at \w+ \(|node_modules/);
  });

  it("a 1 MB JSON password is 413 before any hashing", async () => {
    const started = performance.now();
    const res = await postJson("/api/register", JSON.stringify({ email: "big@example.com", password: "a".repeat(1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error).toBe("payload_too_large");
    expect(performance.now() - started).toBeLessThan(500);
    expect(await server.backends.users.findUserByEmail("big@example.com")).toBeNull();
  });

  it("a 129-character password is refused by the policy with 400, and 128 is accepted", async () => {
    const phrase = (n: number): string => "mosaic lantern orchard plum ".repeat(10).slice(0, n);
    const long = await postJson("/api/register", JSON.stringify({ email: "long@example.com", password: phrase(129) }));
    expect(long.status).toBe(400);
    expect(long.body.reason).toBe("password_too_long");
    const max = await postJson("/api/register", JSON.stringify({ email: "max@example.com", password: phrase(128) }));
    expect(max.status).toBe(201);
  });

  it("NUL bytes: in the email → invalid_email; in a password → accepted and hashed in full", async () => {
    const email = await postJson("/api/register", JSON.stringify({ email: "nul\u0000@example.com", password: GOOD_PASSWORD }));
    expect(email.status).toBe(400);
    expect(email.body.error).toBe("invalid_email");
    const pw = `${GOOD_PASSWORD}\u0000tail`;
    expect((await postJson("/api/register", JSON.stringify({ email: "nulpw@example.com", password: pw }))).status).toBe(201);
    expect((await postJson("/api/login", JSON.stringify({ email: "nulpw@example.com", password: GOOD_PASSWORD }))).status).toBe(401);
    expect((await postJson("/api/login", JSON.stringify({ email: "nulpw@example.com", password: pw }))).status).toBe(200);
  });

  it.each([
    ["repeated email (email=a&email=b)", "email=a%40example.com&email=b%40example.com&password=x"],
    ["bracketed keys (email[]=)", "email[]=victim%40example.com&password=x"],
    ["a nested key (email[$ne]=)", "email[$ne]=x&password=x"],
  ])("form parameter pollution: %s → 400", async (_name, body) => {
    const agent = request.agent(server.app);
    const page = await agent.get("/login").set("Accept", "text/html");
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
    const res = await agent.post("/login").set("Accept", "text/html").set("Sec-Fetch-Site", "same-origin").type("form").send(`_csrf=${token}&${body}`);
    expect(res.status).toBe(400);
  });

  it("bad percent-encoding in the path or a form body is a 4xx", async () => {
    const path = await request(server.app).get("/api/sessions/%E0%A4%A").set("Accept", "application/json");
    expect(path.status).toBeGreaterThanOrEqual(400);
    expect(path.status).toBeLessThan(500);
    const body = await request(server.app).post("/login").set("Sec-Fetch-Site", "same-origin").type("form").send("email=%E0%A4%A&password=%");
    expect(body.status).toBe(403);
  });

  it.each([
    ["X-HTTP-Method-Override", (r: request.Test) => r.set("X-HTTP-Method-Override", "DELETE")],
    ["X-Method-Override", (r: request.Test) => r.set("X-Method-Override", "DELETE")],
  ])("method override via %s is refused with 400", async (_name, decorate) => {
    const res = await decorate(request(server.app).post("/api/logout").set("Content-Type", "application/json")).send("{}");
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("method_override_not_supported");
  });

  it("method override via a _method field or query is refused with 400", async () => {
    expect((await postJson("/api/logout?_method=DELETE", "{}")).status).toBe(400);
    expect((await postJson("/api/logout", '{"_method":"DELETE"}')).status).toBe(400);
  });

  it("a spoofed X-Forwarded-Proto does not earn a Secure cookie; X-Forwarded-For is ignored without TRUST_PROXY", async () => {
    const res = await api(request(server.app), "post", "/api/login", { email: "victim@example.com", password: GOOD_PASSWORD })
      .set("X-Forwarded-Proto", "https")
      .set("X-Forwarded-For", "203.0.113.9");
    expect(res.status).toBe(200);
    const line = setCookies(res)[0] as string;
    expect(line).toMatch(/^sid=/);
    expect(line).not.toMatch(/Secure/i);
    const me = await request(server.app).get("/api/sessions").set("Cookie", line.split(";")[0] as string);
    expect(me.body.sessions[0].ip).not.toBe("203.0.113.9");
  });

  it("an oversized Cookie header does not crash the server", async () => {
    const res = await request(server.app).get("/dashboard").set("Cookie", `sid=${"a".repeat(6000)}; other=${"b".repeat(3000)}`);
    expect(res.status).toBe(401);
  });

  it("hostile session cookies are simply 'no session'", async () => {
    for (const value of ["sid=", "sid", "sid=s%3A..%2F..%2Fetc", "sid=%E0%A4%A", `sid=s%3A${"x".repeat(10_000)}`, "sid=s:abc.def; sid=s:ghi.jkl"]) {
      const res = await request(server.app).get("/dashboard").set("Cookie", value);
      expect(res.status).toBe(401);
    }
  });
});
