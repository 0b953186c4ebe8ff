import { createHash } from 'node:crypto'

/** A Lua script called by its SHA1 (EVALSHA), loaded with EVAL the first time a server lacks it. */
export class LuaScript {
  readonly sha1: string

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha1 = createHash('sha1').update(source).digest('hex')
  }
}
