/** Default values of the express-session store's options (candidates for lib/defaults.ts). */

/** connect-redis's default `prefix`: here, the namespace of the cache the store builds. */
export const DEFAULT_STORE_PREFIX = 'sess:'
/** connect-redis's default `ttl` in seconds, used when a session's cookie has no `expires`. */
export const DEFAULT_STORE_TTL_SECONDS = 86_400
/** How long a destroyed session's id stays blocked against late writes, in seconds. */
export const DEFAULT_TOMBSTONE_TTL_SECONDS = 3_600
/**
 * The TTL that stands for "never expires" (`disableTTL`) and the longest any session lives:
 * about 100 years, in milliseconds. The cache needs a TTL on every record; this one outlives the app.
 */
export const MAX_SESSION_TTL_MS = 3_155_760_000_000
/** How often a store that has signalled `disconnect` asks Redis whether it is back, in milliseconds. */
export const STORE_PROBE_INTERVAL_MS = 500
