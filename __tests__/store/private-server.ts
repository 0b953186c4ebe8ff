// A redis-server of the test file's own, for tests that count commands, keys or memory: started
// before the file's tests, flushed before each, stopped after them.
import { privateRedis, type PrivateRedis, type StandaloneClient } from '../helpers/clients'

export interface PrivateServer {
  /** The server and its client (available once the file's tests run). */
  readonly redis: PrivateRedis
  /** The server's client, for the store under test and for looking at Redis. */
  readonly client: StandaloneClient
}

export function usePrivateServer(): PrivateServer {
  let redis: PrivateRedis | undefined
  beforeAll(async () => {
    redis = await privateRedis()
  })
  afterAll(() => redis?.stop())
  beforeEach(() => started().client.flushAll())
  const started = (): PrivateRedis => {
    if (redis === undefined) throw new Error('the private redis-server has not started: use it inside tests')
    return redis
  }
  return {
    get redis() {
      return started()
    },
    get client() {
      return started().client
    },
  }
}
