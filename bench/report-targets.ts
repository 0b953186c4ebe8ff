/** The targets of issue 6, each met or not by this run's figures (pure). */
import { fmtCommands, fmtInt, fmtMs, fmtRatio } from './format'
import { cpuRatio, paired, roundsOf } from './paired'
import type { ReportInput } from './report'
import { median, percentile } from './stats'
import { appCpuPerRequest, type Measured } from './throughput'

const TARGETS = {
  tokenNearVsBare: 0.9,
  storeNearVsMemory: 1.0,
  storeNearVsConnectRedis: 1.15,
  nearCommandsPerRequest: 0.01,
  listingMs: 1,
  countSpeedup: 10,
  memoryVsConnectRedis: 1.5,
}

const met = (ok: boolean) => (ok ? '**met**' : '**NOT met**')
const notMeasured = (why: string) => `**not measured** (${why})`

export function targetLines(input: ReportInput): string[] {
  const variant = (key: string) => roundsOf(input.variants, key)
  const bare = variant('bare')
  const memory = variant('memory')
  const connectRedis = variant('connect-redis')
  const tokenNear = variant('token-near')
  const storeNear = variant('store-near')
  const lines: string[] = []

  const against = (entry: Measured | undefined, base: Measured | undefined, target: number) => {
    if (entry === undefined || base === undefined) return notMeasured('a variant failed')
    const throughput = median(paired(entry, base))
    const cpu = cpuRatio(entry, base)
    return `${verdictOf(throughput, cpu, target)}: throughput ${fmtRatio(throughput)}, by app CPU per request ${fmtRatio(cpu)} ` +
      `(${appCpuPerRequest(entry).totalUs.toFixed(0)} vs ${appCpuPerRequest(base).totalUs.toFixed(0)} µs)`
  }
  lines.push(`- Token middleware + near-cache at least ${TARGETS.tokenNearVsBare}x bare Express: ${against(tokenNear, bare, TARGETS.tokenNearVsBare)}.`)
  lines.push(`- express-session + RedisSessionStore (near-cache, touchAfter) at least ${TARGETS.storeNearVsMemory}x MemoryStore: ${against(storeNear, memory, TARGETS.storeNearVsMemory)}.`)
  lines.push(`- ... and at least ${TARGETS.storeNearVsConnectRedis}x connect-redis: ${against(storeNear, connectRedis, TARGETS.storeNearVsConnectRedis)}.`)

  const nearSoaks = input.soaks.filter(({ spec }) => spec.key === 'token-near' || spec.key === 'store-near')
  const nearFigures = nearSoaks.flatMap(({ spec, result }) => (result.ok ? [{ key: spec.key, perRequest: result.value.count.commands / Math.max(1, result.value.requests) }] : []))
  lines.push(`- Redis commands per authenticated request with the near-cache at most ${TARGETS.nearCommandsPerRequest}, over the soak: ` +
    (nearFigures.length < 2 ? notMeasured('a soak failed') : `${met(nearFigures.every((figure) => figure.perRequest <= TARGETS.nearCommandsPerRequest))}: ` +
      nearFigures.map((figure) => `${figure.key} ${fmtCommands(figure.perRequest)}`).join(', ')) + '.')

  const { scale } = input
  const listing = scale.ok && scale.value.listing.ok ? scale.value.listing.value : undefined
  if (listing === undefined) lines.push(`- Listing one user's sessions among 1,000,000 under ${TARGETS.listingMs} ms median: ${notMeasured('the step failed')}.`)
  else {
    const p50 = percentile([...listing.latenciesMs].sort((a, b) => a - b), 50)
    lines.push(`- Listing one user's sessions among ${fmtInt(listing.sessions)} under ${TARGETS.listingMs} ms median: ${met(p50 < TARGETS.listingMs)} (${fmtMs(p50)} ms).`)
  }

  const counting = scale.ok && scale.value.counting.ok ? scale.value.counting.value : undefined
  if (counting === undefined) lines.push(`- \`length()\` and \`ids()\` at least ${TARGETS.countSpeedup}x faster than connect-redis: ${notMeasured('the step failed')}.`)
  else {
    const lengthRatio = median(counting.connectRedis.lengthMs) / median(counting.store.lengthMs)
    const idsRatio = median(counting.connectRedis.idsMs) / median(counting.store.idsMs)
    lines.push(`- \`length()\` and \`ids()\` over ${fmtInt(counting.sessions)} sessions at least ${TARGETS.countSpeedup}x faster than connect-redis: ` +
      `${met(lengthRatio >= TARGETS.countSpeedup && idsRatio >= TARGETS.countSpeedup)}: length ${fmtRatio(lengthRatio)}, ids ${fmtRatio(idsRatio)}.`)
  }

  const layers = input.memory.ok ? input.memory.value : []
  const bytesOf = (key: string) => {
    const found = layers.find((layer) => layer.key === key)?.result
    return found?.ok ? found.value.bytesPerSession : undefined
  }
  const base = bytesOf('connect-redis')
  const withUser = bytesOf('store-user')
  const defaults = bytesOf('store')
  lines.push(`- Redis memory per session at most ${TARGETS.memoryVsConnectRedis}x connect-redis's (RedisSessionStore with \`userOf\`): ` +
    (base === undefined || withUser === undefined ? notMeasured('a layer failed')
      : `${met(withUser / base <= TARGETS.memoryVsConnectRedis)}: ${fmtInt(withUser)} B vs ${fmtInt(base)} B (${fmtRatio(withUser / base)})` +
        (defaults === undefined ? '' : `; without \`userOf\`: ${fmtInt(defaults)} B (${fmtRatio(defaults / base)})`)) + '.')
  return lines
}

/** Throughput and app CPU must agree; on a busy 2-core machine they sometimes do not. */
function verdictOf(throughputRatio: number, cpu: number, target: number): string {
  if (throughputRatio >= target && cpu >= target) return met(true)
  if (throughputRatio < target && cpu < target) return met(false)
  return '**unclear** (throughput and CPU per request disagree: rerun on a quiet machine)'
}
