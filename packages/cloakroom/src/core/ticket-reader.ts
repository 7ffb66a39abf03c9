/**
 * Which ticket a request presents: the session cookie's values in the Cookie header (or what cookie-parser left on the
 * request), verified against the secrets, with the store key each ticket maps to. Part of the SessionManager.
 */
import { LRUCache } from "lru-cache";
import { decodeCookieValue, readRawCookieValues } from "./cookie.js";
import type { RequestContext, SessionEvent, SessionManagerOptions } from "./manager-types.js";
import type { Signer } from "./signing.js";
import type { SessionState } from "./state.js";
import { storeKeyOf } from "./ticket.js";

/** A verified cookie value: its ticket, store key, and whether an older secret signed it. */
export interface Verified {
  ticket: string;
  key: string;
  needsResign: boolean;
}

/** The Cookie header last verified on one connection, with what it verified to. */
interface ConnectionMemo {
  header: string;
  name: string;
  found: Verified;
}

export class TicketReader {
  /**
   * Cookie values that verified, with their store keys: a returning client costs a map lookup instead of an HMAC and
   * a SHA-256 (about 3 µs of a ~10 µs engine budget per request). Only values signed by our secrets get in, and
   * lru-cache bounds it, so a spray of forged cookies neither fills it nor evicts faster than one entry per request.
   */
  private readonly verified = new LRUCache<string, Verified>({ max: 10_000 });
  /**
   * Per connection (a keep-alive socket), the header that last verified: a browser sends the same Cookie header on
   * every request of a connection, and comparing it costs less than hashing it for the cache (measured at steady
   * state: the hash alone ~1.1k instructions per request). Weakly held: a closed connection's entry goes with it; the
   * value never refers to the connection, so the entry does not keep it alive.
   */
  private readonly byConnection = new WeakMap<object, ConnectionMemo>();

  constructor(
    private readonly signer: Signer,
    private readonly hashKeys: boolean,
    private readonly parsedCookies: SessionManagerOptions["parsedCookies"],
    /** Reports a cookie that did not verify, or two that disagree (the manager's event hook). */
    private readonly refused: (type: SessionEvent["type"], state: SessionState) => void,
  ) {}

  /** The store key of a ticket. */
  keyOf(ticket: string): string {
    return this.hashKeys ? storeKeyOf(ticket) : ticket;
  }

  /**
   * The one verified ticket the request presents: from the Cookie header, or what a cookie parser left on the request.
   * Only the keep-alive memo's hit is here: the engine's loadNow inlines this, and V8's inlining budget per function
   * is shared with the session's constructor (the rest, {@link TicketReader.read}, runs once per connection).
   */
  presented(context: RequestContext, name: string, state: SessionState): Verified | null {
    const header = context.cookieHeader;
    const connection = context.connection;
    if (connection === undefined || header === undefined) return this.read(context, name, state, undefined);
    const memo = this.byConnection.get(connection);
    // The same text under the same name verifies to the same ticket: the secrets are fixed for this reader.
    if (memo === undefined || memo.header !== header || memo.name !== name) return this.read(context, name, state, memo);
    state.hadCookie = true;
    return memo.found;
  }

  /** {@link presented} without the memo's answer: read, verify and remember the header's cookie values. */
  private read(context: RequestContext, name: string, state: SessionState, memo: ConnectionMemo | undefined): Verified | null {
    const header = context.cookieHeader;
    const connection = context.connection;
    const values = header === undefined ? [] : readRawCookieValues(header, name);
    if (values.length > 0) {
      state.hadCookie = true;
      const found = this.verifyAll(values, state);
      if (found) {
        if (connection !== undefined) this.remember(connection, memo, header!, name, found);
        return found;
      }
    }
    // express-session's back-compat read of cookie-parser's results (documented, deprecated there).
    const parsed = this.parsedCookies?.(context.request);
    if (!parsed) return null;
    const signed = parsed.signed?.[name];
    if (typeof signed === "string" && signed !== "") {
      state.hadCookie = true;
      return { ticket: signed, key: this.keyOf(signed), needsResign: true };
    }
    const plain = parsed.plain?.[name];
    if (typeof plain === "string" && plain.startsWith("s:")) {
      state.hadCookie = true;
      return this.verifyAll([plain], state);
    }
    return null;
  }

  private remember(connection: object, memo: ConnectionMemo | undefined, header: string, name: string, found: Verified): void {
    if (memo === undefined) {
      this.byConnection.set(connection, { header, name, found });
      return;
    }
    memo.header = header;
    memo.name = name;
    memo.found = found;
  }

  /**
   * Verify a cookie value as it appears in the header (percent-encoded) and derive its store key, or `null` for
   * anything we did not sign. The cache is keyed by the raw text, so a returning client skips the decoding too.
   */
  private verify(raw: string): Verified | null {
    const cached = this.verified.get(raw);
    if (cached) return cached;
    const unsigned = this.signer.unsign(decodeCookieValue(raw));
    if (!unsigned) return null;
    const entry = { ticket: unsigned.ticket, key: this.keyOf(unsigned.ticket), needsResign: unsigned.needsResign };
    this.verified.set(raw, entry);
    return entry;
  }

  /** The one ticket the cookie values carry, or `null` (none verifies, or two different ones do: trust neither). */
  private verifyAll(values: string[], state: SessionState): Verified | null {
    let found: Verified | null = null;
    let ambiguous = false;
    for (const value of values) {
      const verified = this.verify(value);
      if (!verified) continue;
      if (found && found.ticket !== verified.ticket) ambiguous = true;
      found ??= verified;
    }
    if (!found) {
      // A dead cookie is not cleared: a request racing a login may still carry the previous ticket, and clearing it
      // would delete the new cookie that the login response just set.
      this.refused("invalid_cookie", state);
      return null;
    }
    if (ambiguous) {
      // Two different valid tickets under one name: one may be tossed in by a sibling host. Trust neither.
      this.refused("ambiguous_cookie", state);
      return null;
    }
    return found;
  }
}
