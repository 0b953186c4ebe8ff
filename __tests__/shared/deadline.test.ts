// withDeadline: one timer per timeout serves every call in flight. Real timers, generous margins.
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { withDeadline } from '../../lib/shared/deadline'
import { isUnavailableError } from 'sessionvault'

const never = () => new Promise<never>(() => undefined)
const outcome = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )

test('a call that finishes in time gives its own value or error', async () => {
  await expect(withDeadline(Promise.resolve('done'), 1_000, 'get')).resolves.toBe('done')
  const failure = new Error('boom')
  await expect(withDeadline(Promise.reject(failure), 1_000, 'get')).rejects.toBe(failure)
})

test('a call past its timeout fails with REDIS_UNAVAILABLE, naming the operation, not before the timeout', async () => {
  const started = performance.now()
  const error: unknown = await withDeadline(never(), 50, 'store.get').catch((caught: unknown) => caught)
  // Timers count whole milliseconds from the loop's clock: allow 1 ms of rounding.
  expect(performance.now() - started).toBeGreaterThanOrEqual(49)
  expect(isUnavailableError(error)).toBe(true)
  expect(error).toMatchObject({ message: 'cache store.get failed: Redis did not answer within 50 ms', operation: 'store.get' })
})

test('of many calls in flight, those that never finish fail and the others keep their outcome', async () => {
  const calls = Array.from({ length: 200 }, (_, i) => outcome(withDeadline(i % 2 === 0 ? Promise.resolve(i) : never(), 40, 'get')))
  const results = await Promise.all(calls)
  results.forEach((result, i) => {
    if (i % 2 === 0) expect(result).toEqual({ value: i })
    else expect(isUnavailableError((result as { error: unknown }).error)).toBe(true)
  })
})

test('a call started later gets its whole timeout, though an older one gave up first', async () => {
  // Wide gaps, so that a busy machine stalling the loop for a while does not blur the order.
  const older = outcome(withDeadline(never(), 200, 'get'))
  await new Promise((resolve) => setTimeout(resolve, 150))
  let settled = false
  const started = performance.now()
  const younger = withDeadline(never(), 200, 'get').finally(() => (settled = true))
  expect(isUnavailableError(((await older) as { error: unknown }).error)).toBe(true)
  expect(settled).toBe(false)
  await younger.catch(() => undefined)
  expect(performance.now() - started).toBeGreaterThanOrEqual(199)
})

test('calls with different timeouts are bounded each by its own', async () => {
  const started = performance.now()
  const long = withDeadline(never(), 300, 'get').catch(() => performance.now() - started)
  const short = withDeadline(never(), 30, 'get').catch(() => performance.now() - started)
  expect(await short).toBeLessThan(250)
  expect(await long).toBeGreaterThanOrEqual(299)
})

test('a late outcome after the timeout is ignored', async () => {
  let finish!: (value: string) => void
  const work = new Promise<string>((resolve) => (finish = resolve))
  const bounded = outcome(withDeadline(work, 20, 'get'))
  await new Promise((resolve) => setTimeout(resolve, 60))
  finish('late')
  expect(isUnavailableError(((await bounded) as { error: unknown }).error)).toBe(true)
})

describe('the process', () => {
  const root = join(__dirname, '../..')
  const run = (script: string) =>
    execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    }).trim()

  test('exits as soon as the calls are done: an idle deadline timer does not hold it', () => {
    const started = Date.now()
    run("require('./lib/shared/deadline').withDeadline(Promise.resolve(1), 60000, 'get').then((v) => console.log(v))")
    // A timer that held the process would keep it for the full 60 s (and hit the 20 s timeout).
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  test('stays alive for a call in flight, to reject it', () => {
    const output = run("require('./lib/shared/deadline').withDeadline(new Promise(() => {}), 200, 'get').catch((e) => console.log(e.code))")
    expect(output).toBe('REDIS_UNAVAILABLE')
  })
})
