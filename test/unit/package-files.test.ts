// What `npm pack` publishes is what an installed `weft` has: its entry, the prebuilt CLI and web
// app (made by prepack), the TypeScript a chaincode worker loads at run time, the examples, the
// conformance vectors; and every package the Node side imports is a dependency, not a dev one.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { root } from '../helpers/processes.ts'

const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { files: string[], scripts: Record<string, string>, dependencies: Record<string, string> }
const tracked = (...dirs: string[]): string[] => execFileSync('git', ['ls-files', ...dirs], { cwd: root, encoding: 'utf8' }).split('\n').filter(f => f !== '')

it('packs the CLI, the peer\'s sources, the examples and the vectors, and no tests or web sources', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const packed = new Set((JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map(f => f.path))
  const needed = [...tracked('bin', 'node', 'src', 'examples/chaincode', 'test/vectors'), 'core.yaml', 'package.json', 'README.md']
  expect(needed.filter(f => !packed.has(f))).toEqual([])
  expect([...packed].filter(f => /^(web|bench|test\/(?!vectors\/))\//.test(f))).toEqual([])
  // Built at pack time, shipped built: an installed package has neither vite nor writable sources.
  expect(pkg.scripts.prepack).toMatch(/build-cli\.mjs --packed.*build:web/)
  expect(pkg.files).toEqual(expect.arrayContaining(['dist/cli-packed/', 'dist/web/']))
})

it('has every package the Node side imports at run time among its dependencies', () => {
  const used = new Set<string>()
  for (const file of tracked('bin', 'node', 'src').filter(f => /\.(ts|mjs)$/.test(f))) {
    const text = readFileSync(`${root}${file}`, 'utf8')
    for (const [, fromSpec, dynamicSpec] of text.matchAll(/^import (?!type )[^'"]*?['"]([^'".][^'"]*)['"]|\bimport\(['"]([^'".][^'"]*)['"]\)/gm)) {
      const spec = fromSpec ?? dynamicSpec
      if (spec === undefined || spec.startsWith('node:')) continue
      used.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0])
    }
  }
  expect(used).toContain('libp2p')
  expect(used).toContain('tsx')
  expect([...used].filter(p => pkg.dependencies[p] === undefined).sort()).toEqual([])
})
