/**
 * Runs HTTP load from a child process (bench/load-worker.ts, autocannon): the app under test keeps
 * this process's event loop to itself, and the load's own CPU shows up in another process.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { LoggedIn } from './logins'

export interface LoadJob {
  /** The app's base URL; the load asks `GET /me`. */
  url: string
  /**
   * The logged-in clients: each request takes the next one's cookie, so the load spreads over all
   * of them, and its answer must be that client's user: proof that each request was authenticated.
   */
  sessions: readonly LoggedIn[]
  connections: number
  seconds: number
}

export interface LoadResult {
  requests: number
  /** Seconds the load actually ran. */
  seconds: number
  p50Ms: number
  p99Ms: number
  /** Connection errors and timeouts. */
  errors: number
  non2xx: number
  /** 2xx answers that were not the user's name: a session lost or mixed up. */
  mismatches: number
}

export type LoadReply = { id: number; result: LoadResult } | { id: number; error: string }

// A job that overruns its duration by this much is stuck, not slow.
const JOB_SLACK_MS = 30_000

export class LoadGenerator {
  private readonly worker: ChildProcess
  private nextId = 0
  private readonly pending = new Map<number, (reply: LoadReply) => void>()

  constructor() {
    this.worker = fork(join(__dirname, 'load-worker.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.worker.on('message', (reply: LoadReply) => this.pending.get(reply.id)?.(reply))
    this.worker.on('exit', (code) => {
      for (const settle of this.pending.values()) settle({ id: -1, error: `load worker exited with code ${code}` })
    })
  }

  get pid(): number | undefined {
    return this.worker.pid
  }

  run(job: LoadJob): Promise<LoadResult> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => settle({ id, error: `load on ${job.url} did not finish within ${job.seconds} s + ${JOB_SLACK_MS / 1000} s` }),
        job.seconds * 1000 + JOB_SLACK_MS,
      )
      const settle = (reply: LoadReply) => {
        clearTimeout(timer)
        this.pending.delete(id)
        if ('error' in reply) reject(new Error(reply.error))
        else resolve(reply.result)
      }
      this.pending.set(id, settle)
      this.worker.send({ id, job })
    })
  }

  close(): void {
    if (this.worker.connected) this.worker.disconnect()
  }
}
