/**
 * A child process of the demo (an app instance, nginx): its output kept (the tail, for error
 * messages) or passed on line by line, its exit awaited, a stop that cannot hang.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { OrphanGuard } from './orphan-guard'

const OUTPUT_TAIL_CHARS = 4_000
const STOP_GRACE_MS = 5_000

export interface LaunchOptions {
  env?: NodeJS.ProcessEnv
  /** Each line the process prints, as it comes. */
  onLine?: (line: string) => void
  /** Called once when it exits, unless `stop()` ended it. */
  onUnexpectedExit?: (description: string) => void
  guard: OrphanGuard
}

export class ManagedProcess {
  readonly pid: number
  /** Resolves with how the process ended, e.g. 'code 1' or 'signal SIGKILL'. */
  readonly exited: Promise<string>
  private readonly child: ChildProcess
  private tail = ''
  private exit: string | undefined
  private stopping = false

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    { env, onLine, onUnexpectedExit, guard }: LaunchOptions,
  ) {
    // stdin is a pipe that only this process holds: a child may watch it to notice the parent is gone.
    this.child = spawn(command, args, { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.exit ??= `error ${error.message}`
        resolve(this.exit)
      })
      this.child.once('exit', (code, signal) => {
        this.exit = signal ? `signal ${signal}` : `code ${code}`
        guard.untrack(this.pid)
        if (!this.stopping) onUnexpectedExit?.(this.exit)
        resolve(this.exit)
      })
    })
    this.pid = this.child.pid ?? -1
    guard.track(this.child.pid)
    this.child.stdin?.on('error', () => undefined)
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue
      createInterface({ input: stream }).on('line', (line) => {
        this.tail = (this.tail + line + '\n').slice(-OUTPUT_TAIL_CHARS)
        onLine?.(line)
      })
    }
  }

  get running(): boolean {
    return this.exit === undefined
  }

  /** The last few kilobytes it printed. */
  get output(): string {
    return this.tail
  }

  /** Ends it: `signal`, then SIGKILL after a grace period. Resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopping = true
    if (!this.running) return
    this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }
}
