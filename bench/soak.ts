/**
 * Redis commands per request over a soak: one variant at a time under the same load for a minute,
 * long enough for what recurs (a `touchAfterMs` write per session per minute) to show at its true
 * rate. Counted by the variant's own redis-server (INFO commandstats), so the commands a script
 * runs count, and the EVALSHA round trips that ran them are reported apart.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { LoadGenerator } from './load'
import { callsBetween, commandCalls, countCommands, type CommandCount } from './redis-info'
import type { RunningVariant } from './running-variant'
import { runLoad } from './throughput'

export interface SoakPlan {
  seconds: number
  connections: number
}

export interface Soak {
  variant: RunningVariant
  requests: number
  seconds: number
  failed: number
  count: CommandCount
  /** The app process's CPU time per request over the soak, in µs. */
  appCpuUs: number
}

// Writes a response triggered (express-session's touch runs as the response ends) land within this.
const SETTLE_MS = 1_000

export async function soak(variant: RunningVariant, load: LoadGenerator, plan: SoakPlan): Promise<Soak> {
  const { redis, app } = variant
  if (redis === undefined) throw new Error(`${app.spec.key} has no Redis to count commands on`)
  const callsBefore = await commandCalls(redis)
  const cpuBefore = await app.cpu()
  const result = await runLoad(variant, load, plan.seconds, plan.connections)
  await sleep(SETTLE_MS)
  const cpuAfter = await app.cpu()
  const count = countCommands(callsBetween([callsBefore], [await commandCalls(redis)]))
  const requests = Math.max(1, result.requests)
  return {
    variant,
    requests: result.requests,
    seconds: result.seconds,
    failed: result.errors + result.non2xx + result.mismatches,
    count,
    appCpuUs: (cpuAfter.userUs - cpuBefore.userUs + cpuAfter.systemUs - cpuBefore.systemUs) / requests,
  }
}
