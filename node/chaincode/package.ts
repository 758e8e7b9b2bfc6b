import { realpath, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { decodeNodePackage } from '../../src/chaincode/package.ts'

/** The shipped examples: always a chaincode root unless roots are configured. */
export const EXAMPLES_ROOT = fileURLToPath(new URL('../../examples/chaincode', import.meta.url))

/**
 * The directories a chaincode path may name (`chaincode.node.roots`); empty means the shipped
 * examples and `chaincode/` under the working directory. Relative roots are taken from `cwd`.
 */
export function chaincodeRoots (configured: readonly string[], cwd = process.cwd()): string[] {
  const roots = configured.length > 0 ? configured : [EXAMPLES_ROOT, 'chaincode']
  return roots.map(r => resolve(cwd, r))
}

/** The one answer to every chaincode path outside the roots, so a refusal reveals nothing of the disk. */
export class ChaincodePathError extends Error {
  constructor (path: string) {
    super(`chaincode path ${path} is not inside an allowed chaincode root`)
    this.name = 'ChaincodePathError'
  }
}

export interface PackageOptions {
  /** Absolute directories the entry and every file it imports must lie in (after symlinks); see chaincodeRoots. */
  roots: readonly string[]
  /** What relative paths are taken from (default the working directory). */
  cwd?: string
}

/**
 * Builds a NODE chaincode package from a JS or TS entry file (or a directory holding index.ts /
 * index.js) inside one of the chaincode roots: one self-contained ES module, its imports bundled
 * in (each of them inside a root too) and TypeScript types dropped. This is what
 * `weft chaincode deploy -p PATH` puts in ChaincodeDeploymentSpec.codePackage.
 */
export async function packageChaincode (path: string, opts: PackageOptions): Promise<Uint8Array> {
  const roots = await Promise.all(opts.roots.map(async r => await realpath(r).catch(() => r)))
  const inside = (p: string): boolean => roots.some(r => { const rel = relative(r, p); return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) })
  const lexical = resolve(opts.cwd ?? process.cwd(), path)
  if (path === '' || !inside(lexical)) throw new ChaincodePathError(path)
  const real = await realpath(lexical).catch(() => { throw new Error(`chaincode path ${path} does not exist`) })
  if (!inside(real)) throw new ChaincodePathError(path)
  const entry = await entryOf(real, path)
  if (!inside(await realpath(entry))) throw new ChaincodePathError(path)
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [confineTo(inside)]
  }).catch((err: { errors?: Array<{ text: string }> }) => {
    // Only esbuild's one-line texts: never the source excerpt it would print around them.
    const texts = err.errors?.map(e => e.text).join('; ') ?? String(err)
    throw new Error(`cannot package chaincode ${path}: ${texts}`)
  })
  const code = out.outputFiles[0].contents
  decodeNodePackage(code)
  return code
}

/** Refuses any import that resolves outside the roots, symlinks followed. */
function confineTo (inside: (p: string) => boolean): Plugin {
  return {
    name: 'weft-chaincode-roots',
    setup (b) {
      b.onResolve({ filter: /.*/ }, async args => {
        if (args.pluginData === 'confined') return undefined
        const found = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'confined' })
        if (found.errors.length > 0) return { errors: found.errors.map(e => ({ text: e.text })) }
        const real = found.path === '' ? '' : await realpath(found.path).catch(() => found.path)
        if (found.external === true || !inside(real)) return { errors: [{ text: `import ${JSON.stringify(args.path)} is not inside an allowed chaincode root` }] }
        return { path: real }
      })
    }
  }
}

async function entryOf (path: string, given: string): Promise<string> {
  const s = await stat(path)
  if (s.isFile()) return path
  for (const name of ['index.ts', 'index.js', 'index.mjs']) {
    if (await stat(join(path, name)).then(f => f.isFile(), () => false)) return join(path, name)
  }
  throw new Error(`chaincode directory ${given} has no index.ts, index.js or index.mjs`)
}
