/**
 * The queue of requests answered from memory (lib/shared/in-memory-hits.ts): each on the
 * next turn of the event loop, after what that turn's I/O brought, all of a turn's together.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { InMemoryHits } from '../../lib/shared/in-memory-hits'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
const noFailure = (request: unknown, error: unknown) => {
  throw new Error(`unexpected failure of ${String(request)}: ${String(error)}`)
}

test('answers nothing at once, and every request of a turn on the next, in the order they came', async () => {
  const answered: number[] = []
  const hits = new InMemoryHits<number>((request) => answered.push(request), noFailure)
  for (const request of [1, 2, 3]) hits.add(request)
  await Promise.resolve()
  expect(answered).toEqual([])
  await nextTurn()
  expect(answered).toEqual([1, 2, 3])
})

test('a request added while a turn is answered waits for the next turn', async () => {
  const answered: string[] = []
  const hits: InMemoryHits<string> = new InMemoryHits<string>((request) => {
    answered.push(request)
    if (request === 'first') hits.add('later')
  }, noFailure)
  hits.add('first')
  await nextTurn()
  expect(answered).toEqual(['first'])
  await nextTurn()
  expect(answered).toEqual(['first', 'later'])
})

test('each request is answered in its own async context, not in that of the request that scheduled the turn', async () => {
  const storage = new AsyncLocalStorage<string>()
  const seen: [string, string | undefined][] = []
  const hits = new InMemoryHits<string>((request) => seen.push([request, storage.getStore()]), noFailure)
  for (const request of ['a', 'b', 'c']) storage.run(`context of ${request}`, () => hits.add(request))
  await nextTurn()
  expect(seen).toEqual([
    ['a', 'context of a'],
    ['b', 'context of b'],
    ['c', 'context of c'],
  ])
})

test('what an answer throws goes to the failure handler with its request, and the others are answered', async () => {
  const answered: string[] = []
  const failed: [string, unknown][] = []
  const hits = new InMemoryHits<string>(
    (request) => {
      if (request === 'bad') throw new Error('no answer')
      answered.push(request)
    },
    (request, error) => failed.push([request, error]),
  )
  for (const request of ['one', 'bad', 'two']) hits.add(request)
  await nextTurn()
  expect(answered).toEqual(['one', 'two'])
  expect(failed).toEqual([['bad', new Error('no answer')]])
})
