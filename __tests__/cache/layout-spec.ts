/**
 * The Redis layout written out independently of lib/, so layout tests check the documented
 * format rather than the code against itself.
 */

/** base64url (no padding) of a type letter and the part's text. */
export function encodeTestPart(part: string | number): string {
  return Buffer.from(typeof part === 'number' ? `n${part}` : `s${part}`).toString('base64url')
}

/** `[namespace, ...key]` as a Redis key name, its first `tagDepth` segments in a `{…}` hash tag. */
export function encodeTestKey(path: (string | number)[], tagDepth: number): string {
  const segments = path.map(encodeTestPart)
  const tag = `{${segments.slice(0, tagDepth).join(':')}}`
  return [tag, ...segments.slice(tagDepth)].join(':')
}

export function decodeTestSegments(joined: string): (string | number)[] {
  return joined.split(':').map((segment) => {
    const text = Buffer.from(segment, 'base64url').toString()
    return text[0] === 'n' ? Number(text.slice(1)) : text.slice(1)
  })
}
