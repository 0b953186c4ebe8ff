/**
 * Reads Redis directly, whatever the deployment (one server, Sentinel, Cluster), so tests can
 * check what a cache call left there: key names, TTLs, index scores, the server's clock.
 */
import type { RedisSentinelType } from 'redis'
import type { RedisCache } from 'sessionvault'
import { DEFAULT_BUCKETS } from '../../lib/defaults'
import type { ClusterClient, StandaloneClient } from '../helpers/redis'
import { scanKeys, type Send } from '../helpers/send'
import { sleep } from '../helpers/waiting'
import type { CacheHarness } from './conformance'

export interface RedisInspector {
  /** Every key name on every master (SCAN, with MATCH when a glob is given), sorted. */
  scan(match?: string): Promise<string[]>
  /** How many keys all the masters hold (DBSIZE, summed). */
  dbsize(): Promise<number>
  get(name: string): Promise<string | null>
  /** Milliseconds the key has left; -1 without a TTL, -2 when it does not exist. */
  pttl(name: string): Promise<number>
  zscore(index: string, member: string): Promise<number | null>
  /** The server's clock in milliseconds (TIME). */
  time(): Promise<number>
}

export function standaloneInspector(client: StandaloneClient): RedisInspector {
  const send: Send = (args) => client.sendCommand(args)
  return inspector(
    () => send,
    async () => [send],
  )
}

export function sentinelInspector(client: RedisSentinelType): RedisInspector {
  const send: Send = (args) => client.sendCommand(false, args)
  return inspector(
    () => send,
    async () => [send],
  )
}

export function clusterInspector(cluster: ClusterClient): RedisInspector {
  return inspector(
    (key) => (args) => cluster.sendCommand(key, false, args),
    () =>
      Promise.all(
        cluster.getMasters().map(async (master) => {
          const node = await cluster.nodeClient(master)
          return (args: string[]) => node.sendCommand(args)
        }),
      ),
  )
}

function inspector(route: (key: string) => Send, masters: () => Promise<Send[]>): RedisInspector {
  return {
    async scan(match = '*') {
      const names: string[] = []
      for (const send of await masters()) names.push(...(await scanKeys(send, match)))
      return [...new Set(names)].sort()
    },
    async dbsize() {
      const sizes = await Promise.all((await masters()).map(async (send) => Number(await send(['DBSIZE']))))
      return sizes.reduce((sum, size) => sum + size, 0)
    },
    async get(name) {
      return (await route(name)(['GET', name])) as string | null
    },
    async pttl(name) {
      return Number(await route(name)(['PTTL', name]))
    },
    async zscore(index, member) {
      const score = await route(index)(['ZSCORE', index, member])
      return score === null ? null : Number(score)
    },
    async time() {
      const [first] = await masters()
      const [seconds, micros] = (await (first as Send)(['TIME'])) as [string, string]
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    },
  }
}

/**
 * Checks that a key's PTTL puts its expiry at `expiresAtMs`. PTTL is read between two readings
 * of the server's clock; the clocks count whole ms, hence the 2 ms either way.
 */
export async function expectExpiryAt(inspect: RedisInspector, name: string, expiresAtMs: number): Promise<void> {
  const before = await inspect.time()
  const pttl = await inspect.pttl(name)
  const after = await inspect.time()
  expect(before + pttl).toBeLessThanOrEqual(expiresAtMs + 2)
  expect(after + pttl).toBeGreaterThanOrEqual(expiresAtMs - 2)
}

/** A conformance harness for a RedisCache: Redis's real clock, read through `inspect`. */
export function redisHarness(cache: RedisCache, inspect: RedisInspector, buckets = DEFAULT_BUCKETS): CacheHarness {
  return { cache, advance: sleep, now: () => inspect.time(), tagDepth: cache.tagDepth, redis: { inspect, buckets } }
}
