/**
 * The Lua scripts of RedisStore, each loaded once and run by SHA (EVALSHA, falling back to EVAL on NOSCRIPT).
 * See redis.ts for the key layout and what each script keeps atomic.
 */
import { createHash } from "node:crypto";

export interface LuaScript {
  source: string;
  sha: string;
}

function luaScript(source: string): LuaScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/** Adds a member to a user index, prunes members whose absolute expiry passed, and never shortens the index's TTL. */
const INDEX_ADD_FN = `
local function indexAdd(index, score, member, expireAt, now)
  redis.call('ZADD', index, score, member)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  local ttl = redis.call('PTTL', index)
  local t = redis.call('TIME')
  local serverNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if ttl < 0 or serverNow + ttl < tonumber(expireAt) then redis.call('PEXPIREAT', index, expireAt) end
end
`;

/** KEYS: session[, index]. ARGV: expireAt, index score, member, index expireAt, now, field/value pairs… */
export const CREATE = luaScript(`${INDEX_ADD_FN}
redis.call('DEL', KEYS[1])
for i = 6, #ARGV, 100 do redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 99, #ARGV))) end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
if KEYS[2] then indexAdd(KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5]) end
return 1
`);

/** KEYS: index. ARGV: score, member, index expireAt, now. */
export const INDEX_ADD = luaScript(`${INDEX_ADD_FN}
indexAdd(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
`);

/**
 * KEYS: session. ARGV: now, idleExpiresAt|'', touchedAt|'', cookieMaxAge JSON|'', n, n field/value pairs, unset fields…
 * Unset runs before set, so a key in both is set. Returns 0 (nothing written) when missing or already expired.
 */
export const PATCH = luaScript(`
local cur = redis.call('HMGET', KEYS[1], 'ia', 'aa')
if not cur[1] or not cur[2] then return 0 end
local idle = tonumber(cur[1])
local absolute = tonumber(cur[2])
if math.min(idle, absolute) <= tonumber(ARGV[1]) then return 0 end
local firstUnset = 6 + 2 * tonumber(ARGV[5])
for i = firstUnset, #ARGV, 100 do redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 99, #ARGV))) end
for i = 6, firstUnset - 1, 100 do redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 99, firstUnset - 1))) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'ia', ARGV[2]); idle = tonumber(ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'ta', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'cm', ARGV[4]) end
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', math.ceil(math.min(idle, absolute))))
return 1
`);

/** KEYS: session. Deletes it and returns its userId (nil when missing or anonymous). */
export const DESTROY = luaScript(`
local user = redis.call('HGET', KEYS[1], 'u')
redis.call('DEL', KEYS[1])
return user
`);

/** KEYS: session. ARGV: userId, now. Deletes it if it belongs to userId: 1 = was live, 0 = was expired, -1 = not ours. */
export const DESTROY_OWNED = luaScript(`
local cur = redis.call('HMGET', KEYS[1], 'u', 'ia', 'aa')
if cur[1] ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
if math.min(tonumber(cur[2]), tonumber(cur[3])) <= tonumber(ARGV[2]) then return 0 end
return 1
`);

/** KEYS: index. ARGV: now. Prunes members whose absolute expiry passed and returns the rest. */
export const INDEX_READ = luaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`);

/**
 * KEYS: index, session keys… ARGV: userId, members… (same order). Removes each member whose record is missing or
 * belongs to someone else — atomic with create, so only used when the index and the records share a slot.
 */
export const INDEX_PRUNE = luaScript(`
local removed = 0
for i = 2, #KEYS do
  if redis.call('HGET', KEYS[i], 'u') ~= ARGV[1] then removed = removed + redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return removed
`);
