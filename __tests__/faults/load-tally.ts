/**
 * What a load run measured: every answer and every request that got none, the faults injected
 * during the run, and from them the figures a test asserts and prints.
 */
import { answeredUserOf, NoAnswerError, type Reply } from './load-client'

/** One answer, or a request that got none (`status` 0). */
interface Outcome {
  user: string
  status: number
  servedBy: string | undefined
  sentAt: number
  receivedAt: number
  /** Who the answer says is signed in: a name, null (nobody), or undefined (not a 200 /api/me answer). */
  answeredUser: string | null | undefined
  /** Why a request got no answer. */
  error?: string
}

/** A request that got no complete answer. */
export interface Unanswered {
  user: string
  sentAt: number
  /** When it failed. */
  endedAt: number
  /** The instance whose answer was cut, when its headers had come. */
  servedBy: string | undefined
  error: string
}

interface Fault {
  name: string
  at: number
  /** Per user: when the first good answer to a request sent after the fault came. */
  recovered: Map<string, number>
}

export class LoadTally {
  private readonly outcomes: Outcome[] = []
  private readonly faults: Fault[] = []
  private readonly rotations = new Map<string, number>()

  constructor(private readonly users: readonly string[]) {}

  /** A fault injected at `at` (performance.now()). */
  fault(name: string, at: number): void {
    this.faults.push({ name, at, recovered: new Map() })
  }

  answered(user: string, reply: Reply, cookieChanged: boolean): void {
    const answeredUser = answeredUserOf(reply)
    this.outcomes.push({
      user,
      status: reply.status,
      servedBy: reply.servedBy,
      sentAt: reply.sentAt,
      receivedAt: reply.receivedAt,
      answeredUser,
    })
    if (cookieChanged) this.rotations.set(user, (this.rotations.get(user) ?? 0) + 1)
    if (answeredUser !== user) return
    for (const fault of this.faults) {
      if (reply.sentAt >= fault.at && !fault.recovered.has(user)) fault.recovered.set(user, reply.receivedAt)
    }
  }

  notAnswered(user: string, sentAt: number, error: unknown): void {
    const servedBy = error instanceof NoAnswerError ? error.servedBy : undefined
    const message = error instanceof Error ? error.message : String(error)
    this.outcomes.push({ user, status: 0, servedBy, sentAt, receivedAt: performance.now(), answeredUser: undefined, error: message })
  }

  get requests(): number {
    return this.outcomes.length
  }

  get unanswered(): Unanswered[] {
    return this.outcomes
      .filter((outcome) => outcome.status === 0)
      .map(({ user, sentAt, receivedAt, servedBy, error = '' }) => ({ user, sentAt, endedAt: receivedAt, servedBy, error }))
  }

  /** Answers by status, e.g. { 200: 9800, 502: 150, 503: 40 }. */
  get statuses(): Record<number, number> {
    const counts: Record<number, number> = {}
    for (const { status } of this.outcomes) if (status !== 0) counts[status] = (counts[status] ?? 0) + 1
    return counts
  }

  get maxLatencyMs(): number {
    return Math.round(this.outcomes.reduce((max, outcome) => Math.max(max, outcome.receivedAt - outcome.sentAt), 0))
  }

  /** 200 answers that name a user other than the client's own (a session served to the wrong person), or that name nobody readably. */
  get wrongAnswers(): string[] {
    return this.outcomes
      .filter((outcome) => outcome.status === 200 && outcome.answeredUser !== null && outcome.answeredUser !== outcome.user)
      .map((outcome) => `${outcome.user} was answered as ${outcome.answeredUser ?? '(unreadable)'} by ${outcome.servedBy ?? 'nginx'}`)
  }

  /** 200 answers that say the client is not signed in. */
  get signedOutAnswers(): number {
    return this.outcomes.filter((outcome) => outcome.answeredUser === null).length
  }

  /** When each answer that was not a 200 came. */
  get failureTimes(): number[] {
    return this.outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 0).map((outcome) => outcome.receivedAt)
  }

  /** How many answers `instance` gave to requests sent at or after `since`. */
  servedBy(instance: string, since: number): number {
    return this.outcomes.filter((outcome) => outcome.servedBy === instance && outcome.sentAt >= since).length
  }

  /** Times a user's session cookie changed value (a renewed token). */
  rotationsOf(user: string): number {
    return this.rotations.get(user) ?? 0
  }

  /**
   * Seconds from the fault until every client had been answered as itself to a request sent
   * after it; undefined while some client never was.
   */
  recoverySeconds(name: string): number | undefined {
    const fault = this.faults.find((candidate) => candidate.name === name)
    if (fault === undefined || fault.recovered.size < this.users.length) return undefined
    return (Math.max(...fault.recovered.values()) - fault.at) / 1000
  }
}
