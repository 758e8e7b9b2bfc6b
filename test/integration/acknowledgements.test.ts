// What an OK means. As in Fabric, a deploy or invoke answered OK was accepted into the queue,
// nothing more: a transaction that then fails is still OK. With `--wait` (CLI) or `"wait"`
// (REST) the answer comes once the transaction is in a block, and a rejected one fails with the
// chaincode's own error.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import type { RunningPeer } from '../../node/peer/serve.ts'
import { weftWith } from '../interop/weft-cli.ts'
import { chaincodeRpc, peerForSuite, type RpcAnswer } from './in-process-peer.ts'

let peer: RunningPeer
let name: string

const rpc = async (body: Record<string, unknown>): Promise<RpcAnswer> => await chaincodeRpc(peer, body)
const spec = (chaincode: string, args: string[]) => ({ type: 2, chaincodeID: { name: chaincode }, ctorMsg: { args } })
const cli = async (...args: string[]) => await weftWith({ CORE_PEER_VALIDATOR_EVENTS_ADDRESS: peer.events.address }, peer.grpc.address, ...args)
const committed = async (txid: string): Promise<boolean> => (await fetch(`${peer.restUrl}/transactions/${txid}`)).status === 200

// A slow block cut, so "accepted" and "committed" are far apart.
peerForSuite({ noops: { block: { wait: 700 } } }, async p => {
  peer = p
  const deployed = await rpc({ method: 'deploy', params: { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] } }, wait: true })
  name = deployed.result!.message
  expect(await committed(name)).toBe(true)
})

describe('REST', () => {
  it('answers OK on acceptance: the invoke is not in the chain yet, and a failing one is OK too', async () => {
    const ok = await rpc({ method: 'invoke', params: spec(name, ['invoke', 'a', 'b', '1']) })
    expect(await committed(ok.result!.message)).toBe(false)
    const failing = await rpc({ method: 'invoke', params: spec(name, ['invoke', 'a', 'nobody', '1']) })
    expect(failing.result?.message).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('with "wait" answers once the invoke is in a block', async () => {
    const ok = await rpc({ method: 'invoke', params: spec(name, ['invoke', 'a', 'b', '1']), wait: '10s' })
    expect(await committed(ok.result!.message)).toBe(true)
  })

  it('with "wait" reports a rejected invoke as an invocation failure with the chaincode\'s error', async () => {
    const failed = await rpc({ method: 'invoke', params: spec(name, ['invoke', 'a', 'nobody', '1']), wait: true })
    expect(failed.error?.code).toBe(-32002)
    expect(failed.error?.data).toMatch(/^Error when invoking chaincode: transaction [0-9a-f-]{36} was rejected: Transaction or query returned with failure: Entity not found$/)
  })

  it('refuses to deploy a path outside the chaincode roots, with the one error', async () => {
    for (const path of ['/etc/passwd', join(EXAMPLES_ROOT, '../../package.json'), 'no/such/dir']) {
      const refused = await rpc({ method: 'deploy', params: { type: 2, chaincodeID: { path }, ctorMsg: { args: ['init'] } } })
      expect(refused.error?.data).toBe(`Error when deploying chaincode: chaincode path ${path} is not inside an allowed chaincode root`)
    }
  })

  it('refuses a wait it cannot read', async () => {
    const bad = await rpc({ method: 'invoke', params: spec(name, ['invoke', 'a', 'b', '1']), wait: 'soon' })
    expect(bad.error?.code).toBe(-32700)
    expect(bad.error?.data).toContain('wait must be true, a number of milliseconds or a duration such as "10s"')
  })
})

describe('CLI', () => {
  it('invoke exits 0 on acceptance even when the transaction later fails', async () => {
    const run = await cli('chaincode', 'invoke', '-n', name, '-c', JSON.stringify({ Args: ['invoke', 'a', 'nobody', '1'] }))
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/^Successfully invoked transaction: [0-9a-f-]{36}\n$/)
  })

  it('invoke --wait prints the commit and exits 0', async () => {
    const run = await cli('chaincode', 'invoke', '--wait', '10s', '-n', name, '-c', JSON.stringify({ Args: ['invoke', 'a', 'b', '1'] }))
    expect([run.code, run.err]).toEqual([0, ''])
    const txid = /^Successfully invoked transaction: (\S+)\n/.exec(run.out)![1]
    expect(run.out).toBe(`Successfully invoked transaction: ${txid}\nTransaction ${txid} committed\n`)
    expect(await committed(txid)).toBe(true)
  })

  it('invoke --wait exits 1 with the chaincode\'s error when the transaction is rejected', async () => {
    const run = await cli('chaincode', 'invoke', '--wait', '-n', name, '-c', JSON.stringify({ Args: ['invoke', 'a', 'nobody', '1'] }))
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/^Error: transaction [0-9a-f-]{36} was rejected: Transaction or query returned with failure: Entity not found\n$/)
  })

  it('deploy --wait waits for the deploy\'s block', async () => {
    const run = await cli('chaincode', 'deploy', '--wait', '-p', join(EXAMPLES_ROOT, 'map.ts'), '-c', JSON.stringify({ Args: [] }))
    expect(run.code).toBe(0)
    const deployed = /^Deploy chaincode: (\S+)\n/.exec(run.out)![1]
    expect(await committed(deployed)).toBe(true)
  })
})
