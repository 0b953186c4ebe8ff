/** `sessionvault sessions --user <id>`: a user's sessions, in the store and the token middleware. */
import type { CliOptions } from './cli-options'
import type { CommandResult } from './command-result'
import type { LayerCaches } from './layer-caches'
import { shownValue } from './shown-value'
import { formatTable, formatTtl } from './table'
import { storeSessionsOf, tokenSessionsOf } from './user-sessions'

export async function sessionsCommand(caches: LayerCaches, options: CliOptions, now: number): Promise<CommandResult> {
  const user = options.user as string
  const [stored, tokens] = await Promise.all([storeSessionsOf(caches, user), tokenSessionsOf(caches, user)])
  const sessions = [
    ...stored.map((session) => ({
      layer: session.layer,
      id: session.id,
      expiresAt: new Date(session.expiresAtMs).toISOString(),
      ttlMs: Math.max(0, session.expiresAtMs - now),
      ...(options.values ? { value: shownValue('store-session', session.text) } : {}),
    })),
    ...tokens.map(({ layer, id, expiresAtMs, record }) => ({
      layer,
      id,
      createdAt: new Date(record.createdAt).toISOString(),
      renewedAt: new Date(record.renewedAt).toISOString(),
      expiresAt: new Date(expiresAtMs).toISOString(),
      ttlMs: Math.max(0, expiresAtMs - now),
      ...(options.values ? { value: { metadata: record.metadata, user: record.user } } : {}),
    })),
  ]
  const json = { namespace: options.namespace, user, sessions }
  const rows = sessions.map((session) => [
    session.layer,
    session.id,
    'createdAt' in session ? session.createdAt : '-',
    session.expiresAt,
    formatTtl(session.ttlMs),
    ...(options.values ? [JSON.stringify(session.value)] : []),
  ])
  const table = formatTable(['LAYER', 'ID', 'CREATED', 'EXPIRES', 'TTL', ...(options.values ? ['VALUE'] : [])], rows)
  return { json, text: `${table}\n\n${sessions.length} sessions of user ${JSON.stringify(user)} in namespace '${options.namespace}'` }
}
