import { LuaScript } from '../lua-script'

/**
 * Prunes an index of members whose records have expired, then reads its first page, in one
 * round trip. `allow-oom`: pruning frees memory, so it must work when Redis is full.
 *
 * KEYS[1]: the index. ARGV[1]: the page size.
 * Returns { server time in ms, ZSCAN cursor, [member, score, member, score…] }.
 */
export const SCAN_INDEX_SCRIPT = new LuaScript(
  'scan-index',
  `#!lua flags=allow-oom
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local page = redis.call('ZSCAN', KEYS[1], '0', 'COUNT', ARGV[1])
return { now, page[1], page[2] }
`,
)
