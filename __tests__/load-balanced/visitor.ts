/**
 * A browser without the browser, for the stack tests: keeps its cookies, sends forms, and tells
 * which instance answered. Every request opens a fresh connection (no pooled socket outlives a
 * test) and is bounded in time.
 */
import { request } from 'node:http'

export interface Answer {
  status: number
  /** X-Served-By: the instance that answered. */
  servedBy: string | undefined
  /** X-Upstream: the instances nginx tried, e.g. '127.0.0.1:4001, 127.0.0.1:4002' after a retry. */
  upstream: string | undefined
  location: string | undefined
  body: string
}

export interface Me {
  instance: string
  mode: string
  user: string | null
}

const TIMEOUT_MS = 10_000

export class Visitor {
  /** name → value, as a browser would keep them for this origin. */
  readonly cookies = new Map<string, string>()

  constructor(
    readonly baseUrl: string,
    readonly userAgent = 'sessionvault-tests',
  ) {}

  get(path: string, baseUrl = this.baseUrl): Promise<Answer> {
    return this.send('GET', path, undefined, baseUrl)
  }

  post(path: string, form: Record<string, string> = {}, baseUrl = this.baseUrl): Promise<Answer> {
    return this.send('POST', path, new URLSearchParams(form).toString(), baseUrl)
  }

  /** GET /api/me: who answered, and who it thinks this visitor is. */
  async me(baseUrl = this.baseUrl): Promise<Me & Answer> {
    const answer = await this.get('/api/me', baseUrl)
    if (answer.status !== 200)
      throw new Error(`GET /api/me answered ${answer.status} (from ${answer.servedBy ?? 'nginx'}): ${answer.body.slice(0, 200)}`)
    return { ...answer, ...(JSON.parse(answer.body) as Me) }
  }

  /** Another visitor holding a copy of this one's cookies, as whoever stole them would. */
  copy(): Visitor {
    const twin = new Visitor(this.baseUrl, this.userAgent)
    for (const [name, value] of this.cookies) twin.cookies.set(name, value)
    return twin
  }

  private send(method: string, path: string, body: string | undefined, baseUrl: string): Promise<Answer> {
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, Accept: 'text/html,application/json' }
    if (this.cookies.size > 0) headers['Cookie'] = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      headers['Content-Length'] = String(Buffer.byteLength(body))
    }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, baseUrl), { method, headers, agent: false, timeout: TIMEOUT_MS }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('error', reject)
        res.on('end', () => {
          this.keepCookies(res.headers['set-cookie'] ?? [])
          resolve({
            status: res.statusCode ?? 0,
            servedBy: header(res.headers['x-served-by']),
            upstream: header(res.headers['x-upstream']),
            location: header(res.headers.location),
            body: text,
          })
        })
      })
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${TIMEOUT_MS} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  private keepCookies(lines: string[]): void {
    for (const line of lines) {
      const [pair = '', ...attributes] = line.split(';')
      const name = pair.slice(0, pair.indexOf('=')).trim()
      const value = pair.slice(pair.indexOf('=') + 1).trim()
      const expired = attributes.some((attribute) => /^\s*max-age\s*=\s*0\s*$/i.test(attribute)) || value === ''
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}
