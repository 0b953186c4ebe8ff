/** Checks of what Redis sent back: pure, no I/O. */
import type { CacheErrorContext } from '../errors'
import { unexpectedReply } from './redis-errors'

/** A bulk string as text (node-redis may hand a Buffer); anything else is `fail()`. */
export function asText(reply: unknown, fail: () => Error): string {
  if (typeof reply === 'string') return reply
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  throw fail()
}

/** One index's page from the LIST script: its cursor, its members, their values (when read). */
export function listPage(page: unknown, context: CacheErrorContext): [string, string[], (string | undefined)[]] {
  if (Array.isArray(page) && page.length === 3 && Array.isArray(page[1]) && Array.isArray(page[2])) {
    const cursor = asText(page[0], () => unexpectedReply(context, 'a cursor'))
    const members = (page[1] as unknown[]).map((member) => asText(member, () => unexpectedReply(context, 'an index member')))
    const values = (page[2] as unknown[]).map((value) =>
      value === null || value === false ? undefined : asText(value, () => unexpectedReply(context, 'a value')),
    )
    return [cursor, members, values]
  }
  throw unexpectedReply(context, 'a LIST page')
}
