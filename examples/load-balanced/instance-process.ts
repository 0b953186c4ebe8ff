/**
 * One app instance as a child process (instance.ts, compiled): started on a port, known healthy
 * once its /healthz answers with its own name, killable like a crashed server and startable
 * again on the same port.
 */
import type { AuthMode } from './auth'
import { probe, until } from './http-probe'
import { ManagedProcess } from './managed-process'
import type { OrphanGuard } from './orphan-guard'

const START_TIMEOUT_MS = 20_000

export interface InstanceSettings {
  name: string
  port: number
  /** The compiled instance.js. */
  entry: string
  redisUrl: string
  secret: string
  mode: AuthMode
  logRequests: boolean
  /** Milliseconds a session lives without a request (SESSION_TTL_MS); undefined: the instance's default. */
  sessionTtlMs?: number | undefined
  /** Milliseconds after which a token session renews (RENEW_AFTER_MS); undefined: the instance's default. */
  renewAfterMs?: number | undefined
  guard: OrphanGuard
  log: (line: string) => void
}

interface Health {
  instance?: string
  redis?: boolean
}

export class InstanceProcess {
  private process: ManagedProcess | undefined

  constructor(private readonly settings: InstanceSettings) {}

  get name(): string {
    return this.settings.name
  }

  get port(): number {
    return this.settings.port
  }

  get url(): string {
    return `http://127.0.0.1:${this.settings.port}`
  }

  get pid(): number | undefined {
    return this.process?.running ? this.process.pid : undefined
  }

  get running(): boolean {
    return this.process?.running ?? false
  }

  /** Starts it (again) and resolves once it answers; rejects with its output if it exits first. */
  async start(): Promise<void> {
    if (this.running) return
    const { name, port, entry, redisUrl, secret, mode, logRequests, sessionTtlMs, renewAfterMs, guard, log } = this.settings
    const child = new ManagedProcess(name, process.execPath, ['--enable-source-maps', entry], {
      env: {
        ...process.env,
        INSTANCE_NAME: name,
        PORT: String(port),
        REDIS_URL: redisUrl,
        SESSION_SECRET: secret,
        MODE: mode,
        LOG_REQUESTS: logRequests ? '1' : '0',
        ...(sessionTtlMs === undefined ? {} : { SESSION_TTL_MS: String(sessionTtlMs) }),
        ...(renewAfterMs === undefined ? {} : { RENEW_AFTER_MS: String(renewAfterMs) }),
        // Its stdin is our pipe: should we vanish without stopping it, it exits by itself.
        EXIT_WITH_STDIN: '1',
      },
      guard,
      onLine: (line) => log(`[${name}] ${line}`),
      onUnexpectedExit: (how) => log(`[${name}] exited (${how})`),
    })
    this.process = child
    try {
      await until(async () => (await this.health()).instance === name, {
        timeoutMs: START_TIMEOUT_MS,
        timeoutMessage: () => `${name} did not answer on port ${port} within ${START_TIMEOUT_MS} ms:\n${child.output}`,
        hopeless: () => (child.running ? undefined : `${name} exited at startup:\n${child.output}`),
      })
    } catch (error) {
      await child.stop()
      throw error
    }
  }

  /** Ends it; SIGKILL (the default) is a crash: no goodbye to anyone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.process?.stop(signal)
  }

  /** Whether it answers and is connected to Redis. */
  async healthy(): Promise<boolean> {
    const health = await this.health().catch((): Health => ({}))
    return health.instance === this.settings.name && health.redis === true
  }

  /** The last few kilobytes it printed. */
  get output(): string {
    return this.process?.output ?? ''
  }

  private async health(): Promise<Health> {
    const { status, body } = await probe(`${this.url}/healthz`)
    return status === 200 ? (JSON.parse(body) as Health) : {}
  }
}
