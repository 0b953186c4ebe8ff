/**
 * Test apps for the token-session middleware: a few routes that exercise `req.auth`, and the
 * cookie plumbing a browser would do. Its async routes are written as README shows them, with
 * `asyncHandler`, so the same app runs on Express 4 and 5 (and /logout reads as in
 * examples/metrics/app.ts, which stands alone and imports nothing from the tests).
 */
import request from 'supertest'
import type { Cache } from 'sessionvault/cache'
import { asyncHandler } from 'sessionvault/middleware'
import { sessions, type SessionsMiddleware } from 'sessionvault/middleware'
import type { SessionsOptions } from 'sessionvault/middleware'
import { EXPRESS_5, type ExpressApp, type ExpressMajor } from '../helpers/express-majors'

export const SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz'
export const OLD_SECRET = 'old-secret-0123456789abcdefghijklmnopqrstuvwxyz'

export interface TestUser {
  id: string
  name: string
}

export interface DeviceMeta {
  device?: string
}

export interface TestApp {
  app: ExpressApp
  auth: SessionsMiddleware<TestUser, DeviceMeta>
}

/** A fake clock the middleware reads; tests move it by hand. */
export class Clock {
  constructor(public time = Date.UTC(2030, 0, 1)) {}
  now = (): number => this.time
  advance(ms: number): void {
    this.time += ms
  }
}

export function testApp(cache: Cache, options: Partial<SessionsOptions<TestUser>> = {}, express: ExpressMajor = EXPRESS_5): TestApp {
  const auth = sessions<TestUser, DeviceMeta>({ cache, secret: SECRET, cookie: { secure: false }, ...options })
  const app = express.create()
  app.use(express.json())
  app.use(auth)

  app.post(
    '/login',
    asyncHandler(async (req, res) => {
      const { id, name, device, fingerprint, cookie } = req.body as Record<string, string | undefined>
      const result = await auth.of(req).login(
        { id: id ?? 'alice', name: name ?? 'Alice' },
        {
          metadata: { ...(device === undefined ? {} : { device }) },
          ...(fingerprint === undefined ? {} : { fingerprint }),
          cookie: cookie !== 'no',
        },
      )
      res.json(result)
    }),
  )
  app.get('/me', (req, res) => {
    const { user, session } = auth.of(req)
    if (user === undefined) res.status(401).json({ user: null })
    else res.json({ user, session })
  })
  app.post(
    '/logout',
    asyncHandler(async (req, res) => {
      await req.auth.logout()
      res.json({ ok: true })
    }),
  )
  app.get(
    '/sessions',
    asyncHandler(async (req, res) => {
      res.json(await auth.of(req).listSessions())
    }),
  )
  app.delete(
    '/sessions/:id',
    asyncHandler(async (req, res) => {
      res.json({ revoked: await req.auth.revokeSession(String(req.params['id'])) })
    }),
  )
  app.post(
    '/sessions/revoke-others',
    asyncHandler(async (req, res) => {
      res.json({ revoked: await req.auth.revokeOtherSessions() })
    }),
  )
  app.use(auth.errorHandler)
  return { app, auth }
}

/** The session cookie's value in a response's `Set-Cookie`, `''` when it clears it, `undefined` when absent. */
export function sessionCookie(res: request.Response, name = 'session'): string | undefined {
  const line = setCookieLines(res).find((item) => item.startsWith(`${name}=`))
  return line === undefined ? undefined : decodeURIComponent(line.slice(name.length + 1).split(';')[0] as string)
}

export function setCookieLines(res: request.Response): string[] {
  const header: unknown = res.headers['set-cookie']
  return Array.isArray(header) ? (header as string[]) : typeof header === 'string' ? [header] : []
}

/** Logs in through `app` and returns the signed token from the cookie. */
export async function login(app: ExpressApp, body: Record<string, string> = {}): Promise<string> {
  const res = await request(app).post('/login').send(body).expect(200)
  const token = sessionCookie(res)
  if (!token) throw new Error('login set no session cookie')
  return token
}

/** The `Cookie` header a browser holding `token` sends, for supertest's `.set()`. */
export function cookieHeader(token: string, name = 'session'): Record<string, string> {
  return { Cookie: `${name}=${token}` }
}

/** GET /me with a token; resolves to the HTTP status. */
export async function statusWith(app: ExpressApp, token: string): Promise<number> {
  const res = await request(app).get('/me').set(cookieHeader(token))
  return res.status
}
