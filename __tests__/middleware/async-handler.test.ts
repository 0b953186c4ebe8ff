// asyncHandler: an async route's failure reaches the app's error handlers on Express 4 as on 5.
import type { ErrorRequestHandler } from 'express'
import request from 'supertest'
import { asyncHandler } from 'sessionvault/middleware'
import { EXPRESS_MAJORS, type ExpressMajor } from '../helpers/express-majors'

/** An app whose error handler answers 418 with the error's message. */
function appWith(express: ExpressMajor, route: Parameters<typeof asyncHandler>[0]) {
  const app = express.create()
  app.get('/route', asyncHandler(route))
  const answer: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    res.status(418).json({ message: error instanceof Error ? error.message : String(error) })
  }
  app.use(answer)
  return app
}

describe.each(EXPRESS_MAJORS)('on $name', (express) => {
  test('a rejection reaches the error handler', async () => {
    const app = appWith(express, async () => {
      await Promise.resolve()
      throw new Error('rejected')
    })
    const res = await request(app).get('/route').timeout(5_000).expect(418)
    expect(res.body).toEqual({ message: 'rejected' })
  })

  test('a synchronous throw reaches the error handler', async () => {
    const app = appWith(express, () => {
      throw new Error('thrown')
    })
    expect((await request(app).get('/route').timeout(5_000).expect(418)).body).toEqual({ message: 'thrown' })
  })

  test('a rejection without a reason still reaches the error handler, not the next route', async () => {
    const app = appWith(express, () => Promise.reject(undefined))
    expect((await request(app).get('/route').timeout(5_000).expect(418)).body).toEqual({ message: 'the route rejected with no reason' })
  })

  test('a route that answers is left alone', async () => {
    const app = express.create()
    app.get(
      '/users/:id',
      asyncHandler(async (req, res) => {
        res.json({ id: req.params['id'] })
      }),
    )
    expect((await request(app).get('/users/7').expect(200)).body).toEqual({ id: '7' })
  })
})
