/**
 * The per-connection memo of the ticket reader: a request that sends the Cookie header its connection verified last
 * skips the parse and the cache; anything else on that connection is read and verified afresh.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory.js";
import { SessionManager, type SessionEvent } from "./manager.js";
import type { Session } from "./session.js";

const SECRET = "ticket-reader-test-secret-0123456789ab";
const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function setup() {
  const store = new MemoryStore();
  stores.push(store);
  const events: SessionEvent[] = [];
  const manager = new SessionManager({ store, secret: SECRET, onEvent: (e) => events.push(e) });
  /** A logged-in session's Cookie header (`sid=<signed ticket>`). */
  const login = async (userId: string): Promise<string> => {
    const session = await manager.load({ cookieHeader: undefined, secure: false });
    session.userId = userId;
    const line = await manager.commit(session);
    return line!.split(";")[0]!;
  };
  const read = async (cookieHeader: string | undefined, connection?: object, name?: string): Promise<Session> =>
    manager.load({ cookieHeader, secure: false, connection, ...(name ? { cookie: { name } } : {}) });
  return { manager, store, events, login, read };
}

describe("TicketReader: the Cookie header remembered per connection", () => {
  it("the same header on one connection loads the same session each time", async () => {
    const { login, read } = setup();
    const header = await login("u1");
    const socket = {};
    for (let i = 0; i < 3; i++) expect((await read(header, socket)).userId).toBe("u1");
  });

  it("a different header on the same connection is verified afresh: another user, a forged value, none", async () => {
    const { login, read, events } = setup();
    const first = await login("u1");
    const second = await login("u2");
    const socket = {};
    expect((await read(first, socket)).userId).toBe("u1");
    expect((await read(second, socket)).userId).toBe("u2");
    const forged = `${second.slice(0, -3)}${second.endsWith("AAA") ? "BBB" : "AAA"}`;
    const session = await read(forged, socket);
    expect(session.userId).toBeUndefined();
    expect(session.id).toBeNull();
    expect(events.some((e) => e.type === "invalid_cookie")).toBe(true);
    expect((await read(undefined, socket)).userId).toBeUndefined();
    expect((await read(first, socket)).userId).toBe("u1");
  });

  it("a remembered header is not a live session: a destroyed one reads as unknown", async () => {
    const { manager, login, read, events } = setup();
    const header = await login("u1");
    const socket = {};
    const session = await read(header, socket);
    expect(session.userId).toBe("u1");
    await manager.destroy(session);
    const again = await read(header, socket);
    expect(again.userId).toBeUndefined();
    expect(events.at(-1)?.type).toBe("unknown_session");
  });

  it("the cookie name is part of what is remembered", async () => {
    const { login, read } = setup();
    const header = await login("u1");
    const socket = {};
    expect((await read(header, socket)).userId).toBe("u1");
    // The same header read for another cookie name holds no such cookie.
    expect((await read(header, socket, "other")).userId).toBeUndefined();
  });

  it("two connections keep their own headers", async () => {
    const { login, read } = setup();
    const a = await login("ua");
    const b = await login("ub");
    const [left, right] = [{}, {}];
    expect((await read(a, left)).userId).toBe("ua");
    expect((await read(b, right)).userId).toBe("ub");
    expect((await read(a, left)).userId).toBe("ua");
    expect((await read(b, right)).userId).toBe("ub");
  });
});
