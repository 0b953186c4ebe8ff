/**
 * The apps `npm run bench` puts under load, one per variant. Each runs in a Node process of its
 * own (bench/app-worker.ts) on its own Redis, so one variant's background work (timers, tracking
 * connections, garbage) is never charged to another. Every app has `POST /login/:user`, which
 * starts a session for user n, and `GET /me`, which reads that session and answers the user's
 * name: the load replays many logins' cookies, and checks every answer against the cookie's user.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RedisStore } from 'connect-redis'
import express, { type Express } from 'express'
import session, { MemoryStore, type Store } from 'express-session'
import { createClient } from 'redis'
import type { RedisCache, RedisClient, RedisSessionStore } from '../lib'
import {
  NEAR_CACHE,
  SESSION_MS,
  TOKEN_CACHE,
  TOUCH_AFTER_S,
  benchUser,
  sessionFields,
  tokenMetadata,
  userOf,
  type BenchUser,
} from './bench-data'
import { library } from './library'

export interface VariantSpec {
  key: string
  name: string
  /** A short name, for the chart. */
  label: string
  /** Whether it keeps sessions in Redis (then it gets a redis-server of its own). */
  redis: boolean
  /** Builds the app, on a connected client of `redisUrl` for the Redis variants. */
  build(redisUrl: string | undefined): Promise<BuiltApp>
}

export interface BuiltApp {
  app: Express
  /** Closes what the app opened (Redis connections). */
  close(): Promise<void>
}

const SECRET = randomBytes(32).toString('base64url')

export const VARIANTS: readonly VariantSpec[] = [
  {
    key: 'bare',
    label: 'bare Express',
    name: 'Express, no session (the ceiling)',
    redis: false,
    build: async () => ({ app: bareApp(), close: async () => undefined }),
  },
  {
    key: 'bare-deferred',
    label: 'bare Express, deferred a turn',
    name: 'Express, no session, each request handed on one event-loop turn later (`setImmediate`)',
    redis: false,
    // A reference, not a session layer: a near-cache hit is answered on the next turn, with the
    // turn's other hits, which by itself changes what a request costs.
    build: async () => ({ app: bareApp((_req, _res, next) => void setImmediate(next)), close: async () => undefined }),
  },
  {
    key: 'memory',
    label: 'MemoryStore',
    name: 'express-session + MemoryStore',
    redis: false,
    build: async () => ({ app: expressSessionApp(new MemoryStore()), close: async () => undefined }),
  },
  {
    key: 'connect-redis',
    label: 'connect-redis',
    name: 'express-session + connect-redis',
    redis: true,
    build: (url) => onRedis(url, (client) => ({ app: expressSessionApp(new RedisStore({ client })) })),
  },
  {
    key: 'store',
    label: 'RedisSessionStore',
    name: 'express-session + RedisSessionStore, defaults',
    redis: true,
    build: (url) => onRedis(url, (client) => storeApp(new (library().RedisSessionStore)({ client }))),
  },
  {
    key: 'store-user',
    label: 'RedisSessionStore, userOf',
    name: 'express-session + RedisSessionStore with `userOf` (per-user index)',
    redis: true,
    build: (url) => onRedis(url, (client) => storeApp(new (library().RedisSessionStore)({ client, userOf }))),
  },
  {
    key: 'store-near',
    label: 'RedisSessionStore, touchAfterMs, near-cache',
    name: `express-session + RedisSessionStore, \`userOf\`, \`touchAfterMs: ${TOUCH_AFTER_S * 1000}\` + near-cache`,
    redis: true,
    build: (url) =>
      onRedis(url, (client) =>
        storeApp(new (library().RedisSessionStore)({ client, userOf, touchAfterMs: TOUCH_AFTER_S * 1000, nearCache: NEAR_CACHE })),
      ),
  },
  {
    key: 'hand',
    label: 'hand-written GET',
    name: 'a hand-written middleware: unsigned cookie → one Redis `GET` → `JSON.parse`',
    redis: true,
    build: (url) => onRedis(url, (client) => ({ app: handWrittenApp(client as unknown as NodeRedisClient) })),
  },
  {
    key: 'token',
    label: 'token middleware',
    name: 'sessions() token middleware, defaults',
    redis: true,
    build: (url) => onRedis(url, (client) => cacheApp(new (library().RedisCache)({ client, ...TOKEN_CACHE }))),
  },
  {
    key: 'token-near',
    label: 'token middleware, near-cache',
    name: 'sessions() token middleware + near-cache',
    redis: true,
    build: (url) => onRedis(url, (client) => cacheApp(new (library().RedisCache)({ client, ...TOKEN_CACHE, nearCache: NEAR_CACHE }))),
  },
]

export function variantByKey(key: string): VariantSpec {
  const spec = VARIANTS.find((variant) => variant.key === key)
  if (spec === undefined) throw new Error(`no bench variant ${JSON.stringify(key)}`)
  return spec
}

/**
 * The ceiling: the same requests, answered from the cookie itself (`session=<name>.<padding>`),
 * with no session; `first`, a middleware in front of the routes.
 */
function bareApp(first?: express.RequestHandler): Express {
  const app = express()
  if (first) app.use(first)
  app.post('/login/:user', (req, res) => {
    // About the size of the other variants' cookies.
    res.cookie('session', `${benchUser(Number(req.params.user)).name}.${randomBytes(48).toString('base64url')}`, {
      httpOnly: true,
      sameSite: 'lax',
    })
    res.send('ok')
  })
  app.get('/me', (req, res) => {
    res.send(/(?:^|; )session=([^.;]*)/.exec(req.headers.cookie ?? '')?.[1] ?? 'anonymous')
  })
  return app
}

type NodeRedisClient = ReturnType<typeof createClient>

/**
 * The least a session read from Redis can cost, for comparison with `sessions()` without a
 * near-cache: a random id in the cookie (unsigned), one `GET` of the user and a device's
 * metadata (about what a token session holds), `JSON.parse`; no expiry, renewal or outage handling.
 */
function handWrittenApp(client: NodeRedisClient): Express {
  const app = express()
  app.use((req, _res, next) => {
    const id = /(?:^|; )hand=([^;]*)/.exec(req.headers.cookie ?? '')?.[1]
    if (id === undefined) return next()
    client.get(`hand:${id}`).then((text) => {
      if (text !== null) (req as HandRequest).handSession = JSON.parse(text) as HandSession
      next()
    }, next)
  })
  app.post('/login/:user', async (req, res) => {
    const id = randomBytes(24).toString('base64url')
    const stored: HandSession = { user: benchUser(Number(req.params.user)), metadata: tokenMetadata(), createdAt: Date.now() }
    await client.set(`hand:${id}`, JSON.stringify(stored), { PX: SESSION_MS })
    res.cookie('hand', id, { httpOnly: true, sameSite: 'lax' })
    res.send('ok')
  })
  app.get('/me', (req, res) => {
    res.send((req as HandRequest).handSession?.user.name ?? 'anonymous')
  })
  return app
}

interface HandSession {
  user: BenchUser
  metadata: ReturnType<typeof tokenMetadata>
  createdAt: number
}

type HandRequest = express.Request & { handSession?: HandSession }

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
  app.post('/login/:user', (req, res) => {
    Object.assign(req.session, sessionFields(benchUser(Number(req.params.user))))
    res.send('ok')
  })
  app.get('/me', (req, res) => {
    res.send(req.session.benchUser?.name ?? 'anonymous')
  })
  return app
}

/** The token middleware on `cache`: a login records the device (`tokenMetadata`) as well as the user. */
export function tokenApp(cache: RedisCache): Express {
  const auth = library().sessions<BenchUser>({ cache, secret: SECRET, cookie: { secure: false } })
  const app = express()
  app.use(auth)
  app.post('/login/:user', async (req, res) => {
    await auth.of(req).login(benchUser(Number(req.params.user)), { metadata: tokenMetadata() })
    res.send('ok')
  })
  app.get('/me', (req, res) => {
    res.send(auth.of(req).user?.name ?? 'anonymous')
  })
  app.use(auth.errorHandler)
  return app
}

/** An app on a Redis connection of its own: closing it closes what the app opened, then the connection. */
type AppOnClient = { app: Express; close?: () => Promise<void> }

function storeApp(store: RedisSessionStore): AppOnClient {
  return { app: expressSessionApp(store), close: () => store.close() }
}

function cacheApp(cache: RedisCache): AppOnClient {
  return { app: tokenApp(cache), close: () => cache.close() }
}

async function onRedis(url: string | undefined, make: (client: RedisClient) => AppOnClient): Promise<BuiltApp> {
  if (url === undefined) throw new Error('this variant needs a Redis URL')
  const client = createClient({ url })
  client.on('error', (error: unknown) => console.error('bench: redis client error', error))
  await client.connect()
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

/** Listens on a free 127.0.0.1 port. */
export function listen(app: Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app)
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/** An app served in this process (for the steps that only log users in): its URL, and how to stop it. */
export async function serve(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = await listen(app)
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
