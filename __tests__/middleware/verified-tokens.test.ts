// The map of verified tokens spares a token presented again its HMAC and SHA-256, and nothing
// else: a forged token never hits it, and a revoked one is refused on the next request.
import fc from 'fast-check'
import request from 'supertest'
import { signingKey, signToken } from '../../lib/middleware/signing'
import { createId, createSecret, hashSecret, joinToken, TOKEN_LENGTH } from '../../lib/middleware/token'
import { VerifiedTokens } from '../../lib/middleware/verified-tokens'
import { standaloneBackend, useBackend } from '../helpers/redis'
import { cookieHeader, login, OLD_SECRET, SECRET, statusWith, testApp } from './helpers'

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const newToken = () => joinToken({ userKey: createId(), sessionId: createId(), secret: createSecret() })

describe('VerifiedTokens', () => {
  const keys = [signingKey(SECRET)]

  test('a token verified once is known by its text, with what it says taken apart', () => {
    const tokens = new VerifiedTokens(keys)
    const token = newToken()
    const signed = signToken(token, SECRET)
    const first = tokens.verify(signed)
    expect(first).toEqual({
      token,
      secretIndex: 0,
      userKey: token.split('.')[0],
      sessionId: token.split('.')[1],
      secretHash: hashSecret(token.split('.')[2] as string),
      sessionKey: ['u', token.split('.')[0], 's', token.split('.')[1]],
    })
    // One frozen array for every request of the token: the cache places it once.
    expect(Object.isFrozen(first?.sessionKey)).toBe(true)
    // A copy of the same text (as each request's header is) finds the same entry.
    expect(tokens.verify(Buffer.from(signed).toString())).toBe(first)
    expect(tokens.size).toBe(1)
  })

  test('after its token verified, no change to any one character of it passes, and none is stored', () => {
    const tokens = new VerifiedTokens(keys)
    const signed = signToken(newToken(), SECRET)
    expect(tokens.verify(signed)).toBeDefined()
    fc.assert(
      fc.property(fc.nat(signed.length - 1), fc.constantFrom(...BASE64URL, '.'), (at, char) => {
        fc.pre(signed[at] !== char)
        const forged = signed.slice(0, at) + char + signed.slice(at + 1)
        return tokens.verify(forged) === undefined
      }),
      { numRuns: 2_000 },
    )
    expect(tokens.size).toBe(1)
  })

  test('a verified token under another signature, or its signature on another token, is refused', () => {
    const tokens = new VerifiedTokens(keys)
    const token = newToken()
    const other = newToken()
    const signed = signToken(token, SECRET)
    expect(tokens.verify(signed)).toBeDefined()
    const signature = signed.slice(TOKEN_LENGTH)
    expect(tokens.verify(token + signToken(other, SECRET).slice(TOKEN_LENGTH))).toBeUndefined()
    expect(tokens.verify(other + signature)).toBeUndefined()
    expect(tokens.verify(signToken(token, OLD_SECRET))).toBeUndefined()
    expect(tokens.verify(signed.slice(0, -1))).toBeUndefined()
    expect(tokens.verify(`${signed}A`)).toBeUndefined()
    expect(tokens.size).toBe(1)
  })

  test('refused values are never stored, however many', () => {
    const tokens = new VerifiedTokens(keys)
    for (let i = 0; i < 1_000; i++) expect(tokens.verify(signToken(newToken(), OLD_SECRET))).toBeUndefined()
    expect(tokens.size).toBe(0)
  })

  test('it keeps at most maxEntries tokens, dropping the least recently presented, which still verifies', () => {
    const tokens = new VerifiedTokens(keys, 3)
    const signed = Array.from({ length: 5 }, () => signToken(newToken(), SECRET))
    const first = signed.map((value) => tokens.verify(value))
    expect(tokens.size).toBe(3)
    // Kept, a token is the same credentials object; dropped, it is verified anew.
    expect(tokens.verify(signed[4] as string)).toBe(first[4])
    const again = tokens.verify(signed[0] as string)
    expect(again).not.toBe(first[0])
    expect(again?.token).toBe((signed[0] as string).slice(0, TOKEN_LENGTH))
    expect(tokens.size).toBe(3)
    // Presented again, a token stays: the one presented longest ago goes instead.
    const kept = tokens.verify(signed[3] as string)
    tokens.verify(signToken(newToken(), SECRET))
    expect(tokens.verify(signed[3] as string)).toBe(kept)
  })

  test("a token signed by an older secret is known with that secret's index, to be re-signed", () => {
    const tokens = new VerifiedTokens([signingKey(SECRET), signingKey(OLD_SECRET)])
    const signed = signToken(newToken(), OLD_SECRET)
    expect(tokens.verify(signed)?.secretIndex).toBe(1)
    expect(tokens.verify(signed)?.secretIndex).toBe(1)
  })
})

describe('through the middleware, on Redis', () => {
  const backend = useBackend(standaloneBackend)

  test('a session logged out on one instance is refused by the other on its next request, though it verified the token before', async () => {
    const a = testApp(await backend.cache())
    const b = testApp(await backend.cache())
    const token = await login(a.app)
    for (let i = 0; i < 3; i++) expect(await statusWith(b.app, token)).toBe(200)
    await request(a.app).post('/logout').set(cookieHeader(token)).expect(200)
    expect(await statusWith(b.app, token)).toBe(401)
  })

  test('a forged token for a live session is refused on an instance that verified the real one', async () => {
    const { app } = testApp(await backend.cache())
    const token = await login(app)
    expect(await statusWith(app, token)).toBe(200)
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`
    expect(await statusWith(app, forged)).toBe(401)
    // The same session's token under an unknown secret, and the real one again.
    expect(await statusWith(app, signToken(token.slice(0, TOKEN_LENGTH), OLD_SECRET))).toBe(401)
    expect(await statusWith(app, token)).toBe(200)
  })
})
