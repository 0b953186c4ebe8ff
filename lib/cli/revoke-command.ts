/**
 * `sessionvault revoke`: ends sessions through the layers' own record code, so their indexes stay
 * right. The store's sessions end as `destroy` ends them (a tombstone for the store's default
 * `tombstoneTtlMs`, and the user's index entry removed); the token middleware's as a revoke does.
 *
 * `--session <id>` takes a listed id (the store's stored id, the middleware's `session.id`);
 * `--user <id>` ends every session of the user in both layers.
 */
import { CredentialsCache } from '../middleware/credentials-cache'
import { recordKeys } from '../middleware/records'
import { DEFAULT_TOMBSTONE_TTL_MS } from '../defaults'
import { SessionRecords } from '../store/session-records'
import type { CliOptions } from './cli-options'
import type { CommandResult } from './command-result'
import type { LayerCaches } from './layer-caches'
import type { NamespaceScan } from './namespace-scan'
import { storeSessionsOf } from './user-sessions'

/** Timing under which no stored session counts as expired: Redis's TTLs decide what is there. */
const EVERY_STORED_SESSION = { ttlMs: Number.MAX_SAFE_INTEGER / 4, renewAfterMs: 0, rotationGraceMs: 0, maxAgeMs: 0 }

export async function revokeCommand(scan: NamespaceScan, caches: LayerCaches, options: CliOptions): Promise<CommandResult> {
  const records = new SessionRecords(caches.store, DEFAULT_TOMBSTONE_TTL_MS, undefined)
  const revoked =
    options.user !== undefined
      ? await revokeUser(caches, records, options.user)
      : await revokeSession(scan, caches, records, options.session as string)
  const what = options.user !== undefined ? `user ${JSON.stringify(options.user)}` : `session ${options.session as string}`
  const json = { namespace: options.namespace, revoked }
  return {
    json,
    text: `revoked ${revoked.store} store session(s) and ${revoked.token} token session(s) of ${what} in namespace '${options.namespace}'`,
  }
}

async function revokeUser(caches: LayerCaches, records: SessionRecords, userId: string): Promise<{ store: number; token: number }> {
  let store = 0
  // Counted as they end: one that ended meanwhile (its TTL, another revoke) is not.
  for (const session of await storeSessionsOf(caches, userId)) if (await records.remove(session.id, session.userKey, true)) store++
  const token = await new CredentialsCache(caches.token, EVERY_STORED_SESSION, Date.now, 1).revokeAll(userId)
  return { store, token }
}

async function revokeSession(
  scan: NamespaceScan,
  caches: LayerCaches,
  records: SessionRecords,
  id: string,
): Promise<{ store: number; token: number }> {
  const keys = await scan.keys()
  let store = 0
  let token = 0
  const found = await scan.details(keys.filter((stored) => stored.kind === 'store-session' && stored.key[1] === id))
  if (found.some((record) => !record.tombstone)) {
    // Its user's index entry goes with it, as a destroy with `userOf` removes it.
    const entry = keys.find((stored) => stored.kind === 'store-user-entry' && stored.key[2] === id)
    if (await records.remove(id, entry === undefined ? undefined : String(entry.key[1]), true)) store++
  }
  for (const stored of keys.filter((item) => item.kind === 'token-session' && item.key[3] === id)) {
    // What the middleware's revoke deletes: the session's one record.
    if (await caches.token.delete(recordKeys.session(String(stored.key[1]), id))) token++
  }
  return { store, token }
}
