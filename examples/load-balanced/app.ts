/**
 * One instance of the demo: an Express app that keeps nothing of a user in memory. Whatever it
 * knows of a session it reads from Redis through `auth`, so any instance can answer any request.
 */
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express'
import { isUnavailableError } from 'sessionvault'
import type { DemoAuth } from './auth'
import type { EventLog } from './event-log'
import { errorPage, homePage, loginPage, type PageContext } from './pages'

export interface InstanceAppOptions {
  /** Shown on every page and sent as `X-Served-By`. */
  instance: string
  /** Shown in the footer, e.g. 'pid 4242, port 41234'. */
  detail: string
  auth: DemoAuth
  /** Whether this instance can reach Redis right now, for `/healthz`. */
  redisReady: () => boolean
  /** Log one line per request (the demo's terminal shows the round robin). */
  logRequests?: boolean
  /** The session events of every instance, shown on the home page. @default no panel */
  events?: EventLog
}

/** A name: letters, digits, and `_ . -` or a space inside. */
const NAME = /^[\p{L}\p{N}_.-](?:[\p{L}\p{N}_. -]{0,30}[\p{L}\p{N}_.-])?$/u

export function createInstanceApp({ instance, detail, auth, redisReady, logRequests = false, events }: InstanceAppOptions): Express {
  const context: PageContext = { instance, mode: auth.mode, detail }
  const app = express()
  app.disable('x-powered-by')
  // nginx on loopback sets X-Forwarded-For: req.ip is then the browser's address.
  app.set('trust proxy', 'loopback')

  // First, so that every answer says who gave it, errors and 503s included.
  app.use((_req, res, next) => {
    res.set('X-Served-By', instance)
    // Pages show per-request facts (who answered, the devices): never cached.
    res.set('Cache-Control', 'no-store')
    next()
  })
  // Before the session middleware: a health check must not touch Redis. Not logged: it is polled.
  app.get('/healthz', (_req, res) => {
    res.json({ instance, redis: redisReady() })
  })
  if (logRequests) app.use(requestLogger(auth))

  app.use(express.urlencoded({ extended: false, limit: '4kb' }))
  app.use(auth.middleware)

  app.get('/', async (req, res) => {
    const user = auth.userOf(req)
    if (user === undefined) return void res.type('html').send(loginPage(context))
    const [devices, recent] = await Promise.all([auth.devices(req), events?.recent()])
    res.type('html').send(homePage(context, user, devices, recent))
  })

  // For scripts and tests: who answered, and who they think you are.
  app.get('/api/me', (req, res) => {
    res.json({ instance, mode: auth.mode, user: auth.userOf(req) ?? null })
  })

  // Forms post with the session cookie, which is SameSite=Lax: other sites' forms cannot.
  app.post('/login', async (req, res) => {
    const given = (req.body as { name?: unknown } | undefined)?.name
    const name = typeof given === 'string' ? given.trim() : ''
    if (!NAME.test(name)) {
      return void res
        .status(400)
        .type('html')
        .send(loginPage(context, 'A name is 1 to 32 letters, digits, spaces, dots, dashes or underscores.'))
    }
    await auth.login(req, res, name, { userAgent: req.get('user-agent') ?? '', ip: req.ip ?? 'unknown' })
    res.redirect(303, '/')
  })

  app.post('/logout', async (req, res) => {
    await auth.logout(req, res)
    res.redirect(303, '/')
  })

  app.post('/devices/revoke-others', async (req, res) => {
    await auth.revokeOthers(req)
    res.redirect(303, '/')
  })

  app.post('/devices/:id/revoke', async (req, res) => {
    await auth.revoke(req, res, String(req.params['id']))
    res.redirect(303, '/')
  })

  app.use((_req, res) => {
    res
      .status(404)
      .type('html')
      .send(errorPage(context, 404, 'Nothing here.'))
  })
  if (auth.errorHandler) app.use(auth.errorHandler)
  app.use(errorHandler(context))
  return app
}

function errorHandler(context: PageContext): ErrorRequestHandler {
  return function demoErrorHandler(error: unknown, _req, res, next) {
    if (res.headersSent) return next(error)
    // Redis out of reach: a 503 (nginx does not retry it: every instance would say the same).
    if (isUnavailableError(error)) {
      res
        .status(503)
        .set('Retry-After', '1')
        .type('html')
        .send(errorPage(context, 503, 'Redis is out of reach. Try again in a moment.'))
      return
    }
    console.error(error)
    res
      .status(500)
      .type('html')
      .send(errorPage(context, 500, 'Something went wrong.'))
  }
}

/** One line per request; stack.ts prefixes it with the instance's name. */
function requestLogger(auth: DemoAuth): RequestHandler {
  return (req: Request, res, next) => {
    const started = Date.now()
    res.on('finish', () => {
      // The user as the request ended (a login sets it, a logout clears it).
      const user = safeUser(auth, req)
      console.log(`${req.method} ${req.originalUrl} ${res.statusCode} ${Date.now() - started}ms${user ? ` ${user}` : ''}`)
    })
    next()
  }
}

function safeUser(auth: DemoAuth, req: Request): string | undefined {
  try {
    return auth.userOf(req)
  } catch {
    // The session middleware did not run for this request (a health check, a 404 before it).
    return undefined
  }
}
