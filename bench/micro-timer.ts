/**
 * Times one step of the request path in isolation, as ns per operation: a warm-up, then several
 * samples whose median is the figure (the spread says how noisy the machine was). A synchronous
 * step runs in a plain loop; an asynchronous one with many calls in flight, as a server under
 * load runs them, and its CPU time is reported beside its wall time.
 */
import { performance } from 'node:perf_hooks'
import { median, range } from './stats'

export interface MicroPlan {
  /** Samples per step: their median is the figure. */
  samples: number
  /** Operations per sample of a synchronous step. */
  syncOps: number
  /** Operations per sample of an asynchronous step. */
  asyncOps: number
  /** Calls in flight for an asynchronous step (the HTTP bench's connections). */
  inFlight: number
}

export interface Timing {
  /** Median wall time per operation, in ns. */
  ns: number
  /** The smallest and largest sample's. */
  spread: [number, number]
  /** Median CPU time (user + system) per operation, in ns. */
  cpuNs: number
}

/** Keeps results alive, so the engine cannot drop a call whose value goes unused. */
const sink: unknown[] = [undefined]

export function timeSync(step: (i: number) => unknown, plan: MicroPlan): Timing {
  const sample = (ops: number) => {
    const cpu = process.cpuUsage()
    const start = performance.now()
    for (let i = 0; i < ops; i++) sink[0] = step(i)
    const wall = performance.now() - start
    const used = process.cpuUsage(cpu)
    return { ns: (wall * 1e6) / ops, cpuNs: ((used.user + used.system) * 1e3) / ops }
  }
  sample(plan.syncOps)
  return summary(Array.from({ length: plan.samples }, () => sample(plan.syncOps)))
}

export async function timeAsync(step: (i: number) => Promise<unknown>, plan: MicroPlan): Promise<Timing> {
  const sample = async (ops: number) => {
    let next = 0
    const worker = async () => {
      while (next < ops) sink[0] = await step(next++)
    }
    const cpu = process.cpuUsage()
    const start = performance.now()
    await Promise.all(Array.from({ length: plan.inFlight }, worker))
    const wall = performance.now() - start
    const used = process.cpuUsage(cpu)
    return { ns: (wall * 1e6) / ops, cpuNs: ((used.user + used.system) * 1e3) / ops }
  }
  await sample(plan.asyncOps)
  const samples = []
  for (let i = 0; i < plan.samples; i++) samples.push(await sample(plan.asyncOps))
  return summary(samples)
}

function summary(samples: readonly { ns: number; cpuNs: number }[]): Timing {
  const ns = samples.map((each) => each.ns)
  return { ns: median(ns), spread: range(ns), cpuNs: median(samples.map((each) => each.cpuNs)) }
}
