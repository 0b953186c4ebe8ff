import { LUA_EXPIRED_KEPT, LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Reads home indexes (all in one slot) and, optionally, the values of the live members found,
 * in one round trip. Each index is pruned of members expired longer than `kept` ago first (those
 * expired since are left for an expiry sweep to claim, and skipped); one small enough is read
 * whole, a larger one a `ZSCAN` page at a time (the caller pages on with the returned cursor).
 * `allow-oom`: pruning frees memory.
 *
 * KEYS: the indexes. ARGV: [1] page size, [2] '1' to read values; then per index: the member
 * prefix to keep, the value key prefix of its members, and the cursor ('0' to start).
 * Returns { now, then per index: { cursor ('0' when done), members, values } }, values being
 * the texts read with MGET (false for a gone key) when asked for, else empty.
 */
export const LIST_SCRIPT = new LuaScript(
  'list',
  `#!lua flags=allow-oom
${LUA_SERVER_NOW}
${LUA_EXPIRED_KEPT}
local page, withValues = tonumber(ARGV[1]), ARGV[2] == '1'
local result = { now }
for i, index in ipairs(KEYS) do
  local prefix, valuePrefix, cursor = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now - kept)
  local items
  if cursor == '0' and redis.call('ZCARD', index) <= page then
    items = redis.call('ZRANGEBYSCORE', index, '(' .. now, '+inf')
  else
    local scanned = redis.call('ZSCAN', index, cursor, 'MATCH', prefix .. '*', 'COUNT', page)
    cursor, items = scanned[1], {}
    for j = 1, #scanned[2], 2 do
      if tonumber(scanned[2][j + 1]) > now then items[#items + 1] = scanned[2][j] end
    end
  end
  local members = {}
  for _, member in ipairs(items) do
    if prefix == '' or string.sub(member, 1, #prefix) == prefix then members[#members + 1] = member end
  end
  local values = {}
  if withValues then
    for first = 1, #members, 1000 do
      local keys = {}
      for j = first, math.min(first + 999, #members) do keys[#keys + 1] = valuePrefix .. members[j] end
      for _, value in ipairs(redis.call('MGET', unpack(keys))) do values[#values + 1] = value end
    end
  end
  result[#result + 1] = { cursor == '0' and '0' or cursor, members, values }
end
return result
`,
)
