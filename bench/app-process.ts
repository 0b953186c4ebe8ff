/**
 * A variant's app in a Node process of its own (bench/app-worker.ts): its CPU time is its own, read
 * over IPC, and nothing it leaves running (timers, tracking connections, GC) lands on another.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { VariantSpec } from './sessions'

/** What the worker says to us. */
export type WorkerMessage =
  { type: 'ready'; port: number } | { type: 'failed'; error: string } | { type: 'cpu'; id: number; userUs: number; systemUs: number }

/** What we say to the worker. */
export type ParentMessage = { type: 'cpu'; id: number } | { type: 'close' }

export interface CpuTime {
  userUs: number
  systemUs: number
}

// ts-node compiles the library on start: generous, on 2 busy cores.
const START_LIMIT_MS = 60_000
const REPLY_LIMIT_MS = 10_000
const CLOSE_LIMIT_MS = 5_000

export class AppProcess {
  private nextId = 0
  private readonly pending = new Map<number, (cpu: CpuTime) => void>()
  private readonly exited: Promise<void>

  private constructor(
    readonly spec: VariantSpec,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'cpu') this.pending.get(message.id)?.({ userUs: message.userUs, systemUs: message.systemUs })
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /** Forks the worker and resolves once its app listens; rejects with the worker's own error when it cannot build the app. */
  static start(spec: VariantSpec, redisUrl: string | undefined): Promise<AppProcess> {
    const child = fork(join(__dirname, 'app-worker.ts'), [spec.key, ...(redisUrl === undefined ? [] : [redisUrl])], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    return new Promise((resolve, reject) => {
      const fail = (error: string) => {
        clearTimeout(timer)
        child.off('message', onMessage)
        child.kill('SIGKILL')
        reject(new Error(error))
      }
      const onExit = (code: number | null) => fail(`${spec.key}: the app process exited with code ${code} before it listened`)
      const onMessage = (message: WorkerMessage) => {
        if (message.type === 'failed') return fail(message.error)
        if (message.type !== 'ready') return
        clearTimeout(timer)
        child.off('exit', onExit)
        child.off('message', onMessage)
        resolve(new AppProcess(spec, `http://127.0.0.1:${message.port}`, child))
      }
      const timer = setTimeout(() => fail(`${spec.key}: the app process did not start within ${START_LIMIT_MS / 1000} s`), START_LIMIT_MS)
      child.once('exit', onExit)
      child.on('message', onMessage)
    })
  }

  /** The process's CPU time so far (process.cpuUsage(), every thread of it). */
  cpu(): Promise<CpuTime> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.spec.key}: the app process did not report its CPU time`))
      }, REPLY_LIMIT_MS)
      this.pending.set(id, (cpu) => {
        clearTimeout(timer)
        this.pending.delete(id)
        resolve(cpu)
      })
      this.send({ type: 'cpu', id })
    })
  }

  /** Asks the worker to close its app and exit; kills it if it has not within a few seconds. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.send({ type: 'close' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_LIMIT_MS)
    await this.exited
    clearTimeout(timer)
  }

  private send(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message)
  }
}
