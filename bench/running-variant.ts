/** A variant under load: its app process, the clients logged into it, and its own redis-server. */
import type { RedisClientType } from 'redis'
import type { AppProcess } from './app-process'
import type { LoggedIn } from './logins'

export interface RunningVariant {
  app: AppProcess
  /** The logged-in clients the load rotates over. */
  sessions: readonly LoggedIn[]
  /** A connection to the variant's own redis-server, for INFO; undefined for the variants without Redis. */
  redis: RedisClientType | undefined
}
