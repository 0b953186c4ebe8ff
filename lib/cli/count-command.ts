/** `sessionvault count`: the namespace's keys by kind, live records and tombstones apart. */
import type { CommandResult } from './command-result'
import type { NamespaceScan } from './namespace-scan'
import { RECORD_KINDS, type RecordKind } from './stored-keys'
import { formatTable } from './table'

export async function countCommand(scan: NamespaceScan): Promise<CommandResult> {
  const details = await scan.details(await scan.keys())
  const kinds = Object.fromEntries(RECORD_KINDS.map((kind) => [kind, { live: 0, ended: 0 }])) as Record<
    RecordKind,
    { live: number; ended: number }
  >
  for (const record of details) kinds[record.kind][record.tombstone ? 'ended' : 'live']++
  const json = { namespace: scan.namespace, keys: details.length, kinds }
  const rows = RECORD_KINDS.map((kind) => [kind, kinds[kind].live, kinds[kind].ended])
  return { json, text: `${formatTable(['KIND', 'LIVE', 'ENDED'], rows)}\n\n${details.length} keys in namespace '${scan.namespace}'` }
}
