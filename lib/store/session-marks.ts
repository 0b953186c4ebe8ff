/**
 * A value the store keeps on each session object it hands out (its stored expiry, when it was
 * first saved, whose it was), under a symbol only this instance knows. JSON, express-session's copy into
 * its Session and its change-detecting hash all ignore symbol keys. Unlike a WeakMap it costs the
 * garbage collector nothing: a WeakMap entry keeps its value alive past the young generation,
 * and every request made one. No I/O.
 */
type Marked<T> = { [mark: symbol]: T | undefined }

export class SessionMarks<T extends number | string = number> {
  private readonly mark = Symbol('sessionvault store mark')

  get(session: object): T | undefined {
    return (session as Marked<T>)[this.mark]
  }

  has(session: object): boolean {
    return this.get(session) !== undefined
  }

  /** A frozen or sealed session (from a custom serializer) is left unmarked: its touches then always write. */
  set(session: object, value: T | undefined): void {
    if (Object.isExtensible(session)) (session as Marked<T>)[this.mark] = value
  }
}
