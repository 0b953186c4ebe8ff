/**
 * The fault matrix, for any session layer: for each operation, a test that counts the Redis
 * commands it sends, then one test per command and fault mode, each from a fresh state (a new
 * namespace, a new app and client): the fault is armed on that command, the operation runs
 * (it may fail), the client reconnects, and the scenario checks what the user and Redis see.
 */
import type { Response, Test } from 'supertest'
import { ANY, RedisCache } from 'sessionvault'
import type { FaultMode } from '../helpers/fault-proxy'
import { faultableRedis, type AppClient, type FaultableRedis, type TopologyName } from './fault-redis'
import { layoutProblems, snapshot, type NamespaceSnapshot } from './namespace-check'
import { scanKeys } from '../helpers/send'

const MODES: readonly FaultMode[] = ['drop-request', 'drop-reply']

/**
 * What an operation a fault made fail answers: a lost connection is Redis out of reach, which
 * both layers answer with a 503 (the middleware's `onUnavailable`, the store's `isUnavailableError`).
 */
const FAILED_STATUS = 503

/** An operation about to run, and what must hold once it has, whatever the fault did. */
export interface Prepared {
  act(): Promise<Response>
  check(res: Response): Promise<void>
}

export interface Scenario<W> {
  name: string
  /** Redis commands the operation sends, once connected (read from the proxies' log). */
  commands: Record<TopologyName, number>
  /** Builds the state the operation starts from (its commands are not counted). */
  prepare(world: W): Promise<Prepared>
}

/** Whether a session can be used, and whether its user's session list shows it. */
export interface Fate {
  usable: boolean
  listed: boolean
}

/** A session layer's app on a fresh namespace. */
export interface World {
  readonly client: AppClient
  /** What a credential handed out (a token, a cookie) opens: its own session, listed or not, or nothing. */
  fate(credential: string): Promise<Fate>
  /** What in Redis later reads would trust wrongly, or a session layer's rule that is broken. */
  problems(): Promise<string[]>
  /** Checks that every credential handed out opens only its own user's session. */
  checkOwnership(): Promise<void>
  close(): Promise<void>
}

export interface Ending {
  /** Credentials of the sessions the operation ends. */
  ending: string[]
  /** Credentials of sessions it must leave working. */
  staying: string[]
  /** The operation, as the user (or admin) sends it, again after a failure. */
  end: () => Test
  /** What a 200 must carry. */
  answered: (res: Response) => void
}

export interface EndingScenario<W> extends Omit<Scenario<W>, 'prepare'> {
  /** The sessions end in one write: all of them, or none. */
  together?: boolean
  prepare: (world: W) => Promise<Ending>
}

/** Each credential opens its own session, which its user's session list shows. */
export async function expectWorking(world: World, credentials: string[]): Promise<void> {
  for (const credential of credentials) expect(await world.fate(credential)).toEqual({ usable: true, listed: true })
}

/**
 * An operation that ends sessions: whatever the fault did, each session it meant to end is
 * wholly working or wholly gone, never half (usable but not listed, or listed but not usable),
 * and gone if the answer said so; the others work; and done again, it ends them all.
 */
export function ending<W extends World>({ together = false, prepare, ...scenario }: EndingScenario<W>): Scenario<W> {
  return {
    ...scenario,
    async prepare(world) {
      const { ending, staying, end, answered } = await prepare(world)
      return {
        act: () => end(),
        async check(res) {
          if (res.status === 200) answered(res)
          const fates: Fate[] = []
          for (const credential of ending) fates.push(await world.fate(credential))
          for (const { usable, listed } of fates) expect(listed).toBe(usable)
          if (res.status === 200) expect(fates.map(({ usable }) => usable)).not.toContain(true)
          if (together) expect(new Set(fates.map(({ usable }) => usable)).size).toBe(1)
          await expectWorking(world, staying)
          await end().expect(200)
          for (const credential of ending) expect(await world.fate(credential)).toEqual({ usable: false, listed: false })
        },
      }
    },
  }
}

export type WorldFactory<W extends World> = (redis: FaultableRedis, namespace: string) => Promise<W>

let namespaces = 0

/** A namespace of the test's own: what a case writes is all there is under it. */
function freshNamespace(): string {
  namespaces += 1
  return `faults-${process.pid}-${Date.now().toString(36)}-${namespaces}`
}

export function describeFaultMatrix<W extends World>(
  topology: TopologyName,
  createWorld: WorldFactory<W>,
  scenarios: readonly Scenario<W>[],
): void {
  let redis: FaultableRedis

  beforeAll(async () => {
    redis = await faultableRedis(topology)
    // A script Redis lacks costs a NOSCRIPT and an EVAL more: load them on every master first.
    await loadScripts(redis)
  })
  afterAll(() => redis?.close())

  for (const scenario of scenarios) {
    const count = scenario.commands[topology]
    describe(scenario.name, () => {
      test(`sends ${count} Redis commands`, async () => {
        await runCase(redis, createWorld, scenario, async (act) => {
          const res = await act()
          expect(res.status).toBe(200)
          expect(redis.commands.map(({ name }) => name)).toHaveLength(count)
          return { res, context: `no fault; the operation sent ${commandList(redis.commands)}` }
        })
      })
      for (const mode of MODES) {
        for (let n = 1; n <= count; n++) {
          test(`${mode} on command ${n} of ${count}`, async () => {
            await runCase(redis, createWorld, scenario, async (act) => {
              const fault = redis.failCommand(n, mode)
              let res: Response
              try {
                res = await act()
              } finally {
                fault.disarm()
              }
              const { hit } = fault
              if (hit === undefined) throw new Error(`the fault never fired: the operation sent ${commandList(redis.commands)}`)
              const context = `${mode} hit ${hit.name} on node ${hit.node}; the operation sent ${commandList(redis.commands)} and answered ${res.status}`
              expect([200, FAILED_STATUS]).toContain(res.status)
              return { res, context }
            })
          })
        }
      }
    })
  }
}

async function runCase<W extends World>(
  redis: FaultableRedis,
  createWorld: WorldFactory<W>,
  scenario: Scenario<W>,
  perform: (act: () => Promise<Response>) => Promise<{ res: Response; context: string }>,
): Promise<void> {
  const world = await createWorld(redis, freshNamespace())
  let context = 'before the operation'
  try {
    const prepared = await scenario.prepare(world)
    redis.reset()
    const performed = await perform(() => prepared.act())
    context = performed.context
    await redis.ready(world.client)
    expect(await world.problems()).toEqual([])
    await prepared.check(performed.res)
    await world.checkOwnership()
    expect(await world.problems()).toEqual([])
  } catch (error) {
    // Which command the fault hit, to read the failure by.
    if (error instanceof Error) error.message = `${context}\n\n${error.message}`
    throw error
  } finally {
    await world.close()
  }
}

/** e.g. 'GET@0, EVALSHA@0' (command@node, in arrival order). */
function commandList(commands: readonly { name: string; node: number }[]): string {
  return commands.length === 0 ? 'no command' : commands.map(({ name, node }) => `${name}@${node}`).join(', ')
}

/** Keys of a namespace read past the proxies, checked for index/value agreement. */
export async function namespaceProblems(
  redis: FaultableRedis,
  namespace: string,
  extra?: (taken: NamespaceSnapshot) => string[],
): Promise<string[]> {
  const taken = await snapshot(namespace, await redis.masters())
  return [...layoutProblems(taken), ...(extra?.(taken) ?? [])]
}

/** Deletes a namespace's keys on every master. */
export async function dropNamespace(redis: FaultableRedis, namespace: string): Promise<void> {
  for (const send of await redis.masters()) {
    for (const key of await scanKeys(send, `${namespace}:*`)) await send(['DEL', key])
  }
}

/** Runs every script of the cache (write, touch, remove, list, count) on every master, past the proxies. */
async function loadScripts(redis: FaultableRedis): Promise<void> {
  const namespace = freshNamespace()
  const cache = new RedisCache({ client: redis.direct, namespace, tagDepth: 2, ttlMs: 10_000 })
  // Keys spread over the buckets, and so over every master.
  const keys = Array.from({ length: 200 }, (_, i) => ['warm', `key${i}`])
  await cache.putMany(keys.map((key) => ({ key, value: 1 })))
  await cache.touchMany(keys)
  await cache.all(['warm', ANY])
  await cache.countUnder(['warm'])
  await Promise.all(keys.map((key) => cache.delete(key, { tombstoneMs: 1_000 })))
  await dropNamespace(redis, namespace)
}
