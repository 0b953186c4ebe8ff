/** The memory, scale and Cluster parts of the sessions bench's section (pure: figures in, text out). */
import { commandList, fmtInt, fmtMs, fmtPercent, fmtRatio, span } from './format'
import type { HotKeys, HotKeysPlan } from './hot-keys'
import type { LoginRoundTrips } from './login-round-trips'
import type { MemoryLayer, MemoryPlan } from './memory'
import type { Outcome } from './outcome'
import type { CountResult, ListingResult, ScalePlan, ScaleResult } from './scale'
import { median, percentile } from './stats'

export function memoryTable(memory: Outcome<MemoryLayer[]>, plan: MemoryPlan, sessionBytes: number): string[] {
  const intro =
    `Each layer creates ${fmtInt(plan.sessions)} sessions through its real API on a fresh private redis-server (FLUSHALL first, then one session ` +
    `outside the count, so scripts and connections are in place): the express-session stores with \`set()\` (100 in flight), as express-session calls it, ` +
    `with sessions of about ${sessionBytes} bytes of JSON; the token middleware with one login per user (one session each) over HTTP. ` +
    'The cost is `used_memory` after minus before, per session.'
  if (!memory.ok) return [intro, '', `failed: ${memory.error}`]
  const base = memory.value.find((layer) => layer.key === 'connect-redis')?.result
  const baseBytes = base?.ok ? base.value.bytesPerSession : NaN
  return [
    intro,
    '',
    '| layer | Redis memory / session | vs connect-redis | Redis keys / session | sessions created in |',
    '|---|---:|---:|---:|---:|',
    ...memory.value.map(({ key, name, result }) => {
      if (!result.ok) return `| ${name} | failed: ${result.error} | | | |`
      const { bytesPerSession, keysPerSession, fillSeconds } = result.value
      return (
        `| ${name} | ${fmtInt(bytesPerSession)} B | ${key === 'connect-redis' ? 'baseline' : fmtRatio(bytesPerSession / baseBytes)} | ` +
        `${keysPerSession.toFixed(2)} | ${fillSeconds.toFixed(1)} s |`
      )
    }),
  ]
}

export function scaleLines(scale: Outcome<ScaleResult>, login: Outcome<LoginRoundTrips>, plan: ScalePlan): string[] {
  const loginLine = login.ok
    ? `A token login (a new user's, after a first login loaded the scripts), under MONITOR: the app sent ${login.value.sent.length} commands ` +
      `(${login.value.sent.join(', ')}), ${login.value.sent.filter((name) => name === 'evalsha' || name === 'eval').length} of them scripts, ` +
      `which ran ${login.value.inScripts} commands inside Redis.`
    : `Token login round trips: failed: ${login.error}`
  if (!scale.ok) return [`Stores at scale: failed: ${scale.error}`, '', loginLine]
  const { sets, counting, listing } = scale.value
  return [
    `Each store fills a database of its own on a private server with its own \`set()\`, ${plan.inFlight} calls in flight; RedisSessionStore with \`userOf\` (its per-user index). ` +
      `For the listing, RedisSessionStore is then filled with \`set()\` (${fmtInt(plan.bulkInFlight)} in flight) up to ${fmtInt(plan.listingSessions)} sessions, ${plan.sessionsPerUser} per user` +
      (listing.ok
        ? ` (${listing.value.fillSeconds.toFixed(0)} s; ${fmtInt(listing.value.bytesPerSession)} B of Redis memory per session added at that size)`
        : '') +
      '; `listUserSessions()` is then called one call at a time, for users all over the index, each answer checked.',
    '',
    '| measurement | connect-redis | RedisSessionStore | ratio |',
    '|---|---:|---:|---:|',
    `| ${fmtInt(sets.sessions)} \`set()\` calls, ${plan.inFlight} in flight, s | ${sets.connectRedisSeconds.toFixed(2)} | ${sets.storeSeconds.toFixed(2)} | ` +
      `${fmtRatio(sets.storeSeconds / sets.connectRedisSeconds)} connect-redis's time |`,
    ...countRows(counting),
    listingRow(listing),
    '',
    loginLine,
  ]
}

function countRows(counting: Outcome<CountResult>): string[] {
  if (!counting.ok) return [`| \`length()\` and \`ids()\` | failed: ${counting.error} | | |`]
  const { sessions, connectRedis, store, lengthCommands } = counting.value
  const faster = (theirs: number[], ours: number[]) => `${fmtRatio(median(theirs) / median(ours))} faster`
  const commands = ({ commands, scripts, byName }: CountResult['lengthCommands']['store']) =>
    `${fmtInt(commands)} commands (${commandList(byName, 1) || '–'})${scripts ? ` in ${fmtInt(scripts)} scripts` : ''}`
  return [
    `| \`length()\` over ${fmtInt(sessions)} sessions, median ms of ${store.lengthMs.length} calls (min–max) | ${span(connectRedis.lengthMs, fmtMs)} | ${span(store.lengthMs, fmtMs)} | ${faster(connectRedis.lengthMs, store.lengthMs)} |`,
    `| \`ids()\` over ${fmtInt(sessions)} sessions, median ms (min–max) | ${span(connectRedis.idsMs, fmtMs)} | ${span(store.idsMs, fmtMs)} | ${faster(connectRedis.idsMs, store.idsMs)} |`,
    `| what one \`length()\` asks of Redis | ${commands(lengthCommands.connectRedis)} | ${commands(lengthCommands.store)} | |`,
  ]
}

function listingRow(listing: Outcome<ListingResult>): string {
  if (!listing.ok) return `| \`listUserSessions(u)\` | no per-user index | failed: ${listing.error} | |`
  const { sessions, planned, latenciesMs } = listing.value
  const sorted = [...latenciesMs].sort((a, b) => a - b)
  const short = sessions < planned ? ` (the fill stopped at its time limit, short of ${fmtInt(planned)})` : ''
  return (
    `| \`listUserSessions(u)\`: one user's sessions among ${fmtInt(sessions)}${short}, median / p99 ms over ${fmtInt(latenciesMs.length)} calls | ` +
    `no per-user index | ${fmtMs(percentile(sorted, 50))} / ${fmtMs(percentile(sorted, 99))} | |`
  )
}

export function hotKeysLines(hotKeys: Outcome<HotKeys>, plan: HotKeysPlan): string[] {
  const intro =
    `${fmtInt(plan.logins)} token logins (each a new device) of ${fmtInt(plan.users)} users through \`sessions()\` on a private 3-master Redis Cluster ` +
    '(RedisCache with `tagDepth: 3`), with a MONITOR on every master: each write command a master ran (by the `write` flag of its COMMAND entry), ' +
    "a script's own writes included, counted by master and by each key it wrote. Even spread: one third per master, and no key much above the others."
  if (!hotKeys.ok) return [intro, '', `failed: ${hotKeys.error}`]
  const { writes, keys, busiestKey, perMaster, logins } = hotKeys.value
  const busiestMaster = Math.max(...perMaster)
  const key = busiestKey.key.length > 80 ? `${busiestKey.key.slice(0, 77)}…` : busiestKey.key
  return [
    intro,
    '',
    '| measurement | value |',
    '|---|---:|',
    `| write commands, per login | ${fmtInt(writes)}, ${(writes / logins).toFixed(1)} |`,
    `| distinct keys written | ${fmtInt(keys)} |`,
    `| busiest key's share of the writes | ${fmtPercent(busiestKey.writes / writes)} (${fmtInt(busiestKey.writes)} writes: ${commandList(busiestKey.commands, 1)}) |`,
    `| busiest master's share of the writes | ${fmtPercent(busiestMaster / writes)} (per master: ${perMaster.map((count) => fmtPercent(count / writes)).join(', ')}) |`,
    '',
    `The busiest key: \`${key.replace(/`/g, "'")}\`.`,
  ]
}
