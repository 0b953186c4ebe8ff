import { LUA_EXPIRED_KEPT, LUA_SERVER_NOW, LuaScript } from '../lua-script'

/**
 * Claims expired records for an expiry sweep, atomically, in one slot: whoever's call takes an
 * entry owns its event. Per index, first the claims whose lease ran out (their sweeper died
 * before it acknowledged them), then entries scored at or before now; each taken entry leaves the
 * index and is parked in the index's claims set (same slot), scored by its new lease deadline,
 * until `ZREM` acknowledges it. A claim is `<expiry ms, 13 digits>:<member>`. With a minimum
 * age, only entries due and leases run out at least that long ago are taken, so that a caller
 * claiming some of them by key (claim-expired-keys.ts) gets there first. At most `max`
 * claims in all: `ZRANGEBYSCORE … LIMIT`, so the work is bounded and O(claimed). Where an index
 * also holds other records (a prefix below the bucket), only members starting with the member
 * prefix are taken, the others skipped, a bounded number of pages at most; so are other
 * prefixes' claims whose lease ran out.
 * `allow-oom`: a claim frees as much as it parks.
 *
 * KEYS: per index, the index then its claims set. ARGV: [1] max, [2] lease ms, [3] the member
 * prefix ('' for all), [4] the minimum age in ms. Returns Redis's now (ms) and, per index, its claims.
 */
export const CLAIM_EXPIRED_SCRIPT = new LuaScript(
  'claim-expired',
  `#!lua flags=allow-oom
${LUA_SERVER_NOW}
${LUA_EXPIRED_KEPT}
local left, lease, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local due = now - tonumber(ARGV[4])
local result = {}
for i = 1, #KEYS, 2 do
  local index, claims = KEYS[i], KEYS[i + 1]
  local taken = {}
  -- A claim is '<13 digits>:<member>': its member starts at the 15th character. Claims of
  -- other prefixes are skipped; the set does not change meanwhile, so pages follow each other.
  local read = 0
  for _ = 1, 10 do
    if left - #taken <= 0 then break end
    local page = redis.call('ZRANGEBYSCORE', claims, '-inf', due, 'LIMIT', read, left - #taken)
    if #page == 0 then break end
    read = read + #page
    for _, claim in ipairs(page) do
      if prefix == '' or string.sub(claim, 15, 14 + #prefix) == prefix then taken[#taken + 1] = claim end
    end
  end
  -- Members of other prefixes are skipped too; taken ones leave the index, so the next page starts after the skipped.
  local skipped = 0
  for _ = 1, 10 do
    if left - #taken <= 0 then break end
    local page = redis.call('ZRANGEBYSCORE', index, '-inf', due, 'WITHSCORES', 'LIMIT', skipped, left - #taken)
    if #page == 0 then break end
    for j = 1, #page, 2 do
      if prefix == '' or string.sub(page[j], 1, #prefix) == prefix then
        redis.call('ZREM', index, page[j])
        taken[#taken + 1] = string.format('%013d', tonumber(page[j + 1])) .. ':' .. page[j]
      else
        skipped = skipped + 1
      end
    end
  end
  for _, claim in ipairs(taken) do redis.call('ZADD', claims, now + lease, claim) end
  if #taken > 0 then
    -- The set outlives its leases by as long as an index keeps an expired entry.
    local ttl = lease + kept
    if redis.call('PEXPIRE', claims, ttl, 'GT') == 0 then redis.call('PEXPIRE', claims, ttl, 'NX') end
  end
  left = left - #taken
  result[#result + 1] = taken
end
return { now, result }
`,
)
