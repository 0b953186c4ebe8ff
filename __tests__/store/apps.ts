// A small express-session app, as the store tests and users would write it, on Express 4 or 5.
import type { ErrorRequestHandler } from 'express'
import session, { type SessionData, type Store } from 'express-session'
import type { Response } from 'supertest'
import { isUnavailableError } from 'sessionvault'
import { asyncHandler } from 'sessionvault/middleware'
import { EXPRESS_5, type ExpressApp, type ExpressMajor } from '../helpers/express-majors'
import './session-data'

export interface AppOptions {
  /** cookie.maxAge in ms; null: a browser-session cookie (the store's `ttl` then decides). @default one hour */
  maxAgeMs?: number | null
  rolling?: boolean
  /**
   * Called by POST /views-slowly with a copy of the session it loaded, and awaited before it
   * changes the session: a slow request, which the test lets finish when it chooses.
   */
  gate?: (loaded: SessionData) => Promise<void>
  /** Sees every error the app's error handler receives. */
  onError?: (error: unknown) => void
}

export function sessionApp(
  store: Store,
  { maxAgeMs = 3_600_000, rolling = false, gate, onError: seeError }: AppOptions = {},
  express: ExpressMajor = EXPRESS_5,
): ExpressApp {
  const app = express.create()
  app.use(
    session({
      store,
      secret: 'test secret',
      resave: false,
      saveUninitialized: false,
      rolling,
      cookie: maxAgeMs === null ? {} : { maxAge: maxAgeMs },
    }),
  )
  app.post('/login/:user', (req, res, next) => {
    const userId = String(req.params['user'])
    req.session.userId = userId
    // Saved before answering, as express-session advises for logins: a failed save then reaches
    // the error handler instead of following a response already sent.
    req.session.save((error: unknown) => (error ? next(error) : res.json({ userId })))
  })
  // The login express-session's docs advise against session fixation: a new id, then the user,
  // then an explicit save. express-session then saves the new session a second time, at the end
  // of the response (it compares with the id the request came with).
  app.post('/login-regenerated/:user', (req, res, next) => {
    req.session.regenerate((error: unknown) => {
      if (error) return next(error)
      req.session.userId = String(req.params['user'])
      req.session.save((saveError: unknown) => (saveError ? next(saveError) : res.json({ userId: req.session.userId })))
    })
  })
  app.get('/me', (req, res) => {
    // With whenUnavailable: 'skip', express-session may serve a request with no session at all.
    if (req.session === undefined) {
      res.json({ userId: null, session: false })
      return
    }
    res.json({ userId: req.session.userId ?? null, views: req.session.views ?? 0, session: true })
  })
  app.post('/views', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1
    res.json({ views: req.session.views })
  })
  app.post(
    '/views-slowly',
    asyncHandler(async (req, res) => {
      await gate?.({ ...req.session })
      req.session.views = (req.session.views ?? 0) + 1
      res.json({ views: req.session.views })
    }),
  )
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error: unknown) => (error ? next(error) : res.json({ ok: true })))
  })
  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    seeError?.(error)
    const unavailable = isUnavailableError(error)
    res.status(unavailable ? 503 : 500).json({ error: error instanceof Error ? error.message : String(error) })
  }
  app.use(onError)
  return app
}

/** The session cookie a response set, to send back as a browser would. */
export function cookieOf(response: Response): string {
  const header = response.headers['set-cookie'] as unknown
  const cookies = Array.isArray(header) ? (header as string[]) : []
  const cookie = cookies.find((line) => line.startsWith('connect.sid='))
  if (cookie === undefined) throw new Error(`no session cookie in the response (status ${response.status})`)
  return cookie.split(';')[0] as string
}

/** The session id inside a `connect.sid=s:<sid>.<signature>` cookie. */
export function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('connect.sid='.length))
  return value.slice(2, value.lastIndexOf('.'))
}
