/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from `BENCH_CPU_PROF=<dir>`): where the
 * time went, by function (self time) and by file or package, as shares of the busy (not idle) time. With a
 * request count, also as µs per request.
 *
 *   npx ts-node --transpile-only bench/profile-summary.ts <file.cpuprofile> [requests] [top]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Self time in µs per node id. */
function selfTimes(profile: Profile): Map<number, number> {
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  return self
}

/** A file's place: its package under node_modules, else its path from the project root, else V8's name for it. */
function placeOf(url: string): string {
  if (url === '') return '(native / V8)'
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (module) return module[1] as string
  if (url.startsWith('node:')) return url
  const project = /\/(lib|bench|scripts)\/(.+)$/.exec(url)
  return project ? `${project[1]}/${project[2]}` : url
}

export function summarise(profile: Profile, requests: number | undefined, top: number): string {
  const self = selfTimes(profile)
  // Shares of the busy time: an app under load in rounds is idle between them.
  for (const node of profile.nodes) if (node.callFrame.functionName === '(idle)') self.delete(node.id)
  const total = [...self.values()].reduce((sum, us) => sum + us, 0)
  const byFunction = new Map<string, number>()
  const byPlace = new Map<string, number>()
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0
    if (us === 0) continue
    const { functionName, url, lineNumber } = node.callFrame
    const place = placeOf(url)
    const name = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + us)
    byPlace.set(place, (byPlace.get(place) ?? 0) + us)
  }
  const line = ([name, us]: [string, number]) =>
    `${((100 * us) / total).toFixed(1).padStart(5)}%  ${requests ? `${(us / requests).toFixed(2).padStart(7)} µs/req  ` : ''}${name}`
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(line)
  return [
    `profile: ${(total / 1e6).toFixed(2)} s of busy samples (idle left out)${requests ? `, ${requests} requests: ${(total / requests).toFixed(1)} µs/req` : ''}`,
    '',
    'by file or package (self time):',
    ...ranked(byPlace),
    '',
    'by function (self time):',
    ...ranked(byFunction),
  ].join('\n')
}

if (require.main === module) {
  const [file, requests, top] = process.argv.slice(2)
  if (file === undefined) {
    console.error('usage: bench/profile-summary.ts <file.cpuprofile> [requests] [top]')
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  console.log(summarise(profile, requests === undefined ? undefined : Number(requests), Number(top ?? 40)))
}
