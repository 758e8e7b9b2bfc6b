import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

async function sources (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await sources(p))
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(p)
  }
  return out
}

function imports (text: string): string[] {
  const found: string[] = []
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)) {
    found.push(m[1] ?? m[2] ?? m[3])
  }
  return found
}

// Node built-ins and Node-only packages that must never reach the isomorphic core.
const nodeOnly = /^(node:|fs$|path$|os$|crypto$|child_process$|worker_threads$|net$|http$|https$|stream$|classic-level$|@grpc\/|fastify|ws$|@libp2p\/tcp$)/
const domGlobals = /\b(window|document|indexedDB|localStorage|sessionStorage|navigator)\s*[.[]/
// The host's clock, timers and randomness; in src/ only the scheduler module reads them (src/util/scheduler.ts).
const hostTime = /(?<![\w$])(setTimeout|setInterval|clearTimeout|clearInterval)\b|\b(Date\.now|performance\.now|Math\.random)\b/

const withoutComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')

describe('platform boundaries', () => {
  it('src/ imports nothing from node: or Node-only packages and touches no DOM globals', async () => {
    const bad: string[] = []
    for (const file of await sources('src')) {
      const text = await readFile(join(root, file), 'utf8')
      for (const spec of imports(text)) if (nodeOnly.test(spec)) bad.push(`${file}: imports ${spec}`)
      const dom = withoutComments(text).match(domGlobals)
      if (dom !== null) bad.push(`${file}: uses ${dom[1]}`)
      for (const spec of imports(text)) {
        if (spec.startsWith('.') && /(^|\/)(node|web)\//.test(relative(root, join(root, file, '..', spec)))) bad.push(`${file}: imports ${spec}`)
      }
    }
    expect(bad).toEqual([])
  })

  it('src/ reads the clock, arms timers and draws random numbers only through src/util/scheduler.ts', async () => {
    const bad: string[] = []
    for (const file of await sources('src')) {
      if (file === join('src', 'util', 'scheduler.ts')) continue
      const lines = withoutComments(await readFile(join(root, file), 'utf8')).split('\n')
      lines.forEach((l, i) => {
        const m = l.match(hostTime)
        if (m !== null) bad.push(`${file}:${i + 1}: ${m[0]}`)
      })
    }
    expect(bad).toEqual([])
  })

  it('web/ never imports node/', async () => {
    const bad: string[] = []
    for (const file of await sources('web')) {
      for (const spec of imports(await readFile(join(root, file), 'utf8'))) {
        if (spec.startsWith('.') && relative(root, join(root, file, '..', spec)).startsWith('node/')) bad.push(`${file}: imports ${spec}`)
        if (/^node:/.test(spec)) bad.push(`${file}: imports ${spec}`)
      }
    }
    expect(bad).toEqual([])
  })

  it('the checker sees a violation when there is one', () => {
    expect(imports("import { readFile } from 'node:fs/promises'").some(s => nodeOnly.test(s))).toBe(true)
    expect(imports("const x = await import('worker_threads')").some(s => nodeOnly.test(s))).toBe(true)
    expect('window.location'.match(domGlobals)).not.toBeNull()
    for (const call of ['setTimeout(fn, 5)', 'globalThis.setInterval(f, 1)', 'const t = Date.now()', 'performance.now()', 'x = Math.random']) {
      expect(withoutComments(call).match(hostTime)).not.toBeNull()
    }
    for (const fine of ['// setTimeout(fn) is not used', '/* Date.now */ scheduler.now()', 'scheduler.schedule(5, fn)', 'const mySetTimeout = 1']) {
      expect(withoutComments(fine).match(hostTime)).toBeNull()
    }
  })

  it('log lines name a failure with errorMessage, which never prints "undefined"', async () => {
    const bad: string[] = []
    for (const dir of ['src', 'node', 'web']) {
      for (const file of await sources(dir)) {
        const lines = (await readFile(join(root, file), 'utf8')).split('\n')
        lines.forEach((l, i) => {
          if (/\b(log\.(error|warn|info|debug)|console\.(error|warn|log))\(/.test(l) && /\((err|e|error) as Error\)\.message|\$\{(err|e|error)\.message\}/.test(l)) bad.push(`${file}:${i + 1}`)
        })
      }
    }
    expect(bad).toEqual([])
  })
})
