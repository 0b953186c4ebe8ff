/**
 * Session tokens and identifiers: pure, no I/O.
 *
 * A token is 256 random bits; only its SHA-256 hash is ever stored, so a Redis dump, a replica or
 * a `MONITOR` stream holds nothing that a client could present.
 */
import * as crypto from 'node:crypto'
import { createHash, randomBytes } from 'node:crypto'

const TOKEN_BYTES = 32
const ID_BYTES = 16

/** Length of a token: base64url of 32 bytes, without padding. */
export const TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 4) / 3)

const BASE64URL = /^[A-Za-z0-9_-]+$/

/** A fresh 256-bit token, base64url. */
export function createToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url')
}

// One-shot hashing (Node 20.12 and later) costs a fraction of a Hash object; it hashes a string's UTF-8 bytes too.
const oneShotHash = (crypto as Partial<Pick<typeof crypto, 'hash'>>).hash

/** The form a token is stored under: SHA-256, base64url. */
export function hashToken(token: string): string {
  if (oneShotHash !== undefined) return oneShotHash('sha256', token, 'base64url')
  return createHash('sha256').update(token, 'utf8').digest('base64url')
}

/** A random 128-bit identifier (session ids, fingerprints): not a secret, safe to show and store. */
export function createId(): string {
  return randomBytes(ID_BYTES).toString('base64url')
}

export function isBase64url(text: string): boolean {
  return BASE64URL.test(text)
}
