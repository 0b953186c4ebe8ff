// Counts the commands Redis actually receives (INFO commandstats; MONITOR where only round trips
// count), on a server of this file's own, so that no other traffic is counted.
import type { SessionData } from 'express-session'
import request from 'supertest'
import { COUNT_SCRIPT } from '../../lib/cache/lua/count'
import { WRITE_SCRIPT } from '../../lib/cache/lua/write'
import { RedisSessionStore } from 'sessionvault/store'
import { usePrivateServer } from '../helpers/redis'
import { clientCommands, recordCommands, type SentCommand } from '../helpers/command-log'
import { cookieOf, sessionApp, sidOf } from './apps'
import { redisKeyOf, sessionCacheKey, storedIdFor, userEntryCacheKey } from './redis-keys'
import { sessionData } from './session-data'

// The store's client; INFO and CONFIG, which the counting sends on it too, are left out of the counts.
const redis = usePrivateServer()

/** Calls per command name (lower case) since the last `CONFIG RESETSTAT`, leaving out the counting itself. */
async function commandCounts(): Promise<Record<string, number>> {
  const info = await redis.client.info('commandstats')
  const counts: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name, calls] = match as unknown as [string, string, string]
    if (!/^(config|info)\b/.test(name)) counts[name] = Number(calls)
  }
  return counts
}

async function resetCounts(): Promise<void> {
  await redis.client.configResetStat()
}

const names = (commands: SentCommand[]) => commands.map(({ args: [name] }) => name?.toUpperCase())

describe('commands sent to Redis', () => {
  test('all, length, ids, clear and listUserSessions read the index and never SCAN the database', async () => {
    const store = new RedisSessionStore({ client: redis.client, userOf: (session: SessionData) => session.userId })
    for (let i = 0; i < 50; i++) await store.set(`s${i}`, sessionData({ userId: `u${i % 5}`, views: i }, 3_600_000))
    await resetCounts()

    expect(await store.length()).toBe(50)
    expect(await store.ids()).toHaveLength(50)
    expect(await store.all()).toHaveLength(50)
    expect(await store.listUserSessions('u1')).toHaveLength(10)
    await store.clear()
    expect(await store.length()).toBe(0)

    const counts = await commandCounts()
    expect(counts['scan']).toBeUndefined()
    expect(counts['keys']).toBeUndefined()
    // What they use instead: the index, its live members read whole when small (ZRANGEBYSCORE), else page by page (ZSCAN).
    expect((counts['zrangebyscore'] ?? 0) + (counts['zscan'] ?? 0)).toBeGreaterThan(0)
  })

  test('length is one count script, which counts in Redis and reads no session', async () => {
    const store = new RedisSessionStore({ client: redis.client })
    for (let i = 0; i < 20; i++) await store.set(`s${i}`, sessionData({}, 3_600_000))
    let length = 0
    const sent = await recordCommands(redis.server.url, async () => {
      length = await store.length()
    })
    expect(length).toBe(20)
    const fromClient = clientCommands(sent)
    expect(fromClient).toHaveLength(1)
    expect(fromClient[0]?.slice(0, 2)).toEqual(['EVALSHA', COUNT_SCRIPT.sha1])
    // Each bucket's index is counted where it is: no session, and no index member, comes back.
    const ran = names(sent.filter((command) => command.fromScript))
    for (const reading of ['GET', 'MGET', 'ZRANGE', 'ZSCAN', 'SCAN', 'KEYS']) expect(ran).not.toContain(reading)
  })

  test("with userOf, a login writes the session and the user's entry in one EVALSHA", async () => {
    const store = new RedisSessionStore({ client: redis.client, userOf: (session: SessionData) => session.userId })
    const app = sessionApp(store)
    await request(app).post('/login/warm-up').expect(200) // loads the script, so EVALSHA finds it
    let cookie = ''
    const sent = await recordCommands(redis.server.url, async () => {
      cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    })
    const id = storedIdFor(sidOf(cookie))
    const fromClient = clientCommands(sent)
    expect(fromClient.map((args) => args.slice(0, 2))).toEqual([['EVALSHA', WRITE_SCRIPT.sha1]])
    const written = sent
      .filter((command) => command.fromScript && command.args[0]?.toUpperCase() === 'SET')
      .map((command) => command.args[1])
    expect(written.sort()).toEqual([redisKeyOf(sessionCacheKey(id)), redisKeyOf(userEntryCacheKey('ada', id))].sort())
  })

  test('a request that changes the session reads it and writes it: one GET, one EVALSHA', async () => {
    const app = sessionApp(new RedisSessionStore({ client: redis.client }))
    const cookie = cookieOf(await request(app).post('/login/ada').expect(200))
    const sent = await recordCommands(redis.server.url, async () => {
      await request(app).post('/views').set('Cookie', cookie).expect(200)
    })
    expect(clientCommands(sent).map(([name]) => name?.toUpperCase())).toEqual(['GET', 'EVALSHA'])
  })
})
