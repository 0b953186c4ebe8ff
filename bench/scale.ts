/**
 * The stores with many sessions, through their public API only: 100,000 `set()` calls against
 * connect-redis's, `length()` / `ids()` against connect-redis's SCAN, and listing one user's
 * sessions among a million.
 *
 * Each store gets a database of its own on a private server, so connect-redis's SCAN walks only
 * its own keys (its best case).
 */
import { performance } from 'node:perf_hooks'
import { RedisStore } from 'connect-redis'
import type { SessionData } from 'express-session'
import type { RedisClientType } from 'redis'
import type { RedisSessionStore } from '../lib'
import { benchUser, sessionData, sessionId, userOf } from './bench-data'
import { library } from './library'
import { attempt, type Outcome } from './outcome'
import { inParallel, TimeLimitError } from './parallel'
import { connect } from './private-redis'
import { callsBetween, commandCalls, countCommands, usedMemory, type CommandCount } from './redis-info'
import { storeSet } from './store-set'

export interface ScalePlan {
  /** Sessions each store writes with `set()`, and then counts. */
  sessions: number
  /** `set()` calls in flight while filling. */
  inFlight: number
  /** Sessions the store holds for the listing test (the extra ones written with `set()` too). */
  listingSessions: number
  /** `set()` calls in flight while filling up to `listingSessions`: more than `inFlight`, as only the result is timed. */
  bulkInFlight: number
  sessionsPerUser: number
  /** Calls of each of length()/ids() per store, interleaved. */
  countCalls: number
  listingCalls: number
  listingWarmupCalls: number
  /** Time limits, so that a slow machine shortens the run instead of hanging it. */
  fillLimitMs: number
  bulkFillLimitMs: number
  countLimitMs: number
  listingLimitMs: number
}

export interface SetResult {
  sessions: number
  connectRedisSeconds: number
  storeSeconds: number
}

export interface CountResult {
  sessions: number
  connectRedis: { lengthMs: number[]; idsMs: number[] }
  store: { lengthMs: number[]; idsMs: number[] }
  /** What one length() call asks of Redis. */
  lengthCommands: { connectRedis: CommandCount; store: CommandCount }
}

export interface ListingResult {
  sessions: number
  /** Filled this far before `bulkFillLimitMs`: fewer than planned on a slow machine. */
  planned: number
  fillSeconds: number
  bytesPerSession: number
  latenciesMs: number[]
}

export interface ScaleResult {
  sets: SetResult
  counting: Outcome<CountResult>
  listing: Outcome<ListingResult>
}

const CONNECT_REDIS_DB = 1
const STORE_DB = 2

export async function measureScale(url: string, plan: ScalePlan, log: (line: string) => void): Promise<ScaleResult> {
  const admin = await connect(url)
  const crClient = await connect(url, CONNECT_REDIS_DB)
  const svClient = await connect(url, STORE_DB)
  let opened: RedisSessionStore | undefined
  try {
    // length() and ids() over 100,000 sessions can take longer than the default 2 s bound: measure, don't cut.
    const store = new (library().RedisSessionStore)({ client: svClient, userOf, timeoutMs: 60_000 })
    opened = store
    await admin.flushAll()
    const connectRedis = new RedisStore({ client: crClient })
    const data = (n: number): SessionData => sessionData(benchUser(Math.floor(n / plan.sessionsPerUser)))

    log(`scale: ${plan.sessions} set() calls, ${plan.inFlight} in flight, into connect-redis, then into RedisSessionStore (with userOf)`)
    const sets: SetResult = {
      sessions: plan.sessions,
      connectRedisSeconds: await inParallel(plan.sessions, plan.inFlight, plan.fillLimitMs, (n) =>
        storeSet(connectRedis, sessionId(), data(n)),
      ),
      storeSeconds: await inParallel(plan.sessions, plan.inFlight, plan.fillLimitMs, (n) => storeSet(store, sessionId(), data(n))),
    }

    log(`scale: length() and ids() over ${plan.sessions} sessions, interleaved`)
    const counting = await attempt('length() and ids()', () => countBoth(connectRedis, store, plan, admin), log)

    log(`scale: set() into RedisSessionStore up to ${plan.listingSessions} sessions, then listUserSessions()`)
    const listing = await attempt('listUserSessions()', () => measureListing(store, svClient, plan, data), log)
    return { sets, counting, listing }
  } finally {
    await opened?.close().catch(() => undefined)
    await admin.flushAll().catch(() => undefined)
    await Promise.allSettled([admin.close(), crClient.close(), svClient.close()])
  }
}

/** length() and ids() of both stores, alternating, each call checked. */
async function countBoth(
  connectRedis: RedisStore,
  store: RedisSessionStore,
  plan: ScalePlan,
  admin: RedisClientType,
): Promise<CountResult> {
  const commandsOf = async (call: () => Promise<unknown>) => {
    const before = await commandCalls(admin)
    await call()
    return countCommands(callsBetween([before], [await commandCalls(admin)]))
  }
  const connectRedisTimes = { lengthMs: [] as number[], idsMs: [] as number[] }
  const storeTimes = { lengthMs: [] as number[], idsMs: [] as number[] }
  const stopAt = performance.now() + plan.countLimitMs
  for (let i = 0; i < plan.countCalls && performance.now() < stopAt; i++) {
    const calls: [string, number[], () => Promise<number>][] = [
      ['connect-redis length()', connectRedisTimes.lengthMs, async () => (await connectRedis.length()) as number],
      ['RedisSessionStore length()', storeTimes.lengthMs, () => store.length()],
      ['connect-redis ids()', connectRedisTimes.idsMs, async () => ((await connectRedis.ids()) as string[]).length],
      ['RedisSessionStore ids()', storeTimes.idsMs, async () => (await store.ids()).length],
    ]
    // Alternate who goes first, so neither always follows the other's garbage.
    for (const [what, times, call] of i % 2 === 0 ? calls : calls.reverse()) {
      const start = performance.now()
      const count = await call()
      times.push(performance.now() - start)
      if (count !== plan.sessions) throw new Error(`${what} counted ${count} sessions, expected ${plan.sessions}`)
    }
  }
  // One more call each, alone and warm (scripts loaded): what a call asks of Redis.
  const lengthCommands = { connectRedis: await commandsOf(() => connectRedis.length()), store: await commandsOf(() => store.length()) }
  return { sessions: plan.sessions, connectRedis: connectRedisTimes, store: storeTimes, lengthCommands }
}

/** Fills the store with `set()` up to `listingSessions` (or the time limit), then times listUserSessions of spread-out users. */
async function measureListing(
  store: RedisSessionStore,
  client: RedisClientType,
  plan: ScalePlan,
  data: (n: number) => SessionData,
): Promise<ListingResult> {
  const memoryBefore = await usedMemory(client)
  const added = plan.listingSessions - plan.sessions
  const start = performance.now()
  let filled = plan.listingSessions
  try {
    await inParallel(added, plan.bulkInFlight, plan.bulkFillLimitMs, (n) => storeSet(store, sessionId(), data(plan.sessions + n)))
  } catch (error) {
    if (!(error instanceof TimeLimitError)) throw error
    filled = plan.sessions + error.done
  }
  const fillSeconds = (performance.now() - start) / 1000
  const bytesPerSession = ((await usedMemory(client)) - memoryBefore) / Math.max(1, filled - plan.sessions)

  // Whole users only (sessions are written in order of their number), and a stride coprime with their count: users all over the index.
  const perUser = plan.sessionsPerUser
  const users = Math.floor(filled / perUser)
  const list = async (i: number) => {
    const userId = (i * 7919) % users
    const found = await store.listUserSessions(userId)
    if (found.length !== perUser || found.some((entry) => entry.session.benchUser?.id !== userId)) {
      throw new Error(`listUserSessions(${userId}) found ${found.length} sessions, expected ${perUser} of that user`)
    }
  }
  for (let i = 0; i < plan.listingWarmupCalls; i++) await list(i)
  const latenciesMs: number[] = []
  const listStop = performance.now() + plan.listingLimitMs
  for (let i = 0; i < plan.listingCalls && performance.now() < listStop; i++) {
    const t0 = performance.now()
    await list(plan.listingWarmupCalls + i)
    latenciesMs.push(performance.now() - t0)
  }
  return { sessions: filled, planned: plan.listingSessions, fillSeconds, bytesPerSession, latenciesMs }
}
