/**
 * How a token travels: read from the `Authorization: Bearer` header or the session cookie, sent
 * back in a `Set-Cookie` or, to a bearer client, in a response header. No cache access here.
 */
import { parseCookie, stringifySetCookie } from 'cookie'
import type { Request, Response } from 'express'
import type { ResolvedCookie } from './options'
import { SIGNED_TOKEN_LENGTH } from './signing'

export type TokenSource = 'cookie' | 'bearer'

export interface PresentedToken {
  /** The signed token as sent, not yet verified. */
  value: string
  source: TokenSource
}

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
    return { value, source: 'bearer' }
  }
  const header = req.headers.cookie
  if (header === undefined) return undefined
  const value = parseCookie(header, AS_SENT)[cookie.name]
  return value === undefined ? undefined : { value, source: 'cookie' }
}

/** Sends a signed token back the way it came: a cookie, or the `renewedTokenHeader` for a bearer client. */
export function deliverToken(res: Response, source: TokenSource, signed: string, maxAgeSeconds: number, cookie: ResolvedCookie, header: string): void {
  if (source === 'cookie') return setTokenCookie(res, cookie, signed, maxAgeSeconds)
  res.setHeader(header, signed)
  noStore(res)
}

export function setTokenCookie(res: Response, cookie: ResolvedCookie, signed: string, maxAgeSeconds: number): void {
  replaceCookie(res, cookie, signed, maxAgeSeconds)
  noStore(res)
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

/** A response that hands out a token must not be kept by a shared cache. The app may still override it. */
export function noStore(res: Response): void {
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store')
}
