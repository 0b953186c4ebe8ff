// Jest globalSetup: provide a standalone Redis (REDIS_URL) and a Redis cluster
// (REDIS_CLUSTER_NODES) to every test worker, starting local servers for
// whichever of the two is not already given in the environment.
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from './redis-server';

export interface SharedRedis {
  standalone?: RedisServerHandle;
  cluster?: RedisClusterHandle;
}

// globalSetup and globalTeardown run in the same process and share globalThis.
export const SHARED_REDIS_KEY = '__sessionvaultSharedRedis';

export default async function globalSetup(): Promise<void> {
  const shared: SharedRedis = {};
  (globalThis as Record<string, unknown>)[SHARED_REDIS_KEY] = shared;

  // Started in parallel: the cluster takes a few seconds to form.
  const [standalone, cluster] = await Promise.allSettled([
    process.env['REDIS_URL'] ? undefined : startRedisServer(),
    process.env['REDIS_CLUSTER_NODES'] ? undefined : startRedisCluster({ masters: 3 }),
  ]);
  if (standalone.status === 'fulfilled' && standalone.value) shared.standalone = standalone.value;
  if (cluster.status === 'fulfilled' && cluster.value) shared.cluster = cluster.value;

  // Jest skips globalTeardown when globalSetup throws, so clean up here first.
  const failure = [standalone, cluster].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.all([shared.standalone?.stop(), shared.cluster?.stop()]);
    throw failure.reason;
  }

  // Workers are spawned after globalSetup, so they inherit these.
  if (shared.standalone) process.env['REDIS_URL'] = shared.standalone.url;
  if (shared.cluster) process.env['REDIS_CLUSTER_NODES'] = shared.cluster.rootNodes;
}
