// Checks the Redis test harness itself: the servers from globalSetup answer,
// and a server restarted by a test comes back on the same port.
import { createClient, createCluster } from 'redis'
import { clusterRootNodes, redisUrl } from './env'
import { redisCli, startRedisServer, type RedisServerHandle } from '../../scripts/redis-server'

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
