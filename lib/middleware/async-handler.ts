/**
 * `asyncHandler(route)`: an async route that works on Express 4 as on Express 5.
 *
 * Express 5 hands a route's rejected promise to `next(err)`; Express 4 ignores what a route
 * returns, so a rejection (a `login()` while Redis is down) becomes an unhandled rejection, which
 * ends the process, and the request is never answered. Wrapped, the rejection reaches `next(err)`
 * on both, and so the app's error handlers (`auth.errorHandler` answers an outage with a 503).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'

/** A route that may return a promise: its rejection is the request's error. `P`: its `req.params`. */
export type AsyncRoute<P = Request['params']> = (req: Request<P>, res: Response, next: NextFunction) => unknown

export function asyncHandler<P = Request['params']>(route: AsyncRoute<P>): RequestHandler<P> {
  return function asyncRoute(req, res, next): void {
    let returned: unknown
    try {
      returned = route(req, res, next)
    } catch (error) {
      next(error)
      return
    }
    // A plain value (a route that answered synchronously) needs nothing more.
    if (isPromiseLike(returned)) returned.then(undefined, (error: unknown) => next(error ?? new Error('the route rejected with no reason')))
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}
