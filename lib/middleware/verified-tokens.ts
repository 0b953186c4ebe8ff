/**
 * Signed tokens this middleware has verified, so that a token presented again costs one map
 * lookup instead of an HMAC and a SHA-256. No I/O.
 *
 * - Keyed by the whole signed value as presented: a hit needs the exact text that verified,
 *   signature included. A forged, altered, truncated or re-signed token is never a hit: it is
 *   verified, and refused, exactly as without this map. Only values that verified are stored
 *   (never refusals, which anyone could send by the million), and a token has one valid spelling
 *   per secret (the signature is compared as text), so no one can fill the map without being
 *   issued tokens.
 * - Nothing about the session is kept here, only what the token's own text says (where its
 *   session is stored, and the hash of its secret). Whether it still opens a session is read from
 *   the cache on every request, so a logout or a revoke on any server is seen at once.
 * - One map per middleware, whose secrets never change: a token re-signed under a new secret is
 *   a new text, and a removed secret means a new middleware.
 * - Bounded: beyond `maxEntries` the least recently presented token goes (it is verified again
 *   if it comes back).
 */
import type { KeyPart } from '../cache/key'
import { RecentMap } from '../shared/recent-map'
import { recordKeys } from './records'
import { verifyToken, type SigningSecret } from './signing'
import { hashSecret, splitToken, TOKEN_LENGTH } from './token'

/** A verified token, taken apart: what a request needs of it. */
export interface VerifiedCredentials {
  /** The raw token, as it was issued. */
  readonly token: string
  /** Which secret signed it: 0 is the current one; more means it should be re-signed. */
  readonly secretIndex: number
  readonly userKey: string
  readonly sessionId: string
  /** The stored form of its secret (`hashSecret`). */
  readonly secretHash: string
  /** Where its session is stored (`recordKeys.session`), frozen: the cache places a frozen key once. */
  readonly sessionKey: readonly KeyPart[]
}

/** Verified tokens kept by default: a few MB at most (each entry holds some 500 bytes of text). */
export const VERIFIED_TOKENS_MAX_ENTRIES = 10_000

export class VerifiedTokens {
  private readonly entries: RecentMap<string, VerifiedCredentials>

  constructor(
    private readonly secrets: readonly SigningSecret[],
    maxEntries: number = VERIFIED_TOKENS_MAX_ENTRIES,
  ) {
    this.entries = new RecentMap(maxEntries)
  }

  /** What a signed value says, or `undefined` for anything a configured secret did not sign. */
  verify(signed: string): VerifiedCredentials | undefined {
    const known = this.entries.get(signed)
    if (known !== undefined) return known
    const verified = verifyToken(signed, this.secrets)
    if (verified === undefined) return undefined
    // A copy of its own, and every part cut from it: the value as presented is a slice of the
    // request's header, which the map would otherwise keep alive whole. Verified, it is ASCII.
    const key = Buffer.from(signed, 'latin1').toString('latin1')
    const token = key.slice(0, TOKEN_LENGTH)
    // verifyToken checked the token's shape.
    const parts = splitToken(token) as NonNullable<ReturnType<typeof splitToken>>
    const credentials: VerifiedCredentials = Object.freeze({
      token,
      secretIndex: verified.secretIndex,
      userKey: parts.userKey,
      sessionId: parts.sessionId,
      secretHash: hashSecret(parts.secret),
      sessionKey: Object.freeze(recordKeys.session(parts.userKey, parts.sessionId)),
    })
    this.entries.set(key, credentials)
    return credentials
  }

  get size(): number {
    return this.entries.size
  }
}
