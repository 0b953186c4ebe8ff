/**
 * Where the package's entry points are in a clone: `sessionvault` and `sessionvault/<layer>`
 * are lib/index.ts and lib/<layer>/index.ts. Published, package.json `exports` sends them to
 * dist/; in a clone the examples import them by name too, and run without a build.
 */
import { join } from 'node:path'

export const ROOT = join(__dirname, '..')

/** The lib/ file that a package specifier names, or undefined for any other module. */
export function packageSource(specifier: string): string | undefined {
  const match = /^sessionvault(?:\/(cache|store|middleware))?$/.exec(specifier)
  return match ? join(ROOT, 'lib', match[1] ?? '', 'index.ts') : undefined
}
