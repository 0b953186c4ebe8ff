import { LUA_PRUNE_INDEX, LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Prunes an index of members whose records have expired, then counts the members of a given
 * length (in key parts), in Redis: a count needs no member sent back. `allow-oom`: pruning frees
 * memory. It reads the whole index, so Redis spends time in proportion to its size.
 *
 * KEYS[1]: the index. ARGV[1]: the member length, in parts. Returns the count.
 */
export const COUNT_INDEX_SCRIPT = new LuaScript(
  'count-index',
  `#!lua flags=allow-oom
${LUA_SERVER_NOW}
${LUA_PRUNE_INDEX}
local separators = tonumber(ARGV[1]) - 1
local count = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local _, found = string.gsub(member, ':', ':')
  if found == separators then count = count + 1 end
end
return count
`,
)
