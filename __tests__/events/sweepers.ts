/**
 * Starts app processes (sweeping-instance.ts) that listen for expired sessions, and collects the
 * events they print. Each is its own process, so one can be SIGKILLed mid-sweep. When some are
 * to be killed, the others start held and begin listening only once those have died: a process
 * racing others for claims might never win one, and then it could not be killed in a sweep.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

export interface PrintedEvent {
  sessionId: string
  /** The user the event names (null when it names none). */
  userId: string | number | null
  reason: string
  /** When the session ended (its expiry, by Redis's clock), ms since the epoch. */
  at: number
  /** When the instance emitted it, by this machine's clock (the same clock as Redis's here). */
  seenAt: number
  instance: number
}

export interface Sweepers {
  readonly events: readonly PrintedEvent[]
  /** Per killed instance, the claimed session whose event it was about to emit when it died. */
  readonly diedHolding: ReadonlyMap<number, string>
  /** Exit codes or signals, per instance, once it has exited. */
  readonly exits: readonly (string | undefined)[]
  stop(): Promise<void>
}

export interface SweeperTarget {
  deployment: 'standalone' | 'cluster' | 'sentinel'
  target: string
  /** Which session layer listens: the store (with `userOf`: 'store-users'), or `sessions()` signing with `secret`. */
  layer: 'store' | 'store-users' | 'sessions'
  secret: string
  /** The store's prefix, or the namespace of the middleware's cache. */
  prefix: string
  sweepMs: number
}

const ROOT = join(__dirname, '..', '..')
const START_TIMEOUT_MS = 60_000

/**
 * Starts one process per entry of `killAt` (0: never killed), resolving once all are ready: the
 * ones to be killed listening, the others listening too or, if any is to be killed, held until
 * every one of those has exited.
 */
export async function startSweepers(target: SweeperTarget, killAt: readonly number[]): Promise<Sweepers> {
  const events: PrintedEvent[] = []
  const diedHolding = new Map<number, string>()
  const exits: (string | undefined)[] = killAt.map(() => undefined)
  const children: ChildProcess[] = []
  const holding = killAt.some((at) => at > 0)
  const held: ChildProcess[] = []
  let killersLeft = killAt.filter((at) => at > 0).length
  const release = (): void => {
    for (const child of held) child.stdin?.end('go\n')
  }
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
            child.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
            child.kill('SIGTERM')
          }),
      ),
    )
  }
  try {
    await Promise.all(
      killAt.map(
        (kill, instance) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'sweeping-instance.ts')], {
              cwd: ROOT,
              env: {
                ...process.env,
                DEPLOYMENT: target.deployment,
                TARGET: target.target,
                LAYER: target.layer,
                SECRET: target.secret,
                PREFIX: target.prefix,
                SWEEP_MS: String(target.sweepMs),
                KILL_AT: String(kill),
                HOLD: holding && kill === 0 ? '1' : '0',
              },
              stdio: ['pipe', 'pipe', 'pipe'],
            })
            children.push(child)
            if (holding && kill === 0) held.push(child)
            if (kill > 0)
              child.once('exit', () => {
                if (--killersLeft === 0) release()
              })
            const timer = setTimeout(
              () => reject(new Error(`instance ${instance} did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)),
              START_TIMEOUT_MS,
            )
            let stderr = ''
            child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
            child.once('exit', (code, signal) => {
              exits[instance] = signal ?? String(code)
              clearTimeout(timer)
              reject(new Error(`instance ${instance} exited (${signal ?? code}) before it was ready: ${stderr}`))
            })
            let pending = ''
            child.stdout?.on('data', (chunk: Buffer) => {
              pending += chunk.toString()
              const lines = pending.split('\n')
              pending = lines.pop() ?? ''
              for (const line of lines) {
                if (line === 'ready') {
                  clearTimeout(timer)
                  resolve()
                } else if (line.startsWith('{')) {
                  const printed = JSON.parse(line) as Omit<PrintedEvent, 'instance'> | { diesHolding: string }
                  if ('diesHolding' in printed) diedHolding.set(instance, printed.diesHolding)
                  else events.push({ ...printed, instance })
                }
              }
            })
          }),
      ),
    )
  } catch (error) {
    await stop()
    throw error
  }
  return { events, diedHolding, exits, stop }
}
