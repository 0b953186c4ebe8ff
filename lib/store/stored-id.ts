/**
 * What the store keys a session by: by default a hash of its express-session id, as Rack has
 * done since CVE-2019-16782, so that whoever reads a Redis dump, a replica or `SCAN` output
 * holds no id a cookie could carry. Pure, no I/O.
 *
 * SHA-256 cut to 128 bits, base64url (22 characters): finding an id from its hash is as hard as
 * guessing the id, and 128 bits keep accidental collisions out of reach for any number of
 * sessions a Redis can hold, in a key shorter than connect-redis's.
 */
import { createHash } from 'node:crypto'

export function hashedId(sid: string): string {
  return createHash('sha256').update(sid).digest().subarray(0, 16).toString('base64url')
}

/** `hashIds: false` keeps express-session's ids as they are (ids() then lists ids a cookie can carry). */
export function plainId(sid: string): string {
  return sid
}

/** With `hashUserIds`, what a user's id becomes in keys: the same hash, under a prefix of its own. */
export function hashedUserId(userId: string): string {
  return createHash('sha256').update(`user\0${userId}`).digest().subarray(0, 16).toString('base64url')
}
