// Option validation: every bad option fails at construction and names itself.
import { MemoryCache } from 'sessionvault/cache'
import { OptionError } from 'sessionvault'
import { resolveSessionsOptions } from '../../lib/middleware/options'
import { sessions } from 'sessionvault/middleware'
import { SECRET } from './helpers'
import { clusterBackend, standaloneBackend, useBackend } from '../helpers/redis'

const cache = new MemoryCache({ ttlMs: 60_000 })
const base = { cache, secret: SECRET }

function optionAtFault(build: () => unknown): string | undefined {
  try {
    build()
  } catch (error) {
    if (error instanceof OptionError) return error.option
    throw error
  }
  return undefined
}

test('defaults: 30 min sessions renewed after 15 and ended after 30 days, 10 s of grace, a Secure __Host- Lax cookie', () => {
  const resolved = resolveSessionsOptions(base)
  expect(resolved.timing).toEqual({ ttlMs: 1_800_000, renewAfterMs: 900_000, rotationGraceMs: 10_000, maxAgeMs: 2_592_000_000 })
  expect(resolved.cookie).toEqual({ name: '__Host-session', secure: true, sameSite: 'lax', domain: undefined, path: '/' })
  expect(resolved.secrets).toEqual([SECRET])
  expect(resolved.timeoutMs).toBe(3_000)
  expect(resolved.unavailableStatus).toBe(503)
  expect(resolved.expirySweepMs).toBe(1_000)
})

test('renewAfterMs defaults to half of the ttlMs given', () => {
  expect(resolveSessionsOptions({ ...base, ttlMs: 60_000 }).timing.renewAfterMs).toBe(30_000)
})

test('0 means 0: no grace, renewal on every request, no limit from login, no timeout of our own', () => {
  const resolved = resolveSessionsOptions({ ...base, rotationGraceMs: 0, renewAfterMs: 0, maxAgeMs: 0, timeoutMs: 0 })
  expect(resolved.timing.rotationGraceMs).toBe(0)
  expect(resolved.timing.renewAfterMs).toBe(0)
  expect(resolved.timing.maxAgeMs).toBe(0)
  expect(resolved.timeoutMs).toBe(0)
})

test('a cookie that is not Secure (plain-HTTP development) is named session: __Host- would need Secure', () => {
  expect(resolveSessionsOptions({ ...base, cookie: { secure: false } }).cookie.name).toBe('session')
})

test('a cookie with a domain or a path other than / takes a name of its own', () => {
  const shared = resolveSessionsOptions({ ...base, cookie: { name: '__Secure-session', domain: 'example.com', path: '/app' } }).cookie
  expect(shared).toEqual({ name: '__Secure-session', secure: true, sameSite: 'lax', domain: 'example.com', path: '/app' })
})

test('a list of secrets: the first signs, all verify', () => {
  expect(resolveSessionsOptions({ ...base, secret: [SECRET, `${SECRET}-old`] }).secrets).toEqual([SECRET, `${SECRET}-old`])
})

test.each([
  ['cache', { secret: SECRET }],
  ['cache', { cache: {}, secret: SECRET }],
  ['secret', { cache }],
  ['secret', { cache, secret: 'short' }],
  ['secret', { cache, secret: [] }],
  ['secret[1]', { cache, secret: [SECRET, 'short'] }],
  ['ttlMs', { ...base, ttlMs: 0 }],
  ['ttlMs', { ...base, ttlMs: 1.5 }],
  ['renewAfterMs', { ...base, renewAfterMs: -1 }],
  ['renewAfterMs', { ...base, ttlMs: 1_000, renewAfterMs: 1_000 }],
  ['maxAgeMs', { ...base, maxAgeMs: -1 }],
  ['maxAgeMs', { ...base, ttlMs: 60_000, maxAgeMs: 59_999 }],
  ['rotationGraceMs', { ...base, rotationGraceMs: -1 }],
  ['rotationGraceMs', { ...base, ttlMs: 1_000, rotationGraceMs: 2_000 }],
  ['cookie.name', { ...base, cookie: { name: 'a b' } }],
  ['cookie.sameSite', { ...base, cookie: { sameSite: 'none' } }],
  ['cookie.path', { ...base, cookie: { path: 'x' } }],
  ['cookie.secure', { ...base, cookie: { name: '__Secure-s', secure: false } }],
  ['cookie.name', { ...base, cookie: { name: '__Host-s', domain: 'example.com' } }],
  ['cookie.name', { ...base, cookie: { name: '__host-s', path: '/app' } }],
  ['cookie.name', { ...base, cookie: { domain: 'example.com' } }],
  ['cookie.name', { ...base, cookie: { path: '/app' } }],
  ['renewedTokenHeader', { ...base, renewedTokenHeader: 'bad header' }],
  ['bearer', { ...base, bearer: 'yes' }],
  ['userId', { ...base, userId: 'id' }],
  ['timeoutMs', { ...base, timeoutMs: -5 }],
  ['unavailableStatus', { ...base, unavailableStatus: 200 }],
  ['now', { ...base, now: 5 }],
  ['expirySweepMs', { ...base, expirySweepMs: 0 }],
  ['expirySweepMs', { ...base, expirySweepMs: '1000' }],
])('option `%s` is refused at construction: %j', (option, options) => {
  expect(optionAtFault(() => sessions(options as never))).toBe(option)
})

describe('a RedisCache', () => {
  const cluster = useBackend(clusterBackend)
  const standalone = useBackend(standaloneBackend)

  test.each([1, 2, 4])('on Redis Cluster with tagDepth %i is refused, naming `cache`', async (tagDepth) => {
    const cache = await cluster.cache({ tagDepth })
    expect(optionAtFault(() => sessions({ cache, secret: SECRET }))).toBe('cache')
  })

  test('on Redis Cluster with tagDepth 3, or on a standalone Redis, is accepted', async () => {
    const caches = await Promise.all([cluster.cache({ tagDepth: 3 }), standalone.cache({ tagDepth: 1 })])
    for (const cache of caches) expect(optionAtFault(() => sessions({ cache, secret: SECRET }))).toBeUndefined()
  })
})
