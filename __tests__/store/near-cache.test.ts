/**
 * RedisSessionStore with `nearCache`, two stores as two app servers would have: a hot session
 * is read with no Redis command, and a destroy or save on one store reaches the other at once.
 */
import type { SessionData } from 'express-session'
import { MemoryCache, RedisSessionStore } from 'sessionvault'
import { type StandaloneClient, usePrivateServer } from '../helpers/redis'
import { sleep } from '../helpers/waiting'
import { clientCommands, recordCommands } from '../helpers/command-log'
import { INVALIDATION_SEEN_WITHIN_MS } from '../helpers/invalidation'

// A private server: one test counts commands.
const own = usePrivateServer()
let clientB: StandaloneClient
let storeA: RedisSessionStore
let storeB: RedisSessionStore

const session = (views: number) =>
  ({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, views }) as unknown as SessionData

beforeAll(async () => {
  clientB = await own.redis.connect()
})
beforeEach(async () => {
  storeA = new RedisSessionStore({ client: own.client, nearCache: { maxEntries: 100 } })
  storeB = new RedisSessionStore({ client: clientB, nearCache: { maxEntries: 100 } })
})
afterEach(() => Promise.all([storeA.close(), storeB.close()]))

/** Reads on B until `done`; returns how long that took. */
async function msUntil(done: (found: SessionData | null) => boolean, limitMs = 2_000): Promise<number> {
  const started = performance.now()
  while (!done(await storeB.get('sid'))) {
    if (performance.now() - started > limitMs) throw new Error('B never saw the change')
    await sleep(1)
  }
  return performance.now() - started
}

/** Reads on B until a read is served from its near-cache (it connects in the background). */
async function warmB(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await storeB.get('sid')
    const sent = clientCommands(await recordCommands(own.redis.server.url, () => storeB.get('sid')))
    if (sent.length === 0) return
    await sleep(5)
  }
  throw new Error('the near-cache never served a read')
}

test('a hot session is read with no Redis command', async () => {
  await storeA.set('sid', session(1))
  await warmB()
  const sent = clientCommands(
    await recordCommands(own.redis.server.url, async () => {
      for (let i = 0; i < 50; i++) expect(await storeB.get('sid')).toMatchObject({ views: 1 })
    }),
  )
  expect(sent).toEqual([])
})

test('a destroy on one server is seen by the other at once, and never a stale read after', async () => {
  await storeA.set('sid', session(1))
  await warmB()
  await storeA.destroy('sid')
  expect(await msUntil((found) => found === null)).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
  for (let i = 0; i < 20; i++) expect(await storeB.get('sid')).toBeNull()
})

test('a save on one server is seen by the other at once', async () => {
  await storeA.set('sid', session(1))
  await warmB()
  await storeA.set('sid', session(2))
  expect(await msUntil((found) => (found as { views?: number } | null)?.views === 2)).toBeLessThan(INVALIDATION_SEEN_WITHIN_MS)
})

test('nearCache cannot be combined with a given cache', () => {
  expect(() => new RedisSessionStore({ cache: new MemoryCache({ ttlMs: 1000 }), nearCache: { maxEntries: 1 } } as never)).toThrow(
    /`nearCache`/,
  )
})
