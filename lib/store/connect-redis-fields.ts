/**
 * connect-redis's public fields (`client`, `prefix`, `scanCount`, `serializer`, `ttl`,
 * `disableTTL`, `disableTouch`), as `RedisSessionStore` exposes them: same names, meanings and
 * defaults. connect-redis reads `ttl`, `serializer`, `disableTTL` and `disableTouch` on every
 * call, so code assigns them after construction; the store honours that too. `client` and
 * `prefix` were built into the store's cache, and the store never SCANs (`scanCount`): assigning
 * them throws a `TypeError` that says so, rather than being silently ignored.
 */
import { DEFAULT_STORE_SCAN_COUNT } from '../defaults'
import { OptionError } from '../errors'
import type { TtlOption } from './session-ttl'
import type { SessionSerializer } from './store-options'

/** The fields a store cannot change after construction, and why. */
const FIXED = {
  client: 'the store built its cache on the client it was constructed with; construct another store for another client',
  prefix:
    "the store built its cache under the prefix it was constructed with (the cache's namespace); construct another store for another prefix",
  scanCount: 'the store never runs SCAN (it reads its own index), so a SCAN page size has nothing to change',
} as const

/** The `TypeError` an assignment to a field in `FIXED` throws. */
export function fixedFieldError(field: keyof typeof FIXED): TypeError {
  return new TypeError(`RedisSessionStore.${field} cannot be assigned: ${FIXED[field]}`)
}

/** `ttl` as a later assignment gives it: checked as the option is. */
export function assignedTtl(value: unknown): TtlOption {
  if (typeof value === 'function') return value as TtlOption
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
  throw new OptionError('ttl', 'must be a number of seconds (0 or more) or a function of the session returning seconds')
}

export function assignedBoolean(value: unknown, field: 'disableTTL' | 'disableTouch'): boolean {
  if (typeof value !== 'boolean') throw new OptionError(field, 'must be true or false')
  return value
}

export function assignedSerializer(value: unknown): SessionSerializer {
  const serializer = value as Partial<SessionSerializer> | null | undefined
  if (typeof serializer?.parse !== 'function' || typeof serializer?.stringify !== 'function') {
    throw new OptionError('serializer', 'must have parse(text) and stringify(session) functions')
  }
  return serializer as SessionSerializer
}

/** connect-redis's `scanCount` option, accepted so its configurations keep working; `??`, so `0` stays 0. */
export function scanCountOf(options: object): number {
  const { scanCount } = options as { scanCount?: unknown }
  if (scanCount === undefined) return DEFAULT_STORE_SCAN_COUNT
  if (typeof scanCount !== 'number' || !Number.isSafeInteger(scanCount) || scanCount < 0) {
    throw new OptionError(
      'scanCount',
      'must be a whole number, 0 or more (the store never SCANs: it is accepted for connect-redis configurations, and unused)',
    )
  }
  return scanCount
}
