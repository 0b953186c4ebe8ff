/**
 * `npm run bench`: Express session layers side by side, in one run: bare Express (the ceiling),
 * express-session with MemoryStore, with connect-redis and with RedisSessionStore, and the
 * token-session middleware, with and without the near-cache, on standalone Redis and on a
 * 3-master Cluster; then the stores with 100,000 and 1,000,000 sessions. Writes its section of
 * bench/RESULTS.md and bench/ratios.svg. See bench/README.md for how to read them.
 *
 * All apps run in this process, each on its own 127.0.0.1 port; autocannon runs in a child
 * process (bench/load-worker.ts). Redis servers are private, started here and stopped at the end.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { createClient, type RedisClientType } from 'redis'
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from '../scripts/redis-server'
import { LoadGenerator } from './load'
import { cpuSnapshot, machine, packageVersion } from './machine'
import { report, SECTION_END, SECTION_START, type Skipped } from './report'
import { writeSection, RESULTS } from './results-file'
import { measureScale, type ScalePlan } from './scale'
import { startVariant, Unavailable, VARIANTS, type RunningVariant } from './sessions'
import { measureThroughput, type StatsClients, type ThroughputPlan } from './throughput'

// 11 variants x (6 rounds x 2 s + 2 s warm-up) is about 2.5 minutes of load. Many short rounds
// pair better than a few long ones on a shared machine, where background load comes and goes.
const FULL: ThroughputPlan = { rounds: 6, roundSeconds: 2, warmupSeconds: 2, connections: 50 }
const FULL_SCALE: ScalePlan = {
  sessions: 100_000,
  listingSessions: 1_000_000,
  sessionsPerUser: 10,
  countCalls: 3,
  listingCalls: 2_000,
  listingWarmupCalls: 200,
  fillLimitMs: 60_000,
  bulkFillLimitMs: 120_000,
  countLimitMs: 30_000,
  listingLimitMs: 10_000,
}
// BENCH_SMOKE=1: every step once, small and short, to check the bench itself; writes no results.
const SMOKE = process.env['BENCH_SMOKE'] === '1'
const THROUGHPUT: ThroughputPlan = SMOKE ? { ...FULL, rounds: 1, roundSeconds: 1, warmupSeconds: 1 } : FULL
const SCALE: ScalePlan = SMOKE ? { ...FULL_SCALE, sessions: 2_000, listingSessions: 20_000, countCalls: 2, listingCalls: 100, listingWarmupCalls: 10 } : FULL_SCALE
// Anything slower than this is broken, not slow: give up rather than hang.
const RUN_LIMIT_MS = 10 * 60_000
const CHART = join(__dirname, 'ratios.svg')

async function main(): Promise<void> {
  const giveUp = setTimeout(() => {
    console.error(`bench: still running after ${RUN_LIMIT_MS / 60_000} minutes, giving up`)
    process.exit(1)
  }, RUN_LIMIT_MS)
  giveUp.unref()
  const log = (line: string) => console.log(`bench: ${line}`)
  const started = performance.now()
  const loadAtStart = loadavg()[0] ?? NaN

  // The helper's watchdogs kill these servers even if we crash.
  const server: RedisServerHandle = await startRedisServer()
  let cluster: RedisClusterHandle | undefined
  let clusterError: string | undefined
  try {
    cluster = await startRedisCluster({ masters: 3 })
  } catch (error) {
    clusterError = error instanceof Error ? error.message.split('\n')[0] : String(error)
    log(`no cluster: ${clusterError}`)
  }
  const admin = await statsClient(server.url)
  const clusterStats = await Promise.all((cluster?.nodes ?? []).map(({ port }) => statsClient(`redis://127.0.0.1:${port}`)))
  const load = new LoadGenerator()
  const running: RunningVariant[] = []
  try {
    const info = await machine(admin)
    log(`${info.cpu} (${info.cores} cores), node ${info.node}, redis ${info.redis}`)
    const pids = () => [server.pid, ...(cluster?.servers.map((node) => node.pid) ?? []), ...(load.pid ? [load.pid] : [])]
    const cpuAtStart = cpuSnapshot(pids())

    const skipped: Skipped[] = []
    const backends = { url: server.url, clusterUrls: cluster?.nodes.map(({ port }) => `redis://127.0.0.1:${port}`) }
    for (const spec of VARIANTS) {
      try {
        running.push(await startVariant(spec, backends))
      } catch (error) {
        if (!(error instanceof Unavailable)) throw error
        skipped.push({ spec, reason: spec.redis === 'cluster' && clusterError ? `no cluster: ${clusterError}` : error.message })
        log(`skipping ${spec.key}: ${error.message}`)
      }
    }

    const stats: StatsClients = { none: [admin], standalone: [admin], cluster: clusterStats }
    log(`load: ${THROUGHPUT.rounds} rounds x ${running.length} variants x ${THROUGHPUT.roundSeconds} s, ${THROUGHPUT.connections} connections`)
    const throughputStarted = performance.now()
    const measured = await measureThroughput(running, load, stats, THROUGHPUT, log)
    const throughputSeconds = (performance.now() - throughputStarted) / 1000
    const cpuAfterLoad = cpuSnapshot(pids())
    await Promise.all(running.splice(0).map((variant) => variant.close()))
    await Promise.all(clusterStats.map((client) => client.close()))
    await cluster?.stop()

    const scale = await measureScale(server.url, SCALE, log)
    const totalSeconds = (performance.now() - started) / 1000
    // The share of the machine other processes took while the load ran: the noise to expect.
    const othersShare = cpuAtStart && cpuAfterLoad
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
      throughput: THROUGHPUT,
      scalePlan: SCALE,
      measured,
      skipped,
      scale,
      totalSeconds,
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
    await Promise.allSettled(running.map((variant) => variant.close()))
    load.close()
    await Promise.allSettled([admin.close(), ...clusterStats.map((client) => client.close())])
    await cluster?.stop()
    await server.stop()
  }
}

async function statsClient(url: string): Promise<RedisClientType> {
  const client = createClient({ url })
  client.on('error', (error: unknown) => console.error('bench: redis stats client error', error))
  await client.connect()
  return client
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
