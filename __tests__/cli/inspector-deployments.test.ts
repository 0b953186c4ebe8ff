/**
 * The inspector on Redis Cluster (`--cluster`, every master scanned) and through Sentinel
 * (`--sentinel … --master …`), with records the layers wrote there.
 */
import { connectCluster, flushAll, SENTINEL_MASTER, sentinelRedis } from '../helpers/redis'
import { clusterRootNodes } from '../helpers/env'
import { buildInspector } from './build-inspector'
import { inspectJson, useInspector } from './run-inspector'
import { seed, STORE_NAMESPACE, TOKEN_NAMESPACE } from './seed'

jest.setTimeout(60_000)

beforeAll(() => useInspector(buildInspector()), 120_000)

test('on Redis Cluster: list, sessions and revoke find the records on every master', async () => {
  const cluster = await connectCluster()
  try {
    await flushAll(cluster)
    const seeded = await seed(cluster)
    const at = [
      '--cluster',
      clusterRootNodes()
        .map((node) => node.url)
        .join(','),
    ]
    expect(await inspectJson(['list', '-n', STORE_NAMESPACE, ...at])).toMatchObject({ total: 7, shown: 7 })
    expect(await inspectJson(['count', '-n', TOKEN_NAMESPACE, ...at])).toMatchObject({ kinds: { 'token-session': { live: 2, ended: 0 } } })
    const { sessions } = (await inspectJson(['sessions', '-n', TOKEN_NAMESPACE, '--user', 'ada', ...at])) as { sessions: { id: string }[] }
    expect(sessions.map((session) => session.id).sort()).toEqual(seeded.tokenIds)
    expect(await inspectJson(['revoke', '-n', STORE_NAMESPACE, '--user', 'ada', ...at])).toMatchObject({ revoked: { store: 2, token: 0 } })
    expect(await inspectJson(['sessions', '-n', STORE_NAMESPACE, '--user', 'ada', ...at])).toMatchObject({ sessions: [] })
  } finally {
    await cluster.close()
  }
})

test('through Sentinel: list, sessions and revoke reach the master the sentinels name', async () => {
  const redis = await sentinelRedis()
  try {
    const seeded = await seed(redis.client)
    const at = ['--sentinel', `127.0.0.1:${redis.sentinel.port}`, '--master', SENTINEL_MASTER]
    expect(await inspectJson(['list', '-n', STORE_NAMESPACE, ...at])).toMatchObject({ total: 7, shown: 7 })
    expect(await inspectJson(['sessions', '-n', STORE_NAMESPACE, '--user', 'ada', ...at])).toMatchObject({
      sessions: seeded.storeIds.ada.map((id) => ({ id })),
    })
    expect(await inspectJson(['revoke', '-n', TOKEN_NAMESPACE, '--session', seeded.tokenIds[0] as string, ...at])).toMatchObject({
      revoked: { store: 0, token: 1 },
    })
    expect(await inspectJson(['count', '-n', TOKEN_NAMESPACE, ...at])).toMatchObject({ kinds: { 'token-session': { live: 1, ended: 0 } } })
  } finally {
    await redis.stop()
  }
})
