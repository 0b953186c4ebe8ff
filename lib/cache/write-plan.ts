/**
 * What a write sends: pure functions from records to script calls (KEYS and ARGV), grouped so
 * that no call spans Redis Cluster slots. Unit-tested without Redis.
 */
import calculateSlot from 'cluster-key-slot'
import type { RecordCondition } from './cache-options'
import type { LuaScript } from './lua-script'
import type { IndexToRead, RecordPlace } from './redis-layout'
import { REMOVE_SCRIPT } from './lua/remove'
import { TOUCH_SCRIPT } from './lua/touch'
import { WRITE_SCRIPT } from './lua/write'

export interface PlannedPut {
  place: RecordPlace
  ttlMs: number
  /** The serialized value. */
  text: string
  /** Keep the record's current expiry when it is later than `ttlMs` from now. */
  extendOnly?: boolean
}

/** A condition on the first put of a write (putIf): on the record, and whether a tombstone refuses it. */
export interface WriteCondition {
  record: RecordCondition
  unlessDeleted: boolean
}

/** At most `max` records may remain under one home index's members starting with `memberPrefix`. */
export interface WriteLimit {
  max: number
  index: IndexToRead
}

export interface ScriptCall {
  script: LuaScript
  keys: string[]
  args: string[]
}

const NO_CONDITION: WriteCondition = { record: { kind: 'any' }, unlessDeleted: false }

/**
 * Puts and deletes: one WRITE call per slot (one in all on a single server); a slot with only
 * deletes gets a REMOVE call instead, which a full Redis still runs. On a cluster, the calls
 * holding puts come first, so a failure midway leaves records written rather than gone.
 */
export function writeCalls(
  puts: readonly PlannedPut[],
  deletes: readonly RecordPlace[],
  cluster: boolean,
  limit?: WriteLimit,
): ScriptCall[] {
  const slots = new Map<string, { puts: PlannedPut[]; deletes: RecordPlace[] }>()
  const groupOf = (place: RecordPlace) => {
    const slot = cluster ? String(calculateSlot(place.valueKey)) : 'all'
    let group = slots.get(slot)
    if (!group) slots.set(slot, (group = { puts: [], deletes: [] }))
    return group
  }
  for (const put of puts) groupOf(put.place).puts.push(put)
  for (const place of deletes) groupOf(place).deletes.push(place)
  // The limit goes with the write in its index's slot (the caller puts a record there).
  const limited = limit && groupOf({ valueKey: limit.index.indexKey, indexKey: '', member: '' })
  const groups = [...slots.values()].sort((a, b) => Number(b.puts.length > 0) - Number(a.puts.length > 0))
  return groups.map((group) =>
    group.puts.length === 0
      ? placesCall(REMOVE_SCRIPT, group.deletes, '0')
      : writeCall(group.puts, group.deletes, NO_CONDITION, group === limited ? limit : undefined),
  )
}

/**
 * One record written only if `condition` holds, with the records `alongWith` it: those in its
 * slot join its WRITE call (the last one), those elsewhere are written first, by their own calls.
 */
export function conditionalWriteCalls(
  put: PlannedPut,
  condition: WriteCondition,
  alongWith: readonly PlannedPut[],
  cluster: boolean,
): ScriptCall[] {
  const slot = cluster ? calculateSlot(put.place.valueKey) : 0
  const inSlot = alongWith.filter((other) => !cluster || calculateSlot(other.place.valueKey) === slot)
  const elsewhere = alongWith.filter((other) => !inSlot.includes(other))
  return [...writeCalls(elsewhere, [], cluster), writeCall([put, ...inSlot], [], condition)]
}

function writeCall(
  puts: readonly PlannedPut[],
  deletes: readonly RecordPlace[],
  condition: WriteCondition,
  limit?: WriteLimit,
): ScriptCall {
  const keys: string[] = []
  const { record, unlessDeleted } = condition
  const args = [
    record.kind === 'any' ? '' : record.kind,
    record.kind === 'equals' ? record.text : '',
    unlessDeleted ? '1' : '',
    String(puts.length),
    String(limit?.max ?? 0),
    limit?.index.memberPrefix ?? '',
    limit?.index.valueKeyPrefix ?? '',
  ]
  for (const { place, ttlMs, text, extendOnly } of puts) {
    keys.push(place.valueKey, place.indexKey)
    args.push(String(ttlMs), extendOnly === true ? '1' : '', place.member, text)
  }
  for (const place of deletes) {
    keys.push(place.valueKey, place.indexKey)
    args.push(place.member)
  }
  if (limit) keys.push(limit.index.indexKey)
  return { script: WRITE_SCRIPT, keys, args }
}

/** Deletes (optionally leaving tombstones): one REMOVE call per slot. */
export function removeCalls(places: readonly RecordPlace[], tombstoneMs: number, cluster: boolean): ScriptCall[] {
  return bySlot(places, cluster).map((group) => placesCall(REMOVE_SCRIPT, group, String(tombstoneMs)))
}

/** New TTLs for live records: one TOUCH call per slot. */
export function touchCalls(places: readonly RecordPlace[], ttlMs: number, cluster: boolean): ScriptCall[] {
  return bySlot(places, cluster).map((group) => placesCall(TOUCH_SCRIPT, group, String(ttlMs)))
}

function placesCall(script: LuaScript, places: readonly RecordPlace[], first: string): ScriptCall {
  const keys: string[] = []
  const args = [first]
  for (const place of places) {
    keys.push(place.valueKey, place.indexKey)
    args.push(place.member)
  }
  return { script, keys, args }
}

/** Items grouped by the cluster slot of their value key; one group on a single server. */
export function bySlot<T extends { valueKey: string }>(items: readonly T[], cluster: boolean): T[][] {
  if (!cluster) return items.length > 0 ? [[...items]] : []
  const groups = new Map<number, T[]>()
  for (const item of items) {
    const slot = calculateSlot(item.valueKey)
    const group = groups.get(slot)
    if (group) group.push(item)
    else groups.set(slot, [item])
  }
  return [...groups.values()]
}
