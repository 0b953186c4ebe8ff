/**
 * What a namespace holds in Redis, read past the proxies, and whether later reads could be
 * misled by it (README, "How the data is laid out in Redis"):
 *
 *   value key   <ns>:{tag}:<member>    `<13-digit expiry ms><'v' value | 'x' tombstone><value>`, PX to that expiry
 *   its index   <ns>:_i:{tag}          sorted set: member -> the record's expiry ms
 *
 * Every index member must have its value key, live (not a tombstone), whose header expiry is
 * the member's score: a listing trusts the index, and prunes by score. Every live value key must
 * have its index entry, or no listing (a device list, "sign out everywhere") would find it.
 */
import { scanKeys, type Send } from '../helpers/send'

export interface StoredValue {
  text: string
  /** Milliseconds left, as PTTL said (-1: none). */
  pttl: number
}

export interface StoredIndex {
  scores: Map<string, number>
  pttl: number
}

export interface NamespaceSnapshot {
  namespace: string
  /** Redis's clock when the snapshot began, in ms. */
  now: number
  values: Map<string, StoredValue>
  indexes: Map<string, StoredIndex>
  /** Keys of the namespace that are neither strings nor sorted sets. */
  strays: string[]
}

/** Time between reading Redis's clock and a key's PTTL, at most: TTLs are compared with this slack. */
const READ_SLACK_MS = 1_000
const HEADER = /^(\d{13})([vx])/

/** Every key of the namespace on every master, with values, scores and TTLs. */
export async function snapshot(namespace: string, masters: Send[]): Promise<NamespaceSnapshot> {
  const [seconds, micros] = (await (masters[0] as Send)(['TIME'])) as [string, string]
  const taken: NamespaceSnapshot = {
    namespace,
    now: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
    values: new Map(),
    indexes: new Map(),
    strays: [],
  }
  for (const send of masters) {
    for (const key of await scanKeys(send, `${namespace}:*`)) {
      const type = String(await send(['TYPE', key]))
      const pttl = Number(await send(['PTTL', key]))
      if (type === 'string') taken.values.set(key, { text: String(await send(['GET', key])), pttl })
      else if (type === 'zset') taken.indexes.set(key, { scores: scoresOf(await send(['ZRANGE', key, '0', '-1', 'WITHSCORES'])), pttl })
      else if (type !== 'none') taken.strays.push(`${key} (${type})`) // 'none': expired between SCAN and TYPE
    }
  }
  return taken
}

/** RESP3 gives [member, score] pairs, RESP2 a flat list. */
function scoresOf(reply: unknown): Map<string, number> {
  const items = reply as unknown[]
  const scores = new Map<string, number>()
  if (items.every((item) => Array.isArray(item))) {
    for (const [member, score] of items as [unknown, unknown][]) scores.set(String(member), Number(score))
  } else {
    for (let i = 0; i < items.length; i += 2) scores.set(String(items[i]), Number(items[i + 1]))
  }
  return scores
}

interface ValueKey {
  tag: string
  member: string
}

function valueKeyParts(namespace: string, key: string): ValueKey | undefined {
  const head = `${namespace}:{`
  const close = key.indexOf('}', head.length)
  if (!key.startsWith(head) || close === -1 || key[close + 1] !== ':') return undefined
  return { tag: key.slice(head.length - 1, close + 1), member: key.slice(close + 2) }
}

function indexTag(namespace: string, key: string): string | undefined {
  const head = `${namespace}:_i:`
  const tag = key.slice(head.length)
  return key.startsWith(head) && /^\{[^}]*\}$/.test(tag) ? tag : undefined
}

/** Reads a value's header: its expiry and whether it is live. */
function header(text: string): { expiresAtMs: number; live: boolean } | undefined {
  const match = HEADER.exec(text)
  return match ? { expiresAtMs: Number(match[1]), live: match[2] === 'v' } : undefined
}

/** What in the namespace a later read would trust wrongly; empty when index and values agree. */
export function layoutProblems(taken: NamespaceSnapshot): string[] {
  const { namespace, now } = taken
  const problems = taken.strays.map((key) => `${key}: neither a value nor an index`)
  for (const [key, index] of taken.indexes) {
    const tag = indexTag(namespace, key)
    // An expiry sweep's claims, beside an index in its slot: entries that left the index, never read as records.
    if (tag === undefined && /^\{[^}]*\}$/.test(key.slice(`${namespace}:_c:`.length)) && key.startsWith(`${namespace}:_c:`)) continue
    if (tag === undefined) {
      problems.push(`${key}: a sorted set that is not an index of the namespace`)
      continue
    }
    for (const [member, score] of index.scores) {
      // An expired member stays a minute for an expiry sweep, then the next write or listing of its index prunes it; never trusted.
      if (score <= now) continue
      const valueKey = `${namespace}:${tag}:${member}`
      const value = taken.values.get(valueKey)
      const read = value && header(value.text)
      if (value === undefined) problems.push(`${key} lists ${member}, whose value key is missing`)
      else if (read === undefined) problems.push(`${key} lists ${member}, whose value has no header`)
      else if (!read.live) problems.push(`${key} lists ${member}, whose value is a tombstone`)
      else if (read.expiresAtMs !== score) problems.push(`${key} lists ${member} until ${score}, its value says ${read.expiresAtMs}`)
      if (index.pttl !== -1 && now + index.pttl + READ_SLACK_MS < score) problems.push(`${key} expires before its member ${member}`)
    }
  }
  for (const [key, value] of taken.values) {
    const parts = valueKeyParts(namespace, key)
    const read = header(value.text)
    if (parts === undefined) {
      problems.push(`${key}: a string that is not a value key of the namespace`)
      continue
    }
    if (read === undefined) {
      problems.push(`${key}: a value without a header`)
      continue
    }
    if (value.pttl < 0 || Math.abs(now + value.pttl - read.expiresAtMs) > READ_SLACK_MS) {
      problems.push(`${key}: its header says it expires at ${read.expiresAtMs}, Redis in ${value.pttl} ms from ${now}`)
    }
    if (!read.live) continue
    const score = taken.indexes.get(`${namespace}:_i:${parts.tag}`)?.scores.get(parts.member)
    if (score === undefined) problems.push(`${key}: a live value with no index entry`)
  }
  return problems
}

/**
 * How much sooner than its session a user entry may expire. On Cluster the entry and the
 * session are in different slots, written (or touched) by two scripts one after the other, each
 * giving its record the same TTL from its own moment: the entry, written first, expires first,
 * by the time between the two writes (1-8 ms seen here).
 */
const ENTRY_LAG_MS = 250

/**
 * The store's rule on top (with `userOf`): every live session `['s', storedId]` has its user's
 * entry `['u', userId, storedId]`, live as long (but for ENTRY_LAG_MS), or "sign out everywhere"
 * would miss it. Entries without a session are allowed: listings skip them and they expire.
 * `userOf(text)`: the user id of a stored session's text.
 */
export function userEntryProblems(taken: NamespaceSnapshot, userOf: (text: string) => string | undefined): string[] {
  const { namespace } = taken
  const entries = new Map<string, number>()
  for (const [key, value] of taken.values) {
    const parts = valueKeyParts(namespace, key)
    const read = header(value.text)
    if (parts?.tag.startsWith('{.u#') && read?.live) entries.set(parts.member, read.expiresAtMs)
  }
  const problems: string[] = []
  for (const [key, value] of taken.values) {
    const parts = valueKeyParts(namespace, key)
    const read = header(value.text)
    if (!parts?.tag.startsWith('{.s#') || !read?.live) continue
    const userId = userOf(value.text.slice(14))
    if (userId === undefined) continue
    const entryExpiry = entries.get(`.${userId}:${parts.member}`)
    if (entryExpiry === undefined) problems.push(`${key}: a session of ${userId} with no user entry`)
    else if (entryExpiry + ENTRY_LAG_MS < read.expiresAtMs)
      problems.push(`${key}: a session of ${userId} that outlives its user entry by ${read.expiresAtMs - entryExpiry} ms`)
  }
  return problems
}
