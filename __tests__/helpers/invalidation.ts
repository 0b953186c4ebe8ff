/**
 * How soon a change made on one app server must reach another server's near-cache. Redis pushes
 * the invalidation at once (a millisecond or two on loopback), and nothing else could refresh a
 * copy that soon: copies live by their record's TTL, a minute in these tests. The bound is a real
 * latency on a shared machine, so it is well over twice the slowest push seen under load, and
 * still far below the TTL that would otherwise end the copy.
 */
export const INVALIDATION_SEEN_WITHIN_MS = 500
