/**
 * A child process for near-cache-exit.test.ts: a store with a near-cache, used until a read is
 * served from memory, then the app closes its own client and (when told) the store, and does
 * nothing more. It prints `done` and should then exit by itself.
 *
 * Usage: near-cache-exit-app.ts <standalone|cluster|sentinel> <url | url,url,… | host:port> <close|leave>
 */
import { createClient, createCluster, createSentinel } from 'redis'
import { RedisSessionStore, type RedisCache } from 'sessionvault'

type Closable = { close(): Promise<unknown> }

async function connect(kind: string, where: string): Promise<Closable & object> {
  if (kind === 'cluster') {
    const cluster = createCluster({ rootNodes: where.split(',').map((url) => ({ url })) })
    cluster.on('error', () => undefined)
    await cluster.connect()
    return cluster
  }
  if (kind === 'sentinel') {
    const [host, port] = where.split(':')
    const sentinel = createSentinel({ name: 'sessionvault', sentinelRootNodes: [{ host: host as string, port: Number(port) }] })
    sentinel.on('error', () => undefined)
    await sentinel.connect()
    return sentinel
  }
  const client = createClient({ url: where })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

async function main(): Promise<void> {
  const [kind = '', where = '', closing = ''] = process.argv.slice(2)
  const client = await connect(kind, where)
  const store = new RedisSessionStore({ client: client as never, prefix: 'exit', nearCache: { maxEntries: 10 } })
  const cache = store.cache as RedisCache
  const session = { cookie: { originalMaxAge: null }, user: 'ada' }
  await store.set('sid-1', session as never)
  const started = Date.now()
  // The near-cache connects in the background: read until one read comes from memory.
  while ((cache.nearCacheStats?.hits ?? 0) === 0) {
    if (Date.now() - started > 10_000) throw new Error('no near-cache hit within 10 s')
    await store.get('sid-1')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await client.close()
  if (closing === 'close') await store.close()
  console.log('done')
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
