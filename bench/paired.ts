/** Comparing variants round by round: both ran in the same round, so background load hit both alike (pure). */
import type { Outcome } from './outcome'
import type { VariantSpec } from './sessions'
import { appCpuPerRequest, type Measured } from './throughput'

/** A variant's throughput rounds, or why it has none (its app did not start, or failed under load). */
export interface VariantResult {
  spec: VariantSpec
  result: Outcome<Measured>
}

/** The measured rounds of a variant with no failure; undefined otherwise. */
export function roundsOf(variants: readonly VariantResult[], key: string): Measured | undefined {
  const found = variants.find((variant) => variant.spec.key === key)?.result
  return found?.ok && found.value.error === undefined ? found.value : undefined
}

/** Per-round throughput ratios of `a` to `b`: paired, since both ran in the same round. */
export function paired(a: Measured, b: Measured): number[] {
  return a.rounds.map((round, i) => round.reqPerSec / (b.rounds[i]?.reqPerSec ?? NaN))
}

/** Per-round p99 latency ratios of `a` to `b`. */
export function pairedP99(a: Measured, b: Measured): number[] {
  return a.rounds.map((round, i) => round.p99Ms / (b.rounds[i]?.p99Ms ?? NaN))
}

/** `base`'s app CPU per request over `entry`'s: the throughput ratio if the app's CPU is the limit. */
export function cpuRatio(entry: Measured, base: Measured): number {
  return appCpuPerRequest(base).totalUs / appCpuPerRequest(entry).totalUs
}
