/**
 * A user's id sealed for a key name: pure, no I/O.
 *
 * An expiry marker (expiry-markers.ts) outlives the session it stands for, and the only thing
 * left of it when it is claimed is its key. That key must say whose session it was, without
 * putting an e-mail address in a Redis key name: the id is encrypted (AES-256-GCM) under a key
 * derived from the middleware's secret. The nonce is an HMAC of the id, so one user's id always
 * seals to the same text: sealing again finds the same marker, never a second one.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto'
import type { KeyPart } from '../cache/key'
import { isUserId } from './records'

const INFO = 'sessionvault/expiry-marker/v1'
const NONCE_BYTES = 12
const TAG_BYTES = 16

/** Keys derived from one signing secret: one for the nonce, one for the cipher. */
export interface SealingKey {
  readonly nonce: Buffer
  readonly cipher: Buffer
}

export function sealingKey(secret: string): SealingKey {
  const bytes = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), INFO, 64))
  return { nonce: bytes.subarray(0, 32), cipher: bytes.subarray(32) }
}

/** The id, sealed: base64url. JSON keeps `42` and `'42'` apart, as the app gave them. */
export function sealUserId(userId: KeyPart, key: SealingKey): string {
  const plain = Buffer.from(JSON.stringify(userId), 'utf8')
  const nonce = createHmac('sha256', key.nonce).update(plain).digest().subarray(0, NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key.cipher, nonce)
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()])
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString('base64url')
}

/** The id a text seals under one of `keys` (the current secret's first); `undefined` for anything else. */
export function openUserId(text: string, keys: readonly SealingKey[]): KeyPart | undefined {
  const bytes = Buffer.from(text, 'base64url')
  if (bytes.length <= NONCE_BYTES + TAG_BYTES) return undefined
  const nonce = bytes.subarray(0, NONCE_BYTES)
  const tag = bytes.subarray(bytes.length - TAG_BYTES)
  const sealed = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)
  for (const key of keys) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.cipher, nonce)
      decipher.setAuthTag(tag)
      const userId: unknown = JSON.parse(Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8'))
      return isUserId(userId) ? userId : undefined
    } catch {
      // Sealed under another secret (or not by us): the next key may open it.
    }
  }
  return undefined
}
