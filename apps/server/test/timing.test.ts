import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, api, registerViaApi, setCookies, startTestServer, type TestServer } from "./helpers.js";
import { startSmtpCatcher, type SmtpCatcher } from "./smtp-catcher.js";

// Real argon2id defaults (cloakroom/auth refuses cheaper parameters), ~20 ms per verification here.
const SAMPLES = 200;
const ACCOUNTS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe("no user enumeration on login", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: "100", LOGIN_MAX_FAILURES_PER_IP: "100000", LOGIN_THROTTLE_WINDOW: "1s" } });
    // Several accounts per case: the throttle's consecutive-failure cap (100 per account per day) must not kick in.
    for (let i = 0; i < ACCOUNTS; i++) {
      await registerViaApi(server.app, `known${i}@example.com`);
      await registerViaApi(server.app, `disabled${i}@example.com`);
      const disabled = await server.backends.users.findUserByEmail(`disabled${i}@example.com`);
      await server.backends.users.setUserDisabled(disabled!.id, true);
    }
  });
  afterAll(() => server.close());

  const cases = {
    unknown: (i: number) => ({ email: `unknown${i % ACCOUNTS}@example.com`, password: "wrong password for sure" }),
    wrongPassword: (i: number) => ({ email: `known${i % ACCOUNTS}@example.com`, password: "wrong password for sure" }),
    disabled: (i: number) => ({ email: `disabled${i % ACCOUNTS}@example.com`, password: GOOD_PASSWORD }),
  };

  it("unknown email, wrong password and disabled account: same status, body and cookies", async () => {
    const answers = [];
    for (const body of Object.values(cases)) {
      const res = await api(request(server.app), "post", "/api/login", body(0));
      answers.push({ status: res.status, body: res.body, cookies: setCookies(res), retry: res.headers["retry-after"] });
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(answers[0]?.status).toBe(401);
  });

  it(`timing medians over ${SAMPLES} tries each stay within noise`, { timeout: 120_000 }, async () => {
    const times: Record<keyof typeof cases, number[]> = { unknown: [], wrongPassword: [], disabled: [] };
    const names = Object.keys(cases) as Array<keyof typeof cases>;
    for (let i = 0; i < SAMPLES; i++) {
      // Interleaved so drift (GC, CPU contention) hits every case alike.
      for (const name of names) {
        const started = performance.now();
        const res = await api(request(server.app), "post", "/api/login", cases[name](i));
        times[name].push(performance.now() - started);
        expect(res.status).toBe(401);
      }
    }
    const medians = Object.fromEntries(names.map((n) => [n, Number(median(times[n]).toFixed(2))]));
    console.log(`login timing medians over ${SAMPLES} tries (ms):`, medians);
    const values = Object.values(medians);
    const spread = Math.max(...values) - Math.min(...values);
    // An unknown email without the dummy hash would answer in ~1 ms against ~20 ms: a spread under 25% of the median
    // (and under 5 ms) is noise, not a signal.
    expect(spread).toBeLessThan(Math.max(5, 0.25 * Math.min(...values)));
  });
});

describe("no user enumeration on password reset", () => {
  const RESET_SAMPLES = 100;
  let catcher: SmtpCatcher;
  let server: TestServer;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    // Limits high enough that every known-address request really sends its mail over SMTP (the expensive case).
    server = await startTestServer({ env: { SMTP_URL: catcher.url, MAIL_MAX_PER_ACCOUNT: "1000", MAIL_MAX_PER_IP: "100000" } });
    await registerViaApi(server.app, "reset-known@example.com");
  });
  afterAll(async () => {
    await server.close();
    await catcher.close();
  });

  it(`known and unknown addresses: same answer, timing medians over ${RESET_SAMPLES} tries each within noise`, { timeout: 60_000 }, async () => {
    const cases = { known: "reset-known@example.com", unknown: "reset-unknown@example.com" };
    const times: Record<keyof typeof cases, number[]> = { known: [], unknown: [] };
    const bodies = new Set<string>();
    for (let i = 0; i < RESET_SAMPLES; i++) {
      for (const name of Object.keys(cases) as Array<keyof typeof cases>) {
        const started = performance.now();
        const res = await api(request(server.app), "post", "/api/password/forgot", { email: cases[name] });
        times[name].push(performance.now() - started);
        bodies.add(`${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    await server.background.drain();
    expect(bodies.size).toBe(1);
    expect(catcher.mailsTo("reset-known@example.com")).toHaveLength(RESET_SAMPLES);
    const medians = { known: Number(median(times.known).toFixed(2)), unknown: Number(median(times.unknown).toFixed(2)) };
    console.log(`password reset timing medians over ${RESET_SAMPLES} tries (ms):`, medians);
    // The answer is sent before any lookup, token or mail: an SMTP round trip on the response path would add several
    // ms to every known-address request.
    expect(Math.abs(medians.known - medians.unknown)).toBeLessThan(Math.max(2, 0.25 * Math.min(medians.known, medians.unknown)));
  });
});
