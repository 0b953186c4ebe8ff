/**
 * Durable logouts (`waitForReplicas`) against a real failover: a logout is answered, the master
 * is SIGKILLed at once, the replica is promoted, and the session is still ended.
 *
 * Two sets of app instances share one deployment: one with `waitForReplicas` (durable), one
 * without (plain). First half of each set's sessions log out normally; then the replica is
 * stopped (SIGSTOP) and cut off (the master drops its replication link), the other half log out,
 * and the master is killed as soon as the answers are in; the replica continues and is promoted. Without the option those logouts are
 * answered and undone by the failover (the control: it shows the scenario can lose one); with it,
 * they are answered 503 (NOT_REPLICATED), and no logout that was answered is ever undone.
 */
import type { AuthMode } from '../../examples/load-balanced/auth'
import { redisCli } from '../../scripts/redis-server'
import { LoadClient } from '../faults/load-client'
import { startAppInstances, type AppInstances } from './app-instances'
import { startDeployment, type Deployment, type DeploymentKind } from './deployments'

jest.setTimeout(90_000)

/** Sessions per set; a Cluster spreads them over 3 masters, of which one is killed. */
const SESSIONS = 30
const SESSION_TTL_MS = 60_000
/** The durable instances' `waitForReplicas`. */
const WAIT = { replicas: 1, timeoutMs: 500 }
const PROMOTION_LIMIT_MS = 15_000

interface Logout {
  set: 'durable' | 'plain'
  phase: 'replica up' | 'replica stopped'
  status: number
  /** Whether the cookie from before the logout opens its session after the failover. */
  opensAfter: boolean
}

describe.each<[DeploymentKind, AuthMode]>([
  ['sentinel', 'token'],
  ['cluster', 'express-session'],
])('durable logouts on %s, %s sessions: a logout answered, then SIGKILL of the master at once', (kind, mode) => {
  let deployment: Deployment | undefined
  const apps: AppInstances[] = []
  const clients: LoadClient[] = []
  let logouts: Logout[]
  let promotedAfterMs: number

  beforeAll(async () => {
    deployment = await startDeployment(kind)
    const query = `?replicas=${WAIT.replicas}&timeoutMs=${WAIT.timeoutMs}`
    const durable = await startAppInstances(mode, [`${deployment.url}${query}`], SESSION_TTL_MS)
    apps.push(durable)
    const plain = await startAppInstances(mode, [deployment.url], SESSION_TTL_MS)
    apps.push(plain)
    ;({ logouts, promotedAfterMs } = await run(deployment, durable.urls[0]!, plain.urls[0]!, clients))
    const count = (set: Logout['set'], phase: Logout['phase'], what: (logout: Logout) => boolean): number =>
      logouts.filter((logout) => logout.set === set && logout.phase === phase && what(logout)).length
    const line = (set: Logout['set']): string =>
      `${set}: replica up ${count(set, 'replica up', (l) => l.status === 303)} of ${SESSIONS / 2} answered, ${count(set, 'replica up', (l) => l.status === 303 && l.opensAfter)} undone; ` +
      `replica stopped ${count(set, 'replica stopped', (l) => l.status === 303)} answered (${count(set, 'replica stopped', (l) => l.status === 503)} 503), ${count(set, 'replica stopped', (l) => l.status === 303 && l.opensAfter)} answered then undone, ${count(set, 'replica stopped', (l) => l.status !== 303 && l.opensAfter)} unanswered then undone`
    console.log(
      `durable logouts [${kind}, ${mode}, waitForReplicas ${JSON.stringify(WAIT)}]: replica promoted ${(promotedAfterMs / 1000).toFixed(2)} s after the kill; ${line('durable')}; ${line('plain')}`,
    )
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await Promise.all(apps.map((app) => app.stop()))
    await deployment?.stop()
  })

  test('with waitForReplicas, no answered logout is undone by the failover', () => {
    const durable = logouts.filter((logout) => logout.set === 'durable')
    expect(durable.filter((logout) => logout.status === 303).length).toBeGreaterThanOrEqual(SESSIONS / 2)
    expect(durable.filter((logout) => logout.status === 303 && logout.opensAfter)).toEqual([])
  })

  test('with waitForReplicas, a logout the replica could not acknowledge in time is answered 503', () => {
    const stopped = logouts.filter((logout) => logout.set === 'durable' && logout.phase === 'replica stopped')
    // On Cluster only the killed master's replica is stopped: a logout whose session is on another
    // master waits for that master's own replica, and is answered 303.
    expect(stopped.filter((logout) => logout.status !== 303 && logout.status !== 503)).toEqual([])
    expect(stopped.filter((logout) => logout.status === 503).length).toBeGreaterThan(0)
  })

  test('without it, the same failover undoes answered logouts (the scenario can lose one)', () => {
    const undone = logouts.filter((logout) => logout.set === 'plain' && logout.status === 303 && logout.opensAfter)
    expect(undone.length).toBeGreaterThan(0)
    // Only those answered while the replica was stopped.
    expect(undone.filter((logout) => logout.phase !== 'replica stopped')).toEqual([])
  })
})

async function run(
  deployment: Deployment,
  durableUrl: string,
  plainUrl: string,
  clients: LoadClient[],
): Promise<{ logouts: Logout[]; promotedAfterMs: number }> {
  const sets = {
    durable: Array.from({ length: SESSIONS }, (_, i) => new LoadClient(durableUrl, `durable-${String(i + 1).padStart(2, '0')}`)),
    plain: Array.from({ length: SESSIONS }, (_, i) => new LoadClient(plainUrl, `plain-${String(i + 1).padStart(2, '0')}`)),
  }
  clients.push(...sets.durable, ...sets.plain)
  for (const client of [...sets.durable, ...sets.plain]) {
    const login = await client.post('/login', { name: client.user })
    if (login.status !== 303) throw new Error(`${client.user} could not sign in: ${login.status} ${login.body.slice(0, 200)}`)
  }
  await deployment.syncReplicas()

  const kept = new Map<LoadClient, LoadClient>()
  const logOut = async (
    set: Logout['set'],
    phase: Logout['phase'],
    client: LoadClient,
  ): Promise<Omit<Logout, 'opensAfter'> & { client: LoadClient }> => {
    kept.set(client, client.copy())
    const reply = await client.post('/logout', {})
    return { set, phase, status: reply.status, client }
  }
  const half = SESSIONS / 2
  const done = await Promise.all([
    ...sets.durable.slice(0, half).map((c) => logOut('durable', 'replica up', c)),
    ...sets.plain.slice(0, half).map((c) => logOut('plain', 'replica up', c)),
  ])
  await deployment.syncReplicas()

  // The replica stops (it cannot reconnect) and the master drops its link: what the master
  // acknowledges now, it alone has. (A stopped replica alone would still get the stream: the
  // kernel holds it in the replica's socket until it reads it.)
  process.kill(deployment.replica.pid, 'SIGSTOP')
  let killedAt: number
  try {
    await redisCli(deployment.master.port, 'CLIENT', 'KILL', 'TYPE', 'replica')
    done.push(
      ...(await Promise.all([
        ...sets.durable.slice(half).map((c) => logOut('durable', 'replica stopped', c)),
        ...sets.plain.slice(half).map((c) => logOut('plain', 'replica stopped', c)),
      ])),
    )
    killedAt = performance.now()
    process.kill(deployment.master.pid, 'SIGKILL')
  } finally {
    process.kill(deployment.replica.pid, 'SIGCONT')
  }
  const promotedAt = await deployment.promoted(PROMOTION_LIMIT_MS)

  // Each cookie from before its logout, tried through its own set's instance (on the new master).
  const logouts: Logout[] = []
  for (const { client, ...logout } of done) {
    logouts.push({ ...logout, opensAfter: await opens(kept.get(client)!) })
  }
  for (const copy of kept.values()) copy.close()
  return { logouts, promotedAfterMs: promotedAt - killedAt }
}

/** Whether the cookie opens its own session; a 503 (service not back yet) is asked again. */
async function opens(client: LoadClient): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const reply = await client.get('/api/me')
    if (reply.status === 200) return (JSON.parse(reply.body) as { user: string | null }).user === client.user
    if (attempt >= 50) throw new Error(`${client.user}: ${reply.status} ${reply.body.slice(0, 100)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
