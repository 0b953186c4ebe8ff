/**
 * One user's browser for the load tests: a cookie jar and one keep-alive connection, as a
 * browser tab keeps (thousands of fresh connections a second would run a small machine out of
 * ports). The jar takes the cookies of every response that arrives whole; a request that gets no
 * answer (cut, timed out) leaves it as it was, as a browser's would.
 */
import { Agent, request } from 'node:http'

export interface Reply {
  status: number
  /** X-Served-By: the instance that answered; undefined when nginx answered itself (a 502). */
  servedBy: string | undefined
  body: string
  /** When the request left and when its answer was complete, on the `performance.now()` clock. */
  sentAt: number
  receivedAt: number
}

/** Who a 200 answer of /api/me names as signed in: a name, null (nobody), or undefined (not such an answer). */
export function answeredUserOf(reply: Reply): string | null | undefined {
  if (reply.status !== 200) return undefined
  try {
    return (JSON.parse(reply.body) as { user?: string | null }).user ?? null
  } catch {
    return undefined
  }
}

/** A request that got no complete answer: refused, cut, or timed out. */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError'

  constructor(
    message: string,
    /** X-Served-By, when the answer was cut after its headers. */
    readonly servedBy: string | undefined,
    options: { cause: unknown },
  ) {
    super(message, options)
  }
}

/** No answer within this long counts as none: nginx gives up on the instances within 10 s. */
const TIMEOUT_MS = 12_000

export class LoadClient {
  /** name → value, as a browser keeps them for this origin. */
  readonly cookies = new Map<string, string>()
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })

  constructor(
    readonly baseUrl: string,
    /** The user this client signs in as. */
    readonly user: string,
  ) {}

  get(path: string, baseUrl = this.baseUrl): Promise<Reply> {
    return this.send('GET', path, undefined, baseUrl)
  }

  post(path: string, form: Record<string, string>): Promise<Reply> {
    return this.send('POST', path, new URLSearchParams(form).toString(), this.baseUrl)
  }

  /** Another client holding a copy of this one's cookies. */
  copy(): LoadClient {
    const twin = new LoadClient(this.baseUrl, this.user)
    for (const [name, value] of this.cookies) twin.cookies.set(name, value)
    return twin
  }

  /** Closes the kept connection. */
  close(): void {
    this.agent.destroy()
  }

  private send(method: string, path: string, body: string | undefined, baseUrl: string): Promise<Reply> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (this.cookies.size > 0) headers['Cookie'] = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      headers['Content-Length'] = String(Buffer.byteLength(body))
    }
    const sentAt = performance.now()
    return new Promise((resolve, reject) => {
      const fail = (servedBy: string | undefined) => (error: Error) =>
        reject(new NoAnswerError(`${method} ${path}: ${error.message}`, servedBy, { cause: error }))
      const req = request(new URL(path, baseUrl), { method, headers, agent: this.agent, timeout: TIMEOUT_MS }, (res) => {
        const servedBy = headerText(res.headers['x-served-by'])
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('error', fail(servedBy))
        res.on('end', () => {
          this.keepCookies(res.headers['set-cookie'] ?? [])
          resolve({ status: res.statusCode ?? 0, servedBy, body: text, sentAt, receivedAt: performance.now() })
        })
      })
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)))
      req.on('error', fail(undefined))
      req.end(body)
    })
  }

  private keepCookies(lines: readonly string[]): void {
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';')
      const name = pair.slice(0, pair.indexOf('=')).trim()
      const value = pair.slice(pair.indexOf('=') + 1).trim()
      const expired = value === '' || attributes.some((attribute) => /^\s*max-age\s*=\s*0\s*$/i.test(attribute))
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}
