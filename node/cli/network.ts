import { create } from '@bufbuild/protobuf'
import { EmptySchema } from '@bufbuild/protobuf/wkt'
import { createInterface } from 'node:readline'
import { Command } from 'commander'
import { goJson } from '../../src/gojson/index.ts'
import { Openchain } from '../../src/protos/api_pb.ts'
import { PeerEndpointSchema, Response_StatusCode, type PeersMessage, type Response } from '../../src/protos/fabric_pb.ts'
import { Devops, SecretSchema } from '../../src/protos/devops_pb.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'
import { createLogger } from '../../src/util/logger.ts'
import type { UpFlags } from './network-up.ts'
import { failedTo, runClientVerb, withConfigOption, type ClientFlags, type LocalPeer } from './peer-client.ts'

const log = createLogger('networkCmd')

/** `weft network list`: the peers the running peer is connected to, as Fabric prints them; `up` and `down`: a local network; `login`: a user. */
export function networkCommand (): Command {
  const network = new Command('network').description('network commands')
  withConfigOption(network.command('list').alias('ls'))
    .description('list the peers the running peer is connected to (Openchain.GetPeers at peer.address)')
    .action(async (flags: ClientFlags) => {
      await runClientVerb(flags, async peer => {
        const { peers } = await peer.call<PeersMessage>(Openchain, 'getPeers', create(EmptySchema)).catch(failedTo('Error trying to get peers'))
        // json.Marshal(struct{ Peers []*pb.PeerEndpoint }): an empty list still prints as [].
        process.stdout.write(`{"Peers":[${peers.map(p => goJson(PeerEndpointSchema, p)).join(',')}]}\n`)
      })
    })
  network.command('up')
    .description('start a local network of N validators on 127.0.0.1 (each a `weft node start` child), print their addresses, stop them all on Ctrl-C')
    .argument('[N]', 'validators', '4')
    .option('--consensus <plugin>', 'noops or pbft', 'pbft')
    .option('--dir <dir>', 'where each peer keeps its data directory (vp0, vp1, …) and log', 'weft-network')
    .option('--base-port <port>', 'vpI listens on base+10·I … base+10·I+5 (REST, gRPC, events, libp2p, metrics, web app); default: free ports from the OS')
    .option('--no-web', 'no web app')
    .option('--security', 'with membership services: a `weft ca start` child (data in DIR/ca), validators enrolled as test_vp0… with security.enabled')
    .option('--timeout <seconds>', 'how long the peers may take to start and connect', '90')
    .action(async (n: string, flags: UpFlags) => { await (await import('./network-up.ts')).networkUp(n, flags) })
  network.command('down')
    .description('stop the network `weft network up` runs in a directory')
    .option('--dir <dir>', 'the network\'s directory', 'weft-network')
    .action(async (flags: { dir: string }) => { await (await import('./network-up.ts')).networkDown(flags) })
  withConfigOption(network.command('login').argument('[user...]'))
    .description('log a user in at the running peer (Devops.Login, which enrolls it with membership services) and keep its login token')
    .option('-p, --password <secret>', 'the user\'s enrollment secret (asked for when not given)')
    .action(async (users: string[], flags: ClientFlags & { password?: string }) => {
      await runClientVerb(flags, async peer => { await login(peer, users, flags.password) })
    })
  return network
}

/** Fabric's networkLogin: one user; a user with a token here is already logged in; the token is written on success. */
async function login (peer: LocalPeer, users: string[], password: string | undefined): Promise<void> {
  if (users.length === 0) throw new Error('Must supply username')
  if (users.length !== 1) throw new Error('Must supply username as the 1st and only parameter')
  const [user] = users
  if (await peer.tokens.has(user)) {
    log.info(`User '${user}' is already logged in.`)
    return
  }
  const secret = password ?? await askPassword(user)
  const res = await peer.call<Response>(Devops, 'login', create(SecretSchema, { enrollId: user, enrollSecret: secret })).catch(failedTo('Error on client login'))
  if (res.status !== Response_StatusCode.SUCCESS) throw new Error(`Error on client login: ${fromUtf8(res.msg)}`)
  await peer.tokens.put(user)
  log.info(`Login successful for user '${user}'.`)
}

/** The secret as one line of standard input (a terminal echoes it: give -p, or pipe it, to keep it off the screen). */
async function askPassword (user: string): Promise<string> {
  process.stdout.write(`Enter password for user '${user}': `)
  const rl = createInterface({ input: process.stdin, terminal: false })
  try {
    for await (const line of rl) return line
    throw new Error('Error trying to read password from console: EOF')
  } finally {
    rl.close()
  }
}
