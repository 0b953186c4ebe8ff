/**
 * The targets of issue 9 (one atomic write per session change) and of issue 16 (the per-request
 * hot path), each met or not by this run's figures (pure).
 */
import { fmtCommands, fmtInt, fmtMs, fmtRatio } from './format'
import { cpuRatio, paired, pairedP99, roundsOf, type VariantResult } from './paired'
import type { ReportInput } from './report'
import { median, percentile } from './stats'
import { appCpuPerRequest, type Measured } from './throughput'

const TARGETS = {
  memory: { store: 1.15, storeUser: 1.4, token: 1.8 },
  storeCommandsPerRequest: 2.0,
  storeVsConnectRedis: 1.1,
  nearCommandsPerRequest: 0.005,
  setTimeVsConnectRedis: 1.2,
  loginRoundTrips: 2,
  lengthSpeedup: 50,
  idsSpeedup: 1.5,
  listingMs: 0.5,
  hotKeyShare: 0.005,
  hotMasterShare: 0.4,
}

/** Issue 16: against bare Express, in the throughput rounds. */
const HOT_PATH = {
  nearThroughput: 0.95,
  nearExtraCpuUs: 10,
  defaultsThroughput: 0.85,
  p99: 1.2,
}

const met = (ok: boolean) => (ok ? '**met**' : '**NOT met**')
const notMeasured = (why: string) => `**not measured** (${why})`

export function targetLines(input: ReportInput): string[] {
  return [...memoryLines(input), ...requestLines(input), ...writeLines(input), ...listingLines(input), ...clusterLines(input)]
}

/** 1. Memory per session against connect-redis, each layer. */
function memoryLines(input: ReportInput): string[] {
  const layers = input.memory.ok ? input.memory.value : []
  const bytesOf = (key: string) => {
    const found = layers.find((layer) => layer.key === key)?.result
    return found?.ok ? found.value.bytesPerSession : undefined
  }
  const base = bytesOf('connect-redis')
  return (
    [
      ['store', 'store defaults', TARGETS.memory.store],
      ['store-user', 'store with `userOf`', TARGETS.memory.storeUser],
      ['token', '`sessions()`, a user with one session', TARGETS.memory.token],
    ] as const
  ).map(([key, name, target]) => {
    const bytes = bytesOf(key)
    if (base === undefined || bytes === undefined)
      return `- 1. Memory per session, ${name}, at most ${target}x connect-redis: ${notMeasured('a layer failed')}.`
    return `- 1. Memory per session, ${name}, at most ${target}x connect-redis: ${met(bytes / base <= target)}: ${fmtInt(bytes)} B vs ${fmtInt(base)} B (${fmtRatio(bytes / base)}).`
  })
}

/** 2. Commands per request (store defaults; the near-cached store), and throughput against connect-redis. */
function requestLines(input: ReportInput): string[] {
  const perRequest = (key: string) => {
    const soak = input.soaks.find(({ spec }) => spec.key === key)?.result
    return soak?.ok ? soak.value.count.commands / Math.max(1, soak.value.requests) : undefined
  }
  const store = perRequest('store')
  const near = perRequest('store-near')
  const lines = [
    `- 2. express-session + store defaults, at most ${TARGETS.storeCommandsPerRequest} Redis commands per request over the soak: ` +
      (store === undefined ? notMeasured('the soak failed') : `${met(store <= TARGETS.storeCommandsPerRequest)}: ${fmtCommands(store)}.`),
    `- 2. ... with \`touchAfterMs\` + near-cache, at most ${TARGETS.nearCommandsPerRequest} commands per request over the soak: ` +
      (near === undefined ? notMeasured('the soak failed') : `${met(near <= TARGETS.nearCommandsPerRequest)}: ${fmtCommands(near)}.`),
  ]
  const storeRounds = roundsOf(input.variants, 'store')
  const connectRedis = roundsOf(input.variants, 'connect-redis')
  lines.push(
    `- 2. ... store defaults at least ${TARGETS.storeVsConnectRedis}x connect-redis's throughput: ${against(storeRounds, connectRedis, TARGETS.storeVsConnectRedis)}.`,
  )
  return lines
}

/** 3. 100,000 set() calls against connect-redis's time; a token login's round trips. */
function writeLines(input: ReportInput): string[] {
  const { scale, loginRoundTrips } = input
  const lines: string[] = []
  if (!scale.ok)
    lines.push(`- 3. \`set()\` time at most ${TARGETS.setTimeVsConnectRedis}x connect-redis's: ${notMeasured('the step failed')}.`)
  else {
    const { sessions, storeSeconds, connectRedisSeconds } = scale.value.sets
    const ratio = storeSeconds / connectRedisSeconds
    lines.push(
      `- 3. ${fmtInt(sessions)} \`set()\` (100 in flight, with \`userOf\`) in at most ${TARGETS.setTimeVsConnectRedis}x connect-redis's time: ${met(ratio <= TARGETS.setTimeVsConnectRedis)}: ${fmtRatio(ratio)} (${storeSeconds.toFixed(2)} s vs ${connectRedisSeconds.toFixed(2)} s).`,
    )
  }
  lines.push(
    `- 3. A token login in at most ${TARGETS.loginRoundTrips} round trips: ` +
      (loginRoundTrips.ok
        ? `${met(loginRoundTrips.value.sent.length <= TARGETS.loginRoundTrips)}: ${loginRoundTrips.value.sent.length} (${loginRoundTrips.value.sent.join(', ')}).`
        : notMeasured('the step failed')),
  )
  return lines
}

/** 4. length() and ids() over 100,000 sessions; one user's sessions among 1,000,000. */
function listingLines(input: ReportInput): string[] {
  const { scale } = input
  const lines: string[] = []
  const counting = scale.ok && scale.value.counting.ok ? scale.value.counting.value : undefined
  if (counting === undefined) lines.push(`- 4. \`length()\` and \`ids()\`: ${notMeasured('the step failed')}.`)
  else {
    const lengthRatio = median(counting.connectRedis.lengthMs) / median(counting.store.lengthMs)
    const idsRatio = median(counting.connectRedis.idsMs) / median(counting.store.idsMs)
    lines.push(
      `- 4. \`length()\` over ${fmtInt(counting.sessions)} sessions at least ${TARGETS.lengthSpeedup}x faster than connect-redis: ${met(lengthRatio >= TARGETS.lengthSpeedup)}: ${fmtRatio(lengthRatio)}.`,
    )
    lines.push(
      `- 4. \`ids()\` over ${fmtInt(counting.sessions)} sessions at least ${TARGETS.idsSpeedup}x faster: ${met(idsRatio >= TARGETS.idsSpeedup)}: ${fmtRatio(idsRatio)}.`,
    )
  }
  const listing = scale.ok && scale.value.listing.ok ? scale.value.listing.value : undefined
  if (listing === undefined)
    lines.push(`- 4. One user's sessions among 1,000,000 under ${TARGETS.listingMs} ms median: ${notMeasured('the step failed')}.`)
  else {
    const p50 = percentile(
      [...listing.latenciesMs].sort((a, b) => a - b),
      50,
    )
    lines.push(
      `- 4. One user's sessions among ${fmtInt(listing.sessions)} listed in under ${TARGETS.listingMs} ms median: ${met(p50 < TARGETS.listingMs)} (${fmtMs(p50)} ms).`,
    )
  }
  return lines
}

/** 5. Write spread on a 3-master Cluster. */
function clusterLines(input: ReportInput): string[] {
  const { hotKeys } = input
  if (!hotKeys.ok) return [`- 5. Cluster write spread: ${notMeasured('the step failed')}.`]
  const { writes, busiestKey, perMaster } = hotKeys.value
  const keyShare = busiestKey.writes / writes
  const masterShare = Math.max(...perMaster) / writes
  return [
    `- 5. No key above ${TARGETS.hotKeyShare * 100}% of the write commands: ${met(keyShare <= TARGETS.hotKeyShare)} (${(keyShare * 100).toFixed(2)}%).`,
    `- 5. No master above ${TARGETS.hotMasterShare * 100}%: ${met(masterShare <= TARGETS.hotMasterShare)} (${(masterShare * 100).toFixed(1)}%).`,
  ]
}

/** Issue 16: the token middleware against bare Express, and the near-cached store against MemoryStore. */
export function hotPathLines(variants: readonly VariantResult[]): string[] {
  const bare = roundsOf(variants, 'bare')
  if (bare === undefined) return [`- Every target: ${notMeasured('bare Express failed')}.`]
  const p99 = (entry: Measured) => median(pairedP99(entry, bare))
  // A short run (BENCH_VARIANTS) may leave a variant out: no lines for it.
  const of = (key: string, name: string, lines: (entry: Measured) => string[]): string[] => {
    if (!variants.some(({ spec }) => spec.key === key)) return []
    const entry = roundsOf(variants, key)
    return entry === undefined ? [`- ${name}: ${notMeasured('the variant failed')}.`] : lines(entry)
  }
  return [
    ...of('token-near', '1. `sessions()` + near-cache', (near) => {
      const throughput = median(paired(near, bare))
      const extraUs = appCpuPerRequest(near).totalUs - appCpuPerRequest(bare).totalUs
      return [
        `- 1. \`sessions()\` + near-cache at least ${HOT_PATH.nearThroughput}x bare Express's throughput: ${met(throughput >= HOT_PATH.nearThroughput)}: ${fmtRatio(throughput)}.`,
        `- 1. ... and at most ${HOT_PATH.nearExtraCpuUs} µs more app CPU per request: ${met(extraUs <= HOT_PATH.nearExtraCpuUs)}: ${extraUs.toFixed(0)} µs (${appCpuPerRequest(near).totalUs.toFixed(0)} vs ${appCpuPerRequest(bare).totalUs.toFixed(0)}).`,
        `- 1. ... p99 latency at most ${HOT_PATH.p99}x bare Express's: ${met(p99(near) <= HOT_PATH.p99)}: ${fmtRatio(p99(near))}.`,
      ]
    }),
    ...of('token', '1. `sessions()` defaults', (defaults) => [
      `- 1. \`sessions()\` defaults at least ${HOT_PATH.defaultsThroughput}x bare Express's throughput: ${against(defaults, bare, HOT_PATH.defaultsThroughput)}.`,
      `- 1. ... p99 latency at most ${HOT_PATH.p99}x bare Express's: ${met(p99(defaults) <= HOT_PATH.p99)}: ${fmtRatio(p99(defaults))}.`,
    ]),
    ...of('bare-deferred', 'bare Express deferred a turn', (deferred) => {
      // A near-cache hit is answered a turn later too, so this is the like-for-like ceiling for it.
      const near = roundsOf(variants, 'token-near')
      const againstNear =
        near === undefined
          ? ''
          : ` Against it, \`sessions()\` + near-cache: ${fmtRatio(median(paired(near, deferred)))} of its throughput, by app CPU ${fmtRatio(cpuRatio(near, deferred))}.`
      return [
        `- For reference, bare Express with each request handed on one turn later (as a near-cache hit is): ${fmtRatio(median(paired(deferred, bare)))} of its throughput, by app CPU ${fmtRatio(cpuRatio(deferred, bare))}.${againstNear}`,
      ]
    }),
    ...of('store-near', '3. the near-cached store', (store) => {
      const memory = roundsOf(variants, 'memory')
      if (memory === undefined) return []
      return [
        `- 3. Over HTTP, the near-cached store's app CPU per request against MemoryStore's (which also serialises): ${appCpuPerRequest(store).totalUs.toFixed(0)} vs ${appCpuPerRequest(memory).totalUs.toFixed(0)} µs; the step-by-step comparison is in the micro section.`,
      ]
    }),
  ]
}

function against(entry: Measured | undefined, base: Measured | undefined, target: number): string {
  if (entry === undefined || base === undefined) return notMeasured('a variant failed')
  const throughput = median(paired(entry, base))
  const cpu = cpuRatio(entry, base)
  return (
    `${verdictOf(throughput, cpu, target)}: throughput ${fmtRatio(throughput)}, by app CPU per request ${fmtRatio(cpu)} ` +
    `(${appCpuPerRequest(entry).totalUs.toFixed(0)} vs ${appCpuPerRequest(base).totalUs.toFixed(0)} µs)`
  )
}

/** Throughput and app CPU must agree; on a busy 2-core machine they sometimes do not. */
function verdictOf(throughputRatio: number, cpu: number, target: number): string {
  if (throughputRatio >= target && cpu >= target) return met(true)
  if (throughputRatio < target && cpu < target) return met(false)
  return '**unclear** (throughput and CPU per request disagree: rerun on a quiet machine)'
}
