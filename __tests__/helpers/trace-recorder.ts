/**
 * Records what a `node:diagnostics_channel` TracingChannel publishes, as an APM agent would
 * subscribe to it: each event with a copy of the context as it was when published.
 */
import { tracingChannel } from 'node:diagnostics_channel'

export type TraceEvent = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error'

export interface RecordedEvent {
  event: TraceEvent
  context: Record<string, unknown>
}

export interface TraceRecorder {
  readonly events: RecordedEvent[]
  /** The events of each call, in order, grouped by their context object. */
  calls(): { context: Record<string, unknown>; events: TraceEvent[] }[]
  /** Every context as JSON (errors by their message), to search for what must not be there. */
  serialized(): string
  clear(): void
  stop(): void
}

export function recordTraces(name: string): TraceRecorder {
  const channel = tracingChannel<unknown, object>(name)
  const events: RecordedEvent[] = []
  const byContext = new Map<object, { context: Record<string, unknown>; events: TraceEvent[] }>()
  const record = (event: TraceEvent) => (context: object) => {
    const copy = { ...(context as Record<string, unknown>) }
    events.push({ event, context: copy })
    let call = byContext.get(context)
    if (call === undefined) byContext.set(context, (call = { context: copy, events: [] }))
    call.context = copy
    call.events.push(event)
  }
  const subscribers = {
    start: record('start'),
    end: record('end'),
    asyncStart: record('asyncStart'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  }
  channel.subscribe(subscribers)
  return {
    events,
    calls: () => [...byContext.values()],
    serialized: () =>
      JSON.stringify(events, (_key, value: unknown) =>
        value instanceof Error ? `${value.name}: ${value.message} ${JSON.stringify({ ...value })}` : value,
      ),
    clear: () => {
      events.length = 0
      byContext.clear()
    },
    stop: () => channel.unsubscribe(subscribers),
  }
}
