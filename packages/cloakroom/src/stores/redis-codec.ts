/**
 * RedisStore's record encoding: one Redis string per session, nine fields joined by U+001F (the ASCII unit
 * separator), which JSON.stringify never emits and {@link encodeOwner} never lets through:
 *
 *   createdAt ␟ touchedAt ␟ idleExpiresAt ␟ absoluteExpiresAt ␟ version ␟ cookieMaxAge ␟ meta ␟ owner ␟ data
 *
 * - times: base 36 when a safe non-negative integer (8 characters until 2059), else `~` + the decimal form; touchedAt
 *   is empty while it equals createdAt (a fresh session);
 * - version: decimal, empty for 0; cookieMaxAge: decimal, empty for null; meta: JSON, empty for `{}`;
 * - owner: see {@link encodeOwner}; data: `JSON.stringify(data)`.
 *
 * redis-scripts.ts reads and rewrites this layout in Lua (a patch splices top-level members of the data object as
 * text, so user values are never decoded there). Keep the two in step.
 */
import type { SessionMeta, SessionPatch, SessionRecord } from "../core/types.js";

const SEPARATOR = "\x1f";
/** The owner field's value when the owner is also `data.userId` (the default identity key): stored once. */
const OWNER_IN_DATA = ".";

/** 36^5: a time is written as two small integers, each below 2^31, whose base-36 forms V8 prints fast. */
const LOW_DIGITS = 60_466_176;

function encodeTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) return `~${ms}`;
  // Same text as ms.toString(36), which is four times slower for numbers past 2^31 (a double-to-radix loop in V8).
  if (ms < LOW_DIGITS) return ms.toString(36);
  const high = Math.floor(ms / LOW_DIGITS);
  return high.toString(36) + (ms - high * LOW_DIGITS).toString(36).padStart(5, "0");
}

function decodeTime(text: string): number {
  return text.charCodeAt(0) === 126 ? Number(text.slice(1)) : parseInt(text, 36);
}

/**
 * The userId as the record and the scripts hold it: the string itself when it is plain, else its JSON form (when
 * empty, or starting with `"` or `.`, or holding a control character). Index tags are derived from this form.
 */
export function encodeOwner(userId: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = userId !== "" && !/^[".]|[\x00-\x1f]/.test(userId);
  return plain ? userId : JSON.stringify(userId);
}

function decodeOwner(text: string, data: Record<string, unknown>): string | null {
  if (text === "") return null;
  if (text === OWNER_IN_DATA) return data.userId as string;
  return text.charCodeAt(0) === 34 ? (JSON.parse(text) as string) : text;
}

function ownerField(record: SessionRecord): string {
  const { userId, data } = record;
  if (userId === null) return "";
  const owner = encodeOwner(userId);
  // Stored once when data.userId is the same plain string (no JSON escapes): the scripts read it from the data.
  const inData = data.userId === userId && owner === userId && JSON.stringify(userId).length === userId.length + 2;
  return inData ? OWNER_IN_DATA : owner;
}

/** The Redis string of a record (one concatenation: no field array to allocate on every create). */
export function encodeRecord(record: SessionRecord): string {
  const meta = record.meta === undefined ? "" : JSON.stringify(record.meta);
  return (
    encodeTime(record.createdAt) +
    SEPARATOR +
    (record.touchedAt === record.createdAt ? "" : encodeTime(record.touchedAt)) +
    SEPARATOR +
    encodeTime(record.idleExpiresAt) +
    SEPARATOR +
    encodeTime(record.absoluteExpiresAt) +
    SEPARATOR +
    (record.version === 0 ? "" : String(record.version)) +
    SEPARATOR +
    (record.cookieMaxAge === null ? "" : String(record.cookieMaxAge)) +
    SEPARATOR +
    (meta === "{}" ? "" : meta) +
    SEPARATOR +
    ownerField(record) +
    SEPARATOR +
    JSON.stringify(record.data)
  );
}

/** The fields of a stored string; throws when it is not a record of this format. */
function splitRecord(value: string): string[] {
  // JSON.stringify escapes every control character, so the data and meta fields hold no separator.
  const fields = value.split(SEPARATOR);
  if (fields.length !== 9) throw new Error("the stored value is not a session record");
  return fields;
}

/** The record of a stored string. */
export function decodeRecord(value: string): SessionRecord {
  const [ca, ta, ia, aa, v, cm, meta, owner, json] = splitRecord(value) as [string, string, string, string, string, string, string, string, string];
  // JSON.parse defines own properties, so a data key named "__proto__" stays data.
  const data = JSON.parse(json) as Record<string, unknown>;
  const createdAt = decodeTime(ca);
  return {
    userId: decodeOwner(owner, data),
    data,
    createdAt,
    touchedAt: ta === "" ? createdAt : decodeTime(ta),
    idleExpiresAt: decodeTime(ia),
    absoluteExpiresAt: decodeTime(aa),
    cookieMaxAge: cm === "" ? null : Number(cm),
    version: v === "" ? 0 : Number(v),
    meta: meta === "" ? {} : (JSON.parse(meta) as SessionMeta),
  };
}

/** `min(idleExpiresAt, absoluteExpiresAt)` of a stored string, without decoding its data. */
export function expiresAtOfValue(value: string): number {
  const [, , ia, aa] = value.split(SEPARATOR, 4) as [string, string, string, string];
  return Math.min(decodeTime(ia), decodeTime(aa));
}

/** 10^9: a time in ms is written as two integers below 2^31, which V8 prints fast (see {@link decimalOf}). */
const LOW_DECIMALS = 1e9;

/**
 * The decimal text of an integer, as `toFixed(0)` writes it. Past 2^31 V8 prints a number by its slow double path
 * (~0.5 µs for a time in ms, `toFixed` ~0.2 µs); two halves below 2^31 take a tenth of that, on every create.
 */
export function decimalOf(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) return n.toFixed(0);
  if (n < 2 ** 31) return String(n);
  const high = Math.floor(n / LOW_DECIMALS);
  return String(high) + String(n - high * LOW_DECIMALS).padStart(9, "0");
}

/** Integer milliseconds for PEXPIREAT/PXAT (which reject fractions); rounding up never cuts a session short. */
export function expireAtArg(ms: number): string {
  return decimalOf(Math.ceil(ms));
}

/**
 * The PATCH script's arguments: now, touchedAt, idleExpiresAt, `=` + cookieMaxAge (each empty when unchanged), the
 * number of keys set, their JSON name/value pairs, then the JSON names to unset.
 */
export function patchArgs(now: number, patch: SessionPatch): string[] {
  const set: string[] = [];
  const unset = (patch.unset ?? []).map((name) => JSON.stringify(name));
  for (const [name, value] of Object.entries(patch.set ?? {})) {
    const json = JSON.stringify(value);
    // `undefined` has no JSON form: such a key is simply absent, as it would be after any JSON round trip.
    if (json === undefined) unset.push(JSON.stringify(name));
    else set.push(JSON.stringify(name), json);
  }
  const { touchedAt, idleExpiresAt, cookieMaxAge } = patch;
  return [
    String(now),
    touchedAt === undefined ? "" : encodeTime(touchedAt),
    idleExpiresAt === undefined ? "" : encodeTime(idleExpiresAt),
    cookieMaxAge === undefined ? "" : `=${cookieMaxAge === null ? "" : String(cookieMaxAge)}`,
    String(set.length / 2),
    ...set,
    ...unset,
  ];
}
