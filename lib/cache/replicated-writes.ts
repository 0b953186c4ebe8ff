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
import { withDeadline } from '../deadline'
import { CacheError } from '../errors'
import type { ReplicaWait } from './cache'
import type { CircuitBreaker } from './circuit-breaker'
import { RedisConnection, type RedisClient } from './redis-connection'
import type { ScriptCall } from './write-plan'

/** What a dedicated connection needs of the app's client. */
interface DuplicableClient {
  duplicate(): OwnClient
}

type OwnClient = RedisClient & {
  readonly isReady?: boolean
  connect(): Promise<unknown>
  destroy(): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

export class ReplicatedWrites {
  private client: OwnClient | undefined
  private connected: Promise<void> | undefined
  /** One per distinct total timeout (command time plus the wait), all on the one connection. */
  private readonly connections = new Map<number, RedisConnection>()
  private closed = false

  constructor(
    private readonly source: RedisClient,
    private readonly commandTimeoutMs: number,
    private readonly breaker: CircuitBreaker | undefined,
  ) {}

  /** Runs the script, then resolves to its reply once `wait.replicas` replicas have the change; `NOT_REPLICATED` when fewer did within `wait.timeoutMs`. */
  async run(call: ScriptCall, wait: ReplicaWait, operation: string): Promise<unknown> {
    const connection = await this.connection(wait.timeoutMs)
    const routingKey = call.keys[0]
    const tail = [String(call.keys.length), ...call.keys, ...call.args]
    const waitArgs = ['WAIT', String(wait.replicas), String(wait.timeoutMs)]
    let [written, acknowledged] = await Promise.allSettled([connection.send(['EVALSHA', call.script.sha1, ...tail], routingKey, false), connection.send(waitArgs, routingKey, false)])
    if (written.status === 'rejected' && written.reason instanceof Error && written.reason.message.startsWith('NOSCRIPT')) {
      ;[written, acknowledged] = await Promise.allSettled([connection.send(['EVAL', call.script.source, ...tail], routingKey, false), connection.send(waitArgs, routingKey, false)])
    }
    if (written.status === 'rejected') throw written.reason
    if (acknowledged.status === 'rejected') throw acknowledged.reason
    const replicas = acknowledged.value
    if (typeof replicas !== 'number') throw new CacheError('UNEXPECTED_REPLY', 'Redis sent a reply to WAIT that is not a count', { operation, commands: ['WAIT'] })
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
    const client = this.client
    if (client === undefined) return
    // A connection still being opened is abandoned, as the near-cache's is.
    await this.connected?.catch(() => undefined)
    client.destroy()
  }

  private async connection(waitMs: number): Promise<RedisConnection> {
    if (this.closed) throw new CacheError('REDIS_UNAVAILABLE', 'the cache is closed', { operation: 'waitForReplicas' })
    // node-redis keeps trying to connect while Redis is away: the first connection is bounded as a command is.
    await withDeadline(this.connect(), this.commandTimeoutMs, 'waitForReplicas')
    const totalMs = this.commandTimeoutMs === 0 ? 0 : this.commandTimeoutMs + waitMs
    let connection = this.connections.get(totalMs)
    if (connection === undefined) {
      connection = new RedisConnection(this.client as OwnClient, totalMs, this.breaker)
      this.connections.set(totalMs, connection)
    }
    return connection
  }

  private connect(): Promise<void> {
    if (this.connected === undefined) {
      const source = this.source as Partial<DuplicableClient>
      if (typeof source.duplicate !== 'function') {
        return Promise.reject(new CacheError('REDIS_UNAVAILABLE', 'waitForReplicas needs a client that can duplicate() itself', { operation: 'waitForReplicas' }))
      }
      const client = source.duplicate()
      // Errors of this connection reach the callers of its commands; node-redis reconnects it.
      client.on('error', () => undefined)
      this.client = client
      this.connected = client.connect().then(() => undefined)
      // A first attempt that fails is tried again by the next call.
      this.connected.catch(() => {
        if (this.client === client) {
          this.connected = undefined
          this.client = undefined
          client.destroy()
        }
      })
    }
    return this.connected
  }
}
