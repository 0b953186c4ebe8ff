import { LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Counts live records in home indexes (all in one slot); nothing but the count crosses the
 * network. With no member prefix a whole index counts: its members scored after now (ZCOUNT,
 * logarithmic time, no write). With one, its live members are read and matched in Redis.
 *
 * KEYS: the indexes. ARGV: the member prefix ('' for all), then the number of segments a member
 * must have ('0': any). Returns the count.
 */
export const COUNT_SCRIPT = new LuaScript(
  'count',
  `#!lua flags=no-writes
${LUA_SERVER_NOW}
local prefix, segments = ARGV[1], tonumber(ARGV[2])
local count = 0
for _, index in ipairs(KEYS) do
  if prefix == '' and segments == 0 then
    count = count + redis.call('ZCOUNT', index, '(' .. now, '+inf')
  else
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '(' .. now, '+inf')) do
      if string.sub(member, 1, #prefix) == prefix then
        local _, separators = string.gsub(member, ':', '')
        if segments == 0 or separators == segments - 1 then count = count + 1 end
      end
    end
  end
end
return count
`,
)
