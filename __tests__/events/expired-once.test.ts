/**
 * `expired` events, exactly once across processes, with no keyspace notifications: several app
 * processes listen on one Redis (standalone, Sentinel, Cluster); N sessions expire; the processes
 * together report each exactly once, within the documented bound after its expiry; also when one
 * process is SIGKILLed in the middle of a sweep, between its claim and its acknowledgement.
 */
import type { SessionData } from 'express-session'
import { randomBytes } from 'node:crypto'
import express from 'express'
import { createClient, createCluster, createSentinel } from 'redis'
import request from 'supertest'
import { asyncHandler, RedisCache, RedisSessionStore, SESSION_TAG_DEPTH, sessions } from 'sessionvault'
import { ENTRY_LEASE_EXTRA_MS, EXPIRY_HOLD_MARGIN_MS, EXPIRY_SWEEP_LEASE_MS } from '../../lib/defaults'
import type { RedisClient } from 'sessionvault/cache'
import { startSentinelDeployment, type SentinelDeploymentHandle } from '../../scripts/redis-server'
import { clusterRootNodes, redisUrl } from '../helpers/env'
import { startSweepers, type PrintedEvent, type SweeperTarget } from './sweepers'

jest.setTimeout(120_000)

const SWEEP_MS = 1_000
/** The README's bound: an expired session's event comes at most this long after its expiry. */
const DELIVERY_BOUND_MS = 2 * SWEEP_MS
/** How much later a store with `userOf` reports sessions with no user (README: the hold). */
const HOLD_MS = SWEEP_MS + EXPIRY_HOLD_MARGIN_MS
/** Sessions expire this long after the test saves them, spread over `SPREAD_MS`. */
const FIRST_EXPIRY_MS = 2_000
const SPREAD_MS = 3_000
const SAVE_BATCH = 50
/** The logging-in apps' sweep interval: longer than any test. */
const NEVER_SWEEPS_MS = 3_600_000

const SECRET = 'expiry-events-secret-4e1c9a7b20d58f36a1c4e9b7'

interface Deployment {
  target: Omit<SweeperTarget, 'prefix' | 'sweepMs' | 'layer' | 'secret'>
  client: RedisClient
  /** Keys of the namespace left in Redis: claims that could still be delivered again. */
  keysMatching(pattern: string): Promise<string[]>
  close(): Promise<void>
}

/**
 * Sessions of one layer that expire soon: `create` makes `count` of them and resolves to the ids
 * their events carry, each with the user its event must name (null: none).
 */
interface ExpiringSessions {
  create(count: number): Promise<Map<string, string | null>>
  close(): Promise<void>
}

/** When the `i`-th of `count` sessions expires: from FIRST_EXPIRY_MS on, spread over SPREAD_MS. */
const ttlOf = (i: number, count: number) => FIRST_EXPIRY_MS + Math.floor((i * SPREAD_MS) / count)

/**
 * Store sessions, saved directly; their events carry the stored ids. With `withUsers`, the store
 * has `userOf` and two sessions in three have a user (of 50), the third none.
 */
function storeSessions(client: RedisClient, prefix: string, withUsers: boolean): ExpiringSessions {
  // Setting up, on a machine the app processes keep busy: a generous deadline for the saves.
  const store = new RedisSessionStore({
    client,
    prefix,
    timeoutMs: 20_000,
    ...(withUsers ? { userOf: (session: SessionData) => session.userId } : {}),
  })
  return {
    async create(count) {
      const ids = new Map<string, string | null>()
      await inBatches(count, async (i) => {
        const sid = randomBytes(16).toString('base64url')
        const ttlMs = ttlOf(i, count)
        const userId = withUsers && i % 3 !== 2 ? `user-${i % 50}` : null
        await store.set(sid, {
          cookie: { expires: new Date(Date.now() + ttlMs), originalMaxAge: ttlMs },
          ...(userId === null ? {} : { userId }),
        })
        ids.set(store.storedId(sid), userId)
      })
      return ids
    },
    close: () => store.close(),
  }
}

/**
 * Token sessions, by logins through apps whose `ttlMs` spread their expiries; two devices per
 * user, on apps 1.5 s apart, so one user's index holds sessions expiring at different times. The apps listen for
 * `ended` while they log in (a login writes its expiry marker only then), with a sweep interval
 * no test reaches: on a loaded machine the logins outlast the first expiries, and only the
 * processes under test may claim them.
 */
function tokenSessions(client: RedisClient, namespace: string): ExpiringSessions {
  const cache = new RedisCache({ client, namespace, tagDepth: SESSION_TAG_DEPTH, ttlMs: 60_000, commandTimeoutMs: 20_000 })
  return {
    async create(count) {
      const apps = Array.from({ length: 10 }, (_, k) => {
        const ttlMs = ttlOf(k * (count / 10), count)
        const auth = sessions({
          cache,
          secret: SECRET,
          ttlMs,
          renewAfterMs: ttlMs - 1,
          rotationGraceMs: 0,
          timeoutMs: 20_000,
          expirySweepMs: NEVER_SWEEPS_MS,
        })
        const app = express()
        app.use(express.json())
        app.use(auth)
        app.post(
          '/login',
          asyncHandler(async (req, res) => {
            const { user, device } = req.body as { user: string; device: string }
            res.json(await req.auth.login({ id: user }, { fingerprint: device, cookie: false }))
          }),
        )
        return { app, auth }
      })
      const listener = () => undefined
      for (const { auth } of apps) auth.on('ended', listener)
      const ids = new Map<string, string | null>()
      try {
        await inBatches(count, async (i) => {
          const { app } = apps[Math.floor((i * 10) / count)] as (typeof apps)[number]
          const user = `user-${i % Math.ceil(count / 2)}`
          const res = await request(app)
            .post('/login')
            .send({ user, device: `device-${i}` })
            .expect(200)
          ids.set((res.body as { session: { id: string } }).session.id, user)
        })
      } finally {
        for (const { auth } of apps) auth.off('ended', listener)
      }
      return ids
    },
    close: () => cache.close(),
  }
}

/** Runs `each(i)` for i below `count`, SAVE_BATCH at a time. */
async function inBatches(count: number, each: (i: number) => Promise<void>): Promise<void> {
  for (let first = 0; first < count; first += SAVE_BATCH)
    await Promise.all(Array.from({ length: Math.min(SAVE_BATCH, count - first) }, (_, j) => each(first + j)))
}

/** Waits (bounded) until `events` hold `count` distinct expired sessions, then one sweep more. */
async function collect(events: readonly PrintedEvent[], count: number, timeoutMs: number): Promise<PrintedEvent[]> {
  const deadline = Date.now() + timeoutMs
  while (new Set(events.map((event) => event.sessionId)).size < count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100))
  // Late repeats would come from a sweep already under way: give it time to print them.
  await new Promise((resolve) => setTimeout(resolve, 2 * SWEEP_MS))
  return events.filter((event) => event.reason === 'expired')
}

/** Each session reported once, none missing, each naming its user. */
function expectExactlyOnce(expired: readonly PrintedEvent[], ids: ReadonlyMap<string, string | null>): void {
  const seen = expired.map((event) => event.sessionId)
  expect(new Set(seen).size).toBe(seen.length)
  expect(new Set(seen)).toEqual(new Set(ids.keys()))
  expect(new Map(expired.map((event) => [event.sessionId, event.userId]))).toEqual(ids)
}

async function runScenario(
  deployment: Deployment,
  instances: number,
  count: number,
  killAt: readonly number[],
  layer: SweeperTarget['layer'],
): Promise<void> {
  const prefix = `events-${randomBytes(4).toString('hex')}`
  const expiring =
    layer === 'sessions' ? tokenSessions(deployment.client, prefix) : storeSessions(deployment.client, prefix, layer === 'store-users')
  const sweepers = await startSweepers(
    { ...deployment.target, layer, secret: SECRET, prefix, sweepMs: SWEEP_MS },
    Array.from({ length: instances }, (_, i) => killAt[i] ?? 0),
  )
  try {
    const ids = await expiring.create(count)
    const killed = killAt.some((at) => at > 0)
    const expired = await collect(sweepers.events, count, FIRST_EXPIRY_MS + SPREAD_MS + EXPIRY_SWEEP_LEASE_MS + 10 * SWEEP_MS)
    expectExactlyOnce(expired, ids)
    // Nothing is left that a later sweep could deliver again: no index entry, no claim.
    expect(await deployment.keysMatching(`${prefix}:_[ic]:*`)).toEqual([])
    const late = expired.map((event) => event.seenAt - event.at)
    const lateWithUser = expired.filter((event) => event.userId !== null).map((event) => event.seenAt - event.at)
    // A store with users holds its sessions with no user back; the token layer has none such.
    const held = layer === 'store-users' ? HOLD_MS : 0
    if (!killed) {
      expect(Math.max(0, ...lateWithUser)).toBeLessThanOrEqual(DELIVERY_BOUND_MS)
      expect(Math.max(...late)).toBeLessThanOrEqual(DELIVERY_BOUND_MS + held)
    } else {
      const killedInstances = killAt.flatMap((at, instance) => (at > 0 ? [instance] : []))
      expect(killedInstances.map((instance) => sweepers.exits[instance])).toEqual(killedInstances.map(() => 'SIGKILL'))
      // What a killed process had claimed is delivered by another, once its lease has run out:
      // the sweep is shared by the processes, not one process's.
      for (const instance of killedInstances) {
        const held = sweepers.diedHolding.get(instance)
        const delivery = expired.find((event) => event.sessionId === held)
        expect(held).toBeDefined()
        expect(delivery?.instance).toBeDefined()
        expect(delivery?.instance).not.toBe(instance)
        // Claimed at or after its expiry, claimable again a lease later.
        expect((delivery?.seenAt ?? 0) - (delivery?.at ?? 0)).toBeGreaterThanOrEqual(EXPIRY_SWEEP_LEASE_MS)
      }
      const entryLease = layer === 'store-users' ? ENTRY_LEASE_EXTRA_MS : 0
      expect(Math.max(...late)).toBeLessThanOrEqual(EXPIRY_SWEEP_LEASE_MS + entryLease + DELIVERY_BOUND_MS + held)
    }
  } finally {
    await sweepers.stop()
    await expiring.close()
  }
}

/** Every key of one server that matches, by SCAN. */
async function scanAll(node: { sendCommand(args: string[]): Promise<unknown> }, pattern: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  for (let pages = 0; pages < 10_000; pages++) {
    const [next, keys] = (await node.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]]
    found.push(...keys)
    cursor = next
    if (cursor === '0') break
  }
  return found
}

/** Opens a deployment before the block's tests and closes it after; the tests read it through the getter. */
function useDeployment(open: () => Promise<Deployment>): () => Deployment {
  let deployment: Deployment | undefined
  beforeAll(async () => {
    deployment = await open()
  })
  afterAll(() => deployment?.close())
  return () => {
    if (deployment === undefined) throw new Error('the deployment did not open')
    return deployment
  }
}

async function clusterDeployment(): Promise<Deployment> {
  const rootNodes = clusterRootNodes()
  const client = createCluster({ rootNodes })
  await client.connect()
  return {
    target: { deployment: 'cluster', target: rootNodes.map((node) => node.url).join(',') },
    client,
    async keysMatching(pattern) {
      const keys = await Promise.all(client.masters.map(async (master) => scanAll(await client.nodeClient(master), pattern)))
      return keys.flat()
    },
    close: () => client.close(),
  }
}

async function standaloneDeployment(): Promise<Deployment> {
  const client = createClient({ url: redisUrl() })
  await client.connect()
  return {
    target: { deployment: 'standalone', target: redisUrl() },
    client,
    keysMatching: (pattern) => scanAll(client, pattern),
    close: () => client.close(),
  }
}

/** A master, a replica and 3 sentinels of the test's own; keys are listed on the master. */
async function sentinelDeployment(): Promise<Deployment> {
  const sentinels: SentinelDeploymentHandle = await startSentinelDeployment({ name: 'events' })
  const client = createSentinel({ name: sentinels.name, sentinelRootNodes: sentinels.sentinelRootNodes })
  await client.connect()
  const master = createClient({ url: `redis://127.0.0.1:${sentinels.nodes[0]?.port}` })
  await master.connect()
  return {
    target: {
      deployment: 'sentinel',
      target: `${sentinels.name}@${sentinels.sentinelRootNodes.map(({ host, port }) => `${host}:${port}`).join(',')}`,
    },
    client,
    keysMatching: (pattern) => scanAll(master, pattern),
    close: async () => {
      await Promise.all([client.close(), master.close()])
      await sentinels.stop()
    },
  }
}

type Scenario = [name: string, instances: number, count: number, killAt: number[], layer: SweeperTarget['layer']]

const SCENARIOS: [deployment: string, open: () => Promise<Deployment>, scenarios: Scenario[]][] = [
  [
    'Redis Cluster (3 masters), 3 processes',
    clusterDeployment,
    [
      ['300 sessions expiring: 300 events in all, no repeat, none missing, each within 2 s of its expiry', 3, 300, [], 'store'],
      [
        'a process SIGKILLed between its claim and its acknowledgement, after a sweep it completed: still 300 events, each once',
        3,
        300,
        [2],
        'store',
      ],
      [
        'sessions(): 300 token sessions of 150 users expiring: 300 events in all, each once, each within 2 s of its expiry',
        3,
        300,
        [],
        'sessions',
      ],
      ['sessions(): a process SIGKILLed between its claim and its acknowledgement: still 300 events, each once', 3, 300, [1], 'sessions'],
      [
        'a store with userOf, 300 sessions (200 with a user): each reported once, with its user, within 2 s (no user: the hold more)',
        3,
        300,
        [],
        'store-users',
      ],
      ['a store with userOf: a process SIGKILLed mid-sweep: still each once, with its user', 3, 300, [2], 'store-users'],
    ],
  ],
  [
    'a standalone Redis, 3 processes',
    standaloneDeployment,
    [
      ['100 sessions expiring: 100 events in all, each once', 3, 100, [], 'store'],
      ['a process SIGKILLed in its first sweep, between claim and acknowledgement: still each once', 3, 100, [1], 'store'],
    ],
  ],
  [
    'Sentinel (a master, a replica, 3 sentinels), 2 processes',
    sentinelDeployment,
    [['50 sessions expiring: 50 events in all, each once', 2, 50, [], 'store']],
  ],
]

describe('expired events, exactly once across processes', () => {
  describe.each(SCENARIOS)('on %s', (_deployment, open, scenarios) => {
    const deployment = useDeployment(open)
    test.each(scenarios)('%s', async (_name, instances, count, killAt, layer) => {
      await runScenario(deployment(), instances, count, killAt, layer)
    })
  })
})
