// The part of autocannon's programmatic API the session bench uses (autocannon ships no types).
declare module 'autocannon' {
  interface Options {
    url: string
    connections?: number
    /** Seconds. */
    duration?: number
    pipelining?: number
    method?: string
    headers?: Record<string, string>
    /** A response whose body differs is counted in `mismatches`. */
    expectBody?: string
    /** Seconds a request may take before it counts as a timeout. */
    timeout?: number
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

  function autocannon(options: Options): Promise<Result>
  export = autocannon
}
