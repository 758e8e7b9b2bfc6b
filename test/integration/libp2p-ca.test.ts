// /weft/ca/0.6.1 between two libp2p nodes: a tab's CaRpc (libp2pCaRpc) enrolls and gets TCerts
// through a peer serving the relay (serveLibp2pCa) over Weft's membership services; an admin
// call and an oversize request are refused on the wire; a peer without the relay says so.
import { create, toBinary } from '@bufbuild/protobuf'
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNodeLibp2p, type NodeLibp2p } from '../../node/libp2p/create-node.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { CaClient } from '../../src/crypto/fabric/ca-client.ts'
import { inProcessCaRpc } from '../../src/ca/membership.ts'
import type { CaRpc } from '../../src/crypto/fabric/ca-rpc.ts'
import { cryptoSuite } from '../../src/crypto/fabric/suite.ts'
import { EmptySchema, RegisterUserReqSchema } from '../../src/protos/ca_pb.ts'
import { CA_MAX_MESSAGE_SIZE, CA_PROTOCOL, encodeCaRequest, libp2pCaRpc, serveLibp2pCa } from '../../src/transport/libp2p-ca.ts'
import { memoryMembershipServices } from '../helpers/secure-members.ts'

const suite = cryptoSuite('SHA3', 256)
let server: NodeLibp2p
let client: NodeLibp2p
let other: NodeLibp2p

beforeAll(async () => {
  ;[server, client, other] = await Promise.all([0, 1, 2].map(() => createNodeLibp2p({ listen: ['/ip4/127.0.0.1/tcp/0'] })))
  const ca = await memoryMembershipServices()
  await serveLibp2pCa(server, inProcessCaRpc(ca))
})
afterAll(async () => { for (const n of [server, client, other]) await n?.stop() })

/** One raw call: the answer's status byte and text. */
async function rawCall (frame: Uint8Array): Promise<{ status: number, text: string }> {
  const stream = await client.dialProtocol(server.getMultiaddrs()[0], CA_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: CA_MAX_MESSAGE_SIZE * 2 })
  await lp.write(frame)
  const answer = (await lp.read()).subarray()
  await stream.close()
  return { status: answer[0], text: fromUtf8(answer.subarray(1)) }
}

describe('membership services over libp2p (/weft/ca/0.6.1)', () => {
  it('enrolls a user and fetches its TCerts through the relay', async () => {
    const rpc = libp2pCaRpc(client, server.getMultiaddrs()[0].toString())
    const ca = new CaClient({ suite, rpc, now: () => Date.now() })
    const e = await ca.enroll('jim', '6avZQLwcUe9b')
    const batch = await ca.getTCerts('jim', e.signKey, 3)
    expect(batch.tcerts).toHaveLength(3)
    await expect(ca.enroll('lukas', 'wrong')).rejects.toThrow('membership services: ')
  })

  it('refuses an admin call and an oversize request on the wire', async () => {
    const admin = await rawCall(encodeCaRequest('/protos.ECAA/RegisterUser', toBinary(RegisterUserReqSchema, create(RegisterUserReqSchema, { id: { id: 'mallory' } }))))
    expect(admin).toEqual({ status: 1, text: 'unknown method /protos.ECAA/RegisterUser: only ECAP, TCAP and TLSCAP are relayed' })
    const big = encodeCaRequest('/protos.ECAP/ReadCACertificate', new Uint8Array(CA_MAX_MESSAGE_SIZE))
    expect(await rawCall(big)).toEqual({ status: 1, text: `request is larger than ${CA_MAX_MESSAGE_SIZE} bytes` })
    expect((await rawCall(encodeCaRequest('/protos.ECAP/ReadCACertificate', toBinary(EmptySchema, create(EmptySchema))))).status).toBe(0)
  })

  it('says which peer could not relay when it does not serve the protocol', async () => {
    const address = other.getMultiaddrs()[0].toString()
    const rpc = libp2pCaRpc(client, address)
    await expect(rpc.ecap.readCACertificate(create(EmptySchema))).rejects.toThrow(`cannot reach membership services through the peer at ${address} (${CA_PROTOCOL})`)
  })
})
