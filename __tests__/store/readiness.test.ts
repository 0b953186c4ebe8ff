// The disconnect/connect signalling of whenUnavailable: 'skip', on fake timers: pure logic, no Redis.
import { EventEmitter } from 'node:events'
import { CacheError } from 'sessionvault'
import { Readiness } from '../../lib/store/readiness'

const INTERVAL_MS = 500
const outage = () => new CacheError('REDIS_UNAVAILABLE', 'Redis is unavailable', { operation: 'get' })

beforeEach(() => jest.useFakeTimers())
afterEach(() => jest.useRealTimers())

function watched(probe: () => Promise<unknown>) {
  const events = new EventEmitter()
  const seen: string[] = []
  events.on('disconnect', () => seen.push('disconnect'))
  events.on('connect', () => seen.push('connect'))
  return { readiness: new Readiness(events, probe, INTERVAL_MS), seen }
}

test('an outage emits disconnect once, then a successful probe emits connect', async () => {
  const { readiness, seen } = watched(async () => undefined)
  readiness.failed(outage())
  readiness.failed(outage())
  await jest.advanceTimersByTimeAsync(INTERVAL_MS)
  expect(seen).toEqual(['disconnect', 'connect'])
})

test('an error that is not an outage emits nothing', async () => {
  const { readiness, seen } = watched(async () => undefined)
  readiness.failed(new CacheError('UNDECODABLE_VALUE', 'bad', { operation: 'get' }))
  await jest.advanceTimersByTimeAsync(10 * INTERVAL_MS)
  expect(seen).toEqual([])
})

test('after stop(), nothing is probed', async () => {
  const probe = jest.fn(() => Promise.reject(outage()))
  const { readiness } = watched(probe)
  readiness.failed(outage())
  await jest.advanceTimersByTimeAsync(INTERVAL_MS)
  expect(probe).toHaveBeenCalledTimes(1)
  readiness.stop()
  await jest.advanceTimersByTimeAsync(10 * INTERVAL_MS)
  expect(probe).toHaveBeenCalledTimes(1)
})

test('a probe in flight when stop() is called emits nothing', async () => {
  let answer: () => void = () => undefined
  const { readiness, seen } = watched(() => new Promise<void>((resolve) => (answer = resolve)))
  readiness.failed(outage())
  await jest.advanceTimersByTimeAsync(INTERVAL_MS)
  readiness.stop()
  answer()
  await jest.advanceTimersByTimeAsync(INTERVAL_MS)
  expect(seen).toEqual(['disconnect'])
})
