/**
 * How a token travels: read from the `Authorization: Bearer` header or the session cookie, sent
 * back in a `Set-Cookie` or, to a bearer client, in a response header. No cache access here.
 */
import { parseCookie, stringifySetCookie } from 'cookie'
import type { Request, Response } from 'express'
import { arrivedOverHttp, isLoopbackHost, warnInsecureRequest } from '../shared/insecure-request'
import type { ResolvedCookie } from './options'
import { SIGNED_TOKEN_LENGTH } from './signing'

export type TokenSource = 'cookie' | 'bearer'

export interface PresentedToken {
  /**
   * The signed token as sent, not yet verified: one for a bearer header; for the cookie, every
   * cookie of that name the request carries (at most `MAX_SAME_NAME_COOKIES`), in the order sent.
   */
  values: readonly string[]
  source: TokenSource
}

/**
 * Cookies of the session's name read from one request. A sibling subdomain can plant a cookie of
 * the same name (for a `Domain`/`__Secure-` cookie; a `__Host-` one cannot be planted), which the
 * browser then sends beside the real one, often first: each is tried, so a planted one is never
 * the only one read. A few suffice; the rest are ignored.
 */
const MAX_SAME_NAME_COOKIES = 4

const BEARER = 'bearer '
/** No URI-decoding: a signed token is plain base64url, and anything else is refused anyway. */
const AS_SENT = { decode: (text: string) => text }

/**
 * The token a request carries, unverified. A bearer token wins over the cookie: a client that
 * sends one means it. An `Authorization` header of another scheme is left to the app.
 */
export function presentedToken(req: Request, cookie: ResolvedCookie, bearer: boolean): PresentedToken | undefined {
  const authorization = req.headers.authorization
  if (bearer && authorization !== undefined && authorization.slice(0, BEARER.length).toLowerCase() === BEARER) {
    // Exactly one signed token after the scheme and its one space: anything more or less is
    // refused by its length alone, so an oversized header is never read.
    const value = authorization.length === BEARER.length + SIGNED_TOKEN_LENGTH ? authorization.slice(BEARER.length) : ''
    return { values: [value], source: 'bearer' }
  }
  const header = req.headers.cookie
  if (header === undefined) return undefined
  const values = cookieValues(header, cookie.name)
  return values.length === 0 ? undefined : { values, source: 'cookie' }
}

/** Every value of the cookies named `name` in a `Cookie` header, in order; no parse of the others in the usual case of a single one. */
function cookieValues(header: string, name: string): string[] {
  const pairStart = pairStartOf(name)
  const first = header.indexOf(pairStart)
  if (first === -1) return []
  if (header.indexOf(pairStart, first + 1) === -1) {
    // Read in place where the name first appears and starts a pair (so no pair before it can be
    // the cookie); anything odder (`name =`, the name inside another cookie) a full parse decides.
    const inPlace = header.indexOf(name) === first && startsPair(header, first)
    const value = inPlace ? valueAt(header, first + pairStart.length) : parseCookie(header, AS_SENT)[name]
    return value === undefined ? [] : [value]
  }
  const values: string[] = []
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=')
    if (at === -1 || pair.slice(0, at).trim() !== name) continue
    values.push(pair.slice(at + 1).trim())
    if (values.length === MAX_SAME_NAME_COOKIES) break
  }
  return values
}

/** `name=` for each cookie name read: made once, not on every request. */
const pairStarts = new Map<string, string>()

function pairStartOf(name: string): string {
  let pairStart = pairStarts.get(name)
  if (pairStart === undefined) pairStarts.set(name, (pairStart = `${name}=`))
  return pairStart
}

/** Whether the text at `at` starts a cookie pair: only spaces and tabs since the `;` before it, or the start. */
function startsPair(header: string, at: number): boolean {
  let before = at - 1
  while (before >= 0 && isSpaceOrTab(header.charCodeAt(before))) before--
  return before < 0 || header.charCodeAt(before) === SEMICOLON
}

/** A cookie's value from `start` to the next `;`, spaces and tabs trimmed, as the `cookie` package reads it (and as sent: see AS_SENT). */
function valueAt(header: string, start: number): string {
  let end = header.indexOf(';', start)
  if (end === -1) end = header.length
  while (start < end && isSpaceOrTab(header.charCodeAt(start))) start++
  while (end > start && isSpaceOrTab(header.charCodeAt(end - 1))) end--
  return header.slice(start, end)
}

const SEMICOLON = 0x3b

function isSpaceOrTab(code: number): boolean {
  return code === 0x20 || code === 0x09
}

/** Sends a signed token back the way it came: a cookie, or the `renewedTokenHeader` for a bearer client. */
export function deliverToken(
  res: Response,
  source: TokenSource,
  signed: string,
  maxAgeSeconds: number,
  cookie: ResolvedCookie,
  header: string,
): void {
  if (source === 'cookie') return setTokenCookie(res, cookie, signed, maxAgeSeconds)
  res.setHeader(header, signed)
  noStore(res)
}

export function setTokenCookie(res: Response, cookie: ResolvedCookie, signed: string, maxAgeSeconds: number): void {
  if (cookie.secure) warnIfDropped(res.req)
  replaceCookie(res, cookie, signed, maxAgeSeconds)
  noStore(res)
}

/**
 * A browser drops a `Secure` cookie that came over plain HTTP (but from `localhost` and loopback
 * addresses): the login would seem to work and the next request be anonymous.
 */
function warnIfDropped(req: unknown): void {
  if (!arrivedOverHttp(req) || isLoopbackHost(req.hostname)) return
  warnInsecureRequest(
    'sessions()',
    `a Secure session cookie was set in answer to a request that did not arrive over HTTPS (req.secure is false, host ${JSON.stringify(req.hostname)}): browsers drop it, so the next request will not be logged in.`,
  )
}

const NO_STORE_HOOKED = Symbol('sessionvault no-store')
type Hooked = Response & { [NO_STORE_HOOKED]?: true }

/**
 * A response that hands out a token must not be kept by any cache, whatever the route sets
 * later (`Cache-Control: public, max-age=600` on a page that happened to renew the session):
 * `no-store` is set now and again as the headers are written.
 */
export function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store')
  const hooked = res as Hooked
  if (hooked[NO_STORE_HOOKED]) return
  hooked[NO_STORE_HOOKED] = true
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => Response
  res.writeHead = function writeHeadNoStore(this: Response, ...args: unknown[]): Response {
    if (!this.headersSent) this.setHeader('Cache-Control', 'no-store')
    for (const headers of args) {
      if (headers !== null && typeof headers === 'object' && !Array.isArray(headers)) {
        for (const name of Object.keys(headers))
          if (name.toLowerCase() === 'cache-control') delete (headers as Record<string, unknown>)[name]
      }
    }
    return writeHead(...args)
  } as Response['writeHead']
}

export function clearTokenCookie(res: Response, cookie: ResolvedCookie): void {
  replaceCookie(res, cookie, '', 0)
}

function replaceCookie(res: Response, cookie: ResolvedCookie, value: string, maxAge: number): void {
  const line = stringifySetCookie(cookie.name, value, {
    httpOnly: true,
    secure: cookie.secure,
    sameSite: cookie.sameSite,
    path: cookie.path,
    maxAge,
    ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
    ...(maxAge === 0 ? { expires: new Date(0) } : {}),
  })
  // One response, one word on this cookie: the last (a logout then a login sends only the login's).
  const existing = res.getHeader('Set-Cookie')
  const others = (Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]).filter(
    (other) => !other.startsWith(`${cookie.name}=`),
  )
  res.setHeader('Set-Cookie', [...others, line])
}
