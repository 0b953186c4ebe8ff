// Token signing and hashing: pure functions, no Redis.
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { SIGNED_TOKEN_LENGTH, signingKey, signToken, verifyToken } from '../../lib/middleware/signing'
import { createId, createSecret, hashSecret, joinToken, splitToken, TOKEN_LENGTH, userKeyOf } from '../../lib/middleware/token'

const CURRENT = 'current-secret-0123456789abcdefghijklmnop'
const PREVIOUS = 'previous-secret-0123456789abcdefghijklmno'

/** A fresh token as a login issues it: user key, session id, secret. */
function createToken(): string {
  return joinToken({ userKey: userKeyOf('ada'), sessionId: createId(), secret: createSecret() })
}

describe('tokens', () => {
  test('a token is the user key, the session id and a 256-bit random secret, in base64url, never the same twice', () => {
    const tokens = new Set(Array.from({ length: 100 }, createToken))
    expect(tokens.size).toBe(100)
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)
      expect(token).toHaveLength(TOKEN_LENGTH)
      expect(Buffer.from(splitToken(token)?.secret ?? '', 'base64url')).toHaveLength(32)
    }
  })

  test('a token splits back into the parts it was joined from; anything of another shape does not split', () => {
    const parts = { userKey: userKeyOf(42), sessionId: createId(), secret: createSecret() }
    expect(splitToken(joinToken(parts))).toEqual(parts)
    for (const bad of ['', 'a.b.c', `${createToken()}x`, createToken().replace('.', '!'), createSecret()])
      expect(splitToken(bad)).toBeUndefined()
  })

  test('the stored form of a secret is 128 bits of its SHA-256, and reveals nothing of it', () => {
    const secret = createSecret()
    expect(hashSecret(secret)).toBe(createHash('sha256').update(secret, 'utf8').digest().subarray(0, 16).toString('base64url'))
    expect(hashSecret(secret)).not.toContain(secret)
  })

  test('the user key is a hash of the user id, the same for 42 and "42", different for different users', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ minLength: 1 }), fc.integer()), fc.oneof(fc.string({ minLength: 1 }), fc.integer()), (a, b) => {
        expect(userKeyOf(a)).toMatch(/^[A-Za-z0-9_-]{22}$/)
        expect(userKeyOf(a) === userKeyOf(b)).toBe(String(a) === String(b))
      }),
    )
    expect(userKeyOf(42)).toBe(userKeyOf('42'))
    expect(userKeyOf('ada@example.com')).not.toContain('ada')
  })

  test('ids are 128 random bits in base64url', () => {
    expect(createId()).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })
})

describe('signing', () => {
  const token = createToken()
  const signed = signToken(token, CURRENT)

  test('a signed token verifies and gives back the token and the secret that signed it', () => {
    expect(signed).toHaveLength(SIGNED_TOKEN_LENGTH)
    expect(verifyToken(signed, [CURRENT])).toEqual({ token, secretIndex: 0 })
    expect(verifyToken(signToken(token, PREVIOUS), [CURRENT, PREVIOUS])).toEqual({ token, secretIndex: 1 })
  })

  test('a secret prepared as a key signs exactly as its text does, so either verifies the other', () => {
    const [current, previous] = [signingKey(CURRENT), signingKey(PREVIOUS)]
    expect(signToken(token, current)).toBe(signed)
    expect(verifyToken(signed, [current])).toEqual({ token, secretIndex: 0 })
    expect(verifyToken(signToken(token, previous), [CURRENT, PREVIOUS])).toEqual({ token, secretIndex: 1 })
    expect(verifyToken(signToken(token, PREVIOUS), [current, previous])).toEqual({ token, secretIndex: 1 })
    expect(verifyToken(signed, [previous])).toBeUndefined()
    const unicode = 'sécret-ünïcode-0123456789abcdefghijklmnopqrstu'
    expect(signToken(token, signingKey(unicode))).toBe(signToken(token, unicode))
  })

  test('a token signed with a secret not in the list is refused', () => {
    expect(verifyToken(signToken(token, PREVIOUS), [CURRENT])).toBeUndefined()
  })

  test('truncated, extended, empty and oversized values are refused', () => {
    expect(verifyToken(signed.slice(0, -1), [CURRENT])).toBeUndefined()
    expect(verifyToken(signed + 'A', [CURRENT])).toBeUndefined()
    expect(verifyToken('', [CURRENT])).toBeUndefined()
    expect(verifyToken(signed.repeat(1200), [CURRENT])).toBeUndefined()
  })

  test('a signature from another token is refused', () => {
    const other = signToken(createToken(), CURRENT)
    expect(verifyToken(token + other.slice(TOKEN_LENGTH), [CURRENT])).toBeUndefined()
  })

  test('changing any one character of a signed token makes it invalid', () => {
    fc.assert(
      fc.property(fc.nat({ max: SIGNED_TOKEN_LENGTH - 1 }), fc.constantFrom(...'AZaz09-_.=+/ '.split('')), (at, char) => {
        fc.pre(signed[at] !== char)
        const forged = signed.slice(0, at) + char + signed.slice(at + 1)
        return verifyToken(forged, [CURRENT, PREVIOUS]) === undefined
      }),
    )
  })

  test('no arbitrary string verifies', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => verifyToken(text, [CURRENT]) === undefined))
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/),
        (text) => verifyToken(text, [CURRENT]) === undefined,
      ),
    )
  })
})
