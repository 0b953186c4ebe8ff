/**
 * NearReads (lib/cache/near-reads.ts) on real Redis, an internal unit on purpose: a near-cache
 * hit whose copy is dropped because the tracking connection failed before the hit's turn came is
 * read again without the near-cache, never taken for a missing record.
 */
import { randomBytes } from 'node:crypto'
import { NearReads } from '../../lib/cache/near-reads'
import { connectStandalone, type StandaloneClient } from '../helpers/redis'
import { eventually } from '../helpers/waiting'

/** The tracking connection's own node-redis client, to fail it on cue. */
interface WithTracking {
  tracking: { client: { destroy(): void; emit(event: 'error', error: Error): boolean } }
}

let client: StandaloneClient
beforeAll(async () => {
  client = await connectStandalone()
})
afterAll(() => client.close())

test('a hit whose copy the failing tracking connection dropped is read without the near-cache', async () => {
  const key = `near-reads:${randomBytes(4).toString('hex')}`
  await client.set(key, 'stored text', { PX: 60_000 })
  const near = new NearReads(client, 10, 2_000)
  const guard = <T>(run: () => Promise<T>) => run()
  const readPlain = async () => (await client.get(key)) ?? undefined
  try {
    await eventually(() => near.isTracking, 5_000, 'the tracking connection')
    expect(await near.readEntry(key, guard, readPlain)).toBe('stored text')
    expect(near.stats().size).toBe(1)

    const hit = near.readEntry(key, guard, async () => 'read without the near-cache')
    // Before the hit's turn: the connection goes down, and its error drops every copy.
    const tracking = (near as unknown as WithTracking).tracking.client
    tracking.destroy()
    tracking.emit('error', new Error('connection lost'))
    expect(near.isTracking).toBe(false)
    expect(near.stats().size).toBe(0)
    expect(await hit).toBe('read without the near-cache')
  } finally {
    await near.close().catch(() => undefined) // its connection was destroyed above
    await client.del(key)
  }
})
