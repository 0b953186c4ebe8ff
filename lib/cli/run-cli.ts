/**
 * `sessionvault`, the inspector: runs one command line and says how it ended (the exit code).
 * Failures are one line on stderr, never a stack trace: 2 for a bad command line, 1 for Redis.
 */
import { isSessionVaultError } from '../errors'
import { CliUsageError, HELP, parseCommandLine, type CliOptions } from './cli-options'
import type { CommandResult } from './command-result'
import { connect, describeTarget } from './connect'
import { countCommand } from './count-command'
import { layerCaches } from './layer-caches'
import { listCommand } from './list-command'
import { memoryCommand } from './memory-command'
import { NamespaceScan } from './namespace-scan'
import { revokeCommand } from './revoke-command'
import { sessionsCommand } from './sessions-command'

export interface CliOutput {
  out(text: string): void
  error(text: string): void
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, output: CliOutput): Promise<number> {
  let options: CliOptions | 'help'
  try {
    options = parseCommandLine(argv, env)
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error
    output.error(`sessionvault: ${error.message}\nRun 'sessionvault --help' for usage.`)
    return 2
  }
  if (options === 'help') {
    output.out(HELP)
    return 0
  }
  try {
    const result = await run(options)
    output.out(options.json ? JSON.stringify(result.json, null, 2) : result.text)
    return 0
  } catch (error) {
    output.error(`sessionvault: ${failure(error, options)}`)
    return 1
  }
}

async function run(options: CliOptions): Promise<CommandResult> {
  const connection = await connect(options.target, options.timeoutMs)
  try {
    const scan = new NamespaceScan(connection, options.namespace, options.timeoutMs)
    const caches = layerCaches(connection.client, options.namespace, options.buckets, options.timeoutMs)
    switch (options.command) {
      case 'list':
        return await listCommand(scan, options)
      case 'sessions':
        return await sessionsCommand(caches, options, Date.now())
      case 'count':
        return await countCommand(scan)
      case 'memory':
        return await memoryCommand(scan, options)
      case 'revoke':
        return await revokeCommand(scan, caches, options)
    }
  } finally {
    connection.close()
  }
}

/** One line: what failed, where. Our errors never hold values or tokens; others are cut to their message. */
function failure(error: unknown, options: CliOptions): string {
  if (!(error instanceof Error)) return String(error)
  if (isSessionVaultError(error) || error.name === 'CliRedisError') return error.message
  return `${options.command} failed on ${describeTarget(options.target)}: ${error.message}`
}
