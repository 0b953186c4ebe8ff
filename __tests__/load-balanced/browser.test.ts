// The demo in a real browser: Debian's headless Chromium (apt-get install chromium), driven by
// playwright-core, never a downloaded browser. Screenshots go to __tests__/artifacts/.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, devices, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { startStack, type Stack } from '../../examples/load-balanced/stack'

jest.setTimeout(60_000)

const CHROMIUM = '/usr/bin/chromium'
const ROOT = join(__dirname, '..', '..')
const ARTIFACTS = join(ROOT, '__tests__', 'artifacts')
/** The README's picture: written when missing, or again with UPDATE_SCREENSHOT=1. */
const README_SCREENSHOT = join(ROOT, 'examples', 'load-balanced', 'screenshot.png')
const RELOADS = 10

let stack: Stack
let browser: Browser
let laptop: BrowserContext
let phone: BrowserContext

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (npm test's pretest does it as root)`)
  mkdirSync(ARTIFACTS, { recursive: true })
  ;[stack, browser] = await Promise.all([
    startStack(),
    chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Belt and braces: no host but 127.0.0.1 resolves, so nothing leaves this machine.
        '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
      ],
    }),
  ])
  laptop = await browser.newContext({ viewport: { width: 1000, height: 640 } })
  // A second device for the same user: a phone's browser, emulated.
  phone = await browser.newContext({ ...devices['Pixel 7'] })
})

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

async function servedBy(page: Page): Promise<string> {
  return (await page.locator('#served-by b').textContent()) ?? ''
}

async function signIn(page: Page, name: string): Promise<void> {
  await page.goto(stack.url)
  await page.fill('input[name="name"]', name)
  await Promise.all([page.waitForURL(`${stack.url}/`), page.click('form.login button')])
  expect(await page.locator('#user').textContent()).toBe(name)
}

async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `load-balanced-${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}

test('the signed-in page is served by different instances as the user reloads, each sending X-Served-By', async () => {
  const page = await laptop.newPage()
  await signIn(page, 'alice')
  await screenshot(page, '1-signed-in')
  const seen = new Set([await servedBy(page)])
  for (let i = 0; i < RELOADS && seen.size < 2; i++) {
    const response = await page.reload()
    const shown = await servedBy(page)
    // The page and the header agree on who answered.
    expect(response?.headers()['x-served-by']).toBe(shown)
    expect(await page.locator('#user').textContent()).toBe('alice')
    seen.add(shown)
  }
  expect(seen.size).toBeGreaterThanOrEqual(2)
})

test('a device signed in elsewhere is listed, and revoking it signs that browser out', async () => {
  const [laptopPage] = laptop.pages() as [Page]
  const phonePage = await phone.newPage()
  await signIn(phonePage, 'alice')
  await screenshot(phonePage, '2-phone-signed-in')

  await laptopPage.reload()
  const rows = laptopPage.locator('#devices tbody tr')
  expect(await rows.count()).toBe(2)
  expect(await laptopPage.locator('#devices tr.current').count()).toBe(1)
  const path = await screenshot(laptopPage, '3-two-devices')
  if (!existsSync(README_SCREENSHOT) || process.env['UPDATE_SCREENSHOT'] === '1') copyFileSync(path, README_SCREENSHOT)

  // The only Revoke button is on the other device's row.
  await Promise.all([laptopPage.waitForURL(`${stack.url}/`), laptopPage.locator('#devices tbody tr:not(.current) button').click()])
  expect(await rows.count()).toBe(1)
  expect(await laptopPage.locator('#devices tr.current').count()).toBe(1)
  await screenshot(laptopPage, '4-revoked')

  await phonePage.reload()
  expect(await phonePage.locator('form.login').count()).toBe(1)
  expect(await phonePage.locator('#user').count()).toBe(0)
  await screenshot(phonePage, '5-phone-signed-out')

  // The laptop is still signed in, whichever instance answers.
  for (let i = 0; i < 3; i++) {
    await laptopPage.reload()
    expect(await laptopPage.locator('#user').textContent()).toBe('alice')
  }
})
