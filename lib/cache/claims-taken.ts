/**
 * What the claim scripts (lua/claim-expired.ts, lua/claim-expired-keys.ts) answered, gathered
 * over their calls: the records claimed, Redis's time, and the claims to acknowledge per claims
 * set. Each reply is checked; anything else is a CacheError.
 */
import type { CacheErrorContext } from '../errors'
import type { ExpiredRecord } from './expiry-queue'
import type { KeyPart } from './key'
import type { RedisLayout } from './redis-layout'
import { unexpectedReply } from './redis-errors'
import { asText } from './redis-replies'

/** A claim is `<expiry ms, 13 digits>:<member>`. */
const MEMBER_AT = 14

export class ClaimsTaken {
  readonly records: ExpiredRecord[] = []
  /** The latest of the answering servers' times. */
  claimedAtMs = 0
  /** Where each record's claim is, as the script wrote it: what acknowledging removes. */
  readonly claimOf = new Map<ExpiredRecord, { set: string; claim: string }>()

  constructor(private readonly layout: RedisLayout) {}

  /** Adds one script's reply, which answered for `indexKeys` in order; `keyOf` turns a member of one into its key. */
  add(
    context: CacheErrorContext,
    reply: unknown,
    indexKeys: readonly string[],
    keyOf: (member: string, indexKey: string) => KeyPart[],
  ): void {
    const [now, perIndex] = Array.isArray(reply) ? (reply as unknown[]) : []
    if (typeof now !== 'number' || !Array.isArray(perIndex) || perIndex.length !== indexKeys.length)
      throw unexpectedReply(context, "Redis's time and the claims per index")
    this.claimedAtMs = Math.max(this.claimedAtMs, now)
    indexKeys.forEach((indexKey, i) => {
      const taken: unknown = perIndex[i]
      if (!Array.isArray(taken)) throw unexpectedReply(context, 'a list of claims')
      const claims = taken.map((claim) => asText(claim, () => unexpectedReply(context, 'a claim')))
      if (claims.length === 0) return
      const set = this.layout.claimsKey(indexKey)
      for (const claim of claims) {
        const record = { key: keyOf(claim.slice(MEMBER_AT), indexKey), expiresAtMs: Number(claim.slice(0, MEMBER_AT - 1)) }
        this.records.push(record)
        this.claimOf.set(record, { set, claim })
      }
    })
  }

  /** The claims of `records` (all when undefined), per claims set. */
  claimsBySet(records: readonly ExpiredRecord[] = this.records): Map<string, string[]> {
    const bySet = new Map<string, string[]>()
    for (const record of records) {
      const place = this.claimOf.get(record)
      if (place === undefined) continue
      const claims = bySet.get(place.set) ?? []
      bySet.set(place.set, claims)
      claims.push(place.claim)
    }
    return bySet
  }
}
