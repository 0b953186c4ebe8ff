// Unit: user ids sealed into expiry markers' key names (an internal module, on purpose).
import { openUserId, sealingKey, sealUserId } from '../../lib/middleware/sealed-user-id'

const current = sealingKey('the current secret, long and random: 6d1f0b9e2a47c358')
const previous = sealingKey('the previous secret, long and random: 0e94c7a13b5d628f')

test('one id always seals to the same text, so a second login finds the same marker', () => {
  expect(sealUserId('ada@example.com', current)).toBe(sealUserId('ada@example.com', current))
  expect(sealUserId('ada@example.com', current)).not.toBe(sealUserId('bob@example.com', current))
})

test('the sealed text names no id and opens to the id as given, number or string', () => {
  const sealed = sealUserId('ada@example.com', current)
  expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/)
  expect(sealed).not.toContain(Buffer.from('ada@example.com').toString('base64url').slice(0, 8))
  expect(openUserId(sealed, [current])).toBe('ada@example.com')
  expect(openUserId(sealUserId(42, current), [current])).toBe(42)
  expect(openUserId(sealUserId('42', current), [current])).toBe('42')
})

test('any secret of the list opens it; none other does, and a changed byte opens nothing', () => {
  const sealed = sealUserId('ada', previous)
  expect(openUserId(sealed, [current, previous])).toBe('ada')
  expect(openUserId(sealed, [current])).toBeUndefined()
  const bytes = Buffer.from(sealed, 'base64url')
  bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 1
  expect(openUserId(bytes.toString('base64url'), [previous])).toBeUndefined()
  expect(openUserId('short', [previous])).toBeUndefined()
})
