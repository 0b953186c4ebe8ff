/**
 * One short GET, for health checks while the stack starts: a fresh connection each time (no
 * pooled socket left to keep a process alive or to reach a dead instance), bounded in time.
 */
import { get } from 'node:http'

export interface ProbeResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export function probe(url: string, timeoutMs = 1_000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: timeoutMs }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)))
    request.on('error', reject)
  })
}

export interface UntilOptions {
  timeoutMs: number
  /** The error message once `timeoutMs` has passed. */
  timeoutMessage: () => string
  /** A reason to stop waiting at once (the process being waited for has exited), or undefined. */
  hopeless?: () => string | undefined
}

/** Calls `check` every 50 ms until it returns true (a throw counts as false), within `timeoutMs`. */
export async function until(check: () => Promise<boolean>, { timeoutMs, timeoutMessage, hopeless }: UntilOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    const reason = hopeless?.()
    if (reason !== undefined) throw new Error(reason)
    if (Date.now() > deadline) throw new Error(timeoutMessage())
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
