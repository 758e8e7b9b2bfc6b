// What bench/throughput.ts and bench/memory.ts share: one `weft node start` peer with example02
// deployed as mycc, and a run of the load generator (bench/tools/loadgen.ts) in its own process.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LoadResult } from './loadgen.ts'
import { WeftProcesses } from '../../test/integration/weft-processes.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** How the peer runs its chaincode: user-started over the dev-mode stream, or deployed as JS in a worker. */
export type Chaincode = 'dev-stream' | 'js-worker'

export interface BenchPeer {
  target: string
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
  const procs = await WeftProcesses.create(1, () => ({ CORE_LOGGING_PEER: 'warning', ...env }))
  let cc: ChildProcess | undefined
  try {
    const init = { type: 1, chaincodeID: { name: 'mycc' }, ctorMsg: { args: ['init', 'a', '100000000', 'b', '200'] } }
    let name = 'mycc'
    if (chaincode === 'dev-stream') {
      await procs.start(0, ['--peer-chaincodedev'])
      // The chaincode in a process of its own, as a user starts a Go chaincode in dev mode.
      const ccEnv = { ...process.env, CORE_PEER_ADDRESS: procs.grpc(0), CORE_CHAINCODE_ID_NAME: 'mycc' }
      cc = goChaincode !== undefined
        ? spawn(goChaincode, [], { env: ccEnv, stdio: 'ignore' })
        : spawn(process.execPath, ['bin/weft.mjs', 'chaincode', 'run', '-p', 'examples/chaincode/example02.ts'], { cwd: root, env: ccEnv, stdio: ['ignore', 'ignore', 'inherit'] })
      cc.once('exit', code => { if (code !== null && code !== 0) console.error(`the chaincode exited with ${code}`) })
      await procs.until('mycc to register', async () => (await procs.rpc(0, 'deploy', init, '30s')).result !== undefined ? true : undefined, 30_000)
    } else {
      await procs.start(0)
      const out = await run(['bin/weft.mjs', 'chaincode', 'deploy', '-p', 'examples/chaincode/example02.ts', '-c', '{"Args":["init","a","100000000","b","200"]}', '--wait'],
        { CORE_PEER_ADDRESS: procs.grpc(0), CORE_PEER_VALIDATOR_EVENTS_ADDRESS: `127.0.0.1:${procs.port(0, 'events')}` })
      name = /Deploy chaincode: (\S+)/.exec(out)?.[1] ?? ''
      if (name === '') throw new Error(`deploy printed no name: ${out}`)
    }
    return { target: procs.rest(0), chaincode: name, procs, stop: async () => { cc?.kill(); await procs.stop() } }
  } catch (err) {
    cc?.kill()
    await procs.stop()
    throw err
  }
}

/** One load generator run against `target` (a REST base URL): `seconds` measured after `warmupMs`. */
export async function loadgen (target: string, chaincode: string, seconds: number, warmupMs: number, args: string[]): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/tools/loadgen.ts', '--target', target, '--chaincode', chaincode,
    '--duration', String(seconds * 1000), '--warmup', String(warmupMs), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`loadgen exited with ${code}: ${out}`)
  return JSON.parse(out) as LoadResult
}

async function run (args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}: ${out}`)
  return out
}

export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)] }
export const fmt = (x: number): string => Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1)
