/**
 * Compiles the instance's TypeScript (this folder and lib/) to JavaScript once, so that each
 * instance starts as plain node: three ts-node processes would each compile everything again,
 * seconds of CPU on a small machine. Transpile only (tsconfig has isolatedModules; `npm test`
 * type-checks), into node_modules/.cache so that the output still finds node_modules, and only
 * the files whose content changed since the last run. Imports of the package by name
 * (`sessionvault/cache`) become relative requires of the compiled lib/.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import ts from 'typescript'
import { packageSource } from '../../scripts/package-sources'

const ROOT = join(__dirname, '..', '..')
const SOURCES = ['lib', 'examples/load-balanced']
export const COMPILED_ROOT = join(ROOT, 'node_modules', '.cache', 'sessionvault-demo')

const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  inlineSourceMap: true,
  inlineSources: true,
}

/**
 * Compiles what changed and returns the path of the compiled entry point, e.g. `instance.js`.
 * The entry's own folder is compiled too, so a test's entry (e.g. under `__tests__/`) may build on the demo's files.
 */
export function compiledEntry(entry = 'examples/load-balanced/instance.ts'): string {
  const folders = new Set([...SOURCES, dirname(entry)])
  for (const source of [...folders].flatMap((dir) => typeScriptFiles(join(ROOT, dir)))) {
    const target = join(COMPILED_ROOT, relative(ROOT, source)).replace(/\.ts$/, '.js')
    const text = readFileSync(source, 'utf8')
    // The source's hash sits beside the output: content decides, not file times.
    const hash = createHash('sha256').update(ts.version).update('\0').update(text).digest('hex')
    if (readOrEmpty(`${target}.hash`) === hash) continue
    const { outputText } = ts.transpileModule(text, { compilerOptions: COMPILER_OPTIONS, fileName: source })
    mkdirSync(dirname(target), { recursive: true })
    writeAtomically(target, requirePackageFromLib(outputText, dirname(target)))
    writeAtomically(`${target}.hash`, hash)
  }
  return join(COMPILED_ROOT, entry.replace(/\.ts$/, '.js'))
}

function requirePackageFromLib(output: string, dir: string): string {
  return output.replace(/require\("(sessionvault[^"]*)"\)/g, (call, specifier: string) => {
    const source = packageSource(specifier)
    if (source === undefined) return call
    const compiled = join(COMPILED_ROOT, relative(ROOT, source)).replace(/\.ts$/, '.js')
    const path = relative(dir, compiled)
    return `require(${JSON.stringify(path.startsWith('.') ? path : `./${path}`)})`
  })
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return typeScriptFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

// Written aside then renamed: two demos (or test workers) compiling at once never read half a file.
function writeAtomically(path: string, text: string): void {
  const partial = `${path}.${process.pid}.tmp`
  writeFileSync(partial, text)
  renameSync(partial, path)
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
