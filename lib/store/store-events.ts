/**
 * The events a `RedisSessionStore` emits as sessions begin and end. Ids are the stored ids (a
 * hash of the session id unless `hashIds: false`: what `ids()` and `listUserSessions()` report),
 * never a session id a cookie carries.
 */

/** Why a session ended. */
export type StoreEndReason =
  /** `destroy()`: express-session's `req.session.destroy()` and `regenerate()`. */
  | 'logout'
  /** `destroyUserSession()`, `destroyUserSessions()` or `clear()`. */
  | 'revoked'
  /** Destroyed by `maxSessionsPerUser` when the same user's newer session was saved. */
  | 'evicted'
  /** Its TTL ran out (reported by the sweep of one process), or a save or touch found it over. */
  | 'expired'

export interface StoreSessionCreated {
  /** The stored id. */
  sessionId: string
  /** What `userOf` returned for it, as a string; undefined without `userOf` or a user. */
  userId: string | undefined
  /** When it was first saved, in ms since the epoch (the store's `now`). */
  at: number
  /** When it expires, in ms since the epoch. */
  expiresAt: number
}

export interface StoreSessionEnded {
  /** The stored id. */
  sessionId: string
  /**
   * What `userOf` returned for it, as a string, when the ending read the session. Undefined for
   * `expired` found by the sweep (the session is gone by then), for `clear()`, and without `userOf`.
   */
  userId: string | undefined
  /** When it ended, in ms since the epoch: for `expired`, its expiry (by Redis's clock). */
  at: number
  reason: StoreEndReason
}

/** Event names and listener arguments, for `store.on(…)`. */
export interface RedisSessionStoreEvents {
  /** A new session was saved (its first save, e.g. at login with `saveUninitialized: false`). */
  created: [StoreSessionCreated]
  /**
   * A session ended. Every reason but `expired` is emitted by the process that ended it; each
   * `expired` session is emitted once, by one of the processes with an `ended` listener.
   */
  ended: [StoreSessionEnded]
}
