// A rejected transaction is visible after the fact: GET /transactions/{id} and `weft tx` say it
// was rejected and why, and `--json` gives scripts the outcome and the exit status to act on.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import type { RunningPeer } from '../../node/peer/serve.ts'
import { weftWith } from '../interop/weft-cli.ts'
import { peerForSuite } from './in-process-peer.ts'

let peer: RunningPeer
let name: string

const cli = async (...args: string[]) => await weftWith({
  CORE_PEER_VALIDATOR_EVENTS_ADDRESS: peer.events.address,
  CORE_REST_ADDRESS: new URL(peer.restUrl!).host
}, peer.grpc.address, ...args)
const ctor = (...args: string[]): string => JSON.stringify({ Args: args })
const json = (out: string): Record<string, unknown> => {
  expect(out.endsWith('\n') && !out.slice(0, -1).includes('\n')).toBe(true)
  return JSON.parse(out) as Record<string, unknown>
}

peerForSuite({ noops: { block: { wait: 200 } } }, async p => {
  peer = p
  const run = await cli('chaincode', 'deploy', '--wait', '--json', '-p', join(EXAMPLES_ROOT, 'example02.ts'), '-c', ctor('init', 'a', '100', 'b', '200'))
  expect(run.code).toBe(0)
  const deployed = json(run.out)
  expect(deployed).toMatchObject({ status: 'committed', block: 1 })
  name = deployed.txid as string
})

describe('a rejected transaction', () => {
  it('invoke --wait --json reports it rejected with the chaincode\'s error and exits 1; REST and weft tx still say so later', async () => {
    const run = await cli('chaincode', 'invoke', '--wait', '--json', '-n', name, '-c', ctor('invoke', 'a', 'nobody', '1'))
    const reason = 'Transaction or query returned with failure: Entity not found'
    expect(run.code).toBe(1)
    const out = json(run.out)
    expect(out).toEqual({ txid: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'rejected', error: reason })
    const txid = out.txid as string

    const rest = await fetch(`${peer.restUrl}/transactions/${txid}`)
    expect(rest.status).toBe(410)
    expect(await rest.json()).toMatchObject({ txid, status: 'rejected', reason })

    expect(await cli('tx', txid)).toEqual({ code: 1, out: `rejected: ${reason}\n`, err: '' })
  })

  it('an invoke of a chaincode that does not exist is rejected, and says why', async () => {
    const accepted = await cli('chaincode', 'invoke', '--json', '-n', 'nosuch', '-c', ctor('invoke', 'a', 'b', '1'))
    expect(accepted.code).toBe(0)
    const { txid, status } = json(accepted.out)
    expect(status).toBe('accepted')
    const waited = await cli('chaincode', 'invoke', '--wait', '-n', 'nosuch', '-c', ctor('invoke', 'a', 'b', '1'))
    expect(waited.code).toBe(1)
    expect(waited.err).toContain('nosuch')
    // The first one, not waited for, is rejected too, and the peer remembers it.
    const later = await cli('tx', txid as string)
    expect(later.code).toBe(1)
    expect(later.out).toMatch(/^rejected: .*nosuch/)
  })
})

describe('weft tx and --json', () => {
  it('a committed invoke: its block and contents, exit 0', async () => {
    const run = await cli('chaincode', 'invoke', '-w', '10s', '--json', '-n', name, '-c', ctor('invoke', 'a', 'b', '1'))
    expect(run.code).toBe(0)
    const out = json(run.out)
    expect(out).toMatchObject({ status: 'committed' })
    const block = out.block as number
    expect(block).toBeGreaterThan(1)
    expect(block).toBeLessThan(peer.node.height)
    const tx = await cli('tx', out.txid as string)
    expect(tx.code).toBe(0)
    expect(tx.out).toContain(`committed in block ${block}\ntype: CHAINCODE_INVOKE\n`)
    expect(tx.out).toContain(`chaincode: ${name}\nargs: ["invoke","a","b","1"]\n`)
  })

  it('an id the peer never saw: Fabric\'s 404 over REST, exit 2', async () => {
    const rest = await fetch(`${peer.restUrl}/transactions/never-seen`)
    expect([rest.status, await rest.text()]).toEqual([404, '{"Error":"Transaction never-seen is not found."}\n'])
    expect(await cli('tx', 'never-seen')).toEqual({ code: 2, out: 'unknown: no block holds never-seen, and the peer remembers no rejection of it\n', err: '' })
  })

  it('query --json gives the result; a failing query gives a failed object and exit 1', async () => {
    const run = await cli('chaincode', 'query', '--json', '-n', name, '-c', ctor('query', 'b'))
    expect(run.code).toBe(0)
    expect(Number((json(run.out) as { result: string }).result)).toBeGreaterThanOrEqual(200)
    const failed = await cli('chaincode', 'query', '--json', '-n', name, '-c', ctor('query', 'nobody'))
    expect(failed.code).toBe(1)
    expect(json(failed.out)).toMatchObject({ status: 'failed', error: expect.stringContaining('nobody') })
  })

  it('deploy without --wait is accepted, its txid the chaincode name', async () => {
    const run = await cli('chaincode', 'deploy', '--json', '-p', join(EXAMPLES_ROOT, 'map.ts'), '-c', ctor())
    expect(run.code).toBe(0)
    expect(json(run.out)).toMatchObject({ txid: expect.any(String), status: 'accepted' })
  })
})
