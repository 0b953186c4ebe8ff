import { LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Writes one record only if its conditions hold, atomically:
 * - on the record itself, one of: `absent` — no value yet (a lock, a first write); `equals` —
 *   the stored value is exactly the expected text (a compare-and-set); `any` — no condition;
 * - and, optionally, a guard key (in the same cluster slot) that must not exist (a tombstone
 *   that keeps a destroyed record destroyed).
 *
 * KEYS: the value key, the guard key (when ARGV[2] is '1'), then index keys.
 * ARGV: the record condition, '1' with a guard, ttl ms, the value, the expected text ('' unless
 * `equals`), then one member per index key.
 * Returns 1 when written, 0 when a condition failed.
 */
export const PUT_IF_SCRIPT = new LuaScript(
  'put-if',
  `#!lua
local condition, hasGuard, ttl = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
if condition == 'absent' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
elseif condition == 'equals' then
  if redis.call('GET', KEYS[1]) ~= ARGV[5] then return 0 end
elseif condition ~= 'any' then
  return redis.error_reply('ERR unknown put-if condition')
end
local first = 2
if hasGuard then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
  first = 3
end
${LUA_SERVER_NOW}
for i = first, #KEYS do
  local index = KEYS[i]
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  redis.call('ZADD', index, now + ttl, ARGV[i - first + 6])
  if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
end
redis.call('SET', KEYS[1], ARGV[4], 'PX', ttl)
return 1
`,
)
