/**
 * BENCH_CPU_PROF=<dir>: a V8 CPU profile of an app process's load rounds alone, from its first
 * CPU reading (the start of the first round, after the warm-up) to its close, with the requests
 * it answered meanwhile in the file's name (`<variant>.<requests>req.cpuprofile`), so that
 * bench/profile-summary.ts gives exact µs per request, with no start-up or warm-up in it.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

export class RoundsProfile {
  private session: Session | undefined
  private requests = 0
  private readonly count = (): void => void (this.requests += 1)

  constructor(
    private readonly dir: string,
    private readonly key: string,
    private readonly server: Server,
  ) {}

  /** From the environment; undefined when no profile is asked for. */
  static fromEnv(key: string, server: Server): RoundsProfile | undefined {
    const dir = process.env['BENCH_CPU_PROF']
    return dir === undefined || dir === '' ? undefined : new RoundsProfile(dir, key, server)
  }

  /** Starts profiling, once. */
  async start(): Promise<void> {
    if (this.session !== undefined) return
    this.session = new Session()
    this.session.connect()
    await this.session.post('Profiler.enable')
    await this.session.post('Profiler.start')
    this.server.on('request', this.count)
  }

  /** Stops profiling and writes the profile, if it was started. */
  async write(): Promise<void> {
    if (this.session === undefined) return
    this.server.off('request', this.count)
    const { profile } = await this.session.post('Profiler.stop')
    this.session.disconnect()
    mkdirSync(this.dir, { recursive: true })
    writeFileSync(join(this.dir, `${this.key}.${this.requests}req.cpuprofile`), JSON.stringify(profile))
  }
}
