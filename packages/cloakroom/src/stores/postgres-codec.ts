/**
 * How PostgresStore turns JavaScript strings and JSON into values PostgreSQL accepts, losslessly.
 *
 * PostgreSQL cannot hold two things a JavaScript string may contain:
 * - U+0000: `text` rejects it outright, and `jsonb` rejects the `\u0000` escape.
 * - an unpaired UTF-16 surrogate: `jsonb` rejects `"\ud800"`, and a `text` parameter is silently turned into U+FFFD
 *   by the UTF-8 encoder (two different keys would then collide).
 *
 * So every string that reaches the database — keys, user ids, and every string and object key inside `data` and
 * `meta`, at any depth — goes through {@link encodeString}: a string that contains neither and does not begin with
 * the marker U+FDD0 is stored as is (the overwhelmingly common case, so the table stays readable and queryable);
 * any other string is stored as U+FDD0 followed by the string with `\`, U+0000 and unpaired surrogates
 * backslash-escaped (`\\`, `\0`, `\uXXXX`). U+FDD0 is a Unicode noncharacter, "reserved for internal use", so a real
 * string practically never begins with it, and when one does it is escaped like the others: the mapping is reversible
 * for every string.
 *
 * Encoding whole values keeps `data` a real `jsonb` object whose top-level keys are the (encoded) session keys, so a
 * patch stays one atomic `(data - $unset) || $set` statement.
 */
import { hash } from "node:crypto";

/** Prefix of an encoded string: U+FDD0, a Unicode noncharacter. */
export const ENCODED_MARKER = "\uFDD0";

// Unpaired surrogates, matched on UTF-16 code units (no `u` flag on purpose).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const TO_ESCAPE = /\\|\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPED = /\\(\\|0|u[0-9a-f]{4})/g;
/**
 * What `JSON.stringify` output looks like when some string inside needs encoding: `\u0000` and `\udXXX` are how it
 * writes U+0000 and unpaired surrogates. A false positive (a literal backslash followed by `u0000`) only costs the
 * slow path, whose result is still correct.
 */
const JSON_NEEDS_ENCODING = /\\u0000|\\ud[89a-f]|\uFDD0/i;

function escapeCodeUnit(match: string): string {
  if (match === "\\") return "\\\\";
  if (match === "\0") return "\\0";
  return `\\u${match.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function unescapeSequence(_match: string, body: string): string {
  if (body === "\\") return "\\";
  if (body === "0") return "\0";
  return String.fromCharCode(Number.parseInt(body.slice(1), 16));
}

/**
 * Make any string storable in a PostgreSQL `text` or `jsonb` string, reversibly (see the module comment).
 * @param value any JavaScript string
 * @returns `value` itself when it is storable as is, otherwise its escaped form prefixed with U+FDD0
 */
export function encodeString(value: string): string {
  if (!value.startsWith(ENCODED_MARKER) && !value.includes("\0") && !LONE_SURROGATE.test(value)) return value;
  return ENCODED_MARKER + value.replace(TO_ESCAPE, escapeCodeUnit);
}

/**
 * Undo {@link encodeString}.
 * @param stored a string read from the database
 * @returns the original string
 */
export function decodeString(stored: string): string {
  if (!stored.startsWith(ENCODED_MARKER)) return stored;
  return stored.slice(ENCODED_MARKER.length).replace(ESCAPED, unescapeSequence);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function encodingReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "string") return encodeString(value);
  // Runs after toJSON(), so `value` is what JSON.stringify is about to write; its children are visited next.
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [encodeString(k), v]));
  return value;
}

function decodingReviver(_key: string, value: unknown): unknown {
  if (typeof value === "string") return decodeString(value);
  if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith(ENCODED_MARKER))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [decodeString(k), v]));
  }
  return value;
}

/**
 * Serialize a JSON value for a `jsonb` parameter, with every string and object key passed through
 * {@link encodeString}. Same semantics as `JSON.stringify` otherwise (`toJSON`, dropped `undefined`s).
 * @param value a JSON-serializable object
 * @returns JSON text PostgreSQL's `jsonb` input accepts
 * @throws {TypeError} when `JSON.stringify` does (a BigInt, a cycle)
 */
export function encodeJson(value: object): string {
  const plain = JSON.stringify(value);
  return JSON_NEEDS_ENCODING.test(plain) ? JSON.stringify(value, encodingReplacer) : plain;
}

/**
 * Parse `jsonb` output text (select the column as `::text`) and undo {@link encodeJson}.
 * @param text JSON text from the database
 * @returns the original value
 */
export function decodeJson(text: string): unknown {
  return text.includes(ENCODED_MARKER) ? JSON.parse(text, decodingReviver) : JSON.parse(text);
}

/**
 * The primary key of a session row: SHA-256 of the encoded key's UTF-8 bytes. Keys are opaque and may be 10 kB or
 * more, while a btree index entry is limited to about 2.7 kB, so the index holds this 32-byte digest and the row
 * keeps the key itself (for `listByUser`). Encoding first makes the UTF-8 step injective (no U+FFFD collisions).
 * One-shot `crypto.hash` (Node ≥ 20.12), not `createHash().update().digest()`: it is on every request's read, and the
 * streaming Hash object costs about three times as much for a 43-character key.
 * @param key a store key
 * @returns the 32-byte digest, sent as `bytea`
 */
export function keyDigest(key: string): Buffer {
  return hash("sha256", encodeString(key), "buffer");
}
