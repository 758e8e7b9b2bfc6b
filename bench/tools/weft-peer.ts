// What bench/throughput.ts and bench/memory.ts share: one `weft node start` peer with example02
// deployed as mycc, and a run of the load generator (bench/tools/loadgen.ts) in its own process.
import { mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { LoadResult } from './loadgen.ts'
import { describeExit, finish, Proc } from '../../test/helpers/processes.ts'
import { WeftProcesses } from '../../test/helpers/weft-processes.ts'

/** How the peer runs its chaincode: user-started over the dev-mode stream, or deployed as JS in a worker. */
export type Chaincode = 'dev-stream' | 'js-worker'

export interface BenchPeer {
  target: string
  /** The peer's WebSockets multiaddr (with /p2p/<id>), as it printed it at start. */
  libp2p: string
  chaincode: string
  procs: WeftProcesses
  stop: () => Promise<void>
}

/**
 * One Weft peer (ports from the OS, its own data directory, `env` added to its CORE_*
 * variables), example02 deployed with a→100000000, b→200. `goChaincode`: the dev-mode
 * chaincode is this binary (Fabric's Go chaincode_example02) instead of `weft chaincode run`.
 */
export async function weftPeer (chaincode: Chaincode, env: Record<string, string> = {}, goChaincode?: string): Promise<BenchPeer> {
  const procs = await WeftProcesses.create(1, () => ({ CORE_LOGGING_NODE: 'warning', ...env }))
  // WEFT_BENCH_CPU_PROF=DIR: the peer runs with --cpu-prof; stop() ends it with SIGTERM, which writes the profile.
  const profDir = process.env.WEFT_BENCH_CPU_PROF === undefined ? undefined : resolve(process.env.WEFT_BENCH_CPU_PROF)
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true })
  const nodeArgs = profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]
  let cc: Proc | undefined
  try {
    const init = { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['init', 'a', '100000000', 'b', '200'] } }
    let name = 'mycc'
    if (chaincode === 'dev-stream') {
      await procs.start(0, ['--peer-chaincodedev'], nodeArgs)
      // The chaincode in a process of its own, as a user starts a Go chaincode in dev mode.
      const ccOptions = { label: 'the chaincode', env: { CORE_PEER_ADDRESS: procs.grpc(0), CORE_CHAINCODE_ID_NAME: 'mycc' } }
      // Fabric's Go shim logs every message at DEBUG, synchronously: into a pipe this process reads, a
      // busy machine would stall the chaincode on a full pipe. To a file, as Fabric's peer gets it run.
      const goLog = join(procs.dir, 'chaincode.log')
      const chaincode = cc = goChaincode !== undefined
        ? Proc.start('/bin/sh', ['-c', 'exec "$0" >"$1" 2>&1', goChaincode, goLog], ccOptions)
        : Proc.weft(['chaincode', 'run', '-p', 'examples/chaincode/example02.ts'], ccOptions)
      void chaincode.exited.then(exit => {
        if (exit.code !== null && exit.code !== 0) console.error(`the chaincode exited with ${exit.code}:\n${goChaincode !== undefined ? tail(goLog) : chaincode.stderr}`)
      })
      await procs.waitFor('mycc to register', async () => (await procs.rpc(0, 'deploy', init, '30s')).result !== undefined, 30_000)
    } else {
      await procs.start(0, [], nodeArgs)
      const out = await run(Proc.weft(['chaincode', 'deploy', '-p', 'examples/chaincode/example02.ts', '-c', '{"Args":["init","a","100000000","b","200"]}', '--wait'],
        { env: { CORE_PEER_ADDRESS: procs.grpc(0), CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${procs.port(0, 'events')}` } }))
      name = /Deploy chaincode: (\S+)/.exec(out)?.[1] ?? ''
      if (name === '') throw new Error(`deploy printed no name: ${out}`)
    }
    const libp2p = /^ {2}libp2p {2}(.*)$/m.exec(procs.output(0))?.[1].split(' ').find(m => m.includes('/ws/p2p/'))
    if (libp2p === undefined) throw new Error(`the peer printed no WebSockets multiaddr: ${procs.output(0)}`)
    return { target: procs.rest(0), libp2p, chaincode: name, procs, stop: async () => { await cc?.stop(); await procs.stop() } }
  } catch (err) {
    await cc?.stop()
    await procs.stop()
    throw err
  }
}

/** One load generator run against `target` (a REST base URL): `seconds` measured after `warmupMs`. */
export async function loadgen (target: string, chaincode: string, seconds: number, warmupMs: number, args: string[]): Promise<LoadResult> {
  const out = await run(Proc.node(['--import', 'tsx', 'bench/tools/loadgen.ts', '--target', target, '--chaincode', chaincode,
    '--duration', String(seconds * 1000), '--warmup', String(warmupMs), ...args]))
  return JSON.parse(out) as LoadResult
}

/** The last lines of a log file (or why it cannot be read). */
function tail (path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-3000)
  } catch (err) {
    return `(${path}: ${(err as Error).message})`
  }
}

/** The stdout of `p` once it exits 0. */
async function run (p: Proc): Promise<string> {
  const done = await finish(p)
  if (done.code !== 0) throw new Error(`${p.label} ended with ${describeExit(done)}: ${done.output}`)
  return done.stdout
}

export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)] }
export const fmt = (x: number): string => Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1)
