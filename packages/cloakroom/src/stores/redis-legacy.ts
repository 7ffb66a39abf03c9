/**
 * The record format RedisStore wrote before the string records of redis-codec.ts, kept so that sessions stored by an
 * earlier version still load: a hash per session (`ca ta ia aa` times in ms, `v` version, `u` userId, `cm`
 * cookieMaxAge JSON, `m` meta JSON, one field `d:<name>` per data key holding its JSON) and a sorted set per user
 * (`u:<userId>`, member = session key, score = absoluteExpiresAt). RedisStore reads both and never writes them: a
 * patch or touch first rewrites such a record in the new format (read old, write new).
 */
import type { SessionMeta, SessionRecord } from "../core/types.js";
import type { RedisCommands, RedisNode } from "./redis-client.js";

const DATA_FIELD = "d:";

/** The record of a legacy hash (HGETALL's reply); throws when the hash is not a session record. */
export function legacyFieldsToRecord(hash: Record<string, string>): SessionRecord {
  const { u, ca, ta, ia, aa, cm, v, m } = hash;
  if (ca === undefined || ta === undefined || ia === undefined || aa === undefined || v === undefined) {
    throw new Error("the stored hash is not a session record");
  }
  const data: Array<[string, unknown]> = [];
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith(DATA_FIELD)) data.push([field.slice(DATA_FIELD.length), JSON.parse(value)]);
  }
  return {
    userId: u ?? null,
    // fromEntries defines own properties, so a data key named "__proto__" stays data.
    data: Object.fromEntries(data),
    createdAt: Number(ca),
    touchedAt: Number(ta),
    idleExpiresAt: Number(ia),
    absoluteExpiresAt: Number(aa),
    cookieMaxAge: cm === undefined ? null : (JSON.parse(cm) as number | null),
    version: Number(v),
    meta: m === undefined ? {} : (JSON.parse(m) as SessionMeta),
  };
}

/** Whether a Redis error says the key holds another type: the session is a legacy hash. */
export function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("WRONGTYPE");
}

/** The legacy hash at a session key as a record; `null` when there is none. */
export async function readLegacyRecord(commands: RedisCommands, sessionKey: string): Promise<SessionRecord | null> {
  const hash = await commands.hgetall(sessionKey);
  return Object.keys(hash).length === 0 ? null : legacyFieldsToRecord(hash);
}

/** `min(idleExpiresAt, absoluteExpiresAt)` of the legacy hash at a session key; 0 when it has none. */
export async function legacyExpiresAt(node: RedisNode, sessionKey: string): Promise<number> {
  const [idle, absolute] = await node.hmget(sessionKey, ["ia", "aa"]);
  return idle === null || absolute === null ? 0 : Math.min(Number(idle), Number(absolute));
}
