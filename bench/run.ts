/**
 * `npm run bench`: Express session layers side by side, in one run: bare Express (the ceiling),
 * express-session with MemoryStore, connect-redis and RedisSessionStore (defaults, `userOf`,
 * `touchAfterMs` + near-cache), and the token-session middleware (defaults, near-cache). Measures
 * throughput and app CPU per request, Redis commands per request over a soak, Redis memory per
 * session of every layer, the stores at 100,000 and 1,000,000 sessions, a token login's round
 * trips, and hot keys on a 3-master Cluster. Writes its section of bench/RESULTS.md and
 * bench/ratios.svg; bench/README.md says how to read them.
 *
 * Every app runs in a Node process of its own (bench/app-worker.ts) with a redis-server of its
 * own; autocannon runs in another process (bench/load-worker.ts). Every server is private,
 * started here and stopped at the end; a run that overruns its limit gives up, and its child
 * processes and servers go with it.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { RedisClientType } from 'redis'
import { startRedisServer, type RedisServerHandle } from '../scripts/redis-server'
import { AppProcess } from './app-process'
import { sessionJsonBytes } from './bench-data'
import { measureHotKeys } from './hot-keys'
import { LoadGenerator } from './load'
import { logInChecked } from './logins'
import { measureLoginRoundTrips } from './login-round-trips'
import { cpuSnapshot, machine, packageVersion } from './machine'
import { measureMemory } from './memory'
import { attempt, firstLine, type Outcome } from './outcome'
import type { VariantResult } from './paired'
import { connect } from './private-redis'
import { p99Lines, report, SECTION_END, SECTION_START, throughputTable, type ReportPlans, type SoakResult } from './report'
import { writeSection, RESULTS } from './results-file'
import type { RunningVariant } from './running-variant'
import { measureScale } from './scale'
import { hotPathLines } from './report-targets'
import { VARIANTS, type VariantSpec } from './sessions'
import { soak } from './soak'
import { measureThroughput, type Measured } from './throughput'
import { giveUpAfter } from './give-up'

/** Seconds each Redis variant runs alone, for its commands per request: a `touchAfterMs` period. */
const SOAK_SECONDS = 60
const FULL: ReportPlans = {
  // 10 variants x (10 rounds x 2 s + 2 s warm-up): about 4 minutes. Many short rounds pair better
  // than a few long ones on a shared machine, where background load comes and goes.
  throughput: { rounds: 10, roundSeconds: 2, warmupSeconds: 2, connections: 50, settleSeconds: 6 },
  soak: { seconds: SOAK_SECONDS, connections: 50 },
  memory: { sessions: 10_000, limitMs: 120_000 },
  scale: {
    sessions: 100_000,
    inFlight: 100,
    listingSessions: 1_000_000,
    bulkInFlight: 1_000,
    sessionsPerUser: 10,
    countCalls: 3,
    listingCalls: 2_000,
    listingWarmupCalls: 200,
    fillLimitMs: 120_000,
    bulkFillLimitMs: 240_000,
    countLimitMs: 60_000,
    listingLimitMs: 10_000,
  },
  hotKeys: { logins: 20_000, users: 2_000, limitMs: 180_000 },
  sessionsInRotation: 64,
}
// BENCH_SMOKE=1: every step once, small and short, to check the bench itself; writes no results.
const SMOKE = process.env['BENCH_SMOKE'] === '1'
const PLANS: ReportPlans = SMOKE
  ? {
      throughput: { ...FULL.throughput, rounds: 1, roundSeconds: 1, warmupSeconds: 1, settleSeconds: 1 },
      soak: { ...FULL.soak, seconds: 3 },
      memory: { ...FULL.memory, sessions: 300 },
      scale: { ...FULL.scale, sessions: 2_000, listingSessions: 10_000, countCalls: 1, listingCalls: 50, listingWarmupCalls: 5 },
      hotKeys: { ...FULL.hotKeys, logins: 500, users: 50 },
      sessionsInRotation: FULL.sessionsInRotation,
    }
  : FULL
// BENCH_VARIANTS=bare,token-near: a short run of the throughput rounds alone, for those variants
// (bare Express always, as the baseline); it prints its table and writes nothing.
const CHOSEN = process.env['BENCH_VARIANTS']
  ?.split(',')
  .map((key) => key.trim())
  .filter((key) => key !== '')
const RUN_VARIANTS: readonly VariantSpec[] =
  CHOSEN === undefined ? VARIANTS : VARIANTS.filter((spec) => spec.key === 'bare' || CHOSEN.includes(spec.key))
if (CHOSEN !== undefined) {
  const unknown = CHOSEN.filter((key) => !VARIANTS.some((spec) => spec.key === key))
  if (unknown.length > 0)
    throw new Error(`BENCH_VARIANTS: no variant ${unknown.join(', ')} (there are ${VARIANTS.map((spec) => spec.key).join(', ')})`)
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? PLANS.throughput.rounds)
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error('BENCH_ROUNDS: a whole number of rounds, at least 1')
  PLANS.throughput = { ...PLANS.throughput, rounds }
}
// Anything slower than this is broken, not slow: give up rather than hang (a full run takes about 13 minutes).
const RUN_LIMIT_MS = (SMOKE ? 5 : 30) * 60_000
const CHART = join(__dirname, 'ratios.svg')

const startedAt = performance.now()
const log = (line: string) => console.log(`bench [${((performance.now() - startedAt) / 1000).toFixed(0)} s]: ${line}`)

async function main(): Promise<void> {
  // On giving up, the app and load processes exit when their IPC channel closes; the servers' watchdogs kill them.
  giveUpAfter('bench', RUN_LIMIT_MS)
  const loadAtStart = loadavg()[0] ?? NaN

  // The helper's watchdogs kill these servers even if we crash.
  const server: RedisServerHandle = await startRedisServer()
  const admin = await connect(server.url)
  const load = new LoadGenerator()
  const servers: RedisServerHandle[] = []
  const stats: RedisClientType[] = []
  const apps: AppProcess[] = []
  const closeApps = async () => {
    await Promise.allSettled(apps.splice(0).map((app) => app.close()))
    await Promise.allSettled(stats.splice(0).map((client) => client.close()))
    await Promise.allSettled(servers.splice(0).map((server) => server.stop()))
  }
  try {
    const info = await machine(admin)
    log(`${info.cpu} (${info.cores} cores), node ${info.node}, redis ${info.redis}${SMOKE ? ', smoke run' : ''}`)

    log(`starting ${RUN_VARIANTS.length} app processes, each logging ${PLANS.sessionsInRotation} users in`)
    const starts = await Promise.all(RUN_VARIANTS.map((spec) => startVariant(spec, servers, stats, apps)))
    const running = starts.flatMap((start) => (start.ok ? [start.value] : []))
    const pids = () => [
      server.pid,
      ...servers.map((each) => each.pid),
      ...apps.flatMap((app) => (app.pid ? [app.pid] : [])),
      ...(load.pid ? [load.pid] : []),
    ]
    const cpuAtStart = cpuSnapshot(pids())
    const throughputStarted = performance.now()
    const measured = await measureThroughput(running, load, PLANS.throughput, log)
    const throughputSeconds = (performance.now() - throughputStarted) / 1000
    const cpuAfterLoad = cpuSnapshot(pids())
    const variants = RUN_VARIANTS.map((spec, i): VariantResult => {
      const start = starts[i] as Outcome<RunningVariant>
      if (!start.ok) return { spec, result: start }
      return { spec, result: { ok: true, value: measured.find((entry) => entry.variant === start.value) as Measured } }
    })

    if (CHOSEN !== undefined) {
      console.log(['', ...throughputTable(variants), '', ...p99Lines(variants), '', ...hotPathLines(variants)].join('\n'))
      log('short run (BENCH_VARIANTS): results not written')
      return
    }

    const soaks: SoakResult[] = []
    for (const spec of VARIANTS.filter((variant) => variant.redis)) {
      const entry = measured.find((candidate) => candidate.variant.app.spec === spec)
      const reason = !entry ? 'its app did not start' : entry.error
      if (!entry || reason !== undefined) {
        soaks.push({ spec, result: { ok: false, error: reason ?? 'not run' } })
        continue
      }
      log(`soak: ${spec.key} for ${PLANS.soak.seconds} s`)
      soaks.push({ spec, result: await attempt(`soak of ${spec.key}`, () => soak(entry.variant, load, PLANS.soak), log) })
    }
    await closeApps()
    load.close()

    const memory = await attempt('memory', () => measureMemory(PLANS.memory, log), log)
    const scale = await attempt('scale', () => measureScale(server.url, PLANS.scale, log), log)
    log('a token login, under MONITOR')
    const loginRoundTrips = await attempt('login round trips', measureLoginRoundTrips, log)
    const hotKeys = await attempt('hot keys', () => measureHotKeys(PLANS.hotKeys, log), log)

    // The share of the machine other processes took while the load ran: the noise to expect.
    const othersShare =
      cpuAtStart && cpuAfterLoad
        ? (cpuAfterLoad.busy - cpuAtStart.busy - (cpuAfterLoad.ours - cpuAtStart.ours)) / (throughputSeconds * info.cores)
        : undefined
    const { section, chart } = report({
      command: process.env['npm_lifecycle_event'] === 'bench' ? 'npm run bench' : 'npx ts-node --transpile-only bench/run.ts',
      info,
      versions: {
        express: packageVersion('express'),
        'express-session': packageVersion('express-session'),
        'connect-redis': packageVersion('connect-redis'),
        redis: packageVersion('redis'),
        autocannon: packageVersion('autocannon'),
      },
      plans: PLANS,
      variants,
      soaks,
      memory,
      scale,
      loginRoundTrips,
      hotKeys,
      sessionBytes: sessionJsonBytes(),
      totalSeconds: (performance.now() - startedAt) / 1000,
      load: { start: loadAtStart, end: loadavg()[0] ?? NaN, othersShare },
    })
    console.log(section)
    if (SMOKE) {
      log('smoke run: results not written')
      return
    }
    writeFileSync(CHART, chart)
    writeSection(SECTION_START, SECTION_END, section)
    log(`wrote ${RESULTS} and ${CHART}`)
  } finally {
    await closeApps()
    load.close()
    await admin.close().catch(() => undefined)
    await server.stop()
  }
}

/**
 * Starts a variant's redis-server (if it uses Redis) and app process, and logs its users in, each
 * login checked. A variant that cannot start is reported as failed; the others go on.
 */
async function startVariant(
  spec: VariantSpec,
  servers: RedisServerHandle[],
  stats: RedisClientType[],
  apps: AppProcess[],
): Promise<Outcome<RunningVariant>> {
  return attempt(
    `starting ${spec.key}`,
    async () => {
      let redis: RedisClientType | undefined
      let url: string | undefined
      if (spec.redis) {
        const server = await startRedisServer()
        servers.push(server)
        url = server.url
        redis = await connect(url)
        stats.push(redis)
      }
      const app = await AppProcess.start(spec, url)
      apps.push(app)
      const sessions = []
      for (let n = 0; n < PLANS.sessionsInRotation; n++) sessions.push(await logInChecked(app.url, n))
      return { app, sessions, redis }
    },
    log,
  )
}

main().catch((error: unknown) => {
  console.error(`bench: ${firstLine(error)}`)
  console.error(error)
  process.exitCode = 1
})
