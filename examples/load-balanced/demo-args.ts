/**
 * The demo's command line, parsed. Pure.
 */
import { AUTH_MODES, isAuthMode, type AuthMode } from './auth'

export const DEFAULT_PORT = 8080

export interface DemoArgs {
  instances: number
  /** undefined: DEFAULT_PORT if it is free, else any free port. */
  port: number | undefined
  redisUrl: string | undefined
  mode: AuthMode
  /** One log line per request. */
  logRequests: boolean
  help: boolean
}

export const USAGE = `Usage: npm run demo -- [options]

Starts Redis, app instances and nginx round-robin in front of them, on 127.0.0.1.

Options:
  --instances N       app instances behind nginx (default 3)
  --port P            nginx's port (default ${DEFAULT_PORT}, or a free one if ${DEFAULT_PORT} is taken)
  --redis-url URL     use this Redis instead of starting a private one (e.g. redis://127.0.0.1:6379)
  --mode MODE         ${AUTH_MODES.join(' or ')} (default token)
  --express-session   the same as --mode express-session
  --quiet             no log line per request
  --help              this text
`

export class UsageError extends Error {
  override name = 'UsageError'
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const args: DemoArgs = { instances: 3, port: undefined, redisUrl: undefined, mode: 'token', logRequests: true, help: false }
  for (let index = 0; index < argv.length; index++) {
    const given = argv[index] as string
    // --name=value and --name value are the same.
    const [name, inline] =
      given.startsWith('--') && given.includes('=')
        ? [given.slice(0, given.indexOf('=')), given.slice(given.indexOf('=') + 1)]
        : [given, undefined]
    const value = (): string => {
      const next = inline ?? argv[++index]
      if (next === undefined || next === '') throw new UsageError(`${name} needs a value`)
      return next
    }
    switch (name) {
      case '--instances':
        args.instances = whole(value(), name, 1, 32)
        break
      case '--port':
        args.port = whole(value(), name, 1, 65535)
        break
      case '--redis-url': {
        const url = value()
        if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis-url must start with redis:// or rediss://, not ${url}`)
        args.redisUrl = url
        break
      }
      case '--mode': {
        const mode = value()
        if (!isAuthMode(mode)) throw new UsageError(`--mode must be ${AUTH_MODES.join(' or ')}, not ${mode}`)
        args.mode = mode
        break
      }
      case '--express-session':
        args.mode = 'express-session'
        break
      case '--quiet':
        args.logRequests = false
        break
      case '--help':
      case '-h':
        args.help = true
        break
      default:
        throw new UsageError(`unknown option ${given}`)
    }
  }
  return args
}

function whole(text: string, option: string, min: number, max: number): number {
  const number = Number(text)
  if (!/^\d+$/.test(text) || number < min || number > max)
    throw new UsageError(`${option} must be a whole number from ${min} to ${max}, not ${text}`)
  return number
}
