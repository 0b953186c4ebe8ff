/**
 * Where tests get Redis. This worker's own servers (helpers/env.ts): a standalone Redis and a
 * 3-master Cluster, which the files of one worker share one after another, so a suite flushes
 * them before each test. A private redis-server, for the suites that count its commands, fill
 * its memory or stop it. A backend bundles one of them with as many independent session caches
 * as a test has app instances (on any client family), a dump of everything stored, and a stop.
 * A master with a real replica, for the writes that wait for replicas; a master watched by a
 * sentinel. Tests inspect Redis with node-redis 6; only the code under test gets another family's
 * client.
 */
import { readFileSync } from 'node:fs'
import { createClient, createCluster, createSentinel, type RedisClientType, type RedisClusterType, type RedisSentinelType } from 'redis'
import type { RedisClient } from 'sessionvault'
import { RedisCache, type RedisCacheOptions } from 'sessionvault/cache'
import { redisCli, startRedisSentinel, startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'
import type { ClientFamily, FamilyClient } from './client-families'
import { clusterRootNodes, redisUrl } from './env'
import { eventually } from './waiting'

export type StandaloneClient = RedisClientType
export type ClusterClient = RedisClusterType
export type SentinelClient = RedisSentinelType

/** A connected client to this worker's standalone Redis (or to `url`). */
export async function connectStandalone(url = redisUrl()): Promise<StandaloneClient> {
  const client = createClient({ url })
  client.on('error', () => undefined) // reconnects are expected in outage tests
  await client.connect()
  return client
}

/** A connected client to this worker's 3-master Redis Cluster. */
export async function connectCluster(): Promise<ClusterClient> {
  const cluster = createCluster({ rootNodes: clusterRootNodes() })
  cluster.on('error', () => undefined)
  await cluster.connect()
  return cluster
}

/** Empties every node the client reaches. */
export async function flushAll(client: StandaloneClient | ClusterClient): Promise<void> {
  if (!('getMasters' in client)) {
    await client.flushAll()
    return
  }
  const cluster: ClusterClient = client
  await Promise.all(cluster.getMasters().map(async (node) => (await cluster.nodeClient(node)).flushAll()))
}

/** Every key on the server (every master of a cluster), with what it holds: a string's value, a sorted set's members and scores. */
export async function dumpRedis(client: StandaloneClient | ClusterClient): Promise<Map<string, string>> {
  const nodes = 'getMasters' in client ? await Promise.all(client.getMasters().map((node) => client.nodeClient(node))) : [client]
  const dump = new Map<string, string>()
  for (const node of nodes) {
    for await (const keys of node.scanIterator({ COUNT: 1000 })) {
      for (const key of keys) {
        const type = await node.type(key)
        if (type === 'string') dump.set(key, String(await node.get(key)))
        else if (type === 'zset') dump.set(key, JSON.stringify(await node.zRangeWithScores(key, 0, -1)))
        else dump.set(key, `<${type}>`)
      }
    }
  }
  return dump
}

export interface PrivateRedis {
  server: RedisServerHandle
  client: StandaloneClient
  /** Another client of the server, as another app server would have; closed by `stop()`. */
  connect(): Promise<StandaloneClient>
  /** Closes the clients and stops the server. */
  stop(): Promise<void>
}

/**
 * A redis-server of the test file's own, with a connected client: for tests that count
 * commands, fill its memory, or stop and restart it. The client reconnects every 50 ms.
 */
export async function privateRedis(args: string[] = []): Promise<PrivateRedis> {
  const { server, client } = await startedAndConnected(args)
  const others: StandaloneClient[] = []
  return {
    server,
    client,
    async connect() {
      const other = await connectStandalone(server.url)
      others.push(other)
      return other
    },
    async stop() {
      for (const other of others) other.destroy()
      client.destroy()
      await server.stop()
    },
  }
}

/** How long a fresh server has to accept its first client before it is replaced by another. */
const FIRST_CONNECT_MS = 10_000
/**
 * How long `privateRedis()` may take in all: the hook timeout for a `beforeAll` that calls it.
 * Its worst case (a start, a late first client, another start and client) is about 40 s on a
 * loaded machine, which jest's default of 30 s would cut short.
 */
export const PRIVATE_REDIS_START_LIMIT_MS = 60_000
/** A start slower than this is reported on stderr, phase by phase. */
const SLOW_START_MS = 5_000

/**
 * A fresh server and a client connected to it. A server that does not take its first client
 * within FIRST_CONNECT_MS (seen once in a while late in a full run, on a loaded machine: the
 * server answered its start-up PING, then no connection) is reported on stderr with its process
 * state and replaced, once.
 */
async function startedAndConnected(args: string[]): Promise<{ server: RedisServerHandle; client: StandaloneClient }> {
  for (let attempt = 1; ; attempt++) {
    const startedAt = performance.now()
    // A start that never returns would otherwise say nothing before the hook's timeout.
    const waiting = setInterval(
      () => process.stderr.write(`a private redis-server has not answered PING after ${Math.round(performance.now() - startedAt)} ms\n`),
      SLOW_START_MS,
    )
    const server = await startRedisServer({ args }).finally(() => clearInterval(waiting))
    const serverUpAt = performance.now()
    const client: StandaloneClient = createClient({ url: server.url, socket: { reconnectStrategy: () => 50 } })
    client.on('error', () => undefined)
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), FIRST_CONNECT_MS)))
    const outcome = await Promise.race([client.connect().then(() => 'connected' as const), late])
    clearTimeout(timer)
    const took = performance.now() - startedAt
    if (took > SLOW_START_MS) {
      process.stderr.write(
        `a private redis-server (port ${server.port}) took ${Math.round(serverUpAt - startedAt)} ms to answer PING, then ${Math.round(took - (serverUpAt - startedAt))} ms to ${outcome === 'connected' ? 'take' : 'not take'} its first client\n`,
      )
    }
    if (outcome === 'connected') return { server, client }
    const state = processState(server.pid)
    client.destroy()
    await server.stop()
    const what = `the private redis-server on port ${server.port} (pid ${server.pid}, process state ${state}) took no client within ${FIRST_CONNECT_MS} ms`
    if (attempt >= 2) throw new Error(what)
    process.stderr.write(`${what}; starting another\n`)
  }
}

/** A process's state letter from /proc (R running, S sleeping, T stopped, Z zombie), or why it is unknown. */
function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.charAt(0) ?? 'unknown'
  } catch {
    return 'gone'
  }
}

export interface PrivateServer {
  /** The server and its client (available once the file's tests run). */
  readonly redis: PrivateRedis
  /** The server's client, for the store under test and for looking at Redis. */
  readonly client: StandaloneClient
  /** The redis-server process, to stop and restart it. */
  readonly server: RedisServerHandle
}

/**
 * A private redis-server (started with `args`) for the test file, or the `describe` block it is
 * called in: started before its tests, flushed before each, stopped after them.
 */
export function usePrivateServer(args: string[] = []): PrivateServer {
  let redis: PrivateRedis | undefined
  beforeAll(async () => {
    redis = await privateRedis(args)
  }, PRIVATE_REDIS_START_LIMIT_MS)
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
    get server() {
      return started().server
    },
  }
}

export interface ReplicatedRedis {
  master: RedisServerHandle
  replica: RedisServerHandle
  /** Another client of the master, as another app server would have; closed by `stop()`. */
  connect(): Promise<StandaloneClient>
  /** A client of the replica, to look at what it has. */
  replicaClient: StandaloneClient
  /** Runs `work` with the replica stopped, and starts it again however `work` ends. */
  withReplicaPaused<T>(work: () => Promise<T>): Promise<T>
  stop(): Promise<void>
}

/**
 * A Redis master with one real replica, each a redis-server of the test file's own: for the
 * writes that wait for replicas (`waitForReplicas`). `withReplicaPaused` stops the replica's
 * process (SIGSTOP), so the master's `WAIT` runs out as it would with a lagging or cut-off replica.
 */
export async function replicatedRedis(): Promise<ReplicatedRedis> {
  const master = await startRedisServer()
  const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
  await eventually(
    async () => (await redisCli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'),
    10_000,
    'the replica to sync',
  )
  const clients: StandaloneClient[] = []
  const open = async (url: string) => {
    const client = await connectStandalone(url)
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

export interface SentinelRedis {
  master: RedisServerHandle
  sentinel: RedisServerHandle
  /** A client that asks the sentinel for the master (named `SENTINEL_MASTER`). */
  client: SentinelClient
  /** Closes the client and stops the sentinel and the master. */
  stop(): Promise<void>
}

export const SENTINEL_MASTER = 'sessionvault'

/** A redis-server of the test file's own, watched by a sentinel of its own, with a connected client. */
export async function sentinelRedis(): Promise<SentinelRedis> {
  const master = await startRedisServer()
  const sentinel = await startRedisSentinel(master.port, SENTINEL_MASTER)
  const client: SentinelClient = createSentinel({ name: SENTINEL_MASTER, sentinelRootNodes: [{ host: '127.0.0.1', port: sentinel.port }] })
  client.on('error', () => undefined)
  await client.connect()
  return {
    master,
    sentinel,
    client,
    async stop() {
      await client.close()
      await Promise.all([sentinel.stop(), master.stop()])
    },
  }
}

/** Sessions get their own namespace, and tagDepth 3 (SESSION_TAG_DEPTH) so `['u', userKey, 's']` chooses the slot and the index. */
export const SESSION_CACHE = { ttlMs: 60_000, namespace: 'sessions', tagDepth: 3 } as const

export type SessionCacheOptions = Partial<Pick<RedisCacheOptions, 'commandTimeoutMs' | 'tagDepth' | 'nearCache'>>

export interface StoredItem {
  key: string
  /** What the key holds, as `dumpRedis` reads it. */
  texts: string[]
}

export interface RedisBackend {
  /** A session cache on a client of its own, as one app instance would have. */
  cache(options?: SessionCacheOptions): Promise<RedisCache>
  /** Every key and what it holds, on every node. */
  dump(): Promise<StoredItem[]>
  flush(): Promise<void>
  /** Closes the backend's clients (and stops a private server). */
  stop(): Promise<void>
}

/** This worker's standalone Redis; the caches on `family`'s clients when given (node-redis 6 by default). */
export function standaloneBackend(family?: ClientFamily): Promise<RedisBackend> {
  return backendOn(connectStandalone, family && (() => family.standalone()))
}

/** This worker's 3-master Redis Cluster; the caches on `family`'s clients when given (node-redis 6 by default). */
export function clusterBackend(family?: ClientFamily): Promise<RedisBackend> {
  return backendOn(connectCluster, family && (() => family.cluster()))
}

/** A standalone Redis of the suite's own, to count its commands or to stop and restart it. */
export async function privateBackend(args: string[] = []): Promise<RedisBackend & { server: RedisServerHandle }> {
  const redis = await privateRedis(args)
  const backend = await backendOn(() => connectStandalone(redis.server.url))
  return {
    ...backend,
    server: redis.server,
    async stop() {
      await backend.stop()
      await redis.stop()
    },
  }
}

/**
 * The backend `open` gives, for the test file or the `describe` block it is called in: opened
 * before its tests, flushed before each, stopped after them.
 */
export function useBackend(open: () => Promise<RedisBackend>): Omit<RedisBackend, 'stop'> {
  let backend: RedisBackend | undefined
  beforeAll(async () => {
    backend = await open()
  })
  afterAll(() => backend?.stop())
  beforeEach(() => opened().flush())
  const opened = (): RedisBackend => {
    if (backend === undefined) throw new Error('the backend is not open: use it inside tests')
    return backend
  }
  return {
    cache: (options) => opened().cache(options),
    dump: () => opened().dump(),
    flush: () => opened().flush(),
  }
}

type Closable = { close(): Promise<unknown> }

/** One node-redis 6 client to flush and dump with, and one more per cache (of `connectCache`'s family when given). */
async function backendOn(
  connect: () => Promise<StandaloneClient | ClusterClient>,
  connectCache?: () => Promise<FamilyClient>,
): Promise<RedisBackend> {
  const clients: Closable[] = []
  const caches: RedisCache[] = []
  const admin = await connect()
  clients.push(admin)
  return {
    async cache(options = {}) {
      let client: RedisClient
      if (connectCache) {
        const connected = await connectCache()
        clients.push(connected)
        client = connected.client
      } else {
        const connected = await connect()
        clients.push(connected)
        client = connected
      }
      const cache = new RedisCache({ ...SESSION_CACHE, ...options, client })
      caches.push(cache)
      return cache
    },
    dump: async () => [...(await dumpRedis(admin))].map(([key, text]) => ({ key, texts: [text] })),
    flush: () => flushAll(admin),
    async stop() {
      // The caches first: a near-cache's own connection would otherwise outlive the test file.
      await closeAll(caches)
      await closeAll(clients)
    },
  }
}

async function closeAll(closables: Closable[]): Promise<void> {
  await Promise.all(closables.map((closable) => closable.close().catch(() => undefined)))
}
