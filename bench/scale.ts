/**
 * The stores with many sessions: Redis memory per session, `length()` / `ids()` against
 * connect-redis's SCAN, and listing one user's sessions among a million.
 *
 * Each store gets a database of its own on the private server, so connect-redis's SCAN walks
 * only its own keys (its best case), and `used_memory` before and after each fill is that
 * store's cost alone.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { RedisStore } from 'connect-redis'
import type { SessionData } from 'express-session'
import { createClient, type RedisClientType } from 'redis'
import { RedisSessionStore } from '../lib'
// The bulk fill writes the store's own layout, with its own keys, indexes and text.
import { POINTER_INDEX, SESSION_INDEX, sessionKey, userSessionKey } from '../lib/store/session-keys'
import { encodeStored } from '../lib/store/stored-session'
import { median } from './stats'
import { SESSION_MS, type BenchUser } from './sessions'
import { callsBetween, commandCalls, usedMemory } from './redis-info'

type Client = RedisClientType

export interface ScalePlan {
  /** Sessions each store holds for the memory and length/ids comparison. */
  sessions: number
  /** Sessions the store holds for the listing test (the extra ones written in bulk). */
  listingSessions: number
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

export interface MemoryResult {
  sessions: number
  sessionBytes: number
  connectRedisBytes: number
  storeBytes: number
  /** Where the store's bytes go, per session, from MEMORY USAGE. */
  storeParts: { sessionKey: number; userPointer: number; indexes: number; byIndex: Map<string, number> }
  connectRedisKey: number
  connectRedisFillSeconds: number
  storeFillSeconds: number
}

export interface CountResult {
  sessions: number
  connectRedis: { lengthMs: number[]; idsMs: number[] }
  store: { lengthMs: number[]; idsMs: number[] }
  /** Redis commands one length() call costs, per command name (a script's own commands included). */
  lengthCommands: { connectRedis: Map<string, number>; store: Map<string, number> }
}

export interface ListingResult {
  sessions: number
  /** Filled this far before `bulkFillLimitMs`: fewer than planned on a slow machine. */
  planned: number
  bulkFillSeconds: number
  bytesPerSession: number
  latenciesMs: number[]
}

export interface ScaleResult {
  memory: MemoryResult
  counting: CountResult
  listing: ListingResult
}

const CONNECT_REDIS_DB = 1
const STORE_DB = 2
const FILL_IN_FLIGHT = 64
const BULK_BATCH = 500
const BULK_IN_FLIGHT = 4

export async function measureScale(url: string, plan: ScalePlan, log: (line: string) => void): Promise<ScaleResult> {
  const admin = await connect(url, 0)
  const crClient = await connect(url, CONNECT_REDIS_DB)
  const svClient = await connect(url, STORE_DB)
  try {
    await admin.flushAll()
    const connectRedis = new RedisStore({ client: crClient })
    // length() and ids() over 100,000 sessions can take longer than the default 2 s bound: measure, don't cut.
    const store = new RedisSessionStore({ client: svClient, userOf: (data: SessionData) => data.benchUser?.id, timeoutMs: 60_000 })
    const sids = Array.from({ length: plan.sessions }, sid)
    const data = (n: number) => sessionData(n, plan.sessionsPerUser)

    log(`filling ${plan.sessions} sessions into connect-redis, then into RedisSessionStore (with userOf)`)
    const memoryStart = await usedMemory(admin)
    const crFill = await timed(() => fill(plan.sessions, plan.fillLimitMs, (n) => connectRedis.set(sids[n] as string, data(n))))
    const afterConnectRedis = await usedMemory(admin)
    const svFill = await timed(() => fill(plan.sessions, plan.fillLimitMs, (n) => store.set(sids[n] as string, data(n))))
    const afterStore = await usedMemory(admin)
    const memory: MemoryResult = {
      sessions: plan.sessions,
      sessionBytes: median(Array.from({ length: 100 }, (_, n) => Buffer.byteLength(JSON.stringify(data(n))))),
      connectRedisBytes: (afterConnectRedis - memoryStart) / plan.sessions,
      storeBytes: (afterStore - afterConnectRedis) / plan.sessions,
      storeParts: await storeParts(svClient, plan.sessions),
      connectRedisKey: await averageUsage(crClient, 'string', () => true),
      connectRedisFillSeconds: crFill,
      storeFillSeconds: svFill,
    }

    log(`length() and ids() over ${plan.sessions} sessions, interleaved`)
    const counting = await countBoth(connectRedis, store, plan, admin)

    log(`filling RedisSessionStore up to ${plan.listingSessions} sessions for listUserSessions()`)
    const listing = await measureListing(store, admin, plan, afterConnectRedis)
    return { memory, counting, listing }
  } finally {
    await admin.flushAll()
    await Promise.all([admin.close(), crClient.close(), svClient.close()])
  }
}

/** An express-session-like session of about 200 bytes: cookie, user, CSRF secret. */
function sessionData(n: number, perUser: number): SessionData {
  const user: BenchUser = { id: Math.floor(n / perUser), name: `user-${Math.floor(n / perUser)}` }
  return {
    cookie: { originalMaxAge: SESSION_MS, expires: new Date(Date.now() + SESSION_MS), httpOnly: true, path: '/', sameSite: 'lax' },
    benchUser: user,
    benchCsrf: randomBytes(18).toString('base64url'),
  }
}

/** An express-session-sized id (uid-safe's 24 bytes). */
function sid(): string {
  return randomBytes(24).toString('base64url')
}

/** Calls `write(n)` for n below `count`, FILL_IN_FLIGHT at a time, within `limitMs`. */
async function fill(count: number, limitMs: number, write: (n: number) => Promise<unknown>): Promise<void> {
  const stopAt = performance.now() + limitMs
  let next = 0
  const worker = async () => {
    while (next < count) {
      if (performance.now() > stopAt) throw new Error(`writing ${count} sessions took over ${limitMs / 1000} s`)
      await write(next++)
    }
  }
  await Promise.all(Array.from({ length: FILL_IN_FLIGHT }, worker))
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now()
  await run()
  return (performance.now() - start) / 1000
}

/** Bytes per session of the store's three kinds of record, and of each level of index, from MEMORY USAGE. */
async function storeParts(client: Client, sessions: number): Promise<MemoryResult['storeParts']> {
  // A user pointer holds nothing; a session holds `<expiry>|<json>`.
  const sessionKeyBytes = await averageUsage(client, 'string', (length) => length > 0)
  const pointerBytes = await averageUsage(client, 'string', (length) => length === 0)
  const byIndex = new Map<string, number>()
  let pages = 0
  for await (const keys of client.scanIterator({ TYPE: 'zset', COUNT: 1_000 })) {
    for (const key of keys) {
      const level = indexLevel(key)
      byIndex.set(level, (byIndex.get(level) ?? 0) + ((await client.memoryUsage(key, { SAMPLES: 0 })) ?? 0) / sessions)
    }
    if (++pages > 10_000) break
  }
  const indexes = [...byIndex.values()].reduce((sum, bytes) => sum + bytes, 0)
  return { sessionKey: sessionKeyBytes, userPointer: pointerBytes, indexes, byIndex }
}

/**
 * Which prefix an index key lists, for the memory breakdown: `_index:{ns#3}` (every record),
 * `_index:{ns:sess#3}` (one kind), `_index:{ns:user:42}` (one user). Reads the cache's key
 * encoding (base64url of a type letter and the text), so a change there only blurs the labels.
 */
function indexLevel(key: string): string {
  const inner = /^_index:\{([^}#]*)(#\d+)?\}/.exec(key)
  if (!inner) return 'other'
  const parts = (inner[1] ?? '').split(':').slice(1).map((segment) => Buffer.from(segment, 'base64url').toString('utf8').slice(1))
  if (parts.length === 0) return '[]'
  if (parts.length === 1) return `['${parts[0]}']`
  return `['${parts[0]}', id]`
}

/** MEMORY USAGE averaged over up to 1,000 keys of a type whose value length passes `accept`. */
async function averageUsage(client: Client, type: string, accept: (length: number) => boolean): Promise<number> {
  const sizes: number[] = []
  let pages = 0
  for await (const keys of client.scanIterator({ TYPE: type, COUNT: 1_000 })) {
    for (const key of keys) {
      if (sizes.length < 1_000 && accept(await client.strLen(key))) sizes.push((await client.memoryUsage(key)) ?? 0)
    }
    if (sizes.length >= 1_000 || ++pages > 1_000) break
  }
  return sizes.reduce((sum, size) => sum + size, 0) / Math.max(1, sizes.length)
}

/** length() and ids() of both stores, alternating, each call checked. */
async function countBoth(connectRedis: RedisStore, store: RedisSessionStore, plan: ScalePlan, admin: Client): Promise<CountResult> {
  const commandsOf = async (call: () => Promise<unknown>) => {
    const before = await commandCalls(admin)
    await call()
    return callsBetween([before], [await commandCalls(admin)])
  }
  const result: CountResult = {
    sessions: plan.sessions,
    connectRedis: { lengthMs: [], idsMs: [] },
    store: { lengthMs: [], idsMs: [] },
    lengthCommands: { connectRedis: new Map(), store: new Map() },
  }
  const stopAt = performance.now() + plan.countLimitMs
  for (let i = 0; i < plan.countCalls && performance.now() < stopAt; i++) {
    const calls: [string, number[], () => Promise<number>][] = [
      ['connect-redis length()', result.connectRedis.lengthMs, async () => (await connectRedis.length()) as number],
      ['RedisSessionStore length()', result.store.lengthMs, () => store.length()],
      ['connect-redis ids()', result.connectRedis.idsMs, async () => ((await connectRedis.ids()) as string[]).length],
      ['RedisSessionStore ids()', result.store.idsMs, async () => (await store.ids()).length],
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
  result.lengthCommands = { connectRedis: await commandsOf(() => connectRedis.length()), store: await commandsOf(() => store.length()) }
  return result
}

/**
 * Adds sessions in bulk (the store's layout, written with putMany: store.set's guarded write per
 * session would take minutes), then times listUserSessions of spread-out users, one at a time.
 */
async function measureListing(store: RedisSessionStore, admin: Client, plan: ScalePlan, memoryBase: number): Promise<ListingResult> {
  const perUser = plan.sessionsPerUser
  const start = performance.now()
  const stopAt = start + plan.bulkFillLimitMs
  let next = plan.sessions
  const worker = async () => {
    while (next < plan.listingSessions && performance.now() < stopAt) {
      const from = next
      next = Math.min(plan.listingSessions, next + BULK_BATCH)
      const sessions = []
      const pointers = []
      for (let n = from; n < next; n++) {
        const id = sid()
        const session = sessionData(n, perUser)
        const text = encodeStored({ expiresAtMs: Date.now() + SESSION_MS, text: JSON.stringify(session) })
        sessions.push({ key: sessionKey(id), value: text })
        pointers.push({ key: userSessionKey(String(session.benchUser?.id), id), value: '' })
      }
      // As store.set writes them: the sessions, then their users' pointers, each kind indexed where it is listed.
      await store.cache.putMany(sessions, { ttlMs: SESSION_MS, ...SESSION_INDEX })
      await store.cache.putMany(pointers, { ttlMs: SESSION_MS, ...POINTER_INDEX })
    }
  }
  await Promise.all(Array.from({ length: BULK_IN_FLIGHT }, worker))
  const filled = next
  const bulkFillSeconds = (performance.now() - start) / 1000
  const bytesPerSession = ((await usedMemory(admin)) - memoryBase) / filled

  // Whole users only, and a stride coprime with their count: users all over the index.
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
  return { sessions: filled, planned: plan.listingSessions, bulkFillSeconds, bytesPerSession, latenciesMs }
}

async function connect(url: string, database: number): Promise<Client> {
  const client = createClient({ url, database })
  client.on('error', (error: unknown) => console.error('bench: redis client error', error))
  await client.connect()
  return client
}
