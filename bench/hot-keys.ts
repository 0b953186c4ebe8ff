/**
 * Hot keys on Redis Cluster: many token logins on a private 3-master cluster, with a MONITOR on
 * every master counting each write command (a script's own writes included) by key and by master.
 * A key, or a master, that takes a large share of the writes is where a bigger cluster stops helping.
 */
import { createCluster, type RedisClientType } from 'redis'
import { startRedisCluster } from '../scripts/redis-server'
import { TOKEN_CACHE } from './bench-data'
import { commandTable, keysOf } from './command-table'
import { library } from './library'
import { logIn } from './logins'
import { Monitor } from './monitor'
import { inParallel } from './parallel'
import { connect } from './private-redis'
import { serve, tokenApp } from './sessions'

export interface HotKeysPlan {
  logins: number
  users: number
  limitMs: number
}

export interface HotKeys {
  logins: number
  users: number
  /** Write commands the masters ran. */
  writes: number
  /** Distinct keys written. */
  keys: number
  busiestKey: { key: string; writes: number; commands: Map<string, number> }
  /** Write commands per master. */
  perMaster: number[]
}

// HTTP logins through an app in this process.
const LOGINS_IN_FLIGHT = 50
const MASTERS = 3

export async function measureHotKeys(plan: HotKeysPlan, log: (line: string) => void): Promise<HotKeys> {
  const cluster = await startRedisCluster({ masters: MASTERS })
  const admins: RedisClientType[] = []
  const monitors: Monitor[] = []
  try {
    for (const { port } of cluster.nodes) admins.push(await connect(`redis://127.0.0.1:${port}`))
    const table = await commandTable(admins[0] as RedisClientType)
    const perMaster = cluster.nodes.map(() => 0)
    const perKey = new Map<string, { writes: number; commands: Map<string, number> }>()
    for (const [i, { port }] of cluster.nodes.entries()) {
      monitors.push(
        await Monitor.start(port, ({ args }) => {
          const name = args[0] ?? ''
          const spec = table.get(name)
          if (spec === undefined || !spec.write) return
          perMaster[i] = (perMaster[i] ?? 0) + 1
          for (const key of keysOf(spec, args)) {
            const entry = perKey.get(key) ?? { writes: 0, commands: new Map<string, number>() }
            entry.writes++
            entry.commands.set(name, (entry.commands.get(name) ?? 0) + 1)
            perKey.set(key, entry)
          }
        }),
      )
    }

    const client = createCluster({ rootNodes: cluster.nodes.map(({ port }) => ({ url: `redis://127.0.0.1:${port}` })) })
    client.on('error', (error: unknown) => console.error('bench: redis cluster error', error))
    await client.connect()
    const cache = new (library().RedisCache)({ client, ...TOKEN_CACHE })
    const app = await serve(tokenApp(cache))
    try {
      log(`hot keys: ${plan.logins} token logins of ${plan.users} users on a ${MASTERS}-master cluster, under MONITOR`)
      // Each login is a new device (no cookie sent), so each user ends with logins / users sessions.
      await inParallel(plan.logins, LOGINS_IN_FLIGHT, plan.limitMs, (n) => logIn(app.url, n % plan.users))
      await Promise.all(
        monitors.map((monitor, i) => monitor.sync('bench-hot-keys-done', () => (admins[i] as RedisClientType).echo('bench-hot-keys-done'))),
      )
    } finally {
      await app.close()
      await cache.close()
      await client.close()
    }

    const [key, busiest] = [...perKey].reduce(
      (top, entry) => (entry[1].writes > top[1].writes ? entry : top),
      ['', { writes: 0, commands: new Map<string, number>() }],
    )
    return {
      logins: plan.logins,
      users: plan.users,
      writes: perMaster.reduce((sum, count) => sum + count, 0),
      keys: perKey.size,
      busiestKey: { key, ...busiest },
      perMaster,
    }
  } finally {
    for (const monitor of monitors) monitor.close()
    await Promise.allSettled(admins.map((admin) => admin.close()))
    await cluster.stop()
  }
}
