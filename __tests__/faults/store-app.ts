/**
 * An express-session app on a RedisSessionStore with `userOf`, as users write it: logins saved
 * before answering, logout by `destroy`, and admin routes that sign a user out of one device or
 * everywhere.
 */
import express, { type ErrorRequestHandler, type Express } from 'express'
import session, { type SessionData } from 'express-session'
import type request from 'supertest'
import { isUnavailableError, RedisSessionStore } from 'sessionvault'
import type { AppClient } from './fault-redis'

/** What the app keeps in a session: whose it is, and whether it is to end soon ("remember me" off). */
interface Owned {
  owner?: string
  short?: boolean
}

/** Seconds a session lives: an hour (as long as its cookie), a minute once made short. */
const ttlOf = (data: SessionData): number => ((data as Owned).short ? 60 : 3_600)

export const ownerOf = (data: SessionData): string | undefined => (data as Owned).owner

export interface StoreApp {
  app: Express
  store: RedisSessionStore
}

export function storeApp(client: AppClient, prefix: string): StoreApp {
  // touchAfterMs 0: every request that does not change its session touches it.
  const store = new RedisSessionStore({ client, prefix, userOf: ownerOf, ttl: ttlOf, touchAfterMs: 0, timeoutMs: 1_000 })
  const app = express()
  app.use(session({ store, secret: 'faults store secret', resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }))
  app.post('/login/:user', (req, res, next) => {
    ;(req.session as Owned).owner = String(req.params['user'])
    // Saved before answering (express-session's advice for logins): a failed save reaches the error handler.
    req.session.save((error: unknown) => (error ? next(error) : res.json({ owner: req.params['user'] })))
  })
  app.get('/me', (req, res) => {
    res.json({ owner: (req.session as Owned).owner ?? null })
  })
  // Changes the session, which express-session then saves, with its new, shorter TTL.
  app.post('/shorter', (req, res) => {
    ;(req.session as Owned).short = true
    res.json({ ok: true })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error: unknown) => (error ? next(error) : res.json({ ok: true })))
  })
  app.post('/admin/users/:user/destroy-all', async (req, res) => {
    res.json({ destroyed: await store.destroyUserSessions(String(req.params['user'])) })
  })
  app.post('/admin/users/:user/sessions/:id/destroy', async (req, res) => {
    res.json({ destroyed: await store.destroyUserSession(String(req.params['user']), String(req.params['id'])) })
  })
  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    // A save or touch that fails once express-session has begun the response (it holds back only its end).
    if (res.headersSent) return next(error)
    res.status(isUnavailableError(error) ? 503 : 500).json({ error: error instanceof Error ? error.message : String(error) })
  }
  app.use(onError)
  return { app, store }
}

/** The `connect.sid=…` pair a response set, to send back as a browser would; undefined when none. */
export function cookieOf(res: request.Response): string | undefined {
  const header: unknown = res.headers['set-cookie']
  const lines = Array.isArray(header) ? (header as string[]) : []
  return lines.find((line) => line.startsWith('connect.sid='))?.split(';')[0]
}

/** The session id inside a `connect.sid=s:<sid>.<signature>` cookie. */
export function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('connect.sid='.length))
  return value.slice(2, value.lastIndexOf('.'))
}
