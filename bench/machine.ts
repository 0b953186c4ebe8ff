/** Where a bench ran: the machine, the versions, and how busy other processes kept it. */
import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { join } from 'node:path'
import type { RedisClientType } from 'redis'

export interface Machine {
  cpu: string
  cores: number
  memoryGiB: number
  node: string
  redis: string
  os: string
}

export async function machine(client: RedisClientType): Promise<Machine> {
  let cpu = cpus()[0]?.model ?? 'unknown'
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu
  } catch {
    // not Linux: os.cpus() it is
  }
  const redis = /^redis_version:(.+)$/m.exec(await client.info('server'))?.[1]?.trim() ?? 'unknown'
  return {
    cpu,
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    redis,
    os: `${process.platform} ${release()}`,
  }
}

/** The version of an installed package, for the results' header. */
export function packageVersion(name: string): string {
  try {
    // Read from node_modules: packages with an `exports` map hide their package.json from require.resolve.
    const file = join(__dirname, '..', 'node_modules', name, 'package.json')
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** CPU seconds of the whole machine and of the given processes (ours), from /proc (Linux only). */
export function cpuSnapshot(pids: readonly number[]): { busy: number; ours: number } | undefined {
  try {
    const ticks = 100 // USER_HZ: 100 on every Linux we run on
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields
    const processTicks = (pid: number | 'self') => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return Number(rest[11]) + Number(rest[12]) // utime, stime
    }
    const ours = [...pids, 'self' as const].reduce((sum: number, pid) => sum + processTicks(pid), 0)
    return { busy: (user + nice + system + irq + softirq + steal) / ticks, ours: ours / ticks }
  } catch {
    return undefined
  }
}
