/**
 * A raw MONITOR connection to one redis-server: every command it runs, from clients and from
 * inside scripts (source `lua`), as the server prints it. For counting what a call sends and
 * which keys the writes hit; MONITOR slows the server, so nothing is timed while it runs.
 */
import { connect, type Socket } from 'node:net'

export interface MonitoredCommand {
  /** `lua` for a command a script ran; otherwise the client's address. */
  source: string
  /** The command's name (lower case) and arguments. */
  args: string[]
}

const START_LIMIT_MS = 5_000
const SYNC_LIMIT_MS = 30_000

export class Monitor {
  private pending = ''
  private waiting: { marker: string; resolve: () => void } | undefined

  private constructor(
    private readonly socket: Socket,
    private readonly onCommand: (command: MonitoredCommand) => void,
  ) {}

  /** Starts monitoring the server on 127.0.0.1:`port`; resolves once the server has said OK. */
  static start(port: number, onCommand: (command: MonitoredCommand) => void): Promise<Monitor> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port })
      const monitor = new Monitor(socket, onCommand)
      const timer = setTimeout(() => fail(new Error(`MONITOR on port ${port} did not start`)), START_LIMIT_MS)
      const fail = (error: Error) => {
        clearTimeout(timer)
        socket.destroy()
        reject(error)
      }
      socket.setEncoding('latin1')
      socket.once('error', fail)
      socket.once('connect', () => socket.write('MONITOR\r\n'))
      let started = false
      socket.on('data', (chunk: string) => {
        if (started) return monitor.receive(chunk)
        const text = monitor.pending + chunk
        if (!text.includes('\r\n')) return void (monitor.pending = text)
        if (!text.startsWith('+OK\r\n')) return fail(new Error(`MONITOR on port ${port} answered ${JSON.stringify(text.slice(0, 100))}`))
        started = true
        clearTimeout(timer)
        socket.off('error', fail)
        socket.on('error', (error) => console.error('bench: MONITOR connection error', error))
        monitor.pending = ''
        monitor.receive(text.slice('+OK\r\n'.length))
        resolve(monitor)
      })
    })
  }

  /**
   * Resolves once the monitor has printed `ECHO marker`, which `send` sends from another
   * connection: every command the server ran before it has then been seen.
   */
  async sync(marker: string, send: () => Promise<unknown>): Promise<void> {
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('MONITOR output did not catch up')), SYNC_LIMIT_MS)
      this.waiting = { marker, resolve: () => (clearTimeout(timer), resolve()) }
    })
    await send()
    await seen
  }

  close(): void {
    this.socket.destroy()
  }

  private receive(chunk: string): void {
    const lines = (this.pending + chunk).split('\r\n')
    this.pending = lines.pop() ?? ''
    for (const line of lines) {
      const command = parseMonitorLine(line)
      if (command === undefined) continue
      if (this.waiting && command.args[0] === 'echo' && command.args[1] === this.waiting.marker) {
        this.waiting.resolve()
        this.waiting = undefined
        continue
      }
      this.onCommand(command)
    }
  }
}

const HEADER = /^\+\d+\.\d+ \[\d+ ([^\]]*)\] /
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', '"': '"', '\\': '\\' }

/** One MONITOR line (`+<time> [<db> <source>] "arg" "arg" …`, C-style escapes) parsed; undefined for anything else. */
export function parseMonitorLine(line: string): MonitoredCommand | undefined {
  const header = HEADER.exec(line)
  if (header === null) return undefined
  const args: string[] = []
  let at = header[0].length
  while (at < line.length && line[at] === '"') {
    let arg = ''
    at++
    while (at < line.length && line[at] !== '"') {
      if (line[at] !== '\\') {
        arg += line[at++]
        continue
      }
      const next = line[at + 1] ?? ''
      if (next === 'x') {
        arg += String.fromCharCode(parseInt(line.slice(at + 2, at + 4), 16))
        at += 4
      } else {
        arg += ESCAPES[next] ?? next
        at += 2
      }
    }
    args.push(arg)
    at += 2 // the closing quote and the space after it
  }
  if (args.length === 0) return undefined
  args[0] = (args[0] as string).toLowerCase()
  return { source: header[1] ?? '', args }
}
