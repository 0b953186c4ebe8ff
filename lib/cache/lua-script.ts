import { createHash } from 'node:crypto'

/** A Lua script called by its SHA1 (EVALSHA), loaded with EVAL the first time a server lacks it. */
export class LuaScript {
  readonly sha1: string

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha1 = createHash('sha1').update(source).digest('hex')
  }
}

/** Lua that sets `now` to the Redis server's time in ms: every script keeps time by Redis's clock, not the app server's. */
export const LUA_SERVER_NOW = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`

/**
 * How long an index keeps the entry of a record that expired, in ms: an expiry sweep
 * (`claimExpired`) on any server can claim it meanwhile, and only then may a write or a listing
 * prune it. Listings and counts skip such entries: they are expired.
 */
export const EXPIRED_ENTRY_KEPT_MS = 60_000

/** Lua `kept`: entries scored at or before `now - kept` are the only ones a prune may drop. */
export const LUA_EXPIRED_KEPT = `local kept = ${EXPIRED_ENTRY_KEPT_MS}`

/**
 * Lua `extendIndex(index, ttl)`: an index lives as long as its longest-lived member, and then
 * `kept` more so that a sweep can claim that member once it expired; its own TTL only ever grows
 * (a new index has none yet, which `GT` treats as infinite: `NX` sets it).
 */
export const LUA_EXTEND_INDEX = `${LUA_EXPIRED_KEPT}
local function extendIndex(index, ttl)
  if redis.call('PEXPIRE', index, ttl + kept, 'GT') == 0 then redis.call('PEXPIRE', index, ttl + kept, 'NX') end
end`
