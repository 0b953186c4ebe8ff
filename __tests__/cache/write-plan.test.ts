/**
 * What each write sends (lib/cache/write-plan.ts): script, KEYS and ARGV, one call on a single
 * server, one per slot on Cluster. Pure functions, no Redis involved.
 */
import calculateSlot from 'cluster-key-slot'
import fc from 'fast-check'
import { ANY, type KeyPart } from 'sessionvault'
import { RedisLayout, type IndexToRead, type RecordPlace } from '../../lib/cache/redis-layout'
import { COUNT_SCRIPT } from '../../lib/cache/lua/count'
import { LIST_SCRIPT } from '../../lib/cache/lua/list'
import { REMOVE_SCRIPT } from '../../lib/cache/lua/remove'
import { TOUCH_SCRIPT } from '../../lib/cache/lua/touch'
import { WRITE_SCRIPT } from '../../lib/cache/lua/write'
import {
  bySlot,
  conditionalWriteCalls,
  removeCalls,
  touchCalls,
  writeCalls,
  type PlannedPut,
  type ScriptCall,
  type WriteCondition,
} from '../../lib/cache/write-plan'

const layout = new RedisLayout({ namespace: 'n', tagDepth: 2, buckets: 1024 })
const place = (key: KeyPart[]): RecordPlace => layout.place(key)
const planned = (key: KeyPart[], text: string, ttlMs = 60_000): PlannedPut => ({ place: place(key), ttlMs, text })

const NO_CONDITION = ['', '', '']
/** ARGV 5 to 7 of a WRITE call without a limit. */
const NO_LIMIT = ['0', '', '']
const absent: WriteCondition = { record: { kind: 'absent' }, unlessDeleted: false }

/** The slot of every key a call names: a call must name keys of one slot only. */
function slotsOf(call: ScriptCall): Set<number> {
  return new Set(call.keys.map((key) => calculateSlot(key)))
}

/** The value keys a WRITE (or REMOVE) call puts, and those it deletes, read back from its KEYS and ARGV. */
function readWrite(call: ScriptCall): { puts: string[]; deletes: string[] } {
  const puts = call.script === WRITE_SCRIPT ? Number(call.args[3]) : 0
  const values = call.keys.filter((_, i) => i % 2 === 0)
  return { puts: values.slice(0, puts), deletes: values.slice(puts) }
}

describe('writeCalls', () => {
  test('on a single server: one WRITE call, each put as value key, index and ttl, extend-only flag, member, text; then each delete', () => {
    const [a, b, c] = [planned(['u', 'a', 1], '"A"', 1_000), { ...planned(['v', 'b'], '"B"', 2_000), extendOnly: true }, place(['u', 'c'])]
    expect(writeCalls([a, b], [c], false)).toEqual([
      {
        script: WRITE_SCRIPT,
        keys: [a.place.valueKey, a.place.indexKey, b.place.valueKey, b.place.indexKey, c.valueKey, c.indexKey],
        args: [...NO_CONDITION, '2', ...NO_LIMIT, '1000', '', a.place.member, '"A"', '2000', '1', b.place.member, '"B"', c.member],
      },
    ])
  })

  test('deletes alone are a REMOVE call without tombstones, which a full Redis still runs', () => {
    const [a, b] = [place(['u', 'a']), place(['v', 'b'])]
    expect(writeCalls([], [a, b], false)).toEqual([
      { script: REMOVE_SCRIPT, keys: [a.valueKey, a.indexKey, b.valueKey, b.indexKey], args: ['0', a.member, b.member] },
    ])
  })

  test("a limit goes with the WRITE call of its index's slot: ARGV 5 to 7 and the index as the last key", () => {
    const put = planned(['u', 'ada', 's1'], '"s"')
    const [index] = layout.indexesFor(['u', 'ada', ANY], 'batch') as [IndexToRead]
    const other = planned(['v', 'bob', 's2'], '"t"')
    const calls = writeCalls([other, put], [], true, { max: 3, index })
    const limited = calls.filter((call) => call.keys.includes(index.indexKey) && call.keys[call.keys.length - 1] === index.indexKey)
    expect(limited).toEqual([
      {
        script: WRITE_SCRIPT,
        keys: [put.place.valueKey, put.place.indexKey, index.indexKey],
        args: [...NO_CONDITION, '1', '3', index.memberPrefix, index.valueKeyPrefix, '60000', '', put.place.member, '"s"'],
      },
    ])
    expect(index.memberPrefix).toBe('.ada:')
    for (const call of calls.filter((call) => !limited.includes(call))) expect(call.args.slice(4, 7)).toEqual(NO_LIMIT)
  })

  test('of nothing sends nothing', () => {
    expect(writeCalls([], [], false)).toEqual([])
    expect(writeCalls([], [], true)).toEqual([])
  })

  test('a put of many records on a single server is still one call', () => {
    const puts = Array.from({ length: 500 }, (_, i) => planned(['k', i, 'x'], String(i)))
    const calls = writeCalls(puts, [], false)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.keys).toHaveLength(1_000)
    expect(calls[0]?.args).toHaveLength(7 + 4 * 500)
  })

  test('on a cluster: one call per slot, each within its slot, puts before deletes, calls with puts first', () => {
    const keyArb = fc.tuple(fc.constantFrom('u', 'v', 's'), fc.constantFrom('a', 'b', 'c', 'd', 1, 2), fc.constantFrom('x', 'y', 3))
    fc.assert(
      fc.property(
        fc.uniqueArray(keyArb, { maxLength: 12, selector: (key) => JSON.stringify(key) }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        (keys, isPut) => {
          const puts = keys.filter((_, i) => isPut[i]).map((key) => planned(key, JSON.stringify(key)))
          const deletes = keys.filter((_, i) => !isPut[i]).map(place)
          const calls = writeCalls(puts, deletes, true)
          const slots = new Set(
            [...puts.map((put) => put.place.valueKey), ...deletes.map((d) => d.valueKey)].map((key) => calculateSlot(key)),
          )
          expect(calls).toHaveLength(slots.size)
          for (const call of calls) {
            expect(slotsOf(call).size).toBe(1)
            // A slot with puts gets a WRITE call (no condition); one with deletes only, a REMOVE call (no tombstone).
            if (readWrite(call).puts.length > 0) expect([call.script, ...call.args.slice(0, 3)]).toEqual([WRITE_SCRIPT, ...NO_CONDITION])
            else expect([call.script, call.args[0]]).toEqual([REMOVE_SCRIPT, '0'])
          }
          // Calls holding puts come first: a failure midway leaves records written rather than gone.
          const withPuts = calls.map((call) => readWrite(call).puts.length > 0)
          expect(withPuts).toEqual([...withPuts].sort((x, y) => Number(y) - Number(x)))
          // Every record is in exactly one call, as a put or as a delete.
          expect(calls.flatMap((call) => readWrite(call).puts).sort()).toEqual(puts.map((put) => put.place.valueKey).sort())
          expect(calls.flatMap((call) => readWrite(call).deletes).sort()).toEqual(deletes.map((d) => d.valueKey).sort())
        },
      ),
    )
  })

  test('on a cluster, records that share their first tagDepth parts share one call', () => {
    const puts = ['a', 'b', 'c'].map((last) => planned(['user', 'ada', last], `"${last}"`))
    const calls = writeCalls(puts, [place(['user', 'ada', 'old'])], true)
    expect(calls).toHaveLength(1)
    expect(readWrite(calls[0] as ScriptCall)).toEqual({
      puts: puts.map((put) => put.place.valueKey),
      deletes: [place(['user', 'ada', 'old']).valueKey],
    })
  })
})

describe('conditionalWriteCalls', () => {
  const record = planned(['sess', 'a', 'data'], '"new"', 5_000)

  test.each<[string, WriteCondition, string[]]>([
    ['absent', absent, ['absent', '', '']],
    ['ifValue', { record: { kind: 'equals', text: '"old"' }, unlessDeleted: false }, ['equals', '"old"', '']],
    ['unlessDeleted', { record: { kind: 'any' }, unlessDeleted: true }, ['', '', '1']],
    ['absent and unlessDeleted', { record: { kind: 'absent' }, unlessDeleted: true }, ['absent', '', '1']],
    ['ifValue and unlessDeleted', { record: { kind: 'equals', text: '{"n":1}' }, unlessDeleted: true }, ['equals', '{"n":1}', '1']],
  ])('%s: ARGV 1 to 3 carry the condition on the first put', (_, condition, args) => {
    expect(conditionalWriteCalls(record, condition, [], false)).toEqual([
      {
        script: WRITE_SCRIPT,
        keys: [record.place.valueKey, record.place.indexKey],
        args: [...args, '1', ...NO_LIMIT, '5000', '', record.place.member, '"new"'],
      },
    ])
  })

  test('on a single server, alongWith records join the one call after the record, wherever their slots', () => {
    const along = [planned(['sess', 'a', 'meta'], '"m"', 5_000), planned(['user', 7, 'sess'], '"u"', 5_000)]
    expect(conditionalWriteCalls(record, absent, along, false)).toEqual([
      {
        script: WRITE_SCRIPT,
        keys: [record.place.valueKey, record.place.indexKey, ...along.flatMap((put) => [put.place.valueKey, put.place.indexKey])],
        args: [
          'absent',
          '',
          '',
          '3',
          ...NO_LIMIT,
          '5000',
          '',
          record.place.member,
          '"new"',
          ...along.flatMap((put) => ['5000', '', put.place.member, put.text]),
        ],
      },
    ])
  })

  test("on a cluster, alongWith records in the record's slot join its call, the last; the others are written first, unconditionally", () => {
    const sameSlot = planned(['sess', 'a', 'meta'], '"m"', 5_000)
    const elsewhere = [planned(['user', 7, 'sess'], '"u"', 5_000), planned(['user', 8, 'sess'], '"v"', 5_000)]
    const calls = conditionalWriteCalls(record, absent, [elsewhere[0] as PlannedPut, sameSlot, elsewhere[1] as PlannedPut], true)
    const last = calls[calls.length - 1] as ScriptCall
    expect(last).toEqual({
      script: WRITE_SCRIPT,
      keys: [record.place.valueKey, record.place.indexKey, sameSlot.place.valueKey, sameSlot.place.indexKey],
      args: ['absent', '', '', '2', ...NO_LIMIT, '5000', '', record.place.member, '"new"', '5000', '', sameSlot.place.member, '"m"'],
    })
    const first = calls.slice(0, -1)
    expect(first).toEqual(writeCalls(elsewhere, [], true))
    for (const call of first) expect(call.args.slice(0, 3)).toEqual(NO_CONDITION)
  })
})

describe('removeCalls and touchCalls', () => {
  const places = [place(['u', 'a', 1]), place(['u', 'a', 2]), place(['v', 'b', 3])]

  test('a delete is one REMOVE call: ARGV 1 is the tombstone time (0: none), then each member', () => {
    const [first] = places as [RecordPlace]
    expect(removeCalls([first], 0, false)).toEqual([
      { script: REMOVE_SCRIPT, keys: [first.valueKey, first.indexKey], args: ['0', first.member] },
    ])
    expect(removeCalls([first], 60_000, true)).toEqual([
      { script: REMOVE_SCRIPT, keys: [first.valueKey, first.indexKey], args: ['60000', first.member] },
    ])
  })

  test('touchMany is one TOUCH call on a single server: ARGV 1 is the new TTL, then each member', () => {
    expect(touchCalls(places, 90_000, false)).toEqual([
      { script: TOUCH_SCRIPT, keys: places.flatMap((p) => [p.valueKey, p.indexKey]), args: ['90000', ...places.map((p) => p.member)] },
    ])
    expect(touchCalls([], 90_000, false)).toEqual([])
  })

  test('on a cluster, one call per slot, in the order the slots first come', () => {
    const calls = touchCalls(places, 90_000, true)
    const groups = bySlot(places, true)
    expect(calls).toEqual(
      groups.map((group) => ({
        script: TOUCH_SCRIPT,
        keys: group.flatMap((p) => [p.valueKey, p.indexKey]),
        args: ['90000', ...group.map((p) => p.member)],
      })),
    )
    for (const call of calls) expect(slotsOf(call).size).toBe(1)
    expect(removeCalls(places, 0, true).map((call) => call.keys)).toEqual(calls.map((call) => call.keys))
  })
})

describe('bySlot', () => {
  test('keeps items in order, in groups of one slot each; on a single server, one group', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 30 }), (names) => {
        const items = names.map((name, i) => ({ valueKey: name, i }))
        expect(bySlot(items, false)).toEqual(items.length > 0 ? [items] : [])
        const groups = bySlot(items, true)
        for (const group of groups) {
          expect(new Set(group.map((item) => calculateSlot(item.valueKey))).size).toBe(1)
          expect(group.map((item) => item.i)).toEqual([...group.map((item) => item.i)].sort((x, y) => x - y))
        }
        expect(new Set(groups.map((group) => calculateSlot((group[0] as { valueKey: string }).valueKey))).size).toBe(groups.length)
        expect(
          groups
            .flat()
            .map((item) => item.i)
            .sort((x, y) => x - y),
        ).toEqual(items.map((item) => item.i))
      }),
    )
  })
})

describe('scripts', () => {
  test('the write script is refused up front when Redis is full; the rest run, as they free, need no memory or write nothing', () => {
    expect(WRITE_SCRIPT.source.split('\n')[0]).toBe('#!lua')
    for (const script of [REMOVE_SCRIPT, TOUCH_SCRIPT, LIST_SCRIPT]) expect(script.source.split('\n')[0]).toBe('#!lua flags=allow-oom')
    expect(COUNT_SCRIPT.source.split('\n')[0]).toBe('#!lua flags=no-writes')
  })

  test('each has a name and the SHA1 of its source', () => {
    const names = [WRITE_SCRIPT, REMOVE_SCRIPT, TOUCH_SCRIPT, LIST_SCRIPT, COUNT_SCRIPT].map((script) => script.name)
    expect(names).toEqual(['write', 'remove', 'touch', 'list', 'count'])
    for (const script of [WRITE_SCRIPT, REMOVE_SCRIPT, TOUCH_SCRIPT, LIST_SCRIPT, COUNT_SCRIPT])
      expect(script.sha1).toMatch(/^[0-9a-f]{40}$/)
  })
})
