import { LUA_EXTEND_INDEX, LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Gives live records a new TTL without resending their values: the expiry in each value's
 * header is rewritten in place, and its index entry rescored. A missing record, a tombstone or
 * a record in its last millisecond is left alone (a touch never brings a record back). `allow-oom`: nothing here needs new
 * memory, so sessions stay alive when Redis is full.
 *
 * KEYS: per record, its value key then its index. ARGV: [1] ttl ms, then per record its index
 * member. Returns how many records were touched. Laid out as remove.ts is (the same KEYS and
 * ARGV, one loop over the records): each script reads whole, as Redis runs it.
 */
export const TOUCH_SCRIPT = new LuaScript(
  'touch',
  `#!lua flags=allow-oom
${LUA_SERVER_NOW}
${LUA_EXTEND_INDEX}
local ttl = tonumber(ARGV[1])
local expiry = string.format('%013d', now + ttl)
local touched = 0
for i = 1, #KEYS, 2 do
  local valueKey, index = KEYS[i], KEYS[i + 1]
  -- Live: a value whose header's expiry is still ahead. In its last millisecond Redis still
  -- holds the key, but a sweep may have claimed it (and reported it expired) already.
  local head = redis.call('GETRANGE', valueKey, 0, 13)
  if string.sub(head, 14, 14) == 'v' and (tonumber(string.sub(head, 1, 13)) or math.huge) > now then
    redis.call('SETRANGE', valueKey, 0, expiry)
    redis.call('PEXPIREAT', valueKey, now + ttl)
    redis.call('ZADD', index, 'XX', now + ttl, ARGV[(i + 1) / 2 + 1])
    extendIndex(index, ttl)
    touched = touched + 1
  end
end
return touched
`,
)
