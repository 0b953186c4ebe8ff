/**
 * `sessionvault`, the inspector, run as a user runs it (a child process, its source through
 * ts-node), against real Redis holding records the real layers wrote: JSON output checked
 * exactly (TTLs and sizes by range), human output loosely, and its failures.
 */
import { RedisCache, RedisSessionStore, STORE_TAG_DEPTH } from 'sessionvault'
import { connectStandalone, type StandaloneClient } from '../helpers/redis'
import { redisUrl } from '../helpers/env'
import { buildInspector } from './build-inspector'
import { inspectJson, runInspector, useInspector } from './run-inspector'
import { seed, STORE_NAMESPACE, TOKEN_NAMESPACE, type Seeded } from './seed'

// Each test runs the inspector a few times, each a process of its own, on a machine that may be busy.
jest.setTimeout(60_000)
const HOUR = 3_600_000

/** Matches a number in [floor, ceiling): a TTL or a size, which vary from run to run. */
function within(floor: number, ceiling: number) {
  return {
    asymmetricMatch: (value: unknown) => typeof value === 'number' && value >= floor && value < ceiling,
    toAsymmetricMatcher: () => `a number in [${floor}, ${ceiling})`,
  }
}

const ttl = () => within(1, HOUR + 1)

let client: StandaloneClient
let seeded: Seeded
const at = () => ['--url', redisUrl()]

beforeAll(async () => {
  useInspector(buildInspector())
  client = await connectStandalone()
}, 120_000)
afterAll(() => client.close())
beforeEach(async () => {
  await client.flushAll()
  seeded = await seed(client)
})

describe('list', () => {
  test('--json gives every record of a namespace: decoded key, kind, state, TTL and size, sorted by key; no value', async () => {
    const { ada, bob, destroyed } = seeded.storeIds
    const userEntry = (user: string, id: string) => ({
      key: ['u', user, id],
      kind: 'store-user-entry',
      state: 'live',
      ttlMs: ttl(),
      bytes: 14,
    })
    const sessions = [...ada, ...bob].map((id) => ({
      key: ['s', id],
      kind: 'store-session',
      state: 'live',
      ttlMs: ttl(),
      bytes: within(15, 1000),
    }))
    const ended = { key: ['s', destroyed], kind: 'store-session', state: 'ended', ttlMs: ttl(), bytes: 14 }
    // Sorted as the cache sorts keys: part by part, strings by code unit.
    expect(await inspectJson(['list', '--namespace', STORE_NAMESPACE, ...at()])).toEqual({
      namespace: STORE_NAMESPACE,
      total: 7,
      shown: 7,
      records: [
        ...[...sessions, ended].sort((a, b) => ((a.key[1] as string) < (b.key[1] as string) ? -1 : 1)),
        ...ada.map((id) => userEntry('ada', id)),
        ...bob.map((id) => userEntry('bob', id)),
      ],
    })
  })

  test('--match keeps the keys of those parts, --limit bounds what is shown but not the total', async () => {
    expect(await inspectJson(['list', '-n', STORE_NAMESPACE, '--match', 'u,ada,*', ...at()])).toMatchObject({
      total: 2,
      shown: 2,
      records: seeded.storeIds.ada.map((id) => ({ key: ['u', 'ada', id] })),
    })
    expect(await inspectJson(['list', '-n', STORE_NAMESPACE, '--limit', '3', ...at()])).toMatchObject({ total: 7, shown: 3 })
  })

  test('people get a table: a header and a row per record; no value, no secret hash', async () => {
    const run = await runInspector(['list', '-n', TOKEN_NAMESPACE, ...at()])
    expect(run.code).toBe(0)
    const [header, ...rows] = run.stdout.split('\n')
    expect(header).toMatch(/^KEY\s+KIND\s+STATE\s+TTL\s+BYTES$/)
    expect(rows.filter((row) => row.includes('token-session  live'))).toHaveLength(2)
    expect(run.stdout).toContain(`2 of 2 records in namespace '${TOKEN_NAMESPACE}'`)
    expect(run.stdout).not.toContain('Alice')
  })

  test("--values shows stored values, without the token middleware's secret hashes", async () => {
    const { records } = (await inspectJson(['list', '-n', TOKEN_NAMESPACE, '--values', ...at()])) as {
      records: { value: Record<string, unknown> }[]
    }
    const values = ['laptop', 'phone'].map((fingerprint) => ({
      userId: 'ada',
      fingerprint,
      createdAt: expect.any(Number),
      renewedAt: expect.any(Number),
      metadata: {},
      user: { id: 'ada', name: 'Alice' },
    }))
    expect(records).toHaveLength(2)
    expect(records.map((record) => record.value)).toEqual(expect.arrayContaining(values))
  })
})

test("sessions lists a user's sessions in the store's index and in the token middleware", async () => {
  const store = (await inspectJson(['sessions', '-n', STORE_NAMESPACE, '--user', 'ada', ...at()])) as { sessions: { id: string }[] }
  expect(store).toEqual({
    namespace: STORE_NAMESPACE,
    user: 'ada',
    sessions: seeded.storeIds.ada.map((id) => ({ layer: 'store', id, expiresAt: expect.any(String), ttlMs: ttl() })),
  })
  const tokens = (await inspectJson(['sessions', '-n', TOKEN_NAMESPACE, '--user', 'ada', ...at()])) as { sessions: { id: string }[] }
  expect(tokens.sessions.map((session) => session.id).sort()).toEqual(seeded.tokenIds)
  expect(tokens.sessions[0]).toEqual({
    layer: 'token',
    id: expect.any(String),
    createdAt: expect.any(String),
    renewedAt: expect.any(String),
    expiresAt: expect.any(String),
    ttlMs: ttl(),
  })
})

test('--buckets reads a namespace whose caches changed their buckets option', async () => {
  const namespace = 'myapp:few-buckets'
  const cache = new RedisCache<string>({ client, namespace, ttlMs: HOUR, tagDepth: STORE_TAG_DEPTH, buckets: 8 })
  const store = new RedisSessionStore({ cache, userOf: (session) => session.userId })
  await store.set('grace-sid', { cookie: { originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR) }, userId: 'grace' })
  await store.close()
  const listed = (await inspectJson(['sessions', '-n', namespace, '--user', 'grace', '--buckets', '8', ...at()])) as {
    sessions: { id: string }[]
  }
  expect(listed.sessions.map((session) => session.id)).toEqual([store.storedId('grace-sid')])
  // Read with the default 1,024 buckets, the user's index is looked for where it is not.
  const unlisted = (await inspectJson(['sessions', '-n', namespace, '--user', 'grace', ...at()])) as { sessions: unknown[] }
  expect(unlisted.sessions).toEqual([])
})

test('count gives keys by kind, live and ended', async () => {
  expect(await inspectJson(['count', '-n', STORE_NAMESPACE, ...at()])).toEqual({
    namespace: STORE_NAMESPACE,
    keys: 7 + (await client.keys(`${STORE_NAMESPACE}:_i:*`)).length,
    kinds: {
      'store-session': { live: 3, ended: 1 },
      'store-user-entry': { live: 3, ended: 0 },
      'token-session': { live: 0, ended: 0 },
      'token-expiry-marker': { live: 0, ended: 0 },
      record: { live: 0, ended: 0 },
      index: { live: (await client.keys(`${STORE_NAMESPACE}:_i:*`)).length, ended: 0 },
    },
  })
})

test('memory gives MEMORY USAGE by kind, exact when every key is sampled', async () => {
  const { kinds, totalBytes } = (await inspectJson(['memory', '-n', TOKEN_NAMESPACE, ...at()])) as {
    kinds: Record<string, { keys: number; sampled: number; bytes: number }>
    totalBytes: number
  }
  const names = (await client.keys(`${TOKEN_NAMESPACE}:{*`)).sort()
  const usage = await Promise.all(names.map((name) => client.memoryUsage(name, { SAMPLES: 0 })))
  expect(kinds['token-session']).toEqual({
    keys: 2,
    sampled: 2,
    averageBytes: expect.any(Number),
    bytes: usage.reduce((sum: number, bytes) => sum + (bytes ?? 0), 0),
  })
  expect(kinds['index']).toMatchObject({ keys: 1, sampled: 1 })
  expect(totalBytes).toBe(Object.values(kinds).reduce((sum, kind) => sum + kind.bytes, 0))
  expect(await inspectJson(['memory', '-n', TOKEN_NAMESPACE, '--samples', '1', ...at()])).toMatchObject({
    kinds: { 'token-session': { keys: 2, sampled: 1 } },
  })
})

describe('revoke', () => {
  test('--session ends one token session; the middleware no longer lists it', async () => {
    const [gone, kept] = seeded.tokenIds as [string, string]
    expect(await inspectJson(['revoke', '-n', TOKEN_NAMESPACE, '--session', gone, ...at()])).toEqual({
      namespace: TOKEN_NAMESPACE,
      revoked: { store: 0, token: 1 },
    })
    const { sessions } = (await inspectJson(['sessions', '-n', TOKEN_NAMESPACE, '--user', 'ada', ...at()])) as {
      sessions: { id: string }[]
    }
    expect(sessions.map((session) => session.id)).toEqual([kept])
  })

  test("--session ends one store session as destroy does: a tombstone, and out of its user's index", async () => {
    const [gone, kept] = seeded.storeIds.ada as [string, string]
    expect(await inspectJson(['revoke', '-n', STORE_NAMESPACE, '--session', gone, ...at()])).toEqual({
      namespace: STORE_NAMESPACE,
      revoked: { store: 1, token: 0 },
    })
    const store = new RedisSessionStore({
      client,
      prefix: STORE_NAMESPACE,
      userOf: (session) => (session as unknown as { owner?: string }).owner,
    })
    expect((await store.listUserSessions('ada')).map((session) => session.id)).toEqual([kept])
    expect(await client.exists((await client.keys(`${STORE_NAMESPACE}:*:.ada:.${gone}`))[0] ?? 'none')).toBe(0)
    expect(await inspectJson(['list', '-n', STORE_NAMESPACE, '--match', `s,${gone}`, ...at()])).toMatchObject({
      records: [{ state: 'ended' }],
    })
    await store.close()
  })

  test('--user ends every session of the user in both layers', async () => {
    expect(await inspectJson(['revoke', '-n', STORE_NAMESPACE, '--user', 'ada', ...at()])).toEqual({
      namespace: STORE_NAMESPACE,
      revoked: { store: 2, token: 0 },
    })
    expect(await inspectJson(['revoke', '-n', TOKEN_NAMESPACE, '--user', 'ada', ...at()])).toEqual({
      namespace: TOKEN_NAMESPACE,
      revoked: { store: 0, token: 2 },
    })
    expect(await inspectJson(['sessions', '-n', STORE_NAMESPACE, '--user', 'ada', ...at()])).toMatchObject({ sessions: [] })
    expect(await inspectJson(['sessions', '-n', TOKEN_NAMESPACE, '--user', 'ada', ...at()])).toMatchObject({ sessions: [] })
    expect(await inspectJson(['sessions', '-n', STORE_NAMESPACE, '--user', 'bob', ...at()])).toMatchObject({
      sessions: [{ id: seeded.storeIds.bob[0] }],
    })
  })
})

describe('failures', () => {
  test('a bad flag: exit code 2 and a message naming it', async () => {
    const run = await runInspector(['list', '-n', STORE_NAMESPACE, '--limt', '3'])
    expect(run).toMatchObject({ code: 2, stdout: '' })
    expect(run.stderr).toMatch(/^sessionvault: Unknown option '--limt'/)
    expect(await runInspector(['list', '-n', STORE_NAMESPACE, '--limit', 'many'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^sessionvault: --limit must be a whole number/),
    })
    expect(await runInspector(['list'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^sessionvault: --namespace is required/) })
    expect(await runInspector(['sessions', '-n', STORE_NAMESPACE])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^sessionvault: sessions needs --user/),
    })
    expect(await runInspector(['erase', '-n', STORE_NAMESPACE])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^sessionvault: unknown command 'erase'/),
    })
    expect(await runInspector(['list', '-n', 'x', '--sentinel', '127.0.0.1:26379'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--sentinel needs --master/),
    })
  })

  test('an unreachable Redis: exit code 1, one line saying where, no password, no stack trace', async () => {
    const run = await runInspector(['count', '-n', STORE_NAMESPACE, '--url', 'redis://admin:hunter2@127.0.0.1:1', '--timeout-ms', '2000'])
    expect(run).toMatchObject({ code: 1, stdout: '' })
    expect(run.stderr).toMatch(/^sessionvault: cannot reach Redis at redis:\/\/admin:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/)
    expect(run.stderr).not.toContain('hunter2')
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  test('--help lists the commands, exit code 0', async () => {
    const run = await runInspector(['--help'])
    expect(run.code).toBe(0)
    for (const command of ['list', 'sessions', 'count', 'memory', 'revoke', '--url', '--cluster', '--sentinel', '--json'])
      expect(run.stdout).toContain(command)
  })
})
