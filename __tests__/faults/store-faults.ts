/**
 * The express-session store's writes under real network faults: every Redis command of a login
 * (`req.session.save`), a touch, a logout (`destroy`), `destroyUserSessions` and
 * `destroyUserSession`, lost before Redis ran it or after (its reply lost).
 *
 * After each fault: (a) no session is lost: a cookie opens its session or none, and an ended
 * session is wholly working or wholly gone (usable exactly when `listUserSessions` shows it);
 * (b) every cookie opens only its own user's session; (c) index and values agree, and every
 * session has its user's entry, so `destroyUserSessions` finds it (namespace-check.ts).
 *
 * Each scenario is written out whole, as token-faults.ts writes the middleware's: what it sets
 * up, the commands it counts and what it checks read in one place, though several start alike.
 */
import type { Express } from 'express'
import request from 'supertest'
import type { RedisSessionStore } from 'sessionvault'
import type { FaultableRedis, TopologyName } from './fault-redis'
import { describeFaultMatrix, dropNamespace, ending, expectWorking, namespaceProblems, type Scenario, type World } from './matrix'
import { userEntryProblems } from './namespace-check'
import { cookieOf, sidOf, storeApp } from './store-app'

export interface StoreWorld extends World {
  app: Express
  store: RedisSessionStore
  /** Logs `user` in from a new browser; its cookie is remembered as theirs. */
  login(user: string): Promise<string>
  remember(cookie: string, owner: string): void
  /** The owner of the session a cookie opens (GET /me, which touches it), or null. */
  whoIs(cookie: string): Promise<string | null>
  storedId(cookie: string): string
}

async function storeWorld(redis: FaultableRedis, namespace: string): Promise<StoreWorld> {
  const client = await redis.connect()
  const { app, store } = storeApp(client, namespace)
  const owners = new Map<string, string>()

  const world: StoreWorld = {
    client,
    app,
    store,
    async login(user) {
      const res = await request(app).post(`/login/${user}`).expect(200)
      const cookie = cookieOf(res)
      if (cookie === undefined) throw new Error('the login set no cookie')
      owners.set(cookie, user)
      return cookie
    },
    remember(cookie, owner) {
      owners.set(cookie, owner)
    },
    async whoIs(cookie) {
      const res = await request(app).get('/me').set('Cookie', cookie).expect(200)
      return res.body.owner as string | null
    },
    storedId: (cookie) => store.storedId(sidOf(cookie)),
    // Listed: in listUserSessions, which destroyUserSessions reads. (Whether `ids()` and `all()`
    // show it follows from the namespace check: every live session has its index entry, every
    // index entry its live session.)
    async fate(cookie) {
      const owner = owners.get(cookie) as string
      const id = world.storedId(cookie)
      const listed = (await store.listUserSessions(owner)).some((session) => session.id === id)
      return { usable: (await world.whoIs(cookie)) === owner, listed }
    },
    problems: () =>
      namespaceProblems(redis, namespace, (taken) => userEntryProblems(taken, (text) => (JSON.parse(text) as { owner?: string }).owner)),
    async checkOwnership() {
      for (const [cookie, owner] of [...owners]) expect([owner, null]).toContain(await world.whoIs(cookie))
    },
    async close() {
      await store.close()
      redis.release(client)
      await dropNamespace(redis, namespace)
    },
  }
  return world
}

const login: Scenario<StoreWorld> = {
  name: 'login (req.session.save)',
  // One write of the session with its user's entry; on Cluster, where they are in different
  // slots, the entry's write first.
  commands: { standalone: 1, cluster: 2 },
  async prepare(world) {
    const laptop = await world.login('alice')
    const bob = await world.login('bob')
    return {
      act: () => request(world.app).post('/login/alice'),
      async check(res) {
        // express-session sets the cookie even on a failed save's error page.
        const cookie = cookieOf(res)
        if (res.status === 200) expect(cookie).toBeDefined()
        if (cookie !== undefined) {
          world.remember(cookie, 'alice')
          // No new session, or one that works and is listed.
          const { usable, listed } = await world.fate(cookie)
          expect(listed).toBe(usable)
          if (res.status === 200) expect(usable).toBe(true)
        }
        await expectWorking(world, [laptop, bob])
      },
    }
  },
}

const touch: Scenario<StoreWorld> = {
  name: 'touch',
  // The read (GET), then one touch of the user's entry and the session (on Cluster, one per slot, the entry's first).
  commands: { standalone: 2, cluster: 3 },
  async prepare(world) {
    const laptop = await world.login('alice')
    const bob = await world.login('bob')
    return {
      act: () => request(world.app).get('/me').set('Cookie', laptop),
      async check(res) {
        if (res.status === 200) expect(res.body).toEqual({ owner: 'alice' })
        await expectWorking(world, [laptop, bob])
      },
    }
  },
}

// Like touch above but for the request it sends: a save, so it checks no answer of its own.
const shorten: Scenario<StoreWorld> = {
  name: 'save that shortens the session (ttl function)',
  // The read (GET), then the write of the session with its user's entry (on Cluster, the entry's first).
  commands: { standalone: 2, cluster: 3 },
  async prepare(world) {
    const laptop = await world.login('alice')
    const bob = await world.login('bob')
    return {
      act: () => request(world.app).post('/shorter').set('Cookie', laptop),
      async check() {
        await expectWorking(world, [laptop, bob])
      },
    }
  },
}

const destroy = ending<StoreWorld>({
  name: 'logout (destroy)',
  // express-session's read (GET), the store's read of whose it is (GET), then the session's
  // tombstone (REMOVE) and the user's entry's removal (REMOVE).
  commands: { standalone: 4, cluster: 4 },
  async prepare(world) {
    const laptop = await world.login('alice')
    return {
      ending: [laptop],
      staying: [await world.login('alice'), await world.login('bob')],
      end: () => request(world.app).post('/logout').set('Cookie', laptop),
      answered: (res) => expect(res.body).toEqual({ ok: true }),
    }
  },
})

const destroyUserSessions = ending<StoreWorld>({
  name: 'destroyUserSessions',
  // The user's entries (LIST), each session (GET, GET), the sessions' tombstones (REMOVE, REMOVE),
  // then the entries' removals (REMOVE, REMOVE). Sessions end one by one: each wholly or not at all.
  commands: { standalone: 7, cluster: 7 },
  async prepare(world) {
    return {
      ending: [await world.login('alice'), await world.login('alice')],
      staying: [await world.login('bob')],
      end: () => request(world.app).post('/admin/users/alice/destroy-all'),
      answered: (res) => expect(res.body).toEqual({ destroyed: 2 }),
    }
  },
})

const destroyUserSession = ending<StoreWorld>({
  name: 'destroyUserSession',
  // The session, to check whose it is (GET), its tombstone (REMOVE), the user's entry's removal (REMOVE).
  commands: { standalone: 3, cluster: 3 },
  async prepare(world) {
    const phone = await world.login('alice')
    return {
      ending: [phone],
      staying: [await world.login('alice'), await world.login('bob')],
      end: () => request(world.app).post(`/admin/users/alice/sessions/${world.storedId(phone)}/destroy`),
      answered: (res) => expect(res.body).toEqual({ destroyed: true }),
    }
  },
})

export const STORE_SCENARIOS: readonly Scenario<StoreWorld>[] = [login, touch, shorten, destroy, destroyUserSessions, destroyUserSession]

export function describeStoreFaults(topology: TopologyName): void {
  describeFaultMatrix(topology, storeWorld, STORE_SCENARIOS)
}
