/**
 * A stored value as `--values` shows it: parsed when it is JSON, with the token middleware's
 * secret hashes left out (they open nothing, but have no business on a screen). Pure.
 */
import type { RecordKind } from './stored-keys'

const SECRET_FIELDS = new Set(['secret', 'next', 'previous', 'previousUntil'])

export function shownValue(kind: RecordKind, text: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return text
  }
  if (kind !== 'token-session' || typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).filter(([field]) => !SECRET_FIELDS.has(field)))
}
