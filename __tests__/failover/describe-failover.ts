/**
 * The failover test for one deployment and one session layer (each *.test.ts here calls it
 * once): see failover-run.ts for what runs, and below for what must hold. It prints one line with
 * what it measured.
 */
import type { AuthMode } from '../../examples/load-balanced/auth'
import { startDeployment, type Deployment, type DeploymentKind } from './deployments'
import {
  ENDED_AFTER_PROMOTION,
  INSTANCES,
  LOOPS,
  PROMOTION_LIMIT_MS,
  runFailover,
  type ClientLibrary,
  type FailoverMeasured,
} from './failover-run'

/**
 * Every request sent this long after the promotion is served, by deployment and by the app
 * servers' client library; every session has been served again by then too. 2 s on Cluster
 * (measured: every request sent 0.5 s after the promotion served, every session within 1.0 s).
 *
 * On Sentinel what comes back late is the client. A sentinel sees the promotion at its next INFO
 * to the replica (once a second during a failover) and names the new master from then on: up to
 * 1.1 s after the promotion. ioredis (failover-instance.ts) asks a sentinel for the master before
 * each reconnect attempt, every 100 ms, and is served by the new master as soon as one names it
 * (measured on 2 loaded cores: every request sent 1.2 s after the promotion served, every session
 * within 1.5 s).
 *
 * node-redis's Sentinel client takes a master only once the sentinel it asks reports it without
 * `disconnected`, which that sentinel clears when it next reconnects to it (its links reconnect
 * once a second), and between two looks it sleeps 1 s: up to 1.1 + 1 + 1 s after the promotion,
 * more on a loaded machine (measured: every request sent 1.0 to 3.2 s after the promotion served,
 * every session within 2.0 to 3.4 s; once 3.03 s on CI, when the bound was 3 s).
 * Its bound is 4 s.
 */
export const SERVED_AGAIN_MS = {
  cluster: { 'node-redis': 2_000 },
  sentinel: { 'node-redis': 4_000, ioredis: 2_000 },
} as const satisfies Record<DeploymentKind, Partial<Record<ClientLibrary, number>>>
/**
 * Every request is answered within this: a request waits at most 1.5 s per Redis call
 * (failover-instance.ts) and makes at most two in a row (a read, then a renewal or touch).
 */
const ANSWER_WITHIN_MS = 3_000 * 2
/**
 * A session is lost to the failover only if its last write (a renewal) was acknowledged so
 * shortly before the kill that the replica may not have had it. Replication on loopback lags by
 * well under a millisecond; this is the window the test grants it, on a loaded machine.
 */
export const UNREPLICATED_WINDOW_MS = 1_000

export function describeFailover(kind: DeploymentKind, mode: AuthMode, client: ClientLibrary = 'node-redis'): void {
  const bounds: Partial<Record<ClientLibrary, number>> = SERVED_AGAIN_MS[kind]
  const servedAgainMs = bounds[client]
  if (servedAgainMs === undefined) throw new Error(`no failover bound for ${client} on ${kind}`)
  const layer = mode === 'token' ? 'sessions()' : 'express-session with RedisSessionStore'
  describe(`SIGKILL of the ${kind} master under load through ${INSTANCES} instances on ${client}, on ${layer}`, () => {
    let deployment: Deployment | undefined
    let m: FailoverMeasured

    beforeAll(async () => {
      deployment = await startDeployment(kind)
      m = await runFailover(deployment, { mode, client, servedAgainMs })
      console.log(summary(`${kind}, ${client}, ${mode}`, m))
    }, 90_000)
    afterAll(async () => {
      await deployment?.stop()
    })

    test("no answer ever names another session's user", () => {
      expect(m.tally.wrongAnswers.slice(0, 5)).toEqual([])
      const wrongAtTheEnd = [...m.finalFates, ...m.endedFates].filter(([, seen]) =>
        seen.some((fate) => fate !== 'own' && fate !== 'nobody'),
      )
      expect(wrongAtTheEnd).toEqual([])
    })

    test(`every request was answered (a 503 is an answer), each within ${ANSWER_WITHIN_MS / 1000} s`, () => {
      expect(m.tally.errors.slice(0, 5)).toEqual([])
      expect(m.tally.maxLatencyMs).toBeLessThan(ANSWER_WITHIN_MS)
      expect(m.tally.requests).toBeGreaterThan(LOOPS * 30)
    })

    test('the only failed answers are 503s, all between the kill and service coming back', () => {
      const statuses = Object.keys(m.tally.statuses).map(Number)
      expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([])
      expect(m.tally.failuresBetween(m.startedAt, m.killedAt)).toBe(0)
      expect(m.tally.failuresBetween(m.promotedAt + servedAgainMs + ANSWER_WITHIN_MS, m.endedAt)).toBe(0)
    })

    test(`the replica is promoted; every request sent ${servedAgainMs / 1000} s after that is served, and every session was served again by then`, () => {
      expect(m.promotedAt - m.killedAt).toBeLessThan(PROMOTION_LIMIT_MS)
      expect(serviceBackMs(m)).toBeLessThan(servedAgainMs)
      // Requests held while the client reconnects are served late, not failed: the first bound alone would not see them.
      expect(m.tally.servedAgainMs(keptSessions(m), m.promotedAt)).toBeLessThan(servedAgainMs)
    })

    test('a session is lost only if the dead master acknowledged its last write just before dying', () => {
      const lost = lostSessions(m)
      const unexplained = lost.filter(
        ({ lastWriteBeforeKillMs }) =>
          lastWriteBeforeKillMs === undefined ||
          lastWriteBeforeKillMs > UNREPLICATED_WINDOW_MS ||
          lastWriteBeforeKillMs < -(m.promotedAt - m.killedAt),
      )
      expect(unexplained).toEqual([])
      // A session that worked is either working everywhere or gone everywhere, never half.
      for (const [session, seen] of m.finalFates) expect([session, new Set(seen).size]).toEqual([session, 1])
      // Only lost sessions are ever answered as signed out.
      const lostNames = new Set(lost.map(({ session }) => session))
      expect([...m.tally.signedOutSessions].filter((session) => !lostNames.has(session))).toEqual([])
    })

    test('the killed master, restarted with its AOF, rejoins as a replica holding what the new master holds', () => {
      expect(m.heldAtRestart).toBeGreaterThan(0)
      expect(m.rejoinedAt).toBeGreaterThan(m.restartedAt)
      expect(m.keys.oldMaster).toBe(m.keys.newMaster)
    })

    test('sessions ended after the promotion stay ended once the old master, which still held them, is back', () => {
      expect(m.endedHeld.length).toBeGreaterThan(0)
      expect(m.logoutStatuses).toEqual(Array.from({ length: ENDED_AFTER_PROMOTION }, () => 303))
      expect([...m.endedFates].filter(([, seen]) => seen.some((fate) => fate !== 'nobody'))).toEqual([])
    })
  })
}

interface Lost {
  session: string
  /** How long before the kill its cookie last changed (negative: after it). */
  lastWriteBeforeKillMs: number | undefined
}

function lostSessions(m: FailoverMeasured): Lost[] {
  return [...m.finalFates]
    .filter(([, seen]) => seen.every((fate) => fate === 'nobody'))
    .map(([session]) => {
      const at = m.tally.lastCookieChange(session)
      return { session, lastWriteBeforeKillMs: at === undefined ? undefined : Math.round(m.killedAt - at) }
    })
}

/** Sessions that every instance serves as their own after the run. */
function keptSessions(m: FailoverMeasured): string[] {
  return m.sessions.filter((session) => m.finalFates.get(session)?.every((fate) => fate === 'own'))
}

/** From the promotion until the last request that was not served was sent (0: none after the promotion). */
function serviceBackMs(m: FailoverMeasured): number {
  const lost = new Set(lostSessions(m).map(({ session }) => session))
  return Math.max(0, (m.tally.lastFailedSentAt(lost) ?? 0) - m.promotedAt)
}

/** `run` names the deployment, the client library and the session layer. */
function summary(run: string, m: FailoverMeasured): string {
  const s = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(2)} s`)
  const kept = keptSessions(m)
  const lost = lostSessions(m)
  return (
    `failover [${run}]: ${m.tally.requests} requests by ${LOOPS} clients on ${m.sessions.length} sessions through ${INSTANCES} instances over ${s(m.endedAt - m.startedAt)}; ` +
    `answers by status ${JSON.stringify(m.tally.statuses)} (0: none); max latency ${m.tally.maxLatencyMs} ms; ` +
    `replica promoted ${s(m.promotedAt - m.killedAt)} after the kill; every request sent ${s(serviceBackMs(m))} after the promotion or later served, every session served again ${s(m.tally.servedAgainMs(kept, m.promotedAt))} after it; ` +
    `sessions lost ${lost.length}${lost.length > 0 ? ` (last write acknowledged ${lost.map(({ lastWriteBeforeKillMs }) => `${lastWriteBeforeKillMs} ms`).join(', ')} before the kill)` : ''}; ` +
    `wrong-session answers ${m.tally.wrongAnswers.length}; old master restarted holding ${m.heldAtRestart} keys, rejoined as a replica ${s(m.rejoinedAt - m.restartedAt)} after its restart, keys ${m.keys.oldMaster} = ${m.keys.newMaster}; ` +
    `sessions ended after the promotion (the old master held ${m.endedHeld.length} of them) served again ${[...m.endedFates].filter(([, seen]) => seen.some((fate) => fate !== 'nobody')).length} of ${m.endedFates.size}`
  )
}
