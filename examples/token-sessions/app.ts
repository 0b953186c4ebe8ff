/**
 * A small app on token sessions: a login form, the list of the user's devices (each can be
 * signed out), "sign out everywhere else" and logout. `createApp` takes any cache, so the same
 * app runs on Redis (server.ts) or in memory (its test).
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import express from 'express'
import { sessions, type Cache, type DeviceSession } from 'sessionvault/middleware'

export interface User {
  id: number
  name: string
}

/** What the app records about each login, shown in the device list. */
export interface LoginMetadata {
  userAgent: string
  ip: string
}

// Demo accounts. Passwords are kept as scrypt hashes, as they should be anywhere.
const accounts = new Map(
  [
    { id: 1, name: 'alice', password: 'wonderland' },
    { id: 2, name: 'bob', password: 'builder' },
  ].map(({ password, ...user }) => {
    const salt = randomBytes(16)
    return [user.name, { user, salt, hash: scryptSync(password, salt, 32) }] as const
  }),
)

function checkPassword(name: string, password: string): User | undefined {
  const account = accounts.get(name)
  if (!account) return undefined
  return timingSafeEqual(scryptSync(password, account.salt, 32), account.hash) ? account.user : undefined
}

export interface AppOptions {
  cache: Cache
  /** At least 32 characters; a list to rotate secrets (the first signs). */
  secret: string | readonly string[]
  /** Off only for plain-HTTP development. */
  secureCookie: boolean
  /** A name for this instance, shown on the page (useful behind a load balancer). */
  instance?: string
}

export function createApp({ cache, secret, secureCookie, instance = 'app' }: AppOptions): express.Express {
  const auth = sessions<User, LoginMetadata>({
    cache,
    secret,
    cookie: { secure: secureCookie },
    userId: (user) => user.id,
    // Only what the pages need is stored, and copied into each session.
    serializeUser: (user) => ({ id: user.id, name: user.name }),
  })

  const app = express()
  app.disable('x-powered-by')
  app.use(express.urlencoded({ extended: false }))
  app.use(auth)

  app.get('/', async (req, res) => {
    const { user } = auth.of(req)
    if (!user) return void res.type('html').send(page(instance, loginForm()))
    const devices = await auth.of(req).listSessions()
    res.type('html').send(page(instance, home(user, devices)))
  })

  app.post('/login', async (req, res) => {
    const { name, password } = req.body as { name?: string; password?: string }
    const user = checkPassword(String(name ?? ''), String(password ?? ''))
    if (!user)
      return void res
        .status(401)
        .type('html')
        .send(page(instance, loginForm('Wrong name or password.')))
    await auth.of(req).login(user, { metadata: { userAgent: req.get('user-agent') ?? 'unknown', ip: req.ip ?? 'unknown' } })
    res.redirect(303, '/')
  })

  // Forms post here; SameSite=Lax keeps other sites' forms from posting with the cookie.
  app.post('/logout', async (req, res) => {
    await req.auth.logout()
    res.redirect(303, '/')
  })
  app.post('/devices/:id/sign-out', async (req, res) => {
    await req.auth.revokeSession(String(req.params['id']))
    res.redirect(303, '/')
  })
  app.post('/devices/sign-out-others', async (req, res) => {
    await req.auth.revokeOtherSessions()
    res.redirect(303, '/')
  })

  // A login or logout while Redis is down gets the middleware's 503, like any other request.
  app.use(auth.errorHandler)
  return app
}

function loginForm(error?: string): string {
  return `<h1>Sign in</h1>
${error ? `<p class="error">${escape(error)}</p>` : ''}
<form method="post" action="/login">
  <label>Name <input name="name" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button>Sign in</button>
</form>
<p>Try alice / wonderland or bob / builder.</p>`
}

function home(user: User, devices: DeviceSession<LoginMetadata>[]): string {
  const rows = devices
    .map(
      (device) => `<tr>
  <td>${escape(device.metadata.userAgent)}</td><td>${escape(device.metadata.ip)}</td>
  <td>${new Date(device.createdAt).toISOString()}</td>
  <td>${device.current ? 'this device' : `<form method="post" action="/devices/${encodeURIComponent(device.id)}/sign-out"><button>Sign out</button></form>`}</td>
</tr>`,
    )
    .join('\n')
  return `<h1>Hello, ${escape(user.name)}</h1>
<h2>Your devices</h2>
<table><tr><th>Browser</th><th>IP</th><th>Signed in</th><th></th></tr>
${rows}
</table>
<form method="post" action="/devices/sign-out-others"><button>Sign out all other devices</button></form>
<form method="post" action="/logout"><button>Sign out</button></form>`
}

function page(instance: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Token sessions</title></head>
<body>
${body}
<footer>Served by ${escape(instance)}</footer>
</body></html>
`
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
