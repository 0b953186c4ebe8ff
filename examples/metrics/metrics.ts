/**
 * sessionvault as Prometheus metrics, with prom-client: durations from the diagnostics channels
 * (every Redis-backed call of the cache, the store and the middleware), and counters and state
 * from `stats()`, read when Prometheus scrapes.
 */
import { tracingChannel } from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { CACHE_CHANNEL, MIDDLEWARE_CHANNEL, STORE_CHANNEL, type CacheStats, type OperationContext } from 'sessionvault'

/** A session layer whose `stats()` are exported: the middleware (`sessions()`) or a `RedisSessionStore`. */
export interface StatsSource {
  layer: 'middleware' | 'store'
  stats: () => { operations: Record<string, number>; cache: CacheStats | undefined }
}

export interface SessionMetrics {
  /** Unsubscribes from the channels (the metrics stay registered). */
  stop(): void
}

export function sessionvaultMetrics(registry: Registry, sources: readonly StatsSource[]): SessionMetrics {
  const registers = [registry]
  const duration = new Histogram({
    name: 'sessionvault_operation_duration_seconds',
    help: 'Duration of sessionvault calls, from the diagnostics channels (layer: cache, store or middleware)',
    labelNames: ['layer', 'operation', 'outcome'] as const,
    // From a near-cache hit (tens of microseconds) to a command timeout.
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  })
  const nearCacheReads = new Counter({
    name: 'sessionvault_near_cache_reads_total',
    help: 'Cache gets on a near-cache, by whether memory answered (hit) or Redis (miss), from the diagnostics channel',
    labelNames: ['result'] as const,
    registers,
  })
  new Counter({
    name: 'sessionvault_operations_total',
    help: "Calls of each operation, from stats() (layer cache: the calls of the layers' caches, summed)",
    labelNames: ['layer', 'operation'] as const,
    registers,
    collect() {
      this.reset()
      for (const { layer, stats } of readAll(sources)) {
        for (const [operation, count] of Object.entries(stats.operations)) this.inc({ layer, operation }, count)
        if (stats.cache)
          for (const [operation, count] of Object.entries(stats.cache.operations)) this.inc({ layer: 'cache', operation }, count)
      }
    },
  })
  new Counter({
    name: 'sessionvault_cache_errors_total',
    help: "Calls of a layer's cache that failed with a CacheError (Redis unreachable, breaker open, timeout, unexpected reply), from stats()",
    labelNames: ['cache_of'] as const,
    registers,
    collect() {
      this.reset()
      for (const { layer, stats } of readAll(sources)) if (stats.cache) this.inc({ cache_of: layer }, stats.cache.errors)
    },
  })
  new Gauge({
    name: 'sessionvault_near_cache_entries',
    help: 'Records held in the near-cache, from stats()',
    labelNames: ['cache_of'] as const,
    registers,
    collect() {
      for (const { layer, stats } of readAll(sources)) if (stats.cache?.nearCache) this.set({ cache_of: layer }, stats.cache.nearCache.size)
    },
  })
  new Gauge({
    name: 'sessionvault_breaker_open',
    help: '1 while the circuit breaker refuses calls to some Redis node, from stats()',
    labelNames: ['cache_of'] as const,
    registers,
    collect() {
      for (const { layer, stats } of readAll(sources))
        if (stats.cache?.breaker) this.set({ cache_of: layer }, stats.cache.breaker.state === 'open' ? 1 : 0)
    },
  })

  // Only `asyncEnd`: it comes once per call, success or failure, with `durationMs` set.
  const observe = (context: unknown) => {
    const { layer, operation, durationMs, error } = context as OperationContext
    if (durationMs !== undefined) duration.observe({ layer, operation, outcome: error === undefined ? 'ok' : 'error' }, durationMs / 1000)
    const { nearCache } = context as { nearCache?: 'hit' | 'miss' }
    if (nearCache !== undefined) nearCacheReads.inc({ result: nearCache })
  }
  const channels = [CACHE_CHANNEL, STORE_CHANNEL, MIDDLEWARE_CHANNEL].map((name) => tracingChannel(name))
  for (const channel of channels) channel.asyncEnd.subscribe(observe)
  return {
    stop() {
      for (const channel of channels) channel.asyncEnd.unsubscribe(observe)
    },
  }
}

function readAll(sources: readonly StatsSource[]): { layer: string; stats: ReturnType<StatsSource['stats']> }[] {
  return sources.map((source) => ({ layer: source.layer, stats: source.stats() }))
}
