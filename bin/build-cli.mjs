// Compiles the CLI (node/cli/bundle-entry.ts and everything it imports from node/ and src/) with
// esbuild into dist/cli-<stamp>/, the stamp being the newest source's time, so that `weft` runs
// plain JavaScript and a stale build is never used. Packages stay in node_modules; code loaded
// only by some verbs (the peer itself) is a chunk of its own, loaded when needed. Run alone, it
// just builds; with --packed (npm's prepack) it builds dist/cli-packed/, what an installed
// package runs.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = `${root}dist`
const packed = `${dist}/cli-packed`

/** The newest modification time of the files under `dir`. */
function newest (dir) {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/** The CLI's module URL, built first if no build of the current sources exists. */
export async function ensureCliBuilt () {
  // A package installed from a tarball (no .git) runs the build made at pack time: npm gives all
  // its files one fixed time, so stamps say nothing there, and its directory may not be writable.
  if (!existsSync(`${root}.git`) && existsSync(`${packed}/cli.mjs`)) return new URL(`file://${packed}/cli.mjs`).href
  const stamp = Math.floor(Math.max(newest(`${root}src`), newest(`${root}node`), statSync(`${root}package.json`).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs))
  // Two levels below the root, as node/cli/ is: the sources' relative paths (examples, package.json) hold.
  const dir = `${dist}/cli-${stamp}`
  if (!existsSync(`${dir}/cli.mjs`)) await buildInto(dir)
  return new URL(`file://${dir}/cli.mjs`).href
}

async function buildInto (dir) {
  const { build } = await import('esbuild')
  mkdirSync(dist, { recursive: true })
  // Several processes may build at once (tests start many): each builds apart, the first rename wins.
  const tmp = `${dist}/.cli-tmp-${process.pid}-${Date.now()}`
  await build({
    entryPoints: { cli: `${root}node/cli/bundle-entry.ts` },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning'
  })
  // Chaincode worker threads still load their TypeScript through tsx: SES must lock the realm
  // down before any other module runs, which a bundle's hoisted package imports would not allow.
  writeFileSync(`${tmp}/worker-bootstrap.mjs`, "import '../../node/chaincode/worker-bootstrap.mjs'\n")
  try {
    renameSync(tmp, dir)
  } catch {
    rmSync(tmp, { recursive: true, force: true })
  }
  // Older builds go, but the newest two: a process started a moment ago may still load chunks.
  const builds = readdirSync(dist).filter(n => /^cli-\d+$/.test(n)).sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)))
  for (const old of builds.slice(2)) rmSync(`${dist}/${old}`, { recursive: true, force: true })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--packed')) {
    rmSync(packed, { recursive: true, force: true })
    await buildInto(packed)
  } else {
    await ensureCliBuilt()
  }
}
