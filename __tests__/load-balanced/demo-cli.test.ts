// `npm run demo`'s program: it starts, serves through nginx, and a Ctrl-C leaves nothing behind,
// neither a process nor a temporary directory (nginx's prefix, Redis's data).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../../scripts/redis-server'
import { Visitor } from './visitor'

jest.setTimeout(60_000)

const ROOT = join(__dirname, '..', '..')
const START_TIMEOUT_MS = 40_000
const EXIT_TIMEOUT_MS = 15_000

interface RunningDemo {
  child: ChildProcess
  url: string
  output: () => string
  exited: Promise<number | null>
}

/** Starts demo.ts as `npm run demo` does (without the install step) and waits for its URL. */
async function startDemo(args: string[], options: { detached?: boolean } = {}): Promise<RunningDemo> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'examples/load-balanced/demo.ts', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    const url = /^Open (http:\/\/127\.0\.0\.1:\d+) /m.exec(output)?.[1]
    if (url !== undefined) return { child, url, output: () => output, exited }
    if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}:\n${output}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the demo did not print its URL within ${START_TIMEOUT_MS} ms:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The temporary directories the demo printed: nginx's prefix and Redis's data. */
function tempDirs(output: string): string[] {
  const nginx = /config: (\S+)\/nginx\.conf/.exec(output)?.[1]
  const redis = /AOF on in (\S+)\)/.exec(output)?.[1]
  if (nginx === undefined || redis === undefined) throw new Error(`the demo did not print its temporary directories:\n${output}`)
  return [nginx, redis]
}

/** The pids the demo printed in its status table: nginx, each instance, Redis. */
function printedPids(output: string): number[] {
  return [...output.matchAll(/^ {2}(?:nginx|instance-\d+|redis) +pid (\d+) /gm)].map((match) => Number(match[1]))
}

/** Every live descendant of `pid`, from /proc (zombies count as gone). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // pid (comm) state ppid …; comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (state !== 'Z') parents.set(Number(entry), Number(ppid))
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = []
  const walk = (parent: number): void => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child)
        walk(child)
      }
    }
  }
  walk(pid)
  return found
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function waitUntilGone(pids: number[]): Promise<number[]> {
  const deadline = Date.now() + EXIT_TIMEOUT_MS
  for (;;) {
    const left = pids.filter(alive)
    if (left.length === 0 || Date.now() > deadline) return left
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

test('the demo serves through nginx and stops on SIGINT, leaving no process and no temp files behind', async () => {
  const port = await freePort()
  const demo = await startDemo(['--port', String(port), '--instances', '2', '--quiet'])
  try {
    expect(demo.url).toBe(`http://127.0.0.1:${port}`)
    const visitor = new Visitor(demo.url)
    expect((await visitor.post('/login', { name: 'alice' })).status).toBe(303)
    const answers = [await visitor.me(), await visitor.me()]
    expect(answers.map((answer) => answer.user)).toEqual(['alice', 'alice'])
    expect(new Set(answers.map((answer) => answer.servedBy))).toEqual(new Set(['instance-1', 'instance-2']))

    // nginx, 2 instances and Redis, all children of the demo (with helpers: nginx's worker, watchdogs).
    const pids = descendants(demo.child.pid!)
    expect(printedPids(demo.output())).toHaveLength(4)
    expect(pids).toEqual(expect.arrayContaining(printedPids(demo.output())))
    const dirs = tempDirs(demo.output())
    expect(dirs.filter(existsSync)).toEqual(dirs)

    demo.child.kill('SIGINT')
    expect(await within(demo.exited, EXIT_TIMEOUT_MS, 'stopping the demo')).toBe(0)
    expect(demo.output()).toContain('Stopped')
    expect(await waitUntilGone(pids)).toEqual([])
    expect(dirs.filter(existsSync)).toEqual([])
  } finally {
    demo.child.kill('SIGKILL')
  }
})

test('a Ctrl-C in the terminal (SIGINT to the whole process group) also stops everything, in express-session mode', async () => {
  const port = await freePort()
  // Its own process group, as a terminal's foreground job is.
  const demo = await startDemo(['--port', String(port), '--instances', '3', '--express-session', '--quiet'], { detached: true })
  try {
    const visitor = new Visitor(demo.url)
    expect((await visitor.post('/login', { name: 'bob' })).status).toBe(303)
    expect(await visitor.me()).toMatchObject({ mode: 'express-session', user: 'bob' })

    const pids = descendants(demo.child.pid!)
    expect(printedPids(demo.output())).toHaveLength(5)
    expect(pids).toEqual(expect.arrayContaining(printedPids(demo.output())))
    const dirs = tempDirs(demo.output())
    process.kill(-demo.child.pid!, 'SIGINT')
    await within(demo.exited, EXIT_TIMEOUT_MS, 'stopping the demo')
    expect(await waitUntilGone(pids)).toEqual([])
    // Redis's own watchdog got the Ctrl-C too: the demo removes the directory itself.
    expect(dirs.filter(existsSync)).toEqual([])
  } finally {
    demo.child.kill('SIGKILL')
  }
})

// The Ctrl-C test above with the demo killed outright instead: who cleans up differs, so each is written out.
test('a demo killed outright (SIGKILL, no cleanup of its own) still leaves no process and no temp files behind', async () => {
  const demo = await startDemo(['--port', String(await freePort()), '--instances', '2', '--quiet'])
  try {
    const pids = descendants(demo.child.pid!)
    expect(pids).toEqual(expect.arrayContaining(printedPids(demo.output())))
    const dirs = tempDirs(demo.output())
    demo.child.kill('SIGKILL')
    await within(demo.exited, EXIT_TIMEOUT_MS, 'killing the demo')
    // The orphan guard and the Redis watchdog notice their stdin close, and end the rest.
    expect(await waitUntilGone(pids)).toEqual([])
    expect(dirs.filter(existsSync)).toEqual([])
  } finally {
    demo.child.kill('SIGKILL')
  }
})

test('the demo refuses an unknown option with its usage', async () => {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'examples/load-balanced/demo.ts', '--instance', '2'], {
    cwd: ROOT,
  })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), 20_000, 'the demo')
  expect(code).toBe(2)
  expect(output).toContain('unknown option --instance')
  expect(output).toContain('--redis-url URL')
})
