/**
 * Signing of the token a client holds: pure, no I/O.
 *
 * What a client holds is `<token>.<HMAC-SHA256(secret, token)>` (the token: see token.ts). Every accepted
 * secret verifies, so a secret can be rotated without logging anyone out; only the first signs.
 * Anything of the wrong length or alphabet is refused before any HMAC is computed, and the
 * signature is compared in constant time.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'
import { isBase64url, splitToken, TOKEN_LENGTH } from './token'

/**
 * A secret as given (a string) or prepared once by `signingKey`: the middleware verifies with
 * prepared keys, which spares every request turning the secret's text into key material.
 */
export type SigningSecret = string | KeyObject

/** Binds a signature to this use, so an HMAC the app computes elsewhere with the same secret cannot pass as one. */
const CONTEXT = 'sessionvault/session-token/v1\0'
const SIGNATURE_LENGTH = 43 // base64url of a 32-byte HMAC-SHA256

/** Length of a signed token: token, `.`, signature. Anything longer is refused unread. */
export const SIGNED_TOKEN_LENGTH = TOKEN_LENGTH + 1 + SIGNATURE_LENGTH

export interface VerifiedToken {
  /** The raw token, as it was issued. */
  token: string
  /** Which secret signed it: 0 is the current one; more means it should be re-signed. */
  secretIndex: number
}

/** The key `createHmac` makes of a string secret (its UTF-8 bytes), made once. */
export function signingKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'))
}

export function signToken(token: string, secret: SigningSecret): string {
  return `${token}.${signature(token, secret)}`
}

// The signature as given and as expected, compared byte by byte: verifying is synchronous, so
// two buffers serve every call.
const givenBytes = Buffer.alloc(SIGNATURE_LENGTH)
const expectedBytes = Buffer.alloc(SIGNATURE_LENGTH)

/** The token inside a signed value, or `undefined` for anything forged, malformed or oversized. */
export function verifyToken(signed: string, secrets: readonly SigningSecret[]): VerifiedToken | undefined {
  if (signed.length !== SIGNED_TOKEN_LENGTH || signed[TOKEN_LENGTH] !== '.') return undefined
  const token = signed.slice(0, TOKEN_LENGTH)
  const given = signed.slice(TOKEN_LENGTH + 1)
  if (splitToken(token) === undefined || !isBase64url(given)) return undefined
  givenBytes.write(given, 'latin1')
  // Every secret is tried, even after a match, so timing says nothing about which one signed.
  let found = -1
  for (let index = 0; index < secrets.length; index++) {
    expectedBytes.write(signature(token, secrets[index] as SigningSecret), 'latin1')
    if (timingSafeEqual(givenBytes, expectedBytes) && found === -1) found = index
  }
  return found === -1 ? undefined : { token, secretIndex: found }
}

function signature(token: string, secret: SigningSecret): string {
  return createHmac('sha256', secret)
    .update(CONTEXT + token, 'utf8')
    .digest('base64url')
}
