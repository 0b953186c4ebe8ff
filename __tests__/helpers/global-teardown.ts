// Jest globalTeardown: stop whatever global-setup.ts started.
import { SHARED_REDIS_KEY, type SharedRedis } from './global-setup'

export default async function globalTeardown(): Promise<void> {
  const shared = (globalThis as Record<string, unknown>)[SHARED_REDIS_KEY] as SharedRedis | undefined
  if (!shared) return
  await Promise.all([...shared.standalone, ...shared.clusters].map((handle) => handle.stop()))
  delete (globalThis as Record<string, unknown>)[SHARED_REDIS_KEY]
}
