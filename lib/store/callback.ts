/**
 * express-session calls stores with Node-style callbacks; people call them with `await`. Every
 * store method takes an optional callback: with one, the outcome goes to it; without, to the
 * returned promise. Either way a promise comes back (as from connect-redis), so
 * `await store.set(sid, session, callback)` waits for the callback to have run.
 */
export type StoreCallback<T> = (error: unknown, value?: T) => void

/**
 * Without a callback: `work` itself. With one: a promise that settles once the callback has run,
 * resolving to nothing and never rejecting (the error went to the callback, so no rejection is
 * left unhandled). A callback that throws is the app's error, not the store's: it is rethrown
 * outside the promise chain (as from any Node callback API) instead of becoming an unhandled
 * rejection or a second call.
 */
export function settle<T>(work: Promise<T>, callback: StoreCallback<T> | undefined): Promise<T> | Promise<void> {
  if (callback === undefined) return work
  // One reaction per call (express-session makes two calls a request).
  return work.then(
    (value) => guarded(() => callback(null, value)),
    (error: unknown) => guarded(() => callback(error)),
  )
}

function guarded(run: () => void): void {
  try {
    run()
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown
    })
  }
}

/** What the store can see of the request behind a session express-session hands it (its Session objects carry `req`). */
interface SessionOfRequest {
  req?: { res?: { headersSent?: boolean } }
}

/**
 * express-session saves and touches a session as the response ends, after it has sent the
 * headers: an error it gets back then goes to `next` with nothing left to answer, and Express
 * resets the connection, cutting off a response that was fine. So an error that comes once the
 * response has started goes to `late` instead, and express-session hears that the call is done.
 */
export function unlessAnswered<T>(
  callback: StoreCallback<T> | undefined,
  session: unknown,
  late: (error: unknown) => void,
): StoreCallback<T> | undefined {
  if (callback === undefined) return undefined
  return (error, value) => {
    if (error && (session as SessionOfRequest | null)?.req?.res?.headersSent === true) {
      late(error)
      callback(null)
    } else {
      callback(error, value)
    }
  }
}
