/**
 * An API on token sessions with a `/metrics` endpoint for Prometheus: sign in with
 * `POST /login`, read `/me`, sign out with `POST /logout`; `/metrics` gives sessionvault's
 * metrics (metrics.ts) beside Node's own. `createApp` takes the cache, so the test runs it on
 * the suite's Redis and server.ts on yours.
 */
import express from 'express'
import { Registry, collectDefaultMetrics } from 'prom-client'
import { asyncHandler, sessions, type Cache } from 'sessionvault'
import { sessionvaultMetrics } from './metrics'

export interface User {
  name: string
}

export interface AppOptions {
  cache: Cache
  /** At least 32 characters. */
  secret: string
}

export interface MetricsApp {
  app: express.Express
  registry: Registry
  /** Stops feeding the metrics from the diagnostics channels. */
  stop: () => void
}

export function createApp({ cache, secret }: AppOptions): MetricsApp {
  const auth = sessions<User>({ cache, secret, cookie: { secure: false }, userId: (user) => user.name })
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const metrics = sessionvaultMetrics(registry, [{ layer: 'middleware', stats: () => auth.stats() }])

  const app = express()
  app.disable('x-powered-by')
  app.use(express.json())
  app.use(auth)
  // The routes of any token-session API, written out here as the tests' app writes them: an example stands alone.
  app.post(
    '/login',
    asyncHandler(async (req, res) => {
      const { name } = req.body as { name?: unknown }
      if (typeof name !== 'string' || !/^[a-z]{1,32}$/.test(name))
        return void res.status(400).json({ error: 'name: 1 to 32 lowercase letters' })
      await auth.of(req).login({ name })
      res.json({ name })
    }),
  )
  app.get('/me', (req, res) => {
    const { user } = auth.of(req)
    if (user === undefined) res.status(401).json({ user: null })
    else res.json({ user })
  })
  app.post(
    '/logout',
    asyncHandler(async (req, res) => {
      await req.auth.logout()
      res.json({ ok: true })
    }),
  )
  // In production, serve this on a port only Prometheus reaches.
  app.get(
    '/metrics',
    asyncHandler(async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics())
    }),
  )
  app.use(auth.errorHandler)
  return { app, registry, stop: () => metrics.stop() }
}
