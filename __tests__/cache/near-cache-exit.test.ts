/**
 * The near-cache's own connection does not keep the process alive: an app that closes its
 * client but forgets `store.close()` (or `cache.close()`) still exits, on a single Redis and on
 * Cluster. On Sentinel, where node-redis offers no way to unref a connection, the process exits
 * once the store is closed (README, "Near-cache").
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { startRedisSentinel, startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'
import { clusterRootNodes, redisUrl } from '../helpers/env'

const ROOT = join(__dirname, '../..')
/** How long the child may take to exit once it printed `done`: no timer or socket of ours should be left. */
const EXIT_WITHIN_MS = 5_000

interface Run {
  /** Milliseconds from `done` to the child's exit; undefined when it had to be killed. */
  exitedAfterMs: number | undefined
  code: number | null
  stderr: string
}

function runApp(kind: string, where: string, closing: 'close' | 'leave'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, 'near-cache-exit-app.ts'), kind, where, closing],
      { cwd: ROOT },
    )
    let stdout = ''
    let stderr = ''
    let doneAt: number | undefined
    let killed = false
    // Bounded: starting (ts-node) and the reads get 25 s, the exit after `done` EXIT_WITHIN_MS.
    let timer = setTimeout(() => ((killed = true), child.kill('SIGKILL')), 25_000)
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (doneAt === undefined && stdout.includes('done')) {
        doneAt = performance.now()
        clearTimeout(timer)
        timer = setTimeout(() => ((killed = true), child.kill('SIGKILL')), EXIT_WITHIN_MS)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      const exitedAfterMs = killed || doneAt === undefined ? undefined : performance.now() - doneAt
      resolve({ exitedAfterMs, code, stderr })
    })
  })
}

test('on a single Redis, the process exits without store.close()', async () => {
  const run = await runApp('standalone', redisUrl(), 'leave')
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  expect(run.exitedAfterMs).toBeLessThan(EXIT_WITHIN_MS)
}, 40_000)

test('on Redis Cluster, the process exits without store.close()', async () => {
  const run = await runApp(
    'cluster',
    clusterRootNodes()
      .map((node) => node.url)
      .join(','),
    'leave',
  )
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  expect(run.exitedAfterMs).toBeLessThan(EXIT_WITHIN_MS)
}, 40_000)

describe('on Sentinel', () => {
  let master: RedisServerHandle
  let sentinel: RedisServerHandle
  beforeAll(async () => {
    master = await startRedisServer()
    sentinel = await startRedisSentinel(master.port, 'sessionvault')
  })
  afterAll(async () => {
    await sentinel.stop()
    await master.stop()
  })

  test('the process exits once the store is closed', async () => {
    const run = await runApp('sentinel', `127.0.0.1:${sentinel.port}`, 'close')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.exitedAfterMs).toBeLessThan(EXIT_WITHIN_MS)
  }, 40_000)
})
