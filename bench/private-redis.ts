/** A private redis-server and a connection to it, started for one step and stopped after it. */
import { createClient, type RedisClientType } from 'redis'
import { startRedisServer, type RedisServerHandle } from '../scripts/redis-server'

export async function connect(url: string, database = 0): Promise<RedisClientType> {
  const client: RedisClientType = createClient({ url, database })
  client.on('error', (error: unknown) => console.error('bench: redis client error', error))
  await client.connect()
  return client
}

/** Runs `use` on a fresh redis-server (FLUSHALL first, in case), then stops the server whatever happens. */
export async function withPrivateRedis<T>(use: (server: RedisServerHandle, admin: RedisClientType) => Promise<T>): Promise<T> {
  const server = await startRedisServer()
  let admin: RedisClientType | undefined
  try {
    admin = await connect(server.url)
    await admin.flushAll()
    return await use(server, admin)
  } finally {
    await admin?.close().catch(() => undefined)
    await server.stop()
  }
}
