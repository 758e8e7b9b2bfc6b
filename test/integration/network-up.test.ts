// `weft network up 4 --consensus pbft`, as a user runs it: one command starts four validators
// that find one another through the network file it writes; a deploy and an invoke through
// two peers' REST commit the same blocks on all four; SIGINT to the command (Ctrl-C) ends every
// peer's process with it.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { alive } from '../../node/peer/pid-file.ts'
import { networkUpPerTest } from '../helpers/network-up.ts'
import { waitFor } from '../helpers/wait.ts'

const networkUp = networkUpPerTest()

interface RpcAnswer { result?: { message: string }, error?: unknown }
interface Chain { height: number, currentBlockHash: string }

it('starts a PBFT network of four that commits one chain, and Ctrl-C stops every peer', async () => {
  const { up, dir } = await networkUp(['4', '--consensus', 'pbft', '--no-web', '--timeout', '40'])
  await up.waitForOutput('the network to be up', /^Every peer is up/m, { timeoutMs: 45_000, everyMs: 100 })
  // The table: one row per validator, its REST URL in the second column.
  const rows = [...up.stdout.matchAll(/^(vp\d)\s+(http:\/\/127\.0\.0\.1:\d+)\s+(127\.0\.0\.1:\d+)\s+(127\.0\.0\.1:\d+)\s+(12D3\w+)$/gm)]
  expect(rows.map(r => r[1])).toEqual(['vp0', 'vp1', 'vp2', 'vp3'])
  const rest = rows.map(r => r[2])
  const pids = await Promise.all([0, 1, 2, 3].map(async i => Number(await readFile(join(dir, `vp${i}`, 'peer.pid'), 'utf8'))))
  expect(pids.every(alive)).toBe(true)

  const rpc = async (i: number, method: string, params: unknown): Promise<RpcAnswer> =>
    await (await fetch(`${rest[i]}/chaincode`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params, wait: true }) })).json() as RpcAnswer
  const deployed = await rpc(0, 'deploy', { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] } })
  const name = deployed.result?.message
  expect(name, JSON.stringify(deployed)).toBeDefined()
  // The deploy committed everywhere before the invoke, which another replica could order first.
  const chains = async (): Promise<Chain[]> => await Promise.all(rest.map(async url => await (await fetch(`${url}/chain`)).json() as Chain))
  await waitFor('the deploy on all four', async () => (await chains()).every(c => c.height === 2), { timeoutMs: 20_000, everyMs: 200 })
  const invoked = await rpc(1, 'invoke', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '10'] } })
  expect(invoked.result, JSON.stringify(invoked)).toBeDefined()
  const same = await waitFor('one chain of height 3 on all four', async () => {
    const cs = await chains()
    return cs.every(c => c.height === 3 && c.currentBlockHash === cs[0].currentBlockHash) && cs
  }, { timeoutMs: 20_000, everyMs: 200 })
  expect(new Set(same.map(c => c.currentBlockHash)).size).toBe(1)
  expect((await rpc(3, 'query', { type: 2, chaincodeID: { name }, ctorMsg: { args: ['query', 'a'] } })).result?.message).toBe('90')

  up.child.kill('SIGINT')
  const exit = await up.exited
  expect(exit).toEqual({ code: 0, signal: null })
  expect(pids.filter(alive)).toEqual([])
}, 90_000)
