/** Ends the process with an error if the bench is still running after `limitMs`: a stuck bench never holds a machine or a CI job. */
export function giveUpAfter(name: string, limitMs: number): void {
  setTimeout(() => {
    console.error(`${name}: still running after ${limitMs / 60_000} minutes, giving up`)
    process.exit(1)
  }, limitMs).unref()
}
