/**
 * The Redis layout written out independently of lib/, so layout tests check the documented
 * format (design of 0.2, README "Redis layout") rather than the code against itself.
 *
 *   value key   <namespace>:{<parts before the tagDepth-th>#<bucket>}:<segments from the tagDepth-th on>
 *   home index  <namespace>:_i:{<same tag>}   member: the value key after `{tag}:`, score: expiry ms
 *   value text  <13-digit expiry ms><'v' value | 'x' tombstone><serialized value>
 */
export type SpecPart = string | number

export interface SpecLayout {
  namespace: string
  /** @default 1 */
  tagDepth?: number
  /** @default 1024 */
  buckets?: number
}

export interface SpecPlace {
  valueKey: string
  indexKey: string
  member: string
  /** The hash tag, braces included. */
  tag: string
}

/** `'.sess'` for a short plain string; else base64url (no padding) of a type letter and the part's text. */
export function specSegment(part: SpecPart): string {
  if (typeof part === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(part)) return `.${part}`
  return Buffer.from(typeof part === 'number' ? `n${part}` : `s${part}`, 'utf8').toString('base64url')
}

/** 32-bit FNV-1a over the segment's characters (all ASCII), computed with BigInt. */
export function specFnv1a(text: string): number {
  let hash = 0x811c9dc5n
  for (const char of text) {
    hash ^= BigInt(char.charCodeAt(0))
    hash = (hash * 0x01000193n) % 0x1_0000_0000n
  }
  return Number(hash)
}

export function specBucket(segment: string, buckets = 1024): number {
  return specFnv1a(segment) % buckets
}

/** Where a record lives, by the spec. A key shorter than tagDepth takes its own length as depth. */
export function specPlace(key: SpecPart[], { namespace, tagDepth = 1, buckets = 1024 }: SpecLayout): SpecPlace {
  const segments = key.map(specSegment)
  const depth = Math.min(tagDepth, segments.length)
  const tag = `{${segments.slice(0, depth - 1).join(':')}#${specBucket(segments[depth - 1] as string, buckets)}}`
  const member = segments.slice(depth - 1).join(':')
  return { valueKey: `${namespace}:${tag}:${member}`, indexKey: `${namespace}:_i:${tag}`, member, tag }
}

/** The index of one bucket of a prefix (the parts before the bucket part). */
export function specBucketIndex(namespace: string, above: SpecPart[], bucket: number): string {
  return `${namespace}:_i:{${above.map(specSegment).join(':')}#${bucket}}`
}

/** Decodes index members or value-key tails, by the spec. */
export function specDecodeSegments(joined: string): SpecPart[] {
  return joined.split(':').map((segment) => {
    if (segment.startsWith('.')) return segment.slice(1)
    const text = Buffer.from(segment, 'base64url').toString('utf8')
    return text[0] === 'n' ? Number(text.slice(1)) : text.slice(1)
  })
}

/** The 14-character header in front of a stored value. */
export function specHeader(expiresAtMs: number, kind: 'value' | 'tombstone'): string {
  return String(expiresAtMs).padStart(13, '0') + (kind === 'value' ? 'v' : 'x')
}

/** Reads a stored text by the spec: its expiry, its kind and the serialized value. */
export function specReadStored(text: string): { expiresAtMs: number; mark: string; value: string } {
  expect(text).toMatch(/^\d{13}[vx]/)
  return { expiresAtMs: Number(text.slice(0, 13)), mark: text.slice(13, 14), value: text.slice(14) }
}
