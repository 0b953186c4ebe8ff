/** bench/RESULTS.md is shared by the benches: each replaces only its own marked section. */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const RESULTS = join(__dirname, 'RESULTS.md')

export function writeSection(startMark: string, endMark: string, section: string): void {
  let text: string
  try {
    text = readFileSync(RESULTS, 'utf8')
  } catch {
    text = '# Benchmark results\n\nWritten by the bench scripts; bench/README.md says how to run and read them.\n'
  }
  const start = text.indexOf(startMark)
  const end = text.indexOf(endMark)
  const next =
    start !== -1 && end > start ? text.slice(0, start) + section + text.slice(end + endMark.length) : `${text.trimEnd()}\n\n${section}\n`
  writeFileSync(RESULTS, next)
}
