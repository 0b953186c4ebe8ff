/** Default values of options, in one place. */
export const DEFAULT_NAMESPACE = 'cache'
/** How deep the Redis Cluster hash tag reaches into `[namespace, ...key]`. */
export const DEFAULT_TAG_DEPTH = 1
/** Buckets that spread each index shallower than the hash tag over several cluster slots. */
export const DEFAULT_SHALLOW_INDEX_BUCKETS = 16
/** Upper bound on one Redis command's wait, so an unreachable Redis fails fast instead of hanging. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000
/** Index members read per `ZSCAN` page, and value keys read per `MGET`. */
export const DEFAULT_SCAN_PAGE_SIZE = 1_000
