/**
 * A small express-session app on RedisSessionStore: login, the list of the user's sessions
 * ("your devices"), "sign out everywhere" and logout. `createApp` takes any store, so the same
 * app runs on Redis (server.ts) or in its test.
 */
import express from 'express'
import session from 'express-session'
import { isUnavailableError, type RedisSessionStore } from 'sessionvault/store'

// Typing the session is the usual express-session augmentation; the store needs nothing more.
declare module 'express-session' {
  interface SessionData {
    user?: { id: string; name: string }
    userAgent?: string
  }
}

export interface AppOptions {
  store: RedisSessionStore
  /** Signs the session cookie; a list to rotate secrets (the first signs). */
  secret: string | string[]
  /** Off only for plain-HTTP development. */
  secureCookie: boolean
  /** A name for this instance, shown on the page (useful behind a load balancer). */
  instance?: string
}

export function createApp({ store, secret, secureCookie, instance = 'app' }: AppOptions): express.Express {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(
    session({
      store,
      secret,
      resave: false, // the store implements touch
      saveUninitialized: false,
      rolling: true, // with touchAfterMs, renewing the cookie on every response costs no Redis write
      cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax', secure: secureCookie },
    }),
  )

  app.get('/', async (req, res) => {
    const user = req.session.user
    const devices = user ? await store.listUserSessions(user.id) : []
    res.type('html').send(
      page(
        instance,
        user?.name,
        devices.map((device) => ({
          current: device.id === store.storedId(req.sessionID),
          userAgent: device.session.userAgent ?? 'unknown browser',
          expiresAt: device.expiresAt,
        })),
      ),
    )
  })

  app.post('/login', (req, res, next) => {
    const given: unknown = (req.body as Record<string, unknown>)['name']
    const name = typeof given === 'string' ? given.trim() : ''
    if (!/^[\w.-]{1,32}$/.test(name)) {
      res.status(400).send('A name is 1 to 32 letters, digits, dots, dashes or underscores.')
      return
    }
    // A new session id at login (no session fixation); saved before redirecting, so a failed
    // save reaches the error handler instead of a redirect to a page that shows no login.
    req.session.regenerate((error: unknown) => {
      if (error) return next(error)
      req.session.user = { id: name.toLowerCase(), name }
      req.session.userAgent = req.get('user-agent') ?? 'unknown browser'
      req.session.save((saveError: unknown) => (saveError ? next(saveError) : res.redirect(303, '/')))
    })
  })

  app.post('/logout', (req, res, next) => {
    req.session.destroy((error: unknown) => (error ? next(error) : res.redirect(303, '/')))
  })

  app.post('/logout-everywhere', async (req, res) => {
    const user = req.session.user
    if (user) await store.destroyUserSessions(user.id)
    res.redirect(303, '/')
  })

  // Redis out of reach: every store call (listUserSessions and destroyUserSessions included)
  // fails within its timeoutMs with REDIS_UNAVAILABLE; Express 5 brings async handlers' here too.
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(error)
    const unavailable = isUnavailableError(error)
    res.status(unavailable ? 503 : 500).send(unavailable ? 'Sessions are unavailable; try again in a moment.' : 'Something went wrong.')
  })
  return app
}

interface Device {
  current: boolean
  userAgent: string
  /** ms since the epoch */
  expiresAt: number
}

function page(instance: string, name: string | undefined, devices: Device[]): string {
  const account = name
    ? `<p>Signed in as <b>${escape(name)}</b>.</p>
       <h2>Your sessions</h2>
       <ul>${devices.map((d) => `<li>${escape(d.userAgent)}${d.current ? ' (this one)' : ''}, until ${new Date(d.expiresAt).toISOString()}</li>`).join('')}</ul>
       <form method="post" action="/logout-everywhere"><button>Sign out everywhere</button></form>
       <form method="post" action="/logout"><button>Sign out</button></form>`
    : `<form method="post" action="/login"><input name="name" placeholder="your name" required> <button>Sign in</button></form>`
  return `<!doctype html><title>express-session on sessionvault</title>
    <p>Answered by <b>${escape(instance)}</b>.</p>${account}`
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
