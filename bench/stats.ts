/** Small statistics over per-round figures (pure). */

/** Linear-interpolated quantile, q in [0, 1]; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const at = (sorted.length - 1) * q
  const low = sorted[Math.floor(at)] as number
  const high = sorted[Math.ceil(at)] as number
  return low + (high - low) * (at - Math.floor(at))
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

/** Smallest and largest value: with a handful of rounds, the honest spread. */
export function range(values: readonly number[]): [number, number] {
  return [quantile(values, 0), quantile(values, 1)]
}

/** The value at percentile p (0–100) of an ascending array: nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}
