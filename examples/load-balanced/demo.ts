/**
 * `npm run demo`: the load-balanced demo in one command. Starts the stack (stack.ts), prints
 * where to go, takes a few commands on stdin (kill an instance, restart Redis), and stops
 * everything on Ctrl-C or SIGTERM.
 */
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { DEFAULT_PORT, parseDemoArgs, USAGE, UsageError, type DemoArgs } from './demo-args'
import { startStack, type Stack } from './stack'

const COMMANDS = `Commands: kill N (crash instance N), start N, restart-redis, status, help. Ctrl-C stops everything.`

async function main(): Promise<void> {
  let args: DemoArgs
  try {
    args = parseDemoArgs(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${error.message}\n\n${USAGE}`)
    process.exitCode = 2
    return
  }
  if (args.help) return void console.log(USAGE)

  let port = args.port
  if (port === undefined) {
    port = DEFAULT_PORT
    if (!(await canListen(port))) {
      port = undefined
      console.log(`Port ${DEFAULT_PORT} is taken: nginx gets a free port instead (or choose one with --port).`)
    }
  }

  console.log(`Starting Redis, ${args.instances} instance${args.instances === 1 ? '' : 's'} and nginx…`)
  const started = Date.now()
  const starting = startStack({
    instances: args.instances,
    ...(port === undefined ? {} : { port }),
    ...(args.redisUrl === undefined ? {} : { redisUrl: args.redisUrl }),
    mode: args.mode,
    logRequests: args.logRequests,
    // Inherit a secret, so that sessions outlive a restart of the demo (with --redis-url).
    ...(process.env['SESSION_SECRET'] ? { secret: process.env['SESSION_SECRET'] } : {}),
    log: (line) => console.log(line),
  })
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl-C: go now; the orphan guard and Redis's watchdog end the rest.
      process.exit(130)
    }
    stopping = true
    console.log(`\n${signal}: stopping…`)
    // A Ctrl-C while starting waits for the start, then stops it all.
    void starting
      .then(
        (stack) => stack.stop(),
        () => undefined,
      )
      .then(
        () => {
          console.log('Stopped: nginx, the instances and Redis are gone.')
          process.exit(0)
        },
        (error: unknown) => {
          console.error(error)
          process.exit(1)
        },
      )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)

  const stack = await starting
  if (stopping) return
  console.log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`)
  console.log(status(stack))
  console.log(`
Open ${stack.url} and sign in. Every page says which instance answered.
Try: kill an instance (\`kill 2\` here, or \`kill -9 <pid>\` in another terminal) and keep reloading:
     no page fails, and you stay signed in. \`restart-redis\`: still signed in.
${COMMANDS}
`)
  readCommands(stack)
}

function status(stack: Stack): string {
  const rows: [string, string, string][] = [
    ['nginx', String(stack.nginx.pid), `${stack.url}  (config: ${stack.nginx.prefix}/nginx.conf)`],
    ...stack.instances.map((instance): [string, string, string] => [
      instance.name,
      instance.running ? String(instance.pid) : 'down',
      instance.url,
    ]),
    [
      'redis',
      stack.redis.private ? String(stack.redis.pid ?? '?') : '-',
      `${stack.redis.url}  (${stack.redis.private ? `private, AOF on in ${stack.redis.dir ?? '?'}` : 'yours'})`,
    ],
  ]
  return (
    `Sessions: ${stack.mode === 'token' ? 'token sessions (sessions() middleware)' : 'express-session + RedisSessionStore'}\n` +
    rows.map(([name, pid, where]) => `  ${name.padEnd(12)} pid ${pid.padEnd(8)} ${where}`).join('\n')
  )
}

/** A few commands on stdin. Not a raw terminal: Ctrl-C stays a signal to the whole process group. */
function readCommands(stack: Stack): void {
  const lines = createInterface({ input: process.stdin, terminal: false })
  // One command at a time, in the order typed.
  let queue = Promise.resolve()
  lines.on('line', (line) => {
    queue = queue
      .then(() => run(stack, line.trim()))
      .catch((error: unknown) => console.error(error instanceof Error ? error.message : error))
  })
}

async function run(stack: Stack, line: string): Promise<void> {
  const [command, argument] = line.split(/\s+/)
  const instance = (): NonNullable<Stack['instances'][number]> => {
    const found = stack.instances[Number(argument) - 1]
    if (found === undefined) throw new Error(`no instance ${argument ?? ''}: 1 to ${stack.instances.length}`)
    return found
  }
  switch (command) {
    case '':
    case undefined:
      return
    case 'kill': {
      const target = instance()
      await target.kill('SIGKILL')
      console.log(`${target.name} killed. Reload the page: nginx retries on another instance. \`start ${argument}\` brings it back.`)
      return
    }
    case 'start': {
      const target = instance()
      await target.start()
      console.log(`${target.name} is back (pid ${target.pid}); nginx tries it again within 2 s.`)
      return
    }
    case 'restart-redis':
      console.log('Restarting Redis…')
      await stack.redis.restart()
      await stack.waitUntilHealthy()
      console.log('Redis is back, and every instance with it. Reload: you are still signed in.')
      return
    case 'status':
      console.log(status(stack))
      return
    case 'help':
      console.log(COMMANDS)
      return
    default:
      console.log(`Unknown command ${command}. ${COMMANDS}`)
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
