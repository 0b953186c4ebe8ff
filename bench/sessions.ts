/**
 * The apps `npm run bench` puts under load, one per variant, each on its own free 127.0.0.1 port
 * and all in this process. Every app has `POST /login`, which starts a session for one user, and
 * `GET /me`, which reads that session and answers the user's name: with the cookie of one login,
 * the load measures the authenticated steady state.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RedisStore } from 'connect-redis'
import express, { type Express } from 'express'
import session, { MemoryStore, type Store } from 'express-session'
import { createClient, createCluster } from 'redis'
import { RedisCache, RedisSessionStore, sessions, type RedisClient } from '../lib'

export interface BenchUser {
  id: number
  name: string
}

declare module 'express-session' {
  interface SessionData {
    benchUser?: BenchUser
    benchCsrf?: string
  }
}

export const USER: BenchUser = { id: 42, name: 'ada' }
/** express-session's cookie lifetime and the token sessions' `ttlMs`: both 30 minutes. */
export const SESSION_MS = 30 * 60_000
/** Seconds: a touch writes at most once a minute per session (the demo's setting). */
export const TOUCH_AFTER_S = 60
export const NEAR_CACHE = { maxEntries: 10_000 }
const SECRET = randomBytes(32).toString('base64url')

/** Where each variant's Redis is: the private standalone server and, when started, the cluster. */
export interface Backends {
  url: string
  clusterUrls: readonly string[] | undefined
}

export type RedisKind = 'none' | 'standalone' | 'cluster'

export interface VariantSpec {
  key: string
  name: string
  /** A short name, for the chart. */
  label: string
  /** Which Redis its commands are counted on. */
  redis: RedisKind
  /** Builds the app; throws `Unavailable` when it cannot run here (no cluster). */
  build(backends: Backends): Promise<BuiltApp>
}

interface BuiltApp {
  app: Express
  /** Closes what the app opened (Redis connections). */
  close(): Promise<void>
}

export interface RunningVariant {
  spec: VariantSpec
  url: string
  /** The `Cookie` header of a logged-in client. */
  cookie: string
  close(): Promise<void>
}

/** A variant that cannot run here (no cluster could be started): reported, not fatal. */
export class Unavailable extends Error {
  override name = 'Unavailable'
}

export const VARIANTS: readonly VariantSpec[] = [
  { key: 'bare', label: 'bare Express', name: 'Express, no session (the ceiling)', redis: 'none', build: async () => ({ app: bareApp(), close: async () => undefined }) },
  {
    key: 'memory',
    label: 'MemoryStore',
    name: 'express-session + MemoryStore',
    redis: 'none',
    build: async () => ({ app: expressSessionApp(new MemoryStore()), close: async () => undefined }),
  },
  {
    key: 'connect-redis',
    label: 'connect-redis',
    name: 'express-session + connect-redis',
    redis: 'standalone',
    build: ({ url }) => onStandalone(url, (client) => ({ app: expressSessionApp(new RedisStore({ client })) })),
  },
  {
    key: 'store',
    label: 'RedisSessionStore',
    name: 'express-session + RedisSessionStore, defaults',
    redis: 'standalone',
    build: ({ url }) => onStandalone(url, (client) => ({ app: expressSessionApp(new RedisSessionStore({ client })) })),
  },
  {
    key: 'store-touch',
    label: 'RedisSessionStore, touchAfter',
    name: `express-session + RedisSessionStore, touchAfter ${TOUCH_AFTER_S}`,
    redis: 'standalone',
    build: ({ url }) => onStandalone(url, touchStoreApp),
  },
  {
    key: 'store-near',
    label: 'RedisSessionStore, touchAfter, near-cache',
    name: `express-session + RedisSessionStore, touchAfter ${TOUCH_AFTER_S} + near-cache`,
    redis: 'standalone',
    build: ({ url }) => onStandalone(url, nearStoreApp),
  },
  {
    key: 'token',
    label: 'token middleware',
    name: 'sessions() token middleware, defaults',
    redis: 'standalone',
    build: ({ url }) => onStandalone(url, (client) => ({ app: tokenApp(new RedisCache({ client, ...tokenCacheOptions })) })),
  },
  {
    key: 'token-near',
    label: 'token middleware, near-cache',
    name: 'sessions() token middleware + near-cache',
    redis: 'standalone',
    build: ({ url }) => onStandalone(url, (client) => nearTokenApp(client)),
  },
  {
    // A reference, not a product setting: the near-cache answer, held back one event-loop turn.
    key: 'token-near-deferred',
    label: 'token, near-cache, deferred (reference)',
    name: 'sessions() + near-cache, answer deferred one event-loop turn (reference)',
    redis: 'standalone',
    build: ({ url }) => onStandalone(url, (client) => nearTokenApp(client, { deferred: true })),
  },
  {
    key: 'cluster-store-touch',
    label: 'Cluster: RedisSessionStore, touchAfter',
    name: `RedisSessionStore, touchAfter ${TOUCH_AFTER_S}, on a 3-master Cluster`,
    redis: 'cluster',
    build: ({ clusterUrls }) => onCluster(clusterUrls, touchStoreApp),
  },
  {
    key: 'cluster-store-near',
    label: 'Cluster: … touchAfter, near-cache',
    name: `RedisSessionStore, touchAfter ${TOUCH_AFTER_S} + near-cache, on a 3-master Cluster`,
    redis: 'cluster',
    build: ({ clusterUrls }) => onCluster(clusterUrls, nearStoreApp),
  },
]

/** Starts a variant's app on a free port and logs one client in. */
export async function startVariant(spec: VariantSpec, backends: Backends): Promise<RunningVariant> {
  const built = await spec.build(backends)
  let server: Server | undefined
  try {
    server = await listen(built.app)
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const cookie = await logIn(url, spec.key)
    const running = server
    return {
      spec,
      url,
      cookie,
      close: async () => {
        running.closeAllConnections()
        await new Promise<void>((resolve) => running.close(() => resolve()))
        await built.close()
      },
    }
  } catch (error) {
    server?.closeAllConnections()
    server?.close()
    await built.close()
    throw error
  }
}

function bareApp(): Express {
  const app = express()
  // The same request as the others' (a cookie of about the same size), minus the session.
  app.post('/login', (_req, res) => {
    res.cookie('session', randomBytes(64).toString('base64url'), { httpOnly: true, sameSite: 'lax' })
    res.send('ok')
  })
  app.get('/me', (_req, res) => {
    res.send(USER.name)
  })
  return app
}

function expressSessionApp(store: Store): Express {
  const app = express()
  app.use(
    session({
      store,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: SESSION_MS, httpOnly: true, sameSite: 'lax' },
    }),
  )
  app.post('/login', (req, res) => {
    // About 200 bytes stored: cookie, user, CSRF secret.
    req.session.benchUser = USER
    req.session.benchCsrf = randomBytes(18).toString('base64url')
    res.send('ok')
  })
  app.get('/me', (req, res) => {
    res.send(req.session.benchUser?.name ?? 'anonymous')
  })
  return app
}

function tokenApp(cache: RedisCache, { deferred = false } = {}): Express {
  const auth = sessions<BenchUser>({ cache, secret: SECRET, cookie: { secure: false } })
  const app = express()
  app.use(auth)
  if (deferred) app.use((_req, _res, next) => setImmediate(next))
  app.post('/login', async (req, res) => {
    await auth.of(req).login(USER)
    res.send('ok')
  })
  app.get('/me', (req, res) => {
    res.send(auth.of(req).user?.name ?? 'anonymous')
  })
  app.use(auth.errorHandler)
  return app
}

const userOf = (data: { benchUser?: BenchUser }) => data.benchUser?.id

const tokenCacheOptions = { namespace: 'bench-tokens', ttlMs: SESSION_MS, tagDepth: 3 }

function touchStoreApp(client: RedisClient): AppOnClient {
  return { app: expressSessionApp(new RedisSessionStore({ client, touchAfter: TOUCH_AFTER_S, userOf })) }
}

function nearStoreApp(client: RedisClient): AppOnClient {
  const store = new RedisSessionStore({ client, touchAfter: TOUCH_AFTER_S, userOf, nearCache: NEAR_CACHE })
  return { app: expressSessionApp(store), close: () => store.close() }
}

function nearTokenApp(client: RedisClient, options: { deferred?: boolean } = {}): AppOnClient {
  const cache = new RedisCache({ client, ...tokenCacheOptions, nearCache: NEAR_CACHE })
  return { app: tokenApp(cache, options), close: () => cache.close() }
}

/** An app on a Redis connection of its own: closing it closes what the app opened, then the connection. */
type AppOnClient = { app: Express; close?: () => Promise<void> }

async function onStandalone(url: string, make: (client: RedisClient) => AppOnClient): Promise<BuiltApp> {
  return built(await standalone(url), make)
}

async function onCluster(urls: readonly string[] | undefined, make: (client: RedisClient) => AppOnClient): Promise<BuiltApp> {
  return built(await clusterClient(urls), make)
}

async function built(client: RedisClient & { close(): Promise<unknown> }, make: (client: RedisClient) => AppOnClient): Promise<BuiltApp> {
  let made: AppOnClient
  try {
    made = make(client)
  } catch (error) {
    await client.close()
    throw error
  }
  const { app, close } = made
  return {
    app,
    close: async () => {
      await close?.()
      await client.close()
    },
  }
}

async function standalone(url: string) {
  const client = createClient({ url })
  client.on('error', (error: unknown) => console.error('bench: redis client error', error))
  await client.connect()
  return client
}

async function clusterClient(urls: readonly string[] | undefined) {
  if (urls === undefined) throw new Unavailable('no cluster was started')
  const cluster = createCluster({ rootNodes: urls.map((url) => ({ url })) })
  cluster.on('error', (error: unknown) => console.error('bench: redis cluster error', error))
  await cluster.connect()
  return cluster
}

function listen(app: Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app)
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/** Logs in and checks that the cookie opens the session, so the load measures what it claims to. */
async function logIn(url: string, key: string): Promise<string> {
  const login = await fetch(`${url}/login`, { method: 'POST' })
  // The whole body: express-session sends all but its last byte before the save is done.
  const answer = await login.text()
  if (!login.ok) throw new Error(`${key}: POST /login answered ${login.status} ${JSON.stringify(answer)}`)
  const cookie = login.headers.getSetCookie().map((header) => header.split(';')[0]).join('; ')
  if (cookie === '') throw new Error(`${key}: POST /login set no cookie`)
  for (let i = 0; i < 2; i++) {
    const me = await fetch(`${url}/me`, { headers: { cookie } })
    const body = await me.text()
    if (body !== USER.name) throw new Error(`${key}: GET /me with the login's cookie answered ${me.status} ${JSON.stringify(body)}`)
  }
  return cookie
}
