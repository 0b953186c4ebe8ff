/**
 * Where the store finds its expired sessions, once across every process (cache/expiry-queue.ts),
 * with the user each belonged to.
 *
 * An expired session's record is gone, and with it what `userOf` would read. But a session with
 * a user has an entry in that user's index (session-keys.ts), whose key names the user and which
 * expires with the session (or later: entries are only ever lengthened). So a sweep claims:
 *
 * 1. the due user entries, which say whose each session was;
 * 2. by key, the sessions those entries name: the session's claim is what makes its event happen
 *    once, so an entry whose session ended otherwise (destroyed, or saved again and live) claims
 *    nothing. Where several entries name one session (its user changed, and a save that dropped
 *    the old entry failed, or the store was used directly), the latest is its user; one that fell
 *    due more than `ENTRY_EARLY_MS` before the session is no longer its user's, and the session is
 *    reported with no user rather than a wrong one. An entry that fell due before its live
 *    session (on Cluster the two are written in different slots, a few ms apart) is written
 *    again, due a millisecond after it, if the session still has that user; if the session
 *    expired meanwhile, it is claimed again at once. An entry whose session
 *    another process holds a running claim on (it claimed the session in step 3, or is dying
 *    midway) is left unacknowledged: it comes back after its lease, when that claim has been
 *    delivered or has run out too. Entries are leased a little longer than sessions, so a process
 *    that dies holding both loses the session's first;
 * 3. the sessions no entry named (no user), only once they are `holdMs` past their expiry (or
 *    their claim's lease): by then a sweep in some process has claimed the ones with a user
 *    through step 2.
 *
 * Without users (no `userOf`, or `hashUserIds`, whose entries name only a hash) step 3 alone,
 * with no hold.
 */
import { ENTRY_LEASE_EXTRA_MS } from '../defaults'
import type { Cache } from '../cache/cache'
import type { ClaimOptions, ExpiredClaims, ExpiredKeyClaims, ExpiredRecord, ExpiryQueue } from '../cache/expiry-queue'
import type { KeyPart } from '../cache/key'
import { ENTRY, SESSIONS_PREFIX, sessionKey, storedIdOf, USER_ENTRIES_PREFIX } from './session-keys'

/** An expired session, with the user its entry named. */
export interface ExpiredStoreSession extends ExpiredRecord {
  /** The user id as the entry's key holds it; undefined for a session with no user (or none known). */
  userId: string | undefined
}

/** How much earlier than its session an entry may fall due and still be taken as its user's: the gap between two slots' writes and clocks. */
const ENTRY_EARLY_MS = 1_000

const NOTHING_CLAIMED: ExpiredClaims = { records: [], claimedAtMs: 0, acknowledge: () => Promise.resolve() }

/** A live session's expiry and user (as its entry's key has it), as the store reads it. */
export type LiveSession = (storedId: string) => Promise<{ expiresAtMs: number; userId: string | undefined } | undefined>

export class ExpiredSessions {
  constructor(
    private readonly cache: Cache<string> & ExpiryQueue,
    /** Whether sessions have user entries naming their users (`userOf` without `hashUserIds`). */
    private readonly byUser: boolean,
    /** How long sessions no entry named wait past their expiry before step 3 takes them. */
    private readonly holdMs: number,
    private readonly liveSession: LiveSession,
  ) {}

  /** The prefix is always the store's own. */
  async claimExpired(_prefix: readonly KeyPart[], options: ClaimOptions): Promise<ExpiredClaims & { records: ExpiredStoreSession[] }> {
    if (!this.byUser) {
      const claims = await this.cache.claimExpired(SESSIONS_PREFIX, options)
      return { ...claims, records: claims.records.map((record) => ({ ...record, userId: undefined })) }
    }
    const entries = await this.cache.claimExpired(USER_ENTRIES_PREFIX, { ...options, leaseMs: options.leaseMs + ENTRY_LEASE_EXTRA_MS })
    const claimedAt = performance.now()
    // Per session, its latest entry.
    const latest = new Map<string, ExpiredRecord>()
    for (const entry of entries.records) {
      const storedId = storedIdOf(entry.key)
      if ((latest.get(storedId)?.expiresAtMs ?? -Infinity) < entry.expiresAtMs) latest.set(storedId, entry)
    }
    const userOf = (session: ExpiredRecord): string | undefined => {
      const entry = latest.get(storedIdOf(session.key))
      return entry !== undefined && entry.expiresAtMs >= session.expiresAtMs - ENTRY_EARLY_MS ? String(entry.key[1]) : undefined
    }
    const first = await this.claimSessions([...latest.keys()], options)
    const busy = new Set(first.busy.map(storedIdOf))
    const taken = new Set(first.records.map(({ key }) => storedIdOf(key)))
    const gone = await this.entriesAgain(
      [...latest.values()].filter(({ key }) => !taken.has(storedIdOf(key)) && !busy.has(storedIdOf(key))),
      entries.claimedAtMs + performance.now() - claimedAt,
    )
    // Live a moment ago and gone now: expired since the first claim (on Cluster, an entry falls
    // due a few ms before its session), so claimed again; one that was destroyed is not there.
    const second = await this.claimSessions(gone, options)
    for (const key of second.busy) busy.add(storedIdOf(key))
    const named = [...first.records, ...second.records]
    const left = options.max - named.length
    // A failure here leaves step 3 to the next sweep; what steps 1 and 2 claimed is delivered now.
    const unnamed =
      left > 0
        ? await this.cache.claimExpired(SESSIONS_PREFIX, { ...options, max: left, minAgeMs: this.holdMs }).catch(() => NOTHING_CLAIMED)
        : NOTHING_CLAIMED
    const records: ExpiredStoreSession[] = [
      ...named.map((record) => ({ ...record, userId: userOf(record) })),
      ...unnamed.records.map((record) => ({ ...record, userId: undefined })),
    ]
    return {
      records,
      claimedAtMs: entries.claimedAtMs,
      acknowledge: async () => {
        await Promise.all([first.acknowledge(), second.acknowledge(), unnamed.acknowledge()])
        // Last: an entry acknowledged before its session could not claim it again.
        await entries.acknowledge(entries.records.filter(({ key }) => !busy.has(storedIdOf(key))))
      },
    }
  }

  private claimSessions(storedIds: readonly string[], options: ClaimOptions): Promise<ExpiredKeyClaims> {
    if (storedIds.length === 0) return Promise.resolve({ ...NOTHING_CLAIMED, busy: [] })
    return this.cache.claimExpiredKeys(storedIds.map(sessionKey), options)
  }

  /**
   * Writes again the entries among `unclaimed` (whose sessions the claim did not take) whose
   * session is live and still has the entry's user, due a millisecond after that session; one
   * whose session now has another user or none is left to go. Resolves to the stored ids of the
   * sessions that were not there (or could not be read).
   */
  private async entriesAgain(unclaimed: readonly ExpiredRecord[], nowMs: number): Promise<string[]> {
    const startedAt = performance.now()
    const gone: string[] = []
    await Promise.all(
      unclaimed.map(async ({ key }) => {
        const storedId = storedIdOf(key)
        const session = await this.liveSession(storedId).catch(() => undefined)
        if (session === undefined) return void gone.push(storedId)
        if (session.userId !== String(key[1])) return
        // By Redis's clock: its now at the claim, moved on by the time since.
        const ttlMs = Math.max(1, Math.ceil(session.expiresAtMs + 1 - (nowMs + performance.now() - startedAt)))
        await this.cache.batch({ put: [{ key: [...key], value: ENTRY, extendOnly: true }] }, { ttlMs })
      }),
    )
    return gone
  }
}
