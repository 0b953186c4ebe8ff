/**
 * The session records in the cache (see records.ts for the layout): Pow's CredentialsCache, with
 * tokens stored hashed, one read per request, renewal by one server only, and revocation that a
 * renewal in flight cannot undo.
 */
import type { Cache } from '../cache/cache'
import type { KeyPart } from '../cache/key'
import { RENEWAL_LOCK_MS } from '../defaults'
import {
  deviceOf,
  readDeviceRecord,
  readTokenRecord,
  recordKeys,
  type DeviceRecord,
  type RotatedRecord,
  type SessionRecord,
} from './records'
import { NO_DEADLINE, type RenewalDeadline } from './request-deadline'
import { expiresAt, freshness, withinGrace, type SessionTiming } from './timing'
import { createId, createToken, hashToken } from './token'

/** A token just issued: the raw token goes to the client, only its hash is stored. */
export interface IssuedSession {
  token: string
  tokenHash: string
  record: SessionRecord
}

export interface AuthenticatedSession {
  record: SessionRecord
  /** Hash of the session's current token. */
  tokenHash: string
  /** Hash of the token the request came with (an older one when `graced`). */
  presentedHash: string
  /** The request came with a token rotated out less than `rotationGraceMs` ago. */
  graced: boolean
  /** A new token, when this request renewed the session. */
  renewedToken?: string
}

export interface NewSession {
  userId: KeyPart
  user: unknown
  fingerprint: string
  metadata: unknown
}

/** How many rotated-out tokens in a row a request may walk through within their grace periods. */
const MAX_GRACE_HOPS = 3

/** A renewal whose swap succeeded: what the client is to get, and what undoing it needs. */
interface Rotation {
  issued: IssuedSession
  /** The old token's record exactly as it was read, and the pointer that replaced it. */
  previous: SessionRecord
  previousHash: string
  pointer: RotatedRecord
}

export class CredentialsCache {
  constructor(
    private readonly cache: Cache,
    private readonly timing: SessionTiming,
    private readonly now: () => number,
  ) {}

  /**
   * The session a token opens, renewed when due. One read for a current token; more only for a
   * token within its grace period or a renewal. `deadline`: the request's, so that a renewal
   * whose token could not reach the client does not start, or does not stand.
   */
  async authenticate(token: string, deadline: RenewalDeadline = NO_DEADLINE): Promise<AuthenticatedSession | undefined> {
    const presentedHash = hashToken(token)
    let tokenHash = presentedHash
    let record = readTokenRecord(await this.cache.get(recordKeys.token(tokenHash)))
    let graced = false
    for (let hop = 0; record?.kind === 'rotated'; hop++) {
      if (hop === MAX_GRACE_HOPS || !withinGrace(record.rotatedAt, this.now(), this.timing)) return undefined
      const rotated: RotatedRecord = record
      tokenHash = rotated.next
      record = readTokenRecord(await this.cache.get(recordKeys.token(tokenHash)))
      if (record && (record.id !== rotated.id || record.userId !== rotated.userId)) return undefined
      graced = true
    }
    if (!record) return undefined
    const state = freshness(record, this.now(), this.timing)
    if (state === 'expired') return undefined
    const found: AuthenticatedSession = { record, tokenHash, presentedHash, graced }
    // A graced request never renews: the token it would get belongs to the request that renewed.
    // Nor does a late one: the next request, with time to spare, will.
    if (state !== 'renew' || graced || !deadline.roomToRenew()) return found
    const renewed = await this.renew(record, tokenHash, deadline)
    if (renewed === 'revoked') return undefined
    if (renewed === undefined) return found
    return { record: renewed.record, tokenHash: renewed.tokenHash, presentedHash, graced: false, renewedToken: renewed.token }
  }

  /** Stores a new session: its token record, the user and the device entry. */
  async create(session: NewSession): Promise<IssuedSession> {
    const now = this.now()
    const token = createToken()
    const tokenHash = hashToken(token)
    const record: SessionRecord = {
      kind: 'session',
      id: createId(),
      userId: session.userId,
      fingerprint: session.fingerprint,
      createdAt: now,
      renewedAt: now,
      metadata: session.metadata,
      user: session.user,
    }
    await this.cache.putMany(
      [
        { key: recordKeys.token(tokenHash), value: record },
        { key: recordKeys.user(session.userId), value: session.user },
        { key: recordKeys.device(session.userId, record.id), value: deviceOf(record, tokenHash) },
      ],
      { ttlMs: this.timing.ttlMs },
    )
    // With `writes: 'async'`, the next request (to any server) must still find it.
    await this.cache.flush()
    return { token, tokenHash, record }
  }

  /** A user's live sessions, oldest first. */
  async devices(userId: KeyPart): Promise<DeviceRecord[]> {
    const now = this.now()
    return (await this.storedDevices(userId))
      .filter((device) => freshness(device, now, this.timing) !== 'expired')
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
  }

  /**
   * Ends one session; resolves to whether it existed. `knownHashes` are token hashes the caller
   * holds (the request's own), deleted along with the one the device entry names.
   */
  async revoke(userId: KeyPart, id: string, knownHashes: readonly string[] = []): Promise<boolean> {
    const deviceKey = recordKeys.device(userId, id)
    if (knownHashes.length === 0 && readDeviceRecord(await this.cache.get(deviceKey)) === undefined) return false
    // The tombstone first: a renewal that read the session before it cannot store its new token
    // (its device write is conditional on the tombstone), and one that wrote before it is seen below.
    await this.cache.putIf(recordKeys.revoked(userId, id), 1, { absent: true, ttlMs: this.timing.ttlMs })
    const device = readDeviceRecord(await this.cache.get(deviceKey))
    const hashes = new Set(knownHashes)
    if (device) hashes.add(device.tokenHash)
    await Promise.all([this.cache.delete(deviceKey), ...[...hashes].map((hash) => this.cache.delete(recordKeys.token(hash)))])
    await this.cache.flush()
    return device !== undefined
  }

  /** Ends every session of a user, or every one but `exceptId`; resolves to how many ended. */
  async revokeAll(userId: KeyPart, exceptId?: string): Promise<number> {
    const targets = (await this.storedDevices(userId)).filter((device) => device.id !== exceptId)
    const ended = await Promise.all(targets.map((device) => this.revoke(userId, device.id, [device.tokenHash])))
    return ended.filter(Boolean).length
  }

  /** Ends every session with this fingerprint: a new login from that device replaces them. */
  async revokeFingerprint(userId: KeyPart, fingerprint: string): Promise<void> {
    const targets = (await this.storedDevices(userId)).filter((device) => device.fingerprint === fingerprint)
    await Promise.all(targets.map((device) => this.revoke(userId, device.id, [device.tokenHash])))
  }

  /** Replaces the stored user; each session copies it in at its next renewal. */
  async putUser(userId: KeyPart, user: unknown): Promise<void> {
    await this.cache.put(recordKeys.user(userId), user, { ttlMs: this.timing.ttlMs })
  }

  async deleteUser(userId: KeyPart): Promise<void> {
    await this.cache.delete(recordKeys.user(userId))
  }

  /**
   * A new token for a session, by one server only. The lock keeps other servers from trying at
   * the same time; the swap (a compare-and-set on the old token's record) decides, even for a
   * renewal that outlives its lock. Resolves to `undefined` when this request does not renew
   * (another server did, or its deadline passed: it goes on with its current token) and to
   * `'revoked'` when the session was revoked meanwhile.
   */
  private async renew(session: SessionRecord, tokenHash: string, deadline: RenewalDeadline): Promise<IssuedSession | 'revoked' | undefined> {
    const lock = recordKeys.renewing(session.userId, session.id)
    if (!(await this.cache.putIf(lock, 1, { absent: true, ttlMs: RENEWAL_LOCK_MS }))) return undefined
    let outcome: Rotation | 'revoked' | undefined
    try {
      outcome = await this.rotate(session, tokenHash, deadline)
    } finally {
      // Freed at once, so `renewAfterMs: 0` renews the very next request. If this renewal outlived
      // the lock, this frees another server's: harmless, the swap still elects one renewer. A
      // failure is ignored: the lock expires by itself.
      await this.cache.delete(lock).catch(() => undefined)
    }
    await this.cache.flush()
    if (typeof outcome !== 'object') return outcome
    // Checked last, with nothing awaited after it: if the request has not been answered by now,
    // the new token is in its response (see RequestDeadline.bound).
    if (deadline.passed) {
      await this.undo(outcome)
      return undefined
    }
    return outcome.issued
  }

  /** The renewal proper, under the lock: new token record, swap, device entry. */
  private async rotate(session: SessionRecord, tokenHash: string, deadline: RenewalDeadline): Promise<Rotation | 'revoked' | undefined> {
    const { userId, id } = session
    // Read again under the lock: another renewal may have swapped it since this request's read.
    const [stored, user] = await Promise.all([this.cache.get(recordKeys.token(tokenHash)), this.cache.get(recordKeys.user(userId))])
    const previous = readTokenRecord(stored)
    if (previous?.kind !== 'session' || previous.id !== id) return undefined

    const now = this.now()
    const token = createToken()
    const nextHash = hashToken(token)
    const record: SessionRecord = { ...previous, renewedAt: now, user: user === undefined ? previous.user : user }
    const { ttlMs, rotationGraceMs } = this.timing
    // The stored user is only rewritten (to outlive this session) if it is still there.
    await this.cache.putMany(
      [{ key: recordKeys.token(nextHash), value: record }, ...(user === undefined ? [] : [{ key: recordKeys.user(userId), value: user }])],
      { ttlMs },
    )
    // The swap is the renewal: only if the old record is still exactly as read does it become a
    // pointer to the new one, so of two renewals that read it, one wins and the other's token is
    // never handed out. The pointer outlives the grace period long enough for an undo.
    const pointer: RotatedRecord = { kind: 'rotated', id, userId, next: nextHash, rotatedAt: now }
    const swapped =
      !deadline.passed &&
      (await this.cache.putIf(recordKeys.token(tokenHash), pointer, { ifValue: stored, ttlMs: Math.max(rotationGraceMs, RENEWAL_LOCK_MS) }))
    if (!swapped) {
      await this.cache.delete(recordKeys.token(nextHash))
      return undefined
    }
    // Only the winner names its token in the device entry, and not once a revoke has begun.
    const stillLive = await this.cache.putIf(recordKeys.device(userId, id), deviceOf(record, nextHash), {
      unlessExists: recordKeys.revoked(userId, id),
      ttlMs,
    })
    if (!stillLive) {
      await Promise.all([this.cache.delete(recordKeys.token(nextHash)), this.cache.delete(recordKeys.token(tokenHash))])
      return 'revoked'
    }
    return { issued: { token, tokenHash: nextHash, record }, previous, previousHash: tokenHash, pointer }
  }

  /**
   * Puts a session back as it was before a renewal whose token will never reach the client (its
   * request was answered 503 meanwhile), so the client's current token keeps working. Safe: no
   * one holds the new token. Like a renewal, the restored token stands only if no revoke has begun.
   */
  private async undo({ issued, previous, previousHash, pointer }: Rotation): Promise<void> {
    const { userId, id } = previous
    const leftMs = Math.ceil(expiresAt(previous, this.timing) - this.now())
    const restored =
      leftMs > 0 && (await this.cache.putIf(recordKeys.token(previousHash), previous, { ifValue: pointer, ttlMs: leftMs }))
    if (restored) {
      const stillLive = await this.cache.putIf(recordKeys.device(userId, id), deviceOf(previous, previousHash), {
        unlessExists: recordKeys.revoked(userId, id),
        ttlMs: leftMs,
      })
      if (!stillLive) await this.cache.delete(recordKeys.token(previousHash))
    }
    await this.cache.delete(recordKeys.token(issued.tokenHash))
    await this.cache.flush()
  }

  private async storedDevices(userId: KeyPart): Promise<DeviceRecord[]> {
    const records = await this.cache.all(recordKeys.devices(userId))
    return records.flatMap((stored) => {
      const device = readDeviceRecord(stored.value)
      return device ? [device] : []
    })
  }
}
