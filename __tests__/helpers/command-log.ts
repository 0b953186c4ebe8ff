import { createClient } from 'redis'

export interface SentCommand {
  /** The command and its arguments, e.g. ['GET', 'key']. */
  args: string[]
  /** True for commands a Lua script ran, false for those a client sent. */
  fromScript: boolean
}

/**
 * Records, through MONITOR, every command the Redis at `url` runs while `run` runs. A marker
 * sent afterwards tells when the monitor stream has caught up, so nothing races a timer.
 */
export async function recordCommands(url: string, run: () => Promise<unknown>): Promise<SentCommand[]> {
  const monitor = createClient({ url })
  const marker = createClient({ url })
  await Promise.all([monitor.connect(), marker.connect()])
  const lines: string[] = []
  let caughtUp: () => void = () => undefined
  const done = new Promise<void>((resolve) => (caughtUp = resolve))
  const endMark = `__end_of_recording_${process.pid}_${Date.now()}`
  await monitor.monitor((line) => {
    if (String(line).includes(endMark)) caughtUp()
    else lines.push(String(line))
  })
  try {
    await run()
    await marker.echo(endMark)
    await done
  } finally {
    await Promise.all([monitor.close(), marker.close()])
  }
  return lines.map(parseMonitorLine)
}

/** Only what clients sent: one entry per round trip of a client command. */
export function clientCommands(commands: SentCommand[]): string[][] {
  return commands.filter((command) => !command.fromScript).map((command) => command.args)
}

// A line looks like: 1700000000.123456 [0 127.0.0.1:50000] "GET" "key"   ([0 lua] inside scripts)
function parseMonitorLine(line: string): SentCommand {
  const source = /^\S+ \[\d+ ([^\]]+)\]/.exec(line)?.[1] ?? ''
  const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => unescape(match[1] as string))
  return { args, fromScript: source === 'lua' }
}

function unescape(text: string): string {
  return text.replace(/\\x([0-9a-f]{2})|\\(.)/g, (_, hex: string | undefined, char: string | undefined) =>
    hex
      ? String.fromCharCode(parseInt(hex, 16))
      : (({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[char as string] ?? (char as string)),
  )
}
