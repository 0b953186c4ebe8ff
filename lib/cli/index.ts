#!/usr/bin/env node
// The `sessionvault` command (package.json `bin`): see run-cli.ts, or `sessionvault --help`.
import { runCli } from './run-cli'

runCli(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(`${text}\n`),
  error: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`sessionvault: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
