/**
 * `req.auth`: one request's view of its session, and the calls that change it.
 */
import type { KeyObject } from 'node:crypto'
import { inspect, type InspectOptions } from 'node:util'
import type { Request, Response } from 'express'
import { copyJson } from '../cache/shared-read'
import { UsageError } from '../errors'
import type { DeviceSession, LoginOptions, LoginResult, SessionContext, SessionInfo, SessionMetadata } from './context'
import type { AuthenticatedSession, CredentialsCache } from './credentials-cache'
import type { ResolvedSessionsOptions } from './options'
import { isUserId, type SessionRecord } from './records'
import { signToken } from './signing'
import { cookieMaxAgeSeconds, expiresAt, type SessionTiming } from './timing'
import { createId } from './token'
import { clearTokenCookie, noStore, setTokenCookie } from './transport'

/** Longest session id or fingerprint accepted from the app or a client: they become key parts. */
const MAX_ID_LENGTH = 128

interface Current<User, Meta> {
  session: AuthenticatedSession
  user: User
  /** What `session` gives, made on first use: its metadata is a copy, as the record may be shared with other requests. */
  info?: SessionInfo<Meta>
}

type LoginArguments<Meta> = Record<never, never> extends Meta ? [options?: LoginOptions<Meta>] : [options: LoginOptions<Meta>]

/**
 * Its state is in `#private` fields, so logging or serialising `req.auth` shows the user and the
 * session, never the options (which hold the signing secrets) or the request and response.
 */
export class RequestSession<User, Meta = SessionMetadata> implements SessionContext<User, Meta> {
  #current: Current<User, Meta> | undefined
  readonly #req: Request
  readonly #res: Response
  readonly #credentials: CredentialsCache
  readonly #options: ResolvedSessionsOptions<User>

  constructor(req: Request, res: Response, credentials: CredentialsCache, options: ResolvedSessionsOptions<User>) {
    this.#req = req
    this.#res = res
    this.#credentials = credentials
    this.#options = options
  }

  /** What `JSON.stringify(req.auth)` gives: the user and the session, nothing else. */
  toJSON(): { user: User | undefined; session: SessionInfo<Meta> | undefined } {
    return { user: this.user, session: this.session }
  }

  /** What `console.log(req.auth)` and `util.inspect` show: the same. */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `RequestSession ${inspect(this.toJSON(), options)}`
  }

  get user(): User | undefined {
    return this.#current?.user
  }

  get session(): SessionInfo<Meta> | undefined {
    const current = this.#current
    if (current === undefined) return undefined
    current.info ??= sessionInfo<Meta>(current.session.id, current.session.record, this.#options.timing)
    return current.info
  }

  /** Called by the middleware once the request's token has been resolved. */
  attach(session: AuthenticatedSession, user: User): void {
    this.#current = { session, user }
  }

  login(user: User, ...[options]: LoginArguments<Meta>): Promise<LoginResult<Meta>> {
    return this.#credentials.operations.run('login', () => this.logIn(user, options))
  }

  private async logIn(user: User, options: LoginOptions<Meta> | undefined): Promise<LoginResult<Meta>> {
    const { fingerprint, metadata, cookie = true } = (options ?? {}) as LoginOptions<SessionMetadata>
    this.assertHeadersNotSent('login')
    const userId: unknown = this.#options.userId(user)
    if (!isUserId(userId)) {
      throw new UsageError(
        'req.auth.login(): the userId option returned no usable id for this user (a non-empty string or a finite number)',
        { option: 'userId' },
      )
    }
    if (fingerprint !== undefined && !isShortId(fingerprint)) {
      throw new UsageError(`req.auth.login(): fingerprint must be a non-empty string of at most ${MAX_ID_LENGTH} characters`)
    }
    const stored = this.#options.serializeUser(user)
    const previous = this.#current?.session
    // A login never keeps the request's token (no session fixation): the old session ends, in
    // the login's own write when it was this user's, else first.
    this.#current = undefined
    const sameUser = previous !== undefined && String(previous.record.userId) === String(userId)
    if (previous && !sameUser) await this.#credentials.revoke(previous.record.userId, previous.id, 'replaced')
    // The device keeps its identity across logins of one user, never into another user's session.
    const deviceFingerprint = fingerprint ?? (sameUser ? previous.record.fingerprint : undefined) ?? createId()
    const issued = await this.#credentials.create({
      userId,
      user: stored,
      fingerprint: deviceFingerprint,
      metadata: metadata ?? {},
      ...(sameUser ? { replacing: previous.id } : {}),
    })
    const session: AuthenticatedSession = { userKey: issued.userKey, id: issued.id, record: issued.record, graced: false }
    this.#current = { session, user }
    const token = signToken(issued.token, this.#options.signingKeys[0] as KeyObject)
    if (cookie)
      setTokenCookie(this.#res, this.#options.cookie, token, cookieMaxAgeSeconds(issued.record, this.#options.now(), this.#options.timing))
    // The token goes out in the body the app sends: no shared cache may keep that either.
    else noStore(this.#res)
    return { token, session: sessionInfo<Meta>(issued.id, issued.record, this.#options.timing) }
  }

  logout(): Promise<void> {
    return this.#credentials.operations.run('logout', () => this.logOut())
  }

  private async logOut(): Promise<void> {
    const previous = this.#current?.session
    if (previous) await this.#credentials.revoke(previous.record.userId, previous.id, 'logout')
    this.#current = undefined
    if (!this.#res.headersSent) clearTokenCookie(this.#res, this.#options.cookie)
  }

  listSessions(): Promise<DeviceSession<Meta>[]> {
    return this.#credentials.operations.run('listSessions', async () => {
      const current = this.#current?.session
      if (!current) return []
      const devices = await this.#credentials.devices(current.record.userId)
      return devices.map((device) => ({
        ...sessionInfo<Meta>(device.id, device.record, this.#options.timing),
        current: device.id === current.id,
      }))
    })
  }

  revokeSession(id: string): Promise<boolean> {
    return this.#credentials.operations.run('revokeSession', async () => {
      const current = this.#current?.session
      if (!current || !isShortId(id)) return false
      if (id === current.id) {
        await this.logOut()
        return true
      }
      return this.#credentials.revoke(current.record.userId, id)
    })
  }

  revokeOtherSessions(): Promise<number> {
    return this.#credentials.operations.run('revokeOtherSessions', async () => {
      const current = this.#current?.session
      return current ? this.#credentials.revokeAll(current.record.userId, current.id) : 0
    })
  }

  private assertHeadersNotSent(operation: string): void {
    if (this.#res.headersSent) {
      throw new UsageError(
        `req.auth.${operation}() was called after the response headers were sent (${this.#req.method} ${this.#req.path}): the session cookie could not be set`,
      )
    }
  }
}

/** The app's view of a stored session: its metadata a copy, so that changing it changes no record (records may be shared: shared-read.ts). */
export function sessionInfo<Meta>(id: string, record: SessionRecord, timing: SessionTiming): SessionInfo<Meta> {
  const { userId, fingerprint, createdAt, renewedAt, metadata } = record
  return { id, userId, fingerprint, createdAt, renewedAt, expiresAt: expiresAt(record, timing), metadata: copyJson(metadata) as Meta }
}

function isShortId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH
}
