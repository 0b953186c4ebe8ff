import { LUA_EXTEND_INDEX, LUA_SERVER_NOW, LuaScript } from '../lua-script'
import { LUA_HEADER } from '../stored-text'

/**
 * Writes records and deletes others, atomically, in one slot: put, putMany, putIf and batch.
 * `#!lua` without flags: when Redis is full it refuses the whole script before it starts.
 *
 * KEYS: per put, its value key then its index; then per delete, its value key then its index;
 * last, with a limit, the index it applies to.
 * ARGV: [1] the condition on the first put's key ('' none, 'absent', 'equals'), [2] the expected
 * value text for 'equals', [3] '1' to refuse over a tombstone, [4] the put count, [5] the limit
 * ('0': none): at most that many members of the limit's index that start with [6] may remain,
 * those that expire first are deleted with their values (value key: [7] then the member); then per put:
 * ttl ms, '1' if its TTL may only grow (else ''), index member, value text; then per delete: its
 * index member. Each put writes its index entry first, then its value; a delete leaves a
 * tombstone alone (it ends by its own expiry). Returns 1, or 0 when a condition failed.
 */
export const WRITE_SCRIPT = new LuaScript(
  'write',
  `#!lua
${LUA_SERVER_NOW}
${LUA_HEADER}
${LUA_EXTEND_INDEX}
local condition, unlessDeleted, puts = ARGV[1], ARGV[3] == '1', tonumber(ARGV[4])
if condition == 'equals' then
  local current = redis.call('GET', KEYS[1])
  if not current or string.sub(current, 14, 14) ~= 'v' or string.sub(current, 15) ~= ARGV[2] then return 0 end
elseif condition == 'absent' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
elseif unlessDeleted then
  -- Only the mark is read, not the value: a save over a live session stays cheap.
  if redis.call('GETRANGE', KEYS[1], 13, 13) == 'x' then return 0 end
end
local a = 8
for i = 1, puts do
  local valueKey, index, ttl = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[a])
  if ARGV[a + 1] == '1' then
    local left = redis.call('PTTL', valueKey)
    if left > ttl then ttl = left end
  end
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now - kept)
  redis.call('ZADD', index, now + ttl, ARGV[a + 2])
  extendIndex(index, ttl)
  -- PXAT, not PX: the key expires at the instant its header and index entry name, however long the script has run.
  redis.call('SET', valueKey, header(now + ttl, 'v') .. ARGV[a + 3], 'PXAT', now + ttl)
  a = a + 4
end
local limit = tonumber(ARGV[5])
local deletesEnd = limit > 0 and #KEYS - 1 or #KEYS
for k = 2 * puts + 1, deletesEnd, 2 do
  if redis.call('GETRANGE', KEYS[k], 13, 13) ~= 'x' then redis.call('DEL', KEYS[k]) end
  redis.call('ZREM', KEYS[k + 1], ARGV[a])
  a = a + 1
end
if limit > 0 and redis.call('ZCOUNT', KEYS[#KEYS], '(' .. now, '+inf') > limit then
  local index, prefix = KEYS[#KEYS], ARGV[6]
  local members = {}
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '(' .. now, '+inf')) do
    if string.sub(member, 1, #prefix) == prefix then members[#members + 1] = member end
  end
  for i = 1, #members - limit do
    redis.call('DEL', ARGV[7] .. members[i])
    redis.call('ZREM', index, members[i])
  end
end
return 1
`,
)
