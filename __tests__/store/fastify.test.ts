// RedisSessionStore as a @fastify/session store: two Fastify instances (processes of their own,
// see fastify-app.ts), each with its own store and client, on this worker's standalone Redis.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { RedisSessionStore } from 'sessionvault/store'
import { connectStandalone, flushAll, type StandaloneClient } from '../helpers/redis'
import { redisUrl } from '../helpers/env'
import { FASTIFY_MAX_AGE_MS } from './fastify-app'
import { sessionRedisKey } from './redis-keys'

const START_TIMEOUT_MS = 20_000

interface Instance {
  child: ChildProcess
  url: string
}

async function startInstance(): Promise<Instance> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'fastify-app.ts'), redisUrl()], {
    cwd: join(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const port = /^listening on (\d+)$/m.exec(output)?.[1]
    if (port !== undefined) return { child, url: `http://127.0.0.1:${port}` }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the Fastify app did not start:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Ends an instance as its stdin closing asks it to, and waits for it. */
async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (instance === undefined || instance.child.exitCode !== null) return
  const exited = new Promise((resolve) => instance.child.once('exit', resolve))
  instance.child.stdin?.end()
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

async function call(
  instance: Instance,
  method: string,
  path: string,
  cookie?: string,
): Promise<{ status: number; body: unknown; cookie: string | undefined }> {
  const response = await fetch(`${instance.url}${path}`, {
    method,
    headers: cookie === undefined ? {} : { cookie },
    signal: AbortSignal.timeout(5_000),
  })
  const line = response.headers.getSetCookie().find((item) => item.startsWith('sessionId='))
  return { status: response.status, body: await response.json(), cookie: line?.split(';')[0] }
}

let client: StandaloneClient
let store: RedisSessionStore
let a: Instance
let b: Instance
/** Every instance that started, to stop after the tests even when its twin failed to start. */
let started: Instance[] = []

beforeAll(async () => {
  client = await connectStandalone()
  store = new RedisSessionStore({ client, userOf: (session) => session.userId })
  const starts = await Promise.allSettled([startInstance(), startInstance()])
  started = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []))
  const failed = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected')
  if (failed) throw failed.reason
  ;[a, b] = started as [Instance, Instance]
}, 2 * START_TIMEOUT_MS)
afterAll(async () => {
  // An instance left running keeps its pipes, and with them the test worker, open.
  await Promise.all(started.map(stopInstance))
  await store?.close()
  client?.destroy()
})
beforeEach(() => flushAll(client))

test('a login on one instance is read on the other, and a logout there ends it on both', async () => {
  const login = await call(a, 'POST', '/login/ada')
  expect(login).toMatchObject({ status: 200, body: { userId: 'ada' }, cookie: expect.any(String) })
  const cookie = login.cookie as string

  expect((await call(b, 'GET', '/me', cookie)).body).toEqual({ userId: 'ada' })
  expect(await store.listUserSessions('ada')).toHaveLength(1)

  expect((await call(b, 'POST', '/logout', cookie)).status).toBe(200)
  for (const instance of [a, b]) expect((await call(instance, 'GET', '/me', cookie)).body).toEqual({ userId: null })
  expect(await store.listUserSessions('ada')).toEqual([])
})

test("the session lives in Redis as long as @fastify/session's cookie", async () => {
  const { cookie } = await call(a, 'POST', '/login/ada')
  // The cookie holds `<sessionId>.<signature>`.
  const sessionId = decodeURIComponent((cookie as string).slice('sessionId='.length)).split('.')[0] as string
  const ttlMs = await client.pTTL(sessionRedisKey(sessionId))
  expect(ttlMs).toBeGreaterThan(FASTIFY_MAX_AGE_MS - 60_000)
  expect(ttlMs).toBeLessThanOrEqual(FASTIFY_MAX_AGE_MS)
})

test('a request without a cookie stores nothing', async () => {
  expect((await call(b, 'GET', '/me')).body).toEqual({ userId: null })
  expect(await store.length()).toBe(0)
})
