// The Node peer's web server (web.address, default 127.0.0.1:7080): the built browser app from
// dist/web and GET /weft/bootstrap.json, which tells a tab how to join this peer's network.
// node:http only; GET and HEAD; no directory listing; nothing outside the root is ever read.
import { createReadStream } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, isAbsolute, join, relative, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createLogger } from '../../src/util/logger.ts'
import type { BootstrapInfo } from '../../web/app/bootstrap-info.ts'
import { formatHostPort, parseListenAddress } from '../host-port.ts'
import { errorMessage } from '../../src/util/errors.ts'

const log = createLogger('web')

export type { BootstrapInfo }

export const BOOTSTRAP_PATH = '/weft/bootstrap.json'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json'
}
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest'])

export interface WebServerOptions {
  /** host:port (web.address); port 0 picks a free one. */
  address: string
  /** Directory of the built app (dist/web). */
  root: string
  /** The answer of GET /weft/bootstrap.json (called per request, so it can follow the peer). */
  bootstrap: () => BootstrapInfo
  /** Served with 503 while the app is not there yet (e.g. still being built). */
  notReady?: () => string | undefined
}

export interface WebServer {
  url: string
  port: number
  close (): Promise<void>
}

/** Maps a request path onto a file under `root`; undefined for anything that could leave it. */
export function resolveUnder (root: string, urlPath: string): string | undefined {
  let path: string
  try {
    path = decodeURIComponent(urlPath)
  } catch {
    return undefined
  }
  if (path.includes('\0') || path.includes('\\') || !path.startsWith('/')) return undefined
  if (path.split('/').some(seg => seg === '..')) return undefined
  const file = resolve(root, '.' + path)
  const rel = relative(root, file)
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined
  return file
}

export async function startWebServer (opts: WebServerOptions): Promise<WebServer> {
  const root = resolve(opts.root)
  const { host, port } = parseListenAddress(opts.address, 'web.address')
  const gzCache = new Map<string, { mtimeMs: number, body: Buffer }>()

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), 'X-Content-Type-Options': 'nosniff', ...extra })
    res.end(head ? undefined : body)
  }

  const serveFile = async (req: IncomingMessage, res: ServerResponse, urlPath: string, head: boolean): Promise<void> => {
    const file = resolveUnder(root, urlPath === '/' ? '/index.html' : urlPath)
    if (file === undefined) { send(res, 400, 'text/plain; charset=utf-8', 'Bad path\n', head); return }
    let real: string
    let info
    try {
      real = await realpath(file)
      // A symlink inside the root must not lead outside it either.
      const rel = relative(await realpath(root), real)
      if (rel.startsWith('..') || isAbsolute(rel)) throw new Error('outside')
      info = await stat(real)
    } catch {
      send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', head)
      return
    }
    if (!info.isFile()) { send(res, 404, 'text/plain; charset=utf-8', 'Not found\n', head); return }
    const ext = extname(real).toLowerCase()
    const type = CONTENT_TYPES[ext] ?? 'application/octet-stream'
    // Hashed build assets never change; everything else is revalidated.
    const cache = urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
    const headers: Record<string, string> = { 'Cache-Control': cache, 'Last-Modified': info.mtime.toUTCString(), 'X-Content-Type-Options': 'nosniff' }
    const since = req.headers['if-modified-since']
    if (since !== undefined && Math.floor(info.mtimeMs / 1000) <= Math.floor(Date.parse(since) / 1000)) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    const gzipOk = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
    if (COMPRESSIBLE.has(ext) && gzipOk && info.size > 512) {
      let cached = gzCache.get(real)
      if (cached === undefined || cached.mtimeMs !== info.mtimeMs) {
        cached = { mtimeMs: info.mtimeMs, body: gzipSync(await readFile(real), { level: 9 }) }
        gzCache.set(real, cached)
      }
      res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding', 'Content-Length': String(cached.body.length) })
      res.end(head ? undefined : cached.body)
      return
    }
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': String(info.size) })
    if (head) { res.end(); return }
    createReadStream(real).on('error', err => res.destroy(err)).pipe(res)
  }

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET'
    const urlPath = (req.url ?? '/').split('?')[0].split('#')[0]
    const head = method === 'HEAD'
    if (method !== 'GET' && !head) {
      send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', false, { Allow: 'GET, HEAD' })
      return
    }
    if (urlPath === BOOTSTRAP_PATH) {
      let body: string
      try {
        body = JSON.stringify(opts.bootstrap(), null, 2) + '\n'
      } catch (err) {
        send(res, 503, 'application/json; charset=utf-8', JSON.stringify({ error: (err as Error).message }) + '\n', head)
        return
      }
      // Readable from a page of another origin too (a `vite dev` page, a test page).
      send(res, 200, 'application/json; charset=utf-8', body, head, { 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' })
      return
    }
    const waiting = opts.notReady?.()
    if (waiting !== undefined && (urlPath === '/' || urlPath === '/index.html')) {
      send(res, 503, 'text/html; charset=utf-8', waitingPage(waiting), head, { 'Cache-Control': 'no-store', 'Retry-After': '2' })
      return
    }
    serveFile(req, res, urlPath, head).catch(err => {
      log.error(`GET ${urlPath}: ${errorMessage(err)}`)
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error\n', head)
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 5000

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', err => reject(new Error(`web.address: cannot listen on ${opts.address}: ${err.message}`)))
    server.listen(port, host, () => resolveListen())
  })
  const bound = server.address() as AddressInfo
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  const url = `http://${formatHostPort(shownHost, bound.port)}/`
  log.info(`web app on ${url} (from ${root})`)
  return {
    url,
    port: bound.port,
    close: () => new Promise<void>(resolveClose => {
      server.close(() => resolveClose())
      server.closeAllConnections()
    })
  }
}

function waitingPage (what: string): string {
  const text = what.replace(/[&<>]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>Weft</title>
<body style="font:15px system-ui,sans-serif;margin:3em;color:#223"><h1 style="font-size:20px">Weft</h1><p>${text}</p><p>This page reloads by itself.</p></body>`
}

/** Where the built app lives inside the repo. */
export function webDistDir (repoRoot: string): string { return join(repoRoot, 'dist', 'web') }
