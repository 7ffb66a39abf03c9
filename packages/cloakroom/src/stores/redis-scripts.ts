/**
 * The Lua scripts of RedisStore, each run by SHA (EVALSHA, falling back to EVAL on NOSCRIPT). They read and rewrite
 * the string records of redis-codec.ts (see there for the layout) as text: a patch splices top-level members of the
 * data object without decoding user values, so nothing is lost to cjson (which turns `[]` into `{}` and rounds large
 * numbers). See redis.ts for the key layout and what each script keeps atomic.
 */
import { createHash } from "node:crypto";

export interface LuaScript {
  source: string;
  sha: string;
}

function luaScript(source: string): LuaScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/** Reading a record: its nine fields, its times, its owner; and a legacy hash (redis-legacy.ts) told apart. */
const RECORD_FNS = `
local SEP = '\\31'
local function fieldsOf(v)
  local f, i = {}, 1
  for n = 1, 8 do
    local j = string.find(v, SEP, i, true)
    f[n] = string.sub(v, i, j - 1)
    i = j + 1
  end
  f[9] = string.sub(v, i)
  return f
end
local function timeOf(x)
  if string.byte(x, 1) == 126 then return tonumber(string.sub(x, 2)) end
  return tonumber(x, 36)
end
local function skipString(s, i)
  local j = i + 1
  while true do
    local q = string.find(s, '["\\\\]', j)
    if string.byte(s, q) == 92 then j = q + 2 else return q + 1 end
  end
end
local function skipValue(s, i)
  local c = string.byte(s, i)
  if c == 34 then return skipString(s, i) end
  if c ~= 123 and c ~= 91 then return (string.find(s, '[,}%]]', i)) end
  local depth, j = 0, i
  while true do
    local p = string.find(s, '["{}%[%]]', j)
    local b = string.byte(s, p)
    if b == 34 then j = skipString(s, p) else
      if b == 123 or b == 91 then depth = depth + 1 else depth = depth - 1 end
      j = p + 1
      if depth == 0 then return j end
    end
  end
end
local function membersOf(s)
  local out, i = {}, 2
  while string.byte(s, i) == 34 do
    local nameEnd = skipString(s, i)
    local valueEnd = skipValue(s, nameEnd + 1)
    out[#out + 1] = { string.sub(s, i, nameEnd - 1), string.sub(s, nameEnd + 1, valueEnd - 1) }
    i = valueEnd + 1
  end
  return out
end
local function ownerOf(f)
  if f[8] ~= '.' then return f[8] ~= '' and f[8] end
  for _, m in ipairs(membersOf(f[9])) do
    if m[1] == '"userId"' then return string.sub(m[2], 2, -2) end
  end
  return false
end
local function recordAt(key)
  local v = redis.pcall('GET', key)
  if type(v) == 'table' then return 'legacy' end
  return v and fieldsOf(v)
end
local function ownerAndExpiry(key)
  local f = recordAt(key)
  if f == 'legacy' then
    local cur = redis.call('HMGET', key, 'u', 'ia', 'aa')
    return cur[1], tonumber(cur[2]), tonumber(cur[3]), true
  end
  if not f then return false end
  return ownerOf(f), timeOf(f[3]), timeOf(f[4]), false
end
`;

/**
 * What an index addition does besides its ZADD. When `ensureExpiry` is set, makes the bucket live at least as long as
 * the member: until its score (s) rounded up to the hour, so the creates of a burst, whose absolute expiries fall in
 * the same hour, leave the bucket's expiry alone. `EXPIREAT … NX` first (Redis ≥ 7.0): a bucket the ZADD has just
 * created has no expiry, and one call sets it; otherwise `EXPIREAT … GT`, so the expiry only ever moves later. The
 * store skips the check when it has already seen the bucket's expiry reach that hour (redis-bucket-expiry.ts). Unless
 * `pruneAt` (s) is nil, also prunes the members whose absolute expiry passed: the store asks for that on one addition
 * in {@link PRUNE_EVERY}, which keeps a bucket that never stops receiving members small without a ZREMRANGEBYSCORE on
 * every create.
 */
const INDEX_UPKEEP_FN = `
local function indexUpkeep(bucket, score, ensureExpiry, pruneAt)
  if ensureExpiry then
    local expireAt = string.format('%.0f', math.ceil(tonumber(score) / 3600) * 3600)
    if redis.call('EXPIREAT', bucket, expireAt, 'NX') == 0 then redis.call('EXPIREAT', bucket, expireAt, 'GT') end
  end
  if pruneAt then redis.call('ZREMRANGEBYSCORE', bucket, '-inf', pruneAt) end
end
`;

/** One index addition in this many also prunes the expired members of its bucket (see INDEX_UPKEEP_FN). */
export const PRUNE_EVERY = 8;

/** A logged-in session's flag in {@link CREATE}: what its addition does besides ZADD ('0' to '3'). */
export function createFlag(ensureExpiry: boolean, prune: boolean): string {
  return String.fromCharCode(48 + (ensureExpiry ? 1 : 0) + (prune ? 2 : 0));
}

/**
 * Sessions and the index members of the logged-in ones, any number per call (the creates of one tick:
 * redis-create-batch.ts), in as few arguments as the writes need: Redis parses each argument and Lua interns it
 * (an anonymous session takes three, a logged-in one six). Every key the script reads or writes is one of its KEYS,
 * as Redis's scripting contract asks: Redis-compatible servers enforce it (Dragonfly refuses undeclared keys by
 * default) and proxies route by the declared keys.
 * KEYS: the anonymous sessions' keys, then a session, bucket pair per logged-in session.
 * ARGV: the number of anonymous sessions; now (s) to prune at; one flag character per logged-in session
 * ({@link createFlag}); then value, expireAt (ms) per anonymous session; then value, expireAt (ms), score (s),
 * member per logged-in session.
 */
export const CREATE = luaScript(`${INDEX_UPKEEP_FN}
-- KEYS and ARGV as locals: a global read per argument is a table lookup (callgrind: ~0.8k instructions a session).
local call, find, KEYS, ARGV = redis.call, string.find, KEYS, ARGV
local anonymous, pruneAt, flags = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local a = 3
for i = 1, anonymous do
  call('SET', KEYS[i], ARGV[a + 1], 'PXAT', ARGV[a + 2])
  a = a + 2
end
-- Most flags are '0' (ZADD only): find the next other one rather than read every flag.
local upkeep = find(flags, '[^0]')
local k = anonymous
for s = 1, #flags do
  local bucket, score = KEYS[k + 2], ARGV[a + 3]
  call('SET', KEYS[k + 1], ARGV[a + 1], 'PXAT', ARGV[a + 2])
  call('ZADD', bucket, score, ARGV[a + 4])
  if s == upkeep then
    local flag = string.byte(flags, s) - 48
    indexUpkeep(bucket, score, flag % 2 == 1, flag >= 2 and pruneAt or nil)
    upkeep = find(flags, '[^0]', s + 1)
  end
  k = k + 2
  a = a + 4
end
return 1
`);

/** KEYS: bucket. ARGV: score (s), member, now (s) to prune or ''. Always ensures the bucket's expiry. */
export const INDEX_ADD = luaScript(`${INDEX_UPKEEP_FN}
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
indexUpkeep(KEYS[1], ARGV[1], true, ARGV[3] ~= '' and ARGV[3] or nil)
return 1
`);

/**
 * KEYS: session. ARGV: now, touchedAt|'', idleExpiresAt|'', '=' .. cookieMaxAge|'', n, n JSON name/value pairs,
 * JSON names to unset… Unset runs before set, so a name in both is set. Returns 1 when applied, 0 (nothing written)
 * when missing or already expired, -2 when the key holds a legacy hash (migrate it, then patch again).
 */
export const PATCH = luaScript(`${RECORD_FNS}
local f = recordAt(KEYS[1])
if f == 'legacy' then return -2 end
if not f then return 0 end
local idle, absolute = timeOf(f[3]), timeOf(f[4])
if math.min(idle, absolute) <= tonumber(ARGV[1]) then return 0 end
local lastSet = 5 + 2 * tonumber(ARGV[5])
if #ARGV > 5 then
  local changed = {}
  for i = 6, lastSet, 2 do changed[ARGV[i]] = true end
  for i = lastSet + 1, #ARGV do changed[ARGV[i]] = true end
  if f[8] == '.' and changed['"userId"'] then f[8] = ownerOf(f) or '' end
  local parts = {}
  for _, m in ipairs(membersOf(f[9])) do
    if not changed[m[1]] then parts[#parts + 1] = m[1] .. ':' .. m[2] end
  end
  for i = 6, lastSet, 2 do parts[#parts + 1] = ARGV[i] .. ':' .. ARGV[i + 1] end
  f[9] = '{' .. table.concat(parts, ',') .. '}'
end
if ARGV[2] ~= '' then f[2] = ARGV[2] end
if ARGV[3] ~= '' then f[3] = ARGV[3]; idle = timeOf(ARGV[3]) end
if ARGV[4] ~= '' then f[6] = string.sub(ARGV[4], 2) end
f[5] = string.format('%d', (tonumber(f[5]) or 0) + 1)
redis.call('SET', KEYS[1], table.concat(f, SEP), 'PXAT', string.format('%.0f', math.ceil(math.min(idle, absolute))))
return 1
`);

/** KEYS: session. Deletes it; returns { its owner or '', 1 when it was a legacy hash else 0 }. */
export const DESTROY = luaScript(`${RECORD_FNS}
local owner, _, _, legacy = ownerAndExpiry(KEYS[1])
redis.call('DEL', KEYS[1])
return { owner or '', legacy and 1 or 0 }
`);

/**
 * KEYS: session. ARGV: owner (encoded), userId (as a legacy hash holds it), now. Deletes the session if it belongs to
 * the user: 1 = was live, 0 = was expired, -1 = missing or not theirs.
 */
export const DESTROY_OWNED = luaScript(`${RECORD_FNS}
local owner, idle, absolute, legacy = ownerAndExpiry(KEYS[1])
if not owner or owner ~= (legacy and ARGV[2] or ARGV[1]) then return -1 end
redis.call('DEL', KEYS[1])
if math.min(idle, absolute) <= tonumber(ARGV[3]) then return 0 end
return 1
`);

/** KEYS: bucket. ARGV: now (s), tag. Prunes members whose absolute expiry passed; returns the keys tagged `tag`. */
export const INDEX_READ = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local keys, n = {}, #ARGV[2]
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, n) == ARGV[2] then keys[#keys + 1] = string.sub(m, n + 1) end
end
return keys
`);

/**
 * KEYS: bucket, session keys… ARGV: tag, store keys… (same order). Removes each member whose record is missing or
 * whose owner has another tag — atomic with create, so only used when the index and the records share a slot.
 */
export const INDEX_PRUNE = luaScript(`${RECORD_FNS}
local removed, n = 0, #ARGV[1]
for i = 2, #KEYS do
  local owner = ownerAndExpiry(KEYS[i])
  if not owner or string.sub(redis.sha1hex(owner), 1, n) ~= ARGV[1] then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[1] .. ARGV[i])
  end
end
return removed
`);

/** KEYS: legacy per-user index. ARGV: now (ms). Prunes members whose absolute expiry passed and returns the rest. */
export const LEGACY_INDEX_READ = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`);

/**
 * KEYS: legacy per-user index, session keys… ARGV: owner (encoded), userId, members… (same order). Removes each
 * member whose record is missing or not the user's; shared slot only, like INDEX_PRUNE.
 */
export const LEGACY_INDEX_PRUNE = luaScript(`${RECORD_FNS}
local removed = 0
for i = 2, #KEYS do
  local owner, _, _, legacy = ownerAndExpiry(KEYS[i])
  if not owner or owner ~= (legacy and ARGV[2] or ARGV[1]) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i + 1])
  end
end
return removed
`);

/** KEYS: session. ARGV: version, value, expireAt. Replaces a legacy hash still at `version` by its string record. */
export const MIGRATE = luaScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' or redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1
`);
