/**
 * The circuit breaker: once Redis stops answering, calls fail at once instead of each waiting
 * `commandTimeoutMs`; a probe finds Redis back and the next call works. Real faults: the
 * redis-server process is stopped (SIGSTOP: the socket stays open, nothing answers) or killed.
 */
import { performance } from 'node:perf_hooks'
import { createCluster } from 'redis'
import { Cluster as IORedisCluster } from 'ioredis'
import { RedisCache, isCacheError, isOptionError, isUsageError, type BreakerChange } from 'sessionvault'
import { startRedisCluster, type RedisClusterHandle } from '../../scripts/redis-server'
import { OTHER_FAMILIES } from '../helpers/client-families'
import { privateRedis, PRIVATE_REDIS_START_LIMIT_MS, type PrivateRedis } from '../helpers/redis'
import { eventually } from '../helpers/waiting'
import { fulfils, thrownBy } from '../helpers/thrown'

const COMMAND_TIMEOUT_MS = 400
const PROBE_INTERVAL_MS = 100

let redis: PrivateRedis
const caches: RedisCache[] = []

beforeAll(async () => {
  redis = await privateRedis()
}, PRIVATE_REDIS_START_LIMIT_MS)
afterAll(async () => {
  await Promise.all(caches.map((cache) => cache.close()))
  await redis.stop()
})

function cacheOn(
  client: ConstructorParameters<typeof RedisCache>[0]['client'],
  breaker: { probeIntervalMs: number } | false = { probeIntervalMs: PROBE_INTERVAL_MS },
) {
  const cache = new RedisCache<number>({ client, ttlMs: 60_000, namespace: 'breaker', commandTimeoutMs: COMMAND_TIMEOUT_MS, breaker })
  caches.push(cache)
  return cache
}

/** How long `call` takes to settle, and how it ended. */
async function timed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now()
  try {
    await call()
    return { ms: performance.now() - start, error: undefined }
  } catch (error) {
    return { ms: performance.now() - start, error }
  }
}

/** Reads until a read fails and the circuit is open: a killed Redis is noticed by the calls that follow. */
async function readUntilOpen(cache: RedisCache<number>): Promise<void> {
  await eventually(async () => !(await fulfils(cache.get('k'))) && cache.breakerState === 'open', 2_000, 'the circuit to open')
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

function freeze(pid: number): void {
  process.kill(pid, 'SIGSTOP')
}
function thaw(pid: number): void {
  process.kill(pid, 'SIGCONT')
}

test('once Redis stops answering, calls fail at once (p99 under 50 ms), and work again within 1 s of its return', async () => {
  const cache = cacheOn(redis.client)
  const changes: BreakerChange[] = []
  cache.on('breaker', (change) => changes.push(change))
  await cache.put('k', 1)
  const pid = redis.server.pid
  freeze(pid)
  try {
    // The first call waits its timeout: that is how the outage is found.
    const first = await timed(() => cache.get('k'))
    expect(first.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS * 0.9)
    expect(isCacheError(first.error) && first.error.code).toBe('REDIS_UNAVAILABLE')
    expect(cache.breakerState).toBe('open')
    expect(changes).toEqual([expect.objectContaining({ state: 'open', node: '' })])

    const latencies: number[] = []
    for (let i = 0; i < 200; i++) {
      const call = await timed(() => (i % 2 === 0 ? cache.get(['user', i]) : cache.put(['user', i], i)))
      expect(isCacheError(call.error) && call.error.code).toBe('REDIS_UNAVAILABLE')
      latencies.push(call.ms)
    }
    const p99 = percentile(latencies, 99)
    console.log(
      `breaker open, standalone: 200 calls, p99 ${p99.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms (commandTimeoutMs ${COMMAND_TIMEOUT_MS})`,
    )
    expect(p99).toBeLessThan(50)
  } finally {
    thaw(pid)
  }
  const back = performance.now()
  await eventually(
    async () => (await cache.get('k').catch(() => undefined)) === 1,
    1_000,
    'a call to work again within 1 s of Redis answering',
  )
  console.log(`breaker closed ${(performance.now() - back).toFixed(0)} ms after Redis answered again (probe every ${PROBE_INTERVAL_MS} ms)`)
  expect(cache.breakerState).toBe('closed')
  expect(changes.map((change) => change.state)).toEqual(['open', 'closed'])
})

describe.each(OTHER_FAMILIES)('on $name', (family) => {
  test('once Redis stops answering, calls fail at once, and work again once it answers', async () => {
    const { client, close } = await family.standalone(redis.server.url)
    try {
      const cache = cacheOn(client)
      await cache.put('k', 1)
      freeze(redis.server.pid)
      try {
        const first = await timed(() => cache.get('k'))
        expect(isCacheError(first.error) && first.error.code).toBe('REDIS_UNAVAILABLE')
        expect(cache.breakerState).toBe('open')
        const refused = await timed(() => cache.get('k'))
        expect(isCacheError(refused.error) && refused.error.code).toBe('REDIS_UNAVAILABLE')
        expect(refused.ms).toBeLessThan(50)
      } finally {
        thaw(redis.server.pid)
      }
      await eventually(async () => (await cache.get('k').catch(() => undefined)) === 1, 1_000, 'a call to work again within 1 s')
    } finally {
      await close()
    }
  })
})

test('a refused call names the operation and key and says the circuit is open', async () => {
  const cache = cacheOn(redis.client)
  const pid = redis.server.pid
  freeze(pid)
  try {
    await cache.get('k').catch(() => undefined)
    const error = await cache.put(['user', 7], 7).catch((caught: unknown) => caught)
    expect(isCacheError(error) && error.code).toBe('REDIS_UNAVAILABLE')
    expect((error as Error).message).toMatch(
      /^cache put failed .*for key \["user", 7\]: Redis is unavailable: CircuitOpenError: .*circuit is open/,
    )
  } finally {
    thaw(pid)
  }
  await eventually(async () => cache.breakerState === 'closed', 1_000, 'the probe to close the circuit')
})

test('a killed Redis opens the circuit; once restarted, calls work within 1 s', async () => {
  const cache = cacheOn(redis.client)
  await cache.put('k', 2)
  await redis.server.stop()
  try {
    await readUntilOpen(cache)
    const refused = await timed(() => cache.get('k'))
    expect(refused.ms).toBeLessThan(50)
  } finally {
    await redis.server.restart()
  }
  const back = performance.now()
  await eventually(() => fulfils(cache.get('k')), 1_000, 'a call to work within 1 s of the restart')
  // Without persistence the restarted server kept nothing.
  expect(await cache.get('k')).toBeUndefined()
  console.log(`after a restart: calls work again ${(performance.now() - back).toFixed(0)} ms after Redis is up`)
})

test('the client reconnecting probes at once: the circuit closes long before its next interval', async () => {
  // A 20 s interval: only the client's `ready` event can close the circuit within the 5 s below.
  const cache = cacheOn(redis.client, { probeIntervalMs: 20_000 })
  await cache.put('k', 3)
  await redis.server.stop()
  try {
    await readUntilOpen(cache)
    // The first probe went out at once; past its command timeout it has failed, and the next is 20 s away.
    await new Promise((resolve) => setTimeout(resolve, 3 * COMMAND_TIMEOUT_MS))
    expect(await cache.get('k').catch(() => 'refused')).toBe('refused')
  } finally {
    await redis.server.restart()
  }
  const back = performance.now()
  await eventually(async () => cache.breakerState === 'closed', 5_000, 'the circuit to close on the reconnect')
  console.log(
    `after a restart, with a 20 s probe interval: the circuit closed ${(performance.now() - back).toFixed(0)} ms after Redis was up`,
  )
})

test('caches sharing a client share one ready listener on it, removed when the last one closes', async () => {
  const client = await redis.connect()
  const before = client.listenerCount('ready')
  const shared = Array.from({ length: 12 }, () => new RedisCache<number>({ client, ttlMs: 60_000, namespace: 'breaker' }))
  expect(client.listenerCount('ready')).toBe(before + 1)
  await Promise.all(shared.map((cache) => cache.close()))
  expect(client.listenerCount('ready')).toBe(before)
})

test('an error reply says Redis is there: it fails that call and leaves the circuit closed', async () => {
  const cache = cacheOn(redis.client)
  await cache.put('k', 3)
  const [valueKey] = (await redis.client.keys('breaker:*k*')).filter((key) => !key.includes(':_i:'))
  // The record's key made a hash behind the cache's back: GET gets a WRONGTYPE reply.
  await redis.client.del(valueKey as string)
  await redis.client.hSet(valueKey as string, 'f', 'v')
  expect(await cache.get('k').catch((caught: unknown) => isCacheError(caught) && caught.code)).toBe('REDIS_ERROR')
  // A record's header corrupted: an UNDECODABLE_VALUE is the value's fault, not Redis's.
  await redis.client.del(valueKey as string)
  await redis.client.set(valueKey as string, 'not a record')
  expect(await cache.get('k').catch((caught: unknown) => isCacheError(caught) && caught.code)).toBe('UNDECODABLE_VALUE')
  expect(cache.breakerState).toBe('closed')
  await cache.put('other', 4)
  expect(await cache.get('other')).toBe(4)
})

test('with `breaker: false`, every call waits its own timeout', async () => {
  const cache = cacheOn(redis.client, false)
  const pid = redis.server.pid
  freeze(pid)
  try {
    await cache.get('k').catch(() => undefined)
    const second = await timed(() => cache.get('k'))
    expect(second.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS * 0.9)
    expect(cache.breakerState).toBe('closed')
  } finally {
    thaw(pid)
  }
})

test('bad breaker options fail at construction, naming the option', () => {
  for (const breaker of [{ probeIntervalMs: 0 }, { probeIntervalMs: 1.5 }, 'on', null]) {
    const error = thrownBy(() => new RedisCache({ client: redis.client, ttlMs: 1_000, breaker: breaker as never }))
    expect(isOptionError(error)).toBe(true)
    expect((error as { option: string }).option).toMatch(/^breaker/)
  }
})

describe('on Redis Cluster', () => {
  let cluster: RedisClusterHandle
  let nodeRedis: ReturnType<typeof createCluster>
  let ioredis: IORedisCluster

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 })
    nodeRedis = createCluster({ rootNodes: cluster.rootNodes.split(',').map((url) => ({ url })) })
    nodeRedis.on('error', () => undefined)
    await nodeRedis.connect()
    ioredis = new IORedisCluster(cluster.nodes, { lazyConnect: true })
    ioredis.on('error', () => undefined)
    await ioredis.connect()
  }, 60_000)
  afterAll(async () => {
    await nodeRedis?.close()
    ioredis?.disconnect()
    await cluster?.stop()
  })

  test.each([
    ['node-redis', () => nodeRedis],
    ['ioredis', () => ioredis],
  ] as const)('%s: a stopped master opens only its own circuit: keys on the other masters are served', async (_name, clientOf) => {
    const cache = cacheOn(clientOf())
    const changes: BreakerChange[] = []
    cache.on('breaker', (change) => changes.push(change))
    const users = Array.from({ length: 60 }, (_, i) => `user${i}`)
    await Promise.all(users.map((user) => cache.put(user, 1)))
    const frozen = cluster.servers[0] as (typeof cluster.servers)[number]
    freeze(frozen.pid)
    let onFrozen: string[]
    let elsewhere: string[]
    try {
      // Which users live on the stopped master is found as a client finds it: their reads fail.
      const first = await Promise.all(users.map(async (user) => ({ user, read: await timed(() => cache.get(user)) })))
      onFrozen = first.filter(({ read }) => read.error !== undefined).map(({ user }) => user)
      elsewhere = first.filter(({ read }) => read.error === undefined).map(({ user }) => user)
      expect(onFrozen.length).toBeGreaterThan(0)
      expect(elsewhere.length).toBeGreaterThan(0)
      expect(changes).toEqual([expect.objectContaining({ state: 'open', node: `127.0.0.1:${frozen.port}` })])
      // stats() names the open node by host:port, as the event does.
      expect(cache.stats().breaker).toEqual({ state: 'open', openNodes: [`127.0.0.1:${frozen.port}`] })
      for (const user of onFrozen) {
        const refused = await timed(() => cache.get(user))
        expect(refused.ms).toBeLessThan(50)
        expect(isCacheError(refused.error) && refused.error.code).toBe('REDIS_UNAVAILABLE')
      }
      for (const user of elsewhere) expect(await cache.get(user)).toBe(1)
    } finally {
      thaw(frozen.pid)
    }
    await eventually(async () => cache.breakerState === 'closed', 1_000, 'the probe to close the circuit')
    for (const user of onFrozen) expect(await cache.get(user)).toBe(1)
  })

  test('waitForReplicas on an ioredis Cluster is refused: ioredis cannot send WAIT to the node that took the write', async () => {
    const cache = cacheOn(ioredis)
    const error = await cache.delete('k', { waitForReplicas: { replicas: 1, timeoutMs: 100 } }).catch((caught: unknown) => caught)
    expect(isUsageError(error)).toBe(true)
    expect((error as Error).message).toMatch(/node-redis cluster/)
  })
})
