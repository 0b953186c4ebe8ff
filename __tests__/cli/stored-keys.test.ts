/** The inspector reads Redis key names back as the records the cache wrote (pure, no Redis). */
import fc from 'fast-check'
import type { KeyPart } from 'sessionvault/cache'
import { RedisLayout } from '../../lib/cache/redis-layout'
import { readStoredKey } from '../../lib/cli/stored-keys'

const part = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }).filter((text) => !/[\uD800-\uDFFF]/.test(text)),
  fc.integer(),
  fc.constantFrom('s', 'u', 'ada'),
)

test('every value key the layout names reads back as its key, at any tagDepth', () => {
  fc.assert(
    fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 4 }), (key: KeyPart[], tagDepth) => {
      const layout = new RedisLayout({ namespace: 'myapp:sess', tagDepth, buckets: 1024 })
      const { valueKey, indexKey } = layout.place(key)
      expect(readStoredKey('myapp:sess', valueKey)?.key).toEqual(key)
      expect(readStoredKey('myapp:sess', indexKey)).toMatchObject({ kind: 'index', key: [] })
    }),
  )
})

test("records are told apart by the layers' layouts", () => {
  const kindOf = (key: KeyPart[], tagDepth: number) =>
    readStoredKey('ns', new RedisLayout({ namespace: 'ns', tagDepth, buckets: 1024 }).place(key).valueKey)?.kind
  expect(kindOf(['s', 'abc'], 2)).toBe('store-session')
  expect(kindOf(['u', 'ada', 'abc'], 2)).toBe('store-user-entry')
  expect(kindOf(['u', 'userKey', 's', 'abc'], 3)).toBe('token-session')
  expect(kindOf(['e', 'u', 'sealedUserId', 'abc'], 3)).toBe('token-expiry-marker')
  expect(kindOf(['user', 42], 1)).toBe('record')
})

test('keys of a longer namespace under it, and malformed names, are not its own', () => {
  const nested = new RedisLayout({ namespace: 'myapp:sess', tagDepth: 2, buckets: 1024 }).place(['s', 'abc']).valueKey
  expect(readStoredKey('myapp', nested)).toBeUndefined()
  expect(readStoredKey('myapp', 'myapp:{.s#1}:!!')).toBeUndefined()
  expect(readStoredKey('myapp', 'other:{.s#1}:.abc')).toBeUndefined()
})
