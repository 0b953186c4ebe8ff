/**
 * Session tokens and identifiers: pure, no I/O.
 *
 * What a client holds (before signing) is `<user key>.<session id>.<secret>`:
 * - the user key, a hash of the user's id (userKeyOf), and the session id say where the session
 *   is stored, so one read finds it and all of a user's sessions share a Redis Cluster slot;
 * - the secret, 256 random bits, proves the holder was given the session: only a 128-bit hash of
 *   it is stored, so a Redis dump, a replica or a `MONITOR` stream holds nothing a client could present.
 * Renewal changes the secret; the user key and the session id stay for the session's life.
 */
import * as crypto from 'node:crypto'
import { createHash, randomBytes } from 'node:crypto'
import type { KeyPart } from '../cache/key'

const SECRET_BYTES = 32
const ID_BYTES = 16
/** Stored hashes are SHA-256 cut to 128 bits: preimages stay out of reach, and records stay small. */
const HASH_BYTES = 16

const ID_LENGTH = 22
const SECRET_LENGTH = 43
/** Length of a token: user key, session id and secret, base64url, joined by dots. */
export const TOKEN_LENGTH = ID_LENGTH + 1 + ID_LENGTH + 1 + SECRET_LENGTH

const TOKEN_SHAPE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/

/** A token taken apart. */
export interface TokenParts {
  userKey: string
  sessionId: string
  secret: string
}

export function createSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url')
}

export function joinToken({ userKey, sessionId, secret }: TokenParts): string {
  return `${userKey}.${sessionId}.${secret}`
}

/** The parts of a token of the right shape; `undefined` for anything else. */
export function splitToken(token: string): TokenParts | undefined {
  const match = TOKEN_SHAPE.exec(token)
  return match ? { userKey: match[1] as string, sessionId: match[2] as string, secret: match[3] as string } : undefined
}

// One-shot hashing (Node 20.12 and later) costs a fraction of a Hash object.
const oneShotHash = (crypto as Partial<Pick<typeof crypto, 'hash'>>).hash

function sha256(text: string): Buffer {
  if (oneShotHash !== undefined) return Buffer.from(oneShotHash('sha256', text, 'hex'), 'hex')
  return createHash('sha256').update(text, 'utf8').digest()
}

/** The form a secret is stored under: 128 bits of SHA-256, base64url. */
export function hashSecret(secret: string): string {
  return sha256(secret).subarray(0, HASH_BYTES).toString('base64url')
}

/**
 * Where a user's sessions are kept: a hash of the user's id, so Redis holds no e-mail address or
 * other id in plain text. `42` and `'42'` are the same user (as in the express-session store).
 */
export function userKeyOf(userId: KeyPart): string {
  return sha256(`sessionvault/user/v1\0${String(userId)}`)
    .subarray(0, HASH_BYTES)
    .toString('base64url')
}

const BASE64URL = /^[A-Za-z0-9_-]+$/

export function isBase64url(text: string): boolean {
  return BASE64URL.test(text)
}

/** A session's id: a hash of its device's fingerprint, so one device has one session per user. */
export function sessionIdOf(fingerprint: string): string {
  return sha256(`sessionvault/session/v1\0${fingerprint}`).subarray(0, HASH_BYTES).toString('base64url')
}

/** A random 128-bit identifier (session ids, fingerprints): not a secret, safe to show and store. */
export function createId(): string {
  return randomBytes(ID_BYTES).toString('base64url')
}
