import { LuaScript } from '../lua-script'

/**
 * Deletes a value, then its index members. `allow-oom` so memory can be freed when Redis is full.
 *
 * KEYS: the value keys to delete (ARGV[1] of them), then index keys.
 * ARGV: the value key count, then one member per index key.
 */
export const DELETE_SCRIPT = new LuaScript(
  'delete',
  `#!lua flags=allow-oom
local valueCount = tonumber(ARGV[1])
for i = 1, valueCount do redis.call('DEL', KEYS[i]) end
for i = valueCount + 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[i - valueCount + 1])
end
return #KEYS
`,
)
