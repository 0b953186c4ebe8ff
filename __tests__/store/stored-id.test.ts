// What sessions are keyed by at rest: pure code, no Redis.
import { hashedId, plainId } from '../../lib/store/stored-id'
import { storedIdFor } from './redis-keys'

const SID = 'Zr4mLqX0uTdGf2Yk9bW1sPcH7nE3aJoQ'

test('a hashed id is the first 16 bytes of SHA-256 of the session id, in base64url (22 characters)', () => {
  expect(hashedId(SID)).toBe(storedIdFor(SID))
  expect(hashedId(SID)).toMatch(/^[A-Za-z0-9_-]{22}$/)
  expect(hashedId(SID)).not.toContain(SID.slice(0, 8))
})

test('different session ids give different stored ids', () => {
  const ids = new Set(Array.from({ length: 10_000 }, (_, i) => hashedId(`${SID}${i}`)))
  expect(ids.size).toBe(10_000)
})

test('with hashIds: false the session id is kept as it is', () => {
  expect(plainId(SID)).toBe(SID)
})
