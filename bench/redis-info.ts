/** What a redis-server says about itself (INFO), read between measurements. */
import type { RedisClientType } from 'redis'

type Client = RedisClientType

/** Commands the bench itself sends while measuring: not the app's. */
const OWN_COMMANDS = new Set(['info'])

/**
 * Calls per command since the server started, from INFO commandstats. Redis counts the commands a
 * script runs as well as the EVALSHA that ran them.
 */
export async function commandCalls(client: Client): Promise<Map<string, number>> {
  const calls = new Map<string, number>()
  for (const match of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name = '', count = '0'] = match
    if (!OWN_COMMANDS.has(name)) calls.set(name, Number(count))
  }
  return calls
}

/** Calls made between two `commandCalls` readings, summed over servers (a cluster's masters). */
export function callsBetween(before: readonly Map<string, number>[], after: readonly Map<string, number>[]): Map<string, number> {
  const delta = new Map<string, number>()
  after.forEach((calls, i) => {
    for (const [name, count] of calls) {
      const added = count - (before[i]?.get(name) ?? 0)
      if (added > 0) delta.set(name, (delta.get(name) ?? 0) + added)
    }
  })
  return delta
}

/** The commands that run scripts (and load them): round trips, but not work of their own. */
const SCRIPT_RUNNERS = /^(evalsha|eval|evalsha_ro|eval_ro|fcall|fcall_ro|script\|.*)$/

/** A `callsBetween` delta split the way the report counts it. */
export interface CommandCount {
  /** Every command Redis ran, inside scripts too, but not the EVALSHA (or SCRIPT LOAD) that ran them. */
  commands: number
  /** The same, per command name. */
  byName: Map<string, number>
  /** EVALSHA and EVAL calls: round trips that are scripts. */
  scripts: number
}

export function countCommands(delta: ReadonlyMap<string, number>): CommandCount {
  const byName = new Map<string, number>()
  let scripts = 0
  for (const [name, count] of delta) {
    if (!SCRIPT_RUNNERS.test(name)) byName.set(name, count)
    else if (!name.startsWith('script|')) scripts += count
  }
  const commands = [...byName.values()].reduce((sum, count) => sum + count, 0)
  return { commands, byName, scripts }
}

export async function usedMemory(client: Client): Promise<number> {
  return infoNumber(await client.info('memory'), 'used_memory')
}

/** CPU time the server has used (user + system), in seconds. */
export async function serverCpuSeconds(client: Client): Promise<number> {
  const info = await client.info('cpu')
  return infoNumber(info, 'used_cpu_user') + infoNumber(info, 'used_cpu_sys')
}

function infoNumber(info: string, field: string): number {
  const value = new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1]
  if (value === undefined) throw new Error(`INFO has no ${field} field`)
  return Number(value)
}
