/**
 * One variant's app, in a process of its own (started by bench/app-process.ts): argv is the
 * variant's key and, for the Redis variants, its redis-server's URL. It reports its port, then
 * answers CPU-time questions until told to close; it exits when its parent goes, however it goes.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ParentMessage, WorkerMessage } from './app-process'
import { RoundsProfile } from './rounds-profile'
import { listen, variantByKey, type BuiltApp } from './sessions'

function tell(message: WorkerMessage): void {
  process.send?.(message)
}

async function main(): Promise<void> {
  const [key = '', redisUrl] = process.argv.slice(2)
  let built: BuiltApp | undefined
  let server: Server | undefined
  try {
    built = await variantByKey(key).build(redisUrl)
    server = await listen(built.app)
  } catch (error) {
    tell({ type: 'failed', error: `${key}: ${error instanceof Error ? error.message : String(error)}` })
    await built?.close().catch(() => undefined)
    process.exit(1)
  }
  const app = built
  const listening = server
  const profile = RoundsProfile.fromEnv(key, listening)
  const close = async () => {
    await profile?.write()
    listening.closeAllConnections()
    await new Promise<void>((resolve) => listening.close(() => resolve()))
    await app.close()
    process.exit(0)
  }
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'cpu') {
      // The round starts when we answer: by then the profiler (if any) runs.
      const answer = () => {
        const { user, system } = process.cpuUsage()
        tell({ type: 'cpu', id: message.id, userUs: user, systemUs: system })
      }
      if (profile === undefined) answer()
      else
        profile.start().then(answer, (error: unknown) => {
          // The rounds go on unprofiled rather than wait for an answer that never comes.
          console.error('bench: the CPU profile did not start', error)
          answer()
        })
    } else {
      close().catch(() => process.exit(1))
    }
  })
  tell({ type: 'ready', port: (listening.address() as AddressInfo).port })
}

// The parent gone (even killed): nothing left to do.
process.on('disconnect', () => process.exit(0))

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
