/**
 * How RedisCache fails: a CacheError for every unexpected reply, with the operation and Redis's
 * own message, never a stored value; an unreachable Redis fails within the command timeout.
 */
import { inspect } from 'node:util'
import { ANY, CacheError, OptionError, RedisCache, type MatchPart, type RedisClient } from 'sessionvault'
import { fulfils, rejectionOf } from '../helpers/thrown'
import { privateRedis, PRIVATE_REDIS_START_LIMIT_MS, usePrivateServer, type PrivateRedis } from '../helpers/redis'
import { eventually } from '../helpers/waiting'
import { specHeader, specPlace } from './layout-spec'

const SECRET = 'hunter2-session-secret-7f3a'

// A private server: one test fills its memory.
const redis = usePrivateServer()

const cacheWith = (options: Partial<ConstructorParameters<typeof RedisCache>[0]> = {}) =>
  new RedisCache({ client: redis.client, ttlMs: 60_000, namespace: 'test', ...options })

/** Where ['user', 1] lives with the default layout. */
const USER_1 = specPlace(['user', 1], { namespace: 'test' })
const inAMinute = () => Date.now() + 60_000

/** Everything a logger could print of an error: message, stack, cause chain, own properties. */
function printed(error: unknown): string {
  return inspect(error, { depth: 10 }) + String((error as Error).stack)
}

describe('a stored value never appears in an error', () => {
  test('when Redis is out of memory', async () => {
    await redis.client.configSet('maxmemory', '10')
    try {
      const error = await rejectionOf(cacheWith().put(['user', 1], { token: SECRET }), CacheError)
      expect(error).toMatchObject({ code: 'REDIS_ERROR', operation: 'put' })
      expect(error.message).toMatch(/OOM command not allowed/)
      expect(error.message).toContain('["user", 1]')
      expect(printed(error)).not.toContain(SECRET)
    } finally {
      await redis.client.configSet('maxmemory', '0')
    }
  })

  test('when a stored value is corrupt', async () => {
    await redis.client.set(USER_1.valueKey, `${specHeader(inAMinute(), 'value')}{"token": "${SECRET}"`)
    const error = await rejectionOf(cacheWith().get(['user', 1]), CacheError)
    expect(error).toMatchObject({ code: 'UNDECODABLE_VALUE', operation: 'get', key: ['user', 1] })
    expect(error.message).toBe('cache get failed for key ["user", 1]: the stored value could not be parsed (SyntaxError)')
    expect(printed(error)).not.toContain(SECRET)
  })

  test('when a stored text has no header (not written by this cache)', async () => {
    await redis.client.set(USER_1.valueKey, `{"token": "${SECRET}"}`)
    for (const read of [
      (cache: RedisCache) => cache.get(['user', 1]),
      (cache: RedisCache) => cache.getTimed(['user', 1]),
      (cache: RedisCache) => cache.all(['user', 1]),
    ]) {
      const error = await rejectionOf(read(cacheWith()), CacheError)
      expect(error).toMatchObject({ code: 'UNDECODABLE_VALUE', key: ['user', 1] })
      expect(error.message).toMatch(/its header is missing/)
      expect(printed(error)).not.toContain(SECRET)
    }
  })

  test('when a script fails on a key of the wrong type', async () => {
    await redis.client.set(USER_1.indexKey, 'not a sorted set')
    const error = await rejectionOf(cacheWith().put(['user', 1], { token: SECRET }), CacheError)
    expect(error).toMatchObject({ code: 'REDIS_ERROR', operation: 'put', commands: ['EVALSHA write'] })
    expect(error.message).toMatch(/WRONGTYPE/)
    expect(printed(error)).not.toContain(SECRET)
  })

  test('when all() meets a corrupt value', async () => {
    const cache = cacheWith()
    await cache.put(['user', 1], { token: 'fine' })
    await redis.client.set(USER_1.valueKey, `${specHeader(inAMinute(), 'value')}not json ${SECRET}`)
    for (const match of [
      ['user', 1],
      ['user', ANY],
    ] as MatchPart[][]) {
      const error = await rejectionOf(cache.all(match), CacheError)
      expect(error.code).toBe('UNDECODABLE_VALUE')
      expect(printed(error)).not.toContain(SECRET)
    }
  })
})

test('a malformed index member is a CacheError naming the segment, not a crash', async () => {
  const cache = cacheWith()
  await cache.put(['user', 1], 1)
  await redis.client.zAdd(USER_1.indexKey, { score: inAMinute(), value: '.user:not*base64' })
  const error = await rejectionOf(cache.keys(['user', ANY]), CacheError)
  expect(error).toMatchObject({ code: 'MALFORMED_KEY', operation: 'keys' })
  expect(error.message).toMatch(/"not\*base64" is not canonical base64url/)
})

test('async write errors reach the error event, never an unhandled rejection', async () => {
  const cache = cacheWith({ writes: 'async' })
  const errors: Error[] = []
  cache.on('error', (error) => errors.push(error))
  await redis.client.set(USER_1.indexKey, 'not a sorted set')
  await cache.put(['user', 1], { token: SECRET }) // resolves: the failure comes later
  await cache.settled()
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatchObject({ name: 'CacheError', code: 'REDIS_ERROR', operation: 'put' })
  expect(printed(errors[0] as Error)).not.toContain(SECRET)
})

test('a bad client is refused at construction, naming the option', () => {
  expect(() => new RedisCache({ client: {} as RedisClient, ttlMs: 1000 })).toThrow(OptionError)
  expect(() => new RedisCache({ client: {} as RedisClient, ttlMs: 1000 })).toThrow(/`client`/)
  expect(() => cacheWith({ tagDepth: 0 })).toThrow(/`tagDepth`/)
  expect(() => cacheWith({ tagDepth: 1.5 })).toThrow(/`tagDepth`/)
  expect(() => cacheWith({ buckets: 0 })).toThrow(/`buckets`/)
  expect(() => cacheWith({ scanPageSize: 0 })).toThrow(/`scanPageSize`/)
  expect(() => cacheWith({ commandTimeoutMs: -1 })).toThrow(/`commandTimeoutMs`/)
  expect(() => cacheWith({ serializer: { parse: JSON.parse } as never })).toThrow(/`serializer`/)
})

describe('when Redis is unreachable', () => {
  const own = usePrivateServer()

  test('every operation fails within commandTimeoutMs, then works again once Redis is back', async () => {
    const cache = new RedisCache({ client: own.client, ttlMs: 60_000, commandTimeoutMs: 300 })
    await cache.put('k', 'before')
    await own.server.stop()
    const operations = [
      () => cache.get('k'),
      () => cache.put('k', 'during'),
      () => cache.all(['k']),
      () => cache.keys([ANY]),
      () => cache.touch('k'),
      () => cache.delete('k', { tombstoneMs: 1_000 }),
      () => cache.countUnder([]),
    ]
    for (const operation of operations) {
      const started = Date.now()
      const error = await rejectionOf(operation(), CacheError)
      expect(error.code).toBe('REDIS_UNAVAILABLE')
      expect(Date.now() - started).toBeLessThan(1_500)
    }
    await own.server.restart()
    await eventually(() => fulfils(cache.get('k')), 10_000, 'the cache to recover')
    await cache.put('k', 'after')
    expect(await cache.get('k')).toBe('after')
  })
})

describe('when Redis stops answering', () => {
  let own: PrivateRedis
  beforeAll(async () => {
    own = await privateRedis()
  }, PRIVATE_REDIS_START_LIMIT_MS)
  afterAll(async () => {
    if (own === undefined) return
    process.kill(own.server.pid, 'SIGCONT')
    await own.stop()
  })

  test("a command already sent fails within commandTimeoutMs, then the cache works again once the breaker's probe is answered", async () => {
    const cache = new RedisCache({ client: own.client, ttlMs: 60_000, commandTimeoutMs: 300 })
    await cache.put('k', 'before')
    // Connected but silent: the command is written, no reply ever comes.
    process.kill(own.server.pid, 'SIGSTOP')
    const started = Date.now()
    const error = await rejectionOf(cache.get('k'), CacheError)
    expect(error.code).toBe('REDIS_UNAVAILABLE')
    expect(Date.now() - started).toBeLessThan(1_500)
    process.kill(own.server.pid, 'SIGCONT')
    await eventually(async () => (await cache.get('k').catch(() => 'down')) === 'before', 1_000, 'the cache to work again')
  })
})
