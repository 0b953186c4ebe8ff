/**
 * `sessionvault memory`: bytes Redis uses per record kind. `MEMORY USAGE` of up to `--samples`
 * keys of each kind, scaled up to the kind's key count: exact when a kind has no more keys than that.
 */
import type { CliOptions } from './cli-options'
import type { CommandResult } from './command-result'
import type { NamespaceScan } from './namespace-scan'
import { RECORD_KINDS } from './stored-keys'
import { formatTable } from './table'

export async function memoryCommand(scan: NamespaceScan, options: CliOptions): Promise<CommandResult> {
  const keys = await scan.keys()
  const kinds = await Promise.all(
    RECORD_KINDS.map(async (kind) => {
      const ofKind = keys.filter((stored) => stored.kind === kind)
      const measured = (await scan.memoryUsage(ofKind.slice(0, options.samples))).filter((bytes): bytes is number => bytes !== undefined)
      const sampledBytes = measured.reduce((sum, bytes) => sum + bytes, 0)
      const averageBytes = measured.length === 0 ? 0 : Math.round(sampledBytes / measured.length)
      const bytes = measured.length === ofKind.length ? sampledBytes : averageBytes * ofKind.length
      return { kind, keys: ofKind.length, sampled: measured.length, averageBytes, bytes }
    }),
  )
  const totalBytes = kinds.reduce((sum, kind) => sum + kind.bytes, 0)
  const json = { namespace: scan.namespace, totalBytes, kinds: Object.fromEntries(kinds.map(({ kind, ...rest }) => [kind, rest])) }
  const rows = kinds.map((kind) => [kind.kind, kind.keys, kind.sampled, kind.averageBytes, kind.bytes])
  const text = `${formatTable(['KIND', 'KEYS', 'SAMPLED', 'AVG BYTES', 'BYTES'], rows)}\n\n${totalBytes} bytes in namespace '${scan.namespace}' (MEMORY USAGE; estimated where a kind has more than ${options.samples} keys)`
  return { json, text }
}
