import { LUA_SERVER_NOW, LuaScript } from '../lua-script'
import { LUA_HEADER } from '../stored-text'

/**
 * Deletes records: each value, then, if it was live, its index entry. With a tombstone time, a live record is
 * replaced by a tombstone for that long instead (and nothing is written for a key that holds no
 * live record, so deleting unknown keys costs no memory). A tombstone already there is left
 * alone: it ends by its own expiry. `allow-oom`: ending records frees memory, so it must work
 * when Redis is full.
 *
 * KEYS: per record, its value key then its index. ARGV: [1] tombstone ms ('0': none), then per
 * record its index member. Returns how many live records there were.
 */
export const REMOVE_SCRIPT = new LuaScript(
  'remove',
  `#!lua flags=allow-oom
${LUA_SERVER_NOW}
${LUA_HEADER}
local tombstoneMs = tonumber(ARGV[1])
local removed = 0
for i = 1, #KEYS, 2 do
  local valueKey = KEYS[i]
  local head = redis.call('GETRANGE', valueKey, 0, 13)
  local mark = string.sub(head, 14, 14)
  -- In its last millisecond a record is over: a sweep may have claimed it already (see touch.ts).
  local live = mark == 'v' and (tonumber(string.sub(head, 1, 13)) or math.huge) > now
  if live then removed = removed + 1 end
  if tombstoneMs == 0 then
    if mark ~= 'x' then redis.call('DEL', valueKey) end
  elseif live then redis.call('SET', valueKey, header(now + tombstoneMs, 'x'), 'PXAT', now + tombstoneMs) end
  -- The entry of a record that is not live is left alone: if the record expired, an expiry sweep
  -- may still claim it, and pruning drops it otherwise.
  if live then redis.call('ZREM', KEYS[i + 1], ARGV[(i + 1) / 2 + 1]) end
end
return removed
`,
)
