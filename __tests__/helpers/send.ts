/** Sends one command straight to one Redis server, as any client's raw `sendCommand` does. */
export type Send = (args: string[]) => Promise<unknown>

/** Every key name matching `pattern` on one server (SCAN to the end; a key may come more than once). */
export async function scanKeys(send: Send, pattern: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = (await send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])) as [string, string[]]
    found.push(...keys)
    cursor = next
  } while (cursor !== '0')
  return found
}
