// The part of autocannon's programmatic API the session bench uses (autocannon ships no types).
declare module 'autocannon' {
  interface RequestData {
    method?: string
    path?: string
    headers?: Record<string, string>
  }

  interface RequestOptions<Context> extends RequestData {
    /** Called before each request on a connection; returns the request to send. `context` is per connection. */
    setupRequest?: (request: RequestData, context: Context) => RequestData
    /** Called with each response's status and whole body. */
    onResponse?: (status: number, body: string, context: Context) => void
  }

  interface Options<Context> {
    url: string
    connections?: number
    /** Seconds. */
    duration?: number
    pipelining?: number
    method?: string
    headers?: Record<string, string>
    /** A response whose body differs is counted in `mismatches` (not with `requests`). */
    expectBody?: string
    /** Seconds a request may take before it counts as a timeout. */
    timeout?: number
    /** The requests each connection sends in turn. */
    requests?: RequestOptions<Context>[]
  }

  interface Histogram {
    average: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }

  interface Result {
    /** Milliseconds. */
    latency: Histogram
    /** Requests per one-second sample; `total` is every completed request. */
    requests: Histogram
    /** Seconds the run actually took. */
    duration: number
    errors: number
    timeouts: number
    mismatches: number
    non2xx: number
  }

  function autocannon<Context>(options: Options<Context>): Promise<Result>
  export = autocannon
}
