// The load-balanced demo end to end, through nginx: three stateless instances share sessions
// through a private persistent Redis. Each step builds on the one before, as a user's visit does.
import type { AuthMode } from '../../examples/load-balanced/auth'
import { startStack, type Stack } from '../../examples/load-balanced/stack'
import { redisCli, startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'
import { Visitor, type Answer, type Me } from './visitor'

jest.setTimeout(60_000)

const REQUESTS = 30

describe.each<AuthMode>(['token', 'express-session'])('the demo behind nginx, on %s sessions', (mode) => {
  let stack: Stack
  let alice: Visitor
  /** alice's cookies as they were before she signed out. */
  let stolen: Visitor
  /** The instances that answered alice's sign-in and her sign-out. */
  let signedInBy: string | undefined
  let signedOutBy: string | undefined

  beforeAll(async () => {
    stack = await startStack({ mode })
  })
  afterAll(async () => {
    await stack?.stop()
  })

  async function meTimes(visitor: Visitor, count: number): Promise<(Me & Answer)[]> {
    const answers = []
    // One after another, as a user's clicks come.
    for (let i = 0; i < count; i++) answers.push(await visitor.me())
    return answers
  }

  test('a sign-in through nginx answers with a redirect and a session cookie', async () => {
    alice = new Visitor(stack.url)
    const answer = await alice.post('/login', { name: 'alice' })
    expect(answer.status).toBe(303)
    expect(answer.location).toBe('/')
    expect(stack.instances.map((instance) => instance.name)).toContain(answer.servedBy)
    expect(alice.cookies.size).toBe(1)
    signedInBy = answer.servedBy
  })

  test(`${REQUESTS} requests reach all three instances and every one knows alice`, async () => {
    const answers = await meTimes(alice, REQUESTS)
    expect(answers.map((answer) => answer.user)).toEqual(Array(REQUESTS).fill('alice'))
    expect(new Set(answers.map((answer) => answer.servedBy))).toEqual(new Set(['instance-1', 'instance-2', 'instance-3']))
    // The header and the page agree on who answered.
    for (const answer of answers) expect(answer.instance).toBe(answer.servedBy)
  })

  test(`with one instance killed, the next ${REQUESTS} requests are all signed in and none fails`, async () => {
    const victim = stack.instances[1]!
    await victim.kill('SIGKILL')
    const answers = await meTimes(alice, REQUESTS)
    expect(answers.map((answer) => answer.status)).toEqual(Array(REQUESTS).fill(200))
    expect(answers.map((answer) => answer.user)).toEqual(Array(REQUESTS).fill('alice'))
    expect(answers.map((answer) => answer.servedBy)).not.toContain(victim.name)
    // nginx did meet the dead instance, and retried elsewhere: that is why nothing failed.
    expect(answers.some((answer) => answer.upstream?.includes(`127.0.0.1:${victim.port}, `))).toBe(true)
  })

  test('while an instance is down, sign-ins (POSTs, which nginx never sends twice) all succeed', async () => {
    for (let i = 0; i < 6; i++) {
      const visitor = new Visitor(stack.url)
      expect((await visitor.post('/login', { name: `visitor-${i}` })).status).toBe(303)
      expect((await visitor.me()).user).toBe(`visitor-${i}`)
    }
  })

  test('a restarted instance rejoins and knows alice', async () => {
    const victim = stack.instances[1]!
    await victim.start()
    expect((await alice.me(victim.url)).user).toBe('alice')
    // nginx leaves a failed instance out for 2 s, then sends it requests again.
    let seen = false
    for (let i = 0; i < 40 && !seen; i++) {
      const answer = await alice.me()
      expect(answer.user).toBe('alice')
      seen = answer.servedBy === victim.name
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(seen).toBe(true)
  })

  test('after Redis restarts (AOF on), alice is still signed in on every instance', async () => {
    const pidBefore = stack.redis.pid
    await stack.redis.restart()
    expect(stack.redis.pid).not.toBe(pidBefore)
    await stack.waitUntilHealthy()
    const answers = await meTimes(alice, REQUESTS)
    expect(answers.map((answer) => answer.user)).toEqual(Array(REQUESTS).fill('alice'))
    expect(new Set(answers.map((answer) => answer.servedBy)).size).toBe(3)
  })

  test("while Redis does not answer, every request gets the demo's 503 page at once (not a gateway error), and alice is back with Redis", async () => {
    const pid = stack.redis.pid as number
    // Stopped, not killed: connections stay open and nothing answers, the slowest outage to find.
    process.kill(pid, 'SIGSTOP')
    const answers: (Answer & { ms: number })[] = []
    try {
      for (let i = 0; i < REQUESTS; i++) {
        const started = Date.now()
        const answer = await alice.get('/api/me')
        answers.push({ ...answer, ms: Date.now() - started })
      }
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    // From the instances, each breaker open after the first request that found Redis gone.
    expect(answers.map((answer) => answer.status)).toEqual(Array(REQUESTS).fill(503))
    for (const answer of answers) expect(stack.instances.map((instance) => instance.name)).toContain(answer.servedBy)
    // Not retried on the other instances: a 503 says Redis is out, which every instance would say.
    for (const answer of answers) expect(answer.upstream).not.toContain(',')
    const slowest = answers.slice(stack.instances.length).reduce((most, answer) => Math.max(most, answer.ms), 0)
    console.log(`demo (${mode}) with Redis stopped: ${REQUESTS} requests all 503, the slowest after each instance's first ${slowest} ms`)
    expect(slowest).toBeLessThan(250)
    await stack.waitUntilHealthy()
    expect((await alice.me()).user).toBe('alice')
  })

  test('a sign-out through one instance is rejected by every instance', async () => {
    stolen = alice.copy()
    const answer = await alice.post('/logout')
    expect(answer.status).toBe(303)
    signedOutBy = answer.servedBy
    expect(alice.cookies.size).toBe(0)

    // The old cookie, replayed through nginx until every instance has answered…
    const answers = await meTimes(stolen, 6)
    expect(new Set(answers.map((a) => a.servedBy)).size).toBe(3)
    expect(answers.map((a) => a.user)).toEqual(Array(6).fill(null))
    // …and straight to each instance.
    for (const instance of stack.instances) expect((await stolen.copy().me(instance.url)).user).toBeNull()
  })

  test("every instance's event panel lists what every instance emitted: alice's sign-in and sign-out, once each, by the instances that answered them", async () => {
    const bob = new Visitor(stack.url)
    expect((await bob.post('/login', { name: 'bob' })).status).toBe(303)
    for (const instance of stack.instances) {
      // An instance records an event in Redis without waiting: bob's may land a moment after his sign-in's answer.
      let page = await bob.get('/', instance.url)
      for (let i = 0; i < 20 && !eventRows(page.body).some((row) => row.user === 'bob'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        page = await bob.get('/', instance.url)
      }
      expect(page.status).toBe(200)
      const alices = eventRows(page.body).filter((row) => row.user === 'alice')
      expect(alices.map(({ what, by }) => ({ what, by }))).toEqual([
        { what: 'ended: logout', by: signedOutBy },
        { what: 'created', by: signedInBy },
      ])
      // One session: the one she signed in to and out of.
      expect(alices[0]!.session).toBe(alices[1]!.session)
      expect(
        eventRows(page.body)
          .filter((row) => row.user === 'bob')
          .map((row) => row.what),
      ).toEqual(['created'])
    }
  })
})

/** The rows of a home page's event panel, newest first. */
function eventRows(page: string): { what: string; user: string; session: string; by: string }[] {
  const panel = /<table id="events">([\s\S]*?)<\/table>/.exec(page)?.[1]
  if (panel === undefined) throw new Error('the page has no event panel')
  return [
    ...panel.matchAll(/<tr><td>[^<]*<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td><code>([^<]*)<\/code><\/td><td>([^<]*)<\/td><\/tr>/g),
  ].map(([, what, user, session, by]) => ({ what: what!, user: user!, session: session!, by: by! }))
}

describe('the demo on a Redis it did not start (--redis-url)', () => {
  let redis: RedisServerHandle
  let stack: Stack

  beforeAll(async () => {
    redis = await startRedisServer()
    stack = await startStack({ instances: 2, redisUrl: redis.url })
  })
  afterAll(async () => {
    await stack?.stop()
    await redis?.stop()
  })

  test("sessions live in that Redis, under the demo's own prefix", async () => {
    const bob = new Visitor(stack.url)
    await bob.post('/login', { name: 'bob' })
    const answers = [await bob.me(), await bob.me()]
    expect(answers.map((answer) => answer.user)).toEqual(['bob', 'bob'])
    expect(new Set(answers.map((answer) => answer.servedBy)).size).toBe(2)
    // Every key, value or index, starts with the demo's namespace: one glob finds them all.
    const keys = (await redisCli(redis.port, '--scan')).split('\n').filter(Boolean)
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(key.startsWith('sessionvault-demo:')).toBe(true)
    expect((await redisCli(redis.port, '--scan', '--pattern', 'sessionvault-demo:*')).split('\n').filter(Boolean).sort()).toEqual(
      [...keys].sort(),
    )
    expect(stack.redis).toMatchObject({ url: redis.url, private: false, dir: undefined })
  })

  test("it is not the demo's to restart, and stopping the demo leaves it running", async () => {
    await expect(stack.redis.restart()).rejects.toThrow('did not start')
    await stack.stop()
    expect(await redisCli(redis.port, 'PING')).toBe('PONG')
  })
})
