/**
 * The queue of requests answered from memory (lib/middleware/in-memory-hits.ts): each on the
 * next turn of the event loop, after what that turn's I/O brought, all of a turn's together.
 */
import { InMemoryHits } from '../../lib/middleware/in-memory-hits'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

test('answers nothing at once, and every request of a turn on the next, in the order they came', async () => {
  const answered: number[] = []
  const hits = new InMemoryHits<number>((request) => answered.push(request))
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
  })
  hits.add('first')
  await nextTurn()
  expect(answered).toEqual(['first'])
  await nextTurn()
  expect(answered).toEqual(['first', 'later'])
})
