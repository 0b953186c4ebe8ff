/**
 * Interleaved load rounds: every round runs every variant once, in a rotating order, so that a
 * change in background load hits all variants alike and per-round ratios stay fair.
 */
import type { RedisClientType } from 'redis'
import type { LoadGenerator } from './load'
import { callsBetween, commandCalls, serverCpuSeconds } from './redis-info'
import type { RedisKind, RunningVariant } from './sessions'
import { USER } from './sessions'

type Client = RedisClientType

export interface ThroughputPlan {
  rounds: number
  roundSeconds: number
  warmupSeconds: number
  connections: number
}

export interface Round {
  reqPerSec: number
  requests: number
  p50Ms: number
  p99Ms: number
  /** Requests that failed, answered non-2xx, or answered anything but the user's name. */
  failed: number
  /** Redis commands per request, as redis-server counts them (a script's own commands included). */
  commandsPerRequest: number
  /** Redis commands in the round. */
  commandCount: number
  /** The same, per command name. */
  commands: Map<string, number>
  /** This process's (the app's) CPU time per request, in µs. */
  appCpuUs: number
  /** The part of it spent in the kernel (system time): sockets, mostly. */
  appSysUs: number
  /** redis-server's CPU time per request (all masters of a cluster), in µs. */
  redisCpuUs: number
}

export interface Measured {
  variant: RunningVariant
  rounds: Round[]
}

/** One stats connection per server the variants use; `none` reads the standalone one (it must stay at 0). */
export type StatsClients = Record<RedisKind, Client[]>

export async function measureThroughput(
  variants: readonly RunningVariant[],
  load: LoadGenerator,
  stats: StatsClients,
  plan: ThroughputPlan,
  log: (line: string) => void,
): Promise<Measured[]> {
  const measured = variants.map((variant): Measured => ({ variant, rounds: [] }))
  // JIT, connection pools and near-caches warm before anything counts.
  for (const { variant } of measured) await runOnce(variant, load, stats, plan.warmupSeconds, plan.connections)
  for (let round = 0; round < plan.rounds; round++) {
    for (const entry of order(measured, round)) {
      const result = await runOnce(entry.variant, load, stats, plan.roundSeconds, plan.connections)
      entry.rounds.push(result)
      const top = [...result.commands].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([name, count]) => `${name} ${count.toFixed(3)}`)
      log(`round ${round + 1}/${plan.rounds} ${entry.variant.spec.key}: ${Math.round(result.reqPerSec)} req/s, ` +
        `${result.commandsPerRequest.toFixed(3)} Redis commands/req${top.length ? ` (${top.join(', ')})` : ''}${result.failed ? `, ${result.failed} FAILED` : ''}`)
    }
  }
  return measured
}

/** Rotated by two each round and reversed every other round: each variant sees many neighbours and positions. */
function order<T>(items: readonly T[], round: number): T[] {
  const shift = (round * 2) % items.length
  const rotated = [...items.slice(shift), ...items.slice(0, shift)]
  return round % 2 === 0 ? rotated : rotated.reverse()
}

async function runOnce(variant: RunningVariant, load: LoadGenerator, stats: StatsClients, seconds: number, connections: number): Promise<Round> {
  const servers = stats[variant.spec.redis]
  const callsBefore = await Promise.all(servers.map(commandCalls))
  const redisCpuBefore = await totalCpu(servers)
  const cpuBefore = process.cpuUsage()
  const result = await load.run({ url: `${variant.url}/me`, cookie: variant.cookie, connections, seconds, expectBody: USER.name })
  const cpu = process.cpuUsage(cpuBefore)
  const redisCpu = (await totalCpu(servers)) - redisCpuBefore
  const commands = callsBetween(callsBefore, await Promise.all(servers.map(commandCalls)))
  const requests = Math.max(1, result.requests)
  const commandCount = [...commands.values()].reduce((sum, count) => sum + count, 0)
  const perRequest = new Map([...commands].map(([name, count]) => [name, count / requests]))
  return {
    reqPerSec: result.requests / result.seconds,
    requests: result.requests,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    failed: result.errors + result.non2xx + result.mismatches,
    commandsPerRequest: commandCount / requests,
    commandCount,
    commands: perRequest,
    appCpuUs: (cpu.user + cpu.system) / requests,
    appSysUs: cpu.system / requests,
    redisCpuUs: (redisCpu * 1e6) / requests,
  }
}

async function totalCpu(servers: readonly Client[]): Promise<number> {
  const seconds = await Promise.all(servers.map(serverCpuSeconds))
  return seconds.reduce((sum, value) => sum + value, 0)
}
