/**
 * The published build: `require('sessionvault')` and `import 'sessionvault'` both work, with
 * type declarations, and share one copy of each class.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
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

describe('the Redis clients are optional peers', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    peerDependencies: Record<string, string>
    peerDependenciesMeta: Record<string, { optional?: boolean }>
  }

  test('peerDependencies lists node-redis 5 and 6, ioredis 5, express and express-session, each optional', () => {
    expect(pkg.peerDependencies).toMatchObject({ redis: '^5.0.0 || ^6.0.0', ioredis: '^5.0.0' })
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['express', 'express-session', 'ioredis', 'redis'])
    for (const name of Object.keys(pkg.peerDependencies)) expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true })
  })

  test('the build loads, and a cache refuses a bad client, with neither redis nor ioredis installed', () => {
    const script = [
      "const Module = require('node:module')",
      'const resolve = Module._resolveFilename',
      "Module._resolveFilename = function (request, ...rest) { if (/^(redis|ioredis|@redis\\/)/.test(request)) throw new Error('not installed: ' + request); return resolve.call(this, request, ...rest) }",
      "const { RedisCache } = require('sessionvault')",
      'try { new RedisCache({ client: {}, ttlMs: 1000 }) } catch (error) { console.log(error.name) }',
    ].join('\n')
    expect(node(['-e', script])).toBe('OptionError')
  })

  test('no type declaration imports redis or ioredis', () => {
    const files = readdirSync(join(root, 'dist'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.d.ts'))
    expect(files.length).toBeGreaterThan(10)
    const importing = files.filter((file) => /(from|import\()\s*['"](redis|ioredis|@redis\/[^'"]*)['"]/.test(readFileSync(join(root, 'dist', file), 'utf8')))
    expect(importing).toEqual([])
  })
})
