/**
 * A token-session app as users write it (`sessions()` on a RedisCache, a few routes, the
 * middleware's error handler), and a browser that holds its cookie.
 */
import express, { type ErrorRequestHandler, type Express } from 'express'
import request from 'supertest'
import { RedisCache, sessions, type SessionsMiddleware } from 'sessionvault'
import type { AppClient } from './fault-redis'

export const SECRET = 'faults-secret-0123456789abcdefghijklmnopqrstuvwxyz'
export const TTL_MS = 60_000
export const RENEW_AFTER_MS = 20_000
export const ROTATION_GRACE_MS = 10_000

export interface User {
  id: string
  name: string
}

/** The middleware's clock, moved by hand; records' TTLs in Redis stay real. */
export class Clock {
  time = Date.now()
  readonly now = (): number => this.time
  advance(ms: number): void {
    this.time += ms
  }
}

export interface TokenApp {
  app: Express
  auth: SessionsMiddleware<User>
  cache: RedisCache
  clock: Clock
  /** Errors that reached the app's last error handler, and whether the response had begun. */
  errors: { error: unknown; headersSent: boolean }[]
}

export interface TokenAppOptions {
  maxAgeMs?: number
}

/** Sessions get a cache of their own, with tagDepth 3 (SESSION_TAG_DEPTH), as on Cluster it must. */
export function sessionCache(client: AppClient, namespace: string): RedisCache {
  return new RedisCache({ client, namespace, tagDepth: 3, ttlMs: TTL_MS, commandTimeoutMs: 1_000 })
}

export function tokenApp(client: AppClient, namespace: string, options: TokenAppOptions = {}): TokenApp {
  const clock = new Clock()
  const cache = sessionCache(client, namespace)
  const auth = sessions<User>({
    cache,
    secret: SECRET,
    cookie: { secure: false },
    ttlMs: TTL_MS,
    renewAfterMs: RENEW_AFTER_MS,
    rotationGraceMs: ROTATION_GRACE_MS,
    timeoutMs: 2_000,
    now: clock.now,
    ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
  })
  const errors: TokenApp['errors'] = []
  const app = express()
  app.use(express.json())
  app.use(auth)
  app.post('/login', async (req, res) => {
    const { id, name, fingerprint } = req.body as { id: string; name: string; fingerprint?: string }
    const { session } = await auth.of(req).login({ id, name }, fingerprint === undefined ? {} : { fingerprint })
    res.json({ session })
  })
  app.get('/me', (req, res) => {
    const { user, session } = auth.of(req)
    if (user === undefined) res.status(401).json({ user: null })
    else res.json({ user, session })
  })
  app.post('/logout', async (req, res) => {
    await req.auth.logout()
    res.json({ ok: true })
  })
  app.get('/sessions', async (req, res) => {
    res.json(await req.auth.listSessions())
  })
  app.delete('/sessions/:id', async (req, res) => {
    res.json({ revoked: await req.auth.revokeSession(String(req.params['id'])) })
  })
  app.post('/sessions/revoke-others', async (req, res) => {
    res.json({ revoked: await req.auth.revokeOtherSessions() })
  })
  // What an admin panel or a password reset would call, on any server.
  app.post('/admin/users/:id/revoke-all', async (req, res) => {
    res.json({ revoked: await auth.revokeAllSessions(String(req.params['id'])) })
  })
  app.post('/admin/users/:id/update', async (req, res) => {
    await auth.updateUser({ id: String(req.params['id']), name: String((req.body as { name: unknown }).name) })
    res.json({ ok: true })
  })
  const record: ErrorRequestHandler = (error, _req, res, next) => {
    errors.push({ error, headersSent: res.headersSent })
    next(error)
  }
  const last: ErrorRequestHandler = (error, _req, res, next) => {
    if (res.headersSent) return next(error)
    res.status(500).json({ error: 'internal' })
  }
  app.use(record, auth.errorHandler, last)
  return { app, auth, cache, clock, errors }
}

/** A signed token's user key and session id: where its record is (`['u', userKey, 's', sessionId]`). */
export function tokenParts(token: string): { userKey: string; sessionId: string } {
  const [userKey = '', sessionId = ''] = token.split('.')
  return { userKey, sessionId }
}

/** The session cookie in a response: the token, `''` when cleared, `undefined` when not set. */
export function sessionCookie(res: request.Response): string | undefined {
  const header: unknown = res.headers['set-cookie']
  const lines = Array.isArray(header) ? (header as string[]) : []
  const line = lines.find((item) => item.startsWith('session='))
  return line === undefined ? undefined : decodeURIComponent(line.slice('session='.length).split(';')[0] as string)
}

/** What a token opens: the user and session a GET /me answered with, or the status when none. */
export interface Opened {
  status: number
  userId?: string
  name?: string
  sessionId?: string
  /** A token the response handed out (a renewal). */
  renewed?: string
}

export async function open(app: Express, token: string): Promise<Opened> {
  const res = await request(app).get('/me').set('Cookie', `session=${token}`)
  const renewed = sessionCookie(res)
  if (res.status !== 200) return { status: res.status }
  return {
    status: 200,
    userId: String(res.body.user.id),
    name: String(res.body.user.name),
    sessionId: String(res.body.session.id),
    ...(renewed ? { renewed } : {}),
  }
}

/** Logs `id` in from a new device; resolves to the token its cookie holds. */
export async function login(app: Express, id: string, fingerprint?: string): Promise<string> {
  const res = await request(app)
    .post('/login')
    .send({ id, name: nameOf(id), ...(fingerprint === undefined ? {} : { fingerprint }) })
  const token = sessionCookie(res)
  if (res.status !== 200 || !token) throw new Error(`login of ${id} failed with ${res.status}`)
  return token
}

export function nameOf(id: string): string {
  return id[0]?.toUpperCase() + id.slice(1)
}
