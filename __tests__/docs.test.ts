/**
 * The documentation as users read it: every TypeScript and JavaScript block of README.md and of
 * the examples' READMEs compiles as a module of its own (strict, `sessionvault` being this
 * package), the blocks marked `<!-- runs -->` run against the test Redis and exit by themselves,
 * the blocks marked `<!-- fragment -->` are exactly those listed here, and README's links work
 * where it is also shown: on the npm registry's page, which resolves no relative link.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { docBlocks, type DocBlock } from './helpers/doc-blocks'
import { redisUrl } from './helpers/env'

const root = join(__dirname, '..')
const readmes = [
  'README.md',
  ...readdirSync(join(root, 'examples'))
    .map((example) => `examples/${example}/README.md`)
    .filter((file) => existsSync(join(root, file))),
]
const blocks = readmes.flatMap((file) => docBlocks(join(root, file)))
const name = (block: DocBlock) => `${relative(root, block.file)}:${block.line}`
const firstLine = (block: DocBlock) => block.code.split('\n')[0]

/** The blocks that are pieces of a larger program, by their first line. */
const FRAGMENTS = [
  "README.md: store.on('failedAfterResponse', (error, operation) => log.warn({ error, operation }, 'session not saved'))",
  'README.md: // before',
]

const work = join(root, '.tmp', `docs-${process.pid}`)
beforeAll(() => mkdirSync(work, { recursive: true }))
afterAll(() => rmSync(work, { recursive: true, force: true }))

test('the READMEs hold the code blocks this test checks', () => {
  expect(blocks.filter((block) => relative(root, block.file) === 'README.md').length).toBeGreaterThanOrEqual(8)
  expect(blocks.some((block) => block.mark === 'runs')).toBe(true)
})

test('the fragments are exactly the blocks listed here', () => {
  const fragments = blocks.filter((block) => block.mark === 'fragment').map((block) => `${relative(root, block.file)}: ${firstLine(block)}`)
  expect(fragments).toEqual(FRAGMENTS)
})

describe('every other block compiles on its own, in strict mode', () => {
  let compile: (file: string) => string[]

  beforeAll(() => {
    // `sessionvault` is lib/ here, as in tsconfig.json; the blocks are ES modules (top-level await).
    const config = {
      compilerOptions: {
        strict: true,
        target: 'es2022',
        module: 'nodenext',
        types: ['node'],
        esModuleInterop: true,
        skipLibCheck: true,
        allowJs: true,
        checkJs: true,
        noEmit: true,
        paths: { sessionvault: [join(root, 'lib/index.ts')], 'sessionvault/*': [join(root, 'lib/*/index.ts')] },
      },
    }
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, work)
    // Parsed once, shared by every block's program: only the checking is done again.
    const host = ts.createCompilerHost(options)
    const parsed = new Map<string, ts.SourceFile | undefined>()
    const getSourceFile = host.getSourceFile.bind(host)
    host.getSourceFile = (path, languageVersion, ...rest) => {
      if (path.startsWith(work)) return getSourceFile(path, languageVersion, ...rest)
      if (!parsed.has(path)) parsed.set(path, getSourceFile(path, languageVersion, ...rest))
      return parsed.get(path)
    }
    compile = (file) => {
      const program = ts.createProgram({ rootNames: [file], options, host })
      const source = program.getSourceFile(file)!
      const diagnostics = [
        ...program.getOptionsDiagnostics(),
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ]
      return diagnostics.map((diagnostic) => {
        const where =
          diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined
        const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
        return where ? `line ${where.line + 1}: TS${diagnostic.code} ${text}` : `TS${diagnostic.code} ${text}`
      })
    }
  })

  test.each(blocks.filter((block) => block.mark !== 'fragment').map((block) => [name(block), block] as const))(
    '%s',
    (_name, block) => {
      const file = join(work, `${name(block).replace(/[^\w]+/g, '-')}.${block.language === 'ts' ? 'mts' : 'mjs'}`)
      writeFileSync(file, block.code)
      expect(compile(file)).toEqual([])
    },
    120_000,
  )
})

describe('the blocks marked to run run against Redis, print, and exit by themselves', () => {
  const runs = blocks.filter((block) => block.mark === 'runs')

  test.each(runs.map((block) => [name(block), block] as const))(
    '%s',
    async (_name, block) => {
      // CommonJS wrapped in an async function, for the top-level awaits; ts-node loads lib/ as `sessionvault`.
      const { outputText } = ts.transpileModule(block.code, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      })
      const file = join(work, `${name(block).replace(/[^\w]+/g, '-')}.js`)
      writeFileSync(file, `(async () => {\n${outputText}\n})().catch((error) => {\n  console.error(error)\n  process.exitCode = 1\n})\n`)
      const { code, stdout, stderr } = await new Promise<{ code: number | string | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['-r', 'ts-node/register/transpile-only', file],
          { cwd: root, env: { ...process.env, REDIS_URL: redisUrl() }, timeout: 30_000, encoding: 'utf8' },
          (error, stdout, stderr) => resolve({ code: error === null ? 0 : (error.code ?? error.signal ?? null), stdout, stderr }),
        )
      })
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      expect(stdout.trim()).not.toBe('')
    },
    40_000,
  )
})

describe("README's links work on the registry's page too", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const links = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((match) => match[1]!)
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^\w\- ]/g, '')
      .replace(/ /g, '-')
  const anchors = new Set([...readme.matchAll(/^#+ (.+)$/gm)].map((match) => slug(match[1]!)))

  test('every link is absolute, or an anchor of a heading of README', () => {
    expect(links.length).toBeGreaterThan(5)
    const broken = links.filter((link) => !/^https:\/\//.test(link) && !(link.startsWith('#') && anchors.has(link.slice(1))))
    expect(broken).toEqual([])
  })

  test("every link to this repository's files names a file that exists", () => {
    const files = links.flatMap((link) => {
      const match =
        /^https:\/\/(?:github\.com\/sessionvault\/sessionvault\/blob|raw\.githubusercontent\.com\/sessionvault\/sessionvault)\/main\/(.+)$/.exec(
          link,
        )
      return match ? [match[1]!] : []
    })
    expect(files.length).toBeGreaterThanOrEqual(7)
    expect(files.filter((file) => !existsSync(join(root, file)))).toEqual([])
  })

  test('package.json points to the repository, its home page and its issues', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>
    expect(pkg).toMatchObject({
      repository: { type: 'git', url: 'git+https://github.com/sessionvault/sessionvault.git' },
      homepage: 'https://github.com/sessionvault/sessionvault#readme',
      bugs: { url: 'https://github.com/sessionvault/sessionvault/issues' },
    })
  })
})
