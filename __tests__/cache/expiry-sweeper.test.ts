/**
 * The sweeper's timer (lib/cache/expiry-sweeper.ts), an internal unit on purpose, over a queue of
 * the test's own whose claims take as long as the test says: never two sweeps at once, also when
 * it is stopped and started again while a sweep is under way (an `ended` listener removed, then
 * another added).
 */
import { ExpirySweeper } from '../../lib/cache/expiry-sweeper'
import type { ClaimOptions, ExpiredClaims } from '../../lib/cache/expiry-queue'
import type { KeyPart } from '../../lib/cache/key'
import { eventually, sleep } from '../helpers/waiting'

/** A queue whose first claim waits until `release()`; it counts the claims and how many ran at once. */
class SlowQueue {
  claims = 0
  inFlight = 0
  mostAtOnce = 0
  private releaseFirst: (() => void) | undefined
  private readonly firstReleased = new Promise<void>((resolve) => (this.releaseFirst = resolve))

  async claimExpired(_prefix: readonly KeyPart[], _options: ClaimOptions): Promise<ExpiredClaims> {
    this.claims++
    this.inFlight++
    this.mostAtOnce = Math.max(this.mostAtOnce, this.inFlight)
    try {
      if (this.claims === 1) await this.firstReleased
      return { records: [], claimedAtMs: Date.now(), acknowledge: async () => undefined }
    } finally {
      this.inFlight--
    }
  }

  release(): void {
    this.releaseFirst?.()
  }
}

test('stopped and started again during a sweep, it still runs one sweep at a time', async () => {
  const queue = new SlowQueue()
  const sweeper = new ExpirySweeper(queue, [], 10, () => undefined)
  try {
    sweeper.start()
    await eventually(() => queue.inFlight === 1, 2_000, 'the first sweep')
    sweeper.stop()
    sweeper.start()
    // Many intervals while the first sweep is held: none of them may start another.
    await sleep(100)
    expect(queue.claims).toBe(1)
    queue.release()
    await eventually(() => queue.claims >= 3, 2_000, 'sweeps after the first')
    expect(queue.mostAtOnce).toBe(1)
  } finally {
    sweeper.stop()
  }
})
