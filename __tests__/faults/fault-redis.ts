/**
 * This worker's Redis (standalone, or the 3-master Cluster) with a fault proxy in front of every
 * master, so an app's client reaches Redis only through them: a test arms a real network fault
 * on the n-th command the app sends, whichever node it goes to, and reads Redis directly (past
 * the proxies) to see what the fault left.
 *
 * On Cluster the app's client discovers the slots on a real node, then talks to each master
 * through its proxy (`nodeAddressMap`). The proxies count each on their own; `failCommand`
 * counts over all of them in arrival order, with one shared counter behind their `only` filters.
 */
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from 'redis'
import { clusterRootNodes, redisUrl } from '../helpers/env'
import { connectCluster, connectStandalone, type ClusterClient, type StandaloneClient } from '../helpers/redis'
import type { Send } from '../helpers/send'
import { eventually } from '../helpers/waiting'
import { startFaultProxy, type FaultMode, type FaultProxy } from '../helpers/fault-proxy'

export type TopologyName = 'standalone' | 'cluster'

/** A client an app is given: it reaches Redis through the proxies and reconnects within 20 ms. */
export type AppClient = RedisClientType | RedisClusterType

/** A command as it reached a proxy. */
export interface LoggedCommand {
  /** Upper-cased, e.g. 'EVALSHA'. */
  name: string
  /** Which master's proxy it went through (0 on a single server). */
  node: number
}

export interface ArmedFault {
  /** The command the fault hit, once it has. */
  readonly hit: LoggedCommand | undefined
  disarm(): void
}

export interface FaultableRedis {
  /** A new app client through the proxies, connected. */
  connect(): Promise<AppClient>
  /** Resolves once `client` is connected again (to every master, on Cluster). */
  ready(client: AppClient): Promise<void>
  /** Closes a client `connect()` gave. */
  release(client: AppClient): void
  /** The commands the proxies forwarded since the last `reset()`, in arrival order. */
  readonly commands: readonly LoggedCommand[]
  reset(): void
  /** Arms a fault on the `n`-th command any proxy receives from now on (1 = the next one). */
  failCommand(n: number, mode: FaultMode): ArmedFault
  /** A client past the proxies, for a store or cache that inspects. */
  readonly direct: AppClient
  /** One sender per master, past the proxies. */
  masters(): Promise<Send[]>
  close(): Promise<void>
}

const RECONNECT_MS = 20

export async function faultableRedis(topology: TopologyName): Promise<FaultableRedis> {
  return topology === 'standalone' ? standalone() : cluster()
}

async function standalone(): Promise<FaultableRedis> {
  const direct = await connectStandalone()
  const target = new URL(redisUrl())
  const proxy = await startFaultProxy({ target: { host: target.hostname, port: Number(target.port) } })
  const send: Send = (args) => direct.sendCommand(args)
  return new Proxied(
    [proxy],
    direct,
    () => Promise.resolve([send]),
    async () => {
      const client: RedisClientType = createClient({ url: proxy.url, socket: { reconnectStrategy: () => RECONNECT_MS } })
      client.on('error', () => undefined) // every fault is a connection error
      await client.connect()
      return client
    },
  )
}

async function cluster(): Promise<FaultableRedis> {
  const direct = await connectCluster()
  const proxies = await Promise.all(direct.masters.map((master) => startFaultProxy({ target: { host: master.host, port: master.port } })))
  const viaProxy = new Map(
    direct.masters.map((master, i) => [master.address, { host: '127.0.0.1', port: (proxies[i] as FaultProxy).port }]),
  )
  return new Proxied(
    proxies,
    direct,
    () => mastersOf(direct),
    async () => {
      const client: RedisClusterType = createCluster({
        // Slots are discovered on a real node; then every node is reached through its proxy.
        rootNodes: clusterRootNodes(),
        nodeAddressMap: (address: string) => viaProxy.get(address),
        defaults: { socket: { reconnectStrategy: () => RECONNECT_MS } },
      })
      client.on('error', () => undefined)
      await client.connect()
      return client
    },
  )
}

/** One sender per master of a cluster, straight to it. */
export async function mastersOf(cluster: ClusterClient): Promise<Send[]> {
  return Promise.all(
    cluster.masters.map(async (master) => {
      const node = await cluster.nodeClient(master)
      return (args: string[]) => node.sendCommand(args)
    }),
  )
}

class Proxied implements FaultableRedis {
  private log: LoggedCommand[] = []
  private readonly opened: AppClient[] = []

  constructor(
    private readonly proxies: FaultProxy[],
    readonly direct: StandaloneClient | ClusterClient,
    readonly masters: () => Promise<Send[]>,
    private readonly open: () => Promise<AppClient>,
  ) {
    // A filter that never lets its fault fire sees every command each proxy receives, as it
    // arrives: together they give the arrival order over all the proxies.
    proxies.forEach((proxy, node) =>
      proxy.failCommand(1, 'drop-request', {
        only: (name) => {
          this.log.push({ name, node })
          return false
        },
      }),
    )
  }

  get commands(): readonly LoggedCommand[] {
    return [...this.log]
  }

  reset(): void {
    this.log = []
  }

  async connect(): Promise<AppClient> {
    const client = await this.open()
    this.opened.push(client)
    return client
  }

  release(client: AppClient): void {
    const at = this.opened.indexOf(client)
    if (at === -1) return
    this.opened.splice(at, 1)
    client.destroy()
  }

  async ready(client: AppClient): Promise<void> {
    if (!('masters' in client)) {
      await eventually(() => client.isReady, 5_000, 'the app client to reconnect')
      return
    }
    const nodes = await Promise.all(client.masters.map((master) => client.nodeClient(master)))
    await eventually(() => nodes.every((node) => node.isReady), 5_000, 'the app cluster client to reconnect to every master')
  }

  failCommand(n: number, mode: FaultMode): ArmedFault {
    let seen = 0
    let hit: LoggedCommand | undefined
    const armed = this.proxies.map((proxy, node) =>
      proxy.failCommand(1, mode, {
        only: (name) => {
          seen += 1
          if (seen !== n) return false
          hit = { name, node }
          return true
        },
      }),
    )
    return {
      get hit() {
        return hit
      },
      disarm: () => armed.forEach((fault) => fault.disarm()),
    }
  }

  async close(): Promise<void> {
    for (const client of this.opened.splice(0)) client.destroy()
    await Promise.all(this.proxies.map((proxy) => proxy.close()))
    this.direct.destroy()
  }
}
