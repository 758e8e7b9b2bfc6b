// Builds the browser app (vite build: web/ → dist/web) when it is missing or older than its
// sources, so `npm ci && npm start` serves a current app without a separate build step. The
// build runs in a child process into a temporary directory that then replaces dist/web, so a
// server never sees a half-written app.
import { spawn } from 'node:child_process'
import { readdir, rename, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** What the app is built from: a change to any of these makes dist/web stale. */
const SOURCES = ['web', 'src', 'examples/chaincode', 'vite.config.ts', 'node/web/vite-plugins.ts', 'package-lock.json']

async function newestMtime (path: string): Promise<number> {
  let s
  try { s = await stat(path) } catch { return 0 }
  if (!s.isDirectory()) return s.mtimeMs
  let newest = s.mtimeMs
  for (const e of await readdir(path, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue
    newest = Math.max(newest, await newestMtime(join(path, e.name)))
  }
  return newest
}

/** Why the app must be (re)built, or undefined when dist/web is current. */
export async function webBuildNeeded (repoRoot = REPO_ROOT, outDir = join(repoRoot, 'dist/web')): Promise<string | undefined> {
  let built: number
  try {
    built = (await stat(join(outDir, 'index.html'))).mtimeMs
  } catch {
    return `${outDir} has no build`
  }
  // An installed package ships the build and not web/: nothing to rebuild from (and its files' times are npm's).
  try { await stat(join(repoRoot, 'web')) } catch { return undefined }
  for (const src of SOURCES) {
    if (await newestMtime(join(repoRoot, src)) > built) return `${src} changed since the last build`
  }
  return undefined
}

export interface BuildOptions {
  repoRoot?: string
  outDir?: string
  /** Each line vite prints (default: discarded; the CLI passes console.log). */
  onOutput?: (line: string) => void
  signal?: AbortSignal
}

let running: Promise<void> | undefined

/** Runs `vite build` (the config's size report included) into outDir. One build at a time per process. */
export function buildWeb (opts: BuildOptions = {}): Promise<void> {
  running ??= runBuild(opts).finally(() => { running = undefined })
  return running
}

async function runBuild (opts: BuildOptions): Promise<void> {
  const repoRoot = opts.repoRoot ?? REPO_ROOT
  const outDir = resolve(opts.outDir ?? join(repoRoot, 'dist/web'))
  let viteBin: string
  try {
    viteBin = join(dirname(createRequire(join(repoRoot, 'package.json')).resolve('vite/package.json')), 'bin/vite.js')
  } catch {
    throw new Error('cannot build the web app: vite is not installed (npm ci installs it; then npm run build:web)')
  }
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`
  const output: string[] = []
  await new Promise<void>((resolveBuild, reject) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--config', join(repoRoot, 'vite.config.ts'), '--outDir', tmp, '--emptyOutDir'], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: opts.signal
    })
    const onData = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) {
        if (line.trim() === '') continue
        output.push(line)
        opts.onOutput?.(line)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', reject)
    child.on('close', code => {
      if (code === 0) resolveBuild()
      else reject(new Error(`vite build failed (exit ${code}):\n${output.slice(-30).join('\n')}`))
    })
  }).catch(async err => {
    await rm(tmp, { recursive: true, force: true })
    throw err
  })
  await rm(outDir, { recursive: true, force: true })
  await rename(tmp, outDir)
}

/** Builds when needed; resolves once dist/web is current. Returns why it built, or undefined. */
export async function ensureWebBuild (opts: BuildOptions = {}): Promise<string | undefined> {
  const why = await webBuildNeeded(opts.repoRoot, opts.outDir)
  if (why === undefined) return undefined
  await buildWeb(opts)
  return why
}
