/**
 * With `absoluteTtlMs`, each stored session starts with the time it was first saved, so every
 * server can tell when its absolute lifetime ends. Pure, no I/O.
 *
 *   \u0000<first save: 13 digits, ms since the epoch><the serialized session>
 *
 * The NUL cannot start what a serializer writes (JSON never does), so a session stored before the
 * option was turned on reads as having no such time (its lifetime is counted from its next save),
 * and one stored with it reads back correctly after the option is turned off.
 */
const MARK = '\u0000'
const DIGITS = /^\d{13}$/
const LENGTH = 1 + 13

export function withCreatedAt(createdAtMs: number, text: string): string {
  return `${MARK}${String(Math.round(createdAtMs)).padStart(13, '0')}${text}`
}

/** The serialized session, and its first save's time when it carries one. */
export function readCreatedAt(stored: string): { createdAtMs: number | undefined; text: string } {
  if (stored[0] !== MARK) return { createdAtMs: undefined, text: stored }
  const digits = stored.slice(1, LENGTH)
  return DIGITS.test(digits) ? { createdAtMs: Number(digits), text: stored.slice(LENGTH) } : { createdAtMs: undefined, text: stored }
}
