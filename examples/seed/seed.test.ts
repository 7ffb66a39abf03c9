import request from "supertest";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- plain JavaScript example without type declarations
import { app } from "./app.js";
// @ts-expect-error -- plain JavaScript example without type declarations
import { DEMO_EMAIL, DEMO_PASSWORD } from "./users.js";

function sidOf(res: request.Response): string {
  const line = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((l) => l.startsWith("sid="));
  if (!line) throw new Error("no session cookie");
  return line.split(";")[0]!;
}

describe("the seed app on cloakroom/express", () => {
  it("answers a wrong password with 401 Invalid credentials and sets no cookie", async () => {
    const res = await request(app).post("/login").send({ email: DEMO_EMAIL, password: "wrong password here" });
    expect(res.status).toBe(401);
    expect(res.text).toBe("Invalid credentials");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("logs in, serves the dashboard, logs out, and then refuses the dashboard", async () => {
    const login = await request(app).post("/login").send({ email: DEMO_EMAIL, password: DEMO_PASSWORD });
    expect(login.status).toBe(200);
    expect(login.text).toBe("Logged in");
    const cookie = sidOf(login);
    expect(login.headers["set-cookie"]![0]).toMatch(/HttpOnly/);

    const dash = await request(app).get("/dashboard").set("Cookie", cookie);
    expect([dash.status, dash.text]).toEqual([200, "Protected route"]);

    const logout = await request(app).post("/logout").set("Cookie", cookie);
    expect([logout.status, logout.text]).toEqual([200, "Logged out"]);
    expect(logout.headers["set-cookie"]![0]).toMatch(/^sid=; Max-Age=0/);

    const after = await request(app).get("/dashboard").set("Cookie", cookie);
    expect([after.status, after.text]).toEqual([401, "Not authenticated"]);
  });

  it("issues a new ticket at login: the pre-login ticket differs and is dead afterwards", async () => {
    // The seed stores nothing before login, so the "before" ticket is an earlier session of the same browser:
    // assigning req.session.userId again is a login, and the engine rotates the ticket even for the same user.
    const first = sidOf(await request(app).post("/login").send({ email: DEMO_EMAIL, password: DEMO_PASSWORD }));
    const second = await request(app).post("/login").set("Cookie", first).send({ email: DEMO_EMAIL, password: DEMO_PASSWORD });
    const after = sidOf(second);
    expect(after).not.toBe(first);
    expect((await request(app).get("/dashboard").set("Cookie", first)).status).toBe(401);
    expect((await request(app).get("/dashboard").set("Cookie", after)).status).toBe(200);
  });

  it("never adopts a ticket the server did not issue (fixation)", async () => {
    const planted = "sid=s%3AattackerChosenTicket0000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const login = await request(app).post("/login").set("Cookie", planted).send({ email: DEMO_EMAIL, password: DEMO_PASSWORD });
    expect(sidOf(login)).not.toBe(planted);
    expect((await request(app).get("/dashboard").set("Cookie", planted)).status).toBe(401);
  });
});
