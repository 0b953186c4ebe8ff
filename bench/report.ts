/** The sessions bench's section of bench/RESULTS.md, and its chart (pure: figures in, text out). */
import { ratioChart, type ChartRow } from './chart'
import type { Machine } from './machine'
import type { ScalePlan, ScaleResult } from './scale'
import { median, percentile, range } from './stats'
import type { VariantSpec } from './sessions'
import { NEAR_CACHE, TOUCH_AFTER_S, VARIANTS } from './sessions'
import type { Measured, Round, ThroughputPlan } from './throughput'

export const SECTION_START = '<!-- bench:sessions:start -->'
export const SECTION_END = '<!-- bench:sessions:end -->'

export interface Skipped {
  spec: VariantSpec
  reason: string
}

export interface ReportInput {
  command: string
  info: Machine
  versions: Record<string, string>
  throughput: ThroughputPlan
  scalePlan: ScalePlan
  measured: readonly Measured[]
  skipped: readonly Skipped[]
  scale: ScaleResult
  totalSeconds: number
  load: { start: number; end: number; othersShare: number | undefined }
}

const TARGETS = {
  tokenNearVsBare: 0.9,
  storeNearVsMemory: 1.0,
  storeNearVsConnectRedis: 1.15,
  nearCommandsPerRequest: 0.01,
  listingMs: 1,
  countSpeedup: 10,
  memoryVsConnectRedis: 1.5,
}
// Above this share of the CPUs taken by other processes, throughput is flagged as noisy.
const BUSY_SHARE = 0.2

const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–')
const fmtMs = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 3 : 1) : '–')
const fmtCommands = (n: number) => (n === 0 ? '0' : n < 0.001 ? n.toExponential(1) : n.toFixed(n < 0.1 ? 4 : 2))
const span = (values: number[], format: (n: number) => string) => {
  const [low, high] = range(values)
  return `${format(median(values))} (${format(low)}–${format(high)})`
}
const met = (ok: boolean) => (ok ? '**met**' : '**NOT met**')

export function report(input: ReportInput): { section: string; chart: string } {
  const { measured, skipped, throughput, info, load } = input
  const byKey = new Map(measured.map((entry) => [entry.variant.spec.key, entry]))
  const bare = byKey.get('bare')
  const rows = rowsInOrder(measured, skipped)

  const table = [
    '| variant | req/s, median (min–max) | vs bare Express, median (min–max) | p99 ms | Redis commands / req | of which | app CPU µs / req (in the kernel) | Redis CPU µs / req |',
    '|---|---:|---:|---:|---:|---|---:|---:|',
    ...rows.map((row) => {
      if ('reason' in row) return `| ${row.spec.name} | not available: ${row.reason} | | | | | | |`
      const { rounds } = row
      const failed = rounds.reduce((sum, round) => sum + round.failed, 0)
      const vs = bare && row !== bare ? span(paired(row, bare), fmtRatio) : 'baseline'
      return `| ${row.variant.spec.name}${failed ? ` (**${failed} failed requests**)` : ''} | ${span(rounds.map((r) => r.reqPerSec), fmtInt)} | ${vs} | ` +
        `${fmtMs(median(rounds.map((r) => r.p99Ms)))} | ${fmtCommands(median(rounds.map((r) => r.commandsPerRequest)))} | ${breakdown(rounds)} | ` +
        `${median(rounds.map((r) => r.appCpuUs)).toFixed(0)} (${median(rounds.map((r) => r.appSysUs)).toFixed(0)}) | ${median(rounds.map((r) => r.redisCpuUs)).toFixed(1)} |`
    }),
  ]

  const { scale } = input
  const { memory, counting, listing } = scale
  const lengthRatio = median(counting.connectRedis.lengthMs) / median(counting.store.lengthMs)
  const idsRatio = median(counting.connectRedis.idsMs) / median(counting.store.idsMs)
  const memoryRatio = memory.storeBytes / memory.connectRedisBytes
  const listingSorted = [...listing.latenciesMs].sort((a, b) => a - b)
  const listP50 = percentile(listingSorted, 50)
  const scaleTable = [
    '| measurement | connect-redis | RedisSessionStore | ratio |',
    '|---|---:|---:|---:|',
    `| Redis memory per session (${fmtInt(memory.sessions)} sessions of ${Math.round(memory.sessionBytes)} bytes of JSON; the store with \`userOf\`) | ` +
      `${fmtInt(memory.connectRedisBytes)} B | ${fmtInt(memory.storeBytes)} B | ${fmtRatio(memoryRatio)} |`,
    `| \`length()\` over ${fmtInt(counting.sessions)} sessions, median ms of ${counting.store.lengthMs.length} calls (min–max) | ` +
      `${span(counting.connectRedis.lengthMs, fmtMs)} | ${span(counting.store.lengthMs, fmtMs)} | ${fmtRatio(lengthRatio)} faster |`,
    `| \`ids()\` over ${fmtInt(counting.sessions)} sessions, median ms (min–max) | ` +
      `${span(counting.connectRedis.idsMs, fmtMs)} | ${span(counting.store.idsMs, fmtMs)} | ${fmtRatio(idsRatio)} faster |`,
    `| Redis commands of one \`length()\` | ${commandList(counting.lengthCommands.connectRedis, 1)} | ${commandList(counting.lengthCommands.store, 1)} | |`,
    `| \`listUserSessions(u)\`: 10 of ${fmtInt(listing.sessions)} sessions, one call at a time: p50 / p99 ms over ${fmtInt(listing.latenciesMs.length)} calls | ` +
      `no per-user index | ${fmtMs(listP50)} / ${fmtMs(percentile(listingSorted, 99))} | |`,
  ]

  const targets = targetLines(byKey, input, { lengthRatio, idsRatio, memoryRatio, listP50 })
  const busy = load.othersShare !== undefined && load.othersShare > BUSY_SHARE
  const others = load.othersShare === undefined ? '' : `; other processes used ${Math.max(0, load.othersShare * 100).toFixed(0)}% of the CPUs during the load`
  const versions = Object.entries(input.versions).map(([name, version]) => `${name} ${version}`).join(', ')
  const section = [
    SECTION_START,
    '## Sessions: express-session stores and the token middleware, against bare Express',
    '',
    `Command: \`${input.command}\`  `,
    `Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}  `,
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB.toFixed(1)} GiB, ${info.os}; Node ${info.node}; ` +
      `redis-server ${info.redis} (private, on 127.0.0.1, sharing the same CPUs as the app and the load)  `,
    `Versions: ${versions}  `,
    `Run: ${input.totalSeconds.toFixed(0)} s; load average ${load.start.toFixed(1)} at start, ${load.end.toFixed(1)} at end${others}`,
    ...(busy ? ['', `**Busy machine**: other processes took over ${BUSY_SHARE * 100}% of the CPUs, so absolute req/s swing from round to round; the paired ratios and the CPU columns are the numbers to trust.`] : []),
    '',
    `Throughput: every app runs in one Node process, each on its own 127.0.0.1 port; autocannon runs in a second process with ` +
      `${throughput.connections} connections, replaying the cookie of one login against \`GET /me\`, which reads the session and answers the user's name ` +
      `(every response is checked). ${throughput.rounds} rounds of ${throughput.roundSeconds} s per variant, interleaved in a rotating order, after a ` +
      `${throughput.warmupSeconds} s warm-up each. "vs bare Express" is the median of per-round ratios (paired: both ran in the same round). ` +
      `p99 is the median over rounds of each round's p99. Redis commands are counted by redis-server (INFO commandstats), so a script's own commands count too. ` +
      `express-session runs with \`resave: false, saveUninitialized: false\` and a 30-minute cookie; the \`touchAfter\` and near-cache stores also keep the per-user index (\`userOf\`); ` +
      `the near-cache is \`nearCache: ${JSON.stringify(NEAR_CACHE).replace(/"/g, '')}\`.`,
    '',
    ...table,
    '',
    '![Throughput as a share of bare Express](ratios.svg)',
    '',
    `Stores at scale: each store fills its own database on the private server through its own \`set()\` (64 in flight); ` +
      `${fmtInt(memory.sessions)} sessions took ${memory.connectRedisFillSeconds.toFixed(1)} s for connect-redis and ${memory.storeFillSeconds.toFixed(1)} s for RedisSessionStore. ` +
      `Memory is \`used_memory\` before and after a fill. ` +
      `For the listing, the store's database was then filled to ${fmtInt(listing.sessions)} sessions (${input.scalePlan.sessionsPerUser} per user) with the store's own layout written by \`cache.putMany\` ` +
      `(${listing.bulkFillSeconds.toFixed(0)} s${listing.sessions < listing.planned ? `; stopped at the time limit, short of the ${fmtInt(listing.planned)} planned` : ''}; ` +
      `${fmtInt(listing.bytesPerSession)} B of Redis memory per session at that size).`,
    '',
    ...scaleTable,
    '',
    `RedisSessionStore's ${fmtInt(memory.storeBytes)} B per session, by MEMORY USAGE: the session key ${fmtInt(memory.storeParts.sessionKey)} B, ` +
      `the user pointer key ${fmtInt(memory.storeParts.userPointer)} B, index sorted sets ${fmtInt(memory.storeParts.indexes)} B ` +
      `(${[...memory.storeParts.byIndex].sort((a, b) => b[1] - a[1]).map(([level, bytes]) => `the index of ${level} ${fmtInt(bytes)} B`).join(', ')}); ` +
      `connect-redis's key: ${fmtInt(memory.connectRedisKey)} B. The store's records are \`['sess', sid]\` and, with \`userOf\`, \`['user', id, sid]\`.`,
    '',
    'Targets (issue 6):',
    ...targets,
    SECTION_END,
  ].join('\n')

  const chart = ratioChart(
    'Throughput as a share of bare Express: express-session stores, token middleware',
    `median of ${throughput.rounds} interleaved rounds, whiskers min–max; ${throughput.connections} connections; ${info.cores} cores; ${new Date().toISOString().slice(0, 10)}`,
    rows.filter((row) => 'reason' in row || row !== bare).map((row): ChartRow => {
      if ('reason' in row) return { label: row.spec.label, note: 'not available', color: '#999' }
      const ratios = bare ? paired(row, bare) : []
      const [low, high] = range(ratios)
      return { label: row.variant.spec.label, ratio: { median: median(ratios), low, high }, color: colorOf(row.variant.spec) }
    }),
    [{ at: 1, label: 'bare Express' }, { at: TARGETS.tokenNearVsBare, label: `${TARGETS.tokenNearVsBare}x target` }],
  )
  return { section, chart }
}

type Row = Measured | Skipped

/** Measured and skipped variants, in the order they are declared. */
function rowsInOrder(measured: readonly Measured[], skipped: readonly Skipped[]): Row[] {
  const declared = (row: Row) => VARIANTS.indexOf('reason' in row ? row.spec : row.variant.spec)
  return [...measured, ...skipped].sort((a, b) => declared(a) - declared(b))
}

function colorOf(spec: VariantSpec): string {
  if (spec.key.endsWith('deferred')) return '#a9d4b5'
  if (spec.key.startsWith('cluster')) return '#8e6cbf'
  if (spec.key.startsWith('token')) return '#3d9a5b'
  if (spec.key.startsWith('store')) return '#3b73b9'
  return '#9aa3ad'
}

/** Per-round throughput ratios of `a` to `b`: paired, since both ran in the same round. */
function paired(a: Measured, b: Measured): number[] {
  return a.rounds.map((round, i) => round.reqPerSec / (b.rounds[i]?.reqPerSec ?? NaN))
}

/** Per-round ratio of `b`'s app CPU per request to `a`'s: the throughput ratio if the app's CPU is the limit. */
function cpuPaired(a: Measured, b: Measured): number[] {
  return a.rounds.map((round, i) => (b.rounds[i]?.appCpuUs ?? NaN) / round.appCpuUs)
}

/** The commands behind the count, per request, largest first (median over rounds). */
function breakdown(rounds: readonly Round[]): string {
  const names = new Set(rounds.flatMap((round) => [...round.commands.keys()]))
  const perRequest = new Map([...names].map((name) => [name, median(rounds.map((round) => round.commands.get(name) ?? 0))]))
  return commandList(perRequest, 1) || '–'
}

function commandList(commands: Map<string, number>, per: number): string {
  return [...commands]
    .map(([name, count]): [string, number] => [name, count / per])
    .filter(([, count]) => count >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${count >= 100 ? fmtInt(count) : fmtCommands(count)}`)
    .join(', ')
}

interface ScaleRatios {
  lengthRatio: number
  idsRatio: number
  memoryRatio: number
  listP50: number
}

function targetLines(byKey: Map<string, Measured>, input: ReportInput, ratios: ScaleRatios): string[] {
  const missing = (key: string) => {
    const reason = input.skipped.find((entry) => entry.spec.key === key)?.reason ?? 'not run'
    return `**not measured**: ${reason}`
  }
  const lines: string[] = []
  const bare = byKey.get('bare')
  const memory = byKey.get('memory')
  const connectRedis = byKey.get('connect-redis')
  const tokenNear = byKey.get('token-near')
  const storeNear = byKey.get('store-near')
  const cpuUs = (entry: Measured) => median(entry.rounds.map((round) => round.appCpuUs))
  const sysUs = (entry: Measured) => median(entry.rounds.map((round) => round.appSysUs))

  // 1. Token middleware with near-cache vs bare Express.
  const token = byKey.get('token')
  const deferred = byKey.get('token-near-deferred')
  const versus = (entry: Measured | undefined, base: Measured) =>
    entry ? `${fmtRatio(median(paired(entry, base)))} throughput, ${cpuUs(entry).toFixed(0)} µs app CPU per request` : 'not run'
  if (tokenNear && bare) {
    const throughputRatio = median(paired(tokenNear, bare))
    const cpuRatio = median(cpuPaired(tokenNear, bare))
    const verdict = verdictOf(throughputRatio, cpuRatio, TARGETS.tokenNearVsBare)
    lines.push(`- Token middleware + near-cache at least ${TARGETS.tokenNearVsBare}x bare Express: ${verdict}: throughput ${fmtRatio(throughputRatio)}, ` +
      `app CPU per request ${fmtRatio(cpuRatio)} of bare Express's (${cpuUs(tokenNear).toFixed(0)} vs ${cpuUs(bare).toFixed(0)} µs). ` +
      `For comparison, without the near-cache (one GET per request): ${versus(token, bare)}; with it, the answer deferred one event-loop turn: ${versus(deferred, bare)}.` +
      (verdict === MET ? '' : ` Limit: the app's CPU per request, though not the near-cache's own code: with the hit, the app spends ${cpuUs(tokenNear).toFixed(0)} µs ` +
        `(${sysUs(tokenNear).toFixed(0)} in the kernel) per request${token ? `, against ${cpuUs(token).toFixed(0)} (${sysUs(token).toFixed(0)}) with a Redis GET` : ''}. ` +
        'A hit answers in the event-loop turn the request arrived in, so each answer goes out, and wakes the load generator, on its own; ' +
        'a request that waits for Redis is answered in a batch with others. On 2 cores shared by the app, autocannon, Redis and other processes, ' +
        'that costs more than the GET it saves (see bench/README.md, "Same-turn answers").'))
  } else {
    lines.push(`- Token middleware + near-cache at least ${TARGETS.tokenNearVsBare}x bare Express: ${missing('token-near')}` +
      (token && bare ? ` (without it: ${versus(token, bare)})` : '') + '.')
  }

  // 2. The store with near-cache and touchAfter vs MemoryStore and connect-redis.
  const storeTouch = byKey.get('store-touch')
  if (storeNear && memory && connectRedis) {
    const against = (base: Measured, target: number) => {
      const throughputRatio = median(paired(storeNear, base))
      const cpuRatio = median(cpuPaired(storeNear, base))
      const without = storeTouch ? `; touchAfter without the near-cache: ${fmtRatio(median(paired(storeTouch, base)))} throughput, ${fmtRatio(median(cpuPaired(storeTouch, base)))} by CPU` : ''
      const verdict = verdictOf(throughputRatio, cpuRatio, target)
      return { verdict, text: `${verdict}: throughput ${fmtRatio(throughputRatio)}, by app CPU per request ${fmtRatio(cpuRatio)} (${cpuUs(storeNear).toFixed(0)} vs ${cpuUs(base).toFixed(0)} µs)${without}` }
    }
    const vsMemory = against(memory, TARGETS.storeNearVsMemory)
    const vsConnectRedis = against(connectRedis, TARGETS.storeNearVsConnectRedis)
    lines.push(`- express-session + RedisSessionStore (near-cache, touchAfter) at least ${TARGETS.storeNearVsMemory}x MemoryStore: ${vsMemory.text}.`)
    lines.push(`- ... and at least ${TARGETS.storeNearVsConnectRedis}x connect-redis: ${vsConnectRedis.text}.` +
      (vsMemory.verdict === MET && vsConnectRedis.verdict === MET ? '' : ` Limit: as for the token middleware: with the near-cache the app spends ${cpuUs(storeNear).toFixed(0)} µs (${sysUs(storeNear).toFixed(0)} in the kernel) per request` +
        `${storeTouch ? `, against ${cpuUs(storeTouch).toFixed(0)} (${sysUs(storeTouch).toFixed(0)}) with one Redis GET` : ''}.`))
  } else {
    const context = storeTouch && memory && connectRedis
      ? ` (touchAfter alone: ${fmtRatio(median(paired(storeTouch, memory)))} of MemoryStore, ${fmtRatio(median(paired(storeTouch, connectRedis)))} of connect-redis)`
      : ''
    lines.push(`- express-session + RedisSessionStore (near-cache, touchAfter) at least ${TARGETS.storeNearVsMemory}x MemoryStore and ${TARGETS.storeNearVsConnectRedis}x connect-redis: ${missing('store-near')}${context}.`)
  }

  // 3. Redis commands per request with the near-cache: the median round, and the worst one's
  // extra commands spread over the time they recur in (one touch per session per touchAfter).
  const nearKeys = ['token-near', 'store-near', 'cluster-store-near']
  const near = nearKeys.flatMap((key) => (byKey.has(key) ? [byKey.get(key) as Measured] : []))
  if (near.length > 0) {
    const figures = near.map((entry) => {
      const steady = median(entry.rounds.map((round) => round.commandsPerRequest))
      const burst = Math.max(0, ...entry.rounds.map((round) => round.commandCount - steady * round.requests))
      const rate = median(entry.rounds.map((round) => round.reqPerSec))
      return { key: entry.variant.spec.key, steady, burst, amortized: steady + burst / (TOUCH_AFTER_S * rate) }
    })
    const worst = Math.max(...figures.map((figure) => figure.amortized))
    const each = figures.map(({ key, steady, burst, amortized }) =>
      `${key} ${fmtCommands(steady)} in the median round` +
      (burst >= 1 ? `, a burst of ${fmtInt(burst)} commands in its worst round, ${fmtCommands(amortized)} with one such burst per ${TOUCH_AFTER_S} s` : ''))
    lines.push(`- Redis commands per authenticated request with the near-cache at most ${TARGETS.nearCommandsPerRequest}: ${met(worst <= TARGETS.nearCommandsPerRequest)}: ${each.join('; ')}.` +
      (figures.some((figure) => figure.burst >= 1) ? ' (A store burst is the touch `touchAfter` lets through once a minute: every request in flight on the session sees the aged expiry and may write it, and each write evicts the near-cached copy, so the next reads go to Redis until one of them refills it.)' : ''))
  } else {
    lines.push(`- Redis commands per authenticated request with the near-cache at most ${TARGETS.nearCommandsPerRequest}: ${missing('token-near')}.`)
  }

  // 4. Listing, length, ids.
  const { listing, counting, memory: mem } = input.scale
  lines.push(`- Listing one user's 10 sessions among ${fmtInt(listing.sessions)} under ${TARGETS.listingMs} ms median: ${met(ratios.listP50 < TARGETS.listingMs)} (p50 ${fmtMs(ratios.listP50)} ms)` +
    (listing.sessions < 1_000_000 ? `; filled ${fmtInt(listing.sessions)} of the planned ${fmtInt(listing.planned)} within the time limit` : ''))
  const countMet = ratios.lengthRatio >= TARGETS.countSpeedup && ratios.idsRatio >= TARGETS.countSpeedup
  lines.push(`- \`length()\` and \`ids()\` over ${fmtInt(counting.sessions)} sessions at least ${TARGETS.countSpeedup}x faster than connect-redis: ${met(countMet)}: ` +
    `length ${fmtRatio(ratios.lengthRatio)}, ids ${fmtRatio(ratios.idsRatio)}.` +
    (countMet ? '' : ` Limit: \`length()\` counts inside Redis (${commandList(counting.lengthCommands.store, 1)}): no id crosses the network, ` +
      `but each of the 16 index buckets is still read member by member in a script, O(sessions) work in Redis; a count kept ` +
      `up to date on every write would be O(1) but is not built. \`ids()\` must return every id: it reads them out of the index, decodes ` +
      `and sorts them in Node, where connect-redis's SCAN (${commandList(counting.lengthCommands.connectRedis, 1)}) only strips a prefix.`))

  // 5. Memory.
  lines.push(`- Redis memory per session at most ${TARGETS.memoryVsConnectRedis}x connect-redis's: ${met(ratios.memoryRatio <= TARGETS.memoryVsConnectRedis)}: ` +
    `${fmtInt(mem.storeBytes)} B vs ${fmtInt(mem.connectRedisBytes)} B (${fmtRatio(ratios.memoryRatio)}).` +
    (ratios.memoryRatio <= TARGETS.memoryVsConnectRedis ? '' : ` Limit: the index sorted sets (${fmtInt(mem.storeParts.indexes)} B per session) and the user pointer key ` +
      `(${fmtInt(mem.storeParts.userPointer)} B); the session key alone is ${fmtInt(mem.storeParts.sessionKey)} B against connect-redis's ${fmtInt(mem.connectRedisKey)} B.`))

  // 6. Cluster next to standalone.
  const pairs: [string, string][] = [['cluster-store-touch', 'store-touch'], ['cluster-store-near', 'store-near']]
  const clusterLines = pairs.flatMap(([clusterKey, standaloneKey]) => {
    const onCluster = byKey.get(clusterKey)
    const standalone = byKey.get(standaloneKey)
    if (!onCluster || !standalone) return []
    return [`${onCluster.variant.spec.name}: ${fmtInt(median(onCluster.rounds.map((r) => r.reqPerSec)))} req/s, ${fmtRatio(median(paired(onCluster, standalone)))} of standalone's`]
  })
  lines.push(`- The store on the 3-master Cluster next to standalone: ${clusterLines.length ? clusterLines.join('; ') : missing('cluster-store-touch')} (touchAfter ${TOUCH_AFTER_S} s).`)
  return lines
}

const MET = met(true)

/** Throughput and app CPU must agree; on a busy 2-core machine they sometimes do not. */
function verdictOf(throughputRatio: number, cpuRatio: number, target: number): string {
  if (throughputRatio >= target && cpuRatio >= target) return MET
  if (throughputRatio < target && cpuRatio < target) return met(false)
  return '**unclear** (throughput and CPU per request disagree: rerun on a quiet machine)'
}
