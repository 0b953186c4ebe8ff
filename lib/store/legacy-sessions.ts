/**
 * Sessions connect-redis wrote: plain keys `<legacyPrefix><sid>` holding the serialized session,
 * with a TTL in seconds (or none, with its `disableTTL`). Read once, then removed, on migration.
 */
import { RedisConnection, type RedisClient } from '../cache/redis-connection'
import { toCacheError, unexpectedReply } from '../cache/redis-errors'

export interface LegacySession {
  text: string
  /** What is left of its TTL in milliseconds; undefined when the key never expires. */
  ttlMs: number | undefined
}

export class LegacySessions {
  private readonly connection: RedisConnection

  constructor(
    client: RedisClient,
    private readonly prefix: string,
    commandTimeoutMs: number,
  ) {
    this.connection = new RedisConnection(client, commandTimeoutMs)
  }

  async read(sid: string): Promise<LegacySession | undefined> {
    const key = this.prefix + sid
    const context = { operation: 'store.migrate', commands: ['GET', 'PTTL'] }
    let replies: [unknown, unknown]
    try {
      replies = await Promise.all([this.connection.send(['GET', key], key, true), this.connection.send(['PTTL', key], key, true)])
    } catch (error) {
      throw toCacheError(error, context)
    }
    const [text, pttl] = replies
    if (text === null || pttl === -2) return undefined
    if (typeof pttl !== 'number') throw unexpectedReply(context, 'a TTL in milliseconds')
    const value = Buffer.isBuffer(text) ? text.toString('utf8') : text
    if (typeof value !== 'string') throw unexpectedReply(context, 'a string or nil')
    return { text: value, ttlMs: pttl === -1 ? undefined : pttl }
  }

  async remove(sid: string): Promise<void> {
    const key = this.prefix + sid
    try {
      await this.connection.send(['DEL', key], key, false)
    } catch (error) {
      throw toCacheError(error, { operation: 'store.migrate', commands: ['DEL'] })
    }
  }
}
