// bench/profile-summary.ts, on a made-up profile: self time per request by function and by place,
// idle left out, and the difference from a base profile, largest first.
import { difference, perRequest, summarise } from '../../bench/profile-summary'

const frame = (id: number, functionName: string, url: string, lineNumber = 0) => ({ id, callFrame: { functionName, url, lineNumber } })

/** Samples of 100 µs each: `counts` says how many land on each node id. */
function profileOf(counts: Record<number, number>) {
  const samples = Object.entries(counts).flatMap(([id, count]) => Array<number>(count).fill(Number(id)))
  return {
    nodes: [
      frame(1, '(idle)', ''),
      frame(2, 'sessionsMiddleware', 'file:///work/lib/middleware/sessions.ts', 49),
      frame(3, 'presentedToken', 'file:///work/lib/middleware/transport.ts', 28),
      frame(4, 'next', 'file:///work/node_modules/router/index.js', 188),
      frame(5, '(garbage collector)', ''),
    ],
    samples,
    timeDeltas: samples.map(() => 100),
  }
}

test('self time per request, by function and by place; idle time is not counted', () => {
  const profile = perRequest(profileOf({ 1: 1000, 2: 30, 3: 10, 4: 50, 5: 10 }), 100)
  expect(profile.totalUs).toBe(100)
  expect(Object.fromEntries(profile.byFunction)).toEqual({
    'sessionsMiddleware lib/middleware/sessions.ts:50': 30,
    'presentedToken lib/middleware/transport.ts:29': 10,
    'next router:189': 50,
    '(garbage collector) (native / V8)': 10,
  })
  expect(Object.fromEntries(profile.byPlace)).toEqual({
    'lib/middleware/sessions.ts': 30,
    'lib/middleware/transport.ts': 10,
    router: 50,
    '(native / V8)': 10,
  })
  expect(summarise(profile, 1)).toContain('50.0%    50.00 µs/req  router')
})

test('the difference from a base profile, per request, largest first, with what each had', () => {
  const base = perRequest(profileOf({ 4: 50, 5: 10 }), 100)
  const ours = perRequest(profileOf({ 2: 60, 4: 100, 5: 40 }), 200)
  const lines = difference(ours, base, 2).split('\n')
  expect(lines[0]).toBe('busy 100.0 µs per request against 60.0 (200 and 100 requests): 40.0 µs more')
  const byFunction = lines.slice(lines.indexOf('by function:') + 1)
  expect(byFunction).toEqual([
    '+ 30.00     0.00 →   30.00  sessionsMiddleware lib/middleware/sessions.ts:50',
    '+ 10.00    10.00 →   20.00  (garbage collector) (native / V8)',
  ])
})
