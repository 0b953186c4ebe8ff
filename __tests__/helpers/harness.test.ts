// Checks the Redis test harness itself: the servers from globalSetup answer, a server
// restarted by a test comes back on the same port, and a server's watchdog kills nothing else.
import { spawn } from 'node:child_process'
import { createClient, createCluster } from 'redis'
import { clusterRootNodes, redisUrl } from './env'
import { eventually, sleep } from './waiting'
import { redisCli, startRedisServer, WATCHDOG_SCRIPT, type RedisServerHandle } from '../../scripts/redis-server'

describe('redis test harness', () => {
  test('standalone server from globalSetup answers PING', async () => {
    const client = createClient({ url: redisUrl() })
    await client.connect()
    try {
      expect(await client.ping()).toBe('PONG')
    } finally {
      client.destroy()
    }
  })

  test('cluster from globalSetup is healthy and routes keys', async () => {
    const rootNodes = clusterRootNodes()
    expect(rootNodes.length).toBeGreaterThanOrEqual(3)

    const cluster = createCluster({ rootNodes })
    await cluster.connect()
    try {
      const info = await cluster.sendCommand<string>(undefined, true, ['CLUSTER', 'INFO'])
      expect(info).toContain('cluster_state:ok')

      // Keys in different slots end up on different masters.
      const keys = ['harness:a', 'harness:b', 'harness:c', 'harness:d']
      for (const key of keys) await cluster.set(key, `value of ${key}`, { EX: 60 })
      for (const key of keys) expect(await cluster.get(key)).toBe(`value of ${key}`)
      await Promise.all(keys.map((key) => cluster.del(key)))
    } finally {
      cluster.destroy()
    }
  })

  describe('startRedisServer', () => {
    let server: RedisServerHandle | undefined
    afterEach(async () => {
      await server?.stop()
    })

    test('restart() comes back on the same port', async () => {
      server = await startRedisServer()
      const { port, url } = server
      const firstPid = server.pid
      expect(url).toBe(`redis://127.0.0.1:${port}`)
      expect(await redisCli(port, 'PING')).toBe('PONG')

      await server.stop()
      await expect(redisCli(port, 'PING')).rejects.toThrow(/Connection refused/)

      await server.restart()
      expect(server.port).toBe(port)
      expect(server.pid).not.toBe(firstPid)
      expect(await redisCli(port, 'PING')).toBe('PONG')
    })

    test('extra args override the defaults', async () => {
      server = await startRedisServer({ args: ['--appendonly', 'yes'] })
      expect(await redisCli(server.port, 'CONFIG', 'GET', 'appendonly')).toBe('appendonly\nyes')
    })
  })
})

/**
 * The watchdog that kills a server once the process that started it is gone: it kills the last
 * pid it was told only while that pid is still the redis-server of its port. Pids are reused (a
 * suite starts thousands of processes, and pid_max may be 32768): a stale pid must not take down
 * another test's server, or anything else.
 */
describe('the watchdog', () => {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }

  /** Runs the watchdog, tells it `line`, then closes its stdin, as the end of the process that started a server does. */
  async function watchdogEnds(line: string): Promise<void> {
    const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'watchdog', ''], { stdio: ['pipe', 'ignore', 'ignore'] })
    const exited = new Promise((resolve) => watchdog.once('exit', resolve))
    watchdog.stdin.end(`${line}\n`)
    await exited
  }

  test('kills the redis-server of the port it was told, once its stdin closes', async () => {
    const server = await startRedisServer()
    try {
      await watchdogEnds(`${server.pid} ${server.port}`)
      await eventually(() => !alive(server.pid), 5_000, 'the server to be killed')
    } finally {
      await server.stop()
    }
  })

  test('leaves alone a process that now has the pid: another port, or not a redis-server at all', async () => {
    const server = await startRedisServer()
    const sleeper = spawn('sleep', ['30'])
    try {
      await watchdogEnds(`${server.pid} ${server.port + 1}`)
      await watchdogEnds(`${sleeper.pid as number} ${server.port}`)
      await sleep(200)
      expect([alive(server.pid), alive(sleeper.pid as number)]).toEqual([true, true])
    } finally {
      sleeper.kill('SIGKILL')
      await server.stop()
    }
  })
})
