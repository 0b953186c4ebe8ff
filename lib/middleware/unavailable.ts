/** The default answer when the cache is out of reach: a 503, JSON or HTML as the client prefers. */
import type { UnavailableHandler } from './options'

const MESSAGE = 'Sessions are temporarily unavailable. Please try again in a moment.'

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>
<body><h1>Temporarily unavailable</h1><p>${MESSAGE}</p></body></html>
`

export function unavailableResponder(status: number): UnavailableHandler {
  return function sessionsUnavailable(_error, req, res) {
    res.status(status).set({ 'Retry-After': '1', 'Cache-Control': 'no-store' })
    if (req.accepts(['json', 'html']) === 'html') res.type('html').send(PAGE)
    else res.json({ error: { code: 'SESSIONS_UNAVAILABLE', message: MESSAGE } })
  }
}
