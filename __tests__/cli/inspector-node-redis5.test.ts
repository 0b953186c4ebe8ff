/**
 * The inspector on node-redis 5, which README promises as well as 6: the same compiled inspector,
 * copied into a folder where the `redis` package it loads is node-redis 5 (the `redis5` alias),
 * answers as it does on 6, and revokes.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { connectStandalone, type StandaloneClient } from '../helpers/redis'
import { redisUrl } from '../helpers/env'
import { buildInspector } from './build-inspector'
import { inspectJson, useInspector } from './run-inspector'
import { seed, STORE_NAMESPACE, TOKEN_NAMESPACE } from './seed'

jest.setTimeout(60_000)

const ROOT = join(__dirname, '../..')
const at = () => ['--url', redisUrl()]

let onSix = ''
let onFive = ''
let client: StandaloneClient

beforeAll(async () => {
  onSix = buildInspector()
  // <folder>/build is the compiled library; <folder>/node_modules/redis, node-redis 5.
  const folder = join(ROOT, '.tmp', `cli-redis5-${process.env['JEST_WORKER_ID'] ?? '0'}`)
  rmSync(folder, { recursive: true, force: true })
  cpSync(dirname(dirname(onSix)), join(folder, 'build'), { recursive: true })
  mkdirSync(join(folder, 'node_modules'))
  symlinkSync(join(ROOT, 'node_modules/redis5'), join(folder, 'node_modules/redis'), 'dir')
  onFive = join(folder, 'build/cli/index.js')
  client = await connectStandalone()
}, 120_000)
afterAll(() => client.close())
beforeEach(async () => {
  await client.flushAll()
  await seed(client)
})

/** The major version of the `redis` package the inspector at `path` loads. */
function nodeRedisMajor(path: string): number {
  const entry = createRequire(path).resolve('redis')
  const manifest = join(entry.slice(0, entry.lastIndexOf('/dist/')), 'package.json')
  return Number((JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version.split('.')[0])
}

/** The inspector's JSON answer, on node-redis `path`'s version; TTLs, which move between two runs, left out. */
async function answer(path: string, args: readonly string[]): Promise<unknown> {
  useInspector(path)
  return JSON.parse(JSON.stringify(await inspectJson([...args, ...at()]), (key, value: unknown) => (key === 'ttlMs' ? 'ttl' : value)))
}

test('the copied inspector loads node-redis 5, the other 6', () => {
  expect(nodeRedisMajor(onFive)).toBe(5)
  expect(nodeRedisMajor(onSix)).toBe(6)
})

test.each([
  ['list', '-n', STORE_NAMESPACE],
  ['list', '-n', TOKEN_NAMESPACE, '--values'],
  ['sessions', '-n', STORE_NAMESPACE, '--user', 'ada'],
  ['sessions', '-n', TOKEN_NAMESPACE, '--user', 'ada'],
  ['count', '-n', STORE_NAMESPACE],
  ['memory', '-n', TOKEN_NAMESPACE],
])('%s %s %s … answers the same on node-redis 5 as on 6', async (...args) => {
  const onSixAnswer = await answer(onSix, args)
  expect(onSixAnswer).not.toEqual({})
  expect(await answer(onFive, args)).toEqual(onSixAnswer)
})

test('on node-redis 5, revoke --user ends every session of the user, in both layers', async () => {
  useInspector(onFive)
  expect(await inspectJson(['revoke', '-n', STORE_NAMESPACE, '--user', 'ada', ...at()])).toMatchObject({ revoked: { store: 2, token: 0 } })
  expect(await inspectJson(['revoke', '-n', TOKEN_NAMESPACE, '--user', 'ada', ...at()])).toMatchObject({ revoked: { store: 0, token: 2 } })
  useInspector(onSix)
  expect(await inspectJson(['sessions', '-n', STORE_NAMESPACE, '--user', 'ada', ...at()])).toMatchObject({ sessions: [] })
  expect(await inspectJson(['sessions', '-n', TOKEN_NAMESPACE, '--user', 'ada', ...at()])).toMatchObject({ sessions: [] })
  const bob = (await inspectJson(['sessions', '-n', STORE_NAMESPACE, '--user', 'bob', ...at()])) as { sessions: unknown[] }
  expect(bob.sessions).toHaveLength(1)
})
