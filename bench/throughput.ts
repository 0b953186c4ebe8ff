/**
 * Interleaved load rounds: every round runs every variant once, in a rotating order, so that a
 * change in background load hits all variants alike and per-round ratios stay fair.
 *
 * App CPU is read from each app's own process at the start of each of its rounds: a round is
 * charged everything its process did until its next round (or until the end plus a settling
 * pause), so work a round leaves behind (command timeouts firing seconds later, garbage) is
 * charged to the variant that caused it, not to whichever runs next.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { CpuTime } from './app-process'
import type { LoadGenerator, LoadResult } from './load'
import { firstLine } from './outcome'
import { serverCpuSeconds } from './redis-info'
import type { RunningVariant } from './running-variant'

export interface ThroughputPlan {
  rounds: number
  roundSeconds: number
  warmupSeconds: number
  connections: number
  /** Seconds to wait after the last round before the last CPU reading: node-redis's 5 s command timers fire by then. */
  settleSeconds: number
}

export interface Round {
  reqPerSec: number
  requests: number
  p50Ms: number
  p99Ms: number
  /** Requests that failed, answered non-2xx, or answered anything but their user's name. */
  failed: number
  /** The app process's CPU time from this round's start to its next round's, in µs. */
  appCpu: CpuTime
  /** redis-server's CPU time per request during the round, in µs (0 without Redis). */
  redisCpuUs: number
}

export interface Measured {
  variant: RunningVariant
  rounds: Round[]
  /** Why the variant stopped (its app or its load failed): it is then reported as failed, with no figures. */
  error?: string
}

export async function measureThroughput(
  variants: readonly RunningVariant[],
  load: LoadGenerator,
  plan: ThroughputPlan,
  log: (line: string) => void,
): Promise<Measured[]> {
  const measured = variants.map((variant): Measured => ({ variant, rounds: [] }))
  const lastCpu = new Map<Measured, CpuTime>()
  // A variant that fails is reported with its message, and the others go on.
  const guarded = async (entry: Measured, step: () => Promise<void>) => {
    if (entry.error !== undefined) return
    try {
      await step()
    } catch (error) {
      entry.error = firstLine(error)
      log(`${entry.variant.app.spec.key} failed: ${entry.error}`)
    }
  }
  // JIT, connection pools and near-caches warm before anything counts.
  for (const entry of measured)
    await guarded(entry, async () => void (await runLoad(entry.variant, load, plan.warmupSeconds, plan.connections)))
  await sleep(plan.settleSeconds * 1000)
  for (let round = 0; round < plan.rounds; round++) {
    for (const entry of order(measured, round)) {
      await guarded(entry, async () => {
        const { app, redis } = entry.variant
        const cpu = await app.cpu()
        chargeCpu(entry, lastCpu.get(entry), cpu)
        lastCpu.set(entry, cpu)
        const redisBefore = redis ? await serverCpuSeconds(redis) : 0
        const result = await runLoad(entry.variant, load, plan.roundSeconds, plan.connections)
        const redisSeconds = redis ? (await serverCpuSeconds(redis)) - redisBefore : 0
        const requests = Math.max(1, result.requests)
        const failed = result.errors + result.non2xx + result.mismatches
        entry.rounds.push({
          reqPerSec: result.requests / result.seconds,
          requests: result.requests,
          p50Ms: result.p50Ms,
          p99Ms: result.p99Ms,
          failed,
          appCpu: { userUs: NaN, systemUs: NaN },
          redisCpuUs: (redisSeconds * 1e6) / requests,
        })
        log(
          `round ${round + 1}/${plan.rounds} ${app.spec.key}: ${Math.round(result.requests / result.seconds)} req/s${failed ? `, ${failed} FAILED` : ''}`,
        )
      })
    }
  }
  await sleep(plan.settleSeconds * 1000)
  for (const entry of measured) await guarded(entry, async () => chargeCpu(entry, lastCpu.get(entry), await entry.variant.app.cpu()))
  return measured
}

/** Charges the CPU time since `before` to the variant's latest round. */
function chargeCpu(entry: Measured, before: CpuTime | undefined, now: CpuTime): void {
  const round = entry.rounds.at(-1)
  if (before === undefined || round === undefined) return
  round.appCpu = { userUs: now.userUs - before.userUs, systemUs: now.systemUs - before.systemUs }
}

export function runLoad(variant: RunningVariant, load: LoadGenerator, seconds: number, connections: number): Promise<LoadResult> {
  return load.run({ url: variant.app.url, sessions: variant.sessions, connections, seconds })
}

/** Rotated by two each round and reversed every other round: each variant sees many neighbours and positions. */
function order<T>(items: readonly T[], round: number): T[] {
  const shift = (round * 2) % items.length
  const rotated = [...items.slice(shift), ...items.slice(0, shift)]
  return round % 2 === 0 ? rotated : rotated.reverse()
}

/** The app's CPU time per request over all rounds (user + system, and the system part), in µs. */
export function appCpuPerRequest(entry: Measured): { totalUs: number; systemUs: number } {
  const requests = entry.rounds.reduce((sum, round) => sum + round.requests, 0)
  const user = entry.rounds.reduce((sum, round) => sum + round.appCpu.userUs, 0)
  const system = entry.rounds.reduce((sum, round) => sum + round.appCpu.systemUs, 0)
  return { totalUs: (user + system) / Math.max(1, requests), systemUs: system / Math.max(1, requests) }
}
