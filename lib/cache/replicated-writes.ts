/**
 * Writes that resolve only once replicas have them (`waitForReplicas`): each script is followed
 * by `WAIT replicas timeout`, which Redis answers with how many replicas acknowledged every
 * write made so far on that connection.
 *
 * They go over a connection of their own, a duplicate of the app's client opened on first use:
 * `WAIT` blocks its connection until it answers, and on the app's shared connection it would hold
 * up every other command of this process for up to `timeoutMs` whenever a replica lags. The script
 * and its `WAIT` are sent in the same turn, so they leave on one socket back to back: a reconnect
 * cannot fall between them and make `WAIT` count a connection that never wrote.
 */
import calculateSlot from 'cluster-key-slot'
import { withDeadline } from '../shared/deadline'
import { CacheError } from '../errors'
import type { ReplicaWait } from './cache'
import type { CircuitBreaker } from './circuit-breaker'
import { duplicateClient, type OwnConnection } from './clients/duplicate-client'
import { RedisConnection, type RedisClient } from './redis-connection'
import type { ScriptCall } from './write-plan'

export class ReplicatedWrites {
  private own: OwnConnection | undefined
  private connected: Promise<void> | undefined
  /** One per node (on Cluster) and distinct total timeout (command time plus the wait). */
  private readonly connections = new Map<string, RedisConnection>()
  private closed = false

  constructor(
    private readonly source: RedisClient,
    private readonly commandTimeoutMs: number,
    private readonly breaker: CircuitBreaker | undefined,
  ) {}

  /** Runs the script, then resolves to its reply once `wait.replicas` replicas have the change; `NOT_REPLICATED` when fewer did within `wait.timeoutMs`. */
  async run(call: ScriptCall, wait: ReplicaWait, operation: string): Promise<unknown> {
    const routingKey = call.keys[0]
    const connection = await this.connection(wait.timeoutMs, routingKey)
    const tail = [String(call.keys.length), ...call.keys, ...call.args]
    const waitArgs = ['WAIT', String(wait.replicas), String(wait.timeoutMs)]
    let [written, acknowledged] = await Promise.allSettled([
      connection.send(['EVALSHA', call.script.sha1, ...tail], routingKey, false),
      connection.send(waitArgs, routingKey, false),
    ])
    if (written.status === 'rejected' && written.reason instanceof Error && written.reason.message.startsWith('NOSCRIPT')) {
      ;[written, acknowledged] = await Promise.allSettled([
        connection.send(['EVAL', call.script.source, ...tail], routingKey, false),
        connection.send(waitArgs, routingKey, false),
      ])
    }
    if (written.status === 'rejected') throw written.reason
    if (acknowledged.status === 'rejected') throw acknowledged.reason
    const replicas = acknowledged.value
    if (typeof replicas !== 'number')
      throw new CacheError('UNEXPECTED_REPLY', 'Redis sent a reply to WAIT that is not a count', { operation, commands: ['WAIT'] })
    if (replicas < wait.replicas) {
      throw new CacheError(
        'NOT_REPLICATED',
        `only ${replicas} of the ${wait.replicas} replicas asked for acknowledged the change within ${wait.timeoutMs} ms: it is made on the master, and lost if the master fails before a replica has it`,
        { operation, commands: ['EVALSHA', 'WAIT'] },
      )
    }
    return written.value
  }

  async close(): Promise<void> {
    this.closed = true
    const own = this.own
    if (own === undefined) return
    // node-redis finishes a connection attempt it was told to abandon: let it end first.
    await this.connected?.catch(() => undefined)
    own.close()
  }

  private async connection(waitMs: number, routingKey: string | undefined): Promise<RedisConnection> {
    if (this.closed) throw new CacheError('REDIS_UNAVAILABLE', 'the cache is closed', { operation: 'waitForReplicas' })
    // node-redis keeps trying to connect while Redis is away: the first connection is bounded as a command is.
    await withDeadline(this.connect(), this.commandTimeoutMs, 'waitForReplicas')
    const totalMs = this.commandTimeoutMs === 0 ? 0 : this.commandTimeoutMs + waitMs
    const client = (this.own as OwnConnection).client
    const node = await slotMaster(client, routingKey)
    if (node !== undefined) {
      const refusal = this.breaker?.refusal(node.address)
      if (refusal !== undefined) throw refusal
    }
    const id = `${node?.address ?? ''} ${totalMs}`
    let connection = this.connections.get(id)
    if (connection === undefined) {
      // A slot master's own client is not watched by the breaker: the cache's other commands to it are.
      connection = node === undefined ? new RedisConnection(client, totalMs, this.breaker) : new RedisConnection(node.client, totalMs)
      this.connections.set(id, connection)
    }
    return connection
  }

  private connect(): Promise<void> {
    if (this.connected === undefined) {
      let own: OwnConnection
      try {
        own = duplicateClient(this.source)
      } catch (error) {
        return Promise.reject(error)
      }
      this.own = own
      this.connected = own.connected
      // A first attempt that fails is tried again by the next call.
      this.connected.catch(() => {
        if (this.own === own) {
          this.connected = undefined
          this.own = undefined
          own.close()
        }
      })
    }
    return this.connected
  }
}

/** What a node-redis cluster offers to reach one node (5 and 6). */
interface NodeRedisCluster {
  readonly slots: readonly ({ master?: { address?: string } } | undefined)[]
  nodeClient(node: unknown): Promise<RedisClient>
}

/**
 * On a node-redis cluster, the client of the master that owns `routingKey`'s slot. The script and
 * its WAIT go to it directly: the cluster client would send WAIT to every master (its command
 * tips say all shards) and answer with the smallest count, so one lagging master's replica would
 * fail every other master's writes.
 */
async function slotMaster(
  client: RedisClient,
  routingKey: string | undefined,
): Promise<{ address: string; client: RedisClient } | undefined> {
  const cluster = client as Partial<NodeRedisCluster>
  const slots = cluster.slots
  if (routingKey === undefined || typeof cluster.nodeClient !== 'function' || !Array.isArray(slots)) return undefined
  const master = (slots as NodeRedisCluster['slots'])[calculateSlot(routingKey)]?.master
  if (master === undefined) throw new CacheError('REDIS_UNAVAILABLE', 'no master is known for the slot', { operation: 'waitForReplicas' })
  return { address: master.address ?? '', client: await cluster.nodeClient(master) }
}
