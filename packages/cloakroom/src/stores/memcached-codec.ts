/** MemcachedStore's helpers: expiry arithmetic, the stored entry's shape, status checks, backoff and the client. */
import { createHash } from "node:crypto";
import { MemcacheClient } from "memcache-client";
import type { SessionPatch, SessionRecord } from "../core/types.js";
import { applyDataPatch } from "./data-patch.js";

/** protocol.txt, "Expiration times": an exptime above 30 days is read as a unix timestamp, not as seconds from now. */
export const MEMCACHED_MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30;

/**
 * The memcached exptime for a record that expires at `expiresAt`.
 * @param expiresAt when the record expires (ms since epoch)
 * @param now the current time (ms since epoch)
 * @returns seconds from now (rounded up) when that is at most 30 days; the unix time in seconds beyond that; `-1`
 *   (expire at once) when already expired — never `0`, which memcached reads as "never expires"
 * @example
 * memcachedExptime(now + 90_000, now); // 90
 * memcachedExptime(now + 40 * 86_400_000, now); // Math.ceil((now + 40 days) / 1000)
 */
export function memcachedExptime(expiresAt: number, now: number): number {
  const seconds = Math.ceil((expiresAt - now) / 1000);
  if (!(seconds > 0)) return -1;
  if (seconds <= MEMCACHED_MAX_RELATIVE_EXPTIME) return seconds;
  return Math.ceil(expiresAt / 1000);
}

/** What one memcached item holds. Counters are decimal strings: they exceed 2^53 only in theory, but BigInt is free. */
export interface StoredEntry {
  /** Namespace generation at creation. */
  g: string;
  /** The user's epoch at creation (or as re-stamped by destroyByUser's `except`); null for an anonymous session. */
  e: string | null;
  r: SessionRecord;
}

export interface LoadedEntry {
  entry: StoredEntry;
  cas: string;
  /** The user epoch the entry was found live against (undefined for an anonymous session). */
  epoch: string | undefined;
}

/**
 * Bound on gets/cas rounds for one patch. Backoff is "full jitter" (uniform in [0, min(cap, 2^attempt)) ms): measured
 * on loopback, 200 concurrent patches of one session all land within 11–14 attempts (~0.7 s); a 64 ms cap needed up
 * to 19, so the cap trades a little latency under extreme contention for a wide margin below the bound.
 */
export const MAX_CAS_ATTEMPTS = 50;
export const MAX_BACKOFF_MS = 250;
export const PREFIX_PATTERN = /^[\x21-\x7e]{0,128}$/;

export function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/** memcache-client rejects with the server's status line as the message: NOT_FOUND, EXISTS, NOT_STORED. */
export function isStatus(error: unknown, status: "NOT_FOUND" | "EXISTS" | "NOT_STORED"): boolean {
  return error instanceof Error && error.message === status;
}

let lastInitialCounter = 0n;

/**
 * A fresh counter value: microseconds since the epoch, strictly increasing within this process. It is larger than
 * any value an evicted counter of the same name had, unless that counter was incremented more than once per
 * microsecond of its life or the servers' clocks disagree by more than that life.
 */
export function initialCounter(): bigint {
  const micros = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  lastInitialCounter = micros > lastInitialCounter ? micros : lastInitialCounter + 1n;
  return lastInitialCounter;
}

/** True when `stamp` is at least `counter`; a missing counter (never set, or evicted) covers nothing. */
export function covers(stamp: string | null, counter: string | undefined): boolean {
  return stamp !== null && counter !== undefined && BigInt(stamp) >= BigInt(counter);
}

export function decodeEntry(value: unknown): StoredEntry {
  if (typeof value !== "string") throw new Error("the stored item is not a session record");
  return JSON.parse(value) as StoredEntry;
}

export function applyPatch(record: SessionRecord, patch: SessionPatch): SessionRecord {
  return {
    ...record,
    data: applyDataPatch({ ...record.data }, patch),
    idleExpiresAt: patch.idleExpiresAt ?? record.idleExpiresAt,
    touchedAt: patch.touchedAt ?? record.touchedAt,
    cookieMaxAge: patch.cookieMaxAge === undefined ? record.cookieMaxAge : patch.cookieMaxAge,
    version: record.version + 1,
  };
}

export function jitteredBackoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options of {@link createMemcachedClient}. */
export interface MemcachedClientOptions {
  /**
   * How long (ms) to wait for a TCP connection before failing the command. Without it memcache-client waits for the
   * OS to give up on an unreachable host (minutes).
   * @default 5000
   */
  connectTimeout?: number;
  /**
   * Connections per server when `servers` lists several (a failover group).
   * @default memcache-client's (1)
   */
  maxConnections?: number;
}

/**
 * The memcache-client set-up MemcachedStore uses when given `servers`: one server or a comma-separated failover group,
 * a connect timeout, Nagle off. Exported so an application that shares the client (a rate limiter on the same
 * memcached) gets the same set-up.
 * @param servers `host:port`, or several comma-separated
 * @example
 * const client = createMemcachedClient("127.0.0.1:11211");
 * const store = new MemcachedStore({ client }); // the caller owns client: client.shutdown() on exit
 */
export function createMemcachedClient(servers: string, options: MemcachedClientOptions = {}): MemcacheClient {
  const { connectTimeout = 5000, maxConnections } = options;
  const list = servers.split(",").map((server) => server.trim()).filter(Boolean);
  const perServer = maxConnections === undefined ? {} : { maxConnections };
  const server = list.length === 1 ? (list[0] as string) : { servers: list.map((entry) => ({ server: entry, ...perServer })) };
  return new MemcacheClient({ server, connectTimeout, noDelay: true });
}
