/**
 * Express 4 and Express 5, for the end-to-end suites: `describe.each(EXPRESS_MAJORS)` runs a
 * suite's apps on both. Apps are typed as Express 4's (see types/express4.d.ts), the weaker of
 * the two: a handler's returned promise counts for nothing, so async routes go through
 * `asyncHandler` and behave the same on both.
 */
import express5 from 'express'
import express4 from 'express4'

/** What the test apps use of Express; an Express 5 app is one too. */
export type ExpressApp = express4.Express

export interface ExpressMajor {
  /** 'Express 4' or 'Express 5', for test names. */
  readonly name: string
  /** A new app. */
  readonly create: () => ExpressApp
  readonly json: typeof express5.json
  readonly urlencoded: typeof express5.urlencoded
}

export const EXPRESS_5: ExpressMajor = { name: 'Express 5', create: () => express5(), json: express5.json, urlencoded: express5.urlencoded }
export const EXPRESS_4: ExpressMajor = { name: 'Express 4', create: () => express4(), json: express4.json, urlencoded: express4.urlencoded }

/** Both majors, newest first: `describe.each(EXPRESS_MAJORS)('... on $name', (express) => …)`. */
export const EXPRESS_MAJORS: readonly ExpressMajor[] = [EXPRESS_5, EXPRESS_4]
