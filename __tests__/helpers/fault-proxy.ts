// A TCP proxy in front of a real redis-server that counts the commands passing through and
// injects real network faults at a chosen one, so a test sees exactly what a client sees when a
// connection dies before a command reaches Redis, or after Redis ran it but before the reply came
// back. It reads just enough RESP to find where each command and each reply ends.
//
// Every command a client sends counts, including those node-redis sends when it connects (HELLO,
// CLIENT SETINFO, CLIENT MAINT_NOTIFICATIONS, SELECT…): arm faults after `connect()`, filter them
// with `only`, or `reset()` the log once connected.
import * as net from 'node:net'

const HOST = '127.0.0.1'
// Redis refuses header lines this long too; a longer one means the stream is not RESP.
const MAX_LINE_CHARS = 64 * 1024

export interface FaultProxyOptions {
  /** The redis-server to forward to. */
  target: { host: string; port: number }
}

/**
 * What a fault does to the command it hits:
 * - 'drop-request': the command never reaches Redis. The proxy forwards the commands before it,
 *   then closes the client's connection and its upstream.
 * - 'drop-reply': Redis runs the command, but its reply never reaches the client. Once that
 *   reply has arrived, the proxy forwards the replies before it, then closes both connections.
 *   Commands the client pipelined after it may have reached Redis too, as over a real network.
 *   Replies are paired with commands in order, one each (RESP3 pushes aside), so do not aim it
 *   at a connection in RESP2 pub/sub, MONITOR or CLIENT REPLY OFF mode.
 */
export type FaultMode = 'drop-request' | 'drop-reply'

export interface FaultOptions {
  /**
   * Counts only the commands for which this returns true, e.g. `(name) => name === 'EVALSHA'`.
   * `name` is upper-cased; `args` are the arguments after it, decoded as UTF-8.
   * @default every command counts
   */
  only?: (name: string, args: readonly string[]) => boolean
}

export interface ProxiedCommand {
  /** Upper-cased command name, e.g. 'EVALSHA'. */
  name: string
  /**
   * The first key: the first argument, except for EVAL/EVALSHA/FCALL (the first of their
   * KEYS) and for connection, server and transaction commands (none). Values are never kept.
   */
  key: string | undefined
}

export interface CommandLog {
  /** Commands forwarded to Redis since the start or the last `reset()`. */
  count: number
  /** Their names in arrival order, e.g. ['SET', 'EVALSHA']. */
  names: string[]
  /** Their names and first keys in arrival order. */
  entries: ProxiedCommand[]
}

export interface ArmedFault {
  /** Resolves with the command the fault hit once it has; stays pending while it has not. */
  readonly fired: Promise<ProxiedCommand>
  /** Cancels the fault if it has not fired yet. */
  disarm(): void
}

export interface FaultProxy {
  /** e.g. 'redis://127.0.0.1:41234', for `createClient({ url })`. */
  readonly url: string
  readonly port: number
  /** A snapshot of what has been forwarded. A command dropped by 'drop-request' is not in it. */
  readonly commands: CommandLog
  /** What the proxy could not handle (a stream that is not RESP, an `only` that threw); the connection was closed. */
  readonly errors: readonly Error[]
  /**
   * Arms a fault on the `n`-th command counted from now (1 = the next one), over all the
   * proxy's connections in arrival order. Several faults may be armed at once.
   */
  failCommand(n: number, mode: FaultMode, options?: FaultOptions): ArmedFault
  /** Holds all traffic in both directions, on open and new connections, as a stopped server would. */
  pause(): void
  /** Lets held traffic flow again. */
  resume(): void
  /** Closes every open connection and refuses new ones until `heal()`. */
  cut(): void
  /** Accepts connections again after `cut()`. */
  heal(): void
  /** Empties the command log; armed faults keep counting. */
  reset(): void
  /** Closes every connection and stops listening. Safe to call twice. */
  close(): Promise<void>
}

/** Starts a proxy to `target` on a free 127.0.0.1 port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxyServer(options.target)
  await proxy.listen()
  return proxy
}

// ---------------------------------------------------------------------------
// The proxy: accepts connections, decides the fate of each command

type Verdict = 'forward' | FaultMode

interface Fault {
  remaining: number
  mode: FaultMode
  only: FaultOptions['only']
  fire: (command: ProxiedCommand) => void
}

/** What a connection asks of the proxy it belongs to. */
interface ConnectionOwner {
  readonly paused: boolean
  decide(name: string, args: readonly Buffer[]): Verdict
  failed(error: unknown): void
  /** Both sockets have closed. */
  released(connection: ProxiedConnection): void
}

class FaultProxyServer implements FaultProxy, ConnectionOwner {
  private readonly server = net.createServer((socket) => this.accept(socket))
  private readonly connections = new Set<ProxiedConnection>()
  private readonly faults = new Set<Fault>()
  private log: ProxiedCommand[] = []
  private readonly problems: Error[] = []
  private refusing = false
  private closing: Promise<void> | undefined
  paused = false

  constructor(private readonly target: { host: string; port: number }) {
    // The proxy serves the test; it must never be what keeps the process alive.
    this.server.unref()
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, HOST, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`
  }

  get commands(): CommandLog {
    return { count: this.log.length, names: this.log.map((entry) => entry.name), entries: this.log.map((entry) => ({ ...entry })) }
  }

  get errors(): readonly Error[] {
    return [...this.problems]
  }

  failCommand(n: number, mode: FaultMode, options: FaultOptions = {}): ArmedFault {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`failCommand: n must be a positive integer, got ${n}`)
    let fire: (command: ProxiedCommand) => void = () => undefined
    const fired = new Promise<ProxiedCommand>((resolve) => (fire = resolve))
    const fault: Fault = { remaining: n, mode, only: options.only, fire }
    this.faults.add(fault)
    return { fired, disarm: () => this.faults.delete(fault) }
  }

  pause(): void {
    this.paused = true
    for (const connection of this.connections) connection.flow()
  }

  resume(): void {
    this.paused = false
    for (const connection of this.connections) connection.flow()
  }

  cut(): void {
    this.refusing = true
    this.destroyAll()
  }

  heal(): void {
    this.refusing = false
  }

  reset(): void {
    this.log = []
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve())
      this.destroyAll()
    })
    return this.closing
  }

  decide(name: string, args: readonly Buffer[]): Verdict {
    const command: ProxiedCommand = { name, key: firstKey(name, args) }
    let text: string[] | undefined // decoded only when a filter asks for it: values can be large
    let verdict: Verdict = 'forward'
    for (const fault of [...this.faults]) {
      if (fault.only && !fault.only(name, (text ??= args.map((arg) => arg.toString('utf8'))))) continue
      fault.remaining -= 1
      if (fault.remaining > 0) continue
      this.faults.delete(fault)
      fault.fire({ ...command })
      // A lost request hides whether the reply would have been lost too.
      if (fault.mode === 'drop-request' || verdict === 'forward') verdict = fault.mode
    }
    if (verdict !== 'drop-request') this.log.push(command)
    return verdict
  }

  failed(error: unknown): void {
    this.problems.push(error instanceof Error ? error : new Error(String(error)))
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined) // a reset peer is no concern of the test's
    if (this.refusing || this.closing) {
      client.resetAndDestroy()
      return
    }
    this.connections.add(new ProxiedConnection(client, net.connect(this.target), this))
  }

  released(connection: ProxiedConnection): void {
    this.connections.delete(connection)
  }

  private destroyAll(): void {
    for (const connection of this.connections) connection.destroy()
    this.connections.clear()
  }
}

// Connection and server-wide commands that take no key, so the log shows none for them.
const KEYLESS = new Set([
  'AUTH',
  'CLIENT',
  'CLUSTER',
  'COMMAND',
  'CONFIG',
  'DBSIZE',
  'DISCARD',
  'ECHO',
  'EXEC',
  'FLUSHALL',
  'FLUSHDB',
  'FUNCTION',
  'HELLO',
  'INFO',
  'MULTI',
  'PING',
  'QUIT',
  'READONLY',
  'READWRITE',
  'RESET',
  'SCRIPT',
  'SELECT',
  'TIME',
])
const WITH_NUMKEYS = new Set(['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO'])

function firstKey(name: string, args: readonly Buffer[]): string | undefined {
  if (KEYLESS.has(name)) return undefined
  // EVAL script numkeys key… arg…
  if (WITH_NUMKEYS.has(name)) return Number(args[1]?.toString()) > 0 ? args[2]?.toString('utf8') : undefined
  return args[0]?.toString('utf8')
}

// ---------------------------------------------------------------------------
// One client connection and its upstream connection to Redis

class ProxiedConnection {
  private readonly requests = new RespScanner('requests')
  private readonly replies = new RespScanner('replies')
  /** The start of a command whose end has not arrived: whether it is forwarded is decided at its end. */
  private partialCommand: Buffer[] = []
  /** Counted on this connection to pair each reply with its command: Redis answers in order. */
  private forwarded = 0
  private replied = 0
  /** The index, in `forwarded` order, of the command whose reply is to be lost. */
  private loseReplyOf: number | undefined
  private finished = false

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly owner: ConnectionOwner,
  ) {
    let open = 2
    for (const socket of [client, upstream]) {
      socket.unref()
      socket.setNoDelay(true)
      socket.on('error', () => this.finish())
      socket.on('close', () => {
        this.finish()
        if (--open === 0) owner.released(this)
      })
      socket.on('drain', () => this.flow())
    }
    client.on('data', (chunk: Buffer) => this.fromClient(chunk))
    upstream.on('data', (chunk: Buffer) => this.fromRedis(chunk))
    this.flow()
  }

  /** Reads a side only while the proxy is not paused and the other side keeps up with writes. */
  flow(): void {
    setReading(this.client, !this.owner.paused && !this.upstream.writableNeedDrain)
    setReading(this.upstream, !this.owner.paused && !this.client.writableNeedDrain)
  }

  destroy(): void {
    this.finished = true
    this.client.destroy()
    this.upstream.destroy()
  }

  private fromClient(chunk: Buffer): void {
    if (this.finished) return
    const toRedis: Buffer[] = []
    try {
      let start = 0
      for (const { end, args } of this.requests.feed(chunk)) {
        const bytes = Buffer.concat([...this.partialCommand, chunk.subarray(start, end)])
        this.partialCommand = []
        start = end
        const [name, ...rest] = args
        // An empty line or empty array: Redis ignores it and sends no reply.
        const verdict = name ? this.owner.decide(name.toString('utf8').toUpperCase(), rest) : 'forward'
        if (verdict === 'drop-request') {
          this.finish(Buffer.concat(toRedis))
          return
        }
        toRedis.push(bytes)
        if (!name) continue
        if (verdict === 'drop-reply') this.loseReplyOf ??= this.forwarded
        this.forwarded += 1
      }
      if (start < chunk.length) this.partialCommand.push(chunk.subarray(start))
    } catch (error) {
      this.owner.failed(error)
      this.finish(Buffer.concat(toRedis))
      return
    }
    if (toRedis.length > 0) this.upstream.write(Buffer.concat(toRedis))
    this.flow()
  }

  private fromRedis(chunk: Buffer): void {
    if (this.finished) return
    let replies: RespMessage[]
    try {
      replies = this.replies.feed(chunk)
    } catch (error) {
      this.owner.failed(error)
      this.finish()
      return
    }
    // Replies before the lost one reach the client; from the lost one's first byte on, nothing does.
    const lost = this.loseReplyOf
    let sendEnd = lost !== undefined && this.replied >= lost ? 0 : chunk.length
    for (const { end, push } of replies) {
      if (push) continue // out-of-band (RESP3 push): answers no command
      this.replied += 1
      if (lost === undefined) continue
      if (this.replied === lost) sendEnd = end
      if (this.replied > lost) {
        // The lost reply is complete, so Redis has run the command: now the connection dies.
        this.finish(undefined, chunk.subarray(0, sendEnd))
        return
      }
    }
    if (sendEnd > 0) this.client.write(chunk.subarray(0, sendEnd))
    this.flow()
  }

  /** Closes both sides once; bytes given are delivered first (so earlier commands still run). */
  private finish(lastToRedis?: Buffer, lastToClient?: Buffer): void {
    if (this.finished) return
    this.finished = true
    endThenDestroy(this.upstream, lastToRedis)
    endThenDestroy(this.client, lastToClient)
  }
}

function setReading(socket: net.Socket, reading: boolean): void {
  if (reading) socket.resume()
  else socket.pause()
}

function endThenDestroy(socket: net.Socket, last: Buffer | undefined): void {
  if (last === undefined || last.length === 0) socket.destroy()
  else socket.end(last, () => socket.destroy())
}

// ---------------------------------------------------------------------------
// RESP framing, read incrementally: where each top-level message ends in a stream of chunks

/** A complete top-level RESP message found in a chunk. */
export interface RespMessage {
  /** Offset in the chunk just past the message's last byte. */
  end: number
  /** True for a RESP3 push ('>'), which answers no command. */
  push: boolean
  /** For requests: the command's bulk strings (name first), or an inline command's words. Empty for replies. */
  args: Buffer[]
}

/** An aggregate still being read. */
interface OpenAggregate {
  remaining: number
  /** An attribute ('|') describes the value after it and is no element itself. */
  attribute: boolean
}

const LF = 0x0a

/**
 * Finds the ends of RESP2 and RESP3 messages (+ - : $ * and _ , # ! = ( % ~ > |) across chunk
 * boundaries, without buffering bulk bodies unless it keeps them as request arguments.
 * Exported for its own unit tests; streamed strings and aggregates ('$?', '*?') are not supported.
 */
export class RespScanner {
  /** A header line that has begun but not ended. */
  private line = ''
  /** Bytes of a bulk body, CRLF included, still to come; -1 while reading lines. */
  private bulkLeft = -1
  private keepBulk = false
  private bulkParts: Buffer[] = []
  private readonly open: OpenAggregate[] = []
  private push = false
  private args: Buffer[] = []

  /** 'requests' also reads inline commands and keeps each command's arguments. */
  constructor(private readonly side: 'requests' | 'replies') {}

  feed(chunk: Buffer): RespMessage[] {
    const messages: RespMessage[] = []
    let at = 0
    while (at < chunk.length) {
      if (this.bulkLeft >= 0) {
        const take = Math.min(this.bulkLeft, chunk.length - at)
        if (this.keepBulk) this.bulkParts.push(chunk.subarray(at, at + take))
        this.bulkLeft -= take
        at += take
        if (this.bulkLeft === 0) this.bulkDone(at, messages)
        continue
      }
      const lf = chunk.indexOf(LF, at)
      this.line += chunk.toString('latin1', at, lf === -1 ? chunk.length : lf + 1)
      if (this.line.length > MAX_LINE_CHARS) throw new Error(`RESP line longer than ${MAX_LINE_CHARS} characters`)
      if (lf === -1) break
      at = lf + 1
      const line = this.line.replace(/\r?\n$/, '')
      this.line = ''
      this.header(line, at, messages)
    }
    return messages
  }

  private header(line: string, end: number, messages: RespMessage[]): void {
    const type = line[0]
    if (this.side === 'requests' && this.open.length === 0 && type !== '*') {
      // An inline command, as typed into telnet: words separated by spaces.
      this.args = line
        .split(' ')
        .filter((word) => word !== '')
        .map((word) => Buffer.from(word, 'latin1'))
      this.elementDone(end, messages)
      return
    }
    switch (type) {
      case '+':
      case '-':
      case ':':
      case '_':
      case ',':
      case '#':
      case '(':
        this.elementDone(end, messages)
        return
      case '$':
      case '!':
      case '=': {
        const length = parseLength(line)
        if (length === -1) {
          this.elementDone(end, messages) // RESP2 null bulk string
          return
        }
        this.bulkLeft = length + 2
        this.keepBulk = this.side === 'requests' && this.open.length === 1
        return
      }
      case '*':
      case '%':
      case '~':
      case '>':
      case '|': {
        const count = parseLength(line)
        if (type === '>' && this.open.length === 0) this.push = true
        const elements = type === '%' || type === '|' ? count * 2 : count
        if (elements > 0) this.open.push({ remaining: elements, attribute: type === '|' })
        else if (type !== '|') this.elementDone(end, messages) // empty, or a RESP2 null array
        return
      }
      default:
        throw new Error(`unexpected RESP type byte ${JSON.stringify(type ?? '')}`)
    }
  }

  private bulkDone(end: number, messages: RespMessage[]): void {
    this.bulkLeft = -1
    if (this.keepBulk) {
      const body = Buffer.concat(this.bulkParts)
      this.args.push(body.subarray(0, body.length - 2))
      this.bulkParts = []
    }
    this.elementDone(end, messages)
  }

  /** One value has ended: it completes its aggregate, which may complete its own, up to the top. */
  private elementDone(end: number, messages: RespMessage[]): void {
    for (;;) {
      const parent = this.open.at(-1)
      if (parent === undefined) {
        messages.push({ end, push: this.push, args: this.args })
        this.push = false
        this.args = []
        return
      }
      parent.remaining -= 1
      if (parent.remaining > 0) return
      this.open.pop()
      if (parent.attribute) return
    }
  }
}

function parseLength(line: string): number {
  const length = Number(line.slice(1))
  if (!Number.isInteger(length) || length < -1 || line.length < 2) {
    throw new Error(`unsupported RESP length in ${JSON.stringify(line.slice(0, 40))}`)
  }
  return length
}
