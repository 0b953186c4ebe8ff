/**
 * Renamed options and methods keep working for one minor version, with one warning per process
 * for each, so an upgrade never breaks an app and its logs say what to change.
 */
const warned = new Set<string>()

/** Emits a `DeprecationWarning` with `code` the first time it is called with that code. */
export function deprecate(code: DeprecationCode, message: string): void {
  if (warned.has(code)) return
  warned.add(code)
  process.emitWarning(message, { type: 'DeprecationWarning', code })
}

export type DeprecationCode =
  'SESSIONVAULT_DEP_FLUSH' | 'SESSIONVAULT_DEP_TOUCH_AFTER' | 'SESSIONVAULT_DEP_ABSOLUTE_TTL' | 'SESSIONVAULT_DEP_TOMBSTONE_TTL'
