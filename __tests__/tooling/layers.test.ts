/**
 * The lint rule that keeps lib/ layered (eslint.config.mjs): run on code placed in each layer,
 * it refuses the imports that would cross a boundary and lets the allowed ones through.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

const root = join(__dirname, '../..')

interface Case {
  /** Where the code would be. */
  file: string
  specifier: string
}

/**
 * The layer rule's messages for each case, from one ESLint run in a child process (ESLint loads
 * its config with a dynamic import, which jest's module sandbox does not allow).
 */
function layerErrors(cases: readonly Case[]): string[][] {
  const script = `
    import { ESLint } from 'eslint'
    import tseslint from 'typescript-eslint'
    const cases = JSON.parse(process.argv[1])
    // Without type information: the rule under test reads import specifiers only, and this is fast.
    const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: tseslint.configs.disableTypeChecked })
    const found = []
    for (const { file, specifier } of cases) {
      const source = "import { x } from '" + specifier + "'\\nexport const y = x\\n"
      const [result] = await eslint.lintText(source, { filePath: file })
      const fatal = result.messages.find((message) => message.fatal)
      if (fatal) throw new Error(file + ': ' + fatal.message)
      found.push(result.messages.filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.message))
    }
    console.log(JSON.stringify(found))
  `
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases)], {
    cwd: root,
    encoding: 'utf8',
  })
  return JSON.parse(output) as string[][]
}

const refused: Case[] = [
  { file: 'lib/cache/key.ts', specifier: '../store/session-keys' },
  { file: 'lib/cache/key.ts', specifier: '../middleware' },
  { file: 'lib/cache/clients/adapt-client.ts', specifier: '../../store/redis-session-store' },
  { file: 'lib/cache/key.ts', specifier: 'express' },
  { file: 'lib/cache/key.ts', specifier: 'express-session' },
  { file: 'lib/store/stored-id.ts', specifier: '../middleware/records' },
  { file: 'lib/middleware/token.ts', specifier: '../store/stored-id' },
  { file: 'lib/middleware/token.ts', specifier: 'express-session' },
  { file: 'lib/errors.ts', specifier: './cache/redis-cache' },
  { file: 'lib/shared/deadline.ts', specifier: '../store/redis-session-store' },
]

// The same shape as `refused`, with the other verdict: kept as two tables so each reads as one list.
const allowed: Case[] = [
  { file: 'lib/store/stored-id.ts', specifier: '../cache/redis-cache' },
  { file: 'lib/middleware/token.ts', specifier: '../cache/key' },
  { file: 'lib/store/stored-id.ts', specifier: 'express-session' },
  { file: 'lib/middleware/token.ts', specifier: 'express' },
  { file: 'lib/cache/key.ts', specifier: '../errors' },
  { file: 'lib/cache/redis-connection.ts', specifier: '../shared/deadline-queue' },
  { file: 'lib/cache/key.ts', specifier: './stored-text' },
  { file: 'lib/index.ts', specifier: './store/redis-session-store' },
]

test('an import across a layer boundary is a lint error, one per import', () => {
  const errors = layerErrors(refused)
  refused.forEach((refusedCase, i) =>
    expect({ ...refusedCase, errors: errors[i] }).toEqual({ ...refusedCase, errors: [expect.stringContaining('lib/ is layered')] }),
  )
}, 120_000)

test('imports down the layers, within a layer and of shared internals pass', () => {
  const errors = layerErrors(allowed)
  allowed.forEach((allowedCase, i) => expect({ ...allowedCase, errors: errors[i] }).toEqual({ ...allowedCase, errors: [] }))
}, 120_000)
