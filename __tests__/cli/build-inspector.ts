/**
 * The library compiled by tsc (as the build does) into a folder of this test worker's own under
 * `.tmp/`, so the inspector starts in a fraction of a second, and `dist/` (which the package
 * tests rebuild) is left alone. Modules resolve from the repository's node_modules, as they do
 * for `dist/`.
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(__dirname, '../..')

/** Compiles lib/ and returns the path of the compiled `lib/cli/index.ts`. */
export function buildInspector(): string {
  const outDir = join(ROOT, '.tmp', `cli-build-${process.env['JEST_WORKER_ID'] ?? '0'}`)
  rmSync(outDir, { recursive: true, force: true })
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      outDir,
      '--declaration',
      'false',
      '--sourceMap',
      'false',
    ],
    { cwd: ROOT, timeout: 110_000 },
  )
  return join(outDir, 'cli/index.js')
}
