// vite plugins of the web app build (vite.config.ts):
//  - weftExamples: `virtual:weft-examples`, the example chaincodes (examples/chaincode/*.ts)
//    bundled exactly as `weft chaincode deploy -p` packages them, so a deploy from the browser
//    gets the same chaincode name as one from the CLI, and their TypeScript as written (to read);
//  - weftSizeReport: prints every output file's raw and gzip size and the first-load total
//    (index.html, the entry chunk, its static imports and CSS), and writes build-report.json.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import type { Plugin } from 'vite'

const VIRTUAL_EXAMPLES = 'virtual:weft-examples'
const RESOLVED_EXAMPLES = '\0' + VIRTUAL_EXAMPLES

export function weftExamples (examplesDir: string): Plugin {
  const dir = resolve(examplesDir)
  return {
    name: 'weft-examples',
    resolveId (id) { return id === VIRTUAL_EXAMPLES ? RESOLVED_EXAMPLES : undefined },
    async load (id) {
      if (id !== RESOLVED_EXAMPLES) return undefined
      const files = (await readdir(dir)).filter(f => f.endsWith('.ts')).sort()
      const sources: Record<string, string> = {}
      const originals: Record<string, string> = {}
      for (const f of files) {
        const entry = join(dir, f)
        this.addWatchFile(entry)
        const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', write: false, logLevel: 'silent' })
        sources[basename(f, '.ts')] = out.outputFiles[0].text
        originals[basename(f, '.ts')] = await readFile(entry, 'utf8')
      }
      return `export const exampleSources = ${JSON.stringify(sources)}\nexport const exampleOriginals = ${JSON.stringify(originals)}\n`
    }
  }
}

export interface SizeReport {
  files: Array<{ file: string, bytes: number, gzip: number }>
  firstLoad: { files: string[], bytes: number, gzip: number }
  total: { bytes: number, gzip: number }
}

const kB = (n: number): string => `${(n / 1024).toFixed(1)} kB`

export function weftSizeReport (opts: { limitGzip?: number } = {}): Plugin {
  const limit = opts.limitGzip ?? 1024 * 1024
  return {
    name: 'weft-size-report',
    apply: 'build',
    // writeBundle, not generateBundle: only then is index.html (emitted by vite's HTML plugin) in the bundle.
    async writeBundle (options, bundle) {
      const size = (name: string): { bytes: number, gzip: number } => {
        const item = bundle[name]
        const data = item.type === 'chunk' ? item.code : item.source
        const buf = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)
        return { bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length }
      }
      const files = Object.keys(bundle).sort().map(file => ({ file, ...size(file) }))
      // First load: the HTML, each entry chunk and everything it imports statically, and their CSS.
      const first = new Set<string>()
      const visit = (name: string): void => {
        if (first.has(name)) return
        const item = bundle[name]
        if (item === undefined) return
        first.add(name)
        if (item.type !== 'chunk') return
        for (const i of item.imports) visit(i)
        const meta = (item as { viteMetadata?: { importedCss: Set<string>, importedAssets: Set<string> } }).viteMetadata
        for (const c of meta?.importedCss ?? []) visit(c)
      }
      for (const [name, item] of Object.entries(bundle)) {
        if ((item.type === 'chunk' && item.isEntry) || name.endsWith('.html')) visit(name)
      }
      const sum = (names: Iterable<string>): { bytes: number, gzip: number } => {
        let bytes = 0
        let gzip = 0
        for (const n of names) {
          const f = files.find(x => x.file === n)
          if (f !== undefined) { bytes += f.bytes; gzip += f.gzip }
        }
        return { bytes, gzip }
      }
      const report: SizeReport = {
        files,
        firstLoad: { files: [...first].sort(), ...sum(first) },
        total: sum(files.map(f => f.file))
      }
      const width = Math.max(...files.map(f => f.file.length), 10)
      const lines = ['', 'Weft web app, sizes:']
      for (const f of files) lines.push(`  ${first.has(f.file) ? '*' : ' '} ${f.file.padEnd(width)}  ${kB(f.bytes).padStart(10)}  gzip ${kB(f.gzip).padStart(9)}`)
      lines.push(`  ${'total'.padEnd(width + 2)}  ${kB(report.total.bytes).padStart(10)}  gzip ${kB(report.total.gzip).padStart(9)}`)
      lines.push(`  first load (*): ${kB(report.firstLoad.bytes)}, gzip ${kB(report.firstLoad.gzip)} (limit ${kB(limit)} gzip)`)
      console.log(lines.join('\n'))
      if (report.firstLoad.gzip > limit) this.warn(`first load is ${kB(report.firstLoad.gzip)} gzipped, over the ${kB(limit)} budget`)
      if (options.dir !== undefined) await writeFile(join(options.dir, 'build-report.json'), JSON.stringify(report, null, 2) + '\n')
    }
  }
}
