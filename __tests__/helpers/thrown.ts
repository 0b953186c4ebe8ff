/** What `run` throws, or undefined if it returns: to assert on an error's fields with `toMatchObject`. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  return undefined
}

/** What `promise` rejects with; the test fails unless that is an instance of `type`. */
export async function rejectionOf<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const reason = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(reason).toBeInstanceOf(type)
  return reason as E
}

/** Whether `promise` fulfils (true) or rejects (false): for polling until a call works, or fails. */
export function fulfils(promise: Promise<unknown>): Promise<boolean> {
  return promise.then(
    () => true,
    () => false,
  )
}
