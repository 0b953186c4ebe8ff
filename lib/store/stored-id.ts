/**
 * What the store keys a session by: by default a hash of its express-session id, as Rack has
 * done since CVE-2019-16782, so that whoever reads a Redis dump, a replica or `SCAN` output
 * holds no id a cookie could carry. Pure, no I/O.
 *
 * SHA-256 cut to 128 bits, base64url (22 characters): finding an id from its hash is as hard as
 * guessing the id, and 128 bits keep accidental collisions out of reach for any number of
 * sessions a Redis can hold, in a key shorter than connect-redis's.
 */
import * as crypto from 'node:crypto'
import { createHash } from 'node:crypto'
import { RecentMap } from '../shared/recent-map'

// One-shot hashing (Node 20.12 and later) costs a fraction of a Hash object.
const oneShotHash = (crypto as Partial<Pick<typeof crypto, 'hash'>>).hash

export function hashedId(sid: string): string {
  const digest =
    oneShotHash === undefined ? createHash('sha256').update(sid).digest() : Buffer.from(oneShotHash('sha256', sid, 'hex'), 'hex')
  return digest.subarray(0, 16).toString('base64url')
}

/** Ids hashed lately, kept by `rememberedHashedIds`: a few MB at most. */
export const REMEMBERED_IDS = 10_000

/**
 * `hashedId`, remembered for the latest ids: express-session names a session on each of its
 * requests at least twice (get, then touch or set), and a hot session on every request. A hash
 * is a pure function of the id, so a remembered one is always right; beyond `maxEntries` the
 * least recently used goes.
 */
export function rememberedHashedIds(maxEntries = REMEMBERED_IDS): (sid: string) => string {
  const hashes = new RecentMap<string, string>(maxEntries)
  return (sid) => {
    let hash = hashes.get(sid)
    if (hash === undefined) {
      hash = hashedId(sid)
      // Its own exact copy of the id (any string, lone surrogates included): the one given is a
      // slice of the request's Cookie header, which the map would otherwise keep alive whole.
      hashes.set(JSON.parse(JSON.stringify(sid)) as string, hash)
    }
    return hash
  }
}

/** `hashIds: false` keeps express-session's ids as they are (ids() then lists ids a cookie can carry). */
export function plainId(sid: string): string {
  return sid
}

/** With `hashUserIds`, what a user's id becomes in keys: the same hash, under a prefix of its own. */
export function hashedUserId(userId: string): string {
  return createHash('sha256').update(`user\0${userId}`).digest().subarray(0, 16).toString('base64url')
}
