/** With SMTP_URL unset, mail goes to the development outbox: one .eml per mail, one log line without the token. */
import fs from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxDir } from "../src/mail/mailer.js";
import { api, registerViaApi, startTestServer, type TestServer } from "./helpers.js";
import { linkIn } from "./smtp-catcher.js";

describe("the development outbox (SMTP_URL unset)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { PORT: "3999" } });
    await registerViaApi(server.app, "dev@example.com");
  });
  afterAll(() => server.close());

  it("writes each mail as an .eml file (mode 0600) and logs one line naming the file, never the token", async () => {
    expect(server.mailer.transport).toBe("outbox");
    await api(request(server.app), "post", "/api/password/forgot", { email: "dev@example.com" }).expect(202);
    await server.background.drain();
    const dir = outboxDir(server.dataDir);
    const files = fs.readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/password_reset-[0-9a-f]{8}\.eml$/);
    const file = path.join(dir, files[0] as string);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const mail = await simpleParser(fs.readFileSync(file));
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : "").toBe("dev@example.com");
    expect(mail.from?.value).toEqual([{ name: "Cloakroom", address: "no-reply@localhost" }]);
    const link = linkIn({ from: "", to: [], subject: mail.subject ?? "", text: mail.text ?? "" }, "/reset-password");
    // PUBLIC_URL defaults to the listening address, with localhost for a loopback HOST.
    expect(link.startsWith("http://localhost:3999/reset-password?token=")).toBe(true);
    const token = new URL(link).searchParams.get("token") as string;

    const lines = server.logs.filter((l) => l.includes('"event":"mail.outbox"'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ kind: "password_reset", file });
    expect(server.logs.join("\n")).not.toContain(token);
  });
});
