/** What a command prints: JSON for `--json`, text for people. */
export interface CommandResult {
  json: unknown
  text: string
}
