/**
 * sessionvault, loaded on first use rather than imported: while the library is being changed, a
 * half-edited `lib/` then fails the variants and steps that use it ("failed: <message>" in the
 * results), and bare Express, MemoryStore and connect-redis are still measured.
 */
import type * as Library from '../lib'

export function library(): typeof Library {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use, so that a broken library fails only what needs it
  return require('../lib') as typeof Library
}
