/**
 * The Redis deployments a failover test runs on, behind one face: a Sentinel deployment (1
 * master, 1 replica, 3 sentinels) or a Redis Cluster with replicas (3 masters, 3 replicas), each
 * with AOF on, so that a killed master comes back holding what it had. The test kills a master
 * with SIGKILL, sees its replica promoted, restarts it, and sees it rejoin as a replica.
 */
import { execFile } from 'node:child_process'
import {
  redisCli,
  redisInfo,
  startRedisCluster,
  startSentinelDeployment,
  type RedisServerHandle,
  type SentinelDeploymentOptions,
} from '../../scripts/redis-server'

export type DeploymentKind = 'sentinel' | 'cluster'

export interface Deployment {
  readonly kind: DeploymentKind
  /** What the instances connect to (failover-instance.ts reads it). */
  readonly url: string
  /** The master a test kills, and its replica. */
  readonly master: RedisServerHandle
  readonly replica: RedisServerHandle
  /** Waits until every replica has every write its master has made. */
  syncReplicas(timeoutMs?: number): Promise<void>
  /** Waits until `replica` says it is a master; resolves with the `performance.now()` it was seen. */
  promoted(timeoutMs: number): Promise<number>
  /** Waits until `master` (restarted) is a replica whose link to the new master is up and in sync. */
  rejoined(timeoutMs: number): Promise<void>
  /** Keys held by a node. */
  keyCount(node: RedisServerHandle): Promise<number>
  /** Which of `names` appear in a key `node` holds (key parts are base64url, decoded here). */
  namesHeld(node: RedisServerHandle, names: readonly string[]): Promise<string[]>
  stop(): Promise<void>
}

/** Every node writes an AOF: a SIGKILLed master restarts with what it held. */
const NODE_ARGS = ['--appendonly', 'yes']
/** Cluster: a node silent this long is failing; its replica takes over a second or two later. */
const CLUSTER_NODE_TIMEOUT_MS = 1_000
const POLL_MS = 50

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs commands (one a line, no quoting needed) through one redis-cli connection; its whole output. */
function redisPipe(port: number, commands: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port)],
      { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    )
    child.stdin?.end(commands.join('\n') + '\n')
  })
}

async function role(port: number): Promise<Record<string, string>> {
  return redisInfo(port, 'replication').catch((): Record<string, string> => ({}))
}

async function poll(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await check()) return performance.now()
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(POLL_MS)
  }
}

/** Replication offsets: the master's, and each of its replicas' (acknowledged). */
async function offsets(port: number): Promise<{ master: number; replicas: number[] }> {
  const info = await role(port)
  const replicas = Object.entries(info)
    .filter(([key]) => /^slave\d+$/.test(key))
    .map(([, value]) => Number(/offset=(\d+)/.exec(value)?.[1] ?? -1))
  return { master: Number(info['master_repl_offset'] ?? -1), replicas }
}

/** Waits until every replica of the master on `port` has acknowledged what the master had written when called. */
async function caughtUp(port: number, timeoutMs: number): Promise<void> {
  const target = (await offsets(port)).master
  await poll(
    async () => {
      const { replicas } = await offsets(port)
      return target >= 0 && replicas.length > 0 && replicas.every((offset) => offset >= target)
    },
    timeoutMs,
    `the replicas of ${port} to catch up`,
  )
}

function commonParts(kind: DeploymentKind, master: RedisServerHandle, replica: RedisServerHandle) {
  return {
    kind,
    master,
    replica,
    promoted: (timeoutMs: number) =>
      poll(async () => (await role(replica.port))['role'] === 'master', timeoutMs, `the replica on ${replica.port} to be promoted`),
    async rejoined(timeoutMs: number) {
      await poll(
        async () => {
          const info = await role(master.port)
          return info['role'] === 'slave' && info['master_link_status'] === 'up' && info['master_sync_in_progress'] === '0'
        },
        timeoutMs,
        `the old master on ${master.port} to rejoin as a replica`,
      )
    },
    async keyCount(node: RedisServerHandle) {
      return Number(await redisCli(node.port, 'DBSIZE'))
    },
    async namesHeld(node: RedisServerHandle, names: readonly string[]) {
      const keys = (await redisCli(node.port, '--scan')).split('\n').filter((key) => key !== '')
      // Names are in keys (base64url parts) or in values (a token session keeps a copy of its user).
      const values = await redisPipe(node.port, ['READONLY', ...keys.map((key) => `GET ${key}`)])
      const texts = [
        ...keys.flatMap((key) => key.split(/[:{}]/)).map((part) => Buffer.from(part, 'base64url').toString('latin1')),
        ...keys,
        values,
      ]
      return names.filter((name) => texts.some((text) => text.includes(name)))
    },
  }
}

export async function startDeployment(
  kind: DeploymentKind,
  options: Pick<SentinelDeploymentOptions, 'reachVia' | 'args'> = {},
): Promise<Deployment> {
  return kind === 'sentinel' ? sentinelDeployment(options) : clusterDeployment()
}

async function sentinelDeployment(options: Pick<SentinelDeploymentOptions, 'reachVia' | 'args'>): Promise<Deployment> {
  const deployment = await startSentinelDeployment({ ...options, args: [...NODE_ARGS, ...(options.args ?? [])] })
  const [master, replica] = deployment.nodes as [RedisServerHandle, RedisServerHandle]
  const sentinels = deployment.sentinelRootNodes.map(({ host, port }) => `${host}:${port}`).join(',')
  return {
    ...commonParts('sentinel', master, replica),
    url: `sentinel://${sentinels}/${deployment.name}`,
    // Whichever node is the master now.
    syncReplicas: async (timeoutMs = 5_000) =>
      caughtUp((await role(master.port))['role'] === 'master' ? master.port : replica.port, timeoutMs),
    stop: () => deployment.stop(),
  }
}

async function clusterDeployment(): Promise<Deployment> {
  const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: CLUSTER_NODE_TIMEOUT_MS, args: NODE_ARGS })
  try {
    // CLUSTER NODES lines: id host:port@bus flags master-id …
    const lines = (await redisCli(cluster.nodes[0]!.port, 'CLUSTER', 'NODES')).split('\n').map((line) => line.split(' '))
    const portOf = (line: string[]): number => Number(line[1]!.split('@')[0]!.split(':')[1])
    const masterLine = lines.find((line) => line[2]!.includes('master'))!
    const replicaLine = lines.find((line) => line[3] === masterLine[0])!
    const byPort = (port: number): RedisServerHandle => cluster.servers.find((server) => server.port === port)!
    return {
      ...commonParts('cluster', byPort(portOf(masterLine)), byPort(portOf(replicaLine))),
      url: `cluster://${cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',')}`,
      async syncReplicas(timeoutMs = 5_000) {
        for (const port of cluster.nodes.map((node) => node.port)) {
          if ((await role(port))['role'] === 'master') await caughtUp(port, timeoutMs)
        }
      },
      stop: () => cluster.stop(),
    }
  } catch (error) {
    await cluster.stop()
    throw error
  }
}
