// While Redis is down, every store error, and what Express logs of it, names no session id: with
// the cookie secret, a session id is a working cookie. Errors name the stored (hashed) id.
import { inspect } from 'node:util'
import { RedisSessionStore } from 'sessionvault/store'
import { privateRedis, PRIVATE_REDIS_START_LIMIT_MS, type PrivateRedis } from '../helpers/redis'
import { storedIdFor } from './redis-keys'
import { sessionData } from './session-data'

const SID = 'live-session-id-QWERTY0123456789abcdef'
let redis: PrivateRedis

beforeAll(async () => {
  redis = await privateRedis()
}, PRIVATE_REDIS_START_LIMIT_MS)
afterAll(() => redis?.stop())

/** Every text an error shows: its message, its stack, and what util.inspect prints of it and its cause. */
function everythingShown(error: unknown): string {
  return [String(error), (error as Error).stack ?? '', inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)].join('\n')
}

test('with Redis down, get, set, touch and destroy fail naming the stored id, never the session id', async () => {
  const store = new RedisSessionStore({ client: redis.client, timeoutMs: 300, touchAfterMs: 0, userOf: (session) => session.userId })
  await store.set(SID, sessionData({ userId: 'ada' }, 60_000))
  const session = await store.get(SID)
  await redis.server.stop()
  try {
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => store.get(SID)],
      ['set', () => store.set(SID, sessionData({ userId: 'ada' }, 60_000))],
      ['touch', () => store.touch(SID, session as NonNullable<typeof session>)],
      ['destroy', () => store.destroy(SID)],
    ]
    for (const [name, call] of calls) {
      const error: unknown = await call().then(
        () => new Error(`${name} did not fail`),
        (caught: unknown) => caught,
      )
      const shown = everythingShown(error)
      expect(shown).toMatch(/REDIS_UNAVAILABLE|store\.|cache/)
      expect(shown).not.toContain(SID)
    }
    // What the store does name, where it names a key: the hash.
    const named = everythingShown(await store.get(SID).catch((caught: unknown) => caught))
    expect(named).toContain(storedIdFor(SID))
  } finally {
    await redis.server.restart()
  }
})
