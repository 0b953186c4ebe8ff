import { LuaScript } from '../lua-script'

/**
 * Writes one record only if a condition holds, atomically: `absent` — its value key does not
 * exist yet (a lock, a first write); `guard` — a guard key (in the same cluster slot) does not
 * exist (a tombstone that keeps a destroyed record destroyed).
 *
 * KEYS: the value key, the guard key (only with `guard`), then index keys.
 * ARGV: the condition ('absent' | 'guard'), ttl ms, the value, then one member per index key.
 * Returns 1 when written, 0 when the condition failed.
 */
export const PUT_IF_SCRIPT = new LuaScript(
  'put-if',
  `#!lua
local condition, ttl = ARGV[1], tonumber(ARGV[2])
local first = 2
if condition == 'absent' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
elseif condition == 'guard' then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  first = 3
else
  return redis.error_reply('ERR unknown put-if condition')
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = first, #KEYS do
  local index = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  redis.call('ZADD', index, now + ttl, ARGV[i - first + 4])
  if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
return 1
`,
)
