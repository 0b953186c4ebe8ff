/** Runs many calls with a fixed number in flight, within a time limit (a slow machine fails loudly, never hangs). */
import { performance } from 'node:perf_hooks'

export class TimeLimitError extends Error {
  override name = 'TimeLimitError'
  constructor(
    readonly done: number,
    readonly planned: number,
    limitMs: number,
  ) {
    super(`only ${done} of ${planned} calls done within ${limitMs / 1000} s`)
  }
}

/**
 * Calls `call(n)` for every n below `count`, `inFlight` at a time. Resolves to the seconds it took;
 * past `limitMs`, starts no more calls and rejects with a `TimeLimitError` once those in flight end.
 */
export async function inParallel(count: number, inFlight: number, limitMs: number, call: (n: number) => Promise<unknown>): Promise<number> {
  const start = performance.now()
  const stopAt = start + limitMs
  let next = 0
  let done = 0
  const worker = async () => {
    while (next < count && performance.now() < stopAt) {
      await call(next++)
      done++
    }
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker))
  if (done < count) throw new TimeLimitError(done, count, limitMs)
  return (performance.now() - start) / 1000
}
