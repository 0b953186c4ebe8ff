/** An express-session store's `set()`, as express-session calls it (with a callback), awaited. */
import type { SessionData, Store } from 'express-session'

export function storeSet(store: Store, sid: string, session: SessionData): Promise<void> {
  return new Promise((resolve, reject) => store.set(sid, session, (error?: unknown) => (error ? reject(error) : resolve())))
}
