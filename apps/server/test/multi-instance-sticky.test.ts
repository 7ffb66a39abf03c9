/**
 * The documented alternative to a shared store: SESSION_STORE=memory on every instance, behind a front that pins each
 * browser to one instance (`npm run cluster -- --store memory --sticky`). And why it must be sticky.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterConfigError, startCluster, type Cluster } from "../src/cluster/cluster.js";
import { createFront } from "../src/cluster/front.js";
import { call, instanceEnv, tempDir, uniqueEmail } from "./multi-helpers.js";
import { GOOD_PASSWORD } from "./helpers.js";

/** A tiny cookie jar for one browser: name → value, fed by every Set-Cookie. */
class Browser {
  readonly jar = new Map<string, string>();
  constructor(readonly base: string) {}

  async fetch(pathname: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; text: string; instance: string | null; location: string | null }> {
    const headers: Record<string, string> = { Accept: "text/html", "Sec-Fetch-Site": "same-origin" };
    if (this.jar.size > 0) headers.Cookie = this.cookieHeader();
    if (init.form) headers["Content-Type"] = "application/x-www-form-urlencoded";
    const res = await fetch(`${this.base}${pathname}`, {
      method: init.method ?? "GET",
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      redirect: "manual",
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, value] = (pair as string).split("=") as [string, string];
      if (value === "" || /max-age=0/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return { status: res.status, text: await res.text(), instance: res.headers.get("x-cloakroom-instance"), location: res.headers.get("location") };
  }

  /** The Cookie header this browser sends. */
  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** The login page's form, then the form post: a pre-session, then a new ticket at login. */
  async logIn(email: string): Promise<void> {
    const page = await this.fetch("/login");
    expect(page.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] as string;
    const posted = await this.fetch("/login", { method: "POST", form: { _csrf: csrf, email, password: GOOD_PASSWORD } });
    expect(posted.status).toBe(303);
  }
}

describe("SESSION_STORE=memory behind the sticky front", () => {
  const data = tempDir("cloakroom-multi-sticky-");
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ instances: 3, port: 0, store: "memory", sticky: true, env: instanceEnv({ DATA_DIR: data.dir }) });
  });
  afterAll(async () => {
    await cluster?.stop();
    data.remove();
  });

  it("refuses to start memory instances behind a round-robin front", async () => {
    await expect(startCluster({ store: "memory", env: instanceEnv({ DATA_DIR: data.dir }) })).rejects.toThrow(ClusterConfigError);
  });

  it("a browser that logs in keeps working on its instance across many requests", { timeout: 20_000 }, async () => {
    const email = uniqueEmail("sticky");
    expect((await call(cluster.url, "POST", "/api/register", { body: { email, password: GOOD_PASSWORD } })).status).toBe(201);
    const browser = new Browser(cluster.url);
    await browser.logIn(email); // the ticket rotates at login: pinning follows the affinity cookie, not the ticket
    const instances = new Set<string | null>();
    for (let i = 0; i < 30; i++) {
      const page = await browser.fetch("/dashboard");
      expect(page.status).toBe(200);
      expect(page.text).toContain(email);
      instances.add(page.instance);
    }
    expect(instances.size).toBe(1);
    expect(browser.jar.get("cloakroom_instance")).toBe([...instances][0]);

    // A second browser gets pinned on its own (round-robin among first visits): each stays where its session is.
    const other = new Browser(cluster.url);
    await other.logIn(email);
    for (let i = 0; i < 10; i++) expect((await other.fetch("/dashboard")).status).toBe(200);
  });

  it("the limit of this set-up: log out everywhere reaches only the sessions on the same instance", { timeout: 20_000 }, async () => {
    const email = uniqueEmail("sticky-revoke");
    expect((await call(cluster.url, "POST", "/api/register", { body: { email, password: GOOD_PASSWORD } })).status).toBe(201);
    const [one, two] = [new Browser(cluster.url), new Browser(cluster.url)];
    await one.logIn(email);
    await two.logIn(email);
    expect(one.jar.get("cloakroom_instance")).not.toBe(two.jar.get("cloakroom_instance"));
    const revoked = await call(cluster.url, "POST", "/api/logout-others", { cookie: one.cookieHeader(), body: {} });
    expect(revoked.status).toBe(200);
    expect((await two.fetch("/dashboard")).status).toBe(200); // still signed in: its instance never heard of it
  });

  it("without stickiness the same instances lose the session on two requests out of three", { timeout: 20_000 }, async () => {
    const front = createFront({ upstreams: cluster.instances.map((i) => i.url) });
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    try {
      const address = front.address() as { port: number };
      const base = `http://127.0.0.1:${address.port}`;
      const email = uniqueEmail("unsticky");
      const registered = await call(base, "POST", "/api/register", { body: { email, password: GOOD_PASSWORD } });
      expect(registered.status).toBe(201);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await call(base, "GET", "/api/me", { cookie: registered.cookie })).status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(4);
      expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    } finally {
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
    }
  });
});
