// A request's time budget as a renewal sees it: on a fake monotonic clock, no Redis.
import { isUnavailableError } from 'sessionvault'
import { RequestDeadline } from '../../lib/middleware/request-deadline'

test('a renewal may start while half of the budget is left, not after', () => {
  let now = 1_000
  const deadline = new RequestDeadline(400, () => now)
  expect(deadline.roomToRenew()).toBe(true)
  now += 200
  expect(deadline.roomToRenew()).toBe(true)
  now += 1
  expect(deadline.roomToRenew()).toBe(false)
})

test('with timeoutMs 0 there is always room, and the budget never passes', async () => {
  let now = 0
  const deadline = new RequestDeadline(0, () => now)
  now += 1e9
  expect(deadline.roomToRenew()).toBe(true)
  await expect(deadline.bound(Promise.resolve('done'), 'sessions')).resolves.toBe('done')
  expect(deadline.passed).toBe(false)
})

test('once the answer has given up, the budget has passed and leaves no room', async () => {
  const deadline = new RequestDeadline(20)
  const never = new Promise<never>(() => undefined)
  const error: unknown = await deadline.bound(never, 'sessions').catch((caught: unknown) => caught)
  expect(isUnavailableError(error)).toBe(true)
  expect(deadline.passed).toBe(true)
  expect(deadline.roomToRenew()).toBe(false)
})

test('work that finishes in time leaves the budget unpassed', async () => {
  const deadline = new RequestDeadline(1_000)
  await expect(deadline.bound(Promise.resolve(1), 'sessions')).resolves.toBe(1)
  expect(deadline.passed).toBe(false)
})
