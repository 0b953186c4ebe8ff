/**
 * A Redis master with one real replica, each a redis-server of the test file's own: for the
 * writes that wait for replicas (`waitForReplicas`). `pauseReplica` stops the replica's process
 * (SIGSTOP), so the master's `WAIT` runs out as it would with a lagging or cut-off replica.
 */
import { createClient, type RedisClientType } from 'redis'
import { redisCli, startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'
import { eventually } from './clients'

export type ReplicatedClient = RedisClientType

export interface ReplicatedRedis {
  master: RedisServerHandle
  replica: RedisServerHandle
  /** Another client of the master, as another app server would have; closed by `stop()`. */
  connect(): Promise<ReplicatedClient>
  /** A client of the replica, to look at what it has. */
  replicaClient: ReplicatedClient
  /** Runs `work` with the replica stopped, and starts it again however `work` ends. */
  withReplicaPaused<T>(work: () => Promise<T>): Promise<T>
  stop(): Promise<void>
}

export async function replicatedRedis(): Promise<ReplicatedRedis> {
  const master = await startRedisServer()
  const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
  await eventually(async () => (await redisCli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'), 10_000, 'the replica to sync')
  const clients: ReplicatedClient[] = []
  const open = async (url: string) => {
    const client: ReplicatedClient = createClient({ url })
    client.on('error', () => undefined)
    await client.connect()
    clients.push(client)
    return client
  }
  const replicaClient = await open(replica.url)
  return {
    master,
    replica,
    replicaClient,
    connect: () => open(master.url),
    async withReplicaPaused(work) {
      process.kill(replica.pid, 'SIGSTOP')
      try {
        return await work()
      } finally {
        process.kill(replica.pid, 'SIGCONT')
      }
    },
    async stop() {
      for (const client of clients) client.destroy()
      await Promise.all([replica.stop(), master.stop()])
    },
  }
}
