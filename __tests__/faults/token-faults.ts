/**
 * The token middleware's writes under real network faults: every Redis command of login,
 * renewal, adoption of a renewed token, logout, revokeSession, revokeOtherSessions,
 * revokeAllSessions and updateUser, lost before Redis ran it or after (its reply lost).
 *
 * After each fault: (a) no session is lost: the token the client holds opens the user's session,
 * and an ended session is wholly working or wholly gone (usable exactly when listed); (b) every
 * token opens only its own user's session; (c) index and values agree (namespace-check.ts).
 */
import type { Express } from 'express'
import request from 'supertest'
import { ANY, type RedisCache } from 'sessionvault'
import type { FaultableRedis, TopologyName } from './fault-redis'
import { describeFaultMatrix, dropNamespace, ending, expectWorking, namespaceProblems, type Scenario, type World } from './matrix'
import {
  login as logIn,
  nameOf,
  open,
  RENEW_AFTER_MS,
  ROTATION_GRACE_MS,
  sessionCache,
  sessionCookie,
  tokenApp,
  tokenParts,
  type Clock,
  type Opened,
} from './token-app'

export interface TokenWorld extends World {
  app: Express
  clock: Clock
  /** Logs `id` in from a new device; its token is remembered as theirs. */
  login(id: string, fingerprint?: string): Promise<string>
  /** Remembers a token handed out to `owner`. */
  remember(token: string, owner: string): void
  /** GET /me with the token; a renewed token it brings back is remembered. */
  open(token: string): Promise<Opened>
  /** Whether the token opens its own session, as its owner. */
  works(token: string): Promise<boolean>
  /** The ids of the sessions the index lists for the token's user: what the device list and revokeAllSessions read. */
  listedIds(token: string): Promise<string[]>
}

async function tokenWorld(redis: FaultableRedis, namespace: string): Promise<TokenWorld> {
  const client = await redis.connect()
  const { app, clock, cache } = tokenApp(client, namespace)
  // Reads the same records past the proxies, as another server would.
  const inspect: RedisCache = sessionCache(redis.direct, namespace)
  const owners = new Map<string, string>()

  const world: TokenWorld = {
    client,
    app,
    clock,
    async login(id, fingerprint) {
      const token = await logIn(app, id, fingerprint)
      owners.set(token, id)
      return token
    },
    remember(token, owner) {
      owners.set(token, owner)
    },
    async open(token) {
      const opened = await open(app, token)
      const owner = owners.get(token)
      if (opened.renewed !== undefined && owner !== undefined) owners.set(opened.renewed, owner)
      return opened
    },
    async works(token) {
      const opened = await world.open(token)
      return opened.status === 200 && opened.userId === owners.get(token) && opened.sessionId === tokenParts(token).sessionId
    },
    async listedIds(token) {
      return (await inspect.keys(['u', tokenParts(token).userKey, 's', ANY])).map((key) => String(key[3]))
    },
    async fate(token) {
      const listed = (await world.listedIds(token)).includes(tokenParts(token).sessionId)
      return { usable: await world.works(token), listed }
    },
    problems: () => namespaceProblems(redis, namespace),
    async checkOwnership() {
      for (const [token, owner] of [...owners]) {
        const opened = await world.open(token)
        if (opened.status === 200)
          expect({ userId: opened.userId, sessionId: opened.sessionId }).toEqual({ userId: owner, sessionId: tokenParts(token).sessionId })
        else expect(opened.status).toBe(401)
      }
    },
    async close() {
      await Promise.all([cache.close(), inspect.close()])
      redis.release(client)
      await dropNamespace(redis, namespace)
    },
  }
  return world
}

/** A renewal's token (a cookie set on a 200), or undefined. */
function renewedBy(res: request.Response): string | undefined {
  const token = sessionCookie(res)
  if (res.status !== 200) expect(token).toBeUndefined()
  return token || undefined
}

const login: Scenario<TokenWorld> = {
  name: 'login',
  // One write: the new session, over the device's previous one (same fingerprint, same id).
  commands: { standalone: 1, cluster: 1 },
  async prepare(world) {
    const laptop = await world.login('alice', 'laptop')
    const replaced = await world.login('alice', 'phone')
    const bob = await world.login('bob')
    return {
      act: () => request(world.app).post('/login').send({ id: 'alice', name: 'Alice', fingerprint: 'phone' }),
      async check(res) {
        const phone = sessionCookie(res)
        if (res.status === 200) {
          // Handed out: it works and the device list shows it.
          expect(phone).toBeTruthy()
          world.remember(phone as string, 'alice')
          expect(await world.fate(phone as string)).toEqual({ usable: true, listed: true })
        } else {
          // Failed: the client has no new session (one that Redis stored is listed, and usable by nobody).
          expect(phone).toBeUndefined()
        }
        // One write: the new session is stored over the one it replaces, or neither. The device's
        // id is listed either way (it is the fingerprint's, so the old and the new share it).
        const replacedFate = await world.fate(replaced)
        expect(replacedFate.listed).toBe(true)
        const listed = await world.listedIds(laptop)
        expect(listed).toHaveLength(2) // the laptop's, and the phone's: the new one or the one it replaces
        expect(listed).toContain(tokenParts(laptop).sessionId)
        if (res.status === 200) expect(replacedFate.usable).toBe(false)
        await expectWorking(world, [laptop, bob])
      },
    }
  },
}

/** A request past renewAfterMs; `takesResponse: false`: its response never reaches the client. */
function renewal(takesResponse: boolean): Scenario<TokenWorld> {
  return {
    name: takesResponse ? 'renewal' : 'renewal whose response never reaches the client',
    // The read (GET), then the compare-and-set (WRITE).
    commands: { standalone: 2, cluster: 2 },
    async prepare(world) {
      const old = await world.login('alice')
      const bob = await world.login('bob')
      world.clock.advance(RENEW_AFTER_MS + 1)
      return {
        act: () => request(world.app).get('/me').set('Cookie', `session=${old}`),
        async check(res) {
          if (res.status === 200) expect(res.body.user.id).toBe('alice')
          const issued = renewedBy(res)
          if (issued) world.remember(issued, 'alice')
          const held = takesResponse ? (issued ?? old) : old
          expect(await world.works(held)).toBe(true)
          expect(await world.works(old)).toBe(true) // the token the client had before still works
          // A later renewal issues a token that works.
          world.clock.advance(RENEW_AFTER_MS + 1)
          const later = await world.open(held)
          expect(later.status).toBe(200)
          expect(later.renewed).toBeDefined()
          expect(await world.works(later.renewed as string)).toBe(true)
          // A token issued but never presented is refused once another renewal replaced it.
          if (!takesResponse && issued) expect((await world.open(issued)).status).toBe(401)
          await expectWorking(world, [bob])
        },
      }
    },
  }
}

const adoption: Scenario<TokenWorld> = {
  name: 'first request with a renewed token',
  // The read (GET), then the compare-and-set that makes the new token the one in use (WRITE).
  commands: { standalone: 2, cluster: 2 },
  async prepare(world) {
    const old = await world.login('alice')
    const bob = await world.login('bob')
    world.clock.advance(RENEW_AFTER_MS + 1)
    const renewed = (await world.open(old)).renewed
    if (renewed === undefined) throw new Error('the renewal issued no token')
    return {
      act: () => request(world.app).get('/me').set('Cookie', `session=${renewed}`),
      async check(res) {
        if (res.status === 200) expect(res.body.user.id).toBe('alice')
        expect(sessionCookie(res)).toBeUndefined()
        // A request that left with the old token before the new one was presented is served,
        expect(await world.works(old)).toBe(true)
        // the new token works,
        expect(await world.works(renewed)).toBe(true)
        // and once it has been presented, the old one only for rotationGraceMs.
        world.clock.advance(ROTATION_GRACE_MS + 1)
        expect(await world.works(renewed)).toBe(true)
        expect((await world.open(old)).status).toBe(401)
        await expectWorking(world, [bob])
      },
    }
  },
}

const logout = ending<TokenWorld>({
  name: 'logout',
  // The read (GET), then the delete (REMOVE).
  commands: { standalone: 2, cluster: 2 },
  async prepare(world) {
    const laptop = await world.login('alice', 'laptop')
    const staying = [await world.login('alice', 'phone'), await world.login('bob')]
    return {
      ending: [laptop],
      staying,
      end: () => request(world.app).post('/logout').set('Cookie', `session=${laptop}`),
      answered: (res) => expect(sessionCookie(res)).toBe(''),
    }
  },
})

const revokeSession = ending<TokenWorld>({
  name: 'revokeSession',
  // The read (GET), then the delete (REMOVE).
  commands: { standalone: 2, cluster: 2 },
  async prepare(world) {
    const laptop = await world.login('alice', 'laptop')
    const phone = await world.login('alice', 'phone')
    return {
      ending: [phone],
      staying: [laptop, await world.login('bob')],
      end: () =>
        request(world.app)
          .delete(`/sessions/${tokenParts(phone).sessionId}`)
          .set('Cookie', `session=${laptop}`),
      answered: (res) => expect(res.body).toEqual({ revoked: true }),
    }
  },
})

const revokeOtherSessions = ending<TokenWorld>({
  name: 'revokeOtherSessions',
  // The read (GET), the user's sessions (LIST), then one write ending the others (WRITE).
  commands: { standalone: 3, cluster: 3 },
  together: true,
  async prepare(world) {
    const laptop = await world.login('alice', 'laptop')
    return {
      ending: [await world.login('alice', 'phone'), await world.login('alice', 'tablet')],
      staying: [laptop, await world.login('bob')],
      end: () => request(world.app).post('/sessions/revoke-others').set('Cookie', `session=${laptop}`),
      answered: (res) => expect(res.body).toEqual({ revoked: 2 }),
    }
  },
})

const revokeAllSessions = ending<TokenWorld>({
  name: 'revokeAllSessions',
  // The user's sessions (LIST), then one write ending them (WRITE).
  commands: { standalone: 2, cluster: 2 },
  together: true,
  async prepare(world) {
    return {
      ending: [await world.login('alice', 'laptop'), await world.login('alice', 'phone')],
      staying: [await world.login('bob')],
      end: () => request(world.app).post('/admin/users/alice/revoke-all'),
      answered: (res) => expect(res.body).toEqual({ revoked: 2 }),
    }
  },
})

const updateUser: Scenario<TokenWorld> = {
  name: 'updateUser',
  // The user's sessions (LIST), then one compare-and-set per session (WRITE, WRITE).
  commands: { standalone: 3, cluster: 3 },
  async prepare(world) {
    const alice = [await world.login('alice', 'laptop'), await world.login('alice', 'phone')]
    const bob = await world.login('bob')
    const update = () => request(world.app).post('/admin/users/alice/update').send({ name: 'Alice II' })
    const names = async () => Promise.all(alice.map(async (token) => (await world.open(token)).name))
    return {
      act: update,
      async check(res) {
        await expectWorking(world, [...alice, bob]) // no session lost, none changes hands
        for (const name of await names()) expect(['Alice', 'Alice II']).toContain(name)
        if (res.status === 200) expect(await names()).toEqual(['Alice II', 'Alice II'])
        expect((await world.open(bob)).name).toBe(nameOf('bob'))
        await update().expect(200)
        expect(await names()).toEqual(['Alice II', 'Alice II'])
      },
    }
  },
}

export const TOKEN_SCENARIOS: readonly Scenario<TokenWorld>[] = [
  login,
  renewal(true),
  renewal(false),
  adoption,
  logout,
  revokeSession,
  revokeOtherSessions,
  revokeAllSessions,
  updateUser,
]

export function describeTokenFaults(topology: TopologyName): void {
  describeFaultMatrix(topology, tokenWorld, TOKEN_SCENARIOS)
}
