/**
 * Connections the cache opens for itself (the near-cache's, `waitForReplicas`'s) must not keep
 * the process alive: an app that closes its own client and forgets `cache.close()` should still
 * exit. The app's client is the app's, and is left as it is.
 *
 * node-redis: a client's `unref()` unrefs its socket and every socket it reconnects with. A
 * cluster has no `unref()`: each node's client is unrefed as it connects (`node-connect`), on
 * node-redis 5 and 6. A sentinel client offers neither, so its connections stay referenced and
 * `close()` is required there (README, "Near-cache").
 */

interface Unrefable {
  unref(): void
}

interface ClusterNode {
  client?: Partial<Unrefable>
}

interface ClusterLike {
  readonly masters?: readonly ClusterNode[]
  readonly replicas?: readonly ClusterNode[]
  on(event: 'node-connect', listener: () => void): unknown
}

/** Whether `client` will no longer hold the process open: true for a node-redis client or cluster. */
export function unrefConnection(client: unknown): boolean {
  if (typeof client !== 'object' || client === null) return false
  if (typeof (client as Partial<Unrefable>).unref === 'function') {
    ;(client as Unrefable).unref()
    return true
  }
  const cluster = client as Partial<ClusterLike>
  if (typeof cluster.on === 'function' && typeof (client as { getMasters?: unknown }).getMasters === 'function') {
    const unrefNodes = () => {
      for (const node of [...(cluster.masters ?? []), ...(cluster.replicas ?? [])]) node.client?.unref?.()
    }
    cluster.on('node-connect', unrefNodes)
    return true
  }
  return false
}
