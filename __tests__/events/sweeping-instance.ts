/**
 * One app process of the expiry-event tests: a RedisSessionStore (LAYER=store; LAYER=store-users
 * with `userOf` reading `userId`) or a `sessions()` middleware (LAYER=sessions, signing with SECRET) on the Redis the environment names, listening
 * for `ended`, printing each event as a JSON line on stdout. With `KILL_AT=n`
 * it SIGKILLs itself at the first event of the n-th sweep that delivers any, before printing it
 * (it prints `{"diesHolding": <session id>}` instead):
 * that sweep's claims were taken and never acknowledged (nor any of its events printed), so
 * another process must deliver them. With `HOLD=1` it is ready at once but listens only once it
 * reads a line on stdin (sent when the processes to be killed have died). A sweep delivers its events in one synchronous run, so an
 * event with no other before it since the last turn of the event loop starts a sweep.
 *
 * Environment: DEPLOYMENT ('standalone', 'cluster' or 'sentinel'), TARGET (a URL; cluster root
 * URLs, comma-separated; or for Sentinel `name@host:port,host:port`), LAYER, PREFIX (the store's
 * prefix, or the cache's namespace), SECRET, SWEEP_MS, KILL_AT, HOLD.
 */
import type { SessionData } from 'express-session'
import { createClient, createCluster, createSentinel } from 'redis'
import { RedisCache, RedisSessionStore, SESSION_TAG_DEPTH, sessions } from 'sessionvault'
import type { RedisClient } from 'sessionvault/cache'
import type { SessionEndedEvent, StoreSessionEnded } from 'sessionvault'

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set`)
  return value
}

async function connect(): Promise<{ client: RedisClient; close(): Promise<void> }> {
  const deployment = env('DEPLOYMENT')
  const target = env('TARGET')
  if (deployment === 'cluster') {
    const client = createCluster({ rootNodes: target.split(',').map((url) => ({ url })) })
    await client.connect()
    return { client, close: () => client.close() }
  }
  if (deployment === 'sentinel') {
    const [name, hosts] = target.split('@') as [string, string]
    const client = createSentinel({
      name,
      sentinelRootNodes: hosts
        .split(',')
        .map((hostPort) => ({ host: hostPort.split(':')[0] as string, port: Number(hostPort.split(':')[1]) })),
    })
    await client.connect()
    return { client, close: () => client.close() }
  }
  const client = createClient({ url: target })
  await client.connect()
  return { client, close: () => client.close() }
}

async function main(): Promise<void> {
  const connection = await connect()
  const { client } = connection
  const sweepMs = Number(env('SWEEP_MS'))
  const layer =
    env('LAYER') === 'sessions'
      ? sessions({
          cache: new RedisCache({ client, namespace: env('PREFIX'), tagDepth: SESSION_TAG_DEPTH, ttlMs: 60_000 }),
          secret: env('SECRET'),
          expirySweepMs: sweepMs,
        })
      : new RedisSessionStore({
          client,
          prefix: env('PREFIX'),
          expirySweepMs: sweepMs,
          ...(env('LAYER') === 'store-users' ? { userOf: (session: SessionData) => session.userId } : {}),
        })
  const close = () => (layer instanceof RedisSessionStore ? layer.close() : Promise.resolve())
  const killAt = Number(process.env['KILL_AT'] ?? '0')
  let sweeps = 0
  let inSweep = false
  const print = (event: SessionEndedEvent | StoreSessionEnded): void => {
    if (!inSweep) {
      inSweep = true
      setImmediate(() => (inSweep = false))
      if (++sweeps === killAt) {
        // Writes to a pipe are synchronous on Linux: the test learns which claim dies with us.
        process.stdout.write(`${JSON.stringify({ diesHolding: event.sessionId })}\n`)
        process.kill(process.pid, 'SIGKILL')
      }
    }
    process.stdout.write(
      `${JSON.stringify({ sessionId: event.sessionId, userId: event.userId ?? null, reason: event.reason, at: event.at, seenAt: Date.now() })}\n`,
    )
  }
  const listen = (): void => {
    if (layer instanceof RedisSessionStore) layer.on('ended', print)
    else layer.on('ended', print)
  }
  if (process.env['HOLD'] === '1') process.stdin.once('data', listen)
  else listen()
  process.stdout.write('ready\n')
  process.on('SIGTERM', () => {
    void close()
      .then(() => connection.close())
      .finally(() => process.exit(0))
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
