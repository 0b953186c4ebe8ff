// The demo's command line.
import { parseDemoArgs, UsageError } from '../../examples/load-balanced/demo-args'

test('without options: 3 instances, token sessions, a private Redis, the default port', () => {
  expect(parseDemoArgs([])).toEqual({ instances: 3, port: undefined, redisUrl: undefined, mode: 'token', logRequests: true, help: false })
})

test('every option, as --name value and as --name=value', () => {
  const expected = {
    instances: 5,
    port: 9000,
    redisUrl: 'redis://127.0.0.1:6379',
    mode: 'express-session',
    logRequests: false,
    help: false,
  }
  expect(
    parseDemoArgs(['--instances', '5', '--port', '9000', '--redis-url', 'redis://127.0.0.1:6379', '--mode', 'express-session', '--quiet']),
  ).toEqual(expected)
  expect(parseDemoArgs(['--instances=5', '--port=9000', '--redis-url=redis://127.0.0.1:6379', '--express-session', '--quiet'])).toEqual(
    expected,
  )
})

test.each([
  [['--instances', '0'], '--instances must be a whole number from 1 to 32, not 0'],
  [['--instances', '2.5'], '--instances must be a whole number'],
  [['--port', '70000'], '--port must be a whole number from 1 to 65535'],
  [['--port'], '--port needs a value'],
  [['--mode', 'jwt'], '--mode must be token or express-session, not jwt'],
  [['--redis-url', '127.0.0.1:6379'], '--redis-url must start with redis://'],
  [['--instance', '2'], 'unknown option --instance'],
])('%j is refused: %s', (argv, message) => {
  expect(() => parseDemoArgs(argv)).toThrow(UsageError)
  expect(() => parseDemoArgs(argv)).toThrow(message)
})

test('--help asks for the usage', () => {
  expect(parseDemoArgs(['--help']).help).toBe(true)
})
