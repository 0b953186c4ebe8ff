/**
 * What one token login asks of Redis: the commands the app sends (its round trips, counted by a
 * MONITOR of a private redis-server, which shows a script's own commands apart, as `lua`).
 */
import { TOKEN_CACHE } from './bench-data'
import { library } from './library'
import { logIn } from './logins'
import { Monitor, type MonitoredCommand } from './monitor'
import { connect, withPrivateRedis } from './private-redis'
import { serve, tokenApp } from './sessions'

export interface LoginRoundTrips {
  /** The commands the app sent, in order (EVALSHA among them). */
  sent: string[]
  /** Commands run inside those scripts. */
  inScripts: number
}

/** Logs a new user in (after a first login has loaded the scripts), under MONITOR. */
export function measureLoginRoundTrips(): Promise<LoginRoundTrips> {
  return withPrivateRedis(async (server, admin) => {
    const client = await connect(server.url)
    const cache = new (library().RedisCache)({ client, ...TOKEN_CACHE })
    const app = await serve(tokenApp(cache))
    try {
      await logIn(app.url, 1)
      const seen: MonitoredCommand[] = []
      const monitor = await Monitor.start(server.port, (command) => seen.push(command))
      try {
        await logIn(app.url, 2)
        await monitor.sync('bench-login-done', () => admin.echo('bench-login-done'))
      } finally {
        monitor.close()
      }
      return {
        sent: seen.filter((command) => command.source !== 'lua').map((command) => command.args[0] ?? '?'),
        inScripts: seen.filter((command) => command.source === 'lua').length,
      }
    } finally {
      await app.close()
      await cache.close()
      await client.close()
    }
  })
}
