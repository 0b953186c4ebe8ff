/** `sessionvault list`: the namespace's records with decoded keys, kinds, TTLs and sizes. */
import { compareKeys } from '../cache/key-codec'
import type { CliOptions } from './cli-options'
import type { CommandResult } from './command-result'
import type { NamespaceScan } from './namespace-scan'
import { shownValue } from './shown-value'
import { keyMatches, parseMatch } from './stored-keys'
import { formatKey, formatTable, formatTtl } from './table'

export async function listCommand(scan: NamespaceScan, options: CliOptions): Promise<CommandResult> {
  const match = options.match === undefined ? undefined : parseMatch(options.match)
  const keys = (await scan.keys())
    .filter((stored) => stored.kind !== 'index' && (match === undefined || keyMatches(match, stored.key)))
    .sort((a, b) => compareKeys(a.key, b.key))
  const shown = await scan.details(keys.slice(0, options.limit))
  const records = await Promise.all(
    shown.map(async (record) => {
      const row = {
        key: record.key,
        kind: record.kind,
        state: record.tombstone ? 'ended' : 'live',
        ttlMs: record.ttlMs,
        bytes: record.size,
      }
      if (!options.values || record.tombstone) return row
      const text = await scan.storedText(record.name)
      return text === undefined ? row : { ...row, value: shownValue(record.kind, text) }
    }),
  )
  const json = { namespace: scan.namespace, total: keys.length, shown: records.length, records }
  const headers = ['KEY', 'KIND', 'STATE', 'TTL', 'BYTES', ...(options.values ? ['VALUE'] : [])]
  const rows = records.map((record) => [
    formatKey(record.key),
    record.kind,
    record.state,
    formatTtl(record.ttlMs),
    record.bytes,
    ...(options.values ? ['value' in record ? JSON.stringify(record.value) : ''] : []),
  ])
  const text = `${formatTable(headers, rows)}\n\n${records.length} of ${keys.length} records in namespace '${scan.namespace}'${records.length < keys.length ? ' (--limit to see more)' : ''}`
  return { json, text }
}
