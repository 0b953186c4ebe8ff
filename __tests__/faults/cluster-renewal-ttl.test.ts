// On Redis Cluster, a renewal near maxAgeMs gives the session record a SHORTER TTL than it had
// (a renewal never lives past the maximum age): its index entry must follow it down, or the
// user's device list and "sign out everywhere" would go on listing a record past its expiry.
// Read with ZSCORE on the master that holds the index's slot.
import calculateSlot from 'cluster-key-slot'
import { ANY } from 'sessionvault'
import { connectCluster, type ClusterClient } from '../helpers/redis'
import { scanKeys, type Send } from '../helpers/send'
import { mastersOf } from './fault-redis'
import { layoutProblems, snapshot } from './namespace-check'
import { login, open, sessionCache, tokenApp, tokenParts, TTL_MS } from './token-app'

const NAMESPACE = `renewal-ttl-${process.pid}`
/** Longest life from login: a renewal 40 s in gives 30 s more, where the record had 60 s. */
const MAX_AGE_MS = 70_000
const RENEWED_AT_MS = 40_000

let cluster: ClusterClient

beforeAll(async () => {
  cluster = await connectCluster()
})
afterAll(() => cluster?.close())

const masters = (): Promise<Send[]> => mastersOf(cluster)

/** A sender to the master that owns `key`'s slot, by the cluster's slot map. */
async function masterOf(key: string): Promise<Send> {
  const shard = cluster.slots[calculateSlot(key)]
  if (shard === undefined) throw new Error(`no master owns the slot of ${key}`)
  const node = await cluster.nodeClient(shard.master)
  return (args) => node.sendCommand(args)
}

interface RecordState {
  /** The header's expiry, in ms (Redis's clock). */
  expiresAtMs: number
  /** The index entry's score, read on the index's master. */
  score: number | null
  /** Redis's clock, and the value key's PTTL, read on the record's master. */
  now: number
  pttl: number
}

/** The record of a token's session: its value key and home index, found by scanning every master. */
async function placeOf(token: string): Promise<{ valueKey: string; indexKey: string; member: string }> {
  const found: string[] = []
  for (const send of await masters()) found.push(...(await scanKeys(send, `${NAMESPACE}:*:.${tokenParts(token).sessionId}`)))
  expect(found).toHaveLength(1)
  const valueKey = found[0] as string
  const close = valueKey.indexOf('}')
  const tag = valueKey.slice(NAMESPACE.length + 1, close + 1)
  return { valueKey, indexKey: `${NAMESPACE}:_i:${tag}`, member: valueKey.slice(close + 2) }
}

async function stateOf(place: { valueKey: string; indexKey: string; member: string }): Promise<RecordState> {
  const record = await masterOf(place.valueKey)
  const index = await masterOf(place.indexKey)
  const text = String(await record(['GET', place.valueKey]))
  const [seconds, micros] = (await record(['TIME'])) as [string, string]
  const score = await index(['ZSCORE', place.indexKey, place.member])
  return {
    expiresAtMs: Number(text.slice(0, 13)),
    score: score === null ? null : Number(score),
    now: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000),
    pttl: Number(await record(['PTTL', place.valueKey])),
  }
}

/** Every index of the namespace, on every master, that lists `member`, with its score. */
async function indexesListing(member: string): Promise<number[]> {
  const scores: number[] = []
  for (const send of await masters()) {
    for (const key of await scanKeys(send, `${NAMESPACE}:_i:*`)) {
      const score = await send(['ZSCORE', key, member])
      if (score !== null) scores.push(Number(score))
    }
  }
  return scores
}

test('a renewal that shortens a record rescores its index entry to the new expiry, and so does the adoption after it', async () => {
  const app = tokenApp(cluster, NAMESPACE, { maxAgeMs: MAX_AGE_MS })
  const reader = sessionCache(cluster, NAMESPACE)
  try {
    const token = await login(app.app, 'alice')
    const place = await placeOf(token)
    // The record and its index share a slot, so one script writes both.
    expect(calculateSlot(place.indexKey)).toBe(calculateSlot(place.valueKey))
    const before = await stateOf(place)
    expect(before.score).toBe(before.expiresAtMs)
    expect(before.expiresAtMs - before.now).toBeGreaterThan(TTL_MS - 5_000)

    app.clock.advance(RENEWED_AT_MS)
    const renewal = await open(app.app, token)
    expect(renewal).toMatchObject({ status: 200, userId: 'alice' })
    expect(renewal.renewed).toBeDefined()
    const renewed = await stateOf(place)

    // Shortened: 30 s left where there were 60 s.
    expect(renewed.expiresAtMs).toBeLessThan(before.expiresAtMs - 20_000)
    expect(renewed.score).toBe(renewed.expiresAtMs)
    expect(Math.abs(renewed.now + renewed.pttl - renewed.expiresAtMs)).toBeLessThan(1_000)
    expect(await indexesListing(place.member)).toEqual([renewed.expiresAtMs])
    const listed = await reader.all(['u', tokenParts(token).userKey, 's', ANY])
    expect(listed.map((record) => record.expiresAtMs)).toEqual([renewed.expiresAtMs])

    // The first request with the new token rewrites the record once more, to the same end.
    expect(await open(app.app, renewal.renewed as string)).toMatchObject({ status: 200, userId: 'alice' })
    const adopted = await stateOf(place)
    expect(adopted.expiresAtMs).toBeLessThanOrEqual(renewed.expiresAtMs + 1_000)
    expect(adopted.score).toBe(adopted.expiresAtMs)
    expect(await indexesListing(place.member)).toEqual([adopted.expiresAtMs])
    expect(layoutProblems(await snapshot(NAMESPACE, await masters()))).toEqual([])
  } finally {
    await app.cache.close()
    await reader.close()
    for (const send of await masters()) for (const key of await scanKeys(send, `${NAMESPACE}:*`)) await send(['DEL', key])
  }
})
