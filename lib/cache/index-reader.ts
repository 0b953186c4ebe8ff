/**
 * Listings on Redis: the home indexes a match can reach (one bucket, or every bucket of its
 * prefix; see redis-layout.ts), read one script per slot, with the values when asked, and paged
 * by ZSCAN when an index is large. Errors are the caller's to wrap.
 */
import type { KeyPart, MatchPart } from './key'
import { decodePart, keyMatches, sortByKey } from './key-codec'
import type { RedisConnection } from './redis-connection'
import { unexpectedReply } from './redis-errors'
import type { IndexToRead, RedisLayout } from './redis-layout'
import { listPage } from './redis-replies'
import { COUNT_SCRIPT } from './lua/count'
import { LIST_SCRIPT } from './lua/list'
import { readStoredText } from './stored-text'
import { bySlot } from './write-plan'

/** A key a listing found, and its stored text when values were read. */
export interface FoundRecord {
  key: KeyPart[]
  text: string | undefined
}

export class IndexReader {
  constructor(
    private readonly connection: RedisConnection,
    private readonly layout: RedisLayout,
    private readonly scanPageSize: number,
  ) {}

  /**
   * The live keys that match, with their stored texts when `withValues` (tombstones and keys
   * whose value is gone are left out): pruned, ZSCAN's repeats dropped, filtered, sorted.
   */
  async find(pattern: MatchPart[], operation: string, withValues: boolean): Promise<FoundRecord[]> {
    const above = pattern.slice(0, Math.min(this.layout.tagDepth, pattern.length) - 1) as KeyPart[]
    const indexes = this.layout.indexesFor(pattern, operation)
    const pages = await Promise.all(this.bySlot(indexes).map((group) => this.readIndexes(group, withValues, operation)))
    const found = new Map<string, FoundRecord>()
    for (const page of pages) {
      for (const { member, text } of page) {
        if (found.has(member)) continue
        const key = above.slice()
        for (const segment of member.split(':')) key.push(decodePart(segment, operation))
        if (keyMatches(pattern, key)) found.set(member, { key, text })
      }
    }
    return sortByKey([...found.values()], (item) => item.key)
  }

  /** Live members of `indexes` with `segments` parts (`0`: any), counted inside Redis: no key crosses the network. */
  async count(indexes: IndexToRead[], segments: number, operation: string): Promise<number> {
    const counts = await Promise.all(
      this.bySlot(indexes).map(async (group) => {
        // Members under a prefix share it: count them all, or match the prefix and length in Redis.
        const prefix = group[0]?.memberPrefix ?? ''
        const reply = await this.connection.evalScript(
          COUNT_SCRIPT,
          group.map((index) => index.indexKey),
          [prefix, String(segments)],
        )
        if (typeof reply !== 'number') throw unexpectedReply({ operation, commands: ['EVALSHA count'] }, 'a count')
        return reply
      }),
    )
    return counts.reduce((sum, count) => sum + count, 0)
  }

  private bySlot(indexes: IndexToRead[]): IndexToRead[][] {
    return bySlot(
      indexes.map((index) => ({ ...index, valueKey: index.indexKey })),
      this.connection.isCluster,
    )
  }

  /** Every live member of some indexes of one slot, with values when asked: LIST calls until each index's cursor is back to 0. */
  private async readIndexes(
    indexes: IndexToRead[],
    withValues: boolean,
    operation: string,
  ): Promise<{ member: string; text: string | undefined }[]> {
    const context = { operation, commands: ['EVALSHA list', 'ZSCAN', ...(withValues ? ['MGET'] : [])] }
    const found: { member: string; text: string | undefined }[] = []
    let pending = indexes.map((index) => ({ index, cursor: '0' }))
    while (pending.length > 0) {
      const args = [String(this.scanPageSize), withValues ? '1' : '']
      for (const { index, cursor } of pending) args.push(index.memberPrefix, index.valueKeyPrefix, cursor)
      const reply = await this.connection.evalScript(
        LIST_SCRIPT,
        pending.map(({ index }) => index.indexKey),
        args,
      )
      if (!Array.isArray(reply) || reply.length !== pending.length + 1) throw unexpectedReply(context, 'one page per index')
      const next: typeof pending = []
      pending.forEach((item, i) => {
        const [cursor, members, values] = listPage(reply[i + 1], context)
        members.forEach((member, j) => {
          const value = values[j]
          if (!withValues) found.push({ member, text: undefined })
          else if (typeof value === 'string' && readStoredText(value).kind !== 'tombstone') found.push({ member, text: value })
        })
        if (cursor !== '0') next.push({ index: item.index, cursor })
      })
      pending = next
    }
    return found
  }
}
