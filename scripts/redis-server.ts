// Throwaway redis-server processes for tests, benchmarks and examples: one standalone server or a small
// cluster, each on free ports with its own temp dir and no persistence.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

const HOST = '127.0.0.1'
const START_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 5_000
const CLUSTER_READY_TIMEOUT_MS = 20_000
// Redis cluster nodes also listen on port + 10000 (the cluster bus).
const CLUSTER_BUS_OFFSET = 10_000

export interface RedisServerOptions {
  /** Extra redis-server arguments, appended last so they override the defaults. */
  args?: string[]
  /** Working directory for the server; a fresh temp dir when omitted. */
  dir?: string
  /** Port to listen on; a free one when omitted. */
  port?: number
}

export interface RedisServerHandle {
  readonly port: number
  readonly url: string
  /** Pid of the current process; changes after restart(). */
  readonly pid: number
  /** SIGTERM, wait for exit, SIGKILL after 5s. Safe to call when already stopped. */
  stop(): Promise<void>
  /** Stop (if running) and start again on the same port, dir and args. */
  restart(): Promise<void>
}

export interface RedisClusterHandle {
  readonly nodes: { host: string; port: number }[]
  /** Comma-separated node URLs, e.g. 'redis://127.0.0.1:P1,redis://127.0.0.1:P2'. */
  readonly rootNodes: string
  /** One handle per node, for tests that stop or restart a single node. */
  readonly servers: RedisServerHandle[]
  stop(): Promise<void>
}

// ---------------------------------------------------------------------------
// Safety net. Jest hands tests a copy of `process` whose 'exit' listeners never
// fire, and a SIGKILLed worker runs no handlers at all, so each server gets a
// tiny watchdog shell instead: we write it the pid and port of the running
// redis-server (pid 0 once it has exited) and it reads until its stdin closes,
// which happens whenever this process ends, however it ends. It then kills the
// last pid, only if that process is still the redis-server of that port (pids
// are reused: pid_max may be 32768, and a suite starts thousands of processes),
// and removes the temp dir.

export const WATCHDOG_SCRIPT = `
last=0
port=0
while read -r pid p; do last=$pid; port=$p; done
if [ "$last" != 0 ] && tr '\\0' ' ' < "/proc/$last/cmdline" 2>/dev/null | grep -qE -- "(127\\.0\\.0\\.1:|--port )$port( |\\$)"; then
  kill -9 "$last" 2>/dev/null
fi
if [ -n "$1" ]; then rm -rf "$1"; fi
`

class Watchdog {
  private readonly child: ChildProcess

  constructor(tempDirToRemove: string) {
    this.child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'watchdog', tempDirToRemove], {
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    // It must not keep the event loop (and so a test worker) alive.
    this.child.unref()
    ;(this.child.stdin as net.Socket | null)?.unref()
  }

  track(pid: number | undefined, port: number): void {
    this.child.stdin?.write(`${pid ?? 0} ${port}\n`)
  }
}

// ---------------------------------------------------------------------------
// Ports

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** A port that is free on 127.0.0.1 right now (chosen by the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** A port P where both P and the cluster bus port P + 10000 are free. */
export async function freeClusterPort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Stay below the usual ephemeral range (32768+) for P so fewer collisions
    // with outgoing connections; the bus port must stay <= 65535.
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (exclude.has(port) || exclude.has(port + CLUSTER_BUS_OFFSET)) continue
    if ((await canListen(port)) && (await canListen(port + CLUSTER_BUS_OFFSET))) return port
  }
  throw new Error('could not find a free port pair for a redis cluster node')
}

// ---------------------------------------------------------------------------
// Talking to redis without a client library

/** Runs redis-cli against 127.0.0.1:port and returns its stdout (trailing newline trimmed). */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', HOST, '-p', String(port), ...args], {
    timeout: 30_000,
  })
  return stdout.replace(/\r?\n$/, '')
}

/**
 * True once the server on `port` answers PING (not -LOADING) and is process
 * `pid`: another server already on that port must not pass for ours.
 * Uses inline commands over raw TCP, so no client library is needed.
 */
function isServing(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port })
    let reply = ''
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      const match = /process_id:(\d+)\r\n/.exec(reply)
      if (match) done(reply.startsWith('+PONG\r\n') && Number(match[1]) === pid)
    })
  })
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------
// Standalone server

interface RunningProcess {
  child: ChildProcess
  exited: Promise<void>
}

const OUTPUT_TAIL_CHARS = 4_000

async function launch(
  port: number,
  dir: string,
  extraArgs: string[],
  watchdog: Watchdog,
  sentinelConfig?: string,
): Promise<RunningProcess> {
  // A sentinel takes its (writable) config file first and knows no persistence options.
  const args = sentinelConfig
    ? [sentinelConfig, '--sentinel', '--port', String(port), '--bind', HOST, '--daemonize', 'no', '--dir', dir, ...extraArgs]
    : ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, ...extraArgs]
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  watchdog.track(child.pid, port)

  // Keep only the end of the output, for the error message if startup fails.
  let output = ''
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)

  let exitInfo: string | undefined
  let spawnError: Error | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err // e.g. ENOENT when redis-server is not installed
      resolve()
    })
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `code ${code}`
      watchdog.track(0, port)
      resolve()
    })
  })

  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (spawnError) {
      throw new Error(`could not run redis-server: ${spawnError.message} (is it installed and on PATH?)`)
    }
    if (exitInfo) {
      throw new Error(`redis-server on port ${port} exited with ${exitInfo} during startup:\n${output}`)
    }
    if (await isServing(port, child.pid)) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      await exited
      throw new Error(`redis-server on port ${port} did not answer within ${START_TIMEOUT_MS} ms:\n${output}`)
    }
    await sleep(50)
  }

  // A running server must not keep a test worker alive on its own; the
  // watchdog kills it once the worker has gone.
  child.unref()
  ;(child.stdout as net.Socket | null)?.unref()
  ;(child.stderr as net.Socket | null)?.unref()
  return { child, exited }
}

async function terminate(proc: RunningProcess): Promise<void> {
  const { child, exited } = proc
  if (child.exitCode !== null || child.signalCode !== null) return
  child.ref() // keep the event loop alive while we wait for the exit
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  await exited
  clearTimeout(timer)
}

/** Starts redis-server and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const args = options.args ?? []
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sessionvault-redis-'))
  // Only a dir we created is removed once this process is gone.
  const watchdog = new Watchdog(options.dir === undefined ? dir : '')

  // Another process can grab a port between our check and redis binding it;
  // when we chose the port ourselves, try a fresh one.
  let port = options.port ?? (await freePort())
  let current: RunningProcess
  for (let attempt = 1; ; attempt++) {
    try {
      current = await launch(port, dir, args, watchdog)
      break
    } catch (err) {
      const portClash = err instanceof Error && /address already in use/i.test(err.message)
      if (options.port !== undefined || !portClash || attempt >= 3) throw err
      port = await freePort()
    }
  }

  const fixedPort = port
  return handle(fixedPort, current, () => launch(fixedPort, dir, args, watchdog))
}

/** A handle on a running process that `relaunch` can start again on the same port. */
function handle(port: number, first: RunningProcess, relaunch: () => Promise<RunningProcess>): RedisServerHandle {
  let current = first
  return {
    port,
    url: `redis://${HOST}:${port}`,
    get pid() {
      return current.child.pid ?? -1
    },
    stop: () => terminate(current),
    async restart() {
      await terminate(current)
      current = await relaunch()
    },
  }
}

// ---------------------------------------------------------------------------
// Sentinel

/** Starts a sentinel process from `configText` (written to its own writable config file) on `port`. */
async function startSentinelProcess(port: number, configText: string): Promise<RedisServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionvault-sentinel-'))
  const config = join(dir, 'sentinel.conf')
  writeFileSync(config, configText)
  const watchdog = new Watchdog(dir)
  const relaunch = () => launch(port, dir, [], watchdog, config)
  return handle(port, await relaunch(), relaunch)
}

/** Starts a Redis Sentinel that monitors the master on `masterPort` under `name` (quorum 1). */
export async function startRedisSentinel(masterPort: number, name: string): Promise<RedisServerHandle> {
  return startSentinelProcess(
    await freePort(),
    `sentinel monitor ${name} ${HOST} ${masterPort} 1\nsentinel down-after-milliseconds ${name} 5000\n`,
  )
}

/** A replica syncs at once: by default a master waits 5 s for more replicas before a full sync. */
const REPLICATION_ARGS = ['--repl-diskless-sync-delay', '0']

export interface SentinelDeploymentOptions {
  /** The name sentinels know the master by. @default 'sessionvault' */
  name?: string
  /** Extra redis-server arguments for the master and the replica, appended last. */
  args?: string[]
  /** Milliseconds without a valid reply before a sentinel deems a node down. @default 1000 */
  downAfterMs?: number
  /** Sentinel's failover-timeout, in milliseconds. @default 2000 */
  failoverTimeoutMs?: number
  /**
   * The port through which the sentinels and the other node reach a node that listens on `port`:
   * a proxy the caller can cut, for a partition. Nodes announce it as their own.
   * @default the node's own port
   */
  reachVia?: (port: number) => Promise<number> | number
}

export interface SentinelDeploymentHandle {
  readonly name: string
  /** The first master, then its replica, in that order whatever their roles have become. */
  readonly nodes: readonly RedisServerHandle[]
  /** The port through which the others reach each node of `nodes` (its own port unless `reachVia` said otherwise). */
  readonly reachPorts: readonly number[]
  readonly sentinels: readonly RedisServerHandle[]
  /** For node-redis's `createSentinel({ sentinelRootNodes })`. */
  readonly sentinelRootNodes: { host: string; port: number }[]
  /** Stops the sentinels, then the nodes. */
  stop(): Promise<void>
}

/**
 * Starts 1 master, 1 replica and 3 sentinels (quorum 2) with short timeouts, so a failover takes
 * a few seconds, and resolves once the replica is in sync and every sentinel knows the replica
 * and the two other sentinels.
 */
export async function startSentinelDeployment(options: SentinelDeploymentOptions = {}): Promise<SentinelDeploymentHandle> {
  const name = options.name ?? 'sessionvault'
  const downAfterMs = options.downAfterMs ?? 1_000
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 2_000
  const args = options.args ?? []
  const ports: [number, number] = [await freePort(), await freePort()]
  const reachPorts = await Promise.all(ports.map(async (port) => (options.reachVia ? await options.reachVia(port) : port)))
  // Each node announces the port the others reach it by, so sentinels hand that one out.
  const announce = (i: number): string[] => [
    '--replica-announce-ip',
    HOST,
    '--replica-announce-port',
    String(reachPorts[i]),
    ...REPLICATION_ARGS,
  ]
  const nodes: RedisServerHandle[] = []
  const sentinels: RedisServerHandle[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(sentinels.map((s) => s.stop()))
    await Promise.all(nodes.map((n) => n.stop()))
  }
  try {
    nodes.push(await startRedisServer({ port: ports[0], args: [...announce(0), ...args] }))
    nodes.push(await startRedisServer({ port: ports[1], args: [...announce(1), '--replicaof', HOST, String(reachPorts[0]), ...args] }))
    await waitFor(async () => (await redisInfo(ports[1], 'replication'))['master_link_status'] === 'up', 'the replica to sync')

    // Each sentinel is told of the replica and of the others up front: found by their hello
    // messages (every 2 s) and the master's INFO (every 10 s), they would take seconds more.
    const peers = await Promise.all([0, 1, 2].map(async () => ({ port: await freePort(), id: randomBytes(20).toString('hex') })))
    for (const self of peers) {
      const config = [
        `sentinel myid ${self.id}`,
        `sentinel monitor ${name} ${HOST} ${reachPorts[0]} 2`,
        `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
        `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`,
        `sentinel known-replica ${name} ${HOST} ${reachPorts[1]}`,
        ...peers.filter((peer) => peer !== self).map((peer) => `sentinel known-sentinel ${name} ${HOST} ${peer.port} ${peer.id}`),
        '',
      ].join('\n')
      sentinels.push(await startSentinelProcess(self.port, config))
    }
    await waitFor(async () => {
      for (const sentinel of sentinels) {
        const replicas = await redisCli(sentinel.port, 'SENTINEL', 'REPLICAS', name)
        const others = await redisCli(sentinel.port, 'SENTINEL', 'SENTINELS', name)
        if (!replicas.includes(String(reachPorts[1])) || others.split('\n').filter((line) => line === 'runid').length !== 2) return false
      }
      return true
    }, 'every sentinel to know the replica and the other sentinels')
  } catch (err) {
    await stop()
    throw err
  }
  return {
    name,
    nodes,
    reachPorts,
    sentinels,
    sentinelRootNodes: sentinels.map((s) => ({ host: HOST, port: s.port })),
    stop,
  }
}

/** INFO `section` of the server on `port`, as key → value. */
export async function redisInfo(port: number, section: string): Promise<Record<string, string>> {
  const info: Record<string, string> = {}
  for (const line of (await redisCli(port, 'INFO', section)).split(/\r?\n/)) {
    const at = line.indexOf(':')
    if (at > 0) info[line.slice(0, at)] = line.slice(at + 1).trim()
  }
  return info
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = CLUSTER_READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(100)
  }
}

// ---------------------------------------------------------------------------
// Cluster

async function clusterInfo(port: number): Promise<Record<string, string>> {
  const text = await redisCli(port, 'CLUSTER', 'INFO')
  const info: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const [key, value] = line.split(':')
    if (key && value !== undefined) info[key] = value.trim()
  }
  return info
}

export interface RedisClusterOptions {
  /** How many masters. @default 3 */
  masters?: number
  /** Replicas of each master. @default 0 */
  replicasPerMaster?: number
  /** cluster-node-timeout, in milliseconds: how long a node may not answer before it is deemed failing. @default 5000 */
  nodeTimeoutMs?: number
  /** Extra redis-server arguments for every node, appended last. */
  args?: string[]
}

/**
 * Starts `masters` cluster-enabled servers and `replicasPerMaster` replicas of each, joins them
 * with `redis-cli --cluster create`, and resolves once every node reports cluster_state:ok with
 * all 16384 slots assigned, knows every other node, and every replica is in sync.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3
  if (masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters')
  // Ports are checked before redis binds them, so a parallel test run can
  // take one in between; pick new ports then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(masters, options.replicasPerMaster ?? 0, options.nodeTimeoutMs ?? 5_000, options.args ?? [])
    } catch (err) {
      const portClash = err instanceof Error && /address already in use/i.test(err.message)
      if (!portClash || attempt >= 3) throw err
    }
  }
}

async function startClusterOnce(
  masters: number,
  replicasPerMaster: number,
  nodeTimeoutMs: number,
  extraArgs: string[],
): Promise<RedisClusterHandle> {
  const ports: number[] = []
  const taken = new Set<number>()
  const total = masters * (1 + replicasPerMaster)
  for (let i = 0; i < total; i++) {
    const port = await freeClusterPort(taken)
    ports.push(port)
    taken.add(port).add(port + CLUSTER_BUS_OFFSET)
  }

  const started = await Promise.allSettled(
    ports.map((port) =>
      startRedisServer({
        port,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          ...REPLICATION_ARGS,
          ...extraArgs,
        ],
      }),
    ),
  )
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()))
  }

  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason

    await execFileAsync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'],
      { timeout: CLUSTER_READY_TIMEOUT_MS },
    )

    const deadline = Date.now() + CLUSTER_READY_TIMEOUT_MS
    for (;;) {
      const infos = await Promise.all(ports.map((p) => clusterInfo(p)))
      const ready = infos.every(
        (info) =>
          info['cluster_state'] === 'ok' && info['cluster_slots_assigned'] === '16384' && info['cluster_known_nodes'] === String(total),
      )
      const synced = async (): Promise<boolean> => {
        for (const port of ports) {
          const replication = await redisInfo(port, 'replication')
          if (replication['role'] === 'slave' && replication['master_link_status'] !== 'up') return false
        }
        return true
      }
      if (ready && (await synced())) break
      if (Date.now() > deadline) {
        throw new Error(`redis cluster on ports ${ports.join(',')} not ready: ${JSON.stringify(infos)}`)
      }
      await sleep(100)
    }
  } catch (err) {
    await stop()
    throw err
  }

  return {
    nodes: ports.map((port) => ({ host: HOST, port })),
    rootNodes: ports.map((port) => `redis://${HOST}:${port}`).join(','),
    servers,
    stop,
  }
}
