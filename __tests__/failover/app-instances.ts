/**
 * App instances of the failover tests, each its own process (failover-instance.ts, compiled), so
 * that what happens to Redis and to the instances never stalls the test runner's event loop.
 */
import { randomBytes } from 'node:crypto'
import type { AuthMode } from '../../examples/load-balanced/auth'
import { compiledEntry } from '../../examples/load-balanced/compile'
import { InstanceProcess } from '../../examples/load-balanced/instance-process'
import { OrphanGuard } from '../../examples/load-balanced/orphan-guard'
import { freePort } from '../../scripts/redis-server'

export interface AppInstances {
  readonly instances: readonly InstanceProcess[]
  readonly urls: readonly string[]
  /** Lines the instances printed, prefixed with their names (the last few hundred). */
  readonly log: readonly string[]
  stop(): Promise<void>
}

const LOG_LINES = 400

/**
 * Starts one instance per entry of `redisUrls` (failover-instance.ts's REDIS_URL), named
 * instance-1…; token sessions renew after `renewAfterMs` (by default half of `sessionTtlMs`).
 */
export async function startAppInstances(
  mode: AuthMode,
  redisUrls: readonly string[],
  sessionTtlMs: number,
  renewAfterMs?: number,
): Promise<AppInstances> {
  const entry = compiledEntry('__tests__/failover/failover-instance.ts')
  const guard = new OrphanGuard()
  const secret = randomBytes(32).toString('base64url')
  const log: string[] = []
  const instances: InstanceProcess[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(instances.map((instance) => instance.kill('SIGTERM')))
    guard.close()
  }
  try {
    for (const [index, redisUrl] of redisUrls.entries()) {
      const instance = new InstanceProcess({
        name: `instance-${index + 1}`,
        port: await freePort(),
        entry,
        redisUrl,
        secret,
        mode,
        logRequests: false,
        sessionTtlMs,
        renewAfterMs,
        guard,
        log: (line) => void (log.push(line) > LOG_LINES && log.shift()),
      })
      instances.push(instance)
      await instance.start()
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { instances, urls: instances.map((instance) => instance.url), log, stop }
}
