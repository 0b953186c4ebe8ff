// Jest globalSetup: give every test worker a standalone Redis and a 3-master Redis Cluster of
// its own, so test files may flush them without disturbing a file running in another worker.
// Servers given in the environment (REDIS_URL, REDIS_CLUSTER_NODES) are used instead, by every
// worker: jest.config.js then runs the files one at a time.
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from '../../scripts/redis-server'

export interface SharedRedis {
  standalone: RedisServerHandle[]
  clusters: RedisClusterHandle[]
}

// globalSetup and globalTeardown run in the same process and share globalThis.
export const SHARED_REDIS_KEY = '__sessionvaultSharedRedis'

export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  const workers = Math.max(1, globalConfig.maxWorkers)
  const shared: SharedRedis = { standalone: [], clusters: [] }
  ;(globalThis as Record<string, unknown>)[SHARED_REDIS_KEY] = shared
  const ids = Array.from({ length: workers }, (_, i) => i + 1)

  // Started in parallel: a cluster takes a few seconds to form.
  const started = await Promise.allSettled([
    ...ids.map(async (id) => {
      if (process.env['REDIS_URL']) return
      const server = await startRedisServer()
      shared.standalone.push(server)
      process.env[`REDIS_URL_${id}`] = server.url
    }),
    ...ids.map(async (id) => {
      if (process.env['REDIS_CLUSTER_NODES']) return
      const cluster = await startRedisCluster({ masters: 3 })
      shared.clusters.push(cluster)
      process.env[`REDIS_CLUSTER_NODES_${id}`] = cluster.rootNodes
    }),
  ])

  // Jest skips globalTeardown when globalSetup throws, so clean up here first.
  const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected')
  if (failure) {
    await Promise.all([...shared.standalone, ...shared.clusters].map((handle) => handle.stop()))
    throw failure.reason
  }
}
