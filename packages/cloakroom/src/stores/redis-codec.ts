/** RedisStore's record encoding: a session as the fields of one Redis hash, and a patch as script arguments. */
import type { SessionMeta, SessionPatch, SessionRecord } from "../core/types.js";

/** Data keys are stored as hash fields `d:<name>`, next to the record's own short fields. */
export const DATA_FIELD = "d:";

export function recordToFields(record: SessionRecord): string[] {
  const fields = [
    "ca", String(record.createdAt),
    "ta", String(record.touchedAt),
    "ia", String(record.idleExpiresAt),
    "aa", String(record.absoluteExpiresAt),
    "cm", JSON.stringify(record.cookieMaxAge),
    "v", String(record.version),
    "m", JSON.stringify(record.meta ?? {}),
  ];
  if (record.userId !== null) fields.push("u", record.userId);
  for (const [name, value] of Object.entries(record.data)) {
    const json = JSON.stringify(value);
    // `undefined` has no JSON form: such a key is simply absent, as it would be after any JSON round trip.
    if (json !== undefined) fields.push(DATA_FIELD + name, json);
  }
  return fields;
}

export function fieldsToRecord(hash: Record<string, string>): SessionRecord {
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

/** Integer milliseconds for PEXPIREAT (which rejects fractions); rounding up never cuts a session short. */
export function expireAtArg(ms: number): string {
  return Math.ceil(ms).toFixed(0);
}

export function patchArgs(now: number, patch: SessionPatch): string[] {
  const set: string[] = [];
  const unset = (patch.unset ?? []).map((name) => DATA_FIELD + name);
  for (const [name, value] of Object.entries(patch.set ?? {})) {
    const json = JSON.stringify(value);
    if (json === undefined) unset.push(DATA_FIELD + name);
    else set.push(DATA_FIELD + name, json);
  }
  return [
    String(now),
    patch.idleExpiresAt === undefined ? "" : String(patch.idleExpiresAt),
    patch.touchedAt === undefined ? "" : String(patch.touchedAt),
    patch.cookieMaxAge === undefined ? "" : JSON.stringify(patch.cookieMaxAge),
    String(set.length / 2),
    ...set,
    ...unset,
  ];
}
