// The in-tab demo network with security (it is platform-free, so it runs here as in a tab): a CA
// of its own enrolls the four validators and the demo user, PBFT runs with the validators'
// enrollment keys, and every transaction carries the demo user's TCert and signature.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { getExtension, OID_TCERT_ENC_TCERT_INDEX, parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { signedTransactionBytes } from '../../src/security/transactions.ts'
import { setLogLevel } from '../../src/util/logger.ts'
import { DemoNetwork } from '../../web/demo/network.ts'

const source = `
export async function init () {}
export async function invoke (stub, fn, args) { await stub.putState(args[0], args[1]) }
export async function query (stub, fn, args) { return await stub.getState(args[0]) }
`

describe('demo network with security', () => {
  let net: DemoNetwork

  beforeAll(async () => {
    setLogLevel('warn')
    net = await DemoNetwork.start({ n: 4, chaincodeSource: source, security: true })
  }, 60_000)
  afterAll(async () => {
    await net?.stop()
    setLogLevel('info')
  })

  it('commits transactions signed by the demo user on every replica, the validators enrolled with the tab\'s CA', async () => {
    expect(net.security).toBe(true)
    const txids = [await net.submit(['put', 'a', '1']), await net.submit(['put', 'b', '2'])]
    await net.waitUntil(() => net.committedEverywhere(txids), 30_000, 'both transactions everywhere')
    const suite = cryptoSuite('SHA3', 256)
    for (const id of [net.chaincode, ...txids]) {
      const tx = (await net.replicas[3].node!.getTransactionByID(id))!
      const cert = parseCertificate(tx.cert)
      expect(getExtension(cert, OID_TCERT_ENC_TCERT_INDEX).length).toBeGreaterThan(0)
      expect(ecdsaVerify(suite, cert.publicKey, signedTransactionBytes(tx), tx.signature)).toBe(true)
    }
    // Chats under security are checked against the ECA's certificates: all three peers passed.
    expect(net.replicas[0].node!.connections().map(c => c.name).sort()).toEqual(['vp1', 'vp2', 'vp3'])
  })

  it('refuses more validators than its CA can enroll', async () => {
    await expect(DemoNetwork.start({ n: 11, chaincodeSource: source, security: true })).rejects.toThrow('with security the demo network runs at most 10 validators')
  })
})
