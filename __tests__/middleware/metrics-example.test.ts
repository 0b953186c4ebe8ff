/**
 * The Prometheus example (examples/metrics) on the suite's Redis, with a near-cache: requests
 * move the series `/metrics` shows, and no token or user name ends up in them.
 */
import request from 'supertest'
import { RedisCache } from 'sessionvault'
import { createApp, type MetricsApp } from '../../examples/metrics/app'
import { connectStandalone, flushAll, type StandaloneClient } from '../helpers/redis'
import { eventually } from '../helpers/waiting'
import { cookieHeader, SECRET, sessionCookie } from './helpers'

let client: StandaloneClient
let cache: RedisCache
let example: MetricsApp

beforeAll(async () => {
  client = await connectStandalone()
  await flushAll(client)
  cache = new RedisCache({ client, ttlMs: 30 * 60_000, namespace: 'sessions', tagDepth: 3, nearCache: { maxEntries: 1_000 } })
  example = createApp({ cache, secret: SECRET })
})
afterAll(async () => {
  example.stop()
  await cache.close()
  client.destroy()
})

/** The value of one series in a scrape, or undefined when it is absent. */
function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split('\n').find((text) => text.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function scrape(): Promise<string> {
  const res = await request(example.app).get('/metrics').expect(200)
  expect(res.headers['content-type']).toContain('text/plain')
  return res.text
}

test('/metrics shows operation counts, durations, near-cache reads and the breaker, and they move with requests', async () => {
  const login = await request(example.app).post('/login').send({ name: 'alice' }).expect(200)
  const token = sessionCookie(login) as string
  // The near-cache answers once its tracking connection is up and the record has been read once.
  await eventually(
    async () => {
      await request(example.app).get('/me').set(cookieHeader(token)).expect(200)
      return (cache.stats().nearCache?.hits ?? 0) > 0
    },
    5_000,
    'a near-cache hit',
  )
  const before = await scrape()

  for (let i = 0; i < 5; i++) await request(example.app).get('/me').set(cookieHeader(token)).expect(200)
  await request(example.app).post('/logout').set(cookieHeader(token)).expect(200)
  await request(example.app).get('/me').set(cookieHeader(token)).expect(401)
  const after = await scrape()

  // A histogram's series appear with their first observation.
  const moved = (series: string, by: number) => expect((sample(after, series) ?? NaN) - (sample(before, series) ?? 0)).toBe(by)
  // From stats(), read on scrape. Seven requests carried the token: five reads, the logout, the read after it.
  moved('sessionvault_operations_total{layer="middleware",operation="authenticate"}', 7)
  moved('sessionvault_operations_total{layer="middleware",operation="logout"}', 1)
  moved('sessionvault_operations_total{layer="cache",operation="delete"}', 1)
  expect(sample(after, 'sessionvault_operations_total{layer="middleware",operation="login"}')).toBe(1)
  expect(sample(after, 'sessionvault_breaker_open{cache_of="middleware"}')).toBe(0)
  expect(sample(after, 'sessionvault_cache_errors_total{cache_of="middleware"}')).toBe(0)
  expect(sample(after, 'sessionvault_near_cache_entries{cache_of="middleware"}')).toBeGreaterThanOrEqual(0)
  // From the diagnostics channels.
  moved('sessionvault_operation_duration_seconds_count{layer="middleware",operation="authenticate",outcome="ok"}', 7)
  moved('sessionvault_operation_duration_seconds_count{layer="middleware",operation="logout",outcome="ok"}', 1)
  expect(
    sample(after, 'sessionvault_operation_duration_seconds_sum{layer="middleware",operation="authenticate",outcome="ok"}'),
  ).toBeGreaterThan(0)
  expect(
    (sample(after, 'sessionvault_near_cache_reads_total{result="hit"}') ?? NaN) -
      (sample(before, 'sessionvault_near_cache_reads_total{result="hit"}') ?? 0),
  ).toBeGreaterThanOrEqual(4)
  expect(sample(after, 'sessionvault_near_cache_reads_total{result="miss"}')).toBeGreaterThanOrEqual(1)
  // Node's own, beside them.
  expect(after).toContain('process_cpu_user_seconds_total')
  for (const secret of [token, token.split('.')[0] as string, 'alice']) expect(after).not.toContain(secret)
})
