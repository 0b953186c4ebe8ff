// Proves the fault proxy against the worker's real redis-server: a dropped request never runs, a
// dropped reply's command does, pipelined commands and large values are framed exactly, and
// pause, cut and close hold or end real connections.
import { once } from 'node:events'
import * as net from 'node:net'
import { createClient } from 'redis'
import { connectStandalone, type StandaloneClient } from './redis'
import { eventually, sleep } from './waiting'
import { redisUrl } from './env'
import { RespScanner, startFaultProxy, type FaultProxy, type RespMessage } from './fault-proxy'

// Long enough for a command to cross the proxy many times over on loopback.
const QUIET_MS = 150

let proxy: FaultProxy
let direct: StandaloneClient
let opened: { destroy(): void }[] = []
let key: (name: string) => string

beforeEach(async () => {
  const { hostname, port } = new URL(redisUrl())
  proxy = await startFaultProxy({ target: { host: hostname, port: Number(port) } })
  direct = await connectStandalone()
  opened = [direct]
  const prefix = `fault-proxy:${expect.getState().currentTestName ?? ''}:`
  key = (name) => prefix + name
})

afterEach(async () => {
  for (const each of opened) each.destroy()
  await proxy.close()
  expect(proxy.errors).toEqual([])
})

/** A client through the proxy that never reconnects, so a fault shows as a rejected command. */
async function connectThroughProxy() {
  const client = createClient({ url: proxy.url, socket: { reconnectStrategy: false, connectTimeout: 2_000 } })
  client.on('error', () => undefined) // faults are the point
  opened.push(client)
  await client.connect()
  return client
}

/** A plain TCP connection through the proxy, for byte-exact control of what is sent. */
async function rawConnection(): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port: proxy.port, noDelay: true })
  socket.on('error', () => undefined)
  opened.push(socket)
  await once(socket, 'connect')
  return socket
}

/** Everything the socket receives, as text. */
function inbox(socket: net.Socket): { readonly text: string } {
  let text = ''
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
  return {
    get text() {
      return text
    },
  }
}

function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')
}

/** Tracks a promise without awaiting it, to assert it is still pending. */
function watch<T>(promise: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  let settled = false
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  return {
    promise,
    get settled() {
      return settled
    },
  }
}

describe('forwarding', () => {
  test('logs every forwarded command with its name and first key, handshake included', async () => {
    const client = await connectThroughProxy()
    expect(proxy.commands.names).toContain('HELLO') // node-redis's handshake counts too

    proxy.reset()
    await client.set(key('a'), '1')
    await client.get(key('a'))
    await client.eval('return redis.call("GET", KEYS[1])', { keys: [key('a')] })
    await client.ping()

    expect(proxy.commands).toEqual({
      count: 4,
      names: ['SET', 'GET', 'EVAL', 'PING'],
      entries: [
        { name: 'SET', key: key('a') },
        { name: 'GET', key: key('a') },
        { name: 'EVAL', key: key('a') },
        { name: 'PING', key: undefined },
      ],
    })
  })

  test('commands sent together with Promise.all are counted one by one', async () => {
    const client = await connectThroughProxy()
    proxy.reset()

    const replies = await Promise.all(Array.from({ length: 50 }, () => client.incr(key('counter'))))

    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(proxy.commands.names).toEqual(Array<string>(50).fill('INCR'))
  })

  test('a 1 MB value crosses the proxy intact in both directions', async () => {
    const client = await connectThroughProxy()
    const value = 'x'.repeat(1024 * 1024 - 7) + 'the end'
    proxy.reset()

    await client.set(key('big'), value)
    expect(await client.get(key('big'))).toBe(value)
    expect(proxy.commands.names).toEqual(['SET', 'GET'])
  })

  test('a command arriving a byte at a time is forwarded once, whole', async () => {
    const socket = await rawConnection()
    const reply = once(socket, 'data')

    for (const byte of Buffer.from(resp('SET', key('slow'), 'v\r\nw'))) {
      socket.write(Buffer.from([byte]))
      await sleep(1) // lets the proxy read each byte as a chunk of its own
    }

    expect(String((await reply)[0])).toBe('+OK\r\n')
    expect(proxy.commands.entries).toEqual([{ name: 'SET', key: key('slow') }])
    expect(await direct.get(key('slow'))).toBe('v\r\nw')
  })
})

describe("failCommand(n, 'drop-request')", () => {
  test('the command never runs and the client gets an error', async () => {
    const client = await connectThroughProxy()
    const fault = proxy.failCommand(1, 'drop-request')

    await expect(client.set(key('a'), '1')).rejects.toThrow()

    await expect(fault.fired).resolves.toEqual({ name: 'SET', key: key('a') })
    expect(await direct.get(key('a'))).toBeNull()
    expect(proxy.commands.names).not.toContain('SET')
  })

  test('counts the n-th command from now among those `only` accepts', async () => {
    const client = await connectThroughProxy()
    proxy.failCommand(2, 'drop-request', { only: (name) => name === 'SET' })

    await client.set(key('first'), '1')
    await client.get(key('first'))
    await expect(client.set(key('second'), '2')).rejects.toThrow()

    expect(await direct.get(key('first'))).toBe('1')
    expect(await direct.get(key('second'))).toBeNull()
  })

  test('commands pipelined before it in the same packet still run; those after it do not', async () => {
    const socket = await rawConnection()
    const fault = proxy.failCommand(2, 'drop-request')

    socket.write(resp('SET', key('a'), '1') + resp('SET', key('b'), '2') + resp('SET', key('c'), '3'))
    await once(socket, 'close')

    expect((await fault.fired).key).toBe(key('b'))
    await eventually(async () => (await direct.get(key('a'))) === '1', 2_000, 'the first SET to run')
    expect(await direct.mGet([key('b'), key('c')])).toEqual([null, null])
  })

  test('splits commands sent with Promise.all: those before the dropped one run', async () => {
    const client = await connectThroughProxy()
    proxy.failCommand(25, 'drop-request')

    const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.incr(key('counter'))))

    expect(results.filter((result) => result.status === 'rejected').length).toBeGreaterThanOrEqual(26)
    await eventually(async () => (await direct.get(key('counter'))) === '24', 2_000, '24 INCRs to run')
    expect(proxy.commands.names.filter((name) => name === 'INCR')).toHaveLength(24)
  })
})

describe("failCommand(n, 'drop-reply')", () => {
  test('the command runs but the client gets an error instead of its reply', async () => {
    const client = await connectThroughProxy()
    const fault = proxy.failCommand(1, 'drop-reply', { only: (name) => name === 'SET' })

    await expect(client.set(key('a'), '1')).rejects.toThrow()

    await expect(fault.fired).resolves.toEqual({ name: 'SET', key: key('a') })
    expect(await direct.get(key('a'))).toBe('1')
  })

  test('the filter sees the arguments after the name', async () => {
    const client = await connectThroughProxy()
    proxy.failCommand(1, 'drop-reply', { only: (name, args) => name === 'SET' && args[0] === key('target') })

    await client.set(key('other'), '1')
    await expect(client.set(key('target'), '2')).rejects.toThrow()

    expect(await direct.get(key('target'))).toBe('2')
  })

  test('replies before the lost one reach the client, even a 1 MB one split into many chunks', async () => {
    const client = await connectThroughProxy()
    const big = 'y'.repeat(1024 * 1024)
    await direct.set(key('big'), big)
    proxy.failCommand(1, 'drop-reply', { only: (name) => name === 'SET' })

    const [get, set] = await Promise.allSettled([client.get(key('big')), client.set(key('after'), '1')])

    expect(get).toEqual({ status: 'fulfilled', value: big })
    expect(set.status).toBe('rejected')
    expect(await direct.get(key('after'))).toBe('1')
  })

  test('a lost 1 MB reply is held back whole while the reply before it arrives', async () => {
    const client = await connectThroughProxy()
    await direct.mSet([
      [key('small'), 's'],
      [key('big'), 'z'.repeat(1024 * 1024)],
    ])
    proxy.failCommand(2, 'drop-reply', { only: (name) => name === 'GET' })

    const [small, big] = await Promise.allSettled([client.get(key('small')), client.get(key('big'))])

    expect(small).toEqual({ status: 'fulfilled', value: 's' })
    expect(big.status).toBe('rejected')
  })

  test('RESP3 replies (maps, sets, doubles, nulls) are counted one per command', async () => {
    const client = await connectThroughProxy() // node-redis 6 speaks RESP3 by default
    await direct.hSet(key('hash'), { field: 'value' })
    await direct.sAdd(key('set'), 'member')
    await direct.zAdd(key('zset'), { score: 1.5, value: 'member' })
    proxy.failCommand(1, 'drop-reply', { only: (name) => name === 'SET' })

    const results = await Promise.allSettled([
      client.hGetAll(key('hash')),
      client.sMembers(key('set')),
      client.zScore(key('zset'), 'member'),
      client.get(key('missing')),
      client.set(key('after'), '1'),
    ])

    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'rejected'))).toEqual([
      { field: 'value' },
      ['member'],
      1.5,
      null,
      'rejected',
    ])
    expect(await direct.get(key('after'))).toBe('1')
  })

  test('RESP3 pushes between replies are not mistaken for replies', async () => {
    const socket = await rawConnection()
    const received = inbox(socket)
    socket.write(resp('HELLO', '3') + resp('CLIENT', 'TRACKING', 'ON') + resp('GET', key('tracked')))
    await eventually(() => received.text.endsWith('+OK\r\n_\r\n'), 2_000, 'the replies to HELLO, CLIENT and GET')
    await direct.set(key('tracked'), '1') // Redis now pushes an invalidation to the tracking connection
    await eventually(() => received.text.endsWith(`${key('tracked')}\r\n`), 2_000, 'the invalidation push')
    const before = received.text.length
    proxy.failCommand(2, 'drop-reply')

    socket.write(resp('PING') + resp('ECHO', 'lost'))
    await once(socket, 'close')

    expect(received.text.slice(before)).toBe('+PONG\r\n')
  })

  test('RESP2 replies (arrays, null bulk strings) are counted one per command', async () => {
    const client = createClient({ url: proxy.url, RESP: 2, socket: { reconnectStrategy: false } })
    client.on('error', () => undefined)
    opened.push(client)
    await client.connect()
    await direct.hSet(key('hash'), { field: 'value' })
    proxy.failCommand(1, 'drop-reply', { only: (name) => name === 'SET' })

    const [hash, missing, set] = await Promise.allSettled([
      client.hGetAll(key('hash')),
      client.get(key('missing')),
      client.set(key('after'), '1'),
    ])

    expect(hash).toEqual({ status: 'fulfilled', value: { field: 'value' } })
    expect(missing).toEqual({ status: 'fulfilled', value: null })
    expect(set.status).toBe('rejected')
    expect(await direct.get(key('after'))).toBe('1')
  })
})

describe('pause() and resume()', () => {
  test('a command sent while paused reaches Redis only after resume', async () => {
    const client = await connectThroughProxy()
    proxy.pause()

    const set = watch(client.set(key('a'), '1'))
    await sleep(QUIET_MS) // nothing may happen: the assertion below holds however long we wait

    expect(set.settled).toBe(false)
    expect(await direct.get(key('a'))).toBeNull()
    proxy.resume()
    await expect(set.promise).resolves.toBe('OK')
    expect(await direct.get(key('a'))).toBe('1')
  })

  test('a reply sent while paused reaches the client only after resume', async () => {
    const client = await connectThroughProxy()
    const popped = watch(client.blPop(key('list'), 5))
    await eventually(() => proxy.commands.names.includes('BLPOP'), 2_000, 'BLPOP to be forwarded')
    proxy.pause()

    await direct.lPush(key('list'), 'item')
    await eventually(async () => (await direct.lLen(key('list'))) === 0, 2_000, 'Redis to serve the BLPOP')
    await sleep(QUIET_MS) // Redis has replied; the proxy must hold the reply

    expect(popped.settled).toBe(false)
    proxy.resume()
    await expect(popped.promise).resolves.toEqual({ key: key('list'), element: 'item' })
  })
})

describe('cut() and heal()', () => {
  test('cut closes open connections and refuses new ones until heal', async () => {
    const client = await connectThroughProxy()

    proxy.cut()
    await expect(client.ping()).rejects.toThrow()
    await expect(connectThroughProxy()).rejects.toThrow()

    proxy.heal()
    const healed = await connectThroughProxy()
    expect(await healed.ping()).toBe('PONG')
  })

  test('a reconnecting client gets through again after heal', async () => {
    const client = createClient({
      url: proxy.url,
      socket: { reconnectStrategy: (retries) => (retries < 100 ? 20 : new Error('gave up reconnecting')) },
    })
    client.on('error', () => undefined)
    opened.push(client)
    await client.connect()

    proxy.cut()
    await eventually(() => !client.isReady, 2_000, 'the client to notice the cut')
    const ping = client.ping() // waits in the client's offline queue
    proxy.heal()

    await expect(ping).resolves.toBe('PONG')
  })
})

describe('close()', () => {
  test('closes every connection and stops listening', async () => {
    const client = await connectThroughProxy()
    const port = proxy.port

    await proxy.close()

    await expect(client.ping()).rejects.toThrow()
    const refused = net.connect({ host: '127.0.0.1', port })
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
    expect(error.code).toBe('ECONNREFUSED')
  })
})

describe('RespScanner', () => {
  const replies = [
    '+OK\r\n',
    '-ERR wrong\r\n',
    ':42\r\n',
    '$5\r\nhello\r\n',
    '$4\r\na\r\nb\r\n', // CRLF inside a bulk string
    '$-1\r\n',
    '*-1\r\n',
    '*0\r\n',
    '*2\r\n$1\r\na\r\n*1\r\n:1\r\n',
    '_\r\n',
    ',3.14\r\n',
    '#t\r\n',
    '!3\r\nbad\r\n',
    '=7\r\ntxt:abc\r\n',
    '(12345678901234567890\r\n',
    '%1\r\n+key\r\n~2\r\n:1\r\n:2\r\n',
    '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n',
    '|1\r\n+ttl\r\n:3\r\n$2\r\nok\r\n', // an attribute, then the value it describes: one reply
    '*2\r\n|1\r\n+a\r\n:1\r\n:2\r\n:3\r\n', // an attribute inside an array is no element
  ]
  const stream = Buffer.from(replies.join(''))
  const expected = replies.map((_, i) => ({
    end: Buffer.byteLength(replies.slice(0, i + 1).join('')),
    push: replies[i]?.startsWith('>') ?? false,
  }))

  /** Feeds `chunks` in order and reports each message's end as an offset in the whole stream. */
  function scan(scanner: RespScanner, chunks: Buffer[]): RespMessage[] {
    const found: RespMessage[] = []
    let offset = 0
    for (const chunk of chunks) {
      for (const message of scanner.feed(chunk)) found.push({ ...message, end: offset + message.end })
      offset += chunk.length
    }
    return found
  }

  test('finds the end of every RESP2 and RESP3 reply wherever the stream is split', () => {
    for (let split = 0; split <= stream.length; split++) {
      const found = scan(new RespScanner('replies'), [stream.subarray(0, split), stream.subarray(split)])
      expect(found.map(({ end, push }) => ({ end, push }))).toEqual(expected)
    }
  })

  test('finds the end of every reply fed a byte at a time', () => {
    const bytes = [...stream].map((byte) => Buffer.from([byte]))
    expect(scan(new RespScanner('replies'), bytes).map(({ end, push }) => ({ end, push }))).toEqual(expected)
  })

  test('keeps the arguments of commands, RESP or inline, fed a byte at a time', () => {
    const requests = Buffer.from(resp('SET', 'k', 'v\r\nx') + 'PING\r\n' + resp('GET', 'k'))
    const found = scan(
      new RespScanner('requests'),
      [...requests].map((byte) => Buffer.from([byte])),
    )
    expect(found.map(({ args }) => args.map(String))).toEqual([['SET', 'k', 'v\r\nx'], ['PING'], ['GET', 'k']])
  })

  test('rejects a stream that is not RESP', () => {
    expect(() => new RespScanner('replies').feed(Buffer.from('hello\r\n'))).toThrow(/unexpected RESP type/)
    expect(() => new RespScanner('replies').feed(Buffer.from('$?\r\n'))).toThrow(/unsupported RESP length/)
  })
})
