/**
 * The load generator's process: runs autocannon jobs sent by bench/load.ts over IPC. It lives in
 * its own process so that its event loop never competes with the app under test's.
 */
import autocannon from 'autocannon'
import type { LoadJob, LoadReply } from './load'

function reply(message: LoadReply): void {
  process.send?.(message)
}

/** Per connection: the answer owed to the request in flight (one at a time: no pipelining). */
interface Context {
  expected?: string
}

function run(id: number, job: LoadJob): void {
  let next = 0
  let mismatches = 0
  autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.seconds,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        path: '/me',
        // Round robin over every logged-in client, across all connections.
        setupRequest: (request, context: Context) => {
          const session = job.sessions[next++ % job.sessions.length]
          if (session === undefined) return request
          context.expected = session.body
          return { ...request, headers: { ...request.headers, cookie: session.cookie } }
        },
        onResponse: (status, body, context: Context) => {
          if (status >= 200 && status < 300 && body !== context.expected) mismatches++
        },
      },
    ],
  }).then(
    (result) => {
      reply({
        id,
        result: {
          requests: result.requests.total,
          seconds: result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          mismatches,
        },
      })
    },
    (error: unknown) => reply({ id, error: String(error) }),
  )
}

process.on('message', (message: { id: number; job: LoadJob }) => run(message.id, message.job))

// The parent gone (even killed): nothing left to do.
process.on('disconnect', () => process.exit(0))
