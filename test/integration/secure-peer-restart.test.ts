// A user's unused TCerts outlive the peer, as Fabric keeps them in its keystore: restarted with
// membership services stopped, the peer signs the user's next transaction with the first kept
// TCert and commits it.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { serveCa, type RunningCa } from '../../node/ca/serve.ts'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { serve, type RunningPeer } from '../../node/peer/serve.ts'
import { loadCaConfig } from '../../src/ca/config.ts'
import { toHex } from '../../src/crypto/bytes.ts'
import { pemToCertDer } from '../../src/crypto/fabric/pem.ts'
import { loadConfig, withOverrides } from '../../src/config/index.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { chaincodeRpc } from './in-process-peer.ts'

let dir: string
let ca: RunningCa | undefined
let peer: RunningPeer | undefined

beforeAll(async () => {
  setLogLevel('warn')
  dir = await mkdtemp(join(tmpdir(), 'weft-restart-'))
  ca = await serveCa(loadCaConfig({ env: { MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:0' } }), join(dir, 'ca'))
})

afterAll(async () => {
  await peer?.stop()
  await ca?.stop()
  await rm(dir, { recursive: true, force: true })
  setLogLevel('info')
})

/** A security-enabled validator on `dir`/vp0, with the CA at `paddr`. */
async function startPeer (paddr: string): Promise<RunningPeer> {
  return await serve(withOverrides(loadConfig(), {
    peer: {
      fileSystemPath: join(dir, 'vp0'),
      address: '127.0.0.1:0',
      listenAddress: '127.0.0.1:0',
      validator: { events: { address: '127.0.0.1:0' } },
      libp2p: { address: '127.0.0.1:0' },
      pki: { eca: { paddr }, tca: { paddr }, tlsca: { paddr } }
    },
    rest: { address: '127.0.0.1:0' },
    web: { enabled: false },
    security: { enabled: true, enrollID: 'test_vp0', enrollSecret: 'MwYpmSRjupbT', tcert: { batch: { size: 4 } } },
    chaincode: { node: { roots: [EXAMPLES_ROOT] } }
  }))
}

/** The unused TCerts kept for jim, as hex DER, in order: the batch after those counted as taken. */
async function keptTCerts (): Promise<string[]> {
  const raw = join(dir, 'vp0', 'crypto', 'client', 'jim', 'ks', 'raw')
  const text = await readFile(join(raw, 'tcerts.unused'), 'utf8')
  const taken = Number(await readFile(join(raw, 'tcerts.taken'), 'utf8'))
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g)].map(m => toHex(pemToCertDer(m[0]))).slice(taken)
}

it('restarted with the CA stopped, a logged-in user\'s next transaction signs with a kept TCert and commits', async () => {
  const paddr = ca!.grpc.address
  peer = await startPeer(paddr)
  const login = await fetch(`${peer.restUrl}/registrar`, { method: 'POST', body: JSON.stringify({ enrollId: 'jim', enrollSecret: '6avZQLwcUe9b' }) })
  expect(login.status).toBe(200)
  const deployed = await chaincodeRpc(peer, { method: 'deploy', params: { type: 2, chaincodeID: { path: join(EXAMPLES_ROOT, 'example02.ts') }, ctorMsg: { args: ['init', 'a', '100', 'b', '200'] }, secureContext: 'jim' }, wait: true })
  const name = deployed.result?.message
  expect(name, JSON.stringify(deployed)).toBeDefined()
  const kept = await keptTCerts()
  expect(kept).toHaveLength(3) // a batch of 4, one used by the deploy

  await peer.stop()
  peer = undefined
  await ca!.stop()
  ca = undefined

  peer = await startPeer(paddr)
  const invoked = await chaincodeRpc(peer, { method: 'invoke', params: { type: 2, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '10'] }, secureContext: 'jim' }, wait: true })
  expect(invoked.result, JSON.stringify(invoked)).toBeDefined()
  expect(((await (await fetch(`${peer.restUrl}/chain`)).json()) as { height: number }).height).toBe(3)
  const tx = await peer.node.getTransactionByID(invoked.result!.message)
  expect(toHex(tx!.cert)).toBe(kept[0])
  expect(await keptTCerts()).toEqual(kept.slice(1))
}, 60_000)
