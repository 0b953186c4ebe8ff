// Stored ids are hashes of express-session's ids; remembering the latest ones must never change
// which hash an id gets.
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { hashedId, rememberedHashedIds } from '../../lib/store/stored-id'

const reference = (sid: string) => createHash('sha256').update(sid).digest().subarray(0, 16).toString('base64url')

test('an id hashes to the first 16 bytes of its SHA-256, base64url', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 64 }), (sid) => hashedId(sid) === reference(sid)))
})

test('remembered hashes are the hashes, whatever the order ids come in and however few are kept', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 8, unit: 'binary' }), { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (sids, kept) => {
      const storedIdOf = rememberedHashedIds(kept)
      return sids.every((sid) => storedIdOf(sid) === reference(sid))
    }),
  )
})
