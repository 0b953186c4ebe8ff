/**
 * A netsplit on Sentinel: the master is cut off from the three sentinels, its replica and two of
 * the three app instances (every connection to it from them goes through a proxy that the test
 * splits), while the third instance still reaches it directly. The sentinels promote the replica;
 * the two instances follow; the third keeps writing to the isolated master until, with
 * `min-replicas-to-write 1` / `min-replicas-max-lag`, it refuses writes. Then the partition heals,
 * the old master becomes a replica of the new one and drops what it took alone. What is lost is
 * what the isolated master acknowledged before it refused: logins, and logouts (undone). With
 * durable logouts and logins (`waitForReplicas`, `logins: true`), the isolated master acknowledges
 * none of them, and nothing acknowledged is lost.
 */
import type { AuthMode } from '../../examples/load-balanced/auth'
import { LoadClient, type Reply } from '../faults/load-client'
import { startPartitionProxy, type PartitionProxy } from '../helpers/partition-proxy'
import { startAppInstances, type AppInstances } from './app-instances'
import { startDeployment, type Deployment } from './deployments'
import { SERVED_AGAIN_MS } from './describe-failover'
import { FailoverTally } from './failover-tally'

jest.setTimeout(90_000)

/**
 * min-replicas-max-lag, in seconds: short, so that the test is quick, but not 1. A replica
 * reports once a second and the master recounts its good replicas once a second, in whole
 * seconds: with 1, a report a little late (a busy machine, or the two timers drifting into step)
 * makes the healthy master refuse writes (NOREPLICAS) for a second, with no partition at all.
 */
const MAX_LAG_S = 2
/**
 * The isolated master refuses writes within this of the split: its replica stops acknowledging
 * (it does every second), the lag passes MAX_LAG_S, and the master counts its good replicas once
 * a second: about MAX_LAG_S + 2 s at worst, doubled.
 */
const REFUSED_WITHIN_MS = (MAX_LAG_S + 2) * 1000 * 2
/** The majority's instances (node-redis) serve every session again within this of the promotion (see describe-failover.ts). */
const SERVED_AGAIN_WITHIN_MS = SERVED_AGAIN_MS.sentinel['node-redis']
/** The partition lasts at least this long, and until the replica is promoted. */
const SPLIT_AT_LEAST_MS = 8_000
/** Heal this long after the promotion at the earliest. */
const HEAL_AFTER_PROMOTION_MS = 1_000
const PROMOTION_LIMIT_MS = 15_000
const REJOIN_LIMIT_MS = 30_000
const SESSION_TTL_MS = 60_000
/** Sessions signed in before the split, used by the load on the majority's instances. */
const MAJORITY_SESSIONS = 12
/** Sessions signed in before the split, that the isolated instance logs out one by one. */
const TO_LOG_OUT = 60
/** The isolated instance's writes: one login or logout every this long. */
const MINORITY_PAUSE_MS = 100
const LOAD_PAUSE_MS = 20
/** How long a login before the split is tried again while answered 503. */
const SETUP_RETRY_MS = 5_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface Write {
  kind: 'login' | 'logout'
  client: LoadClient
  /** The cookies it had before a logout, to try after the heal. */
  before: LoadClient | undefined
  sentAt: number
  status: number
}

interface Measured {
  splitAt: number
  promotedAt: number
  healedAt: number
  rejoinedAt: number
  writes: Write[]
  /** After the heal: which writes acknowledged by the isolated master (303) did not survive. */
  lostLogins: Write[]
  undoneLogouts: Write[]
  majority: FailoverTally
  majoritySessions: string[]
  /** Majority sessions that still open on the majority's instances after the heal. */
  majorityKept: number
  /** The isolated instance's statuses. */
  minorityStatuses: Record<number, number>
}

/** The instances' `waitForReplicas` in the durable case. */
const DURABLE = { replicas: 1, timeoutMs: 500, logins: true }

describe.each<[AuthMode, boolean]>([
  ['token', false],
  ['express-session', false],
  ['express-session', true],
])(
  'a netsplit isolates the Sentinel master with one of three instances, on %s sessions (durable logouts and logins: %s)',
  (mode, durable) => {
    const proxies: PartitionProxy[] = []
    let deployment: Deployment | undefined
    let apps: AppInstances | undefined
    const clients: LoadClient[] = []
    let m: Measured

    beforeAll(async () => {
      deployment = await startDeployment('sentinel', {
        reachVia: async (port) => {
          const proxy = await startPartitionProxy({ port })
          proxies.push(proxy)
          return proxy.port
        },
        args: ['--min-replicas-to-write', '1', '--min-replicas-max-lag', String(MAX_LAG_S)],
      })
      // Two instances find the master through the sentinels (and so through its proxy); the third reaches it directly.
      const query = durable ? `?replicas=${DURABLE.replicas}&timeoutMs=${DURABLE.timeoutMs}&logins=1` : ''
      apps = await startAppInstances(
        mode,
        [`${deployment.url}${query}`, `${deployment.url}${query}`, `redis://127.0.0.1:${deployment.master.port}${query}`],
        SESSION_TTL_MS,
      )
      m = await splitAndHeal(deployment, proxies[0]!, apps, clients)
      console.log(summary(mode, durable, m))
    })
    afterAll(async () => {
      for (const client of clients) client.close()
      await apps?.stop()
      await deployment?.stop()
      await Promise.all(proxies.map((proxy) => proxy.close()))
    })

    test('the sentinels promote the replica while the partition lasts', () => {
      expect(m.promotedAt - m.splitAt).toBeLessThan(PROMOTION_LIMIT_MS)
      expect(m.healedAt).toBeGreaterThan(m.promotedAt)
    })

    test(`the isolated master refuses writes within ${REFUSED_WITHIN_MS / 1000} s of the split (min-replicas-max-lag ${MAX_LAG_S})`, () => {
      const acknowledged = m.writes.filter((write) => write.status === 303)
      const refused = m.writes.filter((write) => write.status !== 303)
      expect(refused.length).toBeGreaterThan(0)
      const lastAcknowledged = Math.max(m.splitAt, ...acknowledged.map((write) => write.sentAt))
      expect(lastAcknowledged - m.splitAt).toBeLessThan(REFUSED_WITHIN_MS)
      // Once refused, refused until the heal.
      const firstRefused = Math.min(...refused.map((write) => write.sentAt))
      expect(acknowledged.filter((write) => write.sentAt > firstRefused)).toEqual([])
      // A refusal (NOREPLICAS) is answered as Redis out of reach: a 503.
      expect(
        Object.keys(m.minorityStatuses)
          .map(Number)
          .filter((status) => status !== 303 && status !== 503),
      ).toEqual([])
    })

    test('what is lost is only what the isolated master acknowledged before it refused: logins, and logouts (undone)', () => {
      const acknowledged = new Set(m.writes.filter((write) => write.status === 303))
      for (const write of [...m.lostLogins, ...m.undoneLogouts]) expect(acknowledged.has(write)).toBe(true)
    })

    test(`the majority side never answers as the wrong session, serves every session again within ${SERVED_AGAIN_WITHIN_MS / 1000} s of the promotion, and keeps them all`, () => {
      expect(m.majority.wrongAnswers).toEqual([])
      expect(m.majority.servedAgainMs(m.majoritySessions, m.promotedAt)).toBeLessThan(SERVED_AGAIN_WITHIN_MS)
      expect(m.majorityKept).toBe(m.majoritySessions.length)
    })

    test('after the heal, the old master is a replica of the new one', () => {
      expect(m.rejoinedAt).toBeGreaterThan(m.healedAt)
    })

    if (durable) {
      test('with durable logouts and logins, no acknowledged logout is undone and no acknowledged login lost', () => {
        expect(m.undoneLogouts).toEqual([])
        expect(m.lostLogins).toEqual([])
        // The isolated master's replica never acknowledges: it acknowledges nothing.
        expect(m.writes.filter((write) => write.sentAt > m.splitAt && write.status === 303)).toEqual([])
      })
    }
  },
)

/**
 * Signs a client in before the split. Should the healthy master still refuse a write for want of
 * a good replica (see MAX_LAG_S: a 503), the login is tried again for a few seconds; the
 * measured writes, after the split, are never retried.
 */
async function signInBeforeTheSplit(client: LoadClient, apps: AppInstances): Promise<void> {
  const deadline = performance.now() + SETUP_RETRY_MS
  for (;;) {
    const login = await client.post('/login', { name: client.user })
    if (login.status === 303) return
    if (login.status !== 503 || performance.now() > deadline) {
      throw new Error(
        `${client.user} could not sign in: ${login.status} ${login.body.slice(0, 200)}\ninstances' last lines:\n${apps.log.slice(-20).join('\n')}`,
      )
    }
    await sleep(200)
  }
}

async function splitAndHeal(
  deployment: Deployment,
  masterProxy: PartitionProxy,
  apps: AppInstances,
  clients: LoadClient[],
): Promise<Measured> {
  const [a, b, isolated] = apps.urls as [string, string, string]
  const majority = Array.from(
    { length: MAJORITY_SESSIONS },
    (_, i) => new LoadClient(i % 2 === 0 ? a : b, `majority-${String(i + 1).padStart(2, '0')}`),
  )
  const toLogOut = Array.from({ length: TO_LOG_OUT }, (_, i) => new LoadClient(isolated, `leaving-${String(i + 1).padStart(2, '0')}`))
  clients.push(...majority, ...toLogOut)
  for (const client of [...majority, ...toLogOut]) await signInBeforeTheSplit(client, apps)
  await deployment.syncReplicas()

  const tally = new FailoverTally()
  let stop = false
  const load = async (client: LoadClient, offset: number): Promise<void> => {
    for (let i = 0; i < 2_000 && !stop; i++) {
      const before = [...client.cookies.values()].join()
      const sentAt = performance.now()
      try {
        const reply = await client.get('/api/me', i % 2 === offset ? a : b)
        tally.answered(client.user, reply, [...client.cookies.values()].join() !== before)
      } catch (error) {
        tally.notAnswered(client.user, sentAt, error)
      }
      await sleep(LOAD_PAUSE_MS)
    }
  }

  const writes: Write[] = []
  const minorityStatuses: Record<number, number> = {}
  const record = (write: Omit<Write, 'status'>, reply: Reply): void => {
    writes.push({ ...write, status: reply.status })
    minorityStatuses[reply.status] = (minorityStatuses[reply.status] ?? 0) + 1
  }
  let splitOver = false
  const minority = async (): Promise<void> => {
    for (let i = 0; !splitOver && i < TO_LOG_OUT; i++) {
      const login = new LoadClient(isolated, `arriving-${String(i + 1).padStart(2, '0')}`)
      clients.push(login)
      const sentAt = performance.now()
      record({ kind: 'login', client: login, before: undefined, sentAt }, await login.post('/login', { name: login.user }))
      // A copy: a connection of its own, not one kept idle since the login, which the instance may be closing.
      const leaving = toLogOut[i]!.copy()
      const before = leaving.copy()
      clients.push(leaving, before)
      const logoutSentAt = performance.now()
      record({ kind: 'logout', client: leaving, before, sentAt: logoutSentAt }, await leaving.post('/logout', {}))
      await sleep(MINORITY_PAUSE_MS)
    }
  }

  const loads = majority.map((client, i) => load(client, i % 2))
  await sleep(500)
  const splitAt = performance.now()
  masterProxy.cut()
  const writing = minority()
  const promotedAt = await deployment.promoted(PROMOTION_LIMIT_MS)
  await sleep(Math.max(splitAt + SPLIT_AT_LEAST_MS, promotedAt + HEAL_AFTER_PROMOTION_MS) - performance.now())
  splitOver = true
  await writing
  masterProxy.heal()
  const healedAt = performance.now()
  await deployment.rejoined(REJOIN_LIMIT_MS)
  const rejoinedAt = performance.now()
  stop = true
  await Promise.all(loads)
  await deployment.syncReplicas()

  // What survived, read through the majority's instances (the new master).
  const opens = async (client: LoadClient): Promise<boolean> => {
    const probe = client.copy()
    try {
      const reply = await probe.get('/api/me', a)
      return reply.status === 200 && (JSON.parse(reply.body) as { user: string | null }).user === client.user
    } finally {
      probe.close()
    }
  }
  const lostLogins: Write[] = []
  const undoneLogouts: Write[] = []
  for (const write of writes) {
    if (write.kind === 'login' && write.status === 303 && !(await opens(write.client))) lostLogins.push(write)
    if (write.kind === 'logout' && write.status === 303 && (await opens(write.before!))) undoneLogouts.push(write)
  }
  let majorityKept = 0
  for (const client of majority) if (await opens(client)) majorityKept += 1
  return {
    splitAt,
    promotedAt,
    healedAt,
    rejoinedAt,
    writes,
    lostLogins,
    undoneLogouts,
    majority: tally,
    majoritySessions: majority.map((client) => client.user),
    majorityKept,
    minorityStatuses,
  }
}

function summary(mode: AuthMode, durable: boolean, m: Measured): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
  const acknowledged = m.writes.filter((write) => write.status === 303)
  const lastAcknowledged = Math.max(m.splitAt, ...acknowledged.map((write) => write.sentAt))
  const count = (kind: Write['kind'], list: Write[]): number => list.filter((write) => write.kind === kind).length
  return (
    `netsplit [sentinel, ${mode}, min-replicas-max-lag ${MAX_LAG_S}${durable ? `, waitForReplicas ${JSON.stringify(DURABLE)}` : ''}]: replica promoted ${s(m.promotedAt - m.splitAt)} after the split, healed after ${s(m.healedAt - m.splitAt)}, old master a replica again ${s(m.rejoinedAt - m.healedAt)} after the heal; ` +
    `isolated instance: ${m.writes.length} writes, answers by status ${JSON.stringify(m.minorityStatuses)}, last acknowledged ${s(lastAcknowledged - m.splitAt)} after the split; ` +
    `acknowledged then lost: logins ${m.lostLogins.length} of ${count('login', acknowledged)}, logouts undone ${m.undoneLogouts.length} of ${count('logout', acknowledged)}; ` +
    `majority side: ${m.majority.requests} requests, answers by status ${JSON.stringify(m.majority.statuses)} (0: none), max latency ${m.majority.maxLatencyMs} ms, ` +
    `every session served again ${s(m.majority.servedAgainMs(m.majoritySessions, m.promotedAt) ?? NaN)} after the promotion, wrong-session answers ${m.majority.wrongAnswers.length}, sessions kept ${m.majorityKept} of ${m.majoritySessions.length}` +
    (m.majority.errors.length > 0
      ? `; unanswered: ${m.majority.errors.map((error) => error.replace(/, sent at \d+ ms/, '')).join('; ')}`
      : '')
  )
}
