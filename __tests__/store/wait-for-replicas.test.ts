/**
 * Durable logouts through the store: with `waitForReplicas`, a destroy resolves once a real
 * replica has the ending (and with `logins: true`, a session's first save once it has the
 * session); when the replica does not acknowledge in time, the call fails with NOT_REPLICATED.
 */
import { RedisSessionStore, isCacheError, isOptionError, isUnavailableError } from 'sessionvault'
import { replicatedRedis, type ReplicatedRedis } from '../helpers/redis'
import { thrownBy } from '../helpers/thrown'

const WAIT = { replicas: 1, timeoutMs: 300 }

let redis: ReplicatedRedis
let store: RedisSessionStore

beforeAll(async () => {
  redis = await replicatedRedis()
  store = new RedisSessionStore({ client: await redis.connect(), waitForReplicas: { ...WAIT, logins: true } })
})
afterAll(async () => {
  await store?.close()
  await redis?.stop()
})

const session = (user: string) => ({ cookie: { originalMaxAge: 60_000 }, user }) as never

/** What the replica holds for a session id: its stored text (a tombstone reads as its header only), or null. */
async function onReplica(sid: string): Promise<string | null> {
  const keys = await redis.replicaClient.keys(`sess:*${store.storedId(sid)}*`)
  const valueKey = keys.find((key) => !key.includes(':_i:'))
  return valueKey === undefined ? null : redis.replicaClient.get(valueKey)
}

test('a login waits for the replica: once set() resolves, the replica has the session', async () => {
  await store.set('sid-login', session('ada'))
  expect(await onReplica('sid-login')).toMatch(/"user":"ada"/)
})

test('a logout waits for the replica: once destroy() resolves, the replica holds the tombstone, not the session', async () => {
  await store.set('sid-logout', session('ada'))
  await store.destroy('sid-logout')
  const text = await onReplica('sid-logout')
  expect(text).not.toBeNull()
  expect(text).not.toMatch(/ada/)
})

test('a replica that does not acknowledge in time: destroy fails with NOT_REPLICATED (a 503), the session is ended on the master', async () => {
  await store.set('sid-lagging', session('ada'))
  const error = await redis.withReplicaPaused(() =>
    store.destroy('sid-lagging').then(
      () => undefined,
      (caught: unknown) => caught,
    ),
  )
  expect(isCacheError(error) && error.code).toBe('NOT_REPLICATED')
  expect(isUnavailableError(error)).toBe(true)
  expect(await store.get('sid-lagging')).toBeNull()
})

test('with `logins: true`, a first save fails with NOT_REPLICATED when the replica does not acknowledge; later saves of a loaded session do not wait', async () => {
  const error = await redis.withReplicaPaused(() =>
    store.set('sid-new', session('bob')).then(
      () => undefined,
      (caught: unknown) => caught,
    ),
  )
  expect(isCacheError(error) && error.code).toBe('NOT_REPLICATED')
  const loaded = await store.get('sid-new')
  expect(loaded).toMatchObject({ user: 'bob' })
  // express-session saves the object get() returned: not a login, so it does not wait.
  ;(loaded as unknown as { user: string }).user = 'bob, renamed'
  const saved = await redis.withReplicaPaused(() =>
    store.set('sid-new', loaded as never).then(
      () => 'saved',
      (caught: unknown) => caught,
    ),
  )
  expect(saved).toBe('saved')
})

test('destroyUserSession, destroyUserSessions and clear wait for the replica too: NOT_REPLICATED when it does not acknowledge, the sessions ended on the master', async () => {
  const users = new RedisSessionStore({
    client: await redis.connect(),
    prefix: 'durable-users:',
    userOf: (data) => (data as unknown as { user?: string }).user,
    waitForReplicas: WAIT,
  })
  try {
    const failures: unknown[] = []
    const ending = async (end: () => Promise<unknown>, sid: string) => {
      await users.set(sid, session('ada'))
      failures.push(
        await redis.withReplicaPaused(() =>
          end().then(
            () => undefined,
            (caught: unknown) => caught,
          ),
        ),
      )
      expect(await users.get(sid)).toBeNull()
    }
    await ending(() => users.destroyUserSession('ada', users.storedId('one')), 'one')
    await ending(() => users.destroyUserSessions('ada'), 'all')
    await ending(() => users.clear(), 'cleared')
    expect(failures.map((error) => isCacheError(error) && error.code)).toEqual(['NOT_REPLICATED', 'NOT_REPLICATED', 'NOT_REPLICATED'])
  } finally {
    await users.close()
  }
})

test('bad waitForReplicas options fail at construction, naming the option', async () => {
  const client = await redis.connect()
  for (const [waitForReplicas, option] of [
    [{ replicas: 0, timeoutMs: 100 }, 'waitForReplicas.replicas'],
    [{ replicas: 1, timeoutMs: -1 }, 'waitForReplicas.timeoutMs'],
    [{ replicas: 1, timeoutMs: 100, logins: 'yes' }, 'waitForReplicas.logins'],
  ] as const) {
    const error = thrownBy(() => new RedisSessionStore({ client, waitForReplicas: waitForReplicas as never }))
    expect(isOptionError(error) && error.option).toBe(option)
  }
})
