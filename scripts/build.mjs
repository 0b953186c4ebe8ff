// Builds dist/ for both module systems from one compilation: tsc emits CommonJS with
// declarations into dist/cjs, and dist/esm re-exports it, so `import` and `require` share
// one copy of every class (instanceof keeps working across the two, and across the entries).
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
// The package's entry points (package.json `exports`), as folders of lib/ holding an index.ts.
const ENTRIES = ['', 'cache', 'store', 'middleware']

rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
})

const load = createRequire(import.meta.url)
for (const entry of ENTRIES) {
  const names = Object.keys(load(join(dist, 'cjs', entry, 'index.js'))).filter((name) => name !== '__esModule')
  const cjs = entry === '' ? '../cjs/index.js' : `../../cjs/${entry}/index.js`
  mkdirSync(join(dist, 'esm', entry), { recursive: true })
  writeFileSync(join(dist, 'esm', entry, 'index.js'), `import cjs from '${cjs}'\nexport const { ${names.join(', ')} } = cjs\n`)
  writeFileSync(join(dist, 'esm', entry, 'index.d.ts'), `export * from '${cjs}'\n`)
  console.log(`built sessionvault${entry === '' ? '' : `/${entry}`} (${names.length} runtime exports)`)
}
writeFileSync(join(dist, 'esm/package.json'), '{ "type": "module" }\n')
writeFileSync(join(dist, 'cjs/package.json'), '{ "type": "commonjs" }\n')
// The `sessionvault` bin (package.json): tsc keeps its `#!/usr/bin/env node` line, not its mode.
chmodSync(join(dist, 'cjs/cli/index.js'), 0o755)
