/**
 * One failover under load: sessions signed in through several app instances, bounded concurrent
 * load on all of them, SIGKILL of the master, its replica promoted, the killed master restarted
 * (with its AOF) and rejoining as a replica; a few sessions are ended after the promotion, while
 * the old master still holds them. Then every session's last cookie is tried on every instance.
 */
import type { AuthMode } from '../../examples/load-balanced/auth'
import { LoadClient } from '../faults/load-client'
import { startAppInstances, type AppInstances } from './app-instances'
import type { Deployment } from './deployments'
import { FailoverTally } from './failover-tally'

/** Concurrent clients, each cycling through its own sessions. */
export const LOOPS = 20
export const SESSIONS_PER_LOOP = 3
/**
 * Sessions signed in before the kill and ended after the promotion, while the killed master still
 * holds them. On Cluster a user's slot comes from a keyed hash, so which of them the killed master
 * holds differs from run to run: with 18, the chance that it holds none is (2/3)^18, under 0.1%.
 */
export const ENDED_AFTER_PROMOTION = 18
export const INSTANCES = 3
/**
 * Token sessions renew (a new token, a write) every 2 s of the run, and the store's sessions are
 * touched as often (a tenth of their TTL). Nothing expires during a run: the ended sessions get
 * no request from their login to their logout, up to about 12 s on a loaded machine (the kill at
 * 2.5 s, the promotion up to 3 s later, the old master back 4.5 s after that on Sentinel).
 */
export const SESSION_TTL_MS = 20_000
const RENEW_AFTER_MS = 2_000
/** Load before the kill. */
const KILL_AT_MS = 2_500
/** Load keeps going this long after the old master has rejoined, and at least this long after the promotion. */
const AFTER_REJOIN_MS = 500
const AFTER_PROMOTION_MS = 5_000
/** The run's hard limits: in time, and in requests per client. */
const RUN_LIMIT_MS = 30_000
const MAX_REQUESTS_PER_LOOP = 2_000
const PAUSE_MS = 20
/** The replica is promoted within this (measured 1.5 to 2.8 s). */
export const PROMOTION_LIMIT_MS = 10_000
/** The killed master rejoins within this after its restart (Sentinel: 8 s of waiting, then its INFO period). */
const REJOIN_LIMIT_MS = 25_000
/** Sessions are ended this long after the promotion, once service is back (or the test's bound on that has passed). */
const END_AFTER_PROMOTION_MS = 4_500
/**
 * When the killed master comes back. On Sentinel, this long after every app server should serve
 * from the new master (the test's bound on that, `servedAgainMs`): back sooner on its old address,
 * it acts as a master until the sentinels demote it, and node-redis's Sentinel client, still
 * reconnecting to that address, can write to it, writes lost when it becomes a replica. On
 * Cluster at once: it learns the new configuration from the other nodes within a second, and its
 * MOVED replies are what make node-redis's cluster client look the slots up again.
 */
const RESTART_AFTER_SERVED_AGAIN_MS = 500

function restartAfterPromotionMs(kind: Deployment['kind'], servedAgainMs: number): number {
  return kind === 'cluster' ? 0 : servedAgainMs + RESTART_AFTER_SERVED_AGAIN_MS
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The Redis client library of the app instances (failover-instance.ts). */
export type ClientLibrary = 'node-redis' | 'ioredis'

export interface FailoverOptions {
  mode: AuthMode
  client: ClientLibrary
  /** The test's bound on service coming back after the promotion: the killed master is restarted after it. */
  servedAgainMs: number
}

export interface FailoverMeasured {
  tally: FailoverTally
  startedAt: number
  killedAt: number
  promotedAt: number
  restartedAt: number
  rejoinedAt: number
  endedAt: number
  /** Sessions of the load, and their last cookie change before the final check. */
  sessions: string[]
  /** Session → what its last cookie opened on each instance after the run ('own', 'nobody', or what else). */
  finalFates: Map<string, string[]>
  /** Ended sessions → what their cookie, kept from before the logout, opens after the old master is back. */
  endedFates: Map<string, string[]>
  /** Status of each logout after the promotion. */
  logoutStatuses: number[]
  /** Keys the killed master held when it came back, before it rejoined. */
  heldAtRestart: number
  /** Ended sessions whose user the killed master still held when it came back (on Cluster, those in its slots). */
  endedHeld: string[]
  keys: { oldMaster: number; newMaster: number }
  instanceLog: readonly string[]
}

export async function runFailover(deployment: Deployment, { mode, client, servedAgainMs }: FailoverOptions): Promise<FailoverMeasured> {
  let apps: AppInstances | undefined
  const clients: LoadClient[] = []
  const redisUrl = client === 'node-redis' ? deployment.url : `${deployment.url}?client=${client}`
  try {
    apps = await startAppInstances(
      mode,
      Array.from({ length: INSTANCES }, () => redisUrl),
      SESSION_TTL_MS,
      RENEW_AFTER_MS,
    )
    const urls = apps.urls
    const sessionName = (loop: number, i: number): string => `user-${loop + 1}-${i + 1}`
    const loops = Array.from({ length: LOOPS }, (_, loop) =>
      Array.from({ length: SESSIONS_PER_LOOP }, (_, i) => new LoadClient(urls[(loop + i) % urls.length]!, sessionName(loop, i))),
    )
    const ended = Array.from(
      { length: ENDED_AFTER_PROMOTION },
      (_, i) => new LoadClient(urls[i % urls.length]!, `ended-${String(i + 1).padStart(2, '0')}`),
    )
    clients.push(...loops.flat(), ...ended)
    await Promise.all(
      clients.map(async (client) => {
        const login = await client.post('/login', { name: client.user })
        if (login.status !== 303 || client.cookies.size !== 1)
          throw new Error(`${client.user} could not sign in: ${login.status} ${login.body.slice(0, 200)}`)
      }),
    )
    // What the kill may lose is what the load writes, not the logins.
    await deployment.syncReplicas()
    return await loadAndKill(deployment, apps, loops, ended, restartAfterPromotionMs(deployment.kind, servedAgainMs))
  } finally {
    for (const client of clients) client.close()
    await apps?.stop()
  }
}

async function loadAndKill(
  deployment: Deployment,
  apps: AppInstances,
  loops: LoadClient[][],
  ended: LoadClient[],
  restartAfterPromotionMs: number,
): Promise<FailoverMeasured> {
  const urls = apps.urls
  const tally = new FailoverTally()
  const startedAt = performance.now()
  let stopAt = startedAt + RUN_LIMIT_MS

  const loop = async (sessions: LoadClient[], offset: number): Promise<void> => {
    for (let i = 0; i < MAX_REQUESTS_PER_LOOP && performance.now() < stopAt; i++) {
      const client = sessions[i % sessions.length]!
      const before = [...client.cookies.values()].join()
      const sentAt = performance.now()
      try {
        const reply = await client.get('/api/me', urls[(i + offset) % urls.length])
        tally.answered(client.user, reply, [...client.cookies.values()].join() !== before)
      } catch (error) {
        tally.notAnswered(client.user, sentAt, error)
      }
      await sleep(PAUSE_MS)
    }
  }

  const faults = async () => {
    await sleep(startedAt + KILL_AT_MS - performance.now())
    const killedAt = performance.now()
    process.kill(deployment.master.pid, 'SIGKILL')
    const promotedAt = await deployment.promoted(PROMOTION_LIMIT_MS)
    // Back on its port and AOF: it holds the sessions as they were at the kill.
    await sleep(promotedAt + restartAfterPromotionMs - performance.now())
    await deployment.master.restart()
    const restartedAt = performance.now()
    const heldAtRestart = await deployment.keyCount(deployment.master)
    const endedHeld = await deployment.namesHeld(
      deployment.master,
      ended.map((client) => client.user),
    )

    // Ended through the new master, while the old one still holds them.
    await sleep(promotedAt + END_AFTER_PROMOTION_MS - performance.now())
    const kept = ended.map((client) => client.copy())
    const logoutStatuses = await Promise.all(ended.map((client) => logout(client)))

    await deployment.rejoined(REJOIN_LIMIT_MS)
    const rejoinedAt = performance.now()
    stopAt = Math.min(stopAt, Math.max(rejoinedAt + AFTER_REJOIN_MS, promotedAt + AFTER_PROMOTION_MS))
    await sleep(stopAt - performance.now())
    return { killedAt, promotedAt, restartedAt, heldAtRestart, endedHeld, rejoinedAt, kept, logoutStatuses }
  }

  // A fault step that fails is reported once the loops have ended.
  const [injected] = await Promise.allSettled([
    faults().finally(() => (stopAt = Math.min(stopAt, performance.now()))),
    ...loops.map((sessions, i) => loop(sessions, i)),
  ])
  if (injected.status === 'rejected') throw injected.reason
  const { kept, logoutStatuses, ...times } = injected.value
  const endedAt = performance.now()

  const keys = await sameKeyCount(deployment)
  const finalFates = new Map<string, string[]>()
  for (const client of loops.flat()) finalFates.set(client.user, await fates(client, urls))
  const endedFates = new Map<string, string[]>()
  for (const client of kept) {
    endedFates.set(client.user, await fates(client, urls))
    client.close()
  }
  return {
    tally,
    startedAt,
    endedAt,
    ...times,
    sessions: loops.flat().map((client) => client.user),
    finalFates,
    endedFates,
    logoutStatuses,
    keys,
    instanceLog: apps.log,
  }
}

/** POST /logout until an answer that is not a 503 (service may still be coming back); its status. */
async function logout(client: LoadClient): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const reply = await client.post('/logout', {})
    if (reply.status !== 503 || attempt >= 20) return reply.status
    await sleep(100)
  }
}

/** What a client's cookie opens on each instance: 'own', 'nobody', or the status and body. */
async function fates(client: LoadClient, urls: readonly string[]): Promise<string[]> {
  const probe = client.copy()
  try {
    const seen: string[] = []
    for (const url of urls) {
      const reply = await probe.get('/api/me', url)
      const user = reply.status === 200 ? (JSON.parse(reply.body) as { user: string | null }).user : undefined
      seen.push(user === client.user ? 'own' : user === null ? 'nobody' : `${reply.status} ${reply.body.slice(0, 80)}`)
    }
    return seen
  } finally {
    probe.close()
  }
}

/** Key counts of the old master and the new one, once equal (expiring keys move the count; give it a moment). */
async function sameKeyCount(deployment: Deployment): Promise<{ oldMaster: number; newMaster: number }> {
  let keys = { oldMaster: -1, newMaster: -2 }
  for (let attempt = 0; attempt < 20 && keys.oldMaster !== keys.newMaster; attempt++) {
    await deployment.syncReplicas()
    keys = { newMaster: await deployment.keyCount(deployment.replica), oldMaster: await deployment.keyCount(deployment.master) }
    if (keys.oldMaster !== keys.newMaster) await sleep(100)
  }
  return keys
}
