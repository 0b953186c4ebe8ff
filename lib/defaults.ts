// Default values of options, in one place, a section per layer: each a documented constant, so
// the sections look alike on purpose.

// cache

/** The namespace every key of a cache is stored under. */
export const DEFAULT_NAMESPACE = 'cache'
/** How many leading parts of a key choose its Redis Cluster slot. */
export const DEFAULT_TAG_DEPTH = 1
/**
 * Buckets (sorted sets, each its own cluster slot) that the records under one prefix spread over.
 * Enough that a bucket stays small (Redis keeps a sorted set of up to 128 members in its compact
 * encoding) up to about 100,000 records per prefix, and that no slot is hot on Cluster.
 */
export const DEFAULT_BUCKETS = 1024
/** Upper bound on one Redis command's wait, so an unreachable Redis fails fast instead of hanging. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2_000
/** How often an open circuit (see RedisCache's `breaker`) asks Redis whether it is back, in milliseconds. */
export const DEFAULT_BREAKER_PROBE_INTERVAL_MS = 500
/** Index members read per `ZSCAN` page, and value keys read per `MGET`. */
export const DEFAULT_SCAN_PAGE_SIZE = 1_000

// express-session store

/** connect-redis's default `prefix`: here, the namespace of the cache the store builds. */
export const DEFAULT_STORE_PREFIX = 'sess:'
/** connect-redis's default `scanCount` (keys per SCAN), reported by the store's `scanCount`; the store itself never SCANs. */
export const DEFAULT_STORE_SCAN_COUNT = 100
/** connect-redis's default `ttl` in seconds, used when a session's cookie has no `expires`. */
export const DEFAULT_STORE_TTL_SECONDS = 86_400
/** How long a destroyed session's id stays blocked against late writes, in milliseconds (one hour). */
export const DEFAULT_TOMBSTONE_TTL_MS = 3_600_000
/**
 * The TTL that stands for "never expires" (`disableTTL`) and the longest any session lives:
 * about 100 years, in milliseconds. The cache needs a TTL on every record; this one outlives the app.
 */
export const MAX_SESSION_TTL_MS = 3_155_760_000_000
/** How often a store that has signalled `disconnect` asks Redis whether it is back, in milliseconds. */
export const STORE_PROBE_INTERVAL_MS = 500

// token-session middleware

/** How long a token session lives without a renewal: 30 minutes. */
export const DEFAULT_TOKEN_SESSION_TTL_MS = 30 * 60_000
/** How long a token session lives at most from its login, however often it renews: 30 days. */
export const DEFAULT_TOKEN_SESSION_MAX_AGE_MS = 30 * 24 * 60 * 60_000
/** How long a rotated-out token keeps working, for requests that were already in flight: 10 seconds. */
export const DEFAULT_ROTATION_GRACE_MS = 10_000
/** Most sessions one user keeps at once; a login beyond it ends the oldest. */
export const DEFAULT_MAX_SESSIONS_PER_USER = 100
/** Upper bound on resolving one request's session before it is answered with `unavailableStatus`. */
export const DEFAULT_TOKEN_SESSION_TIMEOUT_MS = 3_000
export const DEFAULT_TOKEN_SESSION_UNAVAILABLE_STATUS = 503
/** The session cookie's name when it is not `Secure` (plain-HTTP development). */
export const DEFAULT_TOKEN_COOKIE_NAME = 'session'
/** The session cookie's name when it is `Secure`: the `__Host-` prefix keeps subdomains from planting one. */
export const DEFAULT_SECURE_TOKEN_COOKIE_NAME = '__Host-session'
export const DEFAULT_TOKEN_COOKIE_PATH = '/'
/** The response header that carries a renewed token to a client that sent `Authorization: Bearer`. */
export const DEFAULT_RENEWED_TOKEN_HEADER = 'Session-Token'
/** Shortest signing secret accepted: 32 characters, so a guessable passphrase fails at startup. */
export const MIN_TOKEN_SECRET_LENGTH = 32

// Session events

/** How often a layer with an `ended` listener sweeps for expired sessions, in ms. */
export const DEFAULT_EXPIRY_SWEEP_MS = 1_000
/** Most expired sessions one sweep claims: the rest wait for the next. */
export const EXPIRY_SWEEP_MAX = 1_000
/** How long a sweep's claims are its own: a process that dies before acknowledging them loses them to another after this. */
export const EXPIRY_SWEEP_LEASE_MS = 5_000
/**
 * A store with users claims its sessions with no user this long past their expiry (or their
 * abandoned claim's lease), plus one sweep interval: by then a sweep has claimed those with a
 * user through their users' entries.
 */
export const EXPIRY_HOLD_MARGIN_MS = 2_000
/**
 * A store's claim of a user's entry outlives the claim of the session it names by this much, so
 * that when a process dies holding both, the session's has run out by the time another process
 * takes the entry again (and the session with it).
 */
export const ENTRY_LEASE_EXTRA_MS = 1_000
