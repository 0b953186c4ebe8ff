/**
 * The published build: `require('sessionvault')` and `import 'sessionvault'` both work, with
 * type declarations, and share one copy of each class.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const root = join(__dirname, '..')
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim()

beforeAll(() => {
  node(['scripts/build.mjs'])
}, 120_000)

test('require() loads the CommonJS build through the package name', () => {
  expect(node(['-e', "const s = require('sessionvault'); console.log(typeof s.RedisCache, typeof s.MemoryCache, String(s.ANY))"])).toBe(
    'function function Symbol(sessionvault.ANY)',
  )
})

test('import loads the ES module build, sharing classes with require()', () => {
  const script = [
    "import { RedisCache, CacheError } from 'sessionvault'",
    "import { createRequire } from 'node:module'",
    'const cjs = createRequire(import.meta.url)("sessionvault")',
    'console.log(RedisCache === cjs.RedisCache, new CacheError("REDIS_ERROR", "x", { operation: "get" }) instanceof cjs.CacheError)',
  ].join('\n')
  expect(node(['--input-type=module', '-e', script])).toBe('true true')
})

test('both builds ship type declarations', () => {
  expect(existsSync(join(root, 'dist/cjs/index.d.ts'))).toBe(true)
  expect(existsSync(join(root, 'dist/esm/index.d.ts'))).toBe(true)
  expect(existsSync(join(root, 'dist/cjs/cache/redis-cache.d.ts'))).toBe(true)
})
