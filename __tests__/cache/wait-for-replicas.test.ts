/**
 * `waitForReplicas`: a write resolves only once real replicas acknowledged it (Redis `WAIT`),
 * fails with NOT_REPLICATED when they do not in time, and never holds up the app's other commands.
 */
import { performance } from 'node:perf_hooks'
import { MemoryCache, RedisCache, isCacheError, isOptionError, isUnavailableError } from '../../lib'
import { eventually } from '../helpers/clients'
import { replicatedRedis, type ReplicatedClient, type ReplicatedRedis } from '../helpers/replicated-redis'

let redis: ReplicatedRedis
let replicaClient: ReplicatedClient
let cache: RedisCache<string>

const ONE_REPLICA = { replicas: 1, timeoutMs: 2_000 }

beforeAll(async () => {
  redis = await replicatedRedis()
  replicaClient = redis.replicaClient
  cache = new RedisCache<string>({ client: await redis.connect(), ttlMs: 60_000, namespace: 'durable' })
})
afterAll(async () => {
  await cache?.close()
  await redis?.stop()
})

/** The Redis keys of the cache's records on a server (index keys aside). */
async function valueKeysOn(server: ReplicatedClient): Promise<string[]> {
  return (await server.keys('durable:*')).filter((key) => !key.includes(':_i:'))
}

test('a delete that waits for a replica resolves once the replica has it', async () => {
  await cache.put('gone', 'x')
  await eventually(async () => (await valueKeysOn(replicaClient)).length === 1, 2_000, 'the put to replicate')
  expect(await cache.delete('gone', { waitForReplicas: ONE_REPLICA })).toBe(true)
  // Read on the replica right away: no waiting, the change is there.
  expect(await valueKeysOn(replicaClient)).toEqual([])
})

test('the wait is real: while the replica is stopped the delete stays pending, and it resolves once the replica has it', async () => {
  await cache.put('held', 'x')
  let settled = false
  let deleting: Promise<boolean> | undefined
  await redis.withReplicaPaused(async () => {
    deleting = cache.delete('held', { waitForReplicas: { replicas: 1, timeoutMs: 5_000 } })
    void deleting.finally(() => (settled = true))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(settled).toBe(false)
  })
  expect(await deleting).toBe(true)
  expect(await valueKeysOn(replicaClient)).toEqual([])
})

test('a batch and a putIf that wait for a replica resolve once the replica has them', async () => {
  await cache.batch({ put: [{ key: ['user', 1], value: 'a' }] }, { waitForReplicas: ONE_REPLICA })
  expect((await valueKeysOn(replicaClient)).length).toBe(1)
  expect(await cache.putIf(['user', 1], 'b', { ifValue: 'a', waitForReplicas: ONE_REPLICA })).toBe(true)
  const [key] = await valueKeysOn(replicaClient)
  expect(await replicaClient.get(key as string)).toMatch(/"b"$/)
  await cache.delete(['user', 1])
})

test('when too few replicas acknowledge in time: NOT_REPLICATED (a 503-kind error), and the change is made on the master', async () => {
  await cache.put('kept', 'x')
  const start = performance.now()
  const error = await cache.delete('kept', { waitForReplicas: { replicas: 2, timeoutMs: 300 } }).catch((caught: unknown) => caught)
  const waitedMs = performance.now() - start
  expect(isCacheError(error) && error.code).toBe('NOT_REPLICATED')
  expect((error as Error).message).toMatch(/only 1 of the 2 replicas .* within 300 ms/)
  expect(isUnavailableError(error)).toBe(true)
  expect(waitedMs).toBeGreaterThanOrEqual(290)
  expect(await cache.get('kept')).toBeUndefined()
})

test('a stopped replica: the wait runs out and says so; the app\'s other commands are not held up meanwhile', async () => {
  await cache.put('other', 'y')
  await redis.withReplicaPaused(async () => {
    const waiting = cache.delete('other', { waitForReplicas: { replicas: 1, timeoutMs: 1_500 } }).catch((caught: unknown) => caught)
    await new Promise((resolve) => setTimeout(resolve, 100))
    // WAIT blocks its connection: on the app's shared one, this read would wait ~1.4 s more.
    const start = performance.now()
    await cache.get('anything')
    const readMs = performance.now() - start
    console.log(`a read while a WAIT blocks: ${readMs.toFixed(1)} ms`)
    expect(readMs).toBeLessThan(500)
    const error = await waiting
    expect(isCacheError(error) && error.code).toBe('NOT_REPLICATED')
  })
})

test('bad waitForReplicas options are refused before anything is written, on both caches', async () => {
  const memory = new MemoryCache<string>({ ttlMs: 1_000 })
  for (const target of [cache, memory]) {
    for (const waitForReplicas of [{ replicas: 0, timeoutMs: 10 }, { replicas: 1, timeoutMs: 0 }, { replicas: 1.5, timeoutMs: 10 }, 'yes']) {
      const error = await target.delete('k', { waitForReplicas: waitForReplicas as never }).catch((caught: unknown) => caught)
      expect(isOptionError(error)).toBe(true)
      expect((error as { option: string }).option).toMatch(/^waitForReplicas/)
    }
  }
  // A MemoryCache has no replicas: a valid wait is accepted and ignored.
  await memory.put('k', 'v')
  expect(await memory.delete('k', { waitForReplicas: ONE_REPLICA })).toBe(true)
})
