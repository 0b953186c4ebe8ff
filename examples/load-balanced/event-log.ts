/**
 * The demo's event panel: the session events every instance heard (`created`, `renewed`,
 * `ended` with its reason), kept a few minutes in Redis through the sessions' cache, so that any
 * instance can show all of them, whichever instance a change went through.
 */
import type { Cache } from 'sessionvault/cache'
import { ANY, type KeyPart } from 'sessionvault/cache'

/** One line of the panel. */
export interface DemoEvent {
  /** Milliseconds since the epoch. */
  at: number
  /** The instance that emitted it. */
  instance: string
  /** `created`, `renewed`, or the reason a session `ended`. */
  what: string
  user: string
  /** The first characters of the session's id (never a token). */
  session: string
}

/** What a session layer reports, before the log adds the instance and the time. */
export type HeardEvent = Omit<DemoEvent, 'instance' | 'at'> & { at?: number }

const EVENTS: readonly KeyPart[] = ['demo', 'events']
/** How long the panel keeps an event, in ms. */
const KEEP_MS = 10 * 60_000
/** Lines the panel shows, newest first. */
const SHOWN = 12

export class EventLog {
  private count = 0

  constructor(
    private readonly cache: Cache,
    private readonly instance: string,
  ) {}

  /** Stores an event for every instance's panel; a failure (Redis away) only loses that line. */
  record(heard: HeardEvent): void {
    const event: DemoEvent = { ...heard, at: heard.at ?? Date.now(), instance: this.instance }
    const key = [...EVENTS, `${event.at}-${this.instance}-${this.count++}`]
    this.cache.put(key, JSON.stringify(event), { ttlMs: KEEP_MS }).catch(() => undefined)
  }

  /** The latest events, newest first; none when Redis cannot be read. */
  async recent(): Promise<DemoEvent[]> {
    try {
      const records = await this.cache.all([...EVENTS, ANY])
      return records
        .map((record) => JSON.parse(String(record.value)) as DemoEvent)
        .sort((a, b) => b.at - a.at)
        .slice(0, SHOWN)
    } catch {
      return []
    }
  }
}
