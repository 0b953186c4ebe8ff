/** Logging bench users in over HTTP, through an app's own `POST /login/:user` (the real login path). */
import { benchUser } from './bench-data'

/** A logged-in client: the `Cookie` header to send, and the answer `GET /me` owes it. */
export interface LoggedIn {
  cookie: string
  body: string
}

/** Logs user `n` in; resolves to the session's cookie. */
export async function logIn(url: string, n: number): Promise<string> {
  const login = await fetch(`${url}/login/${n}`, { method: 'POST' })
  // The whole body: express-session sends all but its last byte before the save is done.
  const answer = await login.text()
  if (!login.ok) throw new Error(`POST /login/${n} answered ${login.status} ${JSON.stringify(answer.slice(0, 200))}`)
  const cookie = login.headers
    .getSetCookie()
    .map((header) => header.split(';')[0])
    .join('; ')
  if (cookie === '') throw new Error(`POST /login/${n} set no cookie`)
  return cookie
}

/** Logs user `n` in and checks, twice, that the cookie opens that user's session: the load then measures what it claims to. */
export async function logInChecked(url: string, n: number): Promise<LoggedIn> {
  const cookie = await logIn(url, n)
  const body = benchUser(n).name
  for (let i = 0; i < 2; i++) {
    const me = await fetch(`${url}/me`, { headers: { cookie } })
    const answer = await me.text()
    if (answer !== body) throw new Error(`GET /me with user ${n}'s cookie answered ${me.status} ${JSON.stringify(answer.slice(0, 200))}`)
  }
  return { cookie, body }
}
