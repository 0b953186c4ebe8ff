/**
 * The command line of `sessionvault`: parsed with `node:util`'s `parseArgs`, checked, and
 * resolved once. A bad flag is a `CliUsageError` naming it (exit code 2). Pure, no I/O.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_BUCKETS } from '../defaults'

export const COMMANDS = ['list', 'sessions', 'count', 'memory', 'revoke'] as const
export type CommandName = (typeof COMMANDS)[number]

/** Where Redis is: one server, a Cluster (its nodes), or Sentinel (its sentinels and the master's name). */
export type RedisTarget =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; urls: string[] }
  | { kind: 'sentinel'; sentinels: { host: string; port: number }[]; master: string }

export interface CliOptions {
  command: CommandName
  target: RedisTarget
  namespace: string
  buckets: number
  json: boolean
  values: boolean
  match: string | undefined
  limit: number
  samples: number
  user: string | undefined
  session: string | undefined
  timeoutMs: number
}

/** A command line that cannot be run: the message names the flag. Exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
}

const DEFAULT_URL = 'redis://127.0.0.1:6379'
const DEFAULT_LIMIT = 100
const DEFAULT_SAMPLES = 1_000
const DEFAULT_TIMEOUT_MS = 5_000
const NAMESPACE = /^[A-Za-z0-9_.:/-]{1,64}$/

/** Every flag the command line takes (HELP names each). */
export const FLAGS = {
  url: { type: 'string' },
  cluster: { type: 'string' },
  sentinel: { type: 'string' },
  master: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  buckets: { type: 'string' },
  json: { type: 'boolean' },
  values: { type: 'boolean' },
  match: { type: 'string' },
  limit: { type: 'string' },
  samples: { type: 'string' },
  user: { type: 'string' },
  session: { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** The parsed command line; `'help'` when help was asked for (or no command given). */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CliOptions | 'help' {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true; args: string[] }>>
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true })
  } catch (error) {
    // parseArgs names the flag ("Unknown option '--nope'"); its codes are not part of the message.
    throw new CliUsageError(error instanceof Error ? error.message : String(error))
  }
  const { values, positionals } = parsed
  if (values.help === true || positionals.length === 0) return 'help'
  const [command, ...extra] = positionals
  if (!COMMANDS.includes(command as CommandName)) throw new CliUsageError(`unknown command '${command}' (commands: ${COMMANDS.join(', ')})`)
  if (extra.length > 0) throw new CliUsageError(`unexpected argument '${extra[0]}' after '${command}'`)
  const namespace = values.namespace
  if (namespace === undefined)
    throw new CliUsageError(
      "--namespace is required: the cache's namespace, or the store's prefix without its trailing ':' (e.g. --namespace sess)",
    )
  if (!NAMESPACE.test(namespace.replace(/:$/, '')))
    throw new CliUsageError('--namespace must be 1 to 64 characters from A-Z a-z 0-9 _ - . : /')
  const options: CliOptions = {
    command: command as CommandName,
    target: resolveTarget(values, env),
    namespace: namespace.replace(/:$/, ''),
    buckets: whole(values.buckets, '--buckets', DEFAULT_BUCKETS, 1),
    json: values.json ?? false,
    values: values.values ?? false,
    match: values.match,
    limit: whole(values.limit, '--limit', DEFAULT_LIMIT, 1),
    samples: whole(values.samples, '--samples', DEFAULT_SAMPLES, 1),
    user: nonEmpty(values.user, '--user'),
    session: nonEmpty(values.session, '--session'),
    timeoutMs: whole(values['timeout-ms'], '--timeout-ms', DEFAULT_TIMEOUT_MS, 1),
  }
  if (options.command === 'sessions' && options.user === undefined) throw new CliUsageError('sessions needs --user <id>')
  if (options.command === 'revoke' && options.user === undefined && options.session === undefined) {
    throw new CliUsageError("revoke needs --session <id> (one session) or --user <id> (all of a user's sessions)")
  }
  if (options.command === 'revoke' && options.user !== undefined && options.session !== undefined) {
    throw new CliUsageError('revoke takes --session or --user, not both')
  }
  return options
}

function resolveTarget(
  values: { url?: string | undefined; cluster?: string | undefined; sentinel?: string | undefined; master?: string | undefined },
  env: NodeJS.ProcessEnv,
): RedisTarget {
  const given = (['url', 'cluster', 'sentinel'] as const).filter((flag) => values[flag] !== undefined)
  if (given.length > 1) throw new CliUsageError(`give one of --url, --cluster and --sentinel (got --${given.join(' and --')})`)
  if (values.master !== undefined && values.sentinel === undefined) throw new CliUsageError('--master goes with --sentinel')
  if (values.cluster !== undefined) {
    const urls = values.cluster
      .split(',')
      .map((url) => url.trim())
      .filter((url) => url !== '')
    if (urls.length === 0) throw new CliUsageError('--cluster needs one or more node URLs, separated by commas (redis://host:port,…)')
    urls.forEach((url) => requireRedisUrl(url, '--cluster'))
    return { kind: 'cluster', urls }
  }
  if (values.sentinel !== undefined) {
    if (values.master === undefined) throw new CliUsageError('--sentinel needs --master <name>: the name the sentinels know the master by')
    const sentinels = values.sentinel.split(',').map((address) => {
      const match = /^([^:,\s]+):(\d{1,5})$/.exec(address.trim())
      if (match === null) throw new CliUsageError(`--sentinel takes host:port addresses separated by commas (got '${address}')`)
      return { host: match[1] as string, port: Number(match[2]) }
    })
    return { kind: 'sentinel', sentinels, master: values.master }
  }
  // An empty variable is an unset one, as shells write it (`REDIS_URL= sessionvault …`).
  const fromEnv = env['REDIS_URL'] === '' ? undefined : env['REDIS_URL']
  const url = values.url ?? fromEnv ?? DEFAULT_URL
  requireRedisUrl(url, values.url !== undefined ? '--url' : fromEnv !== undefined ? 'REDIS_URL' : 'the default URL')
  return { kind: 'standalone', url }
}

function requireRedisUrl(url: string, flag: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CliUsageError(`${flag} must be a redis:// or rediss:// URL (got '${redactUrl(url)}')`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new CliUsageError(`${flag} must be a redis:// or rediss:// URL (got '${redactUrl(url)}')`)
}

/** A URL as it may be printed: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString().replace(/\/$/, '')
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@')
  }
}

function whole(text: string | undefined, flag: string, fallback: number, min: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min)
    throw new CliUsageError(`${flag} must be a whole number of at least ${min} (got '${text}')`)
  return value
}

function nonEmpty(text: string | undefined, flag: string): string | undefined {
  if (text === '') throw new CliUsageError(`${flag} must not be empty`)
  return text
}

export const HELP = `sessionvault: look at the sessions sessionvault keeps in Redis

Usage: sessionvault <command> --namespace <ns> [where Redis is] [options]

Commands
  list       the namespace's records: decoded keys, kinds, TTLs and sizes (--match, --limit, --values)
  sessions   one user's sessions, in the store's per-user index and the token middleware (--user)
  count      records by kind
  memory     memory by record kind (MEMORY USAGE of up to --samples keys per kind, scaled up)
  revoke     end one session (--session <id>) or all of a user's (--user <id>), with tombstones

Where Redis is (one of)
  --url redis://[user:password@]host:port   one server (default: $REDIS_URL, else ${DEFAULT_URL})
  --cluster redis://host:port,redis://…     Redis Cluster, by one or more of its nodes
  --sentinel host:port[,host:port] --master <name>   Redis Sentinel

Options
  -n, --namespace <ns>   the cache's namespace, or the store's prefix without its ':' (required)
  --user <id>            a user's id, as the app gives it (userOf / userId)
  --session <id>         a session's id as listed: the store's stored id (store.storedId(req.sessionID)),
                         the token middleware's session.id. Never a cookie or a token.
  --match <parts>        list: keys of these parts, comma-separated, * for any one (e.g. u,ada,*)
  --limit <n>            list: most records shown (default ${DEFAULT_LIMIT})
  --values               list, sessions: show stored values too (they hold user data)
  --samples <n>          memory: keys measured per kind (default ${DEFAULT_SAMPLES})
  --buckets <n>          the caches' buckets option, if changed (default ${DEFAULT_BUCKETS})
  --timeout-ms <ms>      how long to wait for Redis (default ${DEFAULT_TIMEOUT_MS})
  --json                 machine-readable output
  -h, --help             this help

Exit codes: 0 done, 1 Redis could not be reached or failed, 2 a bad command line.
`
