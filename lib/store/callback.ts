/**
 * express-session calls stores with Node-style callbacks; people call them with `await`. Every
 * store method takes an optional callback: with one, the outcome goes to it; without, to the
 * returned promise.
 */
export type StoreCallback<T> = (error: unknown, value?: T) => void

/**
 * A callback that throws is the app's error, not the store's: it is rethrown outside the promise
 * chain (as from any Node callback API) instead of becoming an unhandled rejection or a second call.
 */
export function settle<T>(work: Promise<T>, callback: StoreCallback<T> | undefined): Promise<T> | undefined {
  if (callback === undefined) return work
  // One reaction per call (express-session makes two calls a request); the callback's own error
  // is caught where it is thrown.
  work.then(
    (value) => {
      try {
        callback(null, value)
      } catch (thrown) {
        rethrowLater(thrown)
      }
    },
    (error: unknown) => {
      try {
        callback(error)
      } catch (thrown) {
        rethrowLater(thrown)
      }
    },
  )
  return undefined
}

function rethrowLater(thrown: unknown): void {
  queueMicrotask(() => {
    throw thrown
  })
}
