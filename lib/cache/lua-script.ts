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

/** Lua that removes the members of index `KEYS[1]` whose records expired (needs `now`). */
export const LUA_PRUNE_INDEX = `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)`
