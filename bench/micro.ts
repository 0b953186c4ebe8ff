/**
 * `npm run bench:micro`: the steps of an authenticated request, each timed in isolation (ns per
 * operation), so that a regression in any one shows by itself rather than as a blur in the HTTP
 * bench. The token middleware's steps (read the cookie, verify its signature, find the session's
 * key and hash its secret, the near-cache lookup and its decoded copy, check the record, the
 * request's context and deadline), then the whole middleware and the store's per-request calls
 * on a near-cache hit, on a private redis-server. Writes its section of bench/RESULTS.md.
 */
import { randomBytes } from 'node:crypto'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { loadavg } from 'node:os'
import type { Request, Response } from 'express'
import { MemoryStore, type SessionData } from 'express-session'
import { NearCacheMap } from '../lib/cache/near-cache'
import { jsonSerializer } from '../lib/cache/serializer'
import { readShared } from '../lib/cache/shared-read'
import { readStoredText } from '../lib/cache/stored-text'
import { withDeadline } from '../lib/shared/deadline'
import { resolveSessionsOptions } from '../lib/middleware/options'
import { readSessionRecord } from '../lib/middleware/records'
import { RequestDeadline } from '../lib/middleware/request-deadline'
import { RequestSession } from '../lib/middleware/request-session'
import { verifyToken } from '../lib/middleware/signing'
import { freshness } from '../lib/middleware/timing'
import { hashSecret, splitToken } from '../lib/middleware/token'
import { presentedToken } from '../lib/middleware/transport'
import { VerifiedTokens } from '../lib/middleware/verified-tokens'
import type { CredentialsCache } from '../lib/middleware/credentials-cache'
import { rememberedHashedIds, REMEMBERED_IDS } from '../lib/store/stored-id'
import { startRedisServer } from '../scripts/redis-server'
import {
  NEAR_CACHE,
  SESSION_MS,
  TOKEN_CACHE,
  TOUCH_AFTER_S,
  benchUser,
  sessionData,
  sessionId,
  tokenMetadata,
  userOf,
  type BenchUser,
} from './bench-data'
import { library } from './library'
import { machine } from './machine'
import { timeAsync, timeSync, type MicroPlan, type Timing } from './micro-timer'
import { connect } from './private-redis'
import { RESULTS, writeSection } from './results-file'
import { giveUpAfter } from './give-up'

const SECTION_START = '<!-- bench:micro:start -->'
const SECTION_END = '<!-- bench:micro:end -->'
/** As many sessions as the HTTP bench rotates over. */
const SESSIONS = 64
const FULL: MicroPlan = { samples: 7, syncOps: 100_000, asyncOps: 20_000, inFlight: 50 }
// BENCH_SMOKE=1: every step once, small, to check the bench itself; writes no results.
const SMOKE = process.env['BENCH_SMOKE'] === '1'
const PLAN: MicroPlan = SMOKE ? { samples: 1, syncOps: 1_000, asyncOps: 500, inFlight: 50 } : FULL
// MICRO_ONLY=<text>: only the steps whose name holds it (e.g. `store`, to profile them); writes no results.
const ONLY = process.env['MICRO_ONLY'] || undefined
const RUN_LIMIT_MS = 5 * 60_000
const SECRET = randomBytes(32).toString('base64url')
/** Cookies a browser often sends beside the session's. */
const OTHER_COOKIES = '_ga=GA1.1.1234567890.1700000000; theme=dark; consent=analytics%3Dno'

interface Row {
  step: string
  covers: string
  timing: Timing
}

async function main(): Promise<void> {
  giveUpAfter('bench:micro', RUN_LIMIT_MS)
  const loadAtStart = loadavg()[0] ?? NaN
  const server = await startRedisServer()
  const admin = await connect(server.url)
  const client = await connect(server.url)
  const { RedisCache, RedisSessionStore, sessions } = library()
  const cache = new RedisCache({ client, ...TOKEN_CACHE, nearCache: NEAR_CACHE })
  const plainCache = new RedisCache({ client, ...TOKEN_CACHE })
  const store = new RedisSessionStore({ client, userOf, touchAfterMs: TOUCH_AFTER_S * 1000, nearCache: NEAR_CACHE })
  const rows: Row[] = []
  const chosen = (step: string) => ONLY === undefined || step.includes(ONLY)
  const sync = (step: string, covers: string, run: (i: number) => unknown) => {
    if (!chosen(step)) return
    rows.push({ step, covers, timing: timeSync(run, PLAN) })
    console.log(`bench:micro: ${step}`)
  }
  const async = async (step: string, covers: string, run: (i: number) => Promise<unknown>) => {
    if (!chosen(step)) return
    rows.push({ step, covers, timing: await timeAsync(run, PLAN) })
    console.log(`bench:micro: ${step}`)
  }
  try {
    const info = await machine(admin)
    const options = { cache, secret: SECRET, cookie: { secure: false } }
    const auth = sessions<BenchUser>(options)
    const resolved = resolveSessionsOptions<BenchUser>(options)
    const signed: string[] = []
    for (let n = 0; n < SESSIONS; n++) signed.push(await logIn(auth, n))
    const pick = <T>(items: readonly T[], i: number) => items[i % items.length] as T
    const alone = signed.map((value) => ({ headers: { cookie: `${resolved.cookie.name}=${value}` } }) as unknown as Request)
    const among = signed.map(
      (value) => ({ headers: { cookie: `${OTHER_COOKIES}; ${resolved.cookie.name}=${value}` } }) as unknown as Request,
    )
    const tokens = signed.map((value) => verifyToken(value, resolved.signingKeys)?.token as string)
    const valueKeys = tokens.map((token) => valueKeyOf(token))
    const texts = await Promise.all(valueKeys.map(async (key) => (await admin.get(key)) as string))
    const map = new NearCacheMap(NEAR_CACHE.maxEntries)
    for (let n = 0; n < SESSIONS; n++) map.beginRead(pick(valueKeys, n)).finish(pick(texts, n), 30 * 60_000)
    const decode = (text: string) => {
      const read = readStoredText(text)
      return read.kind === 'value' ? jsonSerializer.parse(read.text) : undefined
    }
    const records = texts.map((text) => readSessionRecord(decode(text)))
    const credentials = undefined as unknown as CredentialsCache
    const timing = resolved.timing

    sync('cookie: the token, alone', '`presentedToken`: the session cookie is the only one', (i) =>
      presentedToken(pick(alone, i), resolved.cookie, true),
    )
    sync('cookie: the token, among 3 others', "`presentedToken`: a browser's usual few cookies", (i) =>
      presentedToken(pick(among, i), resolved.cookie, true),
    )
    sync('verify: HMAC signature', "`verifyToken`: shape, HMAC-SHA256, constant-time compare (a token's first request)", (i) =>
      verifyToken(pick(signed, i), resolved.signingKeys),
    )
    const verifiedTokens = new VerifiedTokens(resolved.signingKeys)
    sync(
      'verify: a token verified before',
      "`VerifiedTokens.verify` of a token it knows: one map lookup by the signed text (these strings keep their hash; a request's fresh header text is hashed once more)",
      (i) => verifiedTokens.verify(pick(signed, i)),
    )
    sync('token: split + SHA-256 of the secret', "`splitToken` and `hashSecret` (a token's first request)", (i) =>
      hashSecret((splitToken(pick(tokens, i)) as { secret: string }).secret),
    )
    sync('near-cache: map lookup', '`NearCacheMap.lookup` of one of 64 hot keys', (i) => map.lookup(pick(valueKeys, i)))
    const full = new NearCacheMap(NEAR_CACHE.maxEntries)
    for (let n = 0; n < NEAR_CACHE.maxEntries; n++) full.beginRead(`full:${n}`).finish(pick(texts, n), 30 * 60_000)
    sync(
      'near-cache: a copy into a full map',
      `a read's copy stored into a near-cache holding its ${NEAR_CACHE.maxEntries.toLocaleString('en-US')} entries (a new key each time: the least recently used goes)`,
      (i) => full.beginRead(`new:${i}`).finish(pick(texts, i), 30 * 60_000),
    )
    sync('near-cache: decode the copy', 'stored text → header check → `JSON.parse` (the copy each `get` returns)', (i) =>
      decode(pick(texts, i)),
    )
    sync('record: check + freshness', '`readSessionRecord` and `freshness`', (i) => {
      const record = pick(records, i)
      return record && freshness(record, Date.now(), timing)
    })
    sync('context: req.auth + deadline', '`new RequestSession` (`req.auth`) and `new RequestDeadline`', (i) => {
      const context = new RequestSession<BenchUser>(pick(alone, i), {} as Response, credentials, resolved)
      const deadline = new RequestDeadline(resolved.timeoutMs)
      return deadline.roomToRenew() && context
    })
    await async('deadline: a bounded call', "`withDeadline` around an answered promise (the middleware's `deadline.bound`)", (i) =>
      withDeadline(Promise.resolve(i), resolved.timeoutMs, 'sessions'),
    )
    await async('cache.get: near-cache hit', '`RedisCache.getTimed` of a hot record: lookup, turn, decode', (i) =>
      cache.get(keyOf(pick(tokens, i))),
    )
    await async(
      'cache: shared read, near-cache hit',
      'what the middleware reads with: lookup, turn, the copy decoded once and shared (frozen)',
      (i) => readShared(cache, keyOf(pick(tokens, i))),
    )
    await async(
      'baseline: request objects',
      'a Node request and response object and a resolved promise: included in the two rows below',
      async (i) => {
        const { req } = requestObjects(`${resolved.cookie.name}=${pick(signed, i)}`)
        return Promise.resolve(req)
      },
    )
    await async('middleware: near-cache hit', '`sessions()` on a request with a hot session, to `next()`', (i) =>
      runMiddleware(auth, pick(signed, i), resolved.cookie.name),
    )
    const plainAuth = sessions<BenchUser>({ ...options, cache: plainCache })
    await async('middleware: one GET', 'the same without the near-cache (includes the round trip)', (i) =>
      runMiddleware(plainAuth, pick(signed, i), resolved.cookie.name),
    )

    const memory = new MemoryStore()
    const sids = Array.from({ length: SESSIONS }, () => sessionId())
    for (let n = 0; n < SESSIONS; n++) {
      const data = sessionData(benchUser(n))
      await promised<void>((done) => memory.set(pick(sids, n), data, (error) => done(error)))
      await store.set(pick(sids, n), data)
    }
    const storedIdOf = rememberedHashedIds()
    for (let n = 0; n < REMEMBERED_IDS; n++) storedIdOf(`full:${n}`)
    sync(
      'store: a new session id, its hash remembered',
      `the store's hash of an id it has not seen, kept among the ${REMEMBERED_IDS.toLocaleString('en-US')} it remembers (SHA-256 included)`,
      (i) => storedIdOf(`new:${i}`),
    )
    const sessionJson = JSON.stringify(sessionData(benchUser(SESSIONS)))
    sync('store: session JSON parse', "the `JSON.parse` a store's `get` must do (a fresh object each request)", () =>
      JSON.parse(sessionJson),
    )
    sync('store: session JSON parse + stringify', "what MemoryStore's `touch` adds on top of that", () =>
      JSON.stringify(JSON.parse(sessionJson)),
    )
    // Both stores are called as express-session calls them: with callbacks.
    await async(
      'store: get + touch, near-cache',
      'RedisSessionStore `get` then `touch` (`touchAfterMs`, near-cache hit), with callbacks as express-session calls them',
      async (i) => {
        const sid = pick(sids, i)
        const session = (await promised<SessionData | null | undefined>((done) => void store.get(sid, done))) as SessionData
        // As express-session does on every request (`req.session.touch()`): the cookie's expiry moves on.
        session.cookie.expires = new Date(Date.now() + SESSION_MS)
        await promised<void>((done) => void store.touch(sid, session, () => done(undefined)))
      },
    )
    await async(
      'store: MemoryStore get + touch',
      'MemoryStore `get` then `touch` (it parses on get, parses and stringifies on touch), with callbacks',
      async (i) => {
        const sid = pick(sids, i)
        const session = (await promised<SessionData | null | undefined>((done) => memory.get(sid, done))) as SessionData
        session.cookie.expires = new Date(Date.now() + SESSION_MS)
        await promised<void>((done) => memory.touch(sid, session, () => done(undefined)))
      },
    )

    const section = report(rows, {
      machine: `${info.cpu}, ${info.cores} cores; Node ${info.node}; redis-server ${info.redis}`,
      load: `load average ${loadAtStart.toFixed(1)} at start, ${(loadavg()[0] ?? NaN).toFixed(1)} at end`,
    })
    console.log(section)
    if (SMOKE || ONLY !== undefined) {
      console.log('bench:micro: a smoke run or a choice of steps, results not written')
      return
    }
    writeSection(SECTION_START, SECTION_END, section)
    console.log(`bench:micro: wrote ${RESULTS}`)
  } finally {
    await store.close().catch(() => undefined)
    await cache.close().catch(() => undefined)
    await client.close().catch(() => undefined)
    await admin.close().catch(() => undefined)
    await server.stop()
  }

  /** The Redis value key of a token's session record, as the cache names it. */
  function valueKeyOf(token: string): string {
    return (cache as unknown as { layout: { place(parts: unknown[]): { valueKey: string } } }).layout.place(keyOf(token)).valueKey
  }
}

/** The cache key of a token's session (records.ts). */
function keyOf(token: string): string[] {
  const parts = splitToken(token) as { userKey: string; sessionId: string }
  return ['u', parts.userKey, 's', parts.sessionId]
}

type Middleware = ReturnType<ReturnType<typeof library>['sessions']>

/** One socket for every request object: making one costs more than the steps measured. No I/O goes through it. */
const SOCKET = new Socket()

/** A fresh request and response, as Node's HTTP server makes for each request. */
function requestObjects(cookie: string): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(SOCKET)
  req.headers = { cookie }
  return { req, res: new ServerResponse(req) }
}

/** A request through the middleware, from its headers to `next()`: real http request and response objects, no socket I/O. */
function runMiddleware(auth: Middleware, signed: string, cookieName: string): Promise<unknown> {
  const { req, res } = requestObjects(`${cookieName}=${signed}`)
  return new Promise((resolve, reject) => {
    auth(req as Request, res as unknown as Response, (error?: unknown) =>
      error === undefined ? resolve((req as Request).auth.user) : reject(error),
    )
  })
}

/** Logs user `n` in through the middleware's own `login`; resolves to the signed token. */
async function logIn(auth: Middleware, n: number): Promise<string> {
  const { req, res } = requestObjects('')
  await new Promise<void>(
    (resolve, reject) =>
      void auth(req as Request, res as unknown as Response, (error?: unknown) => (error === undefined ? resolve() : reject(error))),
  )
  const { token } = await auth.of(req as Request).login(benchUser(n), { metadata: tokenMetadata() })
  return token
}

function promised<T>(call: (done: (error: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value as T))))
}

function report(rows: readonly Row[], run: { machine: string; load: string }): string {
  const ns = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–')
  return [
    SECTION_START,
    '## Micro: the steps of an authenticated request',
    '',
    'Command: `npm run bench:micro`  ',
    `Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}  `,
    `Machine: ${run.machine}; ${run.load}`,
    '',
    `Each step alone, over ${SESSIONS} sessions in rotation: a warm-up, then ${PLAN.samples} samples (median, and the smallest–largest sample). ` +
      `Synchronous steps: ${PLAN.syncOps.toLocaleString('en-US')} calls a sample, in a loop. Asynchronous ones: ${PLAN.asyncOps.toLocaleString('en-US')} calls a sample, ` +
      `${PLAN.inFlight} in flight (as with the HTTP bench's connections). CPU time (user + system, median of the samples) is the steadier figure on a shared machine: ` +
      'it leaves out the time other processes took the core.',
    '',
    '| step | what it covers | ns / op | samples | CPU ns / op |',
    '|---|---|---:|---:|---:|',
    ...rows.map(
      ({ step, covers, timing }) =>
        `| ${step} | ${covers} | ${ns(timing.ns)} | ${ns(timing.spread[0])}–${ns(timing.spread[1])} | ${ns(timing.cpuNs)} |`,
    ),
    ...storeVerdict(rows),
    SECTION_END,
  ].join('\n')
}

/**
 * Issue 16's target for the store, in CPU time: its calls of a request (`get`, `touch`) cost no
 * more than MemoryStore's minus the serialisation MemoryStore does beyond the one parse every
 * store needs (the parse and stringify of each touch).
 */
function storeVerdict(rows: readonly Row[]): string[] {
  const cpu = (step: string) => rows.find((row) => row.step === step)?.timing.cpuNs
  const ours = cpu('store: get + touch, near-cache')
  const memory = cpu('store: MemoryStore get + touch')
  const serialisation = cpu('store: session JSON parse + stringify')
  if (ours === undefined || memory === undefined || serialisation === undefined) return []
  const bound = memory - serialisation
  const us = (value: number) => `${(value / 1000).toFixed(1)} µs`
  return [
    '',
    `Store target (issue 16), CPU per request: RedisSessionStore ${us(ours)}; MemoryStore ${us(memory)} minus its touch's parse and stringify ` +
      `(${us(serialisation)}) = ${us(bound)}: ${ours <= bound ? 'met' : `not met (${us(ours - bound)} over)`}.`,
  ]
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
