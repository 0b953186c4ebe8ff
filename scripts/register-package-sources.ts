/**
 * Makes `require('sessionvault')` and `require('sessionvault/<layer>')` load lib/ (see
 * package-sources.ts), so code run from a clone with ts-node imports the package by name, as
 * users do. tsconfig.json's `ts-node.require` loads it; `paths` there tells tsc the same.
 */
import Module from 'node:module'
import { packageSource } from './package-sources'

type Resolve = (request: string, ...rest: unknown[]) => string
const loader = Module as unknown as { _resolveFilename: Resolve }
const resolve = loader._resolveFilename
loader._resolveFilename = function (this: unknown, request, ...rest) {
  return resolve.call(this, packageSource(request) ?? request, ...rest)
}
