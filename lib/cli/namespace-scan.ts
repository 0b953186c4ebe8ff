/**
 * What the inspector reads of a namespace: its keys, found with `SCAN MATCH <namespace>:*` on
 * every server that holds keys (bounded: at most `MAX_SCANNED` names), then read in batches
 * (TTL, size, whether a value is a tombstone, memory). Never a value unless asked.
 */
import { adaptClient } from '../cache/clients/adapt-client'
import type { ClientAdapter } from '../cache/clients/client-adapter'
import { HEADER_LENGTH, TOMBSTONE_MARK } from '../cache/stored-text'
import type { InspectorConnection } from './connect'
import { readStoredKey, type StoredKey } from './stored-keys'

/** Most key names one run scans: enough for millions of sessions, and a bound on the run. */
export const MAX_SCANNED = 10_000_000
const SCAN_COUNT = '1000'
/** Keys read at once. */
const BATCH = 500

/** A record (or index) with what `list` shows of it. */
export interface RecordDetails extends StoredKey {
  /** Milliseconds left, as PTTL says; -1 for none. */
  ttlMs: number
  /** Bytes of the stored text (a value), or members (an index). */
  size: number
  /** A value whose header marks a destroyed record (see stored-text.ts). */
  tombstone: boolean
}

export class NamespaceScan {
  private readonly adapter: ClientAdapter

  constructor(
    private readonly connection: InspectorConnection,
    readonly namespace: string,
    timeoutMs: number,
  ) {
    this.adapter = adaptClient(connection.client, timeoutMs)
  }

  /** Every key of the namespace (its own: not those of a longer namespace under it), unsorted. */
  async keys(): Promise<StoredKey[]> {
    const found = new Map<string, StoredKey>()
    let scanned = 0
    for (const target of await this.connection.scanTargets()) {
      const node = adaptClient(target, 0)
      let cursor = '0'
      do {
        const reply = await node.send(['SCAN', cursor, 'MATCH', `${this.namespace}:*`, 'COUNT', SCAN_COUNT], undefined, true)
        const [next, names] = scanReply(reply)
        cursor = next
        for (const name of names) {
          const stored = readStoredKey(this.namespace, name)
          if (stored !== undefined) found.set(name, stored)
        }
        scanned += names.length
      } while (cursor !== '0' && scanned < MAX_SCANNED)
    }
    return [...found.values()]
  }

  /** TTL, size and tombstone mark of each key; keys gone meanwhile are left out. */
  async details(keys: readonly StoredKey[]): Promise<RecordDetails[]> {
    const read = await inBatches(keys, async (stored) => {
      const { name } = stored
      const [ttlMs, size, mark] = await Promise.all([
        this.adapter.send(['PTTL', name], name, true),
        this.adapter.send([stored.kind === 'index' ? 'ZCARD' : 'STRLEN', name], name, true),
        stored.kind === 'index'
          ? Promise.resolve('')
          : this.adapter.send(['GETRANGE', name, String(HEADER_LENGTH - 1), String(HEADER_LENGTH - 1)], name, true),
      ])
      if (ttlMs === -2) return undefined
      return { ...stored, ttlMs: Number(ttlMs), size: Number(size), tombstone: String(mark) === TOMBSTONE_MARK }
    })
    return read.filter((item): item is RecordDetails => item !== undefined)
  }

  /** Bytes Redis uses for each key (`MEMORY USAGE`); undefined for a key gone meanwhile. */
  memoryUsage(keys: readonly StoredKey[]): Promise<(number | undefined)[]> {
    return inBatches(keys, async ({ name }) => {
      const bytes = await this.adapter.send(['MEMORY', 'USAGE', name, 'SAMPLES', '0'], name, true)
      return typeof bytes === 'number' ? bytes : undefined
    })
  }

  /** The stored text of a value (for `--values`), without its header; undefined when gone. */
  async storedText(name: string): Promise<string | undefined> {
    const text = await this.adapter.send(['GET', name], name, true)
    if (typeof text !== 'string' && !Buffer.isBuffer(text)) return undefined
    return text.toString().slice(HEADER_LENGTH)
  }
}

function scanReply(reply: unknown): [string, string[]] {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1]))
    throw new Error('Redis answered SCAN with something that is not a page of keys')
  return [String(reply[0]), (reply[1] as unknown[]).map(String)]
}

async function inBatches<T, R>(items: readonly T[], each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  for (let i = 0; i < items.length; i += BATCH) results.push(...(await Promise.all(items.slice(i, i + BATCH).map(each))))
  return results
}
