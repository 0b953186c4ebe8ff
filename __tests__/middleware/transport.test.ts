// The session cookie read from a Cookie header (lib/middleware/transport.ts): where the name
// occurs once, the value is read in place, exactly as the `cookie` package parses the header.
import { parseCookie } from 'cookie'
import type { Request } from 'express'
import fc from 'fast-check'
import type { ResolvedCookie } from '../../lib/middleware/options'
import { presentedToken } from '../../lib/middleware/transport'

const COOKIE: ResolvedCookie = { name: 'session', secure: true, sameSite: 'lax', domain: undefined, path: '/' }

const valuesIn = (cookie: string) => presentedToken({ headers: { cookie } } as Request, COOKIE, false)?.values ?? []

/** What the `cookie` package reads for the session's name, not URI-decoded. */
function parsed(header: string): string[] {
  const value = parseCookie(header, { decode: (text) => text })['session']
  return value === undefined ? [] : [value]
}

test.each([
  ['session=abc', ['abc']],
  ['a=1; session=abc; b=2', ['abc']],
  ['a=1;session=abc', ['abc']],
  ['a=1;\t session=\t abc \t;b=2', ['abc']],
  ['session=', ['']],
  ['flag; session=abc', ['abc']],
  // Inside another cookie's name or value: no session cookie.
  ['xsession=abc', []],
  ['other=session=abc', []],
  ['a=1 session=abc', []],
  ['a=1', []],
  // A name with a space before its `=` is still that cookie: the first pair of the name wins.
  ['session\t=;session=a', ['']],
  ['asession=;session =b', ['b']],
])('%j gives %j, as the cookie package reads it', (header, expected) => {
  expect(valuesIn(header)).toEqual(expected)
  expect(parsed(header)).toEqual(expected)
})

test('any header where the name occurs once is read as the cookie package reads it', () => {
  const piece = fc.constantFrom('a', 'b', 'session', '=', ';', ' ', '\t', '"', 'x=1', '%20')
  const header = fc
    .tuple(fc.array(piece, { maxLength: 8 }), fc.array(piece, { maxLength: 8 }))
    .map(([before, after]) => `${before.join('')}session=${after.join('')}`)
    .filter((text) => text.indexOf('session=') === text.lastIndexOf('session='))
  fc.assert(
    fc.property(header, (text) => {
      expect(valuesIn(text)).toEqual(parsed(text))
    }),
    { numRuns: 5_000 },
  )
})

test('several cookies of the name are all read, in order, at most four', () => {
  expect(valuesIn('session=a; x=1; session=b')).toEqual(['a', 'b'])
  expect(valuesIn('session=1; session=2; session=3; session=4; session=5')).toEqual(['1', '2', '3', '4'])
})
