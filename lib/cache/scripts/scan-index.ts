import { LUA_PRUNE_INDEX, LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Prunes an index of members whose records have expired, then reads it, in one round trip: the
 * whole index when it holds at most ARGV[1] members, else its first ZSCAN page (the caller
 * pages on). `allow-oom`: pruning frees memory, so it must work when Redis is full.
 *
 * KEYS[1]: the index. ARGV[1]: the page size.
 * Returns { server time in ms, ZSCAN cursor ('0' when complete), [member, score, member, score…] }.
 */
export const SCAN_INDEX_SCRIPT = new LuaScript(
  'scan-index',
  `#!lua flags=allow-oom
${LUA_SERVER_NOW}
${LUA_PRUNE_INDEX}
if redis.call('ZCARD', KEYS[1]) <= tonumber(ARGV[1]) then
  return { now, '0', redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
end
local page = redis.call('ZSCAN', KEYS[1], '0', 'COUNT', ARGV[1])
return { now, page[1], page[2] }
`,
)
