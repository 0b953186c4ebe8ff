/**
 * The load generator's process: runs autocannon jobs sent by bench/load.ts over IPC. It lives in
 * its own process so that its event loop never competes with the app under test's.
 */
import autocannon from 'autocannon'
import type { LoadJob, LoadReply } from './load'

function reply(message: LoadReply): void {
  process.send?.(message)
}

process.on('message', (message: { id: number; job: LoadJob }) => {
  const { id, job } = message
  autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.seconds,
    pipelining: 1,
    headers: { cookie: job.cookie },
    expectBody: job.expectBody,
    timeout: 10,
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
          mismatches: result.mismatches,
        },
      })
    },
    (error: unknown) => reply({ id, error: String(error) }),
  )
})

// The parent gone (even killed): nothing left to do.
process.on('disconnect', () => process.exit(0))
