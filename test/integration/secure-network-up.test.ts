// `weft network up 4 --security`, as a user runs it from the README: membership services and
// four PBFT validators enrolled with it; jim logs in with `weft network login` and deploys and
// invokes with -u, alice invokes through another peer's REST with secureContext; all four commit
// one chain whose transactions carry TCerts of the CA's TCA; a wrong secret is refused with the
// CA's reason; Ctrl-C stops the peers and the CA, and `weft network down` stops them when `up`
// itself was killed.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { EXAMPLES_ROOT } from '../../node/chaincode/package.ts'
import { alive } from '../../node/peer/pid-file.ts'
import { fromBase64 } from '../../src/crypto/bytes.ts'
import { pemToCertDer } from '../../src/crypto/fabric/pem.ts'
import { OID_TCERT_ENC_TCERT_INDEX, parseCertificate, verifyCertificate } from '../../src/crypto/fabric/x509.ts'
import { finish, Proc } from '../helpers/processes.ts'
import { networkUpPerTest } from '../helpers/network-up.ts'
import { waitFor } from '../helpers/wait.ts'

const networkUp = networkUpPerTest()

interface Chain { height: number, currentBlockHash: string }
interface Block { transactions?: Array<{ txid: string, cert?: string, signature?: string }> }

it('starts a CA and four enrolled PBFT validators; a user logs in and invokes from the CLI and REST, signed with TCerts; Ctrl-C stops all', async () => {
  const { up, dir } = await networkUp(['4', '--security', '--no-web', '--timeout', '40'])
  await up.waitForOutput('the network to be up', /^Every peer is up/m, { timeoutMs: 50_000, everyMs: 100 })
  const rows = [...up.stdout.matchAll(/^(vp\d)\s+(http:\/\/127\.0\.0\.1:\d+)\s+(127\.0\.0\.1:\d+)\s+(127\.0\.0\.1:\d+)\s+(12D3\w+)$/gm)]
  expect(rows.map(r => r[1])).toEqual(['vp0', 'vp1', 'vp2', 'vp3'])
  const [rest, grpc] = [rows.map(r => r[2]), rows.map(r => r[3])]
  // The users table as printed: jim with his secret from membersrvc.yaml.
  const jim = /^jim\s+(\w+)\s+bank_a$/m.exec(up.stdout)
  expect(jim?.[1]).toBe('6avZQLwcUe9b')
  const caPid = Number(await readFile(join(dir, 'ca', 'ca.pid'), 'utf8'))
  const pids = [caPid, ...await Promise.all([0, 1, 2, 3].map(async i => Number(await readFile(join(dir, `vp${i}`, 'peer.pid'), 'utf8'))))]
  expect(pids.every(alive)).toBe(true)

  // The CLI as a user runs it against vp0, its login tokens in a directory of its own.
  const cli = async (...args: string[]) => await finish(Proc.weft(args, { env: { CORE_PEER_ADDRESS: grpc[0], CORE_SECURITY_ENABLED: 'true', CORE_PEER_FILESYSTEMPATH: join(dir, 'cli') } }), 30_000)
  const wrong = await cli('network', 'login', 'bob', '-p', 'not-his')
  expect(wrong.code).not.toBe(0)
  expect(wrong.stderr).toContain('Identity or token does not match')
  expect((await cli('network', 'login', 'jim', '-p', jim![1])).code).toBe(0)

  const chains = async (): Promise<Chain[]> => await Promise.all(rest.map(async url => await (await fetch(`${url}/chain`)).json() as Chain))
  const allAt = async (height: number): Promise<Chain[]> => await waitFor(`one chain of height ${height} on all four`, async () => {
    const cs = await chains()
    return cs.every(c => c.height === height && c.currentBlockHash === cs[0].currentBlockHash) && cs
  }, { timeoutMs: 20_000, everyMs: 200 })

  const deployed = await cli('chaincode', 'deploy', '-u', 'jim', '-p', join(EXAMPLES_ROOT, 'example02.ts'), '-c', '{"Args":["init","a","100","b","200"]}')
  const name = /^Deploy chaincode: (\w+)$/m.exec(deployed.stdout)?.[1]
  expect(name, deployed.output).toBeDefined()
  // Each request once the last has committed everywhere, so none waits behind another.
  await allAt(2)
  const invoked = await cli('chaincode', 'invoke', '-u', 'jim', '-n', name!, '-c', '{"Args":["invoke","a","b","10"]}')
  expect(invoked.code, invoked.output).toBe(0)
  await allAt(3)

  // alice through vp1's REST: /registrar, then secureContext.
  const registered = await fetch(`${rest[1]}/registrar`, { method: 'POST', body: JSON.stringify({ enrollId: 'alice', enrollSecret: 'CMS10pEQlB16' }) })
  expect(await registered.json()).toEqual({ OK: 'Login successful for user \'alice\'.' })
  const rpc = await (await fetch(`${rest[1]}/chaincode`, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'invoke', params: { type: 1, chaincodeID: { name }, ctorMsg: { args: ['invoke', 'a', 'b', '5'] }, secureContext: 'alice' } })
  })).json() as { result?: { message: string } }
  expect(rpc.result?.message, JSON.stringify(rpc)).toBeDefined()
  const same = await allAt(4)
  expect(new Set(same.map(c => c.currentBlockHash)).size).toBe(1)
  const query = await cli('chaincode', 'query', '-u', 'jim', '-n', name!, '-c', '{"Args":["query","a"]}')
  expect(query.stdout).toBe('Query Result: 85\n')

  // Every committed transaction carries a TCert of the CA's TCA and a signature.
  const tca = parseCertificate(pemToCertDer(await readFile(join(dir, 'ca', 'tca.cert'), 'utf8')))
  for (const [i, url] of rest.entries()) {
    for (const n of [1, 2, 3]) {
      const block = await (await fetch(`${url}/chain/blocks/${n}`)).json() as Block
      const [tx] = block.transactions ?? []
      expect(tx?.cert, `block ${n} at vp${i}`).toBeTruthy()
      expect(fromBase64(tx.signature ?? '').length).toBeGreaterThan(0)
      const tcert = parseCertificate(fromBase64(tx.cert!))
      expect(tcert.subject.commonName).toBe('Transaction Certificate')
      expect(verifyCertificate(tcert, [tca], { now: new Date(), handledCritical: [OID_TCERT_ENC_TCERT_INDEX] })).toBeDefined()
    }
  }

  up.child.kill('SIGINT')
  expect(await up.exited).toEqual({ code: 0, signal: null })
  expect(pids.filter(alive)).toEqual([])
}, 90_000)

it('weft network down stops the peers and the CA of a network whose `up` was killed', async () => {
  const { up, dir } = await networkUp(['1', '--security', '--no-web', '--timeout', '40'])
  await up.waitForOutput('the network to be up', /^Every peer is up/m, { timeoutMs: 50_000, everyMs: 100 })
  const pids = await Promise.all(['ca/ca.pid', 'vp0/peer.pid'].map(async f => Number(await readFile(join(dir, f), 'utf8'))))
  up.child.kill('SIGKILL')
  await up.exited
  expect(pids.every(alive)).toBe(true)
  const down = await finish(Proc.weft(['network', 'down', '--dir', dir]), 40_000)
  expect(down.code, down.output).toBe(0)
  expect(pids.filter(alive)).toEqual([])
}, 60_000)
