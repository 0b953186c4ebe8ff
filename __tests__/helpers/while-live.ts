/**
 * Runs `check`, which holds as long as a record lives, and the record lives at least until
 * `liveUntilMs` by `now` (the clock its expiry runs on: Redis's, or a test's fake clock).
 * Redis's clock runs on while a test awaits, so a failed check counts only if it ended before
 * `liveUntilMs`: on a machine slow enough to let the record expire first, the check says
 * nothing instead of failing, and on a fake clock it always counts.
 */
export async function whileLive(now: () => number | Promise<number>, liveUntilMs: number, check: () => Promise<void>): Promise<void> {
  try {
    await check()
  } catch (error) {
    if ((await now()) < liveUntilMs) throw error
  }
}
