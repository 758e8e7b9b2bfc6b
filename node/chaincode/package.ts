import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { build } from 'esbuild'
import { decodeNodePackage } from '../../src/chaincode/package.ts'

/**
 * Builds a NODE chaincode package from a JS or TS entry file (or a directory holding index.ts /
 * index.js): one self-contained ES module, its imports bundled in and TypeScript types dropped.
 * This is what `weft chaincode deploy -p PATH` puts in ChaincodeDeploymentSpec.codePackage.
 */
export async function packageChaincode (path: string): Promise<Uint8Array> {
  const entry = await entryOf(path)
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent'
  }).catch((err: Error) => { throw new Error(`cannot package chaincode ${path}: ${err.message}`) })
  const code = out.outputFiles[0].contents
  decodeNodePackage(code)
  return code
}

async function entryOf (path: string): Promise<string> {
  const s = await stat(path).catch(() => { throw new Error(`chaincode path ${path} does not exist`) })
  if (s.isFile()) return path
  for (const name of ['index.ts', 'index.js', 'index.mjs']) {
    if (await stat(join(path, name)).then(f => f.isFile(), () => false)) return join(path, name)
  }
  throw new Error(`chaincode directory ${path} has no index.ts, index.js or index.mjs`)
}
