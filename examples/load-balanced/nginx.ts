/**
 * A private nginx in front of the instances: its own config, logs, pid and temp files in a
 * temporary prefix, in the foreground (`daemon off`) so that it is our child and stops with us.
 * Nothing of the system's nginx is read or written.
 */
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { probe, until } from './http-probe'
import { ManagedProcess } from './managed-process'
import { nginxConfig } from './nginx-config'
import type { OrphanGuard } from './orphan-guard'

const START_TIMEOUT_MS = 10_000
// Debian puts nginx in /usr/sbin, often not on a normal user's PATH.
const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/local/nginx/sbin']

export interface NginxOptions {
  port: number
  upstreamPorts: readonly number[]
  guard: OrphanGuard
  /** Where nginx's own output goes, line by line. */
  log: (line: string) => void
}

export interface NginxHandle {
  readonly url: string
  readonly port: number
  readonly pid: number
  /** The private prefix: nginx.conf, error.log, access.log. */
  readonly prefix: string
  /** Fast shutdown (TERM: open keep-alive connections do not hold it up), then the prefix is removed. */
  stop(): Promise<void>
}

export function findNginx(): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS]
  for (const dir of dirs) {
    const path = join(dir, 'nginx')
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here
    }
  }
  throw new Error('nginx is not installed: `sudo apt-get install nginx-light` (or any nginx package)')
}

export async function startNginx({ port, upstreamPorts, guard, log }: NginxOptions): Promise<NginxHandle> {
  const binary = findNginx()
  const prefix = mkdtempSync(join(tmpdir(), 'sessionvault-nginx-'))
  guard.removeLater(prefix)
  const conf = join(prefix, 'nginx.conf')
  const errorLog = join(prefix, 'error.log')
  // As root, nginx's workers would switch to `nobody`, who cannot enter our private prefix.
  const user = process.getuid?.() === 0 ? 'root' : undefined
  writeFileSync(conf, nginxConfig({ prefix, port, upstreamPorts, ...(user === undefined ? {} : { user }) }))

  // -e: even the errors before the config is read go to our log, not the system's.
  const nginx = new ManagedProcess('nginx', binary, ['-p', prefix, '-c', conf, '-e', errorLog, '-g', 'daemon off;'], {
    guard,
    onLine: (line) => log(`[nginx] ${line}`),
    onUnexpectedExit: (how) => log(`[nginx] exited (${how})`),
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    await nginx.stop('SIGTERM')
    rmSync(prefix, { recursive: true, force: true })
  }
  try {
    await until(async () => (await probe(`${url}/healthz`)).status === 200, {
      timeoutMs: START_TIMEOUT_MS,
      timeoutMessage: () => `nginx on port ${port} did not answer within ${START_TIMEOUT_MS} ms:\n${readLog(errorLog)}`,
      hopeless: () => (nginx.running ? undefined : `nginx exited at startup:\n${readLog(errorLog)}\n${nginx.output}`),
    })
  } catch (error) {
    await stop()
    throw error
  }
  return { url, port, pid: nginx.pid, prefix, stop }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-5).join('\n')
  } catch {
    return 'no error log'
  }
}
