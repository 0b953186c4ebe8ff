/**
 * The text of a value key: a 14-character header, then the serialized value. Pure, no I/O.
 *
 *   <expiry: 13 digits, ms since the epoch, Redis's clock><kind: 'v' a value, 'x' a tombstone><value>
 *
 * The header lets one `GET` tell when a record expires (the session layers use it to skip
 * needless touches) and lets a touch rewrite the expiry in place (`SETRANGE`), without resending
 * the value. A tombstone is what `delete(key, { tombstoneMs })` leaves: no value, but a later
 * `putIf(…, { unlessDeleted: true })` of the key is refused while it lasts.
 */
export const HEADER_LENGTH = 14
/**
 * The longest TTL a record (or tombstone) may have: 100 years, in milliseconds. Its expiry must
 * fit the header's 13 digits, which hold every time until the year 2286; a longer TTL would
 * push the mark out of place and leave a record nobody could read.
 */
export const MAX_TTL_MS = 3_155_760_000_000
export const VALUE_MARK = 'v'
export const TOMBSTONE_MARK = 'x'

export type StoredText = { kind: 'value'; expiresAtMs: number; text: string } | { kind: 'tombstone' } | { kind: 'malformed' }

const DIGITS = /^\d{13}$/

export function readStoredText(stored: string): StoredText {
  const expiry = stored.slice(0, HEADER_LENGTH - 1)
  if (!DIGITS.test(expiry)) return { kind: 'malformed' }
  switch (stored[HEADER_LENGTH - 1]) {
    case VALUE_MARK:
      return { kind: 'value', expiresAtMs: Number(expiry), text: stored.slice(HEADER_LENGTH) }
    case TOMBSTONE_MARK:
      return { kind: 'tombstone' }
    default:
      return { kind: 'malformed' }
  }
}

/** Lua: `header(expiresAtMs, mark)`, the header a script writes in front of a value. */
export const LUA_HEADER = `local function header(expiresAt, mark) return string.format('%013d', expiresAt) .. mark end`
