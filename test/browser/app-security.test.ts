// A tab on a security-enabled network: Weft's CA (serveCa) behind a Node peer that enrolled with
// it, a user logging in in the tab through the peer's /weft/ca/0.6.1 relay, the tab signing its
// deploy and invoke with the user's TCert, and the Node peer committing them after its checks.
// The user's keys stay in the tab's IndexedDB across a reload; no byte of them reaches the peer.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Connection, Stream } from '@libp2p/interface'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveCa, type RunningCa } from '../../node/ca/serve.ts'
import { loadCaConfig } from '../../src/ca/config.ts'
import { utf8 } from '../../src/crypto/bytes.ts'
import { privateKeyBytes } from '../../src/crypto/fabric/ec-key.ts'
import { ecdsaVerify } from '../../src/crypto/fabric/ecdsa.ts'
import { pemToPrivateKey } from '../../src/crypto/fabric/keys.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { getExtension, OID_TCERT_ENC_TCERT_INDEX, parseCertificate } from '../../src/crypto/fabric/x509.ts'
import { signedTransactionBytes } from '../../src/security/transactions.ts'
import { waitFor } from '../helpers/wait.ts'
import { openApp, showView, startTestPeer, waitInPage, type TestPeer } from './app-harness.ts'
import { startBrowser, type WeftBrowser } from './harness.ts'

const suite = cryptoSuite('SHA3', 256)

/** Everything the Node peer receives on libp2p streams, after decryption and demultiplexing. */
function recordInbound (peer: TestPeer): Uint8Array[] {
  const seen: Uint8Array[] = []
  const tap = (s: Stream): void => { s.addEventListener('message', e => { seen.push(e.data.subarray().slice()) }) }
  const watch = (c: Connection): void => {
    const muxer = (c as unknown as { muxer?: EventTarget }).muxer
    muxer?.addEventListener('stream', e => { tap((e as CustomEvent<Stream>).detail) })
    const newStream = c.newStream.bind(c)
    c.newStream = async (...args) => { const s = await newStream(...args); tap(s); return s }
  }
  for (const c of peer.running.libp2p.getConnections()) watch(c)
  peer.running.libp2p.addEventListener('connection:open', e => { watch(e.detail) })
  return seen
}

function contains (haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

/** The PEM of a user's enrollment key as the tab keeps it in IndexedDB. */
async function storedKey (page: Page, user: string): Promise<string | undefined> {
  return await page.evaluate(async ({ user }) => await new Promise<string | undefined>((resolve, reject) => {
    const open = indexedDB.open('weft-members')
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const get = open.result.transaction('raw').objectStore('raw').get(`${window.weft.slot}/crypto/client/${user}/ks/raw/enrollment.key`)
      get.onsuccess = () => { open.result.close(); resolve(get.result as string | undefined) }
      get.onerror = () => reject(get.error)
    }
  }), { user })
}

describe('web app: users of a security-enabled network', () => {
  let ca: RunningCa
  let caDir: string
  let peer: TestPeer
  let browser: WeftBrowser
  let page: Page
  let inbound: Uint8Array[]
  const posted: string[] = []
  let chaincode = ''
  let sentCert: Uint8Array | undefined

  beforeAll(async () => {
    caDir = await mkdtemp(join(tmpdir(), 'weft-tab-ca-'))
    ca = await serveCa(loadCaConfig({ env: { MEMBERSRVC_CA_SERVER_PORT: '127.0.0.1:0' } }), caDir)
    const paddr = ca.grpc.address
    ;[peer, browser] = await Promise.all([startTestPeer({
      env: {
        CORE_SECURITY_ENABLED: 'true',
        CORE_SECURITY_ENROLLID: 'test_vp0',
        CORE_SECURITY_ENROLLSECRET: 'MwYpmSRjupbT',
        CORE_PEER_PKI_ECA_PADDR: paddr,
        CORE_PEER_PKI_TCA_PADDR: paddr,
        CORE_PEER_PKI_TLSCA_PADDR: paddr
      }
    }), startBrowser()])
    inbound = recordInbound(peer)
    page = await browser.newPage('A')
    page.on('request', r => { const body = r.postData(); if (body !== null) posted.push(body) })
    await openApp(page, peer.url)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await peer?.stop()
    await ca?.stop()
    if (caDir !== undefined) await rm(caDir, { recursive: true, force: true })
  })

  it('a user logs in in the tab and deploys and invokes as that user; the Node peer commits the signed transactions', async () => {
    await page.evaluate(async () => { await window.weft.login('jim', '6avZQLwcUe9b') })
    expect(await page.evaluate(() => window.weft.users())).toEqual(['jim'])
    // The Node peer takes no Chat from a tab that is no enrolled peer; the page says so without alarm.
    const notice = await waitInPage(page, 'the no-chat notice', () => window.weft.notices.find(n => n.text.startsWith('No Chat with')), 20_000)
    expect(notice?.level).toBe('warn')
    const deployed = await page.evaluate(async () => await window.weft.deploy({ example: 'example02', args: ['init', 'a', '100', 'b', '200'] }, { user: 'jim', wait: false }))
    chaincode = deployed.name
    const invoked = await page.evaluate(async (cc) => await window.weft.invoke(cc, ['invoke', 'a', 'b', '7'], { user: 'jim', wait: false }), chaincode)
    for (const txid of [chaincode, invoked.txid]) {
      const tx = await waitFor(`transaction ${txid} on the Node peer`, async () => await peer.running.node.getTransactionByID(txid), { timeoutMs: 60_000 })
      sentCert ??= tx.cert
      const cert = parseCertificate(tx.cert)
      // A TCert of the TCA (it carries the TCert index), and its key signed the transaction.
      expect(getExtension(cert, OID_TCERT_ENC_TCERT_INDEX).length).toBeGreaterThan(0)
      expect(ecdsaVerify(suite, cert.publicKey, signedTransactionBytes(tx), tx.signature)).toBe(true)
    }
    const value = await waitFor('the invoke to take effect', async () => {
      const v = await page.evaluate(async (cc) => await window.weft.query(cc, ['query', 'a'], { user: 'jim' }), chaincode)
      return v === '93' ? v : undefined
    }, { timeoutMs: 30_000 })
    expect(value).toBe('93')
  })

  it('a wrong secret shows the CA\'s reason in the page', async () => {
    await showView(page, 'chaincode')
    await page.fill('#login-user', 'lukas')
    await page.fill('#login-secret', 'not-his-secret')
    await page.click('#login-button')
    const text = await waitInPage(page, 'the login result', () => document.querySelector('#login-result .err')?.textContent ?? undefined)
    expect(text).toBe('membership services: rpc error: code = 16 desc = Identity or token does not match.')
    expect(await page.evaluate(() => window.weft.users())).toEqual(['jim'])
  })

  it('the console signs as the logged-in user and waits for the Node peer\'s commit (its BLOCK events: the tab has no chat)', async () => {
    await showView(page, 'chaincode')
    expect(await page.inputValue('#sign-as')).toBe('jim')
    expect(await page.locator('#user-list li').allTextContents()).toEqual(['jim Log out'])
    await page.fill('#view-chaincode input[aria-label="chaincode name"]', chaincode)
    await page.click('#view-chaincode button:text-is("Invoke")')
    const done = await page.waitForSelector('#view-chaincode .result:has-text("txid")', { timeout: 45_000 }).then(async e => ({ text: await e.textContent(), ok: await e.evaluate(n => n.classList.contains('ok')) }))
    expect(done.text).toContain('committed by the Node peer')
    expect(done.ok).toBe(true)
    const txid = /txid (\S+)/.exec(done.text ?? '')![1]
    const tx = await peer.running.node.getTransactionByID(txid)
    expect(tx?.cert.length).toBeGreaterThan(0)
  })

  it('keeps the user\'s keys in IndexedDB across a reload and never sends them', async () => {
    const pem = await storedKey(page, 'jim')
    expect(pem).toMatch(/PRIVATE KEY/)
    await page.reload()
    await page.waitForFunction(() => window.weft !== undefined)
    await page.evaluate(async () => { await window.weft.ready })
    expect(await page.evaluate(() => window.weft.users())).toEqual(['jim'])
    expect(await storedKey(page, 'jim')).toBe(pem)
    // Signed with keys read back from IndexedDB: no new login.
    const again = await page.evaluate(async (cc) => await window.weft.invoke(cc, ['invoke', 'b', 'a', '1'], { user: 'jim', wait: false }), chaincode)
    await waitFor('the invoke after the reload', async () => await peer.running.node.getTransactionByID(again.txid), { timeoutMs: 60_000 })

    const d = privateKeyBytes(pemToPrivateKey(pem!))
    const pemBody = utf8(pem!.split('\n').filter(l => l !== '' && !l.startsWith('-----')).join(''))
    // The tap sees what the tab sent: the transactions, each with its TCert.
    expect(inbound.some(bytes => contains(bytes, sentCert!))).toBe(true)
    for (const bytes of inbound) {
      expect(contains(bytes, d)).toBe(false)
      expect(contains(bytes, pemBody.subarray(0, 32))).toBe(false)
    }
    for (const body of posted) expect(body).not.toContain(pem!.split('\n')[1])
  })

  it('logs a user out: its keys are gone from IndexedDB, and signing as it fails as Fabric says', async () => {
    await showView(page, 'chaincode')
    await page.click('#user-list li[data-user="jim"] button')
    await waitInPage(page, 'jim gone from the list', () => document.querySelector('#user-list li') === null)
    expect(await page.evaluate(() => window.weft.users())).toEqual([])
    expect(await storedKey(page, 'jim')).toBeUndefined()
    const err = await page.evaluate(async (cc) => await window.weft.invoke(cc, ['invoke', 'a', 'b', '1'], { user: 'jim', wait: false }).then(() => '', (e: Error) => e.message), chaincode)
    expect(err).toContain('crypto/client/jim/ks/raw/eca.cert.chain: no such file or directory')
  })
})
