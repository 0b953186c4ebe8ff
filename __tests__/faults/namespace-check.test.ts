// The namespace check itself, on hand-made snapshots: it must see each way index and values can
// disagree, or the fault matrix would pass for the wrong reason. No Redis here.
import { layoutProblems, userEntryProblems, type NamespaceSnapshot } from './namespace-check'

const NOW = 1_900_000_000_000
const LATER = NOW + 60_000
const ns = 'app'

function text(expiresAtMs: number, mark: 'v' | 'x', value = ''): string {
  return `${String(expiresAtMs).padStart(13, '0')}${mark}${value}`
}

/** A snapshot where `values` map key -> [expiry, mark, value] and `indexes` key -> member -> score; TTLs agree with expiries. */
function taken(values: Record<string, [number, 'v' | 'x', string?]>, indexes: Record<string, Record<string, number>>): NamespaceSnapshot {
  return {
    namespace: ns,
    now: NOW,
    values: new Map(
      Object.entries(values).map(([key, [expiry, mark, value]]) => [key, { text: text(expiry, mark, value), pttl: expiry - NOW }]),
    ),
    indexes: new Map(
      Object.entries(indexes).map(([key, scores]) => [key, { scores: new Map(Object.entries(scores)), pttl: LATER + 1_000 - NOW }]),
    ),
    strays: [],
  }
}

const RECORD = `${ns}:{.u#7}:.ada:.s1`
const INDEX = `${ns}:_i:{.u#7}`

test('a record and its index entry that agree are no problem', () => {
  expect(layoutProblems(taken({ [RECORD]: [LATER, 'v', '{}'] }, { [INDEX]: { '.ada:.s1': LATER } }))).toEqual([])
})

test('a tombstone without an index entry is no problem', () => {
  expect(layoutProblems(taken({ [RECORD]: [LATER, 'x'] }, {}))).toEqual([])
})

test('an index member whose value is missing, a tombstone, or expires at another time is found', () => {
  expect(layoutProblems(taken({}, { [INDEX]: { '.ada:.s1': LATER } }))).toEqual([`${INDEX} lists .ada:.s1, whose value key is missing`])
  expect(layoutProblems(taken({ [RECORD]: [LATER, 'x'] }, { [INDEX]: { '.ada:.s1': LATER } }))).toEqual([
    `${INDEX} lists .ada:.s1, whose value is a tombstone`,
  ])
  expect(layoutProblems(taken({ [RECORD]: [LATER - 1, 'v'] }, { [INDEX]: { '.ada:.s1': LATER } }))).toEqual([
    `${INDEX} lists .ada:.s1 until ${LATER}, its value says ${LATER - 1}`,
  ])
})

test('an expired index member is left to pruning', () => {
  expect(layoutProblems(taken({}, { [INDEX]: { '.ada:.s1': NOW - 1 } }))).toEqual([])
})

test('a live value with no index entry is found', () => {
  expect(layoutProblems(taken({ [RECORD]: [LATER, 'v'] }, {}))).toEqual([`${RECORD}: a live value with no index entry`])
})

test('a value whose TTL disagrees with its header, or with no header, is found', () => {
  const snapshot = taken({ [RECORD]: [LATER, 'v'] }, { [INDEX]: { '.ada:.s1': LATER } })
  snapshot.values.set(RECORD, { text: text(LATER, 'v'), pttl: 5_000 })
  expect(layoutProblems(snapshot)).toEqual([`${RECORD}: its header says it expires at ${LATER}, Redis in 5000 ms from ${NOW}`])
  snapshot.values.set(RECORD, { text: '{}', pttl: 60_000 })
  expect(layoutProblems(snapshot)).toContain(`${RECORD}: a value without a header`)
})

test('keys of the namespace that are neither values nor indexes are found', () => {
  expect(layoutProblems(taken({ [`${ns}:loose`]: [LATER, 'v'] }, {}))).toEqual([
    `${ns}:loose: a string that is not a value key of the namespace`,
  ])
})

describe('user entries', () => {
  const SESSION = `${ns}:{.s#3}:.s1`
  const ENTRY = `${ns}:{.u#9}:.ada:.s1`
  const indexes = { [`${ns}:_i:{.s#3}`]: { '.s1': LATER }, [`${ns}:_i:{.u#9}`]: { '.ada:.s1': LATER } }
  const ownerOf = (value: string) => (JSON.parse(value) as { owner?: string }).owner

  test('a session with its user entry is no problem, nor an entry without a session', () => {
    expect(userEntryProblems(taken({ [SESSION]: [LATER, 'v', '{"owner":"ada"}'], [ENTRY]: [LATER, 'v'] }, indexes), ownerOf)).toEqual([])
    expect(userEntryProblems(taken({ [ENTRY]: [LATER, 'v'] }, indexes), ownerOf)).toEqual([])
  })

  test('a session without its user entry, or outliving it, is found', () => {
    expect(userEntryProblems(taken({ [SESSION]: [LATER, 'v', '{"owner":"ada"}'] }, indexes), ownerOf)).toEqual([
      `${SESSION}: a session of ada with no user entry`,
    ])
    expect(userEntryProblems(taken({ [SESSION]: [LATER, 'v', '{"owner":"ada"}'], [ENTRY]: [NOW + 1_000, 'v'] }, indexes), ownerOf)).toEqual(
      [`${SESSION}: a session of ada that outlives its user entry by 59000 ms`],
    )
  })
})
