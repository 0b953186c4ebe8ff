// Builds dist/ for both module systems from one compilation: tsc emits CommonJS with
// declarations into dist/cjs, and dist/esm re-exports it, so `import` and `require` share
// one copy of every class (instanceof keeps working across the two).
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')

rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
})

const names = Object.keys(createRequire(import.meta.url)(join(dist, 'cjs/index.js'))).filter((name) => name !== '__esModule')
mkdirSync(join(dist, 'esm'), { recursive: true })
writeFileSync(
  join(dist, 'esm/index.js'),
  `import cjs from '../cjs/index.js'\nexport const { ${names.join(', ')} } = cjs\n`,
)
writeFileSync(join(dist, 'esm/index.d.ts'), `export * from '../cjs/index.js'\n`)
writeFileSync(join(dist, 'esm/package.json'), '{ "type": "module" }\n')
writeFileSync(join(dist, 'cjs/package.json'), '{ "type": "commonjs" }\n')
console.log(`built dist/cjs and dist/esm (${names.length} runtime exports)`)
