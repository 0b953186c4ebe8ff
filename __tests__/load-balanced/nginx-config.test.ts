// The load balancer's generated configuration: private paths, round robin, retries of idempotent requests only.
import { nginxConfig } from '../../examples/load-balanced/nginx-config'

const config = nginxConfig({ prefix: '/tmp/demo-nginx/', port: 8080, upstreamPorts: [4001, 4002, 4003] })

test('every file nginx writes is inside the private prefix', () => {
  const paths = [...config.matchAll(/^\s*(?:pid|error_log|access_log|\w+_temp_path)\s+(\S+?);?(?:\s|$)/gm)].map((match) => match[1])
  expect(paths).toHaveLength(8)
  for (const path of paths) expect(path).toMatch(/^\/tmp\/demo-nginx\/[a-z_.]+$/)
  expect(config).not.toMatch(/\/etc\/nginx|\/var\/(log|lib)\/nginx|\/run\//)
})

test('one upstream server per instance, round robin (no ip_hash, no sticky), listening on loopback only', () => {
  expect(config.match(/^\s*server 127\.0\.0\.1:\d+ max_fails=1 fail_timeout=2s;$/gm)).toHaveLength(3)
  expect(config).not.toMatch(/ip_hash|hash |sticky|least_conn/)
  expect(config).toContain('listen 127.0.0.1:8080;')
})

test('a failed or 502 instance is skipped (a 503, Redis out of reach, is not); requests already sent are retried only when idempotent', () => {
  expect(config).toContain('proxy_next_upstream error timeout http_502;')
  expect(config).not.toMatch(/proxy_next_upstream[^;]*non_idempotent/)
  expect(config).toContain('proxy_connect_timeout 500ms;')
})

test('the user directive is written only when asked for (nginx started as root)', () => {
  expect(config).not.toMatch(/^user /m)
  expect(nginxConfig({ prefix: '/p', port: 1, upstreamPorts: [2], user: 'root' })).toMatch(/^user root;$/m)
})

test('no upstream is a mistake', () => {
  expect(() => nginxConfig({ prefix: '/p', port: 1, upstreamPorts: [] })).toThrow('at least one upstream')
})
