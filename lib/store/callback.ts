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
  work.then(
    (value) => callback(null, value),
    (error: unknown) => callback(error),
  ).catch((thrown: unknown) => {
    queueMicrotask(() => {
      throw thrown
    })
  })
  return undefined
}
