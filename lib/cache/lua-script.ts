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
 * Lua `extendIndex(index, ttl)`: an index lives as long as its longest-lived member, so its own
 * TTL only ever grows (a new index has none yet, which `GT` treats as infinite: `NX` sets it).
 */
export const LUA_EXTEND_INDEX = `local function extendIndex(index, ttl)
  if redis.call('PEXPIRE', index, ttl, 'GT') == 0 then redis.call('PEXPIRE', index, ttl, 'NX') end
end`
