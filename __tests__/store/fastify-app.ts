/**
 * A Fastify app on RedisSessionStore, as README's "With Fastify" shows it, run in a process of
 * its own: @fastify/cookie loads `cookie` with a dynamic import(), which jest's module sandbox
 * refuses. `node -r ts-node/register/transpile-only fastify-app.ts <redis-url>` listens on a free
 * loopback port, prints `listening on <port>`, and exits when its stdin closes (its test ended).
 */
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import Fastify, { type FastifyInstance } from 'fastify'
import { createClient } from 'redis'
import { RedisSessionStore } from 'sessionvault/store'

declare module 'fastify' {
  interface Session {
    userId?: string
  }
}

export const FASTIFY_SECRET = 'a fastify session secret of 32+ characters'
/** The session cookie's lifetime, in milliseconds. */
export const FASTIFY_MAX_AGE_MS = 3_600_000

export async function fastifyApp(store: RedisSessionStore): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: FASTIFY_SECRET,
    store,
    saveUninitialized: false,
    cookie: { secure: false, maxAge: FASTIFY_MAX_AGE_MS },
  })
  app.post<{ Params: { user: string } }>('/login/:user', async (request) => {
    await request.session.regenerate()
    request.session.userId = request.params.user
    return { userId: request.session.userId }
  })
  app.get('/me', async (request) => ({ userId: request.session.userId ?? null }))
  app.post('/logout', async (request) => {
    await request.session.destroy()
    return { ok: true }
  })
  return app
}

async function main(redisUrl: string): Promise<void> {
  const client = createClient({ url: redisUrl })
  await client.connect()
  const store = new RedisSessionStore({ client, userOf: (session) => session.userId })
  const app = await fastifyApp(store)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  process.stdout.write(`listening on ${typeof address === 'object' && address !== null ? address.port : address}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => {
    void app
      .close()
      .then(() => store.close())
      .then(() => client.close())
      .finally(() => process.exit(0))
  })
}

if (require.main === module) {
  const url = process.argv[2]
  if (url === undefined) throw new Error('usage: fastify-app.ts <redis-url>')
  main(url).catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
