/**
 * Which commands write and where their keys are, as the server itself says (COMMAND): so that a
 * MONITOR stream can be sorted into writes per key without a hand-kept list of command names.
 */
import type { RedisClientType } from 'redis'

export interface CommandSpec {
  write: boolean
  /** Legacy key positions: the first key's argument index (0: none), the last (negative: from the end), the step. */
  firstKey: number
  lastKey: number
  step: number
}

export async function commandTable(client: RedisClientType): Promise<Map<string, CommandSpec>> {
  const reply: unknown = await client.sendCommand(['COMMAND'])
  const table = new Map<string, CommandSpec>()
  if (!Array.isArray(reply)) throw new Error('COMMAND did not answer a list')
  for (const entry of reply as unknown[]) {
    if (!Array.isArray(entry)) continue
    const [name, , flags, firstKey, lastKey, step] = entry as unknown[]
    if (typeof name !== 'string' || !Array.isArray(flags)) continue
    table.set(name.toLowerCase(), {
      write: flags.some((flag) => String(flag) === 'write'),
      firstKey: Number(firstKey),
      lastKey: Number(lastKey),
      step: Number(step),
    })
  }
  return table
}

/** The keys of a command (`args[0]` is its name) by its legacy key positions. */
export function keysOf(spec: CommandSpec, args: readonly string[]): string[] {
  if (spec.firstKey <= 0 || spec.step <= 0) return []
  const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey
  const keys: string[] = []
  for (let at = spec.firstKey; at <= last && at < args.length; at += spec.step) keys.push(args[at] as string)
  return keys
}
