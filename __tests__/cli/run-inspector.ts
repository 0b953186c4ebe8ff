/** Runs the compiled inspector (build-inspector.ts) as a child process, as a user runs it. */
import { execFile } from 'node:child_process'
import { join } from 'node:path'

const ROOT = join(__dirname, '../..')

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** The inspector compiled once per test file (ts-node would compile it again for every run). */
let inspector = ''

export function useInspector(path: string): void {
  inspector = path
}

/** Runs the inspector with `args`; bounded to 30 s. */
export function runInspector(args: readonly string[]): Promise<CliRun> {
  const env = { ...process.env }
  delete env['REDIS_URL']
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [inspector, ...args], { cwd: ROOT, timeout: 30_000, env }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') return reject(error)
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr })
    })
  })
}

/** The inspector's JSON answer, after checking it ended well. */
export async function inspectJson(args: readonly string[]): Promise<unknown> {
  const run = await runInspector([...args, '--json'])
  expect(run).toMatchObject({ code: 0, stderr: '' })
  return JSON.parse(run.stdout)
}
