import { LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Writes records, each with its index members. `#!lua` (no flags) makes Redis refuse the whole
 * script up front when memory is full, instead of after a pruning write has slipped through.
 *
 * KEYS, per record: its index keys, then its value key (when it has one).
 * ARGV: record count, 'GT' to only ever raise index scores (else ''), then per record: ttl ms,
 * index count, 1 when it has a value, the index members, then the value.
 * Index members are written before the value, so a failure between them can only leave a
 * member without a value, which readers skip and pruning removes. An index's own TTL only grows.
 * Returns the Redis server time in ms.
 */
export const PUT_SCRIPT = new LuaScript(
  'put',
  `#!lua
${LUA_SERVER_NOW}
local onlyRaise = ARGV[2] == 'GT'
local k, a = 1, 3
for _ = 1, tonumber(ARGV[1]) do
  local ttl = tonumber(ARGV[a])
  local indexCount = tonumber(ARGV[a + 1])
  local hasValue = ARGV[a + 2] == '1'
  a = a + 3
  for _ = 1, indexCount do
    local index = KEYS[k]
    redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
    if onlyRaise then redis.call('ZADD', index, 'GT', now + ttl, ARGV[a])
    else redis.call('ZADD', index, now + ttl, ARGV[a]) end
    if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
    k, a = k + 1, a + 1
  end
  if hasValue then
    redis.call('SET', KEYS[k], ARGV[a], 'PX', ttl)
    k, a = k + 1, a + 1
  end
end
return now
`,
)

/** A record (or, on a cluster, a part of one) written by one script call: all its keys share a slot. */
export interface PutUnit {
  ttlMs: number
  indexes: readonly { indexKey: string; member: string }[]
  value?: { valueKey: string; text: string }
}

/**
 * The KEYS and ARGV of one PUT_SCRIPT call. `onlyRaise` keeps index scores from going down: for
 * index members written ahead of a conditional write that may not happen.
 */
export function putScriptCall(units: readonly PutUnit[], onlyRaise = false): { keys: string[]; args: string[] } {
  const keys: string[] = []
  const args: string[] = [String(units.length), onlyRaise ? 'GT' : '']
  for (const { ttlMs, indexes, value } of units) {
    args.push(String(ttlMs), String(indexes.length), value ? '1' : '0')
    for (const { indexKey, member } of indexes) {
      keys.push(indexKey)
      args.push(member)
    }
    if (value) {
      keys.push(value.valueKey)
      args.push(value.text)
    }
  }
  return { keys, args }
}
