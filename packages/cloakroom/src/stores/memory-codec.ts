/**
 * How MemoryStore holds a record: ONE string per session, because a string is the smallest thing V8 keeps (a 16-byte
 * header, then one byte per character), where an array or a class instance costs a header, a pointer per field and a
 * 16-byte box per time (epoch milliseconds are not small integers). Measured on Node 20 for a minimal `{ userId }`
 * session (bench:memory): the JSON of a positional array held ~120 characters; this form holds ~51.
 *
 * Every time is a whole number of ms in [0, 2^48) (until the year 10889), written as 6 characters (base 256,
 * big-endian; code units 0–255 only, so the string stays one byte per character). Three forms, and the userId-only
 * variants below:
 * - "P" + idleExpiresAt, absoluteExpiresAt, createdAt, touchedAt + the JSON of `[data]` or `[data, userId]`: a session
 *   with version 0, no cookieMaxAge and no meta (the smallest; bench:memory's minimal session). userId is implied,
 *   i.e. `data.userId` when that is an own string (else null), unless given.
 * - "Q" + the four times, cookieMaxAge (the all-ones time for null) and version as 6 characters each, the lengths of
 *   meta's ip and userAgent as 2 characters each (0xFFFF: absent), "0" (userId implied) or "1" (given), the ip and
 *   userAgent texts, then the JSON of `data` or `[data, userId]`. Every other session a request writes (it has been
 *   touched, or has a cookie lifetime or a device). Reading it parses only the data's JSON: JSON.parse costs by the
 *   value it builds, and measured under callgrind the positional tail `[{"userId":"u1"},0,0,86400000,{"ip":"…"}]`
 *   took 6.6k instructions, `{"userId":"u1"}` alone 2.8k; the texts are slices.
 * - "J" + the JSON of the full positional array: anything else (a time that is fractional, negative or non-finite,
 *   meta with other fields than ip and userAgent as strings).
 * The seed's session, whose data is `{ userId }` and nothing else (with `userId` the record's userId), skips JSON in
 * the first two forms: "U" is "P" with the userId's text as the tail, and the "Q" form's userId mode "2" says its
 * tail is that text. A read then builds `{ userId: tail }`, where JSON.parse of `{"userId":"u1"}` cost 2.7k
 * instructions a read under callgrind (bench:steady, session 7), most of it the call into V8's C++ parser.
 *
 * JSON rather than structuredClone: a copy in and a copy out (~0.9 + 0.7 µs against ~2 + 2 µs for a small record),
 * and a Date comes back as a string, as from every network store. JSON.parse defines own properties, so a data key
 * named `__proto__` stays data.
 */
import type { SessionMeta, SessionRecord } from "../core/types.js";

/** A record as MemoryStore holds it (see the module comment). */
export type HeldRecord = string;

const PACKED = "P";
const PACKED_USER = "U";
const FULL = "Q";
const GENERIC = "J";
const TIME_CHARS = 6;
const HEADER = 1 + 4 * TIME_CHARS;
const MAX_PACKED_TIME = 2 ** 48;
/** The "Q" form's cookieMaxAge for `null`. */
const NULL_TIME = MAX_PACKED_TIME - 1;
const AT_COOKIE_MAX_AGE = HEADER;
const AT_VERSION = AT_COOKIE_MAX_AGE + TIME_CHARS;
const AT_IP_LENGTH = AT_VERSION + TIME_CHARS;
const AT_AGENT_LENGTH = AT_IP_LENGTH + 2;
const AT_USER_MODE = AT_AGENT_LENGTH + 2;
const FULL_HEADER = AT_USER_MODE + 1;
/** A meta text's length that means "absent" (and one past the longest text the "Q" form holds). */
const ABSENT = 0xffff;
const LOW = 2 ** 24;

/** The "P" tail: `[data]` (userId implied) or `[data, userId]`. */
type Tail = [data: Record<string, unknown>, userId?: string | null];
type GenericTuple = [number, number, number, number, string | null, Record<string, unknown>, number | null, number, SessionMeta];

function packable(time: number): boolean {
  return Number.isInteger(time) && time >= 0 && time < MAX_PACKED_TIME;
}

/** Whether the data is `{ userId }` alone, that userId being the record's: held as the userId's text, no JSON. */
function userOnly(record: SessionRecord): boolean {
  const data = record.data;
  return typeof record.userId === "string" && Object.hasOwn(data, "userId") && data.userId === record.userId && Object.keys(data).length === 1;
}

/** What the userId defaults to: the data's own `userId` when it is a string. */
function impliedUserId(data: Record<string, unknown>): string | null {
  const value = Object.hasOwn(data, "userId") ? data.userId : undefined;
  return typeof value === "string" ? value : null;
}

function isEmpty(meta: SessionMeta): boolean {
  return Object.keys(meta).length === 0;
}

function timeChars(time: number): number[] {
  const high = Math.floor(time / LOW);
  const low = time % LOW;
  return [(high >>> 16) & 255, (high >>> 8) & 255, high & 255, (low >>> 16) & 255, (low >>> 8) & 255, low & 255];
}

function readTime(held: HeldRecord, at: number): number {
  const high = (held.charCodeAt(at) << 16) | (held.charCodeAt(at + 1) << 8) | held.charCodeAt(at + 2);
  const low = (held.charCodeAt(at + 3) << 16) | (held.charCodeAt(at + 4) << 8) | held.charCodeAt(at + 5);
  return high * LOW + low;
}

/** A meta text the "Q" form can hold: absent, or a string shorter than {@link ABSENT}. */
function heldText(value: unknown): value is string | undefined {
  return value === undefined || (typeof value === "string" && value.length < ABSENT);
}

/** Whether meta has only `ip` and `userAgent`, as strings (what the engine writes). */
function plainMeta(meta: SessionMeta): boolean {
  for (const key of Object.keys(meta)) if (key !== "ip" && key !== "userAgent") return false;
  return heldText(meta.ip) && heldText(meta.userAgent);
}

function lengthChars(text: string | undefined): string {
  const length = text === undefined ? ABSENT : text.length;
  return String.fromCharCode(length >>> 8, length & 255);
}

function readLength(held: HeldRecord, at: number): number {
  return (held.charCodeAt(at) << 8) | held.charCodeAt(at + 1);
}

/**
 * Encode a record to hold it.
 * @throws {TypeError} when `record.data` is not JSON-serializable (a BigInt, a cycle)
 */
export function encodeRecord(record: SessionRecord): HeldRecord {
  const { idleExpiresAt, absoluteExpiresAt, createdAt, touchedAt, cookieMaxAge, version, meta, data } = record;
  const implied = record.userId === impliedUserId(data);
  let held: string;
  if (!(packable(idleExpiresAt) && packable(absoluteExpiresAt) && packable(createdAt) && packable(touchedAt))) {
    held = generic(record);
  } else if (version === 0 && cookieMaxAge === null && isEmpty(meta)) {
    const times = [...timeChars(idleExpiresAt), ...timeChars(absoluteExpiresAt), ...timeChars(createdAt), ...timeChars(touchedAt)];
    if (userOnly(record)) held = PACKED_USER + String.fromCharCode(...times) + record.userId!;
    else held = PACKED + String.fromCharCode(...times) + JSON.stringify(implied ? [data] : [data, record.userId]);
  } else if ((cookieMaxAge === null || (packable(cookieMaxAge) && cookieMaxAge !== NULL_TIME)) && packable(version) && plainMeta(meta)) {
    const times = [
      ...timeChars(idleExpiresAt),
      ...timeChars(absoluteExpiresAt),
      ...timeChars(createdAt),
      ...timeChars(touchedAt),
      ...timeChars(cookieMaxAge ?? NULL_TIME),
      ...timeChars(version),
    ];
    const { ip, userAgent } = meta;
    const user = userOnly(record);
    held =
      FULL +
      String.fromCharCode(...times) +
      lengthChars(ip) +
      lengthChars(userAgent) +
      (user ? "2" : implied ? "0" : "1") +
      (ip ?? "") +
      (userAgent ?? "") +
      (user ? record.userId! : JSON.stringify(implied ? data : [data, record.userId]));
  } else {
    held = generic(record);
  }
  // Concatenation and JSON.stringify return ropes (V8 ConsStrings) that hold more than their text; reading a
  // character flattens the string in place, and the next GC drops the rope.
  held.charCodeAt(held.length - 1);
  return held;
}

function generic(record: SessionRecord): string {
  const tuple: GenericTuple = [record.idleExpiresAt, record.absoluteExpiresAt, record.createdAt, record.touchedAt, record.userId, record.data, record.cookieMaxAge, record.version, record.meta];
  return GENERIC + JSON.stringify(tuple);
}

/** A fresh copy of the held record (every call parses anew: the caller owns what it gets). */
export function decodeRecord(held: HeldRecord): SessionRecord {
  const form = held.charCodeAt(0);
  if (form === 81 /* "Q" */) return decodeFull(held);
  // The rare form in a function of its own: kept here, its destructuring made this function's bytecode too big for
  // V8 to optimize it within 9,000 requests (bench:steady found it still in baseline code, 5k instructions a call).
  if (form !== 80 /* "P" */ && form !== 85 /* "U" */) return decodeGeneric(held);
  let userId: string | null;
  let data: Record<string, unknown>;
  if (form === 85 /* "U": the data is { userId } */) {
    userId = held.slice(HEADER);
    data = { userId };
  } else {
    // Indexed reads, not a destructuring with defaults: that runs the array iterator protocol on every read.
    const tail = JSON.parse(held.slice(HEADER)) as Tail;
    data = tail[0];
    userId = tail.length > 1 ? (tail[1] as string | null) : impliedUserId(data);
  }
  return {
    userId,
    data,
    createdAt: readTime(held, 1 + 2 * TIME_CHARS),
    touchedAt: readTime(held, 1 + 3 * TIME_CHARS),
    idleExpiresAt: readTime(held, 1),
    absoluteExpiresAt: readTime(held, 1 + TIME_CHARS),
    cookieMaxAge: null,
    version: 0,
    meta: {},
  };
}

function decodeGeneric(held: HeldRecord): SessionRecord {
  const [idleExpiresAt, absoluteExpiresAt, createdAt, touchedAt, userId, data, cookieMaxAge, version, meta] =
    JSON.parse(held.slice(1)) as GenericTuple;
  // A NaN or infinite time comes back from JSON as null, which must still read as expired.
  return { userId, data, createdAt, touchedAt, idleExpiresAt: idleExpiresAt ?? NaN, absoluteExpiresAt: absoluteExpiresAt ?? NaN, cookieMaxAge, version, meta };
}

function decodeFull(held: HeldRecord): SessionRecord {
  const ipLength = readLength(held, AT_IP_LENGTH);
  const agentLength = readLength(held, AT_AGENT_LENGTH);
  let at = FULL_HEADER;
  const meta: SessionMeta = {};
  if (ipLength !== ABSENT) {
    meta.ip = held.slice(at, at + ipLength);
    at += ipLength;
  }
  if (agentLength !== ABSENT) {
    meta.userAgent = held.slice(at, at + agentLength);
    at += agentLength;
  }
  const mode = held.charCodeAt(AT_USER_MODE);
  const tail = held.slice(at);
  let data: Record<string, unknown>;
  let userId: string | null;
  if (mode === 50 /* "2": the data is { userId } */) {
    userId = tail;
    data = { userId };
  } else if (mode === 48 /* "0": userId implied */) {
    data = JSON.parse(tail) as Record<string, unknown>;
    userId = impliedUserId(data);
  } else {
    const parsed = JSON.parse(tail) as [Record<string, unknown>, string | null];
    data = parsed[0];
    userId = parsed[1];
  }
  const cookieMaxAge = readTime(held, AT_COOKIE_MAX_AGE);
  return {
    userId,
    data,
    createdAt: readTime(held, 1 + 2 * TIME_CHARS),
    touchedAt: readTime(held, 1 + 3 * TIME_CHARS),
    idleExpiresAt: readTime(held, 1),
    absoluteExpiresAt: readTime(held, 1 + TIME_CHARS),
    cookieMaxAge: cookieMaxAge === NULL_TIME ? null : cookieMaxAge,
    version: readTime(held, AT_VERSION),
    meta,
  };
}

/** `min(idleExpiresAt, absoluteExpiresAt)` of a held record, without parsing its JSON when packed. */
export function expiresAtOfHeld(held: HeldRecord): number {
  const form = held.charCodeAt(0);
  if (form !== 80 /* "P" */ && form !== 81 /* "Q" */ && form !== 85 /* "U" */) {
    const record = decodeRecord(held);
    return Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
  }
  return Math.min(readTime(held, 1), readTime(held, 1 + TIME_CHARS));
}
