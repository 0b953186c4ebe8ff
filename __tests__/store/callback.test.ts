// settle(): a store method's outcome to its callback, or to the returned promise. Pure, no Redis.
import { settle } from '../../lib/store/callback'

const turn = () => new Promise((resolve) => setImmediate(resolve))

afterEach(() => jest.restoreAllMocks())

test('without a callback, the work itself is returned', () => {
  const work = Promise.resolve(1)
  expect(settle(work, undefined)).toBe(work)
})

test('a value goes to the callback as (null, value), once, and the returned promise resolves to nothing after it', async () => {
  const callback = jest.fn()
  await expect(settle(Promise.resolve('v'), callback)).resolves.toBeUndefined()
  expect(callback.mock.calls).toEqual([[null, 'v']])
  await turn()
  expect(callback).toHaveBeenCalledTimes(1)
})

test('an error goes to the callback alone, once, and the returned promise still resolves', async () => {
  const failure = new Error('boom')
  const callback = jest.fn()
  await expect(settle(Promise.reject(failure), callback)).resolves.toBeUndefined()
  expect(callback.mock.calls).toEqual([[failure]])
})

test.each([
  ['a value', () => Promise.resolve('v')],
  ['an error', () => Promise.reject(new Error('boom'))],
])('a callback that throws on %s is called once, and its error is thrown outside the promise chain', async (_, work) => {
  const thrown = new Error('from the callback')
  const rethrows: (() => void)[] = []
  jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => void rethrows.push(task))
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => void rejections.push(reason)
  process.on('unhandledRejection', onRejection)
  try {
    const callback = jest.fn(() => {
      throw thrown
    })
    void settle(work(), callback)
    await turn()
    await turn()
    expect(callback).toHaveBeenCalledTimes(1)
    expect(rethrows).toHaveLength(1)
    expect(rethrows[0]).toThrow(thrown)
    expect(rejections).toEqual([])
  } finally {
    process.off('unhandledRejection', onRejection)
  }
})
