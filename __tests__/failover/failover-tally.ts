/**
 * What a failover run measured, per session: every answer (status, who it named, when), every
 * request that got none, and when the session's cookie last changed (a login or a renewal the
 * server acknowledged).
 */
import { answeredUserOf, type Reply } from '../faults/load-client'

interface Outcome {
  session: string
  /** 0: no answer. */
  status: number
  sentAt: number
  receivedAt: number
  /** Who a 200 answer of /api/me names: a user, null (nobody), undefined (not such an answer). */
  answeredUser: string | null | undefined
}

export class FailoverTally {
  private readonly outcomes: Outcome[] = []
  private readonly cookieChanges = new Map<string, number>()
  readonly errors: string[] = []

  answered(session: string, reply: Reply, cookieChanged: boolean): void {
    const answeredUser = answeredUserOf(reply)
    this.outcomes.push({ session, status: reply.status, sentAt: reply.sentAt, receivedAt: reply.receivedAt, answeredUser })
    if (cookieChanged) this.cookieChanges.set(session, reply.receivedAt)
  }

  notAnswered(session: string, sentAt: number, error: unknown): void {
    this.outcomes.push({ session, status: 0, sentAt, receivedAt: performance.now(), answeredUser: undefined })
    this.errors.push(`${session}, sent at ${Math.round(sentAt)} ms: ${error instanceof Error ? error.message : String(error)}`)
  }

  get requests(): number {
    return this.outcomes.length
  }

  /** Answers by status ({ 200: 9000, 503: 120 }); requests with no answer under 0. */
  get statuses(): Record<number, number> {
    const counts: Record<number, number> = {}
    for (const { status } of this.outcomes) counts[status] = (counts[status] ?? 0) + 1
    return counts
  }

  get maxLatencyMs(): number {
    return Math.round(this.outcomes.reduce((max, { sentAt, receivedAt }) => Math.max(max, receivedAt - sentAt), 0))
  }

  /** 200 answers that name someone other than the session's own user, or nobody readably. */
  get wrongAnswers(): string[] {
    return this.outcomes
      .filter(({ status, session, answeredUser }) => status === 200 && answeredUser !== null && answeredUser !== session)
      .map(({ session, answeredUser }) => `${session} answered as ${answeredUser ?? '(unreadable)'}`)
  }

  /** Sessions that some 200 answer called signed out. */
  get signedOutSessions(): Set<string> {
    return new Set(this.outcomes.filter(({ answeredUser }) => answeredUser === null).map(({ session }) => session))
  }

  /** When each answer that was not a 200 came. */
  failuresBetween(from: number, to: number): number {
    return this.outcomes.filter(({ status, receivedAt }) => status !== 200 && receivedAt >= from && receivedAt <= to).length
  }

  /**
   * When the last request that was not answered as its own session was sent (a 503, no answer,
   * or a wrong or signed-out answer for a session outside `lost`): from then on every request
   * was served. undefined when none failed.
   */
  lastFailedSentAt(lost: ReadonlySet<string>): number | undefined {
    let last: number | undefined
    for (const { session, status, sentAt, answeredUser } of this.outcomes) {
      const failed = status !== 200 || (answeredUser !== session && !(answeredUser === null && lost.has(session)))
      if (failed) last = Math.max(last ?? sentAt, sentAt)
    }
    return last
  }

  /** When a session's cookie last changed, on the `performance.now()` clock. */
  lastCookieChange(session: string): number | undefined {
    return this.cookieChanges.get(session)
  }

  /**
   * Milliseconds from `since` until each of `sessions` had been answered as itself to a request
   * sent at or after it: the latest of those; undefined while one never was.
   */
  servedAgainMs(sessions: readonly string[], since: number): number | undefined {
    let latest = since
    for (const session of sessions) {
      const first = this.outcomes.find(
        (outcome) => outcome.session === session && outcome.sentAt >= since && outcome.answeredUser === session,
      )
      if (first === undefined) return undefined
      latest = Math.max(latest, first.receivedAt)
    }
    return latest - since
  }
}
