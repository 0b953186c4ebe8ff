/**
 * A step's figures, or why it failed. The library changes under the bench, so one variant or step
 * that breaks is reported as "failed: <message>" in its place, and the rest of the run goes on.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string }

export async function attempt<T>(what: string, run: () => Promise<T>, log: (line: string) => void): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() }
  } catch (error) {
    const message = firstLine(error)
    log(`${what} failed: ${message}`)
    return { ok: false, error: message }
  }
}

/** An error's first line: enough to say what broke, short enough for a table cell. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return (text.split('\n')[0] ?? text).replace(/\|/g, '\\|').slice(0, 300)
}
