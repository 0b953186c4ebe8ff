// The load-balanced demo under load while it loses an app instance and its Redis, both by
// SIGKILL, for each session layer: 20 users, each a cookie jar looping GET /api/me through nginx
// in front of 3 instances, sessions renewing every few seconds. Nobody is signed out, nobody is
// ever answered as someone else, and every request gets an answer (a 502 or 503 while Redis is
// down is one), but those the killed instance was in the middle of sending: once an instance has
// sent its headers, nginx cannot retry elsewhere and cuts the answer. express-session sends its
// headers before its store's touch completes, so on that layer a few are cut; their clients keep
// the cookie they had, and it still works.
//
// Redis is one we start (the stack's `redisUrl`) with `appendfsync always`. The stack's own runs
// AOF with Redis's default, `everysec`: Redis then write()s the AOF before it replies, so a
// SIGKILL of Redis alone loses nothing the OS has, except while a background fsync is slow: Redis
// then postpones that write for up to 2 s and still replies, and a SIGKILL loses those
// acknowledged writes (a crash of the machine loses up to about 2 s as well). With `always`
// nothing acknowledged is lost, so a lost session here is a bug, not bad luck.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuthMode } from '../../examples/load-balanced/auth'
import { startStack, type Stack } from '../../examples/load-balanced/stack'
import { redisCli, startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'
import { LoadClient } from './load-client'
import { LoadTally, type Unanswered } from './load-tally'

jest.setTimeout(45_000)

const CLIENTS = 20
const INSTANCES = 3
/** Each client loops this long, and at most this many requests, with a short pause between. */
const RUN_MS = 12_000
const MAX_REQUESTS_PER_CLIENT = 1_500
const PAUSE_MS = 10
/** Faults, in ms from the start of the run. */
const INSTANCE_KILL_AT_MS = 2_000
const INSTANCE_RESTART_AT_MS = 4_000
const REDIS_KILL_AT_MS = 6_500
/** How long Redis stays dead before it is started again. */
const REDIS_DOWN_MS = 1_000
/**
 * Shorter than the run: a session that was not renewed would be over before the final check.
 * Token sessions renew after half of it; express-session's store touches after a tenth.
 */
const SESSION_TTL_MS = 10_000
/** What each instance says at start about its sessions' lifetime. */
const TTL_LINE = `sessions live ${SESSION_TTL_MS} ms without a request`
/**
 * After Redis is back, instances reconnect within a second (their retry backoff), and nginx
 * leaves out for 2 s an instance that answered 503 (fail_timeout): failures end within that.
 */
const OUTAGE_TAIL_MS = 4_000
/** The clients go on at least this long after Redis is back, whenever that is. */
const AFTER_FAULTS_MS = OUTAGE_TAIL_MS
/** Seconds within which every client is served again once an instance is killed (0.1 to 0.4 s measured, under load). */
const INSTANCE_RECOVERY_S = 2
/** An answer the killed instance was sending when it died is cut at once: within this. */
const CUT_WITHIN_MS = 1_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface Measured {
  tally: LoadTally
  /** Every client had signed in by then. */
  runStartedAt: number
  instanceKilledAt: number
  instanceRestartedAt: number
  redisKilledAt: number
  redisBackAt: number
  finalCheckAt: number
  victim: string
  /** Each client whose cookie, after the run, did not open its own session somewhere: what happened. */
  lost: string[]
  /** Lines the instances printed at start about their sessions' lifetime. */
  ttlLines: string[]
}

describe.each<AuthMode>(['token', 'express-session'])('the demo under load on %s sessions, with an instance and Redis killed', (mode) => {
  let redisDir: string | undefined
  let redis: RedisServerHandle | undefined
  let stack: Stack | undefined
  let clients: LoadClient[] = []
  let measured: Measured

  beforeAll(async () => {
    redisDir = mkdtempSync(join(tmpdir(), 'sessionvault-faults-redis-'))
    redis = await startRedisServer({ dir: redisDir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
    const lines: string[] = []
    stack = await startStack({
      mode,
      instances: INSTANCES,
      redisUrl: redis.url,
      sessionTtlMs: SESSION_TTL_MS,
      log: (line) => void (line.includes(TTL_LINE) && lines.push(line)),
    })
    clients = Array.from({ length: CLIENTS }, (_, i) => new LoadClient(stack!.url, `user-${String(i + 1).padStart(2, '0')}`))
    for (const client of clients) {
      const login = await client.post('/login', { name: client.user })
      if (login.status !== 303 || client.cookies.size !== 1)
        throw new Error(`${client.user} could not sign in: ${login.status} ${login.body.slice(0, 200)}`)
    }
    measured = { ...(await runWithFaults(stack, redis, clients)), ttlLines: lines }
    printSummary(
      mode,
      measured,
      clients.map((client) => client.user),
    )
  })

  afterAll(async () => {
    for (const client of clients) client.close()
    await stack?.stop()
    await redis?.stop()
    if (redisDir !== undefined) rmSync(redisDir, { recursive: true, force: true })
  })

  test('Redis runs with AOF on and appendfsync always: its SIGKILL cannot lose a write it acknowledged', async () => {
    expect(await redisCli(redis!.port, 'CONFIG', 'GET', 'appendonly')).toBe('appendonly\nyes')
    expect(await redisCli(redis!.port, 'CONFIG', 'GET', 'appendfsync')).toBe('appendfsync\nalways')
  })

  test('every instance process, the restarted one too, ran with sessions that renew every few seconds', () => {
    const { ttlLines, victim } = measured
    for (const instance of stack!.instances) {
      const started = ttlLines.filter((line) => line.startsWith(`[${instance.name}] `))
      expect(started).toHaveLength(instance.name === victim ? 2 : 1)
    }
  })

  test('every request got an answer, but those the killed instance was sending as it died', () => {
    const { tally, instanceKilledAt, victim } = measured
    const cutByTheKill = (request: Unanswered): boolean =>
      request.servedBy === victim && request.endedAt >= instanceKilledAt && request.endedAt - instanceKilledAt < CUT_WITHIN_MS
    const others = tally.unanswered.filter((request) => !cutByTheKill(request))
    expect(
      others.map(
        ({ user, servedBy, error, endedAt }) =>
          `${user}, ${Math.round(endedAt - measured.runStartedAt)} ms into the run, from ${servedBy ?? 'nobody'}: ${error}`,
      ),
    ).toEqual([])
    // At most the requests in flight at the kill: one per client.
    expect(tally.unanswered.length).toBeLessThanOrEqual(CLIENTS)
    expect(tally.requests).toBeGreaterThan(CLIENTS * 50)
  })

  test('the only failed answers are 502 and 503, all while Redis was down: the killed instance cost none', () => {
    const { tally, redisKilledAt, redisBackAt } = measured
    const statuses = Object.keys(tally.statuses).map(Number)
    expect(statuses.filter((status) => status !== 200 && status !== 502 && status !== 503)).toEqual([])
    const outside = tally.failureTimes.filter((at) => at < redisKilledAt || at > redisBackAt + OUTAGE_TAIL_MS)
    expect(outside.map((at) => `${Math.round(at - measured.runStartedAt)} ms into the run`)).toEqual([])
  })

  test('no answer ever names another user', () => {
    expect(measured.tally.wrongAnswers.slice(0, 5)).toEqual([])
  })

  test('no answer during the run says a client is signed out', () => {
    expect(measured.tally.signedOutAnswers).toBe(0)
  })

  test("no session is lost: after the faults, each client's cookie opens its own session through nginx and on every instance", () => {
    expect(measured.lost).toEqual([])
    // Longer than a session lives without a renewal: the renewals during the run kept them all.
    expect(measured.finalCheckAt - measured.runStartedAt).toBeGreaterThan(SESSION_TTL_MS)
  })

  if (mode === 'token') {
    test('every client received renewed tokens during the run', () => {
      // A run of RUN_MS renews each session every SESSION_TTL_MS / 2 or so: at least twice, Redis outage included.
      const fewest = Math.min(...clients.map((client) => measured.tally.rotationsOf(client.user)))
      expect(fewest).toBeGreaterThanOrEqual(2)
    })
  }

  test('every client was served again soon after each fault, and the restarted instance serves again', () => {
    const { tally, redisBackAt, redisKilledAt, victim, instanceRestartedAt } = measured
    const recovered = { instance: tally.recoverySeconds('instance killed'), redis: tally.recoverySeconds('redis killed') }
    expect(recovered).toEqual({ instance: expect.any(Number), redis: expect.any(Number) })
    // nginx sends the killed instance's requests to the others at once.
    expect(recovered.instance).toBeLessThan(INSTANCE_RECOVERY_S)
    expect(recovered.redis).toBeLessThan((redisBackAt - redisKilledAt + OUTAGE_TAIL_MS) / 1000)
    expect(tally.servedBy(victim, instanceRestartedAt)).toBeGreaterThan(0)
  })
})

/** Runs the clients' loops while the faults happen, then checks every client's last cookie. */
async function runWithFaults(stack: Stack, redis: RedisServerHandle, clients: readonly LoadClient[]): Promise<Omit<Measured, 'ttlLines'>> {
  const tally = new LoadTally(clients.map((client) => client.user))
  const victim = stack.instances[1]!
  const runStartedAt = performance.now()
  // The run lasts RUN_MS, and at least AFTER_FAULTS_MS past the last fault: on a slow machine the
  // restarted instance may take seconds to start, which pushes the Redis kill towards the end.
  let runUntil = Number.POSITIVE_INFINITY
  const at = (offsetMs: number): Promise<void> => sleep(Math.max(0, runStartedAt + offsetMs - performance.now()))

  const loop = async (client: LoadClient): Promise<void> => {
    for (let i = 0; i < MAX_REQUESTS_PER_CLIENT && performance.now() < runUntil; i++) {
      const before = [...client.cookies.values()].join()
      const sentAt = performance.now()
      try {
        const reply = await client.get('/api/me')
        tally.answered(client.user, reply, [...client.cookies.values()].join() !== before)
      } catch (error) {
        tally.notAnswered(client.user, sentAt, error)
      }
      await sleep(PAUSE_MS)
    }
  }

  const faults = async (): Promise<{
    instanceKilledAt: number
    instanceRestartedAt: number
    redisKilledAt: number
    redisBackAt: number
  }> => {
    await at(INSTANCE_KILL_AT_MS)
    const instanceKilledAt = performance.now()
    tally.fault('instance killed', instanceKilledAt)
    await victim.kill('SIGKILL')
    if (victim.running) throw new Error(`${victim.name} survived SIGKILL`)

    await at(INSTANCE_RESTART_AT_MS)
    await victim.start()
    const instanceRestartedAt = performance.now()

    await at(REDIS_KILL_AT_MS)
    const pid = redis.pid
    const redisKilledAt = performance.now()
    tally.fault('redis killed', redisKilledAt)
    process.kill(pid, 'SIGKILL')
    // Down for a moment, as while a supervisor notices; then the same port and dir: it reloads its AOF.
    await sleep(REDIS_DOWN_MS)
    await redis.restart()
    if (redis.pid === pid) throw new Error('Redis was not restarted')
    return { instanceKilledAt, instanceRestartedAt, redisKilledAt, redisBackAt: performance.now() }
  }
  const faultsDone = faults().finally(() => {
    runUntil = Math.max(runStartedAt + RUN_MS, performance.now() + AFTER_FAULTS_MS)
  })

  // A fault that fails is reported once the loops have ended: none is left running into afterAll.
  const [injected] = await Promise.allSettled([faultsDone, ...clients.map(loop)])
  if (injected.status === 'rejected') throw injected.reason
  const times = injected.value
  await stack.waitUntilHealthy()

  // Each client's cookie as the run left it, straight to every instance and through nginx.
  const finalCheckAt = performance.now()
  const targets = [stack.url, ...stack.instances.map((instance) => instance.url)]
  const lost = (
    await Promise.all(
      clients.map(async (client) => {
        const problems: string[] = []
        for (const target of targets) {
          const probe = client.copy()
          try {
            const reply = await probe.get('/api/me', target)
            const user = reply.status === 200 ? (JSON.parse(reply.body) as { user: string | null }).user : undefined
            if (user !== client.user) problems.push(`${target}: ${reply.status} ${reply.body.slice(0, 100)}`)
          } catch (error) {
            problems.push(`${target}: ${error instanceof Error ? error.message : String(error)}`)
          } finally {
            probe.close()
          }
        }
        return problems.length === 0 ? [] : [`${client.user}: ${problems.join('; ')}`]
      }),
    )
  ).flat()

  return { tally, runStartedAt, finalCheckAt, victim: victim.name, lost, ...times }
}

function printSummary(mode: AuthMode, measured: Omit<Measured, 'ttlLines'>, users: readonly string[]): void {
  const { tally } = measured
  const seconds = (value: number | undefined): string => (value === undefined ? 'never' : `${value.toFixed(2)} s`)
  const counts = users.map((user) => tally.rotationsOf(user))
  const rotations = mode === 'token' ? `; token renewals per client ${Math.min(...counts)} to ${Math.max(...counts)}` : ''
  console.log(
    `kill-under-load [${mode}]: ${tally.requests} requests by ${CLIENTS} clients over at least ${RUN_MS / 1000} s; ` +
      `answers by status ${JSON.stringify(tally.statuses)}, cut or unanswered ${tally.unanswered.length}; max latency ${tally.maxLatencyMs} ms; ` +
      `every client served again ${seconds(tally.recoverySeconds('instance killed'))} after the instance kill and ` +
      `${seconds(tally.recoverySeconds('redis killed'))} after the Redis kill (Redis serving again ${seconds((measured.redisBackAt - measured.redisKilledAt) / 1000)} after it); ` +
      `restarted instance served ${tally.servedBy(measured.victim, measured.instanceRestartedAt)} answers; ` +
      `sessions lost ${measured.lost.length}, wrong-user answers ${tally.wrongAnswers.length}, signed-out answers ${tally.signedOutAnswers}${rotations}`,
  )
}
