/**
 * Expired records, claimed once across every process that shares a cache: what the session
 * layers' `expired` events are built on, with no keyspace notifications. `RedisCache` and
 * `MemoryCache` both implement it.
 */
import type { KeyPart } from './key'

/** A record that expired, as its index entry knew it (its value is gone). */
export interface ExpiredRecord {
  key: KeyPart[]
  /** When it expired, in ms since the epoch (by Redis's clock on RedisCache). */
  expiresAtMs: number
}

/** Records one caller claimed: no other caller gets them unless their lease runs out before `acknowledge()`. */
export interface ExpiredClaims {
  records: ExpiredRecord[]
  /** When the claim was taken, on the cache's clock (Redis's on RedisCache), in ms since the epoch. */
  claimedAtMs: number
  /** Marks the records handled (all of them, or those given): they are never claimed again. */
  acknowledge(records?: readonly ExpiredRecord[]): Promise<void>
}

/** Records claimed by key, and those of the keys another caller holds a running claim on. */
export interface ExpiredKeyClaims extends ExpiredClaims {
  /** Keys asked for that another caller has claimed and not acknowledged, its lease still running. */
  busy: KeyPart[][]
}

export interface ClaimOptions {
  /** Most records claimed by one call. */
  max: number
  /** Milliseconds the claims are this caller's: unacknowledged by then, another caller may claim them again. */
  leaseMs: number
  /**
   * Only records that expired, and claims whose lease ran out, at least this long ago (default
   * 0): the time a caller that claims some of them by key (`claimExpiredKeys`) has to get there
   * first.
   */
  minAgeMs?: number
}

export interface ExpiryQueue {
  /**
   * Claims records under `prefix` (every key longer than it that starts with it) that have
   * expired: each expired record is claimed by exactly one call, wherever it runs, unless its
   * lease runs out before it is acknowledged. On RedisCache the prefix needs at least
   * `tagDepth - 1` parts, as `countUnder`'s does, and an index keeps an expired record's entry for
   * 60 s: a record nobody claims within that time is dropped unclaimed.
   */
  claimExpired(prefix: readonly KeyPart[], options: ClaimOptions): Promise<ExpiredClaims>

  /**
   * Claims the named records that have expired: each one's entry if it is due, or its claim if
   * that claim's lease ran out, whatever `minAgeMs` others wait for. A record that is live or
   * gone (deleted, or claimed and acknowledged) is not in the answer; one claimed under a running
   * lease is `busy`. For a caller that learned of these records through a claim of its own.
   */
  claimExpiredKeys(keys: readonly (readonly KeyPart[])[], options: Pick<ClaimOptions, 'leaseMs'>): Promise<ExpiredKeyClaims>
}

/** Whether a cache can claim expired records (a cache written by the app may not). */
export function isExpiryQueue(cache: object): cache is ExpiryQueue {
  const queue = cache as Partial<ExpiryQueue>
  return typeof queue.claimExpired === 'function' && typeof queue.claimExpiredKeys === 'function'
}
