// The in-tab demo network starting (platform-free, so it runs here as in a tab): its replicas
// start one after another and each sends its first PBFT checkpoint while the others' chats are
// still being set up. Nothing sent then is lost: every replica's first checkpoint reaches every
// other, and consensus goes on in view 0.
import { afterEach, describe, expect, it } from 'vitest'
import { setLogLevel } from '../../src/util/logger.ts'
import type { FlowEvent } from '../../web/demo/flow.ts'
import { DemoNetwork } from '../../web/demo/network.ts'

const source = `
export async function init () {}
export async function invoke (stub, fn, args) { await stub.putState(args[0], args[1]) }
export async function query (stub, fn, args) { return await stub.getState(args[0]) }
`

describe('demo network start', () => {
  let net: DemoNetwork | undefined
  afterEach(async () => {
    await net?.stop()
    setLogLevel('info')
  })

  for (const n of [4, 7]) {
    it(`${n} validators: what each replica sends while the others connect arrives, and transactions commit everywhere`, async () => {
      setLogLevel('silent')
      const flows: FlowEvent[] = []
      net = await DemoNetwork.start({ n, chaincodeSource: source, onFlow: e => { flows.push(e) } })
      const pairs = (kind: FlowEvent['kind'], seqNo: number): string[] => [...new Set(flows
        .filter(e => e.kind === kind && e.seqNo === seqNo)
        .map(e => `${e.from}->${e.to}`))].sort()
      const everyPair = Array.from({ length: n }, (_, from) => Array.from({ length: n }, (_, to) => `${from}->${to}`)).flat()
        .filter(p => p.split('->')[0] !== p.split('->')[1]).sort()
      expect(pairs('checkpoint', 0)).toEqual(everyPair)
      expect(net.currentView().view).toBe(0)

      const txids = await Promise.all(Array.from({ length: n }, (_, i) => net!.submit(['put', `k${i}`, String(i)], i)))
      await net.waitUntil(() => net!.committedEverywhere(txids), 30_000, 'every transaction on every replica')
      expect(net.views).toEqual(new Set([0]))
    }, 60_000)
  }
})
