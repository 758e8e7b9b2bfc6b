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

describe('platform boundaries', () => {
  it('src/ imports nothing from node: or Node-only packages and touches no DOM globals', async () => {
    const bad: string[] = []
    for (const file of await sources('src')) {
      const text = await readFile(join(root, file), 'utf8')
      for (const spec of imports(text)) if (nodeOnly.test(spec)) bad.push(`${file}: imports ${spec}`)
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      const dom = code.match(domGlobals)
      if (dom !== null) bad.push(`${file}: uses ${dom[1]}`)
      for (const spec of imports(text)) {
        if (spec.startsWith('.') && /(^|\/)(node|web)\//.test(relative(root, join(root, file, '..', spec)))) bad.push(`${file}: imports ${spec}`)
      }
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
  })

  it('log lines name a failure with errorMessage, which never prints "undefined"', async () => {
    const bad: string[] = []
    for (const dir of ['src', 'node', 'web']) {
      for (const file of await sources(dir)) {
        const lines = (await readFile(join(root, file), 'utf8')).split('\n')
        lines.forEach((l, i) => {
          if (/\b(log\.(error|warn|info|debug)|console\.(error|warn|log))\(/.test(l) && /\((err|e) as Error\)\.message/.test(l)) bad.push(`${file}:${i + 1}`)
        })
      }
    }
    expect(bad).toEqual([])
  })
})
