/**
 * Where reads look (lib/cache/read-places.ts): a frozen key is placed once and then found by
 * identity, anything else is placed on every read. No Redis involved.
 */
import fc from 'fast-check'
import type { KeyPart } from 'sessionvault'
import { ReadPlaces } from '../../lib/cache/read-places'
import { RedisLayout } from '../../lib/cache/redis-layout'

const layout = new RedisLayout({ namespace: 'sess', tagDepth: 3, buckets: 1024 })

describe('ReadPlaces', () => {
  it('places any key where the layout does', () => {
    const places = new ReadPlaces(layout)
    const keyPart = fc.oneof(fc.string({ maxLength: 8 }), fc.integer())
    fc.assert(
      fc.property(fc.array(keyPart, { minLength: 1, maxLength: 5 }), fc.boolean(), (key, frozen) => {
        const expected = layout.place(key).valueKey
        const read = frozen ? Object.freeze([...key]) : [...key]
        expect(places.of(read, 'get').valueKey).toBe(expected)
        expect(places.of(read, 'get').valueKey).toBe(expected)
      }),
    )
  })

  it('works a frozen key out once: later reads of the same array get the same place', () => {
    const places = new ReadPlaces(layout)
    const key = Object.freeze(['u', 'user', 's', 'device'])
    const first = places.of(key, 'get')
    expect(places.of(key, 'get')).toBe(first)
    // Its parts are shared by every read, so nobody can change them.
    expect(Object.isFrozen(first.parts)).toBe(true)
    // An equal array of its own is placed on its own.
    expect(places.of(['u', 'user', 's', 'device'], 'get')).not.toBe(first)
    expect(places.of(['u', 'user', 's', 'device'], 'get').valueKey).toBe(first.valueKey)
  })

  it('places an array that can change on every read, so a changed key is read where it now lives', () => {
    const places = new ReadPlaces(layout)
    const key: KeyPart[] = ['u', 'user', 's', 'laptop']
    const before = places.of(key, 'get').valueKey
    key[3] = 'phone'
    expect(places.of(key, 'get').valueKey).not.toBe(before)
    expect(places.of(key, 'get').valueKey).toBe(layout.place(['u', 'user', 's', 'phone']).valueKey)
  })

  it('refuses a malformed frozen key on every read, remembering nothing', () => {
    const places = new ReadPlaces(layout)
    const key = Object.freeze(['u', Number.NaN])
    for (let read = 0; read < 2; read++) {
      let thrown: unknown
      try {
        places.of(key, 'get')
      } catch (error) {
        thrown = error
      }
      expect(thrown).toMatchObject({ code: 'MALFORMED_KEY' })
    }
  })
})
