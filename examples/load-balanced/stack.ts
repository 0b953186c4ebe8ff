/**
 * The whole demo as a library: a private persistent Redis (or one you give), N app instances
 * and nginx round-robin in front of them, all on 127.0.0.1. `stop()` ends every process it
 * started; should this process die first, its children follow it (orphan-guard.ts, and the
 * Redis helper's own watchdog).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'
import type { AuthMode } from './auth'
import { compiledEntry } from './compile'
import { InstanceProcess } from './instance-process'
import { until } from './http-probe'
import { startNginx, type NginxHandle } from './nginx'
import { OrphanGuard } from './orphan-guard'

export interface StackOptions {
  /** How many app instances. @default 3 */
  instances?: number
  /** Port nginx listens on (127.0.0.1). @default a free one */
  port?: number
  /** An existing Redis to share sessions through. @default a private redis-server: AOF on, a temp dir, a free port */
  redisUrl?: string
  /** Which of sessionvault's session layers the instances use. @default 'token' */
  mode?: AuthMode
  /** The secret every instance signs cookies with, 32+ characters. @default a random one */
  secret?: string
  /** Each instance logs one line per request. @default false */
  logRequests?: boolean
  /** Milliseconds a session lives without a request (token sessions renew after half of it). @default 30 minutes */
  sessionTtlMs?: number
  /** Where the output of every process goes, line by line, prefixed with its name. @default dropped */
  log?: (line: string) => void
}

export interface StackRedis {
  readonly url: string
  /** Whether this stack started it (and so can restart it). */
  readonly private: boolean
  readonly pid: number | undefined
  /** The private Redis's data directory (its AOF files), removed by `stop()`. */
  readonly dir: string | undefined
  /** Stops and starts the private Redis on the same port and dir: AOF brings every session back. */
  restart(): Promise<void>
}

export interface Stack {
  /** nginx: where a browser goes. */
  readonly url: string
  readonly mode: AuthMode
  readonly redis: StackRedis
  readonly instances: readonly InstanceProcess[]
  readonly nginx: NginxHandle
  /** Resolves once every running instance answers and is connected to Redis. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>
  /** Stops everything it started; safe to call twice. */
  stop(): Promise<void>
}

const MAX_PORT_ATTEMPTS = 3

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const count = options.instances ?? 3
  if (!Number.isInteger(count) || count < 1 || count > 32) throw new Error(`instances must be 1 to 32, not ${count}`)
  const mode = options.mode ?? 'token'
  const secret = options.secret ?? randomBytes(32).toString('base64url')
  if (secret.length < 32) throw new Error('secret must be at least 32 characters')
  const log = options.log ?? (() => undefined)
  const logRequests = options.logRequests ?? false

  const guard = new OrphanGuard()
  // Our own dir, not the helper's: the guard removes it even after a Ctrl-C has reached (and
  // ended) the helper's watchdog along with the rest of the terminal's process group.
  const redisDir = options.redisUrl === undefined ? mkdtempSync(join(tmpdir(), 'sessionvault-demo-redis-')) : undefined
  if (redisDir !== undefined) guard.removeLater(redisDir)
  let redisServer: RedisServerHandle | undefined
  const instances: InstanceProcess[] = []
  let nginx: NginxHandle | undefined
  let stopped: Promise<void> | undefined

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // The front door first, so no request reaches an instance that is going away.
      await nginx?.stop()
      await Promise.all(instances.map((instance) => instance.kill('SIGTERM')))
      await redisServer?.stop()
      if (redisDir !== undefined) rmSync(redisDir, { recursive: true, force: true })
      guard.close()
    })())

  // The instances compile while Redis starts.
  const redisStarting = redisDir === undefined ? undefined : startRedisServer({ args: ['--appendonly', 'yes'], dir: redisDir })
  try {
    const entry = compiledEntry()
    redisServer = await redisStarting
    const redisUrl = options.redisUrl ?? (redisServer as RedisServerHandle).url

    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, index) =>
        startInstance(
          (port) =>
            new InstanceProcess({
              name: `instance-${index + 1}`,
              port,
              entry,
              redisUrl,
              secret,
              mode,
              logRequests,
              sessionTtlMs: options.sessionTtlMs,
              guard,
              log,
            }),
        ),
      ),
    )
    for (const result of started) if (result.status === 'fulfilled') instances.push(result.value)
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected')
    if (failed) throw failed.reason

    nginx = await startNginx({
      port: options.port ?? (await freePort()),
      upstreamPorts: instances.map((instance) => instance.port),
      guard,
      log,
    })
  } catch (error) {
    redisServer ??= await redisStarting?.catch(() => undefined)
    await stop()
    throw error
  }

  const server = redisServer
  const redis: StackRedis = {
    url: options.redisUrl ?? (server as RedisServerHandle).url,
    private: server !== undefined,
    get pid() {
      return server?.pid
    },
    dir: redisDir,
    async restart() {
      if (server === undefined) throw new Error('this stack uses a Redis it did not start (redisUrl): restart that one yourself')
      await server.restart()
    },
  }

  return {
    url: nginx.url,
    mode,
    redis,
    instances,
    nginx,
    async waitUntilHealthy(timeoutMs = 15_000) {
      await until(async () => (await Promise.all(instances.filter((i) => i.running).map((i) => i.healthy()))).every(Boolean), {
        timeoutMs,
        timeoutMessage: () => `the instances were not all connected to Redis within ${timeoutMs} ms`,
      })
    },
    stop,
  }
}

/** Starts an instance on a free port, on another one if that was taken in the meantime. */
async function startInstance(create: (port: number) => InstanceProcess): Promise<InstanceProcess> {
  for (let attempt = 1; ; attempt++) {
    const instance = create(await freePort())
    try {
      await instance.start()
      return instance
    } catch (error) {
      const clash = error instanceof Error && /EADDRINUSE|address already in use/i.test(error.message)
      if (!clash || attempt >= MAX_PORT_ATTEMPTS) throw error
    }
  }
}
