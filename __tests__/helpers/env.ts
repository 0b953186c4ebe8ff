// Where this test worker's Redis servers are: its own (set by global-setup.ts), or those given
// in the environment.

function required(name: string): string {
  const worker = process.env['JEST_WORKER_ID'] ?? '1'
  const value = process.env[name] ?? process.env[`${name}_${worker}`]
  if (!value) {
    throw new Error(`${name} is not set: run the tests through jest (its globalSetup starts Redis) or set ${name} yourself`)
  }
  return value
}

/** Standalone Redis, e.g. 'redis://127.0.0.1:6379'. */
export function redisUrl(): string {
  return required('REDIS_URL')
}

/** Cluster nodes in the shape `createCluster({ rootNodes })` expects. */
export function clusterRootNodes(): { url: string }[] {
  return required('REDIS_CLUSTER_NODES')
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url.length > 0)
    .map((url) => ({ url }))
}
