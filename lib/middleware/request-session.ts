/**
 * `req.auth`: one request's view of its session, and the calls that change it.
 */
import type { KeyObject } from 'node:crypto'
import type { Request, Response } from 'express'
import type { KeyPart } from '../cache/key'
import { UsageError } from '../errors'
import type { DeviceSession, LoginOptions, LoginResult, SessionContext, SessionInfo, SessionMetadata } from './context'
import type { AuthenticatedSession, CredentialsCache } from './credentials-cache'
import type { ResolvedSessionsOptions } from './options'
import { isUserId, type DeviceRecord, type SessionRecord } from './records'
import { signToken } from './signing'
import { cookieMaxAgeSeconds, expiresAt, type SessionTiming } from './timing'
import { createId } from './token'
import { clearTokenCookie, noStore, setTokenCookie } from './transport'

/** Longest session id or fingerprint accepted from the app or a client: they become key parts. */
const MAX_ID_LENGTH = 128

interface Current<User> {
  session: AuthenticatedSession
  user: User
}

type LoginArguments<Meta> = Record<never, never> extends Meta ? [options?: LoginOptions<Meta>] : [options: LoginOptions<Meta>]

export class RequestSession<User, Meta = SessionMetadata> implements SessionContext<User, Meta> {
  private current: Current<User> | undefined

  constructor(
    private readonly req: Request,
    private readonly res: Response,
    private readonly credentials: CredentialsCache,
    private readonly options: ResolvedSessionsOptions<User>,
  ) {}

  get user(): User | undefined {
    return this.current?.user
  }

  get session(): SessionInfo<Meta> | undefined {
    const current = this.current?.session.record
    return current && sessionInfo<Meta>(current, current.userId, this.options.timing)
  }

  /** Called by the middleware once the request's token has been resolved. */
  attach(session: AuthenticatedSession, user: User): void {
    this.current = { session, user }
  }

  async login(user: User, ...[options]: LoginArguments<Meta>): Promise<LoginResult<Meta>> {
    const { fingerprint, metadata, cookie = true } = (options ?? {}) as LoginOptions<SessionMetadata>
    this.assertHeadersNotSent('login')
    const userId: unknown = this.options.userId(user)
    if (!isUserId(userId)) {
      throw new UsageError('req.auth.login(): the userId option returned no usable id for this user (a non-empty string or a finite number)', { option: 'userId' })
    }
    if (fingerprint !== undefined && !isShortId(fingerprint)) {
      throw new UsageError(`req.auth.login(): fingerprint must be a non-empty string of at most ${MAX_ID_LENGTH} characters`)
    }
    const stored = this.options.serializeUser(user)
    const previous = this.current
    // A login never keeps the request's token (no session fixation): the old session ends.
    this.current = undefined
    if (previous) await this.revokeCurrent(previous)
    const deviceFingerprint = fingerprint ?? previous?.session.record.fingerprint ?? createId()
    await this.credentials.revokeFingerprint(userId, deviceFingerprint)
    const issued = await this.credentials.create({ userId, user: stored, fingerprint: deviceFingerprint, metadata: metadata ?? {} })
    const session: AuthenticatedSession = { record: issued.record, tokenHash: issued.tokenHash, presentedHash: issued.tokenHash, graced: false }
    this.current = { session, user }
    const token = signToken(issued.token, this.options.signingKeys[0] as KeyObject)
    if (cookie) setTokenCookie(this.res, this.options.cookie, token, cookieMaxAgeSeconds(issued.record, this.options.now(), this.options.timing))
    // The token goes out in the body the app sends: no shared cache may keep that either.
    else noStore(this.res)
    return { token, session: sessionInfo<Meta>(issued.record, userId, this.options.timing) }
  }

  async logout(): Promise<void> {
    const previous = this.current
    if (previous) await this.revokeCurrent(previous)
    this.current = undefined
    if (!this.res.headersSent) clearTokenCookie(this.res, this.options.cookie)
  }

  async listSessions(): Promise<DeviceSession<Meta>[]> {
    const current = this.current?.session.record
    if (!current) return []
    const devices = await this.credentials.devices(current.userId)
    return devices.map((device) => ({ ...sessionInfo<Meta>(device, current.userId, this.options.timing), current: device.id === current.id }))
  }

  async revokeSession(id: string): Promise<boolean> {
    const current = this.current
    if (!current || !isShortId(id)) return false
    if (id === current.session.record.id) {
      await this.logout()
      return true
    }
    return this.credentials.revoke(current.session.record.userId, id)
  }

  async revokeOtherSessions(): Promise<number> {
    const current = this.current?.session.record
    return current ? this.credentials.revokeAll(current.userId, current.id) : 0
  }

  private revokeCurrent({ session }: Current<User>): Promise<boolean> {
    return this.credentials.revoke(session.record.userId, session.record.id, [session.tokenHash, session.presentedHash])
  }

  private assertHeadersNotSent(operation: string): void {
    if (this.res.headersSent) {
      throw new UsageError(`req.auth.${operation}() was called after the response headers were sent (${this.req.method} ${this.req.path}): the session cookie could not be set`)
    }
  }
}

export function sessionInfo<Meta>(record: SessionRecord | DeviceRecord, userId: KeyPart, timing: SessionTiming): SessionInfo<Meta> {
  const { id, fingerprint, createdAt, renewedAt, metadata } = record
  return { id, userId, fingerprint, createdAt, renewedAt, expiresAt: expiresAt(record, timing), metadata: metadata as Meta }
}

function isShortId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH
}
