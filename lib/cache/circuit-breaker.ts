/**
 * Fails fast while Redis is out of reach. Without it, every call during an outage waits the
 * whole `commandTimeoutMs` before it fails: under load, thousands of requests held open at once.
 *
 * One circuit per Redis node (one in all on a standalone server or Sentinel; on Cluster one per
 * master, so a dead master's slots fail fast while the other masters' go on). A circuit opens at
 * the first command that fails for want of Redis (see `isOutage`): from then on commands routed to
 * it are refused at once, and a probe (one cheap command to the same node) is sent at once, then
 * every `probeIntervalMs` until one is answered, which closes it; and at once whenever the client
 * says it is connected again (its `ready` event: a reconnect, or node-redis Sentinel's switch to a
 * promoted replica), so service comes back as soon as the client can give it. Commands already in
 * flight when it opens keep their own deadline.
 */
import { performance } from 'node:perf_hooks'
import { SessionVaultError } from '../errors'
import { isErrorReply } from './redis-errors'

export type BreakerState = 'closed' | 'open'

export interface BreakerOptions {
  /** Milliseconds between two probes of an open circuit. @default 500 */
  probeIntervalMs?: number
}

/** What a change of a circuit's state tells its listener. */
export interface BreakerChange {
  state: BreakerState
  /** The Redis node (`host:port`); `''` on a standalone server or Sentinel, where there is one circuit. */
  node: string
  /** The failure that opened it. */
  cause?: unknown
}

interface OpenCircuit {
  /** A key routed to the node, for the probe (on Cluster a command goes where its key's slot lives). */
  routingKey: string | undefined
  timer: NodeJS.Timeout | undefined
  /** A probe is out, neither answered nor given up on. */
  probing: boolean
  cause: unknown
}

// Error replies that say the node cannot serve right now (loading, failing over, a script
// hogging it). OOM is not one: a full Redis answers at once, and reads and endings still work.
const OUTAGE_REPLY = /^(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY)\b/

export class CircuitBreaker {
  private readonly open = new Map<string, OpenCircuit>()
  /** When each node's circuit last closed (`performance.now()`): failures of commands sent before then are old news. */
  private readonly closedAt = new Map<string, number>()
  private closed = false

  constructor(
    private readonly probeIntervalMs: number,
    /** Sends the probe to the node of `routingKey`: a command that needs no memory and changes nothing. */
    private readonly probe: (routingKey: string | undefined) => Promise<unknown>,
    private readonly changed: (change: BreakerChange) => void,
  ) {}

  /** `'open'` while any circuit is. */
  get state(): BreakerState {
    return this.open.size > 0 ? 'open' : 'closed'
  }

  /** The nodes whose circuit is open. */
  get openNodes(): string[] {
    return [...this.open.keys()]
  }

  /** The error a command to `node` is refused with right now, or undefined to let it through. */
  refusal(node: string): CircuitOpenError | undefined {
    const circuit = this.open.get(node)
    return circuit && new CircuitOpenError(node, circuit.cause)
  }

  /**
   * A command to `node`, sent at `sentAt` (`performance.now()`), failed: if for want of Redis, its
   * circuit opens. Not for a command sent before the circuit last closed: one stuck on a
   * connection that a failover replaced times out long after the new master answered the probe.
   */
  failed(node: string, routingKey: string | undefined, error: unknown, sentAt: number): void {
    if (this.closed || this.open.has(node) || sentAt < (this.closedAt.get(node) ?? -Infinity) || !isOutage(error)) return
    const circuit: OpenCircuit = { routingKey, timer: undefined, probing: false, cause: error }
    this.open.set(node, circuit)
    // The first probe at once: a connection that dropped and came straight back (a restart, a
    // blip) closes the circuit as soon as it answers.
    this.schedule(node, circuit, 0)
    this.changed({ state: 'open', node, cause: error })
  }

  /** Probes every open circuit now, rather than at its next interval, unless a probe is already out. */
  probeNow(): void {
    if (this.closed) return
    for (const [node, circuit] of this.open) {
      if (circuit.probing) continue
      clearTimeout(circuit.timer)
      this.schedule(node, circuit, 0)
    }
  }

  /** Stops probing; every circuit stays as it is. */
  stop(): void {
    this.closed = true
    for (const circuit of this.open.values()) clearTimeout(circuit.timer)
  }

  private schedule(node: string, circuit: OpenCircuit, delayMs = this.probeIntervalMs): void {
    circuit.timer = setTimeout(() => {
      circuit.timer = undefined
      // Closed meanwhile (a late answer to an earlier probe): nothing left to probe.
      if (this.open.get(node) !== circuit || this.closed) return
      let settled = false
      circuit.probing = true
      // A probe unanswered after an interval counts as failed and the next one goes out at once: one
      // written to a connection that is dying (a failover) must not hold the circuit open for a
      // whole command timeout.
      const patience = setTimeout(() => {
        if (settled || this.closed) return
        settled = true
        circuit.probing = false
        this.schedule(node, circuit, 0)
      }, this.probeIntervalMs)
      patience.unref()
      this.probe(circuit.routingKey).then(
        () => {
          clearTimeout(patience)
          if (this.open.get(node) !== circuit || this.closed) return
          settled = true
          circuit.probing = false
          this.open.delete(node)
          this.closedAt.set(node, performance.now())
          this.changed({ state: 'closed', node })
        },
        () => {
          clearTimeout(patience)
          if (settled || this.closed) return
          settled = true
          circuit.probing = false
          this.schedule(node, circuit)
        },
      )
    }, delayMs)
    // An app waiting for Redis to come back must not be kept alive by it.
    circuit.timer.unref()
  }
}

interface ReadyEmitter {
  on(event: 'ready', listener: () => void): unknown
  off(event: 'ready', listener: () => void): unknown
}

interface ClientBreakers {
  breakers: Set<CircuitBreaker>
  onReady: () => void
}

/** The breakers of every cache on one client: one `ready` listener per client, however many caches share it. */
const breakersOfClient = new WeakMap<ReadyEmitter, ClientBreakers>()

/** Probes the breaker's open circuits whenever `client` emits `ready`; returns what stops that. */
export function probeOnReady(client: unknown, breaker: CircuitBreaker): () => void {
  const emitter = client as Partial<ReadyEmitter>
  if (typeof emitter.on !== 'function' || typeof emitter.off !== 'function') return () => undefined
  const readyEmitter = emitter as ReadyEmitter
  let registered = breakersOfClient.get(readyEmitter)
  if (registered === undefined) {
    const breakers = new Set<CircuitBreaker>()
    registered = { breakers, onReady: () => breakers.forEach((each) => each.probeNow()) }
    breakersOfClient.set(readyEmitter, registered)
    readyEmitter.on('ready', registered.onReady)
  }
  const { breakers, onReady } = registered
  breakers.add(breaker)
  return () => {
    if (!breakers.delete(breaker) || breakers.size > 0) return
    breakersOfClient.delete(readyEmitter)
    readyEmitter.off('ready', onReady)
  }
}

/** A command refused, unsent, because its node's circuit is open (the cache reports it as `REDIS_UNAVAILABLE`). */
export class CircuitOpenError extends Error {
  override name = 'CircuitOpenError'

  constructor(node: string, cause: unknown) {
    super(`Redis${node ? ` at ${node}` : ''} stopped answering: its circuit is open until a probe is answered`, { cause })
  }
}

/**
 * True for a failure that says Redis cannot answer: no reply in time, a lost or refused
 * connection, or a reply that says the node is loading, failing over or busy. An error reply to
 * the command itself (a script error, WRONGTYPE, OOM) says Redis is there.
 */
export function isOutage(error: unknown): boolean {
  if (error instanceof CircuitOpenError) return false
  // Ours: a reply of the wrong shape, a value that cannot be decoded: Redis answered.
  if (error instanceof SessionVaultError) return error.code === 'REDIS_UNAVAILABLE'
  if (isErrorReply(error)) return OUTAGE_REPLY.test((error as Error).message)
  return true
}
