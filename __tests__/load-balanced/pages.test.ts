// The demo's HTML: who answered on every page, everything escaped, the device list's controls.
import { errorPage, homePage, loginPage, type PageContext } from '../../examples/load-balanced/pages'
import { describeUserAgent } from '../../examples/load-balanced/user-agent'

const context: PageContext = { instance: 'instance-2', mode: 'token', detail: 'pid 42, port 4002' }
const devices = [
  {
    id: 'a',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36',
    ip: '127.0.0.1',
    createdAt: Date.UTC(2030, 0, 1, 12),
    current: true,
  },
  { id: 'b/"x"', userAgent: '<script>alert(1)</script>', ip: '::1', createdAt: Date.UTC(2030, 0, 1, 13), current: false },
]

test('every page names the instance that rendered it', () => {
  for (const page of [loginPage(context), homePage(context, 'alice', devices), errorPage(context, 503, 'Redis is out of reach.')]) {
    expect(page).toContain('<span id="served-by" class="served">served by <b>instance-2</b></span>')
  }
})

test('user input is escaped: the name, the user agent, the session id in the form action', () => {
  const page = homePage(context, '<b>mallory</b>', devices)
  expect(page).toContain('&#60;b&#62;mallory&#60;/b&#62;')
  expect(page).not.toContain('<script>')
  expect(page).toContain('title="&#60;script&#62;alert(1)&#60;/script&#62;"')
  expect(page).toContain('action="/devices/b%2F%22x%22/revoke"')
})

test('the current device is marked and has no revoke button; every other one has one', () => {
  const page = homePage(context, 'alice', devices)
  expect(page.match(/<button>Revoke<\/button>/g)).toHaveLength(1)
  expect(page).toContain('<tr data-session-id="a" class="current">')
  expect(page).toContain('this device')
  expect(page).toContain('2030-01-01 12:00:00 UTC')
})

test('"sign out everywhere else" is disabled when there is nowhere else', () => {
  expect(homePage(context, 'alice', devices.slice(0, 1))).toContain('<button disabled>Sign out everywhere else</button>')
})

test('the login page says that no password is needed', () => {
  expect(loginPage(context)).toContain('No password')
  expect(loginPage(context, 'Bad <name>')).toContain('Bad &#60;name&#62;')
})

test.each([
  [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36',
    'Headless Chrome 156 on Linux',
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    'Chrome 131 on Android',
  ],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    'Edge 131 on Windows',
  ],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox 133 on macOS'],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'Safari 17 on iOS',
  ],
  ['curl/8.5.0', 'curl 8'],
  ['', 'Unknown browser'],
])('%s is shown as %s', (userAgent, shown) => {
  expect(describeUserAgent(userAgent)).toBe(shown)
})

test('the event panel lists session events newest first as given, escaped; without events there is no panel', () => {
  const events = [
    { at: Date.UTC(2030, 0, 1, 12, 0, 5), instance: 'instance-3', what: 'ended: expired', user: '<b>eve</b>', session: 'Ab12Cd34' },
    { at: Date.UTC(2030, 0, 1, 12), instance: 'instance-1', what: 'created', user: 'alice', session: 'Xy98Zw76' },
  ]
  const page = homePage(context, 'alice', devices, events)
  expect(page).toContain('<table id="events">')
  expect(page).toContain(
    '<tr><td>2030-01-01 12:00:05 UTC</td><td>ended: expired</td><td>&#60;b&#62;eve&#60;/b&#62;</td><td><code>Ab12Cd34</code></td><td>instance-3</td></tr>',
  )
  expect(page.indexOf('ended: expired')).toBeLessThan(page.indexOf('>created<'))
  expect(homePage(context, 'alice', devices, [])).toContain('None yet.')
  expect(homePage(context, 'alice', devices)).not.toContain('id="events"')
})
