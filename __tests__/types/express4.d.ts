/**
 * Types for `express4` (an npm alias of express@4, which ships none): the part of its API the
 * tests use, with Express 5's request and response types, which are the same objects. Handlers
 * return `void` because that is what Express 4 does with a returned promise: it drops it, so a
 * rejection reaches no error handler. Passing an async function here is then a lint error
 * (no-misused-promises): it has to go through `asyncHandler`.
 */
declare module 'express4' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http'
  import type { json as json5, NextFunction, Request, Response, urlencoded as urlencoded5 } from 'express'

  namespace express4 {
    type RequestHandler = (req: Request, res: Response, next: NextFunction) => void
    type ErrorHandler = (error: unknown, req: Request, res: Response, next: NextFunction) => void
    type Handler = RequestHandler | ErrorHandler

    interface Express {
      (req: IncomingMessage, res: ServerResponse): void
      use(...handlers: Handler[]): this
      use(path: string, ...handlers: Handler[]): this
      get(path: string, ...handlers: RequestHandler[]): this
      post(path: string, ...handlers: RequestHandler[]): this
      put(path: string, ...handlers: RequestHandler[]): this
      delete(path: string, ...handlers: RequestHandler[]): this
      set(setting: string, value: unknown): this
      listen(port: number, host: string, callback?: () => void): Server
    }

    const json: typeof json5
    const urlencoded: typeof urlencoded5
  }

  function express4(): express4.Express
  export = express4
}
