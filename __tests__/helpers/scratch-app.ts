/**
 * A fresh npm app in a temporary folder, as a user starts one: the packed tarball and the
 * packages the app itself needs, installed with npm, then commands run in it. The packages are
 * pinned to the versions of this repository's lockfile, so npm finds them in its cache.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(__dirname, '..', '..')

/** `name@version` as installed in this repository (so as in its lockfile). */
export function pinned(name: string): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  return `${name}@${version}`
}

/** The environment for npm and node in a scratch app: without the npm_* variables of an `npm test` around it. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')))
  return { ...env, ...extra }
}

export interface RunResult {
  code: number
  output: string
}

export class ScratchApp {
  readonly dir: string

  /** Creates the app's folder, with a package.json: call it in a beforeAll, and remove() in the afterAll. */
  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `sessionvault-${name}-`))
    writeFileSync(join(this.dir, 'package.json'), JSON.stringify({ name, private: true }))
  }

  /** npm install, as a user would (no install scripts: none of these packages needs one). */
  install(packages: string[]): void {
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...packages], {
      cwd: this.dir,
      env: cleanEnv({}),
      stdio: 'pipe',
      timeout: 90_000,
    })
  }

  write(file: string, text: string): void {
    writeFileSync(join(this.dir, file), text)
  }

  /** Runs a command in the app; resolves with its exit code and its stdout and stderr together. */
  run(command: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile(command, args, { cwd: this.dir, env: cleanEnv(env), timeout: 120_000, encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        resolve({ code, output: `${stdout}${stderr}`.trim() })
      })
    })
  }

  /** `tsc --noEmit` on files compiled together, strict and checking the installed declarations too (no skipLibCheck). */
  typeCheck(files: string[], options: string[] = []): Promise<RunResult> {
    return this.run(process.execPath, [
      join(this.dir, 'node_modules/typescript/bin/tsc'),
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      'false',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--types',
      'node',
      ...options,
      ...files,
    ])
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}
