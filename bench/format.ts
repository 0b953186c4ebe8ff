/** Number formats for the results' tables (pure). */
import { median, range } from './stats'

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–')
export const fmtRatio = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–')
export const fmtMs = (ms: number): string => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 3 : 1) : '–')
export const fmtPercent = (share: number): string => (Number.isFinite(share) ? `${(share * 100).toFixed(share < 0.1 ? 2 : 1)}%` : '–')
/** Commands per request: small figures keep their significant digits. */
export const fmtCommands = (n: number): string =>
  !Number.isFinite(n) ? '–' : n === 0 ? '0' : n < 0.001 ? n.toExponential(1) : n.toFixed(n < 0.1 ? 4 : 2)

/** The median, then the smallest and largest, of per-round figures. */
export function span(values: readonly number[], format: (n: number) => string): string {
  const [low, high] = range(values)
  return `${format(median(values))} (${format(low)}–${format(high)})`
}

/** `name count, name count`: the largest first, leaving out those under 0.005. */
export function commandList(commands: ReadonlyMap<string, number>, per: number): string {
  return [...commands]
    .map(([name, count]): [string, number] => [name, count / per])
    .filter(([, count]) => count >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${count >= 100 ? fmtInt(count) : fmtCommands(count)}`)
    .join(', ')
}
