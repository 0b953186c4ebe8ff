/**
 * The published build: `require('sessionvault')` and `import 'sessionvault'` both work, with
 * type declarations, and share one copy of each class. Then the packed tarball, installed into
 * fresh apps as users install it: each entry point loads only what its layer needs.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisUrl } from './helpers/env'
import { pinned, ScratchApp, type RunResult } from './helpers/scratch-app'

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
    const importing = files.filter((file) =>
      /(from|import\()\s*['"](redis|ioredis|@redis\/[^'"]*)['"]/.test(readFileSync(join(root, 'dist', file), 'utf8')),
    )
    expect(importing).toEqual([])
  })
})

test('the sessionvault bin (the inspector) is the built CLI: a #!/usr/bin/env node script, executable', () => {
  const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  expect(bin).toEqual({ sessionvault: 'dist/cjs/cli/index.js' })
  const path = join(root, bin['sessionvault'] as string)
  expect(readFileSync(path, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node')
  expect(statSync(path).mode & 0o111).toBe(0o111)
})

test("only the store's declarations import express-session, and the cache's import nothing of Express", () => {
  const files = readdirSync(join(root, 'dist/cjs'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.d.ts'))
  const importing = (pattern: RegExp) => files.filter((file) => pattern.test(readFileSync(join(root, 'dist/cjs', file), 'utf8'))).sort()
  expect(importing(/(from|import\()\s*['"]express-session['"]/).every((file) => file.startsWith('store/'))).toBe(true)
  expect(importing(/(from|import\()\s*['"]express-session['"]/).length).toBeGreaterThan(0)
  expect(
    importing(/(from|import\()\s*['"]express[^'"]*['"]/).filter((file) => !file.startsWith('store/') && !file.startsWith('middleware/')),
  ).toEqual([])
})

describe('installed from the packed tarball into fresh apps', () => {
  let packDir: string
  let tarball: string
  let packed: string[]

  beforeAll(() => {
    packDir = mkdtempSync(join(tmpdir(), 'sessionvault-pack-'))
    const [result] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string; files: { path: string }[] }[]
    tarball = join(packDir, result!.filename)
    packed = result!.files.map((file) => file.path)
  }, 60_000)
  afterAll(() => rmSync(packDir, { recursive: true, force: true }))

  test('the tarball ships no source maps, so none points to sources it leaves out', () => {
    expect(packed).toContain('dist/cjs/cache/index.js')
    expect(packed.filter((path) => path.endsWith('.map') || path.startsWith('lib/'))).toEqual([])
    const mapped = packed.filter((path) => path.endsWith('.js') && readFileSync(join(root, path), 'utf8').includes('sourceMappingURL'))
    expect(mapped).toEqual([])
  })

  describe('a cache-only app: sessionvault/cache and redis', () => {
    let app: ScratchApp
    let checks: { modules: Promise<RunResult>; node10: Promise<RunResult> }
    // Each run its own namespace: the two runs go at once.
    const useCache = (load: string, namespace: string) =>
      [
        load,
        'const client = createClient({ url: process.env.REDIS_URL })',
        'await client.connect()',
        `const cache = new RedisCache({ client, ttlMs: 60_000, namespace: '${namespace}-${process.pid}' })`,
        "await cache.put(['user', 1], { name: 'Ada' })",
        "console.log(JSON.stringify(await cache.get(['user', 1])), new CacheError('REDIS_ERROR', 'x', { operation: 'get' }) instanceof Error)",
        "await cache.delete(['user', 1])",
        'await client.close()',
      ].join('\n')

    beforeAll(() => {
      app = new ScratchApp('cache-app')
      app.install([tarball, pinned('redis'), pinned('typescript'), pinned('@types/node')])
      app.write(
        'app.cjs',
        `const { createClient } = require('redis')\nconst { RedisCache, CacheError } = require('sessionvault/cache')\nvoid (async () => {\n${useCache('', 'cjs')}\n})()\n`,
      )
      app.write(
        'app.mjs',
        useCache("import { createClient } from 'redis'\nimport { RedisCache, CacheError } from 'sessionvault/cache'", 'esm'),
      )
      const typed = [
        "import { createClient } from 'redis'",
        "import { ANY, MemoryCache, RedisCache, isCacheError, type Cache, type PutIfOptions } from 'sessionvault/cache'",
        'export async function demo(url: string): Promise<number> {',
        '  const client = createClient({ url })',
        '  await client.connect()',
        '  const caches: Cache<{ name: string }>[] = [new RedisCache({ client, ttlMs: 1_000, tagDepth: 2 }), new MemoryCache({ ttlMs: 1_000 })]',
        '  const options: PutIfOptions<{ name: string }> = { absent: true }',
        '  let found = 0',
        "  for (const cache of caches) found += (await cache.putIf(['user', 1], { name: 'Ada' }, options)) ? (await cache.all(['user', ANY])).length : 0",
        '  return found',
        '}',
        'export const guard: (error: unknown) => boolean = isCacheError',
      ].join('\n')
      app.write('typed.cts', typed)
      app.write('typed.mts', typed)
      // Started together, awaited by the tests: tsc is the slow part.
      checks = {
        modules: app.typeCheck(['typed.cts', 'typed.mts']),
        node10: app.typeCheck(['typed.cts'], ['--module', 'commonjs', '--moduleResolution', 'node10', '--ignoreDeprecations', '6.0']),
      }
    }, 120_000)
    afterAll(() => app?.remove())

    test('installs neither express nor express-session, nor their types', () => {
      const installed = readdirSync(join(app.dir, 'node_modules'))
      expect(installed).toContain('sessionvault')
      expect(installed.filter((name) => name.startsWith('express'))).toEqual([])
      expect(readdirSync(join(app.dir, 'node_modules/@types'))).toEqual(['node'])
    })

    test('require() and import of sessionvault/cache run against Redis, sharing one CacheError', async () => {
      const env = { REDIS_URL: redisUrl() }
      const [cjs, esm, shared] = await Promise.all([
        app.run(process.execPath, ['app.cjs'], env),
        app.run(process.execPath, ['app.mjs'], env),
        app.run(process.execPath, [
          '--input-type=module',
          '-e',
          "import { CacheError } from 'sessionvault/cache'\nimport { createRequire } from 'node:module'\nconsole.log(CacheError === createRequire(import.meta.url)('sessionvault/cache').CacheError)",
        ]),
      ])
      expect(cjs).toEqual({ code: 0, output: '{"name":"Ada"} true' })
      expect(esm).toEqual({ code: 0, output: '{"name":"Ada"} true' })
      expect(shared).toEqual({ code: 0, output: 'true' })
    })

    test('npx sessionvault runs the inspector, which needs nothing but redis', async () => {
      const npx = (args: string[]) => app.run('npm', ['exec', '--offline', '--', 'sessionvault', ...args])
      const [help, count] = await Promise.all([
        npx(['--help']),
        npx(['count', '--namespace', `npx-${process.pid}`, '--url', redisUrl(), '--json']),
      ])
      expect(help).toMatchObject({ code: 0, output: expect.stringMatching(/^sessionvault: look at the sessions/) })
      expect(count.code).toBe(0)
      expect(JSON.parse(count.output)).toMatchObject({ namespace: `npx-${process.pid}`, keys: 0 })
    }, 60_000)

    test('its TypeScript compiles with strict and skipLibCheck false, as CommonJS and as an ES module, with no @types/express', async () => {
      expect(await checks.modules).toEqual({ code: 0, output: '' })
    }, 120_000)

    test('older TypeScript resolution (moduleResolution node10) finds sessionvault/cache through typesVersions', async () => {
      expect(await checks.node10).toEqual({ code: 0, output: '' })
    }, 120_000)

    test('the root entry loads every layer, so it needs express-session: a cache-only app imports sessionvault/cache', async () => {
      const result = await app.run(process.execPath, ['-e', "require('sessionvault')"])
      expect(result.code).not.toBe(0)
      expect(result.output).toContain("Cannot find module 'express-session'")
    })
  })

  describe('an Express app: req.auth is typed only where the middleware is imported', () => {
    let app: ScratchApp
    let checks: { withoutMiddleware: Promise<RunResult>; withMiddleware: Promise<RunResult> }
    const route = (imports: string) =>
      [
        "import express from 'express'",
        imports,
        'const app = express()',
        "app.get('/', (req, res) => { res.json(req.auth.user) })",
        'export default app',
      ].join('\n')

    beforeAll(() => {
      app = new ScratchApp('express-app')
      app.install([
        tarball,
        pinned('express'),
        pinned('express-session'),
        pinned('redis'),
        pinned('typescript'),
        pinned('@types/node'),
        pinned('@types/express'),
        pinned('@types/express-session'),
      ])
      app.write(
        'store.ts',
        route(
          "import session from 'express-session'\nimport { MemoryCache } from 'sessionvault/cache'\nimport { RedisSessionStore } from 'sessionvault/store'\nexport const use = session({ secret: 'x', store: new RedisSessionStore({ cache: new MemoryCache({ ttlMs: 1_000 }) }) })",
        ),
      )
      app.write('cache.ts', route("export { MemoryCache } from 'sessionvault/cache'"))
      app.write(
        'middleware.ts',
        route(
          "import { MemoryCache } from 'sessionvault/cache'\nimport { sessions } from 'sessionvault/middleware'\nexport const auth = sessions({ cache: new MemoryCache({ ttlMs: 1_000 }), secret: 'a fine secret of 32 characters or more' })",
        ),
      )
      app.write(
        'root.ts',
        route(
          "import { MemoryCache, sessions } from 'sessionvault'\nexport const auth = sessions({ cache: new MemoryCache({ ttlMs: 1_000 }), secret: 'a fine secret of 32 characters or more' })",
        ),
      )
      // Two programs: one that imports the middleware anywhere gives every file its `req.auth`.
      checks = {
        withoutMiddleware: app.typeCheck(['store.ts', 'cache.ts'], ['--esModuleInterop']),
        withMiddleware: app.typeCheck(['middleware.ts', 'root.ts'], ['--esModuleInterop']),
      }
    }, 120_000)
    afterAll(() => app?.remove())

    test('with sessionvault/store or sessionvault/cache, req.auth is a type error', async () => {
      const { code, output } = await checks.withoutMiddleware
      expect(code).not.toBe(0)
      const error = (file: string) => new RegExp(`^${file}\\(\\d+,\\d+\\): error TS2339: Property 'auth' does not exist on type 'Request`)
      expect(output.split('\n').sort()).toEqual([expect.stringMatching(error('cache.ts')), expect.stringMatching(error('store.ts'))])
    }, 120_000)

    test('with sessionvault/middleware or the root, req.auth is typed', async () => {
      expect(await checks.withMiddleware).toEqual({ code: 0, output: '' })
    }, 120_000)

    test('each entry point loads with require() and import', async () => {
      const script = (load: string) =>
        `${load}\nconsole.log(typeof store.RedisSessionStore, typeof middleware.sessions, typeof root.RedisCache, store.CacheError === middleware.CacheError && root.CacheError === store.CacheError)`
      const [cjs, esm] = await Promise.all([
        app.run(process.execPath, [
          '-e',
          script(
            "const store = require('sessionvault/store'), middleware = require('sessionvault/middleware'), root = require('sessionvault')",
          ),
        ]),
        app.run(process.execPath, [
          '--input-type=module',
          '-e',
          script(
            "import * as store from 'sessionvault/store'\nimport * as middleware from 'sessionvault/middleware'\nimport * as root from 'sessionvault'",
          ),
        ]),
      ])
      expect(cjs).toEqual({ code: 0, output: 'function function function true' })
      expect(esm).toEqual({ code: 0, output: 'function function function true' })
    })
  })
})
