/** bench/ratios.svg: each variant's throughput as a share of bare Express, drawn by hand (pure). */

export interface ChartRow {
  label: string
  /** Median of the per-round ratios, with their smallest and largest; undefined for a variant that did not run. */
  ratio?: { median: number; low: number; high: number }
  /** Why it did not run. */
  note?: string
  /** Bar colour. */
  color: string
}

export interface ChartMarker {
  at: number
  label: string
}

const WIDTH = 880
const LABEL_WIDTH = 300
const BAR_LEFT = LABEL_WIDTH + 10
const BAR_WIDTH = WIDTH - BAR_LEFT - 60
const ROW_HEIGHT = 30
const TOP = 84
const BOTTOM = 40

export function ratioChart(title: string, subtitle: string, rows: readonly ChartRow[], markers: readonly ChartMarker[]): string {
  const highest = Math.max(1.1, ...rows.map((row) => row.ratio?.high ?? 0), ...markers.map((marker) => marker.at))
  const scale = Math.ceil(highest * 10) / 10
  const x = (ratio: number) => BAR_LEFT + (Math.max(0, ratio) / scale) * BAR_WIDTH
  const height = TOP + rows.length * ROW_HEIGHT + BOTTOM
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="42" fill="#555">${escape(subtitle)}</text>`,
  ]
  // Grid every 0.1, labelled every 0.2.
  for (let tick = 0; tick <= scale + 1e-9; tick += 0.1) {
    const at = x(tick).toFixed(1)
    parts.push(`<line x1="${at}" y1="${TOP - 4}" x2="${at}" y2="${height - BOTTOM + 4}" stroke="#eee"/>`)
    if (Math.round(tick * 10) % 2 === 0)
      parts.push(`<text x="${at}" y="${height - BOTTOM + 20}" text-anchor="middle" fill="#555">${tick.toFixed(1)}x</text>`)
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW_HEIGHT
    const mid = y + ROW_HEIGHT / 2
    parts.push(`<text x="${LABEL_WIDTH}" y="${mid + 4}" text-anchor="end">${escape(row.label)}</text>`)
    if (row.ratio === undefined) {
      parts.push(`<text x="${BAR_LEFT + 4}" y="${mid + 4}" fill="#888" font-style="italic">${escape(row.note ?? 'not measured')}</text>`)
      return
    }
    const { median, low, high } = row.ratio
    parts.push(
      `<rect x="${BAR_LEFT}" y="${y + 6}" width="${(x(median) - BAR_LEFT).toFixed(1)}" height="${ROW_HEIGHT - 12}" fill="${row.color}"/>`,
    )
    // The whisker: the spread over rounds.
    parts.push(`<line x1="${x(low).toFixed(1)}" y1="${mid}" x2="${x(high).toFixed(1)}" y2="${mid}" stroke="#222"/>`)
    for (const end of [low, high])
      parts.push(`<line x1="${x(end).toFixed(1)}" y1="${mid - 5}" x2="${x(end).toFixed(1)}" y2="${mid + 5}" stroke="#222"/>`)
    parts.push(`<text x="${(x(Math.max(median, high)) + 6).toFixed(1)}" y="${mid + 4}">${median.toFixed(2)}x</text>`)
  })
  markers.forEach((marker, i) => {
    const at = x(marker.at).toFixed(1)
    parts.push(`<line x1="${at}" y1="${TOP - 4 - 14 * i}" x2="${at}" y2="${height - BOTTOM + 4}" stroke="#c00" stroke-dasharray="4 3"/>`)
    // Stacked, so that labels of close markers do not overlap.
    parts.push(`<text x="${at}" y="${TOP - 8 - 14 * i}" text-anchor="middle" fill="#c00" font-size="11">${escape(marker.label)}</text>`)
  })
  parts.push('</svg>', '')
  return parts.join('\n')
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
