/** What `run` throws, or undefined if it returns: to assert on an error's fields with `toMatchObject`. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  return undefined
}
