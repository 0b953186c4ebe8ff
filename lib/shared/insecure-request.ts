/**
 * A `Secure` session cookie set on a request that did not come over HTTPS is lost without a word:
 * the browser drops it (the token middleware), or express-session does not send it (the store).
 * Login then "works" and the next request is anonymous. Said once per process, as a warning with
 * a code, naming what to change.
 *
 * "Over HTTPS" is what Express says: `req.secure`, which follows `X-Forwarded-Proto` only from
 * proxies `app.set('trust proxy', …)` trusts.
 */

/** What the warnings read of an Express request (typed by shape: the cache layer ships no Express types). */
export interface RequestProtocol {
  readonly secure: boolean
  readonly hostname: string
}

/** The code of the warning, for `process.on('warning')` filters. */
export const INSECURE_REQUEST_WARNING = 'SESSIONVAULT_INSECURE_REQUEST'

const FIX =
  "Serve the app over HTTPS; behind a proxy that ends TLS, tell Express to trust it (app.set('trust proxy', …)) so req.secure follows X-Forwarded-Proto; for plain-HTTP development, set cookie.secure to false (express-session also takes 'auto')."

const warned = new Set<string>()

/** Browsers accept a `Secure` cookie from plain-HTTP `localhost` and loopback addresses (a secure context). */
export function isLoopbackHost(hostname: string | undefined): boolean {
  if (hostname === undefined) return false
  const host = hostname.toLowerCase()
  return host === 'localhost' || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host) || host === '[::1]' || host === '::1'
}

/** Whether Express saw `req` arrive over plain HTTP (`req.secure` false); false for anything that is not an Express request. */
export function arrivedOverHttp(req: unknown): req is RequestProtocol {
  return typeof req === 'object' && req !== null && (req as Partial<RequestProtocol>).secure === false
}

/** Emits the warning of `source` (once per process per source): `what` says what was lost. */
export function warnInsecureRequest(source: string, what: string): void {
  if (warned.has(source)) return
  warned.add(source)
  process.emitWarning(`${source}: ${what} ${FIX}`, { code: INSECURE_REQUEST_WARNING })
}
