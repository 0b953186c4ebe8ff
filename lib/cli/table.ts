/** Human output: aligned columns, and durations and sizes as people read them. Pure. */

/** Columns padded to their widest cell, numbers aligned right. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))]
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)))
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'))
  return cells
    .map((row) =>
      row
        .map((cell, column) => (numeric[column] ? cell.padStart(widths[column] as number) : cell.padEnd(widths[column] as number)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** A TTL: `-` for none, else the largest two units (`29m 59s`, `23h 59m`, `850ms`). */
export function formatTtl(ms: number): string {
  if (ms < 0) return '-'
  if (ms < 1_000) return `${ms}ms`
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ]
  const parts: string[] = []
  let left = ms
  for (const [unit, size] of units) {
    if (left >= size || parts.length > 0) {
      parts.push(`${Math.floor(left / size)}${unit}`)
      left %= size
    }
    if (parts.length === 2) break
  }
  return parts.join(' ')
}

/** A key as JSON, the way the cache's API takes it: `["u","ada","s","x1"]`. */
export function formatKey(key: readonly (string | number)[]): string {
  return JSON.stringify(key)
}
