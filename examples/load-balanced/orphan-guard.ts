/**
 * Makes sure the demo's processes and temporary directories end with the process that started
 * them, however it ends (Ctrl-C, a crash, SIGKILL, a killed test worker): a tiny shell holds the
 * list on its stdin, which closes whenever this process is gone; it then stops the processes
 * (TERM, then KILL) and removes the directories.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'

// '+ pid' adds a process, '- pid' removes it, 'd path' adds a directory.
// TERM first: an nginx master stops its workers on TERM, never on KILL.
const GUARD_SCRIPT = `
pids=" "
dirs=""
while read -r op arg; do
  case "$op" in
    +) pids="$pids$arg " ;;
    -) pids=$(printf '%s' "$pids" | sed "s/ $arg / /") ;;
    d) dirs="$dirs
$arg" ;;
  esac
done
if [ -n "$(echo $pids)" ]; then
  kill -TERM $pids 2>/dev/null
  sleep 3
  kill -KILL $pids 2>/dev/null
fi
printf '%s\\n' "$dirs" | while IFS= read -r dir; do
  if [ -n "$dir" ]; then rm -rf -- "$dir"; fi
done
exit 0
`

export class OrphanGuard {
  private readonly child: ChildProcess

  constructor() {
    // detached: a Ctrl-C in the terminal goes to the whole foreground group, and must not end the guard first.
    this.child = spawn('sh', ['-c', GUARD_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true })
    // It must not keep this process alive.
    this.child.unref()
    ;(this.child.stdin as Socket | null)?.unref()
    this.child.stdin?.on('error', () => undefined)
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  track(pid: number | undefined): void {
    if (pid !== undefined) this.child.stdin?.write(`+ ${pid}\n`)
  }

  untrack(pid: number | undefined): void {
    if (pid !== undefined) this.child.stdin?.write(`- ${pid}\n`)
  }

  /** A directory to remove once this process is gone (mkdtemp names hold no newline). */
  removeLater(dir: string): void {
    this.child.stdin?.write(`d ${dir}\n`)
  }

  /** Everything was stopped properly: the guard may go (it has nothing left to kill). */
  close(): void {
    this.child.stdin?.end()
  }
}
