/** The sessions bench's section of bench/RESULTS.md, and its chart (pure: figures in, text out). */
import { ratioChart, type ChartRow } from './chart'
import { commandList, fmtCommands, fmtInt, fmtMs, fmtRatio, span } from './format'
import type { HotKeysPlan, HotKeys } from './hot-keys'
import type { LoginRoundTrips } from './login-round-trips'
import type { Machine } from './machine'
import type { MemoryLayer, MemoryPlan } from './memory'
import type { Outcome } from './outcome'
import { hotKeysLines, memoryTable, scaleLines } from './report-stores'
import { hotPathLines, targetLines } from './report-targets'
import type { ScalePlan, ScaleResult } from './scale'
import type { VariantSpec } from './sessions'
import { NEAR_CACHE, TOUCH_AFTER_S } from './bench-data'
import type { Soak, SoakPlan } from './soak'
import { median, range } from './stats'
import { cpuRatio, paired, pairedP99, roundsOf, type VariantResult } from './paired'
import { appCpuPerRequest, type Measured, type ThroughputPlan } from './throughput'

export const SECTION_START = '<!-- bench:sessions:start -->'
export const SECTION_END = '<!-- bench:sessions:end -->'

export interface SoakResult {
  spec: VariantSpec
  result: Outcome<Soak>
}

export interface ReportPlans {
  throughput: ThroughputPlan
  soak: SoakPlan
  memory: MemoryPlan
  scale: ScalePlan
  hotKeys: HotKeysPlan
  /** Logged-in clients each variant's load rotates over. */
  sessionsInRotation: number
}

export interface ReportInput {
  command: string
  info: Machine
  versions: Record<string, string>
  plans: ReportPlans
  /** In the order the variants are declared. */
  variants: readonly VariantResult[]
  soaks: readonly SoakResult[]
  memory: Outcome<MemoryLayer[]>
  scale: Outcome<ScaleResult>
  loginRoundTrips: Outcome<LoginRoundTrips>
  hotKeys: Outcome<HotKeys>
  /** Bytes of JSON in one bench session. */
  sessionBytes: number
  totalSeconds: number
  load: { start: number; end: number; othersShare: number | undefined }
}

// Above this share of the CPUs taken by other processes, throughput is flagged as noisy.
const BUSY_SHARE = 0.2

export function report(input: ReportInput): { section: string; chart: string } {
  const { info, load, plans } = input
  const { throughput } = plans
  const busy = load.othersShare !== undefined && load.othersShare > BUSY_SHARE
  const others =
    load.othersShare === undefined
      ? ''
      : `; other processes used ${Math.max(0, load.othersShare * 100).toFixed(0)}% of the CPUs during the load`
  const versions = Object.entries(input.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')
  const section = [
    SECTION_START,
    '## Sessions: express-session stores and the token middleware, against bare Express and connect-redis',
    '',
    `Command: \`${input.command}\`  `,
    `Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}  `,
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB.toFixed(1)} GiB, ${info.os}; Node ${info.node}; ` +
      `redis-server ${info.redis} (private, on 127.0.0.1, sharing the same CPUs as the apps and the load)  `,
    `Versions: ${versions}  `,
    `Run: ${input.totalSeconds.toFixed(0)} s; load average ${load.start.toFixed(1)} at start, ${load.end.toFixed(1)} at end${others}`,
    ...(busy
      ? [
          '',
          `**Busy machine**: other processes took over ${BUSY_SHARE * 100}% of the CPUs, so absolute req/s swing from round to round; the paired ratios and the CPU columns are the numbers to trust.`,
        ]
      : []),
    '',
    '### Throughput',
    '',
    `Every variant's app runs in a Node process of its own, each with a redis-server of its own (the Redis variants), on 127.0.0.1; ` +
      `autocannon runs in another process with ${throughput.connections} connections. Each app first logs ${plans.sessionsInRotation} users in ` +
      `(sessions of about ${input.sessionBytes} bytes of JSON: cookie, user, a counter, a CSRF secret; the token middleware stores the same user and a device's metadata); ` +
      `each request then takes the next of those cookies, round robin, against \`GET /me\`, which reads the session and answers the user's name (every answer is checked against the cookie's user). ` +
      `${throughput.rounds} round${throughput.rounds === 1 ? '' : 's'} of ${throughput.roundSeconds} s per variant, interleaved in a rotating order, after a ${throughput.warmupSeconds} s warm-up each. ` +
      `"vs" columns are medians of per-round ratios (paired: both ran in the same round), with their min–max. ` +
      `App CPU is the app process's own CPU time (user + system; in brackets, the system part) from the start of each of its rounds to the start of its next ` +
      `(the last: ${throughput.settleSeconds} s after the rounds end), so work a round leaves behind is charged to its variant; "by CPU" is the baseline's CPU per request over ours. ` +
      `express-session runs with \`resave: false, saveUninitialized: false\` and a 30-minute cookie; the near-cache is \`nearCache: ${JSON.stringify(NEAR_CACHE).replace(/"/g, '')}\`.`,
    '',
    ...throughputTable(input.variants),
    '',
    '![Throughput as a share of bare Express](ratios.svg)',
    '',
    '### Redis commands per request, over a soak',
    '',
    `Each Redis variant alone under the same load for ${plans.soak.seconds} s (a \`touchAfterMs: ${TOUCH_AFTER_S * 1000}\` store writes each session's expiry about once in that time), ` +
      `counted by its own redis-server (INFO commandstats, before and 1 s after): every command Redis ran, a script's own commands included, divided by the requests answered. ` +
      `EVALSHA (and EVAL) calls are not in that count; they are the round trips that are scripts, in their own column.`,
    '',
    ...soakTable(input.soaks),
    '',
    '### Redis memory per session',
    '',
    ...memoryTable(input.memory, plans.memory, input.sessionBytes),
    '',
    '### Stores at scale',
    '',
    ...scaleLines(input.scale, input.loginRoundTrips, plans.scale),
    '',
    '### Redis Cluster: hot keys',
    '',
    ...hotKeysLines(input.hotKeys, plans.hotKeys),
    '',
    '### Targets (issue 9)',
    '',
    ...targetLines(input),
    '',
    '### Targets (issue 16)',
    '',
    ...hotPathLines(input.variants),
    SECTION_END,
  ].join('\n')
  return { section, chart: chartOf(input) }
}

export function throughputTable(variants: readonly VariantResult[]): string[] {
  const bare = roundsOf(variants, 'bare')
  const connectRedis = roundsOf(variants, 'connect-redis')
  const versus = (entry: Measured, base: Measured | undefined) =>
    base === undefined ? '–' : entry === base ? 'baseline' : span(paired(entry, base), fmtRatio)
  const byCpu = (entry: Measured, base: Measured | undefined) =>
    base === undefined ? '–' : entry === base ? 'baseline' : fmtRatio(cpuRatio(entry, base))
  return [
    '| variant | req/s, median (min–max) | vs bare Express | vs connect-redis | p99 ms | app CPU µs / req (kernel) | by CPU vs bare | by CPU vs connect-redis | Redis CPU µs / req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...variants.map(({ spec, result }) => {
      if (!result.ok) return `| ${spec.name} | failed: ${result.error} | | | | | | | |`
      const entry = result.value
      if (entry.error !== undefined) return `| ${spec.name} | failed: ${entry.error} | | | | | | | |`
      const { rounds } = entry
      const failed = rounds.reduce((sum, round) => sum + round.failed, 0)
      const cpu = appCpuPerRequest(entry)
      return (
        `| ${spec.name}${failed ? ` (**${fmtInt(failed)} failed requests**)` : ''} | ${span(
          rounds.map((r) => r.reqPerSec),
          fmtInt,
        )} | ` +
        `${versus(entry, bare)} | ${versus(entry, connectRedis)} | ${fmtMs(median(rounds.map((r) => r.p99Ms)))} | ` +
        `${cpu.totalUs.toFixed(0)} (${cpu.systemUs.toFixed(0)}) | ${byCpu(entry, bare)} | ${byCpu(entry, connectRedis)} | ` +
        `${spec.redis ? median(rounds.map((r) => r.redisCpuUs)).toFixed(1) : '–'} |`
      )
    }),
  ]
}

/** Each variant's p99 latency against bare Express's: medians of per-round ratios. */
export function p99Lines(variants: readonly VariantResult[]): string[] {
  const bare = roundsOf(variants, 'bare')
  if (bare === undefined) return []
  return variants.flatMap(({ spec }) => {
    const entry = roundsOf(variants, spec.key)
    if (entry === undefined || entry === bare) return []
    return [`- ${spec.name}: p99 ${span(pairedP99(entry, bare), fmtRatio)} of bare Express's`]
  })
}

function soakTable(soaks: readonly SoakResult[]): string[] {
  return [
    '| variant | requests (req/s) | Redis commands / req | of which, per req | round trips that are scripts (EVALSHA) / req | app CPU µs / req |',
    '|---|---:|---:|---|---:|---:|',
    ...soaks.map(({ spec, result }) => {
      if (!result.ok) return `| ${spec.name} | failed: ${result.error} | | | | |`
      const { requests, seconds, failed, count, appCpuUs } = result.value
      const per = Math.max(1, requests)
      return (
        `| ${spec.name}${failed ? ` (**${fmtInt(failed)} failed requests**)` : ''} | ${fmtInt(requests)} (${fmtInt(requests / seconds)}) | ` +
        `${fmtCommands(count.commands / per)} | ${commandList(count.byName, per) || '–'} | ${fmtCommands(count.scripts / per)} | ${appCpuUs.toFixed(0)} |`
      )
    }),
  ]
}

function chartOf(input: ReportInput): string {
  const { throughput } = input.plans
  const bare = roundsOf(input.variants, 'bare')
  const rows = input.variants
    .filter(({ spec }) => spec.key !== 'bare')
    .map(({ spec }): ChartRow => {
      const entry = roundsOf(input.variants, spec.key)
      if (entry === undefined) return { label: spec.label, note: 'failed', color: '#999' }
      if (bare === undefined) return { label: spec.label, note: 'no baseline: bare Express failed', color: '#999' }
      const ratios = paired(entry, bare)
      const [low, high] = range(ratios)
      return { label: spec.label, ratio: { median: median(ratios), low, high }, color: colorOf(spec) }
    })
  return ratioChart(
    'Throughput as a share of bare Express: express-session stores, token middleware',
    `each app in its own process; median of ${throughput.rounds} interleaved rounds, whiskers min–max; ${throughput.connections} connections; ` +
      `${input.info.cores} cores; ${new Date().toISOString().slice(0, 10)}`,
    rows,
    [{ at: 1, label: 'bare Express' }],
  )
}

function colorOf(spec: VariantSpec): string {
  if (spec.key.startsWith('token')) return '#3d9a5b'
  if (spec.key.startsWith('store')) return '#3b73b9'
  return '#9aa3ad'
}
