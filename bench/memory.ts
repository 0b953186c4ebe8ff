/**
 * Redis memory per session, for every layer and configuration: each creates its sessions through
 * its real API (a store's `set()`, as express-session calls it; the token middleware's login, over
 * HTTP) on a fresh private redis-server, and the cost is `used_memory` after minus before, per session.
 */
import { RedisStore } from 'connect-redis'
import type { Store } from 'express-session'
import type { RedisClientType } from 'redis'
import { TOKEN_CACHE, benchUser, sessionData, sessionId, userOf } from './bench-data'
import { logIn } from './logins'
import { attempt, type Outcome } from './outcome'
import { library } from './library'
import { inParallel } from './parallel'
import { connect, withPrivateRedis } from './private-redis'
import { usedMemory } from './redis-info'
import { storeSet } from './store-set'
import { serve, tokenApp } from './sessions'

export interface MemoryPlan {
  sessions: number
  limitMs: number
}

export interface LayerMemory {
  bytesPerSession: number
  /** Redis keys per session (DBSIZE / sessions). */
  keysPerSession: number
  fillSeconds: number
}

export interface MemoryLayer {
  key: string
  name: string
  result: Outcome<LayerMemory>
}

/** How one layer creates session n; `close` undoes what it opened. */
interface Creator {
  create(n: number): Promise<unknown>
  inFlight: number
  close(): Promise<void>
}

const STORE_IN_FLIGHT = 100
// HTTP logins through an app in this process: enough in flight to keep Redis busy.
const LOGIN_IN_FLIGHT = 20

const LAYERS: readonly { key: string; name: string; open: (client: RedisClientType) => Promise<Creator> }[] = [
  { key: 'connect-redis', name: 'connect-redis', open: async (client) => storeCreator(new RedisStore({ client })) },
  {
    key: 'store',
    name: 'RedisSessionStore, defaults',
    open: async (client) => storeCreator(new (library().RedisSessionStore)({ client })),
  },
  {
    key: 'store-user',
    name: 'RedisSessionStore with `userOf`',
    open: async (client) => storeCreator(new (library().RedisSessionStore)({ client, userOf })),
  },
  {
    key: 'token',
    name: 'sessions() token middleware (one session per user)',
    open: async (client) => {
      const cache = new (library().RedisCache)({ client, ...TOKEN_CACHE })
      const server = await serve(tokenApp(cache))
      return {
        create: (n) => logIn(server.url, n),
        inFlight: LOGIN_IN_FLIGHT,
        close: async () => {
          await server.close()
          await cache.close()
        },
      }
    },
  },
]

export async function measureMemory(plan: MemoryPlan, log: (line: string) => void): Promise<MemoryLayer[]> {
  const layers: MemoryLayer[] = []
  for (const layer of LAYERS) {
    log(`memory: ${plan.sessions} sessions through ${layer.name}, on a fresh redis-server`)
    const result = await attempt(
      `memory of ${layer.key}`,
      () => withPrivateRedis((server, admin) => measureLayer(server.url, admin, layer.open, plan)),
      log,
    )
    layers.push({ key: layer.key, name: layer.name, result })
  }
  return layers
}

async function measureLayer(
  url: string,
  admin: RedisClientType,
  open: (client: RedisClientType) => Promise<Creator>,
  plan: MemoryPlan,
): Promise<LayerMemory> {
  const client = await connect(url)
  let creator: Creator | undefined
  try {
    const made = await open(client)
    creator = made
    // One session first, outside the count: scripts loaded, connections and buffers in place.
    await made.create(plan.sessions)
    const keysBefore = await admin.dbSize()
    const before = await usedMemory(admin)
    const fillSeconds = await inParallel(plan.sessions, made.inFlight, plan.limitMs, (n) => made.create(n))
    const after = await usedMemory(admin)
    const keys = (await admin.dbSize()) - keysBefore
    return { bytesPerSession: (after - before) / plan.sessions, keysPerSession: keys / plan.sessions, fillSeconds }
  } finally {
    await creator?.close().catch(() => undefined)
    await client.close().catch(() => undefined)
  }
}

/** An express-session store's `set()`: what express-session calls when a login saves the session. */
function storeCreator(store: Store & { close?(): Promise<void> }): Creator {
  return {
    create: (n) => storeSet(store, sessionId(), sessionData(benchUser(n))),
    inFlight: STORE_IN_FLIGHT,
    close: async () => store.close?.(),
  }
}
