// Throwaway redis-server processes for tests, benchmarks and examples: one standalone server or a small
// cluster, each on free ports with its own temp dir and no persistence.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const CLUSTER_READY_TIMEOUT_MS = 20_000;
// Redis cluster nodes also listen on port + 10000 (the cluster bus).
const CLUSTER_BUS_OFFSET = 10_000;

export interface RedisServerOptions {
  /** Extra redis-server arguments, appended last so they override the defaults. */
  args?: string[];
  /** Working directory for the server; a fresh temp dir when omitted. */
  dir?: string;
  /** Port to listen on; a free one when omitted. */
  port?: number;
}

export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  /** Pid of the current process; changes after restart(). */
  readonly pid: number;
  /** SIGTERM, wait for exit, SIGKILL after 5s. Safe to call when already stopped. */
  stop(): Promise<void>;
  /** Stop (if running) and start again on the same port, dir and args. */
  restart(): Promise<void>;
}

export interface RedisClusterHandle {
  readonly nodes: { host: string; port: number }[];
  /** Comma-separated node URLs, e.g. 'redis://127.0.0.1:P1,redis://127.0.0.1:P2'. */
  readonly rootNodes: string;
  /** One handle per node, for tests that stop or restart a single node. */
  readonly servers: RedisServerHandle[];
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Safety net. Jest hands tests a copy of `process` whose 'exit' listeners never
// fire, and a SIGKILLed worker runs no handlers at all, so each server gets a
// tiny watchdog shell instead: we write it the pid of the running redis-server
// (0 once it has exited) and it reads until its stdin closes, which happens
// whenever this process ends, however it ends. It then kills the last pid and
// removes the temp dir.

const WATCHDOG_SCRIPT = `
last=0
while read -r line; do last=$line; done
if [ "$last" != 0 ]; then kill -9 "$last" 2>/dev/null; fi
if [ -n "$1" ]; then rm -rf "$1"; fi
`;

class Watchdog {
  private readonly child: ChildProcess;

  constructor(tempDirToRemove: string) {
    this.child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'watchdog', tempDirToRemove], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // It must not keep the event loop (and so a test worker) alive.
    this.child.unref();
    (this.child.stdin as net.Socket | null)?.unref();
  }

  track(pid: number | undefined): void {
    this.child.stdin?.write(`${pid ?? 0}\n`);
  }
}

// ---------------------------------------------------------------------------
// Ports

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A port that is free on 127.0.0.1 right now (chosen by the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A port P where both P and the cluster bus port P + 10000 are free. */
export async function freeClusterPort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Stay below the usual ephemeral range (32768+) for P so fewer collisions
    // with outgoing connections; the bus port must stay <= 65535.
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (exclude.has(port) || exclude.has(port + CLUSTER_BUS_OFFSET)) continue;
    if ((await canListen(port)) && (await canListen(port + CLUSTER_BUS_OFFSET))) return port;
  }
  throw new Error('could not find a free port pair for a redis cluster node');
}

// ---------------------------------------------------------------------------
// Talking to redis without a client library

/** Runs redis-cli against 127.0.0.1:port and returns its stdout (trailing newline trimmed). */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', ['-h', HOST, '-p', String(port), ...args], {
    timeout: 30_000,
  });
  return stdout.replace(/\r?\n$/, '');
}

/**
 * True once the server on `port` answers PING (not -LOADING) and is process
 * `pid`: another server already on that port must not pass for ours.
 * Uses inline commands over raw TCP, so no client library is needed.
 */
function isServing(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const match = /process_id:(\d+)\r\n/.exec(reply);
      if (match) done(reply.startsWith('+PONG\r\n') && Number(match[1]) === pid);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Standalone server

interface RunningProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

const OUTPUT_TAIL_CHARS = 4_000;

async function launch(port: number, dir: string, extraArgs: string[], watchdog: Watchdog, sentinelConfig?: string): Promise<RunningProcess> {
  // A sentinel takes its (writable) config file first and knows no persistence options.
  const args = sentinelConfig
    ? [sentinelConfig, '--sentinel', '--port', String(port), '--bind', HOST, '--daemonize', 'no', '--dir', dir, ...extraArgs]
    : [
        '--port', String(port),
        '--bind', HOST,
        '--save', '',
        '--appendonly', 'no',
        '--daemonize', 'no',
        '--dir', dir,
        ...extraArgs,
      ];
  const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  watchdog.track(child.pid);

  // Keep only the end of the output, for the error message if startup fails.
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exitInfo: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err; // e.g. ENOENT when redis-server is not installed
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      watchdog.track(0);
      resolve();
    });
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      throw new Error(`could not run redis-server: ${spawnError.message} (is it installed and on PATH?)`);
    }
    if (exitInfo) {
      throw new Error(`redis-server on port ${port} exited with ${exitInfo} during startup:\n${output}`);
    }
    if (await isServing(port, child.pid)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`redis-server on port ${port} did not answer within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(50);
  }

  // A running server must not keep a test worker alive on its own; the
  // watchdog kills it once the worker has gone.
  child.unref();
  (child.stdout as net.Socket | null)?.unref();
  (child.stderr as net.Socket | null)?.unref();
  return { child, exited };
}

async function terminate(proc: RunningProcess): Promise<void> {
  const { child, exited } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.ref(); // keep the event loop alive while we wait for the exit
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts redis-server and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const args = options.args ?? [];
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sessionvault-redis-'));
  // Only a dir we created is removed once this process is gone.
  const watchdog = new Watchdog(options.dir === undefined ? dir : '');

  // Another process can grab a port between our check and redis binding it;
  // when we chose the port ourselves, try a fresh one.
  let port = options.port ?? (await freePort());
  let current: RunningProcess;
  for (let attempt = 1; ; attempt++) {
    try {
      current = await launch(port, dir, args, watchdog);
      break;
    } catch (err) {
      const portClash = err instanceof Error && /address already in use/i.test(err.message);
      if (options.port !== undefined || !portClash || attempt >= 3) throw err;
      port = await freePort();
    }
  }

  const fixedPort = port;
  return handle(fixedPort, current, () => launch(fixedPort, dir, args, watchdog));
}

/** A handle on a running process that `relaunch` can start again on the same port. */
function handle(port: number, first: RunningProcess, relaunch: () => Promise<RunningProcess>): RedisServerHandle {
  let current = first;
  return {
    port,
    url: `redis://${HOST}:${port}`,
    get pid() {
      return current.child.pid ?? -1;
    },
    stop: () => terminate(current),
    async restart() {
      await terminate(current);
      current = await relaunch();
    },
  };
}

// ---------------------------------------------------------------------------
// Sentinel

/** Starts a Redis Sentinel that monitors the master on `masterPort` under `name` (quorum 1). */
export async function startRedisSentinel(masterPort: number, name: string): Promise<RedisServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionvault-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  writeFileSync(config, `sentinel monitor ${name} ${HOST} ${masterPort} 1\nsentinel down-after-milliseconds ${name} 5000\n`);
  const watchdog = new Watchdog(dir);
  const port = await freePort();
  const relaunch = () => launch(port, dir, [], watchdog, config);
  return handle(port, await relaunch(), relaunch);
}

// ---------------------------------------------------------------------------
// Cluster

async function clusterInfo(port: number): Promise<Record<string, string>> {
  const text = await redisCli(port, 'CLUSTER', 'INFO');
  const info: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const [key, value] = line.split(':');
    if (key && value !== undefined) info[key] = value.trim();
  }
  return info;
}

/**
 * Starts `masters` cluster-enabled servers (no replicas), joins them with
 * `redis-cli --cluster create`, and resolves once every node reports
 * cluster_state:ok with all 16384 slots assigned and knows every other node.
 */
export async function startRedisCluster(options: { masters?: number } = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters');
  // Ports are checked before redis binds them, so a parallel test run can
  // take one in between; pick new ports then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(masters);
    } catch (err) {
      const portClash = err instanceof Error && /address already in use/i.test(err.message);
      if (!portClash || attempt >= 3) throw err;
    }
  }
}

async function startClusterOnce(masters: number): Promise<RedisClusterHandle> {
  const ports: number[] = [];
  const taken = new Set<number>();
  for (let i = 0; i < masters; i++) {
    const port = await freeClusterPort(taken);
    ports.push(port);
    taken.add(port).add(port + CLUSTER_BUS_OFFSET);
  }

  const started = await Promise.allSettled(
    ports.map((port) =>
      startRedisServer({
        port,
        args: [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', '5000',
        ],
      }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };

  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    await execFileAsync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { timeout: CLUSTER_READY_TIMEOUT_MS },
    );

    const deadline = Date.now() + CLUSTER_READY_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(ports.map((p) => clusterInfo(p)));
      const ready = infos.every(
        (info) =>
          info['cluster_state'] === 'ok' &&
          info['cluster_slots_assigned'] === '16384' &&
          info['cluster_known_nodes'] === String(masters),
      );
      if (ready) break;
      if (Date.now() > deadline) {
        throw new Error(`redis cluster on ports ${ports.join(',')} not ready: ${JSON.stringify(infos)}`);
      }
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes: ports.map((port) => ({ host: HOST, port })),
    rootNodes: ports.map((port) => `redis://${HOST}:${port}`).join(','),
    servers,
    stop,
  };
}
