/**
 * Sessions written through the real layers for the inspector's tests: three express-session
 * sessions (two of Ada's, one of Bob's, and one destroyed, its tombstone left) under the store's
 * prefix, and two token sessions of Ada through the middleware's login, in one namespace each.
 */
import request from 'supertest'
import { RedisCache, RedisSessionStore, type RedisClient } from 'sessionvault'
import { sessionCookie, testApp } from '../middleware/helpers'

export const STORE_NAMESPACE = 'myapp:sess'
export const TOKEN_NAMESPACE = 'myapp:tokens'
const HOUR = 3_600_000

export interface Seeded {
  /** The stored ids of Ada's and Bob's live store sessions (what the inspector lists). */
  storeIds: { ada: string[]; bob: string[]; destroyed: string }
  /** The ids of Ada's token sessions (`session.id`). */
  tokenIds: string[]
}

export async function seed(client: RedisClient): Promise<Seeded> {
  const store = new RedisSessionStore({
    client,
    prefix: STORE_NAMESPACE,
    userOf: (session) => (session as unknown as { owner?: string }).owner,
  })
  const session = (owner: string) => ({ cookie: { originalMaxAge: HOUR, expires: new Date(Date.now() + HOUR) }, owner }) as never
  await store.set('ada-laptop', session('ada'))
  await store.set('ada-phone', session('ada'))
  await store.set('bob-laptop', session('bob'))
  await store.set('gone', session('eve'))
  await store.destroy('gone')
  await store.close()

  const cache = new RedisCache({ client, ttlMs: HOUR, namespace: TOKEN_NAMESPACE, tagDepth: 3 })
  const { app } = testApp(cache, { ttlMs: HOUR })
  const tokenIds: string[] = []
  for (const fingerprint of ['laptop', 'phone']) {
    const res = await request(app).post('/login').send({ id: 'ada', fingerprint }).expect(200)
    if (sessionCookie(res) === undefined) throw new Error('the login set no cookie')
    tokenIds.push((res.body as { session: { id: string } }).session.id)
  }
  await cache.close()
  return {
    storeIds: {
      ada: [store.storedId('ada-laptop'), store.storedId('ada-phone')].sort(),
      bob: [store.storedId('bob-laptop')],
      destroyed: store.storedId('gone'),
    },
    tokenIds: tokenIds.sort(),
  }
}
