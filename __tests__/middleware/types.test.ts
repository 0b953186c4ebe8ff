// Compile-time guarantees of the public types: each @ts-expect-error must stay an error.
import type { Request } from 'express'
import { MemoryCache } from 'sessionvault/cache'
import { sessions } from 'sessionvault/middleware'
import { SECRET } from './helpers'

interface User {
  id: number
  name: string
}

const cache = new MemoryCache({ ttlMs: 60_000 })

test('typed request API: the user type flows from sessions<User>() through of(req)', () => {
  const auth = sessions<User, { userAgent: string }>({ cache, secret: SECRET, userId: (user) => user.id })
  const routes = (req: Request): void => {
    const name: string | undefined = auth.of(req).user?.name
    // req.auth is there without a cast, with an unknown user.
    const unknownUser: unknown = req.auth.user
    // @ts-expect-error metadata is required when its type has required fields
    void auth.of(req).login({ id: 1, name: 'a' })
    void auth.of(req).login({ id: 1, name: 'a' }, { metadata: { userAgent: 'ua' } })
    void [name, unknownUser]
  }
  expect(typeof routes).toBe('function')
})

test('options that would be insecure or wrong do not compile', () => {
  const build = (): void => {
    // @ts-expect-error SameSite=None is not offered
    sessions({ cache, secret: SECRET, cookie: { sameSite: 'none' } })
    // @ts-expect-error a user id is a string or a number
    sessions<User>({ cache, secret: SECRET, userId: (user) => ({ id: user.id }) })
  }
  expect(typeof build).toBe('function')
})
