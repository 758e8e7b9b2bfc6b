// Fabric 0.6.1's crypto in a tab: the vectors Fabric's Go code computed (test/vectors/security)
// checked by src/crypto/fabric running in Chromium.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { eciesDecrypt } from '../../src/crypto/fabric/ecies.ts'
import { parsePrivateKey } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { callInPage, openEntry, serveEntry, startBrowser, type ServedEntry, type WeftBrowser } from './harness.ts'

const vectors = JSON.parse(readFileSync(new URL('../vectors/security/fabric-primitives.json', import.meta.url), 'utf8'))

describe('Fabric crypto in Chromium', () => {
  let browser: WeftBrowser
  let server: ServedEntry
  let page: Page

  beforeAll(async () => {
    ;[browser, server] = await Promise.all([startBrowser(), serveEntry('test/browser/entries/fabric-crypto.ts')])
    page = await browser.newPage('fabric-crypto')
    await openEntry(page, server.url)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  for (const v of vectors.suites) {
    const alg = [v.hashAlgorithm, v.level]
    it(`${v.hashAlgorithm} ${v.level}: hashes, Go's signatures, ECIES and AES ciphertexts, TCert keys`, async () => {
      for (const c of v.hashes) expect(toHex(await callInPage<Uint8Array>(page, 'hash', alg, fromHex(c.msg)))).toBe(c.hash)
      for (const s of v.ecdsa.signatures) expect(await callInPage(page, 'verify', alg, fromHex(v.ecdsa.publicDer), fromHex(s.msg), fromHex(s.sig))).toBe(true)
      const sig = await callInPage<Uint8Array>(page, 'sign', alg, fromHex(v.ecdsa.privateDer), utf8('signed in a tab'))
      expect(await callInPage(page, 'verify', alg, fromHex(v.ecdsa.publicDer), utf8('signed in a tab'), sig)).toBe(true)
      for (const c of v.ecies.ciphertexts) expect(toHex(await callInPage<Uint8Array>(page, 'eciesDecrypt', alg, fromHex(v.ecies.privateDer), fromHex(c.ciphertext)))).toBe(c.plain)
      for (const c of v.aes.cases) expect(toHex(await callInPage<Uint8Array>(page, 'aesDecrypt', fromHex(v.aes.key), fromHex(c.ciphertext)))).toBe(c.plain)
      for (const c of v.tcert.certs) {
        const pub = await callInPage<Uint8Array>(page, 'tcertPublicKey', alg, fromHex(v.tcert.tca.der), fromHex(v.tcert.enrollKey), fromHex(v.tcert.kdfKey), fromHex(c.cert.der), Date.UTC(2026, 5, 1))
        expect(toHex(pub)).toBe(c.cert.publicKey)
      }
      // a ciphertext made in the tab opens in Node
      const ct = await callInPage<Uint8Array>(page, 'eciesEncrypt', alg, fromHex(v.x509.ca.publicKey), utf8('from the tab'))
      expect(eciesDecrypt(cryptoSuite(v.hashAlgorithm, v.level), parsePrivateKey(fromHex(v.x509.caKey)), ct)).toEqual(utf8('from the tab'))
    })
  }

  it('had no page errors', () => { expect(browser.problems).toEqual([]) })
})
