/**
 * Summarises a V8 CPU profile of a variant's load rounds (`BENCH_CPU_PROF=<dir>`, see
 * rounds-profile.ts): where the busy time went, by function (self time) and by file or package,
 * in µs per request (the request count is in the file's name). With `--against <base profile>`,
 * the difference from the base, largest first: where one variant spends more than another.
 *
 *   npx ts-node --transpile-only bench/profile-summary.ts <file> [--against <base file>] [top]
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** A profile's self time in µs per request, by function and by place. */
interface PerRequest {
  requests: number
  byFunction: Map<string, number>
  byPlace: Map<string, number>
  totalUs: number
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

export function perRequest(profile: Profile, requests: number): PerRequest {
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const byFunction = new Map<string, number>()
  const byPlace = new Map<string, number>()
  let totalUs = 0
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame
    // Busy time only: an app is idle while the other variants run their rounds.
    const us = functionName === '(idle)' ? 0 : (self.get(node.id) ?? 0) / requests
    if (us === 0) continue
    const place = placeOf(url)
    const name = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + us)
    byPlace.set(place, (byPlace.get(place) ?? 0) + us)
    totalUs += us
  }
  return { requests, byFunction, byPlace, totalUs }
}

const us = (value: number) => value.toFixed(2).padStart(7)

export function summarise(profile: PerRequest, top: number): string {
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, value]) => `${((100 * value) / profile.totalUs).toFixed(1).padStart(5)}%  ${us(value)} µs/req  ${name}`)
  return [
    `busy ${profile.totalUs.toFixed(1)} µs per request, over ${profile.requests} requests`,
    '',
    'by file or package (self time):',
    ...ranked(profile.byPlace),
    '',
    'by function (self time):',
    ...ranked(profile.byFunction),
  ].join('\n')
}

export function difference(profile: PerRequest, base: PerRequest, top: number): string {
  const ranked = (ours: Map<string, number>, theirs: Map<string, number>) =>
    [...new Set([...ours.keys(), ...theirs.keys()])]
      .map((name) => ({ name, ours: ours.get(name) ?? 0, theirs: theirs.get(name) ?? 0 }))
      .sort((a, b) => Math.abs(b.ours - b.theirs) - Math.abs(a.ours - a.theirs))
      .slice(0, top)
      .map(
        ({ name, ours, theirs }) =>
          `${(ours - theirs >= 0 ? '+' : '') + (ours - theirs).toFixed(2).padStart(6)}  ${us(theirs)} → ${us(ours)}  ${name}`,
      )
  return [
    `busy ${profile.totalUs.toFixed(1)} µs per request against ${base.totalUs.toFixed(1)} (${profile.requests} and ${base.requests} requests): ` +
      `${(profile.totalUs - base.totalUs).toFixed(1)} µs more`,
    '',
    'by file or package (self time, µs per request: difference, base → this):',
    ...ranked(profile.byPlace, base.byPlace),
    '',
    'by function:',
    ...ranked(profile.byFunction, base.byFunction),
  ].join('\n')
}

/** A profile file and the requests in its name (`<variant>.<requests>req.cpuprofile`). */
function load(file: string): PerRequest {
  const requests = Number(/\.(\d+)req\.cpuprofile$/.exec(basename(file))?.[1])
  if (!(requests > 0)) throw new Error(`${file}: no request count in its name (<variant>.<requests>req.cpuprofile)`)
  return perRequest(JSON.parse(readFileSync(file, 'utf8')) as Profile, requests)
}

if (require.main === module) {
  const args = process.argv.slice(2)
  const against = args.indexOf('--against')
  const base = against === -1 ? undefined : args.splice(against, 2)[1]
  const [file, top = '40'] = args
  if (file === undefined || (against !== -1 && base === undefined)) {
    console.error('usage: bench/profile-summary.ts <file> [--against <base file>] [top]')
    process.exit(2)
  }
  const profile = load(file)
  console.log(base === undefined ? summarise(profile, Number(top)) : difference(profile, load(base), Number(top)))
}
