// A plain TCP proxy that a test can split like a network partition: while split, nothing passes
// either way on open connections, and new ones are accepted but go nowhere, as packets dropped
// by a broken link (nothing is closed or refused: each side only sees silence, and its own
// timeouts decide). Healed, held traffic flows again. It forwards bytes without reading them, so
// it carries a replication stream or sentinel traffic as well as clients' commands.
import * as net from 'node:net'

const HOST = '127.0.0.1'

export interface PartitionProxy {
  readonly port: number
  readonly split: boolean
  /** Holds all traffic, on open connections and new ones, until `heal()`. */
  cut(): void
  heal(): void
  /** Closes every connection and stops listening. Safe to call twice. */
  close(): Promise<void>
}

interface Pair {
  client: net.Socket
  upstream: net.Socket | undefined
}

export async function startPartitionProxy(target: { host?: string; port: number }): Promise<PartitionProxy> {
  const pairs = new Set<Pair>()
  let split = false

  const connectUpstream = (pair: Pair): void => {
    const upstream = net.connect({ host: target.host ?? HOST, port: target.port })
    pair.upstream = upstream
    upstream.setNoDelay(true)
    upstream.on('data', (chunk) => pair.client.write(chunk))
    pair.client.on('data', (chunk) => upstream.write(chunk))
    const end = (): void => {
      pair.client.destroy()
      upstream.destroy()
    }
    upstream.on('error', end).on('close', end)
    pair.client.resume()
  }

  const server = net.createServer((client) => {
    client.setNoDelay(true)
    client.pause()
    const pair: Pair = { client, upstream: undefined }
    pairs.add(pair)
    client
      .on('error', () => pair.upstream?.destroy())
      .on('close', () => {
        pair.upstream?.destroy()
        pairs.delete(pair)
      })
    if (!split) connectUpstream(pair)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, resolve)
  })
  let closed: Promise<void> | undefined

  return {
    port: (server.address() as net.AddressInfo).port,
    get split() {
      return split
    },
    cut() {
      split = true
      for (const { client, upstream } of pairs) {
        client.pause()
        upstream?.pause()
      }
    },
    heal() {
      split = false
      for (const pair of pairs) {
        if (pair.upstream === undefined) connectUpstream(pair)
        pair.client.resume()
        pair.upstream?.resume()
      }
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.destroy()
          upstream?.destroy()
        }
        server.close(() => resolve())
      })
      return closed
    },
  }
}
