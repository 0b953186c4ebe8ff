import { LUA_EXPIRED_KEPT, LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Claims named records that have expired, atomically, in one slot (see claim-expired.ts for what
 * a claim is): a record whose entry is due in its index, or whose claim's lease ran out (its
 * sweeper died), is taken; one that is live or gone is not, nor one claimed under a running lease,
 * which is reported as busy. For a
 * caller that learned of the records through a claim of its own (the store's user entries say
 * which sessions were whose), so it ignores the minimum age that other callers wait out.
 * `allow-oom`: a claim frees as much as it parks.
 *
 * KEYS: per index, the index then its claims set. ARGV: [1] lease ms, then per index the number
 * of its members and the members. Returns Redis's now (ms), per index its claims, and per index
 * its busy members.
 */
export const CLAIM_EXPIRED_KEYS_SCRIPT = new LuaScript(
  'claim-expired-keys',
  `#!lua flags=allow-oom
${LUA_SERVER_NOW}
${LUA_EXPIRED_KEPT}
local lease = tonumber(ARGV[1])
local arg = 2
local result, busy = {}, {}
for i = 1, #KEYS, 2 do
  local index, claims = KEYS[i], KEYS[i + 1]
  local count = tonumber(ARGV[arg])
  arg = arg + 1
  local taken, held = {}, {}
  -- The claims set (claims in flight: few), read once per index and only when a member is not in the index.
  local inFlight
  for _ = 1, count do
    local member = ARGV[arg]
    arg = arg + 1
    local score = redis.call('ZSCORE', index, member)
    if score then
      if tonumber(score) <= now then
        redis.call('ZREM', index, member)
        taken[#taken + 1] = string.format('%013d', tonumber(score)) .. ':' .. member
      end
    else
      inFlight = inFlight or redis.call('ZRANGEBYSCORE', claims, '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, 1000)
      for j = 1, #inFlight, 2 do
        if string.sub(inFlight[j], 15) == member then
          if tonumber(inFlight[j + 1]) <= now then taken[#taken + 1] = inFlight[j] else held[#held + 1] = member end
          break
        end
      end
    end
  end
  for _, claim in ipairs(taken) do redis.call('ZADD', claims, now + lease, claim) end
  if #taken > 0 then
    local ttl = lease + kept
    if redis.call('PEXPIRE', claims, ttl, 'GT') == 0 then redis.call('PEXPIRE', claims, ttl, 'NX') end
  end
  result[#result + 1] = taken
  busy[#busy + 1] = held
end
return { now, result, busy }
`,
)
