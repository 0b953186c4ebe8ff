/** Default values of the token-session middleware's options, in one place. */

/** How long a session lives without a renewal: 30 minutes. */
export const DEFAULT_SESSION_TTL_MS = 30 * 60_000
/** Age after which a request renews its session (new token, same fingerprint): 15 minutes. */
export const DEFAULT_RENEW_AFTER_MS = 15 * 60_000
/** How long a rotated-out token keeps working, for requests that were already in flight: 10 seconds. */
export const DEFAULT_ROTATION_GRACE_MS = 10_000
/** Upper bound on resolving one request's session before it is answered with `unavailableStatus`. */
export const DEFAULT_SESSION_TIMEOUT_MS = 3_000
export const DEFAULT_UNAVAILABLE_STATUS = 503
export const DEFAULT_COOKIE_NAME = 'session'
export const DEFAULT_COOKIE_PATH = '/'
/** The response header that carries a renewed token to a client that sent `Authorization: Bearer`. */
export const DEFAULT_RENEWED_TOKEN_HEADER = 'Session-Token'
/** Shortest secret accepted: 32 characters, so a guessable passphrase fails at startup. */
export const MIN_SECRET_LENGTH = 32
/**
 * How long the lock that elects the one server renewing a session lives. Not an option: the
 * winner re-reads the session after taking it, so the lock only has to outlast one renewal.
 */
export const RENEWAL_LOCK_MS = 5_000
