/**
 * The demo's HTML: server-rendered, a little inline CSS, no scripts. Pure: every dynamic value
 * goes through `escapeHtml`.
 */
import type { AuthMode, Device } from './auth'
import type { DemoEvent } from './event-log'
import { describeUserAgent } from './user-agent'

/** What every page shows about the instance that rendered it. */
export interface PageContext {
  /** The instance's name, also sent as `X-Served-By`. */
  instance: string
  mode: AuthMode
  /** e.g. 'pid 4242, port 41234' */
  detail: string
}

const MODE_LABELS: Record<AuthMode, string> = {
  token: 'token sessions (sessions() middleware)',
  'express-session': 'express-session + RedisSessionStore',
}

// One color per instance, so a reload that lands elsewhere is visible at a glance.
const PALETTE = ['#0f766e', '#4338ca', '#c2410c', '#a21caf', '#15803d', '#92400e', '#0369a1', '#b91c1c']

export function loginPage(context: PageContext, error?: string): string {
  return layout(
    context,
    'Sign in',
    `<h1>Sign in</h1>
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
<form method="post" action="/login" class="login">
  <label>Name <input name="name" autocomplete="username" required maxlength="32" autofocus></label>
  <button>Sign in</button>
</form>
<p class="hint">No password: this is a demo, any name signs in. Sign in with the same name from a second
browser (or a private window) to see two devices.</p>`,
  )
}

export function homePage(context: PageContext, user: string, devices: readonly Device[], events?: readonly DemoEvent[]): string {
  const others = devices.filter((device) => !device.current).length
  return layout(
    context,
    `Signed in as ${user}`,
    `<h1>Signed in as <span id="user">${escapeHtml(user)}</span></h1>
<p class="hint">Reload: nginx hands each request to the next instance, and every instance knows you,
because the session lives in Redis, not in the instance.</p>
<h2>Your devices</h2>
<table id="devices">
<thead><tr><th>Device</th><th>IP</th><th>Signed in</th><th></th></tr></thead>
<tbody>
${devices.map(deviceRow).join('\n')}
</tbody>
</table>
<div class="actions">
  <form method="post" action="/devices/revoke-others"><button${others === 0 ? ' disabled' : ''}>Sign out everywhere else</button></form>
  <form method="post" action="/logout"><button class="primary">Sign out</button></form>
</div>${events === undefined ? '' : eventPanel(events)}`,
  )
}

/** The session events every instance emitted lately, newest first: logins, renewals, and endings with their reason. */
function eventPanel(events: readonly DemoEvent[]): string {
  const rows = events.map(
    (event) =>
      `<tr><td>${escapeHtml(formatTime(event.at))}</td><td>${escapeHtml(event.what)}</td><td>${escapeHtml(event.user)}</td><td><code>${escapeHtml(event.session)}</code></td><td>${escapeHtml(event.instance)}</td></tr>`,
  )
  return `
<h2>Session events</h2>
<table id="events">
<thead><tr><th>When</th><th>Event</th><th>User</th><th>Session</th><th>Emitted by</th></tr></thead>
<tbody>
${rows.length === 0 ? '<tr><td colspan="5">None yet.</td></tr>' : rows.join('\n')}
</tbody>
</table>`
}

export function errorPage(context: PageContext, status: number, message: string): string {
  return layout(
    context,
    `Error ${status}`,
    `<h1>Error ${status}</h1>\n<p class="error" role="alert">${escapeHtml(message)}</p>\n<p><a href="/">Try again</a></p>`,
  )
}

function deviceRow(device: Device): string {
  const action = device.current
    ? '<span class="tag">this device</span>'
    : `<form method="post" action="/devices/${encodeURIComponent(device.id)}/revoke"><button>Revoke</button></form>`
  return `<tr data-session-id="${escapeHtml(device.id)}"${device.current ? ' class="current"' : ''}>
  <td title="${escapeHtml(device.userAgent)}">${escapeHtml(describeUserAgent(device.userAgent))}</td>
  <td>${escapeHtml(device.ip)}</td>
  <td>${escapeHtml(formatTime(device.createdAt))}</td>
  <td>${action}</td>
</tr>`
}

function layout(context: PageContext, title: string, body: string): string {
  const color = instanceColor(context.instance)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · sessionvault demo</title>
<style>${CSS}</style>
</head>
<body>
<header style="background:${color}">
  <span class="brand">sessionvault · load-balanced demo</span>
  <span id="served-by" class="served">served by <b>${escapeHtml(context.instance)}</b></span>
</header>
<main>
${body}
</main>
<footer>
  <span>${escapeHtml(context.instance)} (${escapeHtml(context.detail)})</span>
  <span>sessions: ${escapeHtml(MODE_LABELS[context.mode])}</span>
  <a href="/">reload</a>
</footer>
</body>
</html>
`
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2937;background:#f3f4f6}
header{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.75rem 1.5rem;color:#fff}
.brand{font-weight:600}
.served{font-size:1.1rem;padding:.2rem .7rem;border-radius:999px;background:rgba(255,255,255,.2);white-space:nowrap}
main{max-width:52rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{margin-top:0;font-size:1.6rem}
h2{font-size:1.2rem;margin-top:1.5rem}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e5e7eb;vertical-align:middle}
th{font-size:.85rem;color:#6b7280;font-weight:600}
tr.current{background:#f0fdf4}
td form{margin:0}
.tag{font-size:.8rem;padding:.1rem .5rem;border-radius:999px;background:#dcfce7;color:#166534}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
button{font:inherit;padding:.35rem .9rem;border:1px solid #d1d5db;border-radius:.375rem;background:#fff;cursor:pointer}
button:hover{background:#f9fafb}
button:disabled{color:#9ca3af;cursor:default}
button.primary,.login button{background:#1f2937;color:#fff;border-color:#1f2937}
.login{display:flex;gap:.75rem;align-items:end;flex-wrap:wrap}
.login label{display:flex;flex-direction:column;font-size:.9rem;color:#4b5563}
.login input{font:inherit;padding:.35rem .5rem;border:1px solid #d1d5db;border-radius:.375rem;min-width:16rem}
.hint{color:#6b7280;font-size:.9rem}
.error{color:#b91c1c}
@media (max-width:40rem){main{margin:1rem;padding:1rem 1.25rem}header{padding:.75rem 1rem}}
footer{display:flex;justify-content:center;gap:1.5rem;flex-wrap:wrap;color:#6b7280;font-size:.85rem;padding-bottom:2rem}
`

export function instanceColor(instance: string): string {
  const number = /(\d+)$/.exec(instance)?.[1]
  const index = number === undefined ? [...instance].reduce((sum, char) => sum + char.charCodeAt(0), 0) : Number(number) - 1
  return PALETTE[Math.abs(index) % PALETTE.length] as string
}

/** UTC, to the second: the instances may be in different time zones, the page must not disagree with itself. */
function formatTime(ms: number): string {
  return ms > 0 ? `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC` : 'unknown'
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
