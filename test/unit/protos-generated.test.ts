// Fails when protos/*.proto (or buf.gen.yaml / protoc-gen-es) changed without
// `npm run gen:protos`: regenerates into a temp dir and compares byte for byte
// with the committed src/protos/*_pb.ts.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const outDir = 'src/protos'
const tmp = mkdtempSync(join(tmpdir(), 'weft-protos-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const generatedFiles = (dir: string): string[] => {
  try {
    return readdirSync(dir).filter(f => f.endsWith('_pb.ts')).sort()
  } catch { return [] }
}

describe('generated protobuf code', () => {
  it('src/protos matches `buf generate` output for protos/', () => {
    const bin = join(root, 'node_modules', '.bin')
    // --output prefixes the template's `out`, so files land in <tmp>/src/protos.
    execFileSync(join(bin, 'buf'), ['generate', '--output', tmp], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const fresh = generatedFiles(join(tmp, outDir))
    const committed = generatedFiles(join(root, outDir))
    expect(fresh.length).toBeGreaterThan(0)
    expect(committed, 'generated file set differs (run `npm run gen:protos`)').toEqual(fresh)
    const stale = fresh.filter(f => !readFileSync(join(tmp, outDir, f)).equals(readFileSync(join(root, outDir, f))))
    expect(stale, 'stale generated files (run `npm run gen:protos`)').toEqual([])
  })
})
