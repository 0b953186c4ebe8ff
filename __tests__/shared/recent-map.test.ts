import fc from 'fast-check'
import { RecentMap } from '../../lib/shared/recent-map'

test('beyond maxEntries the least recently used entry goes: get and set make an entry recent, peek does not', () => {
  const map = new RecentMap<string, number>(2)
  map.set('a', 1)
  map.set('b', 2)
  expect(map.get('a')).toBe(1) // b is now the least recently used
  map.set('c', 3)
  expect(map.peek('b')).toBeUndefined()
  expect(map.peek('a')).toBe(1) // a peek leaves a the least recently used
  map.set('d', 4)
  expect([map.peek('a'), map.peek('c'), map.peek('d')]).toEqual([undefined, 3, 4])
  map.set('c', 30) // a new value, and c becomes the most recent
  map.set('e', 5)
  expect([map.peek('c'), map.peek('d'), map.peek('e')]).toEqual([30, undefined, 5])
  expect(map.size).toBe(2)
})

test('delete and clear', () => {
  const map = new RecentMap<string, number>(3)
  map.set('a', 1)
  map.set('b', 2)
  expect(map.delete('a')).toBe(true)
  expect(map.delete('a')).toBe(false)
  expect(map.size).toBe(1)
  map.clear()
  expect(map.size).toBe(0)
  map.set('c', 3)
  expect(map.get('c')).toBe(3)
})

test('entries come least recently used first, and the one just given may be deleted on the way', () => {
  const map = new RecentMap<string, number>(4)
  for (const [key, value] of [
    ['a', 1],
    ['b', 2],
    ['c', 3],
    ['d', 4],
  ] as const)
    map.set(key, value)
  map.get('b')
  const seen: string[] = []
  for (const [key, value] of map.entries()) {
    seen.push(key)
    if (value % 2 === 1) map.delete(key)
  }
  expect(seen).toEqual(['a', 'c', 'd', 'b'])
  expect([...map.entries()]).toEqual([
    ['d', 4],
    ['b', 2],
  ])
})

test('maxEntries below 1, or not a whole number, is refused by name', () => {
  for (const bad of [0, -1, 1.5, NaN]) expect(() => new RecentMap(bad)).toThrow(/maxEntries/)
})

test('whatever the sequence of operations, it holds exactly the most recently used entries, with their values', () => {
  // The model: [key, value] pairs, least recently used first.
  const key = fc.constantFrom('a', 'b', 'c', 'd')
  const step = fc.oneof(
    { weight: 4, arbitrary: key.map((name) => ({ kind: 'set' as const, name })) },
    { weight: 3, arbitrary: key.map((name) => ({ kind: 'get' as const, name })) },
    { weight: 2, arbitrary: key.map((name) => ({ kind: 'peek' as const, name })) },
    { weight: 2, arbitrary: key.map((name) => ({ kind: 'delete' as const, name })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const, name: '' }) },
  )
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { minLength: 5, maxLength: 60, size: 'max' }), (maxEntries, steps) => {
      const map = new RecentMap<string, number>(maxEntries)
      let model: [string, number][] = []
      const without = (name: string) => model.filter(([other]) => other !== name)
      steps.forEach(({ kind, name }, i) => {
        const held = model.find(([other]) => other === name)
        if (kind === 'set') {
          map.set(name, i)
          model = [...without(name), [name, i] as [string, number]].slice(-maxEntries)
        } else if (kind === 'get') {
          expect(map.get(name)).toBe(held?.[1])
          if (held) model = [...without(name), held]
        } else if (kind === 'peek') {
          expect(map.peek(name)).toBe(held?.[1])
        } else if (kind === 'delete') {
          expect(map.delete(name)).toBe(held !== undefined)
          model = without(name)
        } else {
          map.clear()
          model = []
        }
        expect(map.size).toBe(model.length)
        expect([...map.entries()]).toEqual(model)
      })
    }),
    { numRuns: 500 },
  )
})
