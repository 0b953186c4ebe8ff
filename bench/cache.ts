/**
 * `npm run bench:cache`: RedisCache against plain node-redis, side by side in one run.
 *
 * Measures `get` vs plain `GET`, `put` vs plain `SET … PX`, and the latency of listing the 10
 * records of one prefix among 100,000 with `all([...prefix, ANY])`, then writes its section of
 * bench/RESULTS.md. Starts its own redis-server on a free loopback port unless REDIS_URL is set.
 * See bench/README.md for how to read the table.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { createClient, type RedisClientType } from 'redis'
import { ANY, RedisCache } from '../lib'
import { startRedisServer, type RedisServerHandle } from '../scripts/redis-server'
import { cpuSnapshot, machine, type Machine } from './machine'
import { RESULTS, writeSection } from './results-file'
import { giveUpAfter } from './give-up'

// Many short rounds: on a shared machine, two neighbouring rounds see about the same background
// load, so their ratio is fair even when the absolute numbers swing. Well under 2 minutes in all.
const ROUNDS = 50
const OPS_PER_ROUND = 2_000
const WARMUP_OPS = 5_000
const CONCURRENCY = 50
const ROUND_LIMIT_MS = 5_000
const KEY_POOL = 10_000
const LIST_USERS = 10_000
const LIST_SESSIONS_PER_USER = 10
const FILL_BATCH = 1_000
const FILL_IN_FLIGHT = 4
const FILL_LIMIT_MS = 60_000
const LIST_WARMUP_CALLS = 200
const LIST_CALLS = 2_000
const LIST_LIMIT_MS = 10_000
const TTL_MS = 30 * 60_000
// Anything slower than this is broken, not slow: give up rather than hang.
const RUN_LIMIT_MS = 4 * 60_000

const GET_TARGET_RATIO = 0.9
const LIST_TARGET_MS = 1
// Above this share of the CPUs taken by other processes, throughput is flagged as noisy.
const BUSY_SHARE = 0.2

const START_MARK = '<!-- bench:cache:start -->'
const END_MARK = '<!-- bench:cache:end -->'

type Session = ReturnType<typeof sessionValue>
type Client = RedisClientType

interface Round {
  opsPerSec: number
  /** This process's CPU time per operation (user + system), in µs. */
  clientCpuUs: number
  /** redis-server's CPU time per operation, from INFO cpu, in µs. */
  serverCpuUs: number
  latencies: Float64Array
}

interface Variant {
  name: string
  /** The variant this one is compared with, round by round. */
  baseline?: string
  op: (i: number) => Promise<unknown>
  rounds: Round[]
}

/** A ~200-byte express-session-like object: cookie, user id, CSRF secret. */
function sessionValue(n: number) {
  return {
    cookie: {
      originalMaxAge: TTL_MS,
      expires: new Date(Date.UTC(2030, 0, 1) + n).toISOString(),
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
    },
    userId: 100_000 + n,
    csrfSecret: randomBytes(18).toString('base64url'),
    flash: {},
    views: n % 100,
  }
}

/** An express-session-sized id (uid-safe's 24 bytes). */
function sid(): string {
  return randomBytes(24).toString('base64url')
}

async function serverCpuSeconds(client: Client): Promise<number> {
  const info = await client.info('cpu')
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN)
  return field('used_cpu_user') + field('used_cpu_sys')
}

/** Runs `count` calls of `op` with CONCURRENCY in flight, stopping early at `limitMs`. */
async function runRound(client: Client, op: (i: number) => Promise<unknown>, count: number, limitMs: number): Promise<Round> {
  const latencies = new Float64Array(count)
  let next = 0
  const serverBefore = await serverCpuSeconds(client)
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  const stopAt = start + limitMs
  const worker = async () => {
    while (next < count && performance.now() < stopAt) {
      const i = next++
      const t0 = performance.now()
      await op(i)
      latencies[i] = performance.now() - t0
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const serverSeconds = (await serverCpuSeconds(client)) - serverBefore
  return {
    opsPerSec: next / seconds,
    clientCpuUs: (cpu.user + cpu.system) / next,
    serverCpuUs: (serverSeconds * 1e6) / next,
    latencies: latencies.subarray(0, next),
  }
}

/** Interleaves variants: every round runs each once, in alternating order, so drift hits all alike. */
async function measure(client: Client, variants: Variant[]): Promise<void> {
  for (const variant of variants) await runRound(client, variant.op, WARMUP_OPS, ROUND_LIMIT_MS)
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse()
    for (const variant of order) variant.rounds.push(await runRound(client, variant.op, OPS_PER_ROUND, ROUND_LIMIT_MS))
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

/** Linear-interpolated quantile, q in [0, 1]. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const at = (sorted.length - 1) * q
  const low = sorted[Math.floor(at)] as number
  const high = sorted[Math.ceil(at)] as number
  return low + (high - low) * (at - Math.floor(at))
}

const median = (values: number[]) => quantile(values, 0.5)
const quartiles = (values: number[]) => [quantile(values, 0.25), quantile(values, 0.75)] as const

function pooled(rounds: Round[]): Float64Array {
  const all = new Float64Array(rounds.reduce((sum, round) => sum + round.latencies.length, 0))
  let offset = 0
  for (const round of rounds) {
    all.set(round.latencies, offset)
    offset += round.latencies.length
  }
  return all.sort()
}

/** Per-round throughput ratios to the baseline: paired, since both ran in the same round. */
function ratios(variant: Variant, byName: Map<string, Variant>): number[] {
  const base = variant.baseline ? byName.get(variant.baseline) : undefined
  if (!base) return []
  return variant.rounds.map((round, i) => round.opsPerSec / (base.rounds[i]?.opsPerSec ?? NaN))
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
const fmtMs = (ms: number) => ms.toFixed(3)
const fmtUs = (us: number) => us.toFixed(1)
const fmtRatio = (r: number) => `${r.toFixed(2)}x`

async function main(): Promise<void> {
  giveUpAfter('bench:cache', RUN_LIMIT_MS)

  const external = process.env['REDIS_URL']
  if (external) requireLoopback(external)
  // The helper's watchdog kills this server even if we crash.
  const server: RedisServerHandle | undefined = external ? undefined : await startRedisServer()
  const url = external ?? (server as RedisServerHandle).url
  const client: Client = createClient({ url })
  client.on('error', (error: unknown) => console.error('bench:cache: redis client error', error))
  await client.connect()

  // A fresh namespace and plain prefix per run: on a shared REDIS_URL we touch nothing else.
  const runId = `${process.pid}-${Date.now()}`
  const plainPrefix = `bench:${runId}:sess:`
  // tagDepth 2: `['user', u]` chooses the slot and bucket, so one user's records share an index.
  const rwCache = new RedisCache<Session>({ client, ttlMs: TTL_MS, namespace: `bench-rw-${runId}`, tagDepth: 2 })
  const listCache = new RedisCache<Session>({ client, ttlMs: TTL_MS, namespace: `bench-list-${runId}`, tagDepth: 2 })
  try {
    const started = performance.now()
    const cpuAtStart = cpuSnapshot(server ? [server.pid] : [])
    const loadAtStart = loadavg()[0] ?? NaN
    const info = await machine(client)
    console.log(
      `bench:cache on ${info.cpu} (${info.cores} cores), node ${info.node}, redis ${info.redis}, ${server ? 'private server' : 'REDIS_URL'}`,
    )

    // Same sids, same values, for plain and cache: only the layer in between differs.
    const sids = Array.from({ length: KEY_POOL }, sid)
    const values = sids.map((_, n) => sessionValue(n))
    const texts = values.map((value) => JSON.stringify(value))
    const plainKeys = sids.map((s) => plainPrefix + s)
    const cacheKeys = sids.map((s) => ['session', s])
    const valueBytes = median(texts.map((text) => Buffer.byteLength(text)))
    for (let i = 0; i < KEY_POOL; i += FILL_BATCH) {
      await Promise.all(plainKeys.slice(i, i + FILL_BATCH).map((key, j) => client.set(key, texts[i + j] as string, { PX: TTL_MS })))
      await rwCache.putMany(cacheKeys.slice(i, i + FILL_BATCH).map((key, j) => ({ key, value: values[i + j] as Session })))
    }
    await sanityCheck(client, rwCache, plainKeys[0] as string, cacheKeys[0] as string[], texts[0] as string)

    const at = (i: number) => i % KEY_POOL
    const plainGet = 'plain `GET`'
    const plainSet = 'plain `SET … PX`'
    const variants: Variant[] = [
      { name: plainGet, op: (i) => client.get(plainKeys[at(i)] as string), rounds: [] },
      // What an app reading JSON sessions by hand pays: the part of cache.get no layout can save.
      {
        name: 'plain `GET` + `JSON.parse`',
        baseline: plainGet,
        op: async (i) => JSON.parse((await client.get(plainKeys[at(i)] as string)) as string) as Session,
        rounds: [],
      },
      // node-redis arms an AbortSignal.timeout (5 s default) per command; this is GET without it.
      {
        name: 'plain `GET`, node-redis timeout off',
        baseline: plainGet,
        op: (i) => client.sendCommand(['GET', plainKeys[at(i)] as string], { timeout: 0 }),
        rounds: [],
      },
      { name: 'cache.get', baseline: plainGet, op: (i) => rwCache.get(cacheKeys[at(i)] as string[]), rounds: [] },
      { name: plainSet, op: (i) => client.set(plainKeys[at(i)] as string, texts[at(i)] as string, { PX: TTL_MS }), rounds: [] },
      { name: 'cache.put', baseline: plainSet, op: (i) => rwCache.put(cacheKeys[at(i)] as string[], values[at(i)] as Session), rounds: [] },
    ]
    console.log(`measuring get/put: ${ROUNDS} rounds x ${fmtInt(OPS_PER_ROUND)} ops per variant, ${CONCURRENCY} in flight`)
    await measure(client, variants)

    console.log(`filling ${fmtInt(LIST_USERS * LIST_SESSIONS_PER_USER)} records for all()`)
    const fillStarted = performance.now()
    await fill(listCache)
    const fillSeconds = (performance.now() - fillStarted) / 1000
    const listing = await measureListing(listCache)

    const totalSeconds = (performance.now() - started) / 1000
    const cpuAtEnd = cpuSnapshot(server ? [server.pid] : [])
    // The share of the machine other processes took while we measured: the noise to expect.
    const othersShare =
      cpuAtStart && cpuAtEnd && server
        ? (cpuAtEnd.busy - cpuAtStart.busy - (cpuAtEnd.ours - cpuAtStart.ours)) / (totalSeconds * info.cores)
        : undefined
    const load = { start: loadAtStart, end: loadavg()[0] ?? NaN, othersShare }
    const section = report({ info, variants, listing, valueBytes, fillSeconds, totalSeconds, external: Boolean(external), load })
    console.log(section)
    writeSection(START_MARK, END_MARK, section)
    console.log(`wrote ${RESULTS}`)
  } finally {
    if (external) await cleanUp(client, plainPrefix, [rwCache.namespace, listCache.namespace])
    await client.close()
    await server?.stop()
  }
}

/** Fails loudly if the layer under test is not doing what we think we measure. */
async function sanityCheck(client: Client, cache: RedisCache<Session>, plainKey: string, cacheKey: string[], text: string): Promise<void> {
  if ((await client.get(plainKey)) !== text) throw new Error('plain GET did not return the stored value')
  if (JSON.stringify(await cache.get(cacheKey)) !== text) throw new Error('cache.get did not return the stored value')
}

/** 10,000 users x 10 sessions: `['user', u, 'session', sid]`, written with putMany in batches. */
async function fill(cache: RedisCache<Session>): Promise<void> {
  const total = LIST_USERS * LIST_SESSIONS_PER_USER
  const value = sessionValue(0)
  const stopAt = performance.now() + FILL_LIMIT_MS
  let next = 0
  const worker = async () => {
    while (next < total) {
      if (performance.now() > stopAt) throw new Error(`filling ${total} records took over ${FILL_LIMIT_MS / 1000} s`)
      const from = next
      next = Math.min(total, next + FILL_BATCH)
      const entries = []
      for (let n = from; n < next; n++) {
        entries.push({ key: ['user', Math.floor(n / LIST_SESSIONS_PER_USER), 'session', sid()], value })
      }
      await cache.putMany(entries)
    }
  }
  await Promise.all(Array.from({ length: FILL_IN_FLIGHT }, worker))
}

/** Sequential calls (one at a time: latency, not throughput), each checked to list exactly 10. */
async function measureListing(cache: RedisCache<Session>): Promise<{ calls: number; latencies: Float64Array }> {
  // A stride coprime with LIST_USERS visits users all over the index, not neighbours.
  const list = (i: number) => cache.all(['user', (i * 7919) % LIST_USERS, 'session', ANY])
  for (let i = 0; i < LIST_WARMUP_CALLS; i++) await list(i)
  const latencies = new Float64Array(LIST_CALLS)
  const stopAt = performance.now() + LIST_LIMIT_MS
  let calls = 0
  while (calls < LIST_CALLS && performance.now() < stopAt) {
    const t0 = performance.now()
    const records = await list(calls)
    latencies[calls] = performance.now() - t0
    if (records.length !== LIST_SESSIONS_PER_USER)
      throw new Error(`all() listed ${records.length} records, expected ${LIST_SESSIONS_PER_USER}`)
    calls++
  }
  return { calls, latencies: latencies.subarray(0, calls).sort() }
}

interface ReportInput {
  info: Machine
  variants: Variant[]
  listing: { calls: number; latencies: Float64Array }
  valueBytes: number
  fillSeconds: number
  totalSeconds: number
  external: boolean
  load: { start: number; end: number; othersShare: number | undefined }
}

function report({ info, variants, listing, valueBytes, fillSeconds, totalSeconds, external, load }: ReportInput): string {
  const byName = new Map(variants.map((variant) => [variant.name, variant]))
  const rows = variants.map((variant) => {
    const rates = variant.rounds.map((round) => round.opsPerSec)
    const [rateLow, rateHigh] = quartiles(rates)
    const paired = ratios(variant, byName)
    const [ratioLow, ratioHigh] = quartiles(paired)
    const latencies = pooled(variant.rounds)
    const vs = paired.length ? `${fmtRatio(median(paired))} (${fmtRatio(ratioLow)}–${fmtRatio(ratioHigh)})` : 'baseline'
    const clientCpu = median(variant.rounds.map((round) => round.clientCpuUs))
    const serverCpu = median(variant.rounds.map((round) => round.serverCpuUs))
    return `| ${variant.name} | ${fmtInt(median(rates))} (${fmtInt(rateLow)}–${fmtInt(rateHigh)}) | ${vs} | ${fmtMs(percentile(latencies, 50))} | ${fmtMs(percentile(latencies, 99))} | ${fmtUs(clientCpu)} | ${fmtUs(serverCpu)} |`
  })
  const listP50 = percentile(listing.latencies, 50)
  const listP99 = percentile(listing.latencies, 99)
  const listRate = listing.calls / (listing.latencies.reduce((sum, ms) => sum + ms, 0) / 1000)
  rows.push(
    `| cache.all(['user', u, 'session', ANY]): 10 of 100,000 records, one call at a time | ${fmtInt(listRate)} | | ${fmtMs(listP50)} | ${fmtMs(listP99)} | | |`,
  )

  const get = byName.get('cache.get') as Variant
  const getRatio = median(ratios(get, byName))
  // Client-bound on one connection, throughput follows node CPU per op; it is also far less
  // sensitive to other processes than wall-clock throughput, so it is the cross-check.
  const cpuRatio = median(
    get.rounds.map((round, i) => (byName.get(get.baseline as string)?.rounds[i]?.clientCpuUs ?? NaN) / round.clientCpuUs),
  )
  const getVerdict =
    getRatio >= GET_TARGET_RATIO && cpuRatio >= GET_TARGET_RATIO
      ? '**met**'
      : getRatio < GET_TARGET_RATIO && cpuRatio < GET_TARGET_RATIO
        ? '**NOT met**'
        : '**unclear** (throughput and CPU disagree: rerun on a quiet machine)'
  const listMet = listP50 < LIST_TARGET_MS
  const busy = load.othersShare !== undefined && load.othersShare > BUSY_SHARE
  const command =
    process.env['npm_lifecycle_event'] === 'bench:cache' ? 'npm run bench:cache' : 'npx ts-node --transpile-only bench/cache.ts'
  const others =
    load.othersShare === undefined ? '' : `; other processes used ${Math.max(0, load.othersShare * 100).toFixed(0)}% of the CPUs meanwhile`
  return [
    START_MARK,
    '## Cache: RedisCache vs plain node-redis',
    '',
    `Command: \`${command}\`${external ? ' (against REDIS_URL)' : ''}  `,
    `Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}  `,
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB.toFixed(1)} GiB, ${info.os}; Node ${info.node}; ` +
      `redis-server ${info.redis} ${external ? '(REDIS_URL)' : '(private, on 127.0.0.1, sharing the same CPUs)'}; node-redis client, RESP2, defaults  `,
    `Run: ${totalSeconds.toFixed(0)} s (the 100,000-record fill took ${fillSeconds.toFixed(1)} s); ` +
      `load average ${load.start.toFixed(1)} at start, ${load.end.toFixed(1)} at end${others}`,
    ...(busy
      ? [
          '',
          `**Busy machine**: other processes took over ${BUSY_SHARE * 100}% of the CPUs, so absolute ops/s swing from round to round; the paired ratios and the CPU columns are the numbers to trust.`,
        ]
      : []),
    '',
    `get/put: ${ROUNDS} rounds; each round runs every variant for ${fmtInt(OPS_PER_ROUND)} ops with ${CONCURRENCY} in flight, ` +
      `in alternating order, after a ${fmtInt(WARMUP_OPS)}-op warm-up; keys drawn from ${fmtInt(KEY_POOL)} sessions; values ${valueBytes} bytes of JSON. ` +
      `ops/s and "vs plain" (per-round ratios, paired) are medians with the interquartile range over rounds. ` +
      `Latency is per operation with ${CONCURRENCY} in flight, over all rounds. CPU columns are medians over rounds of each process's CPU time per operation. ` +
      `all(): ${fmtInt(listing.calls)} sequential calls over spread-out users after ${LIST_WARMUP_CALLS} warm-up calls, each checked to return 10 records.`,
    '',
    '| operation | ops/s, median (IQR) | vs plain | p50 ms | p99 ms | node CPU µs/op | redis CPU µs/op |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'Targets (issue 2, item 6):',
    `- get at least ${GET_TARGET_RATIO}x plain GET: ${getVerdict}: throughput ${fmtRatio(getRatio)}, node CPU per op ${fmtRatio(cpuRatio)} of plain GET's`,
    `- listing 10 of 100,000 records under ${LIST_TARGET_MS} ms median: ${listMet ? '**met**' : '**NOT met**'} (p50 ${fmtMs(listP50)} ms, p99 ${fmtMs(listP99)} ms)`,
    END_MARK,
  ].join('\n')
}

function requireLoopback(url: string): void {
  const host = new URL(url).hostname
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    throw new Error(`REDIS_URL must point at this machine (127.0.0.1): the bench measures a loopback Redis, got host ${host}`)
  }
}

/** On a shared REDIS_URL: removes this run's keys (they would expire anyway, after TTL_MS). */
async function cleanUp(client: Client, plainPrefix: string, namespaces: string[]): Promise<void> {
  // Every key of a cache starts with its namespace and a colon.
  const patterns = [`${plainPrefix}*`, ...namespaces.map((namespace) => `${namespace}:*`)]
  for (const pattern of patterns) {
    let pages = 0
    for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1_000 })) {
      if (keys.length > 0) await client.unlink(keys)
      if (++pages > 100_000) break
    }
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
