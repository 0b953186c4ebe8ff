// The inspector's command line, parsed (lib/cli/cli-options.ts): where Redis is when no flag says,
// the buckets option, and a help text that names every flag. Pure, no Redis.
import { FLAGS, HELP, parseCommandLine } from '../../lib/cli/cli-options'
import { DEFAULT_BUCKETS } from '../../lib/defaults'

const count = (argv: string[] = [], env: NodeJS.ProcessEnv = {}) => parseCommandLine(['count', '-n', 'sess', ...argv], env)

test.each([
  ['nothing', {}, [], 'redis://127.0.0.1:6379'],
  ['REDIS_URL', { REDIS_URL: 'redis://cache.internal:6380' }, [], 'redis://cache.internal:6380'],
  ['an empty REDIS_URL (unset, as shells write it)', { REDIS_URL: '' }, [], 'redis://127.0.0.1:6379'],
  ['--url, over REDIS_URL', { REDIS_URL: 'redis://cache.internal:6380' }, ['--url', 'redis://127.0.0.1:7000'], 'redis://127.0.0.1:7000'],
])('with %s, Redis is at the URL that names', (_, env, argv, url) => {
  expect(count(argv, env)).toMatchObject({ target: { kind: 'standalone', url } })
})

test('a REDIS_URL that is not a Redis URL is refused, naming REDIS_URL', () => {
  expect(() => count([], { REDIS_URL: 'http://cache.internal' })).toThrow(/^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/)
})

test('--buckets is the caches’ buckets option: 1,024 unless given, a whole number of at least 1', () => {
  expect(count()).toMatchObject({ buckets: DEFAULT_BUCKETS })
  expect(DEFAULT_BUCKETS).toBe(1_024)
  expect(count(['--buckets', '64'])).toMatchObject({ buckets: 64 })
  for (const bad of ['0', '-1', '1.5', 'many']) expect(() => count(['--buckets', bad])).toThrow(/--buckets/)
})

test('--help, -h or no command asks for the help, which names every flag and command', () => {
  expect(parseCommandLine(['--help'])).toBe('help')
  expect(parseCommandLine(['-h'])).toBe('help')
  expect(parseCommandLine([])).toBe('help')
  for (const [flag, spec] of Object.entries(FLAGS)) {
    expect(HELP).toContain(`--${flag}`)
    if ('short' in spec) expect(HELP).toContain(`-${spec.short}, --${flag}`)
  }
  for (const command of ['list', 'sessions', 'count', 'memory', 'revoke']) expect(HELP).toMatch(new RegExp(`^  ${command} `, 'm'))
})
