import type { SessionData } from 'express-session'
import { RedisSessionStore } from '../../lib/store/redis-session-store'
import { sleep, type ClusterClient, type StandaloneClient } from '../helpers/clients'
import { sessionData } from './session-data'
import { privateCluster, privateStandalone, sessionValueKey, uniquePrefix, type PrivateCluster, type PrivateStandalone } from './servers'
import { describeStoreContract, type StoreFactory } from './store-contract'

let standalone: PrivateStandalone
let cluster: PrivateCluster
let standaloneClients: StandaloneClient[]
let clusterClients: ClusterClient[]

beforeAll(async () => {
  ;[standalone, cluster] = await Promise.all([privateStandalone(), privateCluster()])
  standaloneClients = await Promise.all([standalone.connect(), standalone.connect()])
  clusterClients = await Promise.all([cluster.connect(), cluster.connect()])
})
afterAll(async () => {
  await Promise.all([standalone?.stop(), cluster?.stop()])
})

/** Each store object gets a client of its own, as on two app servers. */
function onClients(clients: () => (StandaloneClient | ClusterClient)[]): StoreFactory {
  return async (options) => {
    const prefix = uniquePrefix()
    const [first, second] = clients() as [StandaloneClient, StandaloneClient]
    const store = new RedisSessionStore({ ...options, client: first, prefix })
    return {
      store,
      twin: () => new RedisSessionStore({ ...options, client: second, prefix }),
      advance: sleep,
      corrupt: (sid, text) => store.cache.put(['sess', sid], text),
    }
  }
}

describe('on standalone Redis', () => {
  describeStoreContract('RedisSessionStore', onClients(() => standaloneClients))
})

describe('on a 3-master Redis Cluster', () => {
  describeStoreContract('RedisSessionStore', onClients(() => clusterClients))
})

describe('on Redis itself', () => {
  const HOUR = 3_600_000

  test('the Redis TTL is the cookie expiry to the millisecond (connect-redis rounds up to seconds)', async () => {
    const prefix = uniquePrefix()
    const client = standaloneClients[0] as StandaloneClient
    const store = new RedisSessionStore({ client, prefix })
    await store.set('s1', sessionData({}, 1_234))
    const pttl = await client.pTTL(sessionValueKey(prefix, 's1'))
    expect(pttl).toBeLessThanOrEqual(1_234)
    expect(pttl).toBeGreaterThan(1_234 - 100)
  })

  test('disableTTL gives a TTL of about a hundred years', async () => {
    const prefix = uniquePrefix()
    const client = standaloneClients[0] as StandaloneClient
    const store = new RedisSessionStore({ client, prefix, disableTTL: true })
    await store.set('s1', sessionData({}, 1_000))
    expect(await client.pTTL(sessionValueKey(prefix, 's1'))).toBeGreaterThan(99 * 365 * 24 * HOUR)
  })

  test('prefix separates the sessions of two apps on one Redis', async () => {
    const client = standaloneClients[0] as StandaloneClient
    const shop = new RedisSessionStore({ client, prefix: uniquePrefix() })
    const blog = new RedisSessionStore({ client, prefix: uniquePrefix() })
    await shop.set('s1', sessionData({ views: 1 }, HOUR))
    expect(await blog.get('s1')).toBeNull()
    expect(await blog.length()).toBe(0)
  })

  test("a session and its tombstone share a cluster slot, and a user's sessions one index", async () => {
    const client = clusterClients[0] as ClusterClient
    const store = new RedisSessionStore({ client, prefix: uniquePrefix(), userOf: (session: SessionData) => session.userId })
    // Each of these writes is one script over one slot; a CROSSSLOT reply would fail them.
    for (let i = 0; i < 20; i++) await store.set(`s${i}`, sessionData({ userId: 'ada' }, HOUR))
    await store.destroy('s0')
    await store.set('s0', sessionData({ userId: 'ada' }, HOUR))
    expect(await store.get('s0')).toBeNull()
    expect(await store.listUserSessions('ada')).toHaveLength(19)
  })
})
